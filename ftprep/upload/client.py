"""The API client, chosen by the SDK's own settings, and secret-safe error messages.

The ``openai`` SDK decides the endpoint and the key: ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``,
``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID``; with ``AZURE_OPENAI_ENDPOINT`` set, the SDK's ``AzureOpenAI``
(``AZURE_OPENAI_API_KEY`` or ``AZURE_OPENAI_AD_TOKEN``, ``OPENAI_API_VERSION``). ftprep never reads a key
for itself except to scrub it out of text it is about to show (:func:`redact`).
"""

from __future__ import annotations

import os
from typing import Any

import openai

from ftprep.errors import ConfigError, UploadError
from ftprep.upload.secrets import redact, strip_userinfo

# Retries for 429 and 5xx are the SDK's (exponential backoff, honours Retry-After); a few more than its
# default of 2 because an upload is long and a transient failure near its end is expensive.
DEFAULT_MAX_RETRIES = 4
DEFAULT_BASE_URL = "https://api.openai.com/v1"


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
