"""Hypothesis: no input makes the checker raise, and every bad line gets a finding at its own line."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftprep.engine import FileScan, ScanOptions, all_codes, scan_lines
from ftprep.jsonl.reader import RawLine, split_eol
from ftprep.lint.context import CHECK_GATES

OPTIONS = ScanOptions(enabled=all_codes(), model="gpt-4o-mini-2024-07-18", min_examples=1)


def lines_of(content: bytes) -> list[RawLine]:
    out, offset = [], 0
    for number, line in enumerate(content.splitlines(keepends=True), start=1):
        data, eol = split_eol(line)
        out.append(RawLine(number, offset, data, eol))
        offset += len(line)
    return out


def strictly_an_object(data: bytes) -> bool:
    """Independent oracle: is the line one strict JSON object?"""
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise_and_bad_lines_are_flagged(content: bytes) -> None:
    raw = lines_of(content)
    scan = scan_lines("f.jsonl", raw, OPTIONS)
    flagged = {f.line for f in scan.findings}
    last_content = max((r.lineno for r in raw if r.data.strip()), default=0)
    for line in raw:
        data = line.data[3:] if line.lineno == 1 and line.data.startswith(b"\xef\xbb\xbf") else line.data
        data = data.rstrip(b"\r")
        if not data.strip():
            if line.lineno < last_content:
                assert line.lineno in flagged  # a blank line between records
            continue
        if not strictly_an_object(data):
            assert line.lineno in flagged
    assert all(f.line is None or 1 <= f.line <= len(raw) for f in scan.findings)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
parts = st.lists(st.dictionaries(st.sampled_from(["type", "text", "image_url"]), json_values, max_size=3), max_size=3)
messages = st.lists(st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant", "tool", "function", "human"]) | json_values},
    optional={"content": json_values | parts, "weight": json_values, "name": json_values,
              "tool_calls": json_values, "contents": json_values},
), max_size=5)
records = st.one_of(
    json_values,
    st.fixed_dictionaries({"messages": messages}, optional={"tools": json_values, "extra": json_values}),
    st.fixed_dictionaries({"prompt": json_values, "completion": json_values}),
    st.fixed_dictionaries({"input": st.fixed_dictionaries({"messages": messages}),
                           "preferred_output": messages, "non_preferred_output": messages}),
)


def scan_records(values: list[Any], method: str | None) -> FileScan:
    """Every rule over the records, one JSON line each."""
    content = b"".join(json.dumps(v).encode() + b"\n" for v in values)
    options = ScanOptions(enabled=all_codes(), model="gpt-4o-mini-2024-07-18", method=method, min_examples=1)
    return scan_lines("f.jsonl", lines_of(content), options)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(records, min_size=1, max_size=8), st.sampled_from([None, "supervised", "dpo", "reinforcement"]))
def test_arbitrary_json_records_never_raise(values: list[Any], method: str | None) -> None:
    scan = scan_records(values, method)
    for number, value in enumerate(values, start=1):
        if not isinstance(value, dict):
            assert number in {f.line for f in scan.findings}
    assert all(isinstance(f.message, str) and f.message for f in scan.findings)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(records, min_size=1, max_size=8), st.sampled_from([None, "supervised", "dpo", "reinforcement"]))
def test_gates_skip_only_checks_that_would_find_nothing(values: list[Any], method: str | None) -> None:
    # The engine skips a check whose facts or method a record lacks (lint.context.Gate); run without the
    # gates, every check is called and its own pre-tests decide: the findings must be the same.
    gated = scan_records(values, method)
    saved = dict(CHECK_GATES)
    CHECK_GATES.clear()
    try:
        ungated = scan_records(values, method)
    finally:
        CHECK_GATES.update(saved)
    assert gated.findings == ungated.findings


def test_gates_are_declared() -> None:
    names = {check.__name__: gate for check, gate in CHECK_GATES.items() if gate.facts or gate.methods}
    assert set(names) == {"check_reinforcement_row", "check_chat_images", "check_chat_tools", "check_trainable"}
