"""What the services reached through their own SDKs (Together, Fireworks) share: one error for whatever a request
raises, which failures are worth sending an upload again for, the service's timestamps, and a rejection message
at the line the service names. Imported only by those services' modules (httpx comes with their SDKs)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

import httpx

from ftprep.errors import UploadError
from ftprep.textsafe import escape_controls
from ftprep.upload.answers import describe_value
from ftprep.upload.client import api_error
from ftprep.upload.secrets import redact

_LINE = re.compile(r"\bline\s*(?:number\s*)?#?\s*(\d+)", re.IGNORECASE)
T = TypeVar("T")


def sdk_call(action: str, func: Callable[[], T], sdk: ModuleType, base_error: type[Exception], base_url_env: str,
             service: str) -> T:
    """``func()``, with ``sdk``'s errors (``base_error`` and below), plain httpx errors (an upload's PUT) and answers
    that are not what the request returns as one UploadError; the last names ``base_url_env``."""
    try:
        return func()
    except base_error as exc:
        raise api_error(exc, action, sdk) from None
    except httpx.HTTPError as exc:
        raise UploadError(escape_controls(redact(f"{action} failed: {type(exc).__name__}: {exc}"))) from None
    except (ValueError, AttributeError, TypeError) as exc:
        raise UploadError(f"{action} failed: the API's answer is not what the request returns "
                          f"({describe_value(str(exc))}); is {base_url_env} {service}'s API?") from None


def transient(exc: BaseException, connection_error: type[Exception], status_error: type[Exception], *,
              plain_status: bool = True) -> bool:
    """A failure worth sending the whole upload again for: a lost connection, 429 or 5xx (from the SDK, whose
    errors are ``connection_error`` and ``status_error``, or from plain httpx; ``plain_status``: also httpx's
    status errors, for an upload whose PUT ftprep sends itself)."""
    if isinstance(exc, httpx.TransportError | connection_error):
        return True
    if plain_status and isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    code = getattr(exc, "status_code", None)
    return isinstance(exc, status_error) and isinstance(code, int) and (code == 429 or code >= 500)


def timestamp(value: Any) -> int | None:
    """Seconds since the epoch of a service's time: an ISO 8601 text (``Z`` for UTC), a datetime or seconds."""
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    if isinstance(value, str) and value:
        try:
            return int(dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
        except ValueError:
            return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def rejection_message(path: str, error: str, service: str) -> str:
    """The service's validation error, at ``path:LINE`` when the message names a line."""
    found = _LINE.search(error)
    where = f"{path}:{found.group(1)}" if found else path
    return f"{where}: {service} refused the file after upload: {error}"
