"""JSON pointers (RFC 6901) into parsed records, for ``--stratify-by`` and ``--map``.

One extension: a negative array index counts from the end (``/messages/-1/content`` is the last
message's content), which is what a classification label usually is.
"""

from __future__ import annotations

from typing import Any

from ftprep.errors import ConfigError

MISSING: Any = object()
"""Returned by :func:`resolve` when the pointer does not lead to a value."""


def parse_pointer(text: str) -> tuple[str, ...]:
    """Split a pointer into unescaped reference tokens; a missing leading ``/`` is added (``question``)."""
    if text == "":
        return ()
    if not text.startswith("/"):
        text = "/" + text
    tokens = text[1:].split("/")
    if any("~" in t and not all(p[:1] in ("0", "1") for p in t.split("~")[1:]) for t in tokens):
        raise ConfigError(f"JSON pointer {text!r}: '~' must be followed by 0 or 1 (~0 is '~', ~1 is '/')")
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in tokens)


def resolve(value: Any, tokens: tuple[str, ...]) -> Any:
    """The value the pointer ``tokens`` reaches inside ``value``, or :data:`MISSING`."""
    for token in tokens:
        if isinstance(value, dict):
            if token not in value:
                return MISSING
            value = value[token]
        elif isinstance(value, list):
            try:
                index = int(token)
            except ValueError:
                return MISSING
            if not -len(value) <= index < len(value):
                return MISSING
            value = value[index]
        else:
            return MISSING
    return value
