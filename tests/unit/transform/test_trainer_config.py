"""trainer-config: Axolotl and LLaMA-Factory snippets that read an OpenAI file as it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from ftprep.cli import main
from ftprep.errors import ConfigError
from ftprep.transform.trainer_config import render_config, render_yaml, survey_file, trainer_config

SAMPLES = Path(__file__).parents[3] / "samples"
WEIGHTED = {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "a"},
                         {"role": "assistant", "content": "b", "weight": 0}, {"role": "user", "content": "c"},
                         {"role": "assistant", "content": "d", "weight": 1}]}
PLAIN = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
TWO_USERS = {"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "a2"},
                          {"role": "assistant", "content": "b"}]}
TOOLS = {"messages": [
    {"role": "user", "content": "w?"},
    {"role": "assistant",
     "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
    {"role": "tool", "tool_call_id": "c", "content": "1"}, {"role": "tool", "tool_call_id": "c", "content": "2"},
    {"role": "assistant", "content": "ok"}], "tools": [{"type": "function", "function": {"name": "f"}}]}


def jsonl(tmp_path: Path, rows: list[dict[str, Any]], name: str = "train.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def test_survey_counts_features(tmp_path: Path) -> None:
    features = survey_file(jsonl(tmp_path, [WEIGHTED, PLAIN, TWO_USERS, TOOLS]))
    assert (features.rows, features.chat, features.weights, features.zero_weights) == (4, 4, 2, 1)
    assert (features.tools, features.tool_calls, features.system, features.not_alternating) == (1, 1, 1, 1)


def test_axolotl_snippet_parses_as_yaml_and_maps_weight_only_when_used(tmp_path: Path) -> None:
    weighted = jsonl(tmp_path, [WEIGHTED, PLAIN])
    snippet, _ = trainer_config(weighted, "axolotl")
    parsed = yaml.safe_load(render_config(snippet, "axolotl"))
    assert parsed == snippet
    (dataset,) = parsed["datasets"]
    assert dataset["type"] == "chat_template" and dataset["field_messages"] == "messages"
    assert dataset["message_field_training"] == "weight" and dataset["path"] == "train.jsonl"
    assert dataset["roles"] == {"system": ["system"], "user": ["user"], "assistant": ["assistant"]}
    plain, _ = trainer_config(jsonl(tmp_path, [PLAIN], "plain.jsonl"), "axolotl")
    assert "message_field_training" not in plain["datasets"][0]


def test_axolotl_with_tools_maps_the_tool_role_and_warns_about_string_arguments(tmp_path: Path) -> None:
    snippet, cannot = trainer_config(jsonl(tmp_path, [TOOLS]), "axolotl")
    assert snippet["datasets"][0]["roles"]["tool"] == ["tool"]
    assert snippet["datasets"][0]["field_tools"] == "tools"
    assert any("arguments are JSON strings" in sentence for sentence in cannot)


def test_llamafactory_entry_uses_openai_formatting_and_says_what_it_drops(tmp_path: Path) -> None:
    snippet, cannot = trainer_config(jsonl(tmp_path, [WEIGHTED, TWO_USERS, TOOLS]), "llamafactory", name="mine")
    entry = json.loads(render_config(snippet, "llamafactory"))["mine"]
    assert entry == {"file_name": "train.jsonl", "formatting": "openai",
                     "columns": {"messages": "messages", "tools": "tools"},
                     "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                              "assistant_tag": "assistant", "system_tag": "system", "observation_tag": "tool"}}
    assert any(s.startswith("2 message weight(s) (1 of them 0)") for s in cannot)
    assert any(s.startswith("1 row(s) do not alternate") for s in cannot)


def test_consecutive_tool_results_count_as_one_turn_for_llamafactory(tmp_path: Path) -> None:
    assert survey_file(jsonl(tmp_path, [TOOLS])).not_alternating == 0


def test_a_file_without_chat_rows_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no OpenAI chat rows"):
        trainer_config(jsonl(tmp_path, [{"prompt": "a", "completion": "b"}]), "axolotl")


def test_render_yaml_nested_lists_of_mappings() -> None:
    value = {"a": [{"b": 1, "c": ["x", "y"]}, {"d": {"e": "f: g"}}], "h": True}
    assert yaml.safe_load(render_yaml(value)) == value


def test_cli_writes_atomically_refuses_overwrite_and_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = SAMPLES / "chat_valid.jsonl"
    out = tmp_path / "axolotl.yaml"
    assert main(["trainer-config", str(source), "--trainer", "axolotl", "-o", str(out)]) == 0
    assert yaml.safe_load(out.read_text())["datasets"][0]["path"] == "chat_valid.jsonl"
    assert "ftprep: axolotl:" in capsys.readouterr().err
    assert main(["trainer-config", str(source), "--trainer", "axolotl", "-o", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    copy = jsonl(tmp_path, [PLAIN], "in.jsonl")
    assert main(["trainer-config", str(copy), "--trainer", "llamafactory", "-o", str(copy), "--force"]) == 2
    assert copy.read_bytes() == orjson.dumps(PLAIN) + b"\n"
    assert main(["trainer-config", str(tmp_path / "missing.jsonl"), "--trainer", "axolotl"]) == 2
