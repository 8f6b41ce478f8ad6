"""Strict JSON parsing: the fast path, NaN/Infinity, duplicate keys, invalid UTF-8."""

from __future__ import annotations

import pytest

from ftprep.jsonl.parse import MAX_DEPTH, MAX_INT_DIGITS, nesting_depth, parse_line, strict_fast


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
    assert not result.ok and [p.kind for p in result.problems] == ["too-deep"]


# Issue 19: nesting, lone surrogates and integers beyond what orjson or Python read.

def _nested(depth: int) -> bytes:
    """An object holding arrays nested so that the line is ``depth`` levels deep."""
    return b'{"a": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


@pytest.mark.parametrize("depth", [129, 256, 1025, 5000])
def test_nesting_beyond_the_limit_is_one_problem_and_no_value(depth: int) -> None:
    result = parse_line(_nested(depth))
    assert [p.kind for p in result.problems] == ["too-deep"] and not result.ok and result.value is None
    assert strict_fast(_nested(depth)) is None and strict_fast(_nested(depth), duplicate_keys=False) is None


def test_nesting_up_to_the_limit_parses() -> None:
    assert nesting_depth(_nested(MAX_DEPTH)) == MAX_DEPTH
    result = parse_line(_nested(MAX_DEPTH))
    assert result.ok and result.problems == []


def test_brackets_inside_strings_do_not_nest() -> None:
    line = b'{"a": "' + b"[{" * 500 + b'\\"]"}'
    assert nesting_depth(line) == 1
    assert parse_line(line).ok


@pytest.mark.parametrize(("line", "pointer", "value"), [
    (b'{"a": "x\\ud800"}', "/a", {"a": "x\ufffd"}),
    (b'{"a": ["\\udfff"]}', "/a/0", {"a": ["\ufffd"]}),
    (b'{"\\ud800k": 1}', "/\ufffdk", {"\ufffdk": 1}),
])
def test_lone_surrogates_are_found_and_replaced(line: bytes, pointer: str, value: object) -> None:
    result = parse_line(line)
    assert [(p.kind, p.pointer) for p in result.problems] == [("lone-surrogate", pointer)]
    assert result.value == value
    assert strict_fast(line) is None


def test_a_surrogate_pair_is_one_character() -> None:
    result = parse_line(b'{"a": "\\ud83d\\ude00"}')
    assert result.ok and result.problems == [] and result.value == {"a": "\U0001F600"}


@pytest.mark.parametrize("digits", ["123456789012345678901234567890", "18446744073709551616", "-9223372036854775809",
                                    "9" * MAX_INT_DIGITS])
def test_integers_beyond_64_bits_are_read_exactly(digits: str) -> None:
    line = b'{"n": ' + digits.encode() + b', "s": "x"}'
    assert parse_line(line).value == {"n": int(digits), "s": "x"}
    assert strict_fast(line) is None  # orjson would read a float: the exact reader decides
    assert type(parse_line(b'{"n": 18446744073709551615}').value["n"]) is int  # u64: orjson reads it exactly


def test_integers_longer_than_python_reads_are_a_problem_not_a_crash() -> None:
    result = parse_line(b'{"n": ' + b"7" * (MAX_INT_DIGITS + 1) + b"}")
    assert [p.kind for p in result.problems] == ["integer-too-long"] and not result.ok


def test_twenty_digits_inside_a_string_keep_the_value() -> None:
    line = b'{"phone": "0000000000000000000000123"}'
    assert parse_line(line).value == {"phone": "0000000000000000000000123"}
