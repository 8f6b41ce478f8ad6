"""Near-duplicates: MinHash signatures over word shingles, candidate search by locality-sensitive hashing.

A record's compared words (see :mod:`ftprep.overlap.normalize`) are cut into shingles of ``SHINGLE_WORDS``
consecutive words; each shingle is hashed to 32 bits and the record's signature is its MinHash: per
permutation ``h -> a*h + b mod 2**32`` (``a`` odd) of the MurmurHash3-mixed shingle hashes, the minimum,
4 bytes per permutation. An index keeps only the signatures (``num_perm`` x 4 bytes per record, in one flat
array) and the LSH buckets (bands of ``rows`` signature values), never the texts. LSH returns candidates;
the reported similarity is the estimated Jaccard similarity of the two signatures, and only candidates at
or above the threshold are kept.

The signatures, the choice of bands and the candidates are those of datasketch's ``MinHash`` (scheme
``affine32``) and ``MinHashLSH``, bit for bit (tests/unit/overlap/test_near_signatures.py compares them),
computed with numpy alone: datasketch imports scipy (143 MB) for one integral, and this module runs in the
pre-commit hooks, whose environment stays slim.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy (0.05 s of start-up) is imported by the functions that use it
    import numpy as np

DEFAULT_THRESHOLD = 0.8
# 64 permutations: the standard error of a Jaccard estimate is about sqrt(J(1-J)/64) = 0.05 at J=0.8,
# and a signature costs 256 bytes (bench/overlap_memory.py measures the whole index).
DEFAULT_NUM_PERM = 64
SHINGLE_WORDS = 3
LSH_WEIGHTS = (0.1, 0.9)  # (false positive, false negative) weights for choosing bands and rows
SEED = 1
# A shingle in 5% of a file's records (and in at least 5) is template, not content.
TEMPLATE_SHARE = 0.05
TEMPLATE_MINIMUM = 5
# Odd multipliers that make a shingle's hash depend on word order.
_MIX = (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1)


@cache
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """The multipliers ``a`` (odd) and offsets ``b`` of the permutations ``h -> a*h + b mod 2**32``.

    Drawn from ``SEED`` in the order datasketch's ``MinHash(seed=SEED, scheme="affine32")`` draws them.
    """
    import numpy as np
    generator = np.random.RandomState(SEED)
    multipliers = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    offsets = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return multipliers, offsets


def _fmix32(hashes: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, a bijection that spreads the bits of each (uint32) hash."""
    import numpy as np
    hashes = hashes ^ (hashes >> np.uint32(16))
    hashes = hashes * np.uint32(0x85EBCA6B)
    hashes = hashes ^ (hashes >> np.uint32(13))
    hashes = hashes * np.uint32(0xC2B2AE35)
    mixed: np.ndarray = hashes ^ (hashes >> np.uint32(16))
    return mixed


@cache
def lsh_bands(threshold: float, num_perm: int, weights: tuple[float, float] = LSH_WEIGHTS) -> tuple[int, int]:
    """(bands, rows per band) of an LSH index for ``threshold``: the pair with ``bands * rows <= num_perm``
    that minimises ``weights[0] * P(false positive) + weights[1] * P(false negative)``.

    Two records of similarity ``s`` share a band with probability ``1 - (1 - s**rows)**bands``; the
    probabilities are its integrals below and above the threshold (Mining of Massive Datasets, ch. 3).
    The integrands are polynomials of degree ``bands * rows <= num_perm``, which Gauss-Legendre quadrature
    with ``num_perm // 2 + 1`` nodes integrates exactly; the grid search is datasketch's ``_optimal_param``.
    """
    import numpy as np
    nodes, node_weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    below = threshold / 2 * (nodes + 1)  # the nodes mapped onto [0, threshold] and [threshold, 1]
    above = threshold + (1 - threshold) / 2 * (nodes + 1)
    rows = np.arange(1, num_perm + 1, dtype=np.float64)[:, None]
    miss_below, miss_above = 1 - below ** rows, 1 - above ** rows  # per rows: P(a band differs) at each node
    best, chosen = float("inf"), (0, 0)
    for bands in range(1, num_perm + 1):
        most = num_perm // bands
        false_positive = threshold / 2 * ((1 - miss_below[:most] ** bands) @ node_weights)
        false_negative = (1 - threshold) / 2 * ((miss_above[:most] ** bands) @ node_weights)
        error = false_positive * weights[0] + false_negative * weights[1]
        first = int(np.argmin(error))  # the first minimum: the search order is (bands, rows)
        if error[first] < best:
            best, chosen = float(error[first]), (bands, first + 1)
    return chosen


