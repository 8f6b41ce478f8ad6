"""schemas/ is generated from the pydantic models, and the models agree with the samples and rule cases."""

from __future__ import annotations

import tomllib
from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from ftprep.formats.chat import ChatRecord
from ftprep.formats.completion import CompletionRecord
from ftprep.formats.schemas import record_models, render
from tests.conftest import REPO, SAMPLES


@pytest.mark.parametrize("stem", sorted(record_models()))
def test_committed_schema_matches_the_model(stem: str) -> None:
    committed = REPO / "schemas" / f"{stem}.schema.json"
    assert committed.exists(), f"run `make schemas` to create {committed.name}"
    assert committed.read_bytes() == render(record_models()[stem]), f"{committed.name} drifted: run `make schemas`"


@pytest.mark.parametrize(("sample", "model"), [("chat_valid.jsonl", ChatRecord),
                                               ("completions_valid.jsonl", CompletionRecord)])
def test_valid_samples_validate_against_the_models(sample: str, model: type[ChatRecord | CompletionRecord]) -> None:
    for line in (SAMPLES / sample).read_bytes().splitlines():
        model.model_validate(orjson.loads(line))


SHAPE_CODES = ["FT201", "FT202", "FT203", "FT204", "FT205", "FT206", "FT207", "FT209", "FT210"]


def _records(code: str, kind: str) -> list[str]:
    case = tomllib.loads((Path(__file__).parents[1] / "rules" / "cases" / f"{code}.toml").read_text())
    return [e["record"] for e in case.get(kind, []) if "record" in e and e.get("method") is None]


@pytest.mark.parametrize("code", SHAPE_CODES)
def test_model_rejects_what_the_shape_rules_reject(code: str) -> None:
    for record in _records(code, "fail"):
        with pytest.raises(ValidationError):
            ChatRecord.model_validate(orjson.loads(record))


@pytest.mark.parametrize("code", SHAPE_CODES)
def test_model_accepts_what_the_shape_rules_accept(code: str) -> None:
    for record in _records(code, "pass"):
        ChatRecord.model_validate(orjson.loads(record))
