"""Strict JSON parsing: the fast path, NaN/Infinity, duplicate keys, invalid UTF-8."""

from __future__ import annotations

import pytest

from ftprep.jsonl.parse import parse_line


def test_valid_object_parses_without_problems() -> None:
    result = parse_line(b'{"a": [1, {"b": "c"}]}')
    assert result.ok and result.value == {"a": [1, {"b": "c"}]} and result.problems == []


@pytest.mark.parametrize(("line", "pointer"), [
    (b'{"a": 1, "a": 2}', "/a"),
    (b'{"x": {"y": 1, "y": 1}}', "/x/y"),
    (b'{"m": [{"k": 1}, {"k~/": 1, "k~/": 2}]}', "/m/1/k~0~1"),
    (b'{"a" : 1, "a" : 2}', "/a"),
])
def test_duplicate_keys_are_found_with_their_pointer(line: bytes, pointer: str) -> None:
    result = parse_line(line)
    assert [(p.kind, p.pointer) for p in result.problems] == [("duplicate-key", pointer)]
    assert result.ok  # the record is still checked further


def test_key_text_inside_strings_is_not_a_duplicate() -> None:
    result = parse_line(b'{"a": "\\"a\\": \\"a\\":", "b": "\\"b\\":"}')
    assert result.problems == [] and result.value == {"a": '"a": "a":', "b": '"b":'}


@pytest.mark.parametrize(("line", "pointer"), [
    (b'{"a": NaN}', "/a"), (b'{"a": [1, Infinity]}', "/a/1"), (b'{"a": -Infinity}', "/a"),
])
def test_non_finite_numbers_are_found(line: bytes, pointer: str) -> None:
    result = parse_line(line)
    assert [(p.kind, p.pointer) for p in result.problems] == [("non-finite", pointer)]


def test_invalid_json_reports_the_column() -> None:
    result = parse_line(b'{"a": 1,}')
    assert not result.ok
    assert [(p.kind, p.column) for p in result.problems] == [("invalid-json", 9)]


def test_invalid_utf8_is_reported_at_its_byte_and_parsing_goes_on() -> None:
    result = parse_line(b'{"a": "caf\xe9"}')
    assert [(p.kind, p.column) for p in result.problems] == [("invalid-utf8", 11)]
    assert result.ok and result.value == {"a": "caf\ufffd"}


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    result = parse_line(b"[" * 100_000 + b"]" * 100_000)
    assert not result.ok and result.problems[0].kind == "invalid-json"