def shingle_hashes(words: Sequence[str], size: int = SHINGLE_WORDS) -> np.ndarray:
    """Distinct 32-bit hashes (uint64 array) of the ``size``-word shingles of ``words``.

    A record with fewer than ``size`` words is one shingle; one without words has none.
    """
    import numpy as np
    if not words:
        return np.zeros(0, dtype=np.uint64)
    word_hashes = np.fromiter((zlib.crc32(w.encode("utf-8", "surrogatepass")) for w in words),
                              dtype=np.uint64, count=len(words))
    width = min(size, len(words))
    count = len(words) - width + 1
    combined = np.zeros(count, dtype=np.uint64)
    for offset in range(width):
        combined = combined * np.uint64(31) + word_hashes[offset:offset + count] * np.uint64(_MIX[offset % len(_MIX)])
    return np.unique((combined ^ (combined >> np.uint64(32))) & np.uint64(0xFFFFFFFF))


@cache
def _multipliers(depth: int) -> np.ndarray:
    """The odd multipliers of the sketch's rows (fixed by SEED)."""
    import numpy as np
    rng = np.random.default_rng(SEED)
    multipliers: np.ndarray = rng.integers(1, 1 << 31, size=depth, dtype=np.uint64) * 2 + 1
    return multipliers


def sketch_cells(hashes: np.ndarray, width_bits: int, depth: int) -> list[np.ndarray]:
    """The cell of each shingle hash in each row of a count-min sketch of ``2**width_bits`` cells a row."""
    import numpy as np
    shift = np.uint64(32 - width_bits)
    return [(((hashes * m) & np.uint64(0xFFFFFFFF)) >> shift).astype(np.intp) for m in _multipliers(depth)]


class ShingleCounts:
    """How many records contain each shingle, estimated with a count-min sketch of fixed size.

    Shingles that occur in a large share of a file are its template (a shared system prompt, an
    instruction block): two records sharing only the template are not duplicates, so those shingles are
    left out of signatures. A count-min sketch never underestimates and needs 12 MiB whatever the input.
    """

    WIDTH_BITS = 20
    DEPTH = 3
    # Shingle hashes are buffered and counted together (one bincount per row instead of one np.add.at per
    # record, which cost 0.1 ms a record): the counts are the same, each record's shingles being distinct.
    FLUSH_HASHES = 1 << 18

    def __init__(self) -> None:
        import numpy as np
        self.records = 0
        self._table = np.zeros((self.DEPTH, 1 << self.WIDTH_BITS), dtype=np.uint32)
        self._pending: list[np.ndarray] = []
        self._pending_count = 0

    def _cells(self, hashes: np.ndarray) -> list[np.ndarray]:
        return sketch_cells(hashes, self.WIDTH_BITS, self.DEPTH)

    def add(self, words: Sequence[str]) -> None:
        """Count the distinct shingles of one record."""
        self.records += 1
        hashes = shingle_hashes(words)
        self._pending.append(hashes)
        self._pending_count += len(hashes)
        if self._pending_count >= self.FLUSH_HASHES:
            self._flush()

    def _flush(self) -> None:
        import numpy as np
        if not self._pending:
            return
        hashes = np.concatenate(self._pending)
        self._pending.clear()
        self._pending_count = 0
        for row, cells in zip(self._table, self._cells(hashes), strict=True):
            row += np.bincount(cells, minlength=len(row)).astype(np.uint32)

    def merge(self, other: ShingleCounts) -> None:
        """Add the counts of ``other`` (records counted elsewhere, e.g. another byte range)."""
        self._flush()
        other._flush()
        self._table += other._table
        self.records += other.records

    def estimate(self, hashes: np.ndarray) -> np.ndarray:
        """Estimated number of records containing each shingle (never less than the truth)."""
        import numpy as np
        self._flush()
        cells = self._cells(hashes)
        counts = [row[c] for row, c in zip(self._table, cells, strict=True)]
        return np.minimum.reduce(counts) if counts else np.zeros(len(hashes), dtype=np.uint32)

    def cutoff(self, share: float = TEMPLATE_SHARE, minimum: int = TEMPLATE_MINIMUM) -> int:
        """Records a shingle must be in to be template: ``share`` of them, and at least ``minimum``."""
        import numpy as np
        return max(minimum, int(np.ceil(share * self.records)))


@dataclass(frozen=True, slots=True)
class Template:
    """Drops template shingles: those in at least ``cutoff`` records of any of the counted files.

    One template serves every file compared, so that all signatures are over the same shingle universe.
    Per counted file it keeps only which cells of the sketch reach that file's cutoff, one bit a cell (384
    KB instead of the 12 MB of counts; it travels to every worker of a parallel pass, and back with each
    byte range's result): the sketch's estimate for a shingle, the minimum of its cells, reaches the cutoff
    exactly when every one of its cells does.
    """

    width_bits: int
    reached: tuple[np.ndarray, ...]  # per file: uint8 (DEPTH, 2**width_bits / 8), np.packbits of the cells

    @classmethod
    def of(cls, *counts: ShingleCounts) -> Template:
        """The template of files counted with :class:`ShingleCounts`, at the default share and minimum."""
        import numpy as np
        for c in counts:
            c._flush()
        return cls(ShingleCounts.WIDTH_BITS, tuple(np.packbits(c._table >= c.cutoff(), axis=1) for c in counts))

    def keep(self, hashes: np.ndarray) -> np.ndarray:
        """The shingles of ``hashes`` that are not template."""
        import numpy as np
        for reached in self.reached:
            if len(hashes) == 0:
                break
            cells = sketch_cells(hashes, self.width_bits, len(reached))
            # Bit c of a row packed big-endian: byte c >> 3, bit 7 - (c & 7).
            bits = [(row[c >> 3] >> (7 - (c & 7)).astype(np.uint8)) & 1 for row, c in zip(reached, cells, strict=True)]
            hashes = hashes[~np.logical_and.reduce(bits).astype(bool)]
        return hashes


