"""The bundled samples: valid ones get no finding; the broken one gets exactly one finding per defect."""

from __future__ import annotations

import pytest

from ftprep.check import check_files
from tests.conftest import SAMPLES, TODAY

# samples/chat_broken.jsonl, one typical mistake per line: (code, line, pointer)
BROKEN_DEFECTS = [
    ("FT204", 2, "/messages/0/contents"),       # misspelt content key
    ("FT203", 3, "/messages/0/role"),           # role from another tool
    ("FT207", 4, "/messages/1/weight"),         # weight 0.5
    ("FT208", 5, "/messages"),                  # no assistant answer
    ("FT101", 6, None),                         # trailing comma
    ("FT004", 7, None),                         # blank line between records
    ("FT209", 8, "/id"),                        # metadata key at the top level
    ("FT205", 9, "/messages/0/content"),        # null user content
    ("FT300", 10, "/messages/1/content"),       # whitespace-only answer
    ("FT104", 11, "/messages/1/content"),       # duplicated key
    ("FT503", 12, ""),                          # a completions row in a chat file
    ("FT502", 13, None),                        # exact repeat of line 1
    ("FT103", 14, "/score"),                    # NaN
    ("FT209", 14, "/score"),                    # ... in a key that is not allowed either
    ("FT402", 15, "/messages/1/content"),       # special-token text
]


def test_broken_sample_gets_one_finding_per_defect() -> None:
    result = check_files([str(SAMPLES / "chat_broken.jsonl")], today=TODAY)
    assert [(f.code, f.line, f.pointer) for f in result.findings] == BROKEN_DEFECTS


@pytest.mark.parametrize(("sample", "model", "method"), [
    ("chat_valid.jsonl", None, None),
    ("completions_valid.jsonl", "davinci-002", None),
])
def test_valid_samples_have_no_findings(sample: str, model: str | None, method: str | None) -> None:
    result = check_files([str(SAMPLES / sample)], model=model, method=method, today=TODAY)
    assert result.findings == []


@pytest.mark.parametrize(("sample", "target", "model", "method", "openai_codes"), [
    # Together's own features (a top-level sample weight, reasoning traces) are unknown keys to OpenAI.
    ("together_valid.jsonl", "together", None, None, {"FT204", "FT209"}),
    # Fireworks' reinforcement rows carry ground_truth; OpenAI has no reinforcement model left.
    ("fireworks_rft_valid.jsonl", "fireworks", "qwen3-4b", "reinforcement", {"FT610"}),
])
def test_target_samples_pass_their_target_only(sample: str, target: str, model: str | None, method: str | None,
                                                openai_codes: set[str]) -> None:
    result = check_files([str(SAMPLES / sample)], target=target, model=model, method=method, today=TODAY)
    assert result.findings == []
    result = check_files([str(SAMPLES / sample)], method=method, today=TODAY)
    assert {f.code for f in result.findings if f.severity.value == "error"} == openai_codes
