"""Nulls from a DataFrame round trip: one finding per line in check (FT215), dropped and counted by fix/convert."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from ftprep.check import check_files
from ftprep.rules.nulls import NULL_FIELDS, may_hold_nulls, strip_nulls
from ftprep.transform.convert import ConvertOptions, convert_file
from ftprep.transform.fix import fix_file

# What polars' write_ndjson makes of a chat file where only some rows had tool calls and weights.
ROUND_TRIP = {"messages": [
    {"role": "user", "content": "Weather in Paris?", "tool_calls": None, "weight": None, "tool_call_id": None},
    {"role": "assistant", "content": "Sunny.", "tool_calls": None, "weight": None, "tool_call_id": None}],
    "tools": None, "parallel_tool_calls": None}
CLEAN = {"messages": [{"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": "Sunny."}]}


def _numbered(record: dict[str, Any], index: int) -> dict[str, Any]:
    """``record`` with the question numbered, so that no two lines are duplicates."""
    messages = [dict(m) for m in record["messages"]]
    messages[0]["content"] = f"{messages[0]['content']} ({index})"
    return {**record, "messages": messages}


def _write(tmp_path: Path, rows: int = 12) -> Path:
    path = tmp_path / "frame.jsonl"
    path.write_bytes(b"".join(orjson.dumps(_numbered(ROUND_TRIP, i)) + b"\n" for i in range(rows)))
    return path


def test_check_reports_one_finding_per_line_naming_the_cause_and_the_fix(tmp_path: Path) -> None:
    result = check_files([str(_write(tmp_path))])
    assert [(f.code, f.line) for f in result.findings] == [("FT215", line) for line in range(1, 13)]
    first = result.findings[0]
    assert first.pointer == "/messages/0/tool_calls"
    assert first.message.startswith("8 optional fields are null (/messages/0/tool_calls, /messages/0/weight, ")
    assert "(+5 more)" in first.message and "DataFrame round trip" in first.message
    assert "ftprep fix" in first.fix


def test_fix_drops_the_nulls_and_counts_them(tmp_path: Path) -> None:
    result = fix_file(_write(tmp_path), tmp_path / "out.jsonl")
    lines = (tmp_path / "out.jsonl").read_bytes().splitlines()
    assert [orjson.loads(line) for line in lines] == [_numbered(CLEAN, i) for i in range(12)]
    assert result.repairs["nulls"] == 96
    assert result.accounting.to_dict()["dropped_fields"] == {NULL_FIELDS: {"values": 96, "rows": 12}}
    assert "dropped null (FT215): 96 value(s) in 12 row(s)" in result.accounting.render()
    assert check_files([str(tmp_path / "out.jsonl")]).errors == 0


def test_convert_drops_the_nulls_and_counts_them(tmp_path: Path) -> None:
    result = convert_file(_write(tmp_path), tmp_path / "out.jsonl", ConvertOptions(to="completions"))
    assert result.accounting.outputs["output"] == 12
    assert result.accounting.to_dict()["dropped_fields"] == {NULL_FIELDS: {"values": 96, "rows": 12}}
    assert orjson.loads((tmp_path / "out.jsonl").read_bytes().splitlines()[0]) == {
        "prompt": "Weather in Paris? (0)", "completion": "Sunny."}


def test_required_fields_and_schema_defaults_keep_their_null() -> None:
    record = {"messages": [{"role": None, "content": None, "name": None}],
              "tools": [{"type": "function", "function": {"name": "f", "parameters": {
                  "properties": {"x": {"type": None, "default": None}}}}}], "label": None}
    stripped, removed = strip_nulls(record)
    assert removed == ["/messages/0/name", "/tools/0/function/parameters/properties/x/type"]
    assert stripped["messages"] == [{"role": None, "content": None}]
    assert stripped["tools"][0]["function"]["parameters"]["properties"]["x"] == {"default": None}
    # A reinforcement row's own fields are the user's: left alone. The input is never modified.
    assert stripped["label"] is None
    assert record["messages"][0]["name"] is None


def test_a_record_without_nulls_is_returned_as_is() -> None:
    stripped, removed = strip_nulls(CLEAN)
    assert stripped is CLEAN and removed == []


def test_messages_show_values_as_json_not_python(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"messages": [{"role": null, "content": "hi"}, {"role": "assistant", "content": "yo", '
                     b'"weight": true}], "parallel_tool_calls": "false"}\n')
    messages = [f.message for f in check_files([str(path)]).findings]
    assert "unknown role null" in messages
    assert "weight true is not the integer 0 or 1" in messages
    assert not [m for m in messages if "None" in m or "True" in m]


# Keys and values that make the prefilter's cases: content (kept null), optional fields (dropped null), keys
# that end in `"content` or hold the word null, strings that mention `"content":null`.
_KEYS = st.sampled_from(["content", "weight", "tool_calls", "role", 'my"content', "x\\content", "nullable",
                         "messages", "tools", "type", "name"])
_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-3, 3),
                    st.sampled_from(["null", '"content":null', '{"content": null}', "text", "\\", '"']))
_VALUES = st.recursive(_LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(record=st.dictionaries(_KEYS, _VALUES, max_size=5), spaced=st.booleans())
def test_the_null_prefilter_never_skips_a_line_with_a_null_to_strip(record: dict[str, Any], spaced: bool) -> None:
    data = json.dumps(record).encode() if spaced else orjson.dumps(record)
    if not may_hold_nulls(data):
        assert strip_nulls(record) == (record, [])


def test_the_null_prefilter_skips_content_nulls_and_walks_the_rest() -> None:
    tool_call = {"messages": [{"role": "assistant", "content": None, "tool_calls": [{"id": "c"}]}]}
    assert not may_hold_nulls(orjson.dumps(tool_call)) and not may_hold_nulls(json.dumps(tool_call).encode())
    assert may_hold_nulls(orjson.dumps(ROUND_TRIP))
    escaped_key = {"messages": [{'my"content': None}]}  # not `content`: its null is dropped
    assert strip_nulls(escaped_key)[1] and may_hold_nulls(orjson.dumps(escaped_key))
    assert not may_hold_nulls(orjson.dumps(CLEAN))


def test_the_null_prefilter_looks_at_each_null_where_it_stands() -> None:
    # A text that ends in `"content` (escaped in the line, `\\"content"`) does not send a line whose only null
    # is a message's content to the walk; a null after an escaped quote and `content":` is walked.
    call = {"messages": [{"role": "user", "content": 'rename the key "content'},
                         {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function"}]}]}
    assert b'\\"content"' in orjson.dumps(call)
    assert not may_hold_nulls(orjson.dumps(call)) and not may_hold_nulls(json.dumps(call).encode())
    assert strip_nulls(call) == (call, [])
    assert may_hold_nulls(b'{"messages": [{"role": "user", "content": "say \\"content\\": null"}]}')
    assert may_hold_nulls(b'{"messages": [{"role": "user", "x\\"content": null}]}')
