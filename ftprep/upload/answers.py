"""Checking the API's answers before ftprep relies on them.

The ``openai`` SDK does not validate a 200 answer: a body that is not JSON comes back as a ``str`` (or
raises ``json.JSONDecodeError``), and ``{}`` comes back as a ``FileObject`` whose ``id`` is ``None``.
A proxy, a captive portal or a misconfigured ``OPENAI_BASE_URL`` produces exactly such answers. Before
an id is stored in the upload record, printed or used in the next request, it is checked here; a bad
answer is one :class:`~ftprep.errors.UploadError` naming the request and what came back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import openai

from ftprep.errors import UploadError
from ftprep.textsafe import escape_controls
from ftprep.upload.client import api_error
from ftprep.upload.secrets import redact

T = TypeVar("T")
# Ids the API hands out: file-abc, ftjob-abc, upload_abc, part_abc, ftevent-abc. Generous in length and
# alphabet, but never empty, never whitespace or control characters (an id is printed and sent back).
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,255}", re.ASCII)
_SHOWN = 80


def valid_id(value: object) -> bool:
    """Whether ``value`` looks like an id the API hands out (a short token of letters, digits, ``_-.:``)."""
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


def describe_value(value: object) -> str:
    """A short, printable and secret-free view of an unexpected answer."""
    text = value if isinstance(value, str) else repr(value)
    text = escape_controls(redact(" ".join(text.split())))
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


class MalformedAnswer(UploadError):
    """The API answered, but not with what the request returns (not JSON, no id, wrong shape)."""


def _malformed(action: str, problem: str) -> MalformedAnswer:
    return MalformedAnswer(
        f"{action} failed: {problem}; is OPENAI_BASE_URL (or AZURE_OPENAI_ENDPOINT) the fine-tuning API?"
    )


def call_api(action: str, func: Callable[[], T]) -> T:
    """``func()``, with the SDK's errors and an answer that is not JSON as one :class:`UploadError`."""
    try:
        return func()
    except openai.OpenAIError as exc:
        raise api_error(exc, action) from None
    except ValueError as exc:  # json.JSONDecodeError: a JSON content type with a body that is not JSON
        raise _malformed(action, f"the API's answer is not valid JSON ({describe_value(str(exc))})") from None
    except (AttributeError, TypeError) as exc:  # a list page built from a body that is not a JSON object
        raise _malformed(action, f"the API's answer has an unexpected shape ({describe_value(str(exc))})") from None


def expect_object(value: Any, kind: type[T], action: str, *, what: str) -> T:
    """``value`` if it is a ``kind`` with a valid ``id``; otherwise an :class:`UploadError` saying why.

    ``what`` names the object for the message ("file", "fine-tuning job").
    """
    if not isinstance(value, kind):
        shown = describe_value(value)
        problem = f"the API's answer is not a {what} object but {type(value).__name__} {shown!r}"
        if isinstance(value, str):
            problem = f"the API's answer is not JSON: {shown!r}"
        raise _malformed(action, problem)
    ident = getattr(value, "id", None)
    if not valid_id(ident):
        got = "none" if ident is None else repr(describe_value(ident))
        raise _malformed(action, f"the API's answer has no valid {what} id (got {got})")
    return value


def expect_field(value: object, field: str, kind: type | tuple[type, ...], action: str) -> None:
    """Raise :class:`UploadError` unless ``getattr(value, field)`` is of type ``kind``."""
    got = getattr(value, field, None)
    if isinstance(got, bool) or not isinstance(got, kind):
        shown = "none" if got is None else repr(describe_value(got))
        raise _malformed(action, f"the API's answer has no valid {field} (got {shown})")


def expect_page(page: Any, kind: type[T], action: str, *, what: str) -> list[T]:
    """The items of a list answer (``page.data``), each checked like :func:`expect_object`."""
    items = getattr(page, "data", None)
    if not isinstance(items, list):
        got = "none" if items is None else repr(describe_value(items))
        raise _malformed(action, f"the API's answer has no list of {what}s (got {got})")
    return [expect_object(item, kind, action, what=what) for item in items]
