"""Every file of ../shared/corpus gets the verdict SOURCES.md gives it (skipped when the corpus is absent).

Arguments are what a user would pass for that file's format: completions files are checked for a
completions model, vision rows for a vision model, reinforcement rows with --method reinforcement on o4-mini.
Where our verdict differs from SOURCES.md the entry says why in ``note``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest

from ftprep.check import check_files
from tests.conftest import CORPUS

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this clone")]


@dataclass(frozen=True)
class Verdict:
    path: str
    passes: bool
    model: str | None = None
    method: str | None = None
    must_include: tuple[str, ...] = ()
    note: str = ""


COMPLETIONS = "babbage-002"
VERDICTS = [
    Verdict("openai-cookbook/toy_chat_fine_tuning.jsonl", False, must_include=("FT500",)),
    Verdict("openai-cookbook/drone_training.jsonl", True),
    Verdict("openai-cookbook/01-testing-example.jsonl", False, must_include=("FT012", "FT101")),
    Verdict("microsoft-foundry-fine-tuning/validation.jsonl", True),  # DPO, method inferred from the rows
    Verdict("microsoft-foundry-fine-tuning/clause_matching_validation.jsonl", True, "o4-mini", "reinforcement"),
    Verdict("microsoft-foundry-fine-tuning/training.jsonl", True, "gpt-4o"),
    Verdict("microsoft-foundry-fine-tuning/stock_toolcall_training.jsonl", True),
    Verdict("microsoft-foundry-fine-tuning/chat_validation.jsonl", True),
    Verdict("microsoft-foundry-fine-tuning/countdown_train_100.jsonl", True, "o4-mini", "reinforcement"),
    Verdict("microsoft-foundry-fine-tuning/countdown_valid_15.jsonl", True, "o4-mini", "reinforcement"),
    Verdict("microsoft-foundry-fine-tuning/countdown_train_raw.jsonl", False, must_include=("FT200",)),
    Verdict("microsoft-foundry-fine-tuning/valid_tool.jsonl", True, "o4-mini", "reinforcement",
            note="SOURCES.md: yes on Azure agentic RFT, OpenAI unverified; tools in RFT rows are accepted"),
    Verdict("microsoft-foundry-fine-tuning/rft_train.jsonl", True, "o4-mini", "reinforcement",
            note="SOURCES.md: yes on Azure RFT, OpenAI unverified; tools in RFT rows are accepted"),
    Verdict("microsoft-foundry-fine-tuning/medmcq_validation.jsonl", True, "o4-mini", "reinforcement",
            note="SOURCES.md says NO in practice because its grader reads {{item.reference_answer}}: the rows "
                 "are valid RFT rows; with that grader (--grader) every row fails, FT262, see "
                 "tests/corpus/test_corpus_formats.py"),
    Verdict("microsoft-foundry-fine-tuning/sft_test.jsonl", True),
    Verdict("microsoft-foundry-fine-tuning/rft_eval_step_0_fix.jsonl", False, must_include=("FT200",)),
    Verdict("microsoft-foundry-fine-tuning/qa.jsonl", False, must_include=("FT012", "FT200")),
    Verdict("llamafactory/alpaca_en_demo.json", False, must_include=("FT012", "FT101")),
    Verdict("llamafactory/alpaca_zh_demo.json", False, must_include=("FT012", "FT101")),
    Verdict("llamafactory/identity.json", False, must_include=("FT012", "FT101")),
    Verdict("llamafactory/glaive_toolcall_en_demo.json", False, must_include=("FT012", "FT101")),
    Verdict("llamafactory/glaive_toolcall_zh_demo.json", False, must_include=("FT012", "FT101")),
    Verdict("llamafactory/dpo_zh_demo.json", False, must_include=("FT012", "FT101")),
    Verdict("llamafactory/kto_en_demo.json", False, must_include=("FT012", "FT101")),
    Verdict("llamafactory/mllm_demo.json", False, must_include=("FT012", "FT101")),
    Verdict("llamafactory/v1_sft_demo.jsonl", False, must_include=("FT012", "FT204", "FT206")),
    Verdict("llamafactory/v1_dpo_demo.jsonl", False, must_include=("FT012", "FT200")),
    Verdict("llamafactory/v1_multimodal_demo.jsonl", False, must_include=("FT012", "FT206")),
    Verdict("llamafactory/reason_tool_use_demo_50.jsonl", False, must_include=("FT012", "FT206")),
    Verdict("llamafactory/c4_demo.jsonl", False, must_include=("FT200",)),
    Verdict("azure-samples-openai/generated_labels_context_switching_prepared_train.jsonl", True, COMPLETIONS),
    Verdict("azure-samples-openai/generated_labels_context_switching_prepared_valid.jsonl", True, COMPLETIONS),
    Verdict("azure-samples-openai/generated_labels_context_switching_prepared_train.jsonl", False,
            must_include=("FT600",), note="completions for a chat model"),
    Verdict("mslearn-ai-studio/travel-finetune.jsonl", True),
    Verdict("mslearn-ai-studio/travel-finetune-hotel.jsonl", True),
    Verdict("mslearn-ai-studio/travel-finetune-validation.jsonl", False, must_include=("FT208",)),
    Verdict("together-cookbook/rewardbench2_dpo_val.jsonl", True),
    Verdict("together-cookbook/small_coqa_10.jsonl", True),
    Verdict("mistral-cookbook/dataset-import-example.jsonl", False, must_include=("FT500", "FT208")),
    Verdict("mistral-finetune/test_data.jsonl", False, must_include=("FT500",)),
    Verdict("ishidahra01-azure-openai-fine-tuning/train_data.jsonl", True),
    Verdict("ghchen99-azure-openai-finetuning/example.jsonl", False, must_include=("FT012", "FT101")),
    Verdict("ghchen99-azure-openai-finetuning/multi-turn-example.jsonl", False, must_include=("FT012", "FT101")),
    Verdict("ghchen99-azure-openai-finetuning/vision-example.jsonl", False, must_include=("FT012", "FT101")),
    Verdict("anthropic-cookbook/json_mode_dataset.jsonl", False, must_include=("FT012", "FT209")),
    Verdict("axolotl/conversation.json", False, must_include=("FT012", "FT101")),
    Verdict("axolotl/conversation.missingturns.json", False, must_include=("FT012", "FT101")),
    Verdict("axolotl/alpaca-fr.jsonl", False, must_include=("FT012", "FT200")),
    Verdict("massivetexts-ocsai/finetune-gt_main2_prepared_train.jsonl", True, COMPLETIONS),
    Verdict("massivetexts-ocsai/finetune-gt_main2_prepared_train_chat.jsonl", True),
]


# Files checked without --method whose rows are reinforcement rows or prompts alone: FT012 says so once.
UNANSWERED = ["microsoft-foundry-fine-tuning/countdown_train_100.jsonl",
              "microsoft-foundry-fine-tuning/rft_train.jsonl",
              "microsoft-foundry-fine-tuning/medmcq_validation.jsonl"]


@pytest.mark.parametrize("path", UNANSWERED)
def test_reinforcement_rows_without_the_method_get_one_diagnosis(path: str) -> None:
    result = check_files([str(CORPUS / path)])
    diagnoses = [f for f in result.findings if f.code == "FT012"]
    assert len(diagnoses) == 1 and "--method reinforcement --model o4-mini" in diagnoses[0].fix
    line_errors = Counter(f.code for f in result.findings if f.line is not None and f.severity.value == "error")
    assert max(line_errors.values()) <= 3


@pytest.mark.parametrize("verdict", VERDICTS, ids=lambda v: f"{v.path}:{v.model or 'default'}")
def test_corpus_verdict(verdict: Verdict) -> None:
    result = check_files([str(CORPUS / verdict.path)], model=verdict.model, method=verdict.method)
    errors = sorted({f"{f.code}@{f.line}" for f in result.findings if f.severity.value == "error"})[:10]
    assert (result.errors == 0) == verdict.passes, errors
    codes = {f.code for f in result.findings}
    assert set(verdict.must_include) <= codes, codes


def test_every_corpus_file_has_a_verdict() -> None:
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.json*")}
    covered = {v.path for v in VERDICTS}
    assert files - covered == set()
