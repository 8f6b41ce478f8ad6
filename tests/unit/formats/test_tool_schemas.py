"""Tool definitions are checked once per distinct `tools` list, and never at the cost of a finding."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from ftprep.check import check_files
from ftprep.rules import tools
from ftprep.rules.tools import compile_schema
from tests.conftest import SAMPLES, TODAY

TOOLS = [{"type": "function", "function": {
    "name": "get_order", "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                                        "required": ["order_id"], "additionalProperties": False}}}]


def _row(tools_list: object, name: str = "get_order", arguments: str = '{"order_id": "A1"}') -> bytes:
    return orjson.dumps({"tools": tools_list, "messages": [
        {"role": "user", "content": "Where is A1?"},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                              "function": {"name": name, "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "shipped"},
        {"role": "assistant", "content": "It has shipped."}]})


def test_repeated_tools_lists_are_checked_once() -> None:
    compile_schema.cache_clear()
    tools._CLEAN_TOOLS.clear()
    tools._CLEAN_TOOLS_BYTES[0] = 0
    result = check_files([str(SAMPLES / "tools_valid.jsonl")], today=TODAY)
    assert result.findings == []
    info = compile_schema.cache_info()
    # 12 rows share one list of 4 tools: its 4 schemas are compiled by the first row; the other 11 rows
    # reuse that row's checked definitions without compiling or looking anything up.
    assert (info.misses, info.hits) == (4, 0)
    assert len(tools._CLEAN_TOOLS) == 1


def test_a_bad_tools_list_is_reported_in_every_row(write_lines: Callable[..., Path]) -> None:
    bad = [{"type": "function", "function": {"name": "get order", "parameters": {"type": "object"}}}]
    path = write_lines([_row(bad, name="get order")] * 3 + [_row(TOOLS, arguments=f'{{"order_id": "A{i}"}}')
                                                             for i in range(9)])
    result = check_files([str(path)], today=TODAY)
    # A list with a finding is not kept: every row that has it is reported.
    assert [f.line for f in result.findings if f.code == "FT231"] == [1, 2, 3]


def test_calls_are_checked_against_a_reused_definition(write_lines: Callable[..., Path]) -> None:
    rows = [_row(TOOLS, arguments=f'{{"order_id": "A{i}"}}') for i in range(10)]
    rows[4] = _row(TOOLS, name="get_ordr")  # undeclared
    rows[7] = _row(TOOLS, arguments='{"order_id": 7}')  # schema mismatch, left to jsonschema
    rows[8] = _row(TOOLS, arguments='{"order_id": "A8", "extra": 1}')  # additionalProperties: false
    result = check_files([str(write_lines(rows))], today=TODAY)
    assert sorted((f.code, f.line) for f in result.findings) == [("FT239", 8), ("FT239", 9), ("FT240", 5)]
    mismatch = next(f for f in result.findings if f.line == 8)
    assert "7 is not of type 'string'" in mismatch.message



def test_a_list_clean_under_one_selection_is_checked_again_under_another(write_lines: Callable[..., Path]) -> None:
    bad = [{"type": "function", "function": {"name": "get order", "parameters": {"type": "object"}}}]
    path = write_lines([_row(bad, name="get order", arguments=f'{{"n": {i}}}') for i in range(10)])
    ignored = check_files([str(path)], ignore=["FT231"], today=TODAY)
    assert not [f for f in ignored.findings if f.code == "FT231"]
    assert len([f for f in check_files([str(path)], today=TODAY).findings if f.code == "FT231"]) == 10


def test_the_cache_of_checked_tools_lists_is_bounded_in_bytes(write_lines: Callable[..., Path],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tools, "_CLEAN_TOOLS_MAX_BYTES", 2_000)
    tools._CLEAN_TOOLS.clear()
    tools._CLEAN_TOOLS_BYTES[0] = 0
    rows = []
    for i in range(40):  # every row declares its own list of about 250 bytes
        own = [{"type": "function", "function": {**TOOLS[0]["function"], "description": f"tool {i} " * 8}}]
        rows.append(_row(own))
    assert check_files([str(write_lines(rows))], select=["FT23", "FT24"], today=TODAY).findings == []
    assert 0 < tools._CLEAN_TOOLS_BYTES[0] <= 2_000 and len(tools._CLEAN_TOOLS) < 40
