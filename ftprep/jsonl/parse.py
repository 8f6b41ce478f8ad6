"""Strict JSON parsing of one line: orjson on the fast path, precise diagnosis on the slow path.

orjson is strict about NaN/Infinity and UTF-8 but silently keeps the last of duplicate keys, so a cheap
byte-level test decides when a line needs the slower duplicate-key scan. Problems come back as data
(:class:`ParseProblem`); this module never raises on bad input.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from ftprep.lint.finding import pointer

# A key followed by whitespace before its colon defeats the fast duplicate-key count.
_SPACED_COLON = re.compile(rb'"[ \t\r\n]+:')
_JS_NAMES = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """One defect found while parsing: kind is invalid-utf8, invalid-json, non-finite or duplicate-key."""

    kind: str
    message: str
    column: int | None = None
    pointer: str | None = None


@dataclass(slots=True)
class ParseResult:
    """The parsed value (``None`` when the line is not JSON at all) and the problems met on the way."""

    value: Any = None
    ok: bool = False
    problems: list[ParseProblem] = field(default_factory=list)


class _DuplicateKeys(dict[str, Any]):
    """A dict that remembers which keys its JSON object repeated."""

    duplicates: list[str]


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    dups: list[str] = []
    for key, _ in pairs:
        if key in seen and key not in dups:
            dups.append(key)
        seen.add(key)
    marked = _DuplicateKeys(obj)
    marked.duplicates = dups
    return marked


def _may_have_duplicate_keys(data: bytes, value: Any) -> bool:
    """False only when the line has no duplicate key (up to escapes no writer produces by accident).

    Every key is a string followed by a colon, so ``":`` occurs once per key, plus wherever a string holds
    an escaped quote and a colon (``\\":``, as in tool-call arguments). orjson's compact re-serialisation of
    the parsed value has the same string occurrences but only one per *kept* key: equal counts rule
    duplicates out. Whitespace before a colon defeats the count and sends the line to the exact scan. A line
    byte-equal to that re-serialisation (files written by orjson) has no duplicate key by construction.
    """
    compact = orjson.dumps(value)
    if compact == data:
        return False  # the line is its own re-serialisation, in which every key occurs once
    # One regex scan (about 1 us per KB) costs less than four substring tests for a quote and a space.
    if _SPACED_COLON.search(data):
        return True
    return data.count(b'":') != compact.count(b'":')


def _walk(value: Any, path: tuple[str | int, ...], result: ParseResult) -> None:
    if isinstance(value, dict):
        if isinstance(value, _DuplicateKeys):
            for key in value.duplicates:
                result.problems.append(ParseProblem(
                    "duplicate-key", f"key {key!r} appears more than once in this object; "
                    "the API keeps only one of them", pointer=pointer(*path, key)))
        for key, item in value.items():
            _walk(item, (*path, key), result)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, (*path, index), result)
    elif isinstance(value, float) and not math.isfinite(value):
        result.problems.append(ParseProblem(
            "non-finite",
            f"number {_JS_NAMES[str(value)]} is not valid JSON (NaN and Infinity are JavaScript, not JSON)",
            pointer=pointer(*path)))


def _undup(value: Any) -> Any:
    """Plain dicts again, so later code never sees the marker class."""
    if isinstance(value, dict):
        return {k: _undup(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_undup(v) for v in value]
    return value


def _slow_parse(text: str, result: ParseResult) -> None:
    try:
        value = json.loads(text, object_pairs_hook=_pairs_hook)
    except json.JSONDecodeError as exc:
        result.problems.append(ParseProblem(
            "invalid-json", f"invalid JSON: {exc.msg} (column {exc.colno})", column=exc.colno))
        return
    except RecursionError:
        result.problems.append(ParseProblem("invalid-json", "invalid JSON: nested too deeply"))
        return
    _walk(value, (), result)
    result.value = _undup(value)
    result.ok = True


def strict_fast(data: bytes, *, duplicate_keys: bool = True) -> dict[str, Any] | None:
    """The object on a line that needs no diagnosis (valid JSON object, no duplicate key), else None.

    The hot path of the engine: one ``orjson.loads`` and the duplicate-key test, no result object.
    For None, :func:`parse_line` says what is wrong (or that the line holds another JSON value).
    ``duplicate_keys=False`` skips that test, for callers that do not report duplicate keys: both parsers
    keep the last value of a repeated key, so the object is the same.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if type(value) is not dict or (duplicate_keys and _may_have_duplicate_keys(data, value)):
        return None
    return value


def parse_line(data: bytes) -> ParseResult:
    """Parse one line's bytes (no EOL, no BOM) as strict JSON, collecting every problem."""
    result = ParseResult()
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    else:
        result.value = value
        result.ok = True
        if _may_have_duplicate_keys(data, value):
            result.value = None
            result.ok = False
            _slow_parse(data.decode("utf-8"), result)
        return result
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        result.problems.append(ParseProblem(
            "invalid-utf8", f"invalid UTF-8 at byte {exc.start + 1} of the line ({exc.reason})",
            column=exc.start + 1))
        text = data.decode("utf-8", errors="replace")
    _slow_parse(text, result)
    return result
