"""find_overlap on real train/validation pairs from the corpus (skipped when the corpus is absent)."""

from __future__ import annotations

from collections import Counter

import pytest

from ftprep.overlap_pass import find_overlap
from tests.conftest import CORPUS

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus not available")]


def test_countdown_rft_split_has_no_leak_despite_a_shared_instruction_template() -> None:
    folder = CORPUS / "microsoft-foundry-fine-tuning"
    report = find_overlap(folder / "countdown_train_100.jsonl", folder / "countdown_valid_15.jsonl",
                          within_near=True)
    assert (report.train_examples, report.validation_examples) == (100, 15)
    assert report.pairs == ()
    assert report.train_duplicates == report.validation_duplicates == ()


def test_azure_completions_split_leaks_two_near_duplicates() -> None:
    stem = CORPUS / "azure-samples-openai" / "generated_labels_context_switching_prepared"
    report = find_overlap(f"{stem}_train.jsonl", f"{stem}_valid.jsonl")
    assert [(p.kind, p.train_line, p.validation_line) for p in report.pairs] == [("near", 78, 10), ("near", 35, 19)]
    assert report.validation_examples == 45


def test_massivetexts_completions_and_chat_copies_differ_after_normalisation() -> None:
    # The same 16,081 examples as completions and as chat: the chat copy adds a system prompt and drops the
    # "Score:" suffix, so no record is equal even after normalisation; only near matches remain.
    folder = CORPUS / "massivetexts-ocsai"
    report = find_overlap(folder / "finetune-gt_main2_prepared_train.jsonl",
                          folder / "finetune-gt_main2_prepared_train_chat.jsonl")
    assert report.counts == {"exact": 0, "normalised": 0, "same-prompt": 0, "near": 1547}
    # All but one match the same line of the other file (the other matches an identical earlier copy).
    assert sum(p.train_line == p.validation_line for p in report.pairs) == 1546
    expected_dups = {"normalised": 130, "same-prompt": 253}
    assert Counter(d.kind for d in report.train_duplicates) == expected_dups
    assert Counter(d.kind for d in report.validation_duplicates) == expected_dups
