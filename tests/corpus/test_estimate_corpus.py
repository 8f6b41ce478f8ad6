"""Every chat-format corpus file gets an estimate (skipped when ../shared/corpus is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftprep.estimation import estimate

CORPUS = (Path(__file__).resolve().parents[2].parent / "shared" / "corpus").resolve()

# (file, records) for the chat, tools, vision and RFT files of SOURCES.md: records as counted there.
CHAT_FILES = [
    ("openai-cookbook/toy_chat_fine_tuning.jsonl", 5),
    ("openai-cookbook/drone_training.jsonl", 103),
    ("microsoft-foundry-fine-tuning/medmcq_validation.jsonl", 6150),
    ("microsoft-foundry-fine-tuning/clause_matching_validation.jsonl", 40),
    ("microsoft-foundry-fine-tuning/training.jsonl", 100),
    ("microsoft-foundry-fine-tuning/stock_toolcall_training.jsonl", 86),
    ("microsoft-foundry-fine-tuning/chat_validation.jsonl", 50),
    ("microsoft-foundry-fine-tuning/valid_tool.jsonl", 10),
    ("microsoft-foundry-fine-tuning/countdown_train_100.jsonl", 100),
    ("microsoft-foundry-fine-tuning/countdown_valid_15.jsonl", 15),
    ("microsoft-foundry-fine-tuning/sft_test.jsonl", 103),
    ("microsoft-foundry-fine-tuning/rft_train.jsonl", 10),
    ("mslearn-ai-studio/travel-finetune.jsonl", 10),
    ("mslearn-ai-studio/travel-finetune-hotel.jsonl", 10),
    ("mslearn-ai-studio/travel-finetune-validation.jsonl", 5),
    ("together-cookbook/small_coqa_10.jsonl", 10),
    ("mistral-cookbook/dataset-import-example.jsonl", 2),
    ("mistral-finetune/test_data.jsonl", 3),
    ("ishidahra01-azure-openai-fine-tuning/train_data.jsonl", 63),
    ("massivetexts-ocsai/finetune-gt_main2_prepared_train_chat.jsonl", 16081),
]

pytestmark = [pytest.mark.corpus, pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus not present")]


@pytest.mark.parametrize(("name", "records"), CHAT_FILES)
def test_chat_file_gets_an_estimate(name: str, records: int) -> None:
    result = estimate(str(CORPUS / name), model="gpt-4o-mini")
    train = result.train
    assert (train.kind, train.examples) == ("chat", records)
    assert train.total_tokens > 0 and result.trained_tokens == result.n_epochs * result.billing_tokens
    assert result.cost_usd == pytest.approx(result.trained_tokens / 1e6 * 3.0)


def test_remote_images_are_marked_estimated() -> None:
    result = estimate(str(CORPUS / "microsoft-foundry-fine-tuning/training.jsonl"), model="gpt-4o")
    assert result.train.images_estimated == 100


def test_rft_file_on_o4_mini_is_hourly() -> None:
    result = estimate(str(CORPUS / "microsoft-foundry-fine-tuning/countdown_train_100.jsonl"), model="o4-mini",
                      method="reinforcement")
    assert result.cost_usd is None and result.notes[0].startswith("o4-mini-2025-04-16 with method reinforcement")
