"""The API client, chosen by the SDK's own settings, and secret-safe error messages.

The ``openai`` SDK decides the endpoint and the key: ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``,
``OPENAI_ORG_ID``, ``OPENAI_PROJECT_ID``; with ``AZURE_OPENAI_ENDPOINT`` set, the SDK's ``AzureOpenAI``
(``AZURE_OPENAI_API_KEY`` or ``AZURE_OPENAI_AD_TOKEN``, ``OPENAI_API_VERSION``). ftprep never reads a key
for itself except to scrub it out of text it is about to show (:func:`redact`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import openai

from ftprep.errors import ConfigError, UploadError
from ftprep.textsafe import escape_controls
from ftprep.upload.limits import DEFAULT_API_TIMEOUT
from ftprep.upload.secrets import redact, strip_userinfo

# Retries for 429 and 5xx are the SDK's (exponential backoff, honours Retry-After); a few more than its
# default of 2 because an upload is long and a transient failure near its end is expensive.
DEFAULT_MAX_RETRIES = 4
DEFAULT_BASE_URL = "https://api.openai.com/v1"
# The timeout (DEFAULT_API_TIMEOUT, 60 s; to connect: at most 10) is how long the API may stay silent before
# a request counts as failed and is retried. The SDK's own default is 600 s, which with the retries above
# held a stalled `upload` for about 50 minutes. The limit is per read or write of the connection, not for
# the whole request: sending a 64 MB part takes as long as it takes while bytes move.
DEFAULT_TIMEOUT = DEFAULT_API_TIMEOUT
CONNECT_TIMEOUT = 10.0
_SDK_LOGGER = "openai._base_client"


def using_azure() -> bool:
    """True when the SDK's Azure client is configured through its environment variables."""
    return bool(os.environ.get("AZURE_OPENAI_ENDPOINT"))


def client_timeout(seconds: float = DEFAULT_TIMEOUT) -> openai.Timeout:
    """The SDK timeout for ``seconds`` of silence (connecting: at most :data:`CONNECT_TIMEOUT`)."""
    if not seconds > 0:
        raise ConfigError(f"the API timeout must be more than 0 seconds (got {seconds:g})")
    return openai.Timeout(seconds, connect=min(seconds, CONNECT_TIMEOUT))


def make_client(*, max_retries: int | None = None, timeout: float = DEFAULT_TIMEOUT) -> openai.OpenAI:
    """An ``OpenAI`` (or ``AzureOpenAI``) client from the SDK's environment; ConfigError when incomplete.

    ``timeout``: seconds without an answer before a request fails (and is retried, up to ``max_retries``
    times, by default :data:`DEFAULT_MAX_RETRIES`).
    """
    retries = DEFAULT_MAX_RETRIES if max_retries is None else max_retries
    limit = client_timeout(timeout)
    try:
        if using_azure():
            return openai.AzureOpenAI(max_retries=retries, timeout=limit)
        return openai.OpenAI(max_retries=retries, timeout=limit)
    except openai.OpenAIError as exc:
        raise ConfigError(f"cannot set up the API client: {redact(str(exc))}") from None


class _RetryReporter(logging.Handler):
    """Turns the SDK's log records about retries into one line each: why, and when the next try is."""

    def __init__(self, report: Callable[[str], None]) -> None:
        super().__init__(logging.DEBUG)
        self.report = report
        self.reason = "the request failed"

    def emit(self, record: logging.LogRecord) -> None:
        message, args = str(record.msg), record.args if isinstance(record.args, tuple) else ()
        try:
            if message.startswith("Encountered a timeout exception"):
                self.reason = "no answer in time"
            elif message.startswith("Retrying due to status code") and args:
                self.reason = f"HTTP {args[0]}"
            elif message.startswith("Encountered exception") and args:
                self.reason = f"connection failed ({args[0]})"
            elif message.startswith("Retrying request in") and len(args) >= 3:
                delay, attempt, limit = args[:3]
                wait = f"{delay:.1f} s" if isinstance(delay, int | float) else "a moment"
                self.report(f"API request failed: {self.reason}; retry {attempt} of {limit} in {wait}")
                self.reason = "the request failed"
        except Exception:  # a changed log format must never break a request
            self.handleError(record)


@contextmanager
def retries_reported(report: Callable[[str], None]) -> Iterator[None]:
    """While inside, call ``report(line)`` each time the SDK retries a request (429, 5xx, timeout, lost
    connection). The SDK says so only in its log (``openai._base_client``), at info and debug level."""
    logger = logging.getLogger(_SDK_LOGGER)
    handler = _RetryReporter(report)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.DEBUG:
        # Debug records are needed for the reason of a retry; they must not reach the root logger's
        # handlers, which did not ask for them.
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


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
    # One line, nothing for a terminal to act on: the API's message is text from elsewhere.
    return escape_controls(redact(" ".join(line.split())))


def api_error(exc: openai.OpenAIError, action: str) -> UploadError:
    """The :class:`UploadError` to raise for an SDK exception (chained by the caller ``from None``)."""
    return UploadError(describe_api_error(exc, action))
