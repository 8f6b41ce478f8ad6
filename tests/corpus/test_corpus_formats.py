"""Corpus files in the tool-calling, vision, DPO and RFT formats get the verdicts of SOURCES.md, and a broken
variant of each fails at the right line and pointer (skipped when ../shared/corpus is absent).

The grader files the RFT rows are written for are fixtures here, in the shape SOURCES.md describes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest

from ftprep.check import CheckResult, check_files
from tests.conftest import CORPUS

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this clone")]

FOUNDRY = "microsoft-foundry-fine-tuning"
# o4-mini's job cutoff (2026-10-23) must not turn the RFT verdicts into lifecycle warnings.
BEFORE_CUTOFF = dt.date(2026, 6, 1)
MEDMCQ_GRADER = {"type": "string_check", "name": "medmcqa_answer", "input": "{{sample.output_text}}",
                 "reference": "{{item.reference_answer}}", "operation": "eq"}
CLAUSE_GRADER = {"type": "multi", "name": "clause", "calculate_output": "0.5 * text + 0.5 * label", "graders": {
    "text": {"type": "text_similarity", "name": "text", "input": "{{sample.output_json.extracted_text}}",
             "reference": "{{item.extracted_text}}", "evaluation_metric": "fuzzy_match"},
    "label": {"type": "string_check", "name": "label", "input": "{{sample.output_json.clause_type}}",
              "reference": "{{item.clause_type}}", "operation": "eq"}}}
COUNTDOWN_GRADER = {"type": "python", "name": "countdown", "source": (
    "import json\n\ndef grade(sample, item):\n    nums = json.loads(item['nums'])\n"
    "    answer = json.loads(sample['output_text'])\n    return float(answer['result'] == item['target'])\n")}


def _check(path: Path | str, **kwargs: Any) -> CheckResult:
    return check_files([str(path)], **kwargs)


def _errors(result: CheckResult) -> list[tuple[str, int | None, str | None]]:
    return [(f.code, f.line, f.pointer) for f in result.findings if f.severity.value == "error"]


def _grader(tmp_path: Path, grader: dict[str, Any]) -> str:
    path = tmp_path / "grader.json"
    path.write_bytes(orjson.dumps(grader))
    return str(path)


@pytest.mark.parametrize("name", [f"{FOUNDRY}/validation.jsonl", "together-cookbook/rewardbench2_dpo_val.jsonl"])
@pytest.mark.parametrize("method", ["dpo", None])
def test_dpo_files_pass(name: str, method: str | None) -> None:
    result = _check(CORPUS / name, method=method)
    assert (result.files[0].method, _errors(result)) == ("dpo", [])


@pytest.mark.parametrize(("name", "grader"), [
    ("countdown_train_100.jsonl", COUNTDOWN_GRADER),
    ("countdown_valid_15.jsonl", COUNTDOWN_GRADER),
    ("clause_matching_validation.jsonl", CLAUSE_GRADER),
])
def test_rft_files_pass_on_o4_mini_with_their_grader(name: str, grader: dict[str, Any], tmp_path: Path) -> None:
    result = _check(CORPUS / FOUNDRY / name, method="reinforcement", model="o4-mini", today=BEFORE_CUTOFF,
                    grader=_grader(tmp_path, grader))
    # Warnings are allowed: clause_matching repeats contracts with another clause type (FT525).
    assert _errors(result) == []


def test_medmcq_fails_with_its_grader_on_every_row(tmp_path: Path) -> None:
    result = _check(CORPUS / FOUNDRY / "medmcq_validation.jsonl", method="reinforcement", model="o4-mini",
                    today=BEFORE_CUTOFF, grader=_grader(tmp_path, MEDMCQ_GRADER))
    missing = [f for f in result.findings if f.code == "FT262"]
    assert {f.code for f in result.findings if f.severity.value == "error"} == {"FT262"}
    assert [f.line for f in missing] == list(range(1, 6151))
    assert "'reference_answer'" in missing[0].message


def test_medmcq_passes_without_a_grader() -> None:
    result = _check(CORPUS / FOUNDRY / "medmcq_validation.jsonl", method="reinforcement", model="o4-mini",
                    today=BEFORE_CUTOFF)
    assert _errors(result) == []


@pytest.mark.parametrize("name", ["openai-cookbook/drone_training.jsonl", f"{FOUNDRY}/stock_toolcall_training.jsonl",
                                  f"{FOUNDRY}/sft_test.jsonl"])
def test_tool_calling_files_pass(name: str) -> None:
    assert _errors(_check(CORPUS / name)) == []


def test_remote_image_file_passes_on_a_vision_model_with_one_note_per_example() -> None:
    result = _check(CORPUS / FOUNDRY / "training.jsonl", model="gpt-4o")
    assert _errors(result) == []
    assert {(f.code, f.severity.value) for f in result.findings} == {("FT346", "info")}
    assert len(result.findings) == 100


def test_remote_image_file_fails_on_a_model_without_vision() -> None:
    result = _check(CORPUS / FOUNDRY / "training.jsonl", model="gpt-4o-mini")
    assert _errors(result) == [("FT611", None, None)]


def _variant(tmp_path: Path, name: str, line: int, change: Any) -> Path:
    """A copy of a corpus file with record ``line`` changed in place (derived, in tmp_path)."""
    rows = (CORPUS / name).read_bytes().splitlines()
    record = orjson.loads(rows[line - 1])
    change(record)
    rows[line - 1] = orjson.dumps(record)
    path = tmp_path / Path(name).name
    path.write_bytes(b"\n".join(rows) + b"\n")
    return path


def test_tool_call_answered_twice_fails_at_the_second_answer(tmp_path: Path) -> None:
    def answer_twice(record: dict[str, Any]) -> None:
        messages = record["messages"]
        messages.insert(8, dict(messages[7]))  # message 7 answers the call of message 6
    path = _variant(tmp_path, f"{FOUNDRY}/sft_test.jsonl", 3, answer_twice)
    assert _errors(_check(path)) == [("FT322", 3, "/messages/8")]


def test_arguments_as_an_object_fail_at_the_arguments(tmp_path: Path) -> None:
    def unserialise(record: dict[str, Any]) -> None:
        function = record["messages"][2]["tool_calls"][0]["function"]
        function["arguments"] = orjson.loads(function["arguments"])
    path = _variant(tmp_path, "openai-cookbook/drone_training.jsonl", 5, unserialise)
    assert _errors(_check(path)) == [("FT237", 5, "/messages/2/tool_calls/0/function/arguments")]


def test_image_in_an_assistant_message_fails_at_the_part(tmp_path: Path) -> None:
    def move_image(record: dict[str, Any]) -> None:
        record["messages"][1]["content"].append(record["messages"][0]["content"].pop(1))
    path = _variant(tmp_path, f"{FOUNDRY}/training.jsonl", 12, move_image)
    assert _errors(_check(path, model="gpt-4o")) == [("FT340", 12, "/messages/1/content/1")]


def test_dpo_row_without_non_preferred_output_fails_at_the_row(tmp_path: Path) -> None:
    path = _variant(tmp_path, f"{FOUNDRY}/validation.jsonl", 7, lambda record: record.pop("non_preferred_output"))
    assert _errors(_check(path, method="dpo")) == [("FT250", 7, "")]
