"""The DPO and RFT pydantic models agree with the samples, and SFT/DPO mixes get clear job findings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from ftprep.check import check_files
from ftprep.formats.preference import PreferenceRecord
from ftprep.formats.reinforcement import ReinforcementRecord
from tests.conftest import SAMPLES, TODAY

DPO_ROW: dict[str, Any] = {
    "input": {"messages": [{"role": "user", "content": "Capital of France?"}]},
    "preferred_output": [{"role": "assistant", "content": "Paris."}],
    "non_preferred_output": [{"role": "assistant", "content": "Lyon."}],
}
SFT_ROW = {"messages": [{"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "Paris."}]}


def test_dpo_sample_validates_against_the_model() -> None:
    for line in (SAMPLES / "dpo_valid.jsonl").read_bytes().splitlines():
        PreferenceRecord.model_validate(orjson.loads(line))


def test_rft_sample_validates_against_the_model() -> None:
    for line in (SAMPLES / "rft_valid.jsonl").read_bytes().splitlines():
        record = ReinforcementRecord.model_validate(orjson.loads(line))
        assert record.model_extra is not None and set(record.model_extra) == {"reference_answer", "clause_id"}


def test_preference_model_rejects_a_row_without_non_preferred_output() -> None:
    row = {k: v for k, v in DPO_ROW.items() if k != "non_preferred_output"}
    with pytest.raises(ValidationError, match="non_preferred_output"):
        PreferenceRecord.model_validate(row)


def test_preference_model_rejects_two_preferred_messages() -> None:
    row = {**DPO_ROW, "preferred_output": DPO_ROW["preferred_output"] * 2}
    with pytest.raises(ValidationError, match="preferred_output"):
        PreferenceRecord.model_validate(row)


def test_reinforcement_model_rejects_an_assistant_answer() -> None:
    with pytest.raises(ValidationError):
        ReinforcementRecord.model_validate(SFT_ROW)


def test_reinforcement_model_takes_a_developer_message() -> None:
    row = {"messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "2+2?"}],
           "reference_answer": "4"}
    assert ReinforcementRecord.model_validate(row).messages[0].role == "developer"


def _codes(path: Path, method: str | None = None) -> list[tuple[str, int | None, str]]:
    # The rows repeat one prompt on purpose: the within-file duplicate rules (FT524-FT527) are not under test.
    result = check_files([str(path)], method=method, min_examples=1, today=TODAY, ignore=["FT52"])
    return [(f.code, f.line, f.message) for f in result.findings]


def test_sft_file_in_a_dpo_job_is_a_format_error(write_lines: Callable[..., Path]) -> None:
    path = write_lines([orjson.dumps(SFT_ROW)])
    assert _codes(path, method="dpo") == [
        ("FT600", None, "file is in chat format, but a DPO job on gpt-4o-mini takes DPO (preference)"),
    ]


def test_dpo_file_in_an_sft_job_is_a_format_error(write_lines: Callable[..., Path]) -> None:
    path = write_lines([orjson.dumps(DPO_ROW)])
    assert _codes(path, method="supervised") == [
        ("FT600", None, "file is in DPO (preference) format, but a supervised job on gpt-4o-mini takes chat"),
    ]


def test_sft_row_in_a_dpo_file_is_a_mixed_format_error(write_lines: Callable[..., Path]) -> None:
    path = write_lines([orjson.dumps(DPO_ROW), orjson.dumps(SFT_ROW), orjson.dumps({**DPO_ROW, "input": {
        "messages": [{"role": "user", "content": "Capital of Italy?"}]}})])
    assert _codes(path) == [("FT503", 2, "chat record in a DPO (preference) file")]


def test_dpo_row_in_an_sft_file_is_a_mixed_format_error(write_lines: Callable[..., Path]) -> None:
    path = write_lines([orjson.dumps(SFT_ROW), orjson.dumps(DPO_ROW)])
    assert _codes(path, method="supervised") == [("FT503", 2, "DPO (preference) record in a chat file")]
