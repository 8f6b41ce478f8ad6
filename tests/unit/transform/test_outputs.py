"""convert --to trl | vertex | bedrock-nova | bedrock-haiku: shapes, dropped-field accounting, rejects, --strict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from ftprep.cli import main
from ftprep.transform.convert import ConvertOptions, Unconvertible
from ftprep.transform.outputs import (
    NOVA_RESERVED,
    OUTPUT_TARGETS,
    convert_file_to,
    validate_haiku,
    validate_nova,
    validate_trl,
    validate_vertex,
    write_row,
)

SAMPLES = Path(__file__).parents[3] / "samples"

TOOL_ROW: dict[str, Any] = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Oslo?", "name": "bob"},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                              "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 3}'},
        {"role": "assistant", "content": "3 degrees.", "weight": 1}],
    "tools": [{"type": "function", "function": {"name": "weather", "description": "Current weather",
                                                "parameters": {"type": "object"}, "strict": True}}],
    "parallel_tool_calls": False,
}
PLAIN_ROW: dict[str, Any] = {"messages": [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello", "weight": 0},
    {"role": "user", "content": "Bye"},
    {"role": "assistant", "content": "Bye!", "weight": 1}], "id": 7}
DPO_ROW: dict[str, Any] = {
    "input": {"messages": [{"role": "user", "content": "2+2?"}], "tools": []},
    "preferred_output": [{"role": "assistant", "content": "4"}],
    "non_preferred_output": [{"role": "assistant", "content": "5"}]}


def jsonl(tmp_path: Path, rows: list[Any], name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in rows))
    return path


def lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def opts(to: str, **kwargs: Any) -> ConvertOptions:
    return ConvertOptions(to=to, **kwargs)


# --- TRL ---------------------------------------------------------------------------------------------------

def test_trl_parses_tool_call_arguments_and_keeps_tools() -> None:
    out, dropped = write_row(TOOL_ROW, "chat", opts("trl"))
    assert out["messages"][2] == {"role": "assistant", "tool_calls": [
        {"type": "function", "function": {"name": "weather", "arguments": {"city": "Oslo"}}, "id": "c1"}]}
    assert out["messages"][3] == {"role": "tool", "content": '{"temp": 3}', "tool_call_id": "c1"}
    assert out["tools"] == TOOL_ROW["tools"]
    assert dropped == {"messages[].name": 1, "messages[].weight": 1, "parallel_tool_calls": 1}
    assert validate_trl(out) == []


def test_trl_preference_rows_are_prompt_chosen_rejected_message_lists() -> None:
    out, dropped = write_row(DPO_ROW, "dpo", opts("trl"))
    assert out == {"prompt": [{"role": "user", "content": "2+2?"}],
                   "chosen": [{"role": "assistant", "content": "4"}],
                   "rejected": [{"role": "assistant", "content": "5"}]}
    assert dropped == {}


def test_trl_rows_are_what_trl_is_conversational_accepts() -> None:
    # trl.data_utils.is_conversational: a supported key whose value is a list starting with a dict with role.
    for row, source in ((TOOL_ROW, "chat"), (PLAIN_ROW, "chat"), (DPO_ROW, "dpo")):
        out, _ = write_row(row, source, opts("trl"))
        keys = [k for k in ("prompt", "chosen", "rejected", "completion", "messages") if k in out]
        assert keys and all(isinstance(out[k], list) and "role" in out[k][0] for k in keys)


def test_trl_rows_render_with_transformers_chat_template_arguments_once(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    backend = tokenizers.Tokenizer(tokenizers.models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    template = ("{% for m in messages %}{{ m.role }}:{% if m.tool_calls %}{% for c in m.tool_calls %}"
                "{{ c.function.name }}{{ c.function.arguments | tojson }}{% endfor %}{% else %}{{ m.content }}"
                "{% endif %}\n{% endfor %}")
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=backend, chat_template=template)
    out, _ = write_row(TOOL_ROW, "chat", opts("trl"))
    text = tok.apply_chat_template(out["messages"], tools=out["tools"], tokenize=False)
    assert 'assistant:weather{"city": "Oslo"}' in text  # an object: encoded once, not a JSON string in JSON


def test_trl_rejects_arguments_that_are_not_json() -> None:
    row = orjson.loads(orjson.dumps(TOOL_ROW))
    row["messages"][2]["tool_calls"][0]["function"]["arguments"] = "{city: Oslo"
    with pytest.raises(Unconvertible, match="arguments are not JSON") as info:
        write_row(row, "chat", opts("trl"))
    assert info.value.reason.code == "not-expressible"


# --- Vertex ------------------------------------------------------------------------------------------------

def test_vertex_shape_roles_function_call_and_response() -> None:
    out, dropped = write_row(TOOL_ROW, "chat", opts("vertex"))
    assert out == {
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "Weather in Oslo?"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "weather", "args": {"city": "Oslo"}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "weather", "response": {"temp": 3}}}]},
            {"role": "model", "parts": [{"text": "3 degrees."}]}],
        "tools": [{"functionDeclarations": [{"name": "weather", "description": "Current weather",
                                             "parameters": {"type": "object"}}]}]}
    assert dropped == {"messages[].name": 1, "messages[].weight": 1, "parallel_tool_calls": 1,
                       "tools[].function.strict": 1}
    assert validate_vertex(out) == []


def test_vertex_images_from_gcs_become_file_data_others_are_dropped() -> None:
    row = {"messages": [
        {"role": "user", "content": [{"type": "text", "text": "What is it?"},
                                     {"type": "image_url", "image_url": {"url": "gs://b/cat.png"}},
                                     {"type": "image_url", "image_url": {"url": "https://x/cat.png"}}]},
        {"role": "assistant", "content": "A cat."}]}
    out, dropped = write_row(row, "chat", opts("vertex"))
    assert out["contents"][0]["parts"] == [{"text": "What is it?"},
                                           {"fileData": {"mimeType": "image/png", "fileUri": "gs://b/cat.png"}}]
    assert dropped == {"content part image_url": 1}


def test_vertex_rejects_rows_not_ending_with_the_model() -> None:
    with pytest.raises(Unconvertible, match="end with a model turn"):
        write_row({"messages": [{"role": "user", "content": "Hi"}]}, "chat", opts("vertex"))


def test_vertex_counts_the_rejected_side_of_a_preference_row() -> None:
    out, dropped = write_row(DPO_ROW, "dpo", opts("vertex"))
    assert out["contents"][-1] == {"role": "model", "parts": [{"text": "4"}]}
    assert dropped == {"non_preferred_output": 1, "input.tools": 1}


# --- Bedrock -----------------------------------------------------------------------------------------------

def test_nova_shape() -> None:
    out, dropped = write_row(PLAIN_ROW, "chat", opts("bedrock-nova"))
    assert out == {"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "Be brief."}], "messages": [
        {"role": "user", "content": [{"text": "Hi"}]}, {"role": "assistant", "content": [{"text": "Hello"}]},
        {"role": "user", "content": [{"text": "Bye"}]}, {"role": "assistant", "content": [{"text": "Bye!"}]}]}
    assert dropped == {"messages[].weight": 2, "id": 1}
    assert validate_nova(out) == []


def test_nova_images_from_s3_become_image_blocks() -> None:
    row = {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "s3://bucket/a/cat.JPG"}}, {"type": "text", "text": "?"}]},
        {"role": "assistant", "content": "A cat."}]}
    out, dropped = write_row(row, "chat", opts("bedrock-nova"))
    assert out["messages"][0]["content"] == [
        {"image": {"format": "jpeg", "source": {"s3Location": {"uri": "s3://bucket/a/cat.JPG"}}}}, {"text": "?"}]
    assert dropped == {}


@pytest.mark.parametrize("word", NOVA_RESERVED)
def test_nova_reserved_words_are_rejected(tmp_path: Path, word: str) -> None:
    rows = [{"messages": [{"role": "user", "content": f"Say {word} now"}, {"role": "assistant", "content": "ok"}]},
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}]
    out = tmp_path / "out.jsonl"
    result = convert_file_to(jsonl(tmp_path, rows), out, opts("bedrock-nova"))
    assert result.accounting.outputs == {"output": 1}
    (reject,) = lines(tmp_path / "out.rejects.jsonl")
    assert reject["line"] == 1 and reject["reasons"] == ["nova-reserved-word"]
    assert reject["findings"][0]["pointer"] == "/messages/0/content/0/text"
    assert repr(word) in reject["findings"][0]["message"]


def test_nova_and_haiku_reject_tool_use_and_count_unused_tool_definitions() -> None:
    for target in ("bedrock-nova", "bedrock-haiku"):
        with pytest.raises(Unconvertible, match="carry no tool calls"):
            write_row(TOOL_ROW, "chat", opts(target))
        row = {**PLAIN_ROW, "tools": TOOL_ROW["tools"]}
        assert write_row(row, "chat", opts(target))[1]["tools"] == 1


def test_haiku_shape_and_strict_alternation() -> None:
    out, _ = write_row(PLAIN_ROW, "chat", opts("bedrock-haiku"))
    assert out == {"system": "Be brief.", "messages": [
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Bye!"}]}
    assert validate_haiku(out) == []
    twice = {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                          {"role": "assistant", "content": "c"}]}
    with pytest.raises(Unconvertible, match="alternate"):
        write_row(twice, "chat", opts("bedrock-haiku"))


def test_a_late_system_message_cannot_be_expressed() -> None:
    row = {"messages": [{"role": "user", "content": "Hi"}, {"role": "system", "content": "Now French."},
                        {"role": "assistant", "content": "Salut"}]}
    for target in ("vertex", "bedrock-nova", "bedrock-haiku"):
        with pytest.raises(Unconvertible, match="system message after"):
            write_row(row, "chat", opts(target))


def test_content_parts_that_are_not_openai_parts_are_rejected() -> None:
    row = {"messages": [{"role": "user", "content": [{"type": "text", "value": "hi"}]},
                        {"role": "assistant", "content": "Hello"}]}
    for target in OUTPUT_TARGETS:
        with pytest.raises(Unconvertible, match="text part needs a string text"):
            write_row(row, "chat", opts(target))


# --- validators --------------------------------------------------------------------------------------------

def test_validators_find_malformed_rows() -> None:
    assert validate_trl({"messages": [{"role": "human", "content": "x"}]}) == [
        "messages[0] needs a role of system, user, assistant or tool"]
    assert validate_vertex({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}) == [
        "contents[0].role must be user or model", "the last turn must be the model's"]
    assert validate_nova({"messages": [{"role": "user", "content": "x"}]}) == [
        "schemaVersion must be bedrock-conversation-2024",
        "messages[0].content must be a non-empty list of text, image or video blocks",
        "the first turn must be the user's and the last the assistant's"]
    assert validate_haiku({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
                           "id": 1}) == [
        "extraneous key id", "messages[1] must be {role: assistant, content}",
        "the last message must be the assistant's"]


# --- files: accounting, summary, --strict ------------------------------------------------------------------

@pytest.mark.parametrize("target", OUTPUT_TARGETS)
def test_file_accounting_and_dropped_field_summary(tmp_path: Path, target: str) -> None:
    rows: list[Any] = [PLAIN_ROW, b"", b"{not json", PLAIN_ROW, {"messages": [{"role": "user", "content": "x"}]}]
    out = tmp_path / "out.jsonl"
    result = convert_file_to(jsonl(tmp_path, rows), out, opts(target))
    acc = result.accounting
    written, rejected = lines(out), lines(tmp_path / "out.rejects.jsonl")
    assert acc.inputs == 5 and acc.blank == 1 and acc.balanced
    assert len(written) == acc.outputs["output"] and len(rejected) == acc.rejected
    assert len(written) + len(rejected) + acc.blank == 5
    assert acc.extra["dropped_fields"]["messages[].weight"] == {"values": 4, "rows": 2}
    assert acc.extra["dropped_fields"]["id"] == {"values": 2, "rows": 2}
    assert any(note.startswith("dropped messages[].weight: 4 value(s) in 2 row(s)") for note in acc.notes)


@pytest.mark.parametrize("target", OUTPUT_TARGETS)
def test_strict_rejects_rows_with_fields_the_target_cannot_carry(tmp_path: Path, target: str) -> None:
    clean = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
    out = tmp_path / "out.jsonl"
    result = convert_file_to(jsonl(tmp_path, [PLAIN_ROW, clean]), out, opts(target, strict=True))
    assert result.accounting.outputs == {"output": 1}
    assert result.accounting.extra["dropped_fields"] == {}
    (reject,) = lines(tmp_path / "out.rejects.jsonl")
    assert reject["line"] == 1 and reject["reasons"] == ["dropped-field"]
    assert reject["findings"][0]["message"] == f"{target} cannot carry: id x1, messages[].weight x2"


def test_cli_convert_to_vertex_reports_dropped_fields_and_strict_needs_a_new_target(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = jsonl(tmp_path, [PLAIN_ROW])
    out = tmp_path / "out.jsonl"
    assert main(["convert", str(source), str(out), "--to", "vertex", "--output-format", "json"]) == 0
    summary = orjson.loads(capsys.readouterr().out)
    assert summary["dropped_fields"] == {"id": {"values": 1, "rows": 1},
                                         "messages[].weight": {"values": 2, "rows": 1}}
    # --strict on an OpenAI target: the `id` column it cannot carry makes the row a reject.
    assert main(["convert", str(source), str(tmp_path / "o2.jsonl"), "--to", "chat", "--strict"]) == 1
    assert "not-carried x1" in capsys.readouterr().err
    assert main(["convert", str(source), str(tmp_path / "o3.jsonl"), "--to", "trl", "--model", "gpt-4o"]) == 2
    assert "--model applies to the OpenAI targets" in capsys.readouterr().err


def test_samples_convert_with_every_line_accounted(tmp_path: Path) -> None:
    for sample in ("chat_valid", "tools_valid", "vision_valid", "dpo_valid", "completions_valid", "chat_broken"):
        path = SAMPLES / f"{sample}.jsonl"
        total = len(path.read_bytes().splitlines())
        for target in OUTPUT_TARGETS:
            out = tmp_path / f"{sample}.{target}.jsonl"
            rejects = tmp_path / f"{sample}.{target}.rejects.jsonl"
            acc = convert_file_to(path, out, opts(target), rejects_out=rejects).accounting
            assert len(lines(out)) + len(lines(rejects)) + acc.blank == total == acc.inputs, (sample, target)


ODD_ROWS: list[Any] = [
    {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "tool_calls": 3}]},
    {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "tool_calls": [3]}]},
    {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "tools": [1]},
    {"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "b"}]},
    {"messages": [7, {"role": "assistant", "content": "b"}]},
    {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": [1]}]},
    {"input": {"messages": [{"role": "user", "content": "a"}]}, "preferred_output": [{"content": "b"}],
     "non_preferred_output": [{"role": "assistant", "content": "c"}]},
]


@pytest.mark.parametrize("target", OUTPUT_TARGETS)
def test_malformed_rows_go_to_rejects_not_a_traceback(tmp_path: Path, target: str) -> None:
    out = tmp_path / "out.jsonl"
    result = convert_file_to(jsonl(tmp_path, ODD_ROWS), out, opts(target))
    assert result.accounting.inputs == len(ODD_ROWS) == result.accounting.rejected
    assert [r["line"] for r in lines(tmp_path / "out.rejects.jsonl")] == list(range(1, len(ODD_ROWS) + 1))
