"""The API client, chosen by the SDK's own settings, and secret-safe error messages.

The ``openai`` SDK decides the endpoint and the key: ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``,
``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID``; with ``AZURE_OPENAI_ENDPOINT`` set, the SDK's ``AzureOpenAI``
(``AZURE_OPENAI_API_KEY`` or ``AZURE_OPENAI_AD_TOKEN``, ``OPENAI_API_VERSION``). ftprep never reads a key
for itself except to scrub it out of text it is about to show (:func:`redact`).
"""

from __future__ import annotations

import os
import re
from typing import Any

import openai

from ftprep.errors import ConfigError, UploadError

# Retries for 429 and 5xx are the SDK's (exponential backoff, honours Retry-After); a few more than its
# default of 2 because an upload is long and a transient failure near its end is expensive.
DEFAULT_MAX_RETRIES = 4
DEFAULT_BASE_URL = "https://api.openai.com/v1"
_SECRET_ENV = ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN")
# Defensive patterns for secrets ftprep was never told about: OpenAI-style keys and bearer tokens.
_SECRET_PATTERNS = (
    re.compile(r"sk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-~+/]{8,}=*"),
    re.compile(r"(?i)(api[-_]?key[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{8,}"),
)
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def using_azure() -> bool:
    """True when the SDK's Azure client is configured through its environment variables."""
    return bool(os.environ.get("AZURE_OPENAI_ENDPOINT"))


def make_client(*, max_retries: int = DEFAULT_MAX_RETRIES) -> openai.OpenAI:
    """An ``OpenAI`` (or ``AzureOpenAI``) client from the SDK's environment; ConfigError when incomplete."""
    try:
        if using_azure():
            return openai.AzureOpenAI(max_retries=max_retries)
        return openai.OpenAI(max_retries=max_retries)
    except openai.OpenAIError as exc:
        raise ConfigError(f"cannot set up the API client: {redact(str(exc))}") from None


def base_url_of(client: openai.OpenAI) -> str:
    """The client's API base URL without credentials or trailing slash (the key of the file record)."""
    return strip_userinfo(str(client.base_url)).rstrip("/")


def configured_base_url() -> str:
    """The base URL the SDK would use, read without building a client (``--dry-run`` needs no key)."""
    if using_azure():
        return strip_userinfo(os.environ["AZURE_OPENAI_ENDPOINT"].rstrip("/") + "/openai")
    return strip_userinfo(os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


def strip_userinfo(url: str) -> str:
    """Drop ``user:password@`` from a URL so it can be shown and stored."""
    return _URL_USERINFO.sub("", url)


def _known_secrets(extra: tuple[str | None, ...] = ()) -> list[str]:
    values = [os.environ.get(name) for name in _SECRET_ENV]
    return sorted({v for v in (*values, *extra) if v and len(v) >= 4}, key=len, reverse=True)


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every known secret (environment keys, ``secrets``) and key-like string masked."""
    for secret in _known_secrets(secrets):
        text = text.replace(secret, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", text)
    return strip_userinfo(text)


def _api_message(exc: openai.APIStatusError) -> str:
    body: Any = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            param = error.get("param")
            return f"{error['message']}" + (f" (param: {param})" if param else "")
    return exc.message


def describe_api_error(exc: openai.OpenAIError, action: str) -> str:
    """One line: what failed, the HTTP status, the API's message and the request id; secrets masked."""
    if isinstance(exc, openai.APIStatusError):
        request_id = exc.request_id or "unknown"
        line = f"{action} failed: HTTP {exc.status_code}: {_api_message(exc)} (request id {request_id})"
    elif isinstance(exc, openai.APITimeoutError):
        line = f"{action} failed: the API did not answer in time; try again"
    elif isinstance(exc, openai.APIConnectionError):
        reason = exc.__cause__ or exc
        line = f"{action} failed: cannot reach the API ({reason}); check OPENAI_BASE_URL and the network"
    else:
        line = f"{action} failed: {exc}"
    return redact(" ".join(line.split()))


def api_error(exc: openai.OpenAIError, action: str) -> UploadError:
    """The :class:`UploadError` to raise for an SDK exception (chained by the caller ``from None``)."""
    return UploadError(describe_api_error(exc, action))
