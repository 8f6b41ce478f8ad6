"""Real corpus files convert to trl, vertex and Bedrock with every line accounted for and exact dropped-field
counts (skipped without ../shared/corpus)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from ftprep.transform.convert import ConvertOptions
from ftprep.transform.outputs import (
    OUTPUT_TARGETS,
    convert_file_to,
    validate_haiku,
    validate_nova,
    validate_trl,
    validate_vertex,
)
from tests.conftest import CORPUS

CHAT_FILES = [
    "openai-cookbook/drone_training.jsonl",
    "openai-cookbook/toy_chat_fine_tuning.jsonl",
    "microsoft-foundry-fine-tuning/stock_toolcall_training.jsonl",
    "microsoft-foundry-fine-tuning/training.jsonl",
    "microsoft-foundry-fine-tuning/countdown_valid_15.jsonl",
    "together-cookbook/small_coqa_10.jsonl",
]
VALIDATORS = {"trl": validate_trl, "vertex": validate_vertex, "bedrock-nova": validate_nova,
              "bedrock-haiku": validate_haiku}
CHAT_KEYS = {"messages", "tools", "functions", "system", "parallel_tool_calls"}


def corpus(name: str) -> Path:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"{path} is not available (the shared corpus sits next to the repository)")
    return path


def read(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def expected_drops(rows: list[dict[str, Any]], target: str) -> Counter[str]:
    """What the target cannot carry, counted independently from the written rows' sources."""
    counts: Counter[str] = Counter()
    for row in rows:
        counts.update(key for key in row if key not in CHAT_KEYS)
        counts["parallel_tool_calls"] += "parallel_tool_calls" in row
        counts["messages[].weight"] += sum("weight" in m for m in row["messages"])
        counts["messages[].name"] += sum("name" in m for m in row["messages"])
        # No image of these files is on gs:// or s3://, so every target drops them all.
        counts["content part image_url"] += sum(
            p.get("type") == "image_url" for m in row["messages"] if isinstance(m.get("content"), list)
            for p in m["content"])
        if target in ("bedrock-nova", "bedrock-haiku") and row.get("tools"):
            counts["tools"] += len(row["tools"])
    return +counts


@pytest.mark.parametrize("target", OUTPUT_TARGETS)
@pytest.mark.parametrize("name", CHAT_FILES)
def test_corpus_chat_file_accounted_validated_and_drops_exact(tmp_path: Path, name: str, target: str) -> None:
    path = corpus(name)
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    acc = convert_file_to(path, out, ConvertOptions(to=target), rejects_out=rejects).accounting
    raw = path.read_bytes().splitlines()
    written, rejected = read(out), read(rejects)
    assert acc.inputs == len(raw) and acc.balanced
    assert len(written) + len(rejected) + acc.blank == len(raw)
    assert all(VALIDATORS[target](row) == [] for row in written)
    rejected_lines = {r["line"] for r in rejected}
    sources = [orjson.loads(line) for number, line in enumerate(raw, 1)
               if line.strip() and number not in rejected_lines]
    want = expected_drops(sources, target)
    got = {field: n["values"] for field, n in acc.extra["dropped_fields"].items()}
    assert got == dict(want)


def test_corpus_tool_file_keeps_every_tool_call_for_trl_and_vertex(tmp_path: Path) -> None:
    path = corpus("openai-cookbook/drone_training.jsonl")
    calls = sum(len(m.get("tool_calls") or []) for row in read(path) for m in row["messages"])
    trl, vertex = tmp_path / "trl.jsonl", tmp_path / "vertex.jsonl"
    convert_file_to(path, trl, ConvertOptions(to="trl"))
    convert_file_to(path, vertex, ConvertOptions(to="vertex"))
    trl_calls = [c for row in read(trl) for m in row["messages"] for c in m.get("tool_calls", [])]
    vertex_calls = [p for row in read(vertex) for turn in row["contents"] for p in turn["parts"]
                    if "functionCall" in p]
    assert calls > 0 and len(trl_calls) == len(vertex_calls) == calls
    assert all(isinstance(c["function"]["arguments"], dict) for c in trl_calls)
    assert all(isinstance(p["functionCall"]["args"], dict) for p in vertex_calls)


def test_corpus_kto_labels_are_counted_and_image_placeholders_are_nova_reserved(tmp_path: Path) -> None:
    kto = corpus("llamafactory/kto_en_demo.json")
    # The 150 label=false rows (bad answers) are set aside, not made training targets (--kto drop).
    acc = convert_file_to(kto, tmp_path / "kto.jsonl", ConvertOptions(to="trl")).accounting
    assert (acc.outputs, acc.set_aside, dict(acc.reasons)) == ({"output": 150}, 150, {"kto-label-false": 150})
    assert acc.extra["dropped_fields"] == {"label": {"values": 150, "rows": 150}}
    acc = convert_file_to(kto, tmp_path / "kto_all.jsonl", ConvertOptions(to="trl", kto="keep")).accounting
    assert acc.extra["dropped_fields"] == {"label": {"values": 300, "rows": 300}}
    mllm = corpus("llamafactory/mllm_demo.json")
    acc = convert_file_to(mllm, tmp_path / "mllm.jsonl", ConvertOptions(to="bedrock-nova")).accounting
    assert acc.outputs == {"output": 0} and acc.reasons == {"nova-reserved-word": 6}


def test_corpus_preference_file_to_trl_and_haiku(tmp_path: Path) -> None:
    path = corpus("together-cookbook/rewardbench2_dpo_val.jsonl")
    acc = convert_file_to(path, tmp_path / "trl.jsonl", ConvertOptions(to="trl")).accounting
    assert acc.outputs == {"output": 356} and acc.extra["dropped_fields"] == {}
    assert all(set(row) == {"prompt", "chosen", "rejected"} for row in read(tmp_path / "trl.jsonl"))
    acc = convert_file_to(path, tmp_path / "haiku.jsonl", ConvertOptions(to="bedrock-haiku")).accounting
    assert acc.extra["dropped_fields"] == {"non_preferred_output": {"values": 356, "rows": 356}}
