"""Properties of overlap detection (issue 5): symmetry in kind, self-comparison, order independence."""

from __future__ import annotations

import random
from pathlib import Path
from tempfile import TemporaryDirectory

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from ftprep.overlap_pass import find_overlap

_words = st.sampled_from(["alpha", "Beta", "gamma!", "DELTA", "epsilon,", "zeta", "eta", "theta", "iota"])
_text = st.lists(_words, min_size=1, max_size=12).map(" ".join)
_record = st.one_of(
    st.builds(lambda q, a: {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]},
              _text, _text),
    st.builds(lambda p, c: {"prompt": p, "completion": c}, _text, _text),
)
_records = st.lists(_record, min_size=1, max_size=12)


def _write(folder: Path, name: str, records: list[dict[str, object]]) -> Path:
    path = folder / name
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def _verdicts(train: list[dict[str, object]], valid: list[dict[str, object]],
              kinds: tuple[str, ...]) -> dict[bytes, str]:
    """Kind of leak per validation record (by content), so that line numbers do not matter."""
    with TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report = find_overlap(_write(folder, "t.jsonl", train), _write(folder, "v.jsonl", valid), kinds=kinds)
    leaked = {p.validation_line: p.kind for p in report.pairs}
    verdict: dict[bytes, str] = {}
    for line, record in enumerate(valid, 1):
        verdict.setdefault(orjson.dumps(record, option=orjson.OPT_SORT_KEYS), leaked.get(line, "none"))
    return verdict


def _pairs(train: Path, valid: Path) -> dict[int, tuple[str, int]]:
    report = find_overlap(train, valid, kinds=("exact", "normalised"))
    return {p.validation_line: (p.kind, p.train_line) for p in report.pairs}


@settings(max_examples=40, deadline=None)
@given(_records, _records)
def test_exact_and_normalised_overlap_is_symmetric_in_kind(a: list[dict[str, object]],
                                                          b: list[dict[str, object]]) -> None:
    with TemporaryDirectory() as tmp:
        file_a, file_b = _write(Path(tmp), "a.jsonl", a), _write(Path(tmp), "b.jsonl", b)
        forward, backward = _pairs(file_a, file_b), _pairs(file_b, file_a)
    # Line y of B matching line x of A as K means line x of A matches B as K: exact stays exact, and a
    # normalised match is at least normalised (x may also equal another line of B exactly).
    for kind, a_line in forward.values():
        assert backward[a_line][0] == kind or (kind == "normalised" and backward[a_line][0] == "exact")
    for kind, b_line in backward.values():
        assert forward[b_line][0] == kind or (kind == "normalised" and forward[b_line][0] == "exact")


@settings(max_examples=40, deadline=None)
@given(_records)
def test_a_file_compared_with_itself_leaks_completely(records: list[dict[str, object]]) -> None:
    with TemporaryDirectory() as tmp:
        path = _write(Path(tmp), "same.jsonl", records)
        report = find_overlap(path, path)
    assert report.leak_share == 1.0
    assert {p.kind for p in report.pairs} == {"exact"}


@settings(max_examples=30, deadline=None)
@given(_records, _records, st.randoms(use_true_random=False))
def test_reordering_lines_changes_no_verdict(train: list[dict[str, object]], valid: list[dict[str, object]],
                                            rnd: random.Random) -> None:
    kinds = ("exact", "normalised", "same-prompt", "near")
    before = _verdicts(train, valid, kinds)
    shuffled_train, shuffled_valid = train[:], valid[:]
    rnd.shuffle(shuffled_train)
    rnd.shuffle(shuffled_valid)
    assert _verdicts(shuffled_train, shuffled_valid, kinds) == before
