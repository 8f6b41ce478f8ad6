"""The count-min sketch of shingles: buffered counting gives exactly the per-record counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftprep.overlap.near import ShingleCounts, Template, shingle_hashes

WORDS = st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h", "é", "東京"]), max_size=12),
                 max_size=40)


def _reference(records: list[list[str]]) -> np.ndarray:
    """The sketch counted one record at a time with np.add.at (the definition)."""
    counts = ShingleCounts()
    table = np.zeros_like(counts._table)
    for words in records:
        for row, cells in zip(table, counts._cells(shingle_hashes(words)), strict=True):
            np.add.at(row, cells.astype(np.intp), 1)
    return table


@settings(max_examples=60, deadline=None)
@given(records=WORDS, flush=st.sampled_from([1, 7, 1 << 18]))
def test_buffered_counts_equal_per_record_counts(records: list[list[str]], flush: int,
                                                 ) -> None:
    counts = ShingleCounts()
    counts.FLUSH_HASHES = flush  # type: ignore[misc]
    for words in records:
        counts.add(words)
    probe = np.unique(np.concatenate([shingle_hashes(w) for w in records] or [np.zeros(0, dtype=np.uint64)]))
    estimated = counts.estimate(probe)  # flushes what is pending
    reference = _reference(records)
    assert np.array_equal(counts._table, reference)
    assert counts.records == len(records)
    truth = [sum(int(h in set(shingle_hashes(w).tolist())) for w in records) for h in probe.tolist()]
    assert all(int(e) >= t for e, t in zip(estimated, truth, strict=True))  # never below the truth


def test_template_sees_pending_counts() -> None:
    counts = ShingleCounts()
    shared = ["you", "are", "a", "helpful", "assistant"]
    for i in range(10):
        counts.add([*shared, f"question{i}", "here"])
    template = Template.of(counts)  # nothing flushed yet: 10 records hold far fewer than FLUSH_HASHES
    kept = template.keep(shingle_hashes([*shared, "question3", "here"]))
    assert 0 < len(kept) < len(shingle_hashes([*shared, "question3", "here"]))
    assert set(kept.tolist()) <= set(shingle_hashes(["a", "helpful", "assistant", "question3", "here"]).tolist())


@pytest.mark.parametrize("records", [0, 1])
def test_empty_and_single_record(records: int) -> None:
    counts = ShingleCounts()
    for _ in range(records):
        counts.add(["only", "words", "here", "now"])
    assert counts.estimate(shingle_hashes(["only", "words", "here", "now"])).tolist() == [records, records]


@settings(max_examples=60, deadline=None)
@given(files=st.lists(WORDS, min_size=1, max_size=3), probe=WORDS, width=st.sampled_from([2, 4, 20]))
def test_template_keeps_what_the_estimates_are_below_the_cutoff(files: list[list[list[str]]],
                                                                probe: list[list[str]], width: int) -> None:
    """The template's cell tables drop exactly the shingles whose count-min estimate reaches a file's
    cutoff (the definition); narrow sketches make cells collide, as they do in a large file."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ShingleCounts, "WIDTH_BITS", width)
        _template_equals_estimates(files, probe)


def _template_equals_estimates(files: list[list[list[str]]], probe: list[list[str]]) -> None:
    sketches = []
    for records in files:
        counts = ShingleCounts()
        for words in records:
            counts.add(words)
        sketches.append(counts)
    template = Template.of(*sketches)
    for words in [*probe, *(w for records in files for w in records)]:
        hashes = shingle_hashes(words)
        expected = hashes
        for counts in sketches:
            expected = expected[counts.estimate(expected) < counts.cutoff()]
        assert np.array_equal(template.keep(hashes), expected)
