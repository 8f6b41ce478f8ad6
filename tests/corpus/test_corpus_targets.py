"""Every corpus file gets a verdict per target (``ftprep check FILE --target all``), pinned here.

A verdict changes only when a rule, a target's data or the file changes: a change here must be explained in the
commit. Reinforcement files are checked with ``--method reinforcement`` (as in test_corpus_verdicts.py); each
target checks with its default model, or with the first of its models that takes the file's method, format and
images (``no-model``: none of its models in ftprep's table does, e.g. reinforcement after OpenAI shut o4-mini).
"""

from __future__ import annotations

import datetime as dt

import pytest

from ftprep.matrix import check_targets
from tests.conftest import CORPUS
from tests.corpus.test_corpus_verdicts import VERDICTS

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this clone")]

TODAY = dt.date(2026, 12, 6)
METHODS = {v.path: v.method for v in VERDICTS}
# Verdicts in the order of ORDER: P passes, F fails, N no model of the target takes the file's job.
ORDER = ("openai", "azure", "fireworks", "together")
CODES = {"passes": "P", "fails": "F", "no-model": "N"}
EXPECTED = {
    "anthropic-cookbook/json_mode_dataset.jsonl": "FFFF",
    "axolotl/alpaca-fr.jsonl": "FFFF",
    "axolotl/conversation.json": "FFFF",
    "axolotl/conversation.missingturns.json": "FFFF",
    "azure-samples-openai/generated_labels_context_switching_prepared_train.jsonl": "PNNP",
    "azure-samples-openai/generated_labels_context_switching_prepared_valid.jsonl": "PNNP",
    "ghchen99-azure-openai-finetuning/example.jsonl": "FFFF",
    "ghchen99-azure-openai-finetuning/multi-turn-example.jsonl": "FFFF",
    "ghchen99-azure-openai-finetuning/vision-example.jsonl": "FFFF",
    "ishidahra01-azure-openai-fine-tuning/train_data.jsonl": "PPPP",
    "llamafactory/alpaca_en_demo.json": "FFFF",
    "llamafactory/alpaca_zh_demo.json": "FFFF",
    "llamafactory/c4_demo.jsonl": "FFFF",
    "llamafactory/dpo_zh_demo.json": "FFFF",
    "llamafactory/glaive_toolcall_en_demo.json": "FFFF",
    "llamafactory/glaive_toolcall_zh_demo.json": "FFFF",
    "llamafactory/identity.json": "FFFF",
    "llamafactory/kto_en_demo.json": "FFFF",
    "llamafactory/mllm_demo.json": "FFFF",
    "llamafactory/reason_tool_use_demo_50.jsonl": "FFFF",
    "llamafactory/v1_dpo_demo.jsonl": "FFFF",
    "llamafactory/v1_multimodal_demo.jsonl": "FFNF",
    "llamafactory/v1_sft_demo.jsonl": "FFFF",
    "massivetexts-ocsai/finetune-gt_main2_prepared_train.jsonl": "PNNP",
    "massivetexts-ocsai/finetune-gt_main2_prepared_train_chat.jsonl": "PPPP",
    "microsoft-foundry-fine-tuning/chat_validation.jsonl": "PPPP",
    "microsoft-foundry-fine-tuning/clause_matching_validation.jsonl": "NPFN",
    "microsoft-foundry-fine-tuning/countdown_train_100.jsonl": "NPFN",
    "microsoft-foundry-fine-tuning/countdown_train_raw.jsonl": "FFFF",
    "microsoft-foundry-fine-tuning/countdown_valid_15.jsonl": "NPFN",
    "microsoft-foundry-fine-tuning/medmcq_validation.jsonl": "NPFN",
    "microsoft-foundry-fine-tuning/qa.jsonl": "FFFF",
    "microsoft-foundry-fine-tuning/rft_eval_step_0_fix.jsonl": "FFFF",
    "microsoft-foundry-fine-tuning/rft_train.jsonl": "NPFN",
    "microsoft-foundry-fine-tuning/sft_test.jsonl": "PPPP",
    "microsoft-foundry-fine-tuning/stock_toolcall_training.jsonl": "PPPP",
    "microsoft-foundry-fine-tuning/training.jsonl": "PPNF",
    "microsoft-foundry-fine-tuning/valid_tool.jsonl": "NPFN",
    "microsoft-foundry-fine-tuning/validation.jsonl": "PPNP",
    "mistral-cookbook/dataset-import-example.jsonl": "FFFF",
    "mistral-finetune/test_data.jsonl": "FFPP",
    "mslearn-ai-studio/travel-finetune-hotel.jsonl": "PPPP",
    "mslearn-ai-studio/travel-finetune-validation.jsonl": "FFFF",
    "mslearn-ai-studio/travel-finetune.jsonl": "PPPP",
    "openai-cookbook/01-testing-example.jsonl": "FFFF",
    "openai-cookbook/drone_training.jsonl": "PPPP",
    "openai-cookbook/toy_chat_fine_tuning.jsonl": "FFFF",
    "together-cookbook/rewardbench2_dpo_val.jsonl": "PPNP",
    "together-cookbook/small_coqa_10.jsonl": "PPPP",
}


def test_every_corpus_file_has_a_verdict_per_target() -> None:
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*")
             if p.is_file() and p.suffix in (".jsonl", ".json", ".gz")}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_corpus_file_verdicts_per_target(path: str) -> None:
    matrix = check_targets([str(CORPUS / path)], "all", method=METHODS.get(path), today=TODAY)
    statuses = {row.target.name: row.status for row in matrix.rows}
    assert "".join(CODES[statuses[name]] for name in ORDER) == EXPECTED[path], statuses


def test_how_many_corpus_files_pass_per_target() -> None:
    """The tally reported in the issue note (49 files)."""
    passes = {name: sum(1 for verdicts in EXPECTED.values() if verdicts[i] == "P") for i, name in enumerate(ORDER)}
    assert passes == {"openai": 15, "azure": 18, "fireworks": 10, "together": 15}
