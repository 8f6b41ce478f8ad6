"""convert_file and convert_row: each source format, tools, rejects, containers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest

from ftprep.errors import ConfigError, InputError
from ftprep.transform.convert import ConvertOptions, convert_file, convert_row, detect_source, parse_field_map


def jsonl(tmp_path: Path, rows: list[Any], name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


CHAT = ConvertOptions(to="chat")


def test_alpaca_instruction_and_input_become_the_user_message() -> None:
    row = {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour"}
    assert convert_row(row, "alpaca", CHAT) == {"messages": [
        {"role": "user", "content": "Translate to French.\n\nGood morning"},
        {"role": "assistant", "content": "Bonjour"}]}


def test_alpaca_history_and_system_come_first() -> None:
    row = {"instruction": "And 3+3?", "input": "", "output": "6", "system": "Be terse.", "history": [["2+2?", "4"]]}
    assert convert_row(row, "alpaca", CHAT)["messages"] == [
        {"role": "system", "content": "Be terse."}, {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"}, {"role": "user", "content": "And 3+3?"},
        {"role": "assistant", "content": "6"}]


def test_sharegpt_function_call_and_observation_become_tool_calls_and_tool_messages() -> None:
    row = {"conversations": [
        {"from": "human", "value": "Weather in Oslo?"},
        {"from": "function_call", "value": '{"name": "weather", "arguments": {"city": "Oslo"}}'},
        {"from": "observation", "value": '{"temp": 3}'},
        {"from": "gpt", "value": "3 degrees."}],
        "tools": '[{"name": "weather", "description": "Current weather", "parameters": {"type": "object"}}]'}
    assert convert_row(row, "sharegpt", CHAT) == {
        "messages": [
            {"role": "user", "content": "Weather in Oslo?"},
            {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                                                  "function": {"name": "weather", "arguments": '{"city":"Oslo"}'}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 3}'},
            {"role": "assistant", "content": "3 degrees."}],
        "tools": [{"type": "function", "function": {"name": "weather", "description": "Current weather",
                                                     "parameters": {"type": "object"}}}]}


def test_legacy_functions_become_tools() -> None:
    row = {"messages": [
        {"role": "user", "content": "Time?"},
        {"role": "assistant", "content": None, "function_call": {"name": "now", "arguments": "{}"}},
        {"role": "function", "name": "now", "content": "12:00"},
        {"role": "assistant", "content": "Noon."}],
        "functions": [{"name": "now", "parameters": {"type": "object", "properties": {}}}]}
    assert convert_row(row, "chat", CHAT) == {
        "messages": [
            {"role": "user", "content": "Time?"},
            {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                                                  "function": {"name": "now", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "12:00"},
            {"role": "assistant", "content": "Noon."}],
        "tools": [{"type": "function", "function": {"name": "now", "parameters": {"type": "object",
                                                                                   "properties": {}}}}]}


def test_bedrock_system_and_text_parts_become_plain_messages() -> None:
    row = {"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "You are kind."}],
           "messages": [{"role": "user", "content": [{"text": "Hi"}]},
                        {"role": "assistant", "content": [{"text": "Hello!"}]}]}
    assert convert_row(row, "chat", CHAT) == {"messages": [
        {"role": "system", "content": "You are kind."}, {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"}]}


def test_sharegpt_preference_becomes_dpo() -> None:
    row = {"conversations": [{"from": "system", "value": "S"}, {"from": "human", "value": "Q"}],
           "chosen": {"from": "gpt", "value": "good"}, "rejected": {"from": "gpt", "value": "bad"}}
    assert convert_row(row, "sharegpt-preference", ConvertOptions(to="dpo")) == {
        "input": {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]},
        "preferred_output": [{"role": "assistant", "content": "good"}],
        "non_preferred_output": [{"role": "assistant", "content": "bad"}]}


def test_trl_preference_strings_become_dpo() -> None:
    row = {"prompt": "Q", "chosen": "good", "rejected": "bad"}
    assert detect_source(row) == "preference"
    assert convert_row(row, "preference", ConvertOptions(to="dpo", system="S")) == {
        "input": {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]},
        "preferred_output": [{"role": "assistant", "content": "good"}],
        "non_preferred_output": [{"role": "assistant", "content": "bad"}]}


def test_chat_to_completions_puts_the_system_text_in_the_prompt() -> None:
    row = {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"},
                        {"role": "assistant", "content": "A"}]}
    assert convert_row(row, "chat", ConvertOptions(to="completions")) == {"prompt": "S\n\nQ", "completion": "A"}


def test_system_option_is_added_only_where_missing() -> None:
    options = ConvertOptions(to="chat", system="Be brief.")
    assert convert_row({"prompt": "Q", "completion": "A"}, "completions", options)["messages"][0] == {
        "role": "system", "content": "Be brief."}
    row = {"messages": [{"role": "system", "content": "Mine."}, {"role": "user", "content": "Q"},
                        {"role": "assistant", "content": "A"}]}
    assert convert_row(row, "chat", options)["messages"][0]["content"] == "Mine."


def test_field_map_accepts_synonyms_and_refuses_unknown_fields() -> None:
    assert parse_field_map(["question=/q", "answer=/a"], "chat") == (("user", "/q"), ("assistant", "/a"))
    with pytest.raises(ConfigError, match="takes fields"):
        parse_field_map(["label=/x"], "chat")


def test_detected_source_is_reported(tmp_path: Path) -> None:
    source = jsonl(tmp_path, [{"instruction": f"i{n}", "input": "", "output": f"o{n}"} for n in range(3)])
    result = convert_file(source, tmp_path / "out.jsonl", CHAT)
    assert (result.source, result.detected, result.container) == ("alpaca", True, "jsonl")
    assert result.accounting.outputs == {"output": 3}


def test_rows_that_cannot_be_converted_go_to_rejects_with_codes(tmp_path: Path) -> None:
    rows: list[Any] = [{"instruction": "i", "input": "", "output": "o"},
                       {"instruction": "i2", "input": "", "output": "o", "history": "not pairs"},
                       {"instruction": "i3", "input": "", "output": {"nested": 1}},
                       [1, 2]]
    source = jsonl(tmp_path, rows)
    (tmp_path / "in.jsonl").open("ab").write(b"{broken\n")
    result = convert_file(source, tmp_path / "out.jsonl", CHAT)
    rejects = records(tmp_path / "out.rejects.jsonl")
    assert [(r["line"], r["reasons"]) for r in rejects] == [
        (2, ["FT200"]), (3, ["FT205"]), (4, ["FT102"]), (5, ["FT101"])]
    assert rejects[3]["raw"] == "{broken"
    assert result.accounting.balanced
    assert len(records(tmp_path / "out.jsonl")) == 1


def test_unknown_rows_are_rejected_as_unrecognized(tmp_path: Path) -> None:
    source = jsonl(tmp_path, [{"text": "pretraining text"}])
    result = convert_file(source, tmp_path / "out.jsonl", CHAT)
    assert dict(result.accounting.reasons) == {"FT200": 1}
    assert records(tmp_path / "out.jsonl") == []


def test_json_array_rows_are_numbered_by_record(tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_bytes(orjson.dumps([{"prompt": "Q", "completion": "A"}, {"prompt": "Q2"}], option=orjson.OPT_INDENT_2))
    result = convert_file(source, tmp_path / "out.jsonl", CHAT)
    assert result.container == "json"
    assert [(r["line"], r["record"]) for r in records(tmp_path / "out.rejects.jsonl")] == [(None, 2)]


def test_object_holding_a_list_is_read_as_rows(tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_bytes(orjson.dumps({"version": 1, "data": [{"prompt": "Q", "completion": "A"}]}))
    convert_file(source, tmp_path / "out.jsonl", CHAT)
    assert records(tmp_path / "out.jsonl") == [{"messages": [{"role": "user", "content": "Q"},
                                                             {"role": "assistant", "content": "A"}]}]


def test_csv_cells_stay_text(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text('question,answer\n"Agent, code?",007\n')
    options = ConvertOptions(to="chat", field_map=parse_field_map(["user=/question", "assistant=/answer"], "chat"))
    result = convert_file(source, tmp_path / "out.jsonl", options)
    assert records(tmp_path / "out.jsonl") == [{"messages": [{"role": "user", "content": "Agent, code?"},
                                                             {"role": "assistant", "content": "007"}]}]
    assert result.accounting.unit == "row"


def test_parquet_rows_convert(tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    pl.DataFrame({"prompt": ["Q1", "Q2"], "completion": ["A1", "A2"]}).write_parquet(source)
    convert_file(source, tmp_path / "out.jsonl", ConvertOptions(to="completions"))
    assert records(tmp_path / "out.jsonl") == [{"prompt": "Q1", "completion": "A1"},
                                               {"prompt": "Q2", "completion": "A2"}]


def test_missing_mapped_field_is_a_reject(tmp_path: Path) -> None:
    source = jsonl(tmp_path, [{"question": "Q"}])
    options = ConvertOptions(to="chat", field_map=parse_field_map(["user=/question", "assistant=/answer"], "chat"))
    convert_file(source, tmp_path / "out.jsonl", options)
    assert records(tmp_path / "out.rejects.jsonl")[0]["findings"][0]["message"] == (
        "--map assistant=/answer: the row has no value there")


def test_convert_refuses_to_write_over_its_input(tmp_path: Path) -> None:
    source = jsonl(tmp_path, [{"prompt": "Q", "completion": "A"}])
    with pytest.raises(ConfigError, match="is the input file"):
        convert_file(source, source, CHAT, force=True)


@pytest.mark.parametrize(("to", "row", "code"), [
    ("chat", {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "tool_calls": 5}]}, "FT2"),
    ("completions", {"messages": [{"role": "system"}, {"role": "user", "content": "q"},
                                  {"role": "assistant", "content": "a"}]}, "FT205"),
    ("completions", {"messages": [True, {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
     "FT200"),
    ("chat", {"messages": [{"role": "user", "content": "q"},
                           {"role": "assistant", "function_call": {"name": "f"}, "tool_calls": 3}]}, "FT200"),
])
def test_one_odd_row_goes_to_the_rejects_and_the_run_goes_on(tmp_path: Path, to: str, row: dict[str, Any],
                                                            code: str) -> None:
    good = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    source = jsonl(tmp_path, [row, good])
    result = convert_file(source, tmp_path / "out.jsonl", ConvertOptions(to=to, source="chat"))
    rejected = records(tmp_path / "out.rejects.jsonl")
    assert [r["line"] for r in rejected] == [1] and rejected[0]["reasons"][0].startswith(code)
    assert len(records(tmp_path / "out.jsonl")) == 1 and result.accounting.balanced


def test_a_dpo_prompt_message_that_is_not_an_object_is_a_reject(tmp_path: Path) -> None:
    row = {"input": {"messages": [True]}, "preferred_output": [{"role": "assistant", "content": "a"}],
           "non_preferred_output": [{"role": "assistant", "content": "b"}]}
    for to in ("chat", "completions", "dpo"):
        result = convert_file(jsonl(tmp_path, [row]), tmp_path / f"{to}.jsonl",
                              ConvertOptions(to=to, source="dpo"))
        assert [r["reasons"] for r in records(tmp_path / f"{to}.rejects.jsonl")] == [["FT200"]]
        assert result.accounting.rejected == 1


def test_integers_beyond_64_bits_keep_their_digits(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], '
                       b'"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", '
                       b'"properties": {"n": {"type": "integer", "maximum": 123456789012345678901234567890}}}}}]}\n')
    convert_file(source, tmp_path / "out.jsonl", CHAT)
    assert b'"maximum":123456789012345678901234567890}' in (tmp_path / "out.jsonl").read_bytes()


def test_json_array_rows_are_read_as_jsonl_lines_are(tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    good = '{"prompt": "a", "completion": "b"}'
    source.write_text("[" + ", ".join([
        good,
        '{"prompt": "a\\ud800", "completion": "b"}',  # a lone surrogate: orjson refuses the whole document
        '{"prompt": "a", "completion": "b", "x": ' + "[" * 300 + "]" * 300 + "}",  # beyond orjson's writer
        '{"prompt": "a", "completion": "b", "n": 123456789012345678901234567890}',
    ]) + "]")
    result = convert_file(source, tmp_path / "out.jsonl", ConvertOptions(to="completions", source="completions"))
    assert [(r["record"], r["reasons"]) for r in records(tmp_path / "out.rejects.jsonl")] == [(2, ["FT106"]),
                                                                                             (3, ["FT105"])]
    assert result.accounting.balanced and result.accounting.outputs == {"output": 2}


def test_json_array_integers_beyond_64_bits_keep_their_digits(tmp_path: Path) -> None:
    source = tmp_path / "in.json"
    source.write_text('[{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], '
                      '"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", '
                      '"properties": {"n": {"type": "integer", "maximum": 123456789012345678901234567890}}}}}]}]')
    convert_file(source, tmp_path / "out.jsonl", CHAT)
    assert b'"maximum":123456789012345678901234567890}' in (tmp_path / "out.jsonl").read_bytes()


def test_an_unreadable_csv_is_one_line_naming_the_file(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text('prompt,completion\nhi,yo\n"unterminated,yo\n')
    with pytest.raises(InputError) as caught:
        convert_file(source, tmp_path / "out.jsonl", ConvertOptions(to="completions", source="completions"))
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{source}: cannot read as CSV (")