def signature(words: Sequence[str], num_perm: int = DEFAULT_NUM_PERM,
              template: Template | None = None) -> np.ndarray | None:
    """The MinHash of a record's word shingles (template shingles left out): ``num_perm`` uint32 values,
    ``None`` if no shingle remains."""
    hashes = shingle_hashes(words)
    if template is not None:
        hashes = template.keep(hashes)
    if len(hashes) == 0:
        return None
    import numpy as np
    multipliers, offsets = _permutations(num_perm)
    mixed = _fmix32(hashes.astype(np.uint32)).reshape(-1, 1)
    minima: np.ndarray = (mixed * multipliers + offsets).min(axis=0)  # uint32 arithmetic wraps: mod 2**32
    return minima


@dataclass(frozen=True, slots=True)
class NearMatch:
    """An indexed line whose estimated Jaccard similarity with the query reaches the threshold."""

    line: int
    similarity: float


@dataclass(slots=True, weakref_slot=True)
class NearIndex:
    """LSH index of signatures keyed by line number; stores signatures only, as packed uint32 values.

    Each of the ``bands`` buckets maps the bytes of a signature's band (``rows`` consecutive values) to the
    positions of the signatures that have it; a query's candidates share at least one band with it.
    """

    threshold: float = DEFAULT_THRESHOLD
    num_perm: int = DEFAULT_NUM_PERM
    _band_bytes: int = field(init=False)
    _buckets: list[dict[bytes, list[int]]] = field(init=False)
    _lines: array[int] = field(init=False, default_factory=lambda: array("Q"))
    _signatures: array[int] = field(init=False, default_factory=lambda: array("I"))

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"near-duplicate threshold must be in (0, 1], got {self.threshold}")
        # Candidates are verified against the stored signatures, so a false positive costs a comparison
        # while a false negative is a missed leak: weigh recall. With 64 permutations at 0.8 this gives
        # 9 bands of 7 rows; a pair at J=0.8 becomes a candidate with probability 0.88 (0.36 with equal
        # weights), at J=0.9 with 0.997.
        bands, rows = lsh_bands(self.threshold, self.num_perm)
        self._band_bytes = rows * 4
        self._buckets = [{} for _ in range(bands)]

    def __len__(self) -> int:
        return len(self._lines)

    def _bands(self, minhash: np.ndarray) -> list[bytes]:
        data = minhash.tobytes()
        width = self._band_bytes
        return [data[i * width:(i + 1) * width] for i in range(len(self._buckets))]

    def add(self, line: int, minhash: np.ndarray) -> None:
        """Index the signature of ``line``."""
        position = len(self._lines)
        for bucket, band in zip(self._buckets, self._bands(minhash), strict=True):
            bucket.setdefault(band, []).append(position)
        self._lines.append(line)
        self._signatures.frombytes(minhash.tobytes())

    def candidates(self, minhash: np.ndarray) -> set[int]:
        """Positions (in insertion order) of the indexed signatures that share a band with ``minhash``."""
        keys: set[int] = set()
        for bucket, band in zip(self._buckets, self._bands(minhash), strict=True):
            found = bucket.get(band)
            if found is not None:
                keys.update(found)
        return keys

    def query(self, minhash: np.ndarray) -> list[NearMatch]:
        """Indexed lines whose estimated similarity with ``minhash`` is at least the threshold, best first."""
        import numpy as np
        keys = self.candidates(minhash)
        if not keys:
            return []
        positions = np.fromiter(keys, dtype=np.int64, count=len(keys))
        table = np.frombuffer(self._signatures, dtype=np.uint32).reshape(-1, self.num_perm)
        similarity = (table[positions] == minhash).mean(axis=1)
        keep = similarity >= self.threshold
        matches = [NearMatch(self._lines[int(p)], float(s)) for p, s in zip(positions[keep], similarity[keep],
                                                                             strict=True)]
        matches.sort(key=lambda m: (-m.similarity, m.line))
        return matches

    def items(self) -> list[tuple[int, np.ndarray]]:
        """(line, signature) of every indexed record in insertion order, to replay into another index."""
        import numpy as np
        # A copy: a view would pin the array's buffer, and the index could not grow any more.
        table = np.frombuffer(self._signatures, dtype=np.uint32).reshape(-1, self.num_perm).copy()
        return [(self._lines[i], table[i]) for i in range(len(self._lines))]

    def signature_bytes(self) -> int:
        """Bytes held by the packed signatures and line numbers (the LSH buckets come on top)."""
        return self._signatures.itemsize * len(self._signatures) + self._lines.itemsize * len(self._lines)
