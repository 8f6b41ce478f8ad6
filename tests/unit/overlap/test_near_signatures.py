"""Near-duplicate signatures and LSH candidates computed with numpy alone equal datasketch's, bit for bit.

datasketch (with the scipy it imports) is a test dependency only: it is the reference implementation the
slim install's MinHash (scheme ``affine32``) and MinHashLSH banding are compared with.
"""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftprep.overlap.near import LSH_WEIGHTS, SEED, NearIndex, lsh_bands, shingle_hashes, signature

datasketch = pytest.importorskip("datasketch")
datasketch_lsh = pytest.importorskip("datasketch.lsh")

WORDS = st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h", "é", "東京", "the", "cat"]),
                 min_size=1, max_size=60)


def _reference_signature(words: list[str], num_perm: int) -> np.ndarray:
    minhash = datasketch.MinHash(num_perm=num_perm, seed=SEED, hashfunc=lambda value: value, scheme="affine32")
    minhash.update_batch(shingle_hashes(words).tolist())
    values: np.ndarray = minhash.hashvalues
    return values


@settings(max_examples=80, deadline=None)
@given(words=WORDS, num_perm=st.sampled_from([16, 64, 128]))
def test_signature_equals_datasketchs_minhash(words: list[str], num_perm: int) -> None:
    ours = signature(words, num_perm)
    assert ours is not None and ours.dtype == np.uint32
    assert np.array_equal(ours, _reference_signature(words, num_perm))


@pytest.mark.parametrize("num_perm", [16, 32, 64, 128])
@pytest.mark.parametrize("weights", [LSH_WEIGHTS, (0.5, 0.5)])
def test_bands_are_datasketchs_optimal_parameters(num_perm: int, weights: tuple[float, float]) -> None:
    thresholds = [i / 100 for i in range(1, 101)]
    ours = [lsh_bands(t, num_perm, weights) for t in thresholds]
    reference = [datasketch_lsh._optimal_param(t, num_perm, *weights) for t in thresholds]
    assert ours == reference


def test_default_index_has_nine_bands_of_seven_rows() -> None:
    assert lsh_bands(0.8, 64) == (9, 7)


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8])
def test_candidates_are_datasketchs_lsh_candidates(threshold: float) -> None:
    # Variants of a few texts (0 to 5 words replaced): pairs at every similarity, so bands collide.
    rng = random.Random(7)
    texts = [[f"w{rng.randrange(1000)}" for _ in range(24)] for _ in range(20)]
    records = []
    for _ in range(300):
        words = list(rng.choice(texts))
        for _ in range(rng.randint(0, 5)):
            words[rng.randrange(len(words))] = f"x{rng.randrange(1000)}"
        records.append(words)
    signatures = [s for s in (signature(words, 64) for words in records) if s is not None]
    index = NearIndex(threshold, 64)
    reference = datasketch.MinHashLSH(threshold=threshold, num_perm=64, weights=LSH_WEIGHTS)
    for position, values in enumerate(signatures[:200]):
        index.add(position, values)
        minhash = datasketch.MinHash(num_perm=64, seed=SEED, hashvalues=values, scheme="affine32")
        reference.insert(position, minhash, check_duplication=False)
    compared = candidates_seen = 0
    for values in signatures[200:]:
        minhash = datasketch.MinHash(num_perm=64, seed=SEED, hashvalues=values, scheme="affine32")
        candidates = set(reference.query(minhash))
        assert index.candidates(values) == candidates
        expected = sorted((-float((signatures[k] == values).mean()), k) for k in candidates
                          if (signatures[k] == values).mean() >= threshold)
        assert [(m.line, m.similarity) for m in index.query(values)] == [(k, -s) for s, k in expected]
        compared += len(expected)
        candidates_seen += len(candidates)
    assert compared > 0 and candidates_seen > compared  # some candidates fall below the threshold


def test_items_replay_into_another_index_and_the_index_still_grows() -> None:
    index = NearIndex()
    first = signature(["one", "two", "three", "four", "five"])
    second = signature(["six", "seven", "eight", "nine", "ten"])
    assert first is not None and second is not None
    index.add(10, first)
    replayed = NearIndex()
    for line, values in index.items():
        replayed.add(line, values)
    index.add(11, second)  # items() handed out copies: the index's own buffer is not pinned
    assert [m.line for m in replayed.query(first)] == [10]
    assert [(m.line, m.similarity) for m in index.query(second)] == [(11, 1.0)]


@pytest.mark.parametrize("threshold", [0.99, 1.0])
def test_a_threshold_near_one_finds_identical_records(threshold: float) -> None:
    # datasketch refused one band (b < 2) and these thresholds ended in an internal error.
    index = NearIndex(threshold)
    values = signature(["a", "record", "that", "appears", "twice", "in", "the", "file"])
    assert values is not None
    index.add(1, values)
    assert [m.line for m in index.query(values)] == [1]


def test_near_duplicate_search_imports_neither_datasketch_nor_scipy() -> None:
    code = ("import sys\nfrom ftprep.overlap.near import NearIndex, signature\n"
            "index = NearIndex()\nindex.add(1, signature('a b c d e'.split()))\n"
            "assert index.query(signature('a b c d e'.split()))\n"
            "print(sorted(n for n in ('datasketch', 'scipy') if n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
