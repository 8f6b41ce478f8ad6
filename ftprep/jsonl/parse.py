"""Strict JSON parsing of one line: orjson on the fast path, precise diagnosis on the slow path.

orjson is strict about NaN/Infinity, UTF-8 and lone surrogate escapes, but silently keeps the last of
duplicate keys and reads integers beyond 64 bits as floats, so cheap byte-level tests decide when a line
needs the slower exact reading with the standard library. Nesting deeper than :data:`MAX_DEPTH` and
integers longer than :data:`MAX_INT_DIGITS` are refused before any recursive reader sees them. Problems
come back as data (:class:`ParseProblem`); this module never raises on bad input.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import orjson

from ftprep.lint.finding import pointer

# A key followed by whitespace before its colon defeats the fast duplicate-key count.
_SPACED_COLON = re.compile(rb'"[ \t\r\n]+:')
_JS_NAMES = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}

# The deepest nesting of arrays and objects a line may have (its own object is level 1). No fine-tuning
# service documents a bound (none found in their data-preparation pages, 2026-12); 128 is serde_json's
# default recursion limit ("more than 128 layers deep" is an error:
# https://github.com/serde-rs/json/blob/master/src/error.rs, as of 2026-12), the lowest common parser
# bound we know, and well inside what ftprep's own walkers, Python's json (about 1,000) and orjson's
# writer (254 levels) handle. No real record comes near: a chat record with tools nests about 10 levels.
MAX_DEPTH = 128
# Python's json refuses longer integer literals by default (int max str digits, CVE-2020-10735).
MAX_INT_DIGITS = 4300
# orjson reads integers beyond 64 bits (below -2**63, above 2**64-1) as floats: a run of 19 digits sends the
# line to the exact reader.
_LONG_DIGITS = b"0" * 19
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
# JSON strings (to skip brackets inside them), and the byte maps of the depth count.
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """One defect found while parsing: kind is invalid-utf8, invalid-json, non-finite, duplicate-key,
    too-deep, lone-surrogate or integer-too-long."""

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


def _needs_exact_reading(data: bytes, value: Any, duplicate_keys: bool = True) -> bool:
    """False only when orjson's value is the line's exact meaning: no duplicate key (orjson keeps the last
    one; up to escapes no writer produces by accident; not tested when ``duplicate_keys`` is False) and no
    integer beyond 64 bits (orjson reads it as a float).

    Every key is a string followed by a colon, so ``":`` occurs once per key, plus wherever a string holds
    an escaped quote and a colon (``\\":``, as in tool-call arguments). orjson's compact re-serialisation of
    the parsed value has the same string occurrences but only one per *kept* key: equal counts rule
    duplicates out. Whitespace before a colon defeats the count and sends the line to the exact scan. A line
    byte-equal to that re-serialisation (files written by orjson) has no duplicate key by construction.
    """
    if duplicate_keys:
        compact = orjson.dumps(value)
        if compact == data:
            # The line is its own re-serialisation: every key occurs once and every number reads back.
            return False
        # One regex scan (about 1 us per KB) costs less than four substring tests for a quote and a space.
        if _SPACED_COLON.search(data) or data.count(b'":') != compact.count(b'":'):
            return True
    return _may_have_long_integer(data)


def nesting_depth(data: bytes, limit: int = MAX_DEPTH) -> int:
    """How deeply arrays and objects nest on the line (brackets inside strings do not count).

    Stops counting once the depth exceeds ``limit``. Linear in the line and in C but for the loop over
    the brackets; for a line orjson could read, :func:`_value_too_deep` is cheaper.
    """
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    deepest = 0
    for depth in accumulate(array("b", brackets.translate(_BRACKET_STEPS))):
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


def _may_be_too_deep(data: bytes) -> bool:
    """False when the line has too few brackets to nest beyond the limit (two C-speed counts)."""
    return data.count(b"[") + data.count(b"{") > MAX_DEPTH


def _value_too_deep(value: Any) -> bool:
    """True when a parsed value nests deeper than :data:`MAX_DEPTH` (an iterative walk of its containers,
    about four times cheaper than counting the line's brackets outside strings)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        for child in item.values() if type(item) is dict else item:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return False


def _may_have_long_integer(data: bytes) -> bool:
    """True when the line holds a run of 19 digits: maybe an integer orjson read as a float."""
    return data.translate(_DIGITS_AS_ZERO).find(_LONG_DIGITS) >= 0  # find(): no TypeError raised inside


class _IntegerTooLong(ValueError):
    def __init__(self, digits: str) -> None:
        self.length = len(digits.lstrip("-"))
        super().__init__(f"an integer of {self.length} digits; JSON readers such as Python's refuse integers "
                         f"longer than {MAX_INT_DIGITS} digits")


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS + 1:
        raise _IntegerTooLong(text)
    try:
        return int(text)
    except ValueError as exc:  # a lower limit set for this interpreter (PYTHONINTMAXSTRDIGITS)
        raise _IntegerTooLong(text) from exc


def _plain(text: str, path: tuple[str | int, ...], is_key: bool, result: ParseResult) -> str:
    """``text`` without lone surrogates (each becomes U+FFFD), which are reported."""
    match = _SURROGATE.search(text)
    if match is None:
        return text
    clean = _SURROGATE.sub("\ufffd", text)
    where = "a key" if is_key else "a string"
    result.problems.append(ParseProblem(
        "lone-surrogate", f"{where} holds the lone surrogate escape \\u{ord(match.group()):04x}, which is "
        "half of a UTF-16 pair and no character: the text cannot be encoded as UTF-8",
        pointer=pointer(*path, clean) if is_key else pointer(*path)))
    return clean


def _clean(value: Any, path: tuple[str | int, ...], result: ParseResult) -> Any:
    """Report duplicate keys, non-finite numbers and lone surrogates; return the value with plain dicts
    and lone surrogates replaced, so later code never meets the marker class or unencodable text."""
    if isinstance(value, dict):
        if isinstance(value, _DuplicateKeys):
            for key in value.duplicates:
                shown = _SURROGATE.sub("\ufffd", key)
                result.problems.append(ParseProblem(
                    "duplicate-key", f"key {shown!r} appears more than once in this object; the API keeps only "
                    "one of them", pointer=pointer(*path, shown)))
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            plain_key = _plain(key, path, True, result)
            cleaned[plain_key] = _clean(item, (*path, plain_key), result)
        return cleaned
    if isinstance(value, list):
        return [_clean(item, (*path, index), result) for index, item in enumerate(value)]
    if isinstance(value, str):
        return _plain(value, path, False, result)
    if isinstance(value, float) and not math.isfinite(value):
        result.problems.append(ParseProblem(
            "non-finite",
            f"number {_JS_NAMES[str(value)]} is not valid JSON (NaN and Infinity are JavaScript, not JSON)",
            pointer=pointer(*path)))
    return value


def _slow_parse(text: str, result: ParseResult) -> None:
    try:
        value = json.loads(text, object_pairs_hook=_pairs_hook, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        result.problems.append(ParseProblem(
            "invalid-json", f"invalid JSON: {exc.msg} (column {exc.colno})", column=exc.colno))
        return
    except _IntegerTooLong as exc:
        result.problems.append(ParseProblem("integer-too-long", str(exc)))
        return
    except RecursionError:  # not reached after the depth test; kept so that no input can raise
        _too_deep(result)
        return
    result.value = _clean(value, (), result)
    result.ok = True


def _too_deep(result: ParseResult) -> ParseResult:
    result.problems.append(ParseProblem(
        "too-deep", f"arrays and objects nest more than {MAX_DEPTH} levels deep; parsers refuse such lines "
        "or run out of stack"))
    return result


def strict_fast(data: bytes, *, duplicate_keys: bool = True) -> dict[str, Any] | None:
    """The object on a line that needs no diagnosis (valid JSON object, no duplicate key), else None.

    The hot path of the engine: one ``orjson.loads`` and the duplicate-key test, no result object.
    For None, :func:`parse_line` says what is wrong (or that the line holds another JSON value).
    ``duplicate_keys=False`` skips that test, for callers that do not report duplicate keys: both parsers
    keep the last value of a repeated key, so the object is the same. Lines that may nest too deeply or
    hold an integer beyond 64 bits (which orjson reads as a float) go to :func:`parse_line` too.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if _may_be_too_deep(data) and _value_too_deep(value):
        return None
    if type(value) is not dict or _needs_exact_reading(data, value, duplicate_keys):
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
        if _may_be_too_deep(data) and _value_too_deep(value):
            return _too_deep(result)
        if not _needs_exact_reading(data, value):
            result.value = value
            result.ok = True
            return result
        # Read exactly: orjson keeps the last of duplicate keys and turns long integers into floats.
        _slow_parse(data.decode("utf-8"), result)
        return result
    # orjson refused the line; it may nest deeper than orjson reads (1024), which the stdlib must not try.
    if _may_be_too_deep(data) and nesting_depth(data) > MAX_DEPTH:
        return _too_deep(result)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        result.problems.append(ParseProblem(
            "invalid-utf8", f"invalid UTF-8 at byte {exc.start + 1} of the line ({exc.reason})",
            column=exc.start + 1))
        text = data.decode("utf-8", errors="replace")
    _slow_parse(text, result)
    return result


def read_object(data: bytes) -> dict[str, Any] | None:
    """The object a line holds as ``ftprep check`` reads it, or None (not an object, or a line whose
    value the parser drops: invalid JSON, nested too deeply, an integer too long). For readers that skip
    what is not a record and leave reporting to ``check``."""
    record = strict_fast(data, duplicate_keys=False)
    if record is None:
        parsed = parse_line(data)
        record = parsed.value if parsed.ok and isinstance(parsed.value, dict) else None
    return record


def exact_document(data: bytes) -> Any:
    """A whole JSON document (a JSON-array input) read exactly: orjson, or the standard library where
    orjson refuses it (a lone surrogate escape) or would read an integer beyond 64 bits as a float.

    Raises ``ValueError`` when the document is not JSON, nests deeper than a reader handles, or holds an
    integer longer than :data:`MAX_INT_DIGITS` digits. Its rows are read as lines are, one by one.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    else:
        if not _may_have_long_integer(data):
            return value
    try:
        return json.loads(data.decode("utf-8"), parse_int=_parse_int)
    except RecursionError as exc:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from exc
