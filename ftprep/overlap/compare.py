"""Train/validation overlap and within-file duplicates from per-record digests.

:class:`DigestCollector` is a record observer: the engine's one pass feeds it every parsed record, and it
keeps 88 bytes of digests per record (line number and five 128-bit digests: raw bytes, canonical record,
normalised text, prompt, answer) plus, when near-duplicate search is on, a MinHash signature. Everything else
is computed from those arrays with numpy after the pass. This module reads no file: the functions that
read files through the engine's pass (``find_overlap``, ``learn_template``, ``find_file_duplicates``) are
in :mod:`ftprep.overlap_pass`, above the engine.

Overlap kinds, strongest first (a pair is reported once, under its strongest kind):

``exact``        the same record after parsing (canonical serialisation);
``normalised``   the same compared text after normalisation (:mod:`ftprep.overlap.normalize`);
``same-prompt``  the same normalised prompt (conversation up to the last assistant message), another answer;
``near``         estimated Jaccard similarity of word shingles at or above the threshold.

Equal raw bytes imply equal records, which imply equal normalised text, which implies an equal prompt, so
the kinds nest and "strongest kind" is well defined.
"""

from __future__ import annotations

import weakref
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from ftprep.lint.context import shifted
from ftprep.overlap.hashing import digest_bytes, record_digest
from ftprep.overlap.near import (
    DEFAULT_NUM_PERM,
    DEFAULT_THRESHOLD,
    NearIndex,
    Template,
    signature,
)
from ftprep.overlap.normalize import TextDigests, prompt_key, text_digests

if TYPE_CHECKING:
    import numpy as np

EXACT = "exact"
NORMALISED = "normalised"
SAME_PROMPT = "same-prompt"
NEAR = "near"
OVERLAP_KINDS = (EXACT, NORMALISED, SAME_PROMPT, NEAR)

# numpy (0.05 s of start-up) is imported by the functions that use it.
_ROW_FIELDS = [("line", "<u8"), ("raw", "S16"), ("exact", "S16"), ("normalised", "S16"), ("prompt", "S16"),
               ("answer", "S16")]
ROW_BYTES = 8 + 5 * 16


@dataclass(frozen=True, slots=True)
class OverlapPair:
    """A validation line that also appears in the training file, under its strongest overlap kind.

    ``similarity`` is 1.0 for exact and normalised matches, the estimated Jaccard similarity for near
    matches, and ``None`` for same-prompt matches (the prompts are equal, the answers differ).
    """

    kind: str
    train_line: int
    validation_line: int
    similarity: float | None


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A line that repeats an earlier line of the same file: ``first_line`` is the earlier line.

    ``answers_differ`` marks normalised duplicates whose answers (DPO outputs, reinforcement reference
    values) differ: contradictory labels for the same prompt.
    """

    kind: str
    line: int
    first_line: int
    similarity: float | None = None
    answers_differ: bool = False


@dataclass(frozen=True, slots=True)
class OverlapReport:
    """Everything ``find_overlap`` learned about a training/validation pair."""

    train_path: str
    validation_path: str
    train_examples: int
    validation_examples: int
    threshold: float
    kinds: tuple[str, ...]
    pairs: tuple[OverlapPair, ...]
    train_duplicates: tuple[Duplicate, ...] = ()
    validation_duplicates: tuple[Duplicate, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """Number of leaking validation lines per overlap kind (every kind searched, zeros included)."""
        counts = dict.fromkeys(self.kinds, 0)
        for pair in self.pairs:
            counts[pair.kind] = counts.get(pair.kind, 0) + 1
        return counts

    @property
    def leak_share(self) -> float:
        """Share of validation examples that leak from the training file (0.0 for an empty file)."""
        return len(self.pairs) / self.validation_examples if self.validation_examples else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view: paths, sizes, counts, leak share, pairs and duplicates."""
        return {
            "train": {"path": self.train_path, "examples": self.train_examples,
                      "duplicates": [_duplicate_dict(d) for d in self.train_duplicates]},
            "validation": {"path": self.validation_path, "examples": self.validation_examples,
                           "duplicates": [_duplicate_dict(d) for d in self.validation_duplicates]},
            "threshold": self.threshold,
            "counts": self.counts,
            "leaked": len(self.pairs),
            "leak_share": round(self.leak_share, 6),
            "pairs": [{"kind": p.kind, "train_line": p.train_line, "validation_line": p.validation_line,
                       "similarity": None if p.similarity is None else round(p.similarity, 4)}
                      for p in self.pairs],
        }


def _duplicate_dict(dup: Duplicate) -> dict[str, Any]:
    return {"kind": dup.kind, "line": dup.line, "first_line": dup.first_line,
            "similarity": None if dup.similarity is None else round(dup.similarity, 4),
            "answers_differ": dup.answers_differ}


# Indexes that pickled collectors probe, by id, for as long as something else holds them (see
# DigestCollector.__getstate__).
_PROBES: weakref.WeakValueDictionary[int, NearIndex] = weakref.WeakValueDictionary()


@dataclass(slots=True)
class DigestCollector:
    """Record observer keeping the digests of every record (and optionally MinHash signatures).

    ``signatures``: index every record's MinHash (needed on the side other files are compared against).
    ``within_near``: also find near-duplicates inside this file (implies ``signatures``).
    ``probe``: an index of the *other* file; each record is looked up in it as it streams past, so the
    other file's near matches are found without keeping this file's signatures. ``probe_is_validation``
    says which file the probe indexes, so results are keyed by validation line either way.
    """

    signatures: bool = False
    within_near: bool = False
    threshold: float = DEFAULT_THRESHOLD
    num_perm: int = DEFAULT_NUM_PERM
    probe: NearIndex | None = None
    probe_is_validation: bool = False
    template: Template | None = None
    _rows: bytearray = field(default_factory=bytearray)
    index: NearIndex | None = None
    # later line -> (similarity, earlier line): best in-file near match.
    near_duplicates: dict[int, tuple[float, int]] = field(default_factory=dict)
    # validation line -> (similarity, training line): best cross-file near match.
    cross_near: dict[int, tuple[float, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.within_near:
            self.signatures = True
        if self.signatures and self.index is None:
            self.index = NearIndex(self.threshold, self.num_perm)

    def __len__(self) -> int:
        return len(self._rows) // ROW_BYTES

    def __getstate__(self) -> dict[str, Any]:
        # The probed index (the other file's signatures, tens of MB) travels as a key: a byte range's copy of
        # the collector goes to a forked worker, which has the index already, and comes back to the process
        # that made it. Copied, it was unpickled once per byte range in each worker and sent back with each
        # range's result (1 GB of memory for a 100 MB file against a 25 MB one).
        state = {name: getattr(self, name) for name in self.__slots__}
        if self.probe is not None:
            _PROBES[id(self.probe)] = self.probe
            state["probe"] = id(self.probe)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        probe = state.get("probe")
        if isinstance(probe, int):
            found = _PROBES.get(probe)
            if found is None:  # only in a process that did not fork from the one that pickled it
                raise RuntimeError("a collector's probed index is not in this process")
            state["probe"] = found
        for name, value in state.items():
            setattr(self, name, value)

    def observe(self, line: int, kind: str, record: Any, raw: bytes) -> TextDigests:
        """Digest one record (``kind`` as detected: chat, preference, completion, or anything else).

        Returns the record's text digests, so that a wrapping observer need not compute them again.
        """
        texts = text_digests(kind, record)
        prompt = texts.prompt if texts.prompt != _EMPTY_PROMPT else texts.normalised
        self._rows += (line.to_bytes(8, "little") + digest_bytes(raw) + record_digest(record)
                       + texts.normalised + prompt + texts.answer)
        if self.index is None and self.probe is None:
            return texts
        minhash = signature(texts.words, self.num_perm, self.template)
        if minhash is None:
            return texts
        if self.probe is not None:
            for match in self.probe.query(minhash):
                if self.probe_is_validation:
                    _keep_best(self.cross_near, match.line, match.similarity, line)
                else:
                    _keep_best(self.cross_near, line, match.similarity, match.line)
                    break
        if self.index is not None:
            if self.within_near:
                matches = self.index.query(minhash)
                if matches:
                    _keep_best(self.near_duplicates, line, matches[0].similarity, matches[0].line)
            self.index.add(line, minhash)
        return texts

    def merge(self, other: Self) -> None:
        """Fold in the collector of the following byte range (same options), keeping line order."""
        if self.index is not None and other.index is not None:
            for line, minhash in other.index.items():
                if self.within_near:
                    matches = self.index.query(minhash)
                    if matches:
                        _keep_best(self.near_duplicates, line, matches[0].similarity, matches[0].line)
                self.index.add(line, minhash)
        for line, (sim, first) in other.near_duplicates.items():
            _keep_best(self.near_duplicates, line, sim, first)
        for line, (sim, first) in other.cross_near.items():
            _keep_best(self.cross_near, line, sim, first)
        self._rows += other._rows

    def rows(self) -> np.ndarray:
        """The digests as a structured array (fields line, raw, exact, normalised, prompt, answer).

        A view of the collector's buffer, not a copy (88 bytes per example): call it after the pass, since
        the buffer cannot grow while a view of it is alive.
        """
        import numpy as np
        return np.frombuffer(self._rows, dtype=np.dtype(_ROW_FIELDS))


_EMPTY_PROMPT = text_digests("completion", {}).prompt


def _keep_best(table: dict[int, tuple[float, int]], key: int, similarity: float, other: int) -> None:
    """Keep the most similar match per key; ties go to the lower line so results do not depend on order."""
    current = table.get(key)
    if current is None or (similarity, -other) > (current[0], -current[1]):
        table[key] = (similarity, other)


def _groups(rows: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the first (lowest) line with the same value of field ``name``, and whether it is that line."""
    import numpy as np
    if len(rows) == 0:
        empty = np.zeros(0, dtype=np.uint64)
        return empty, empty.astype(bool)
    order = np.lexsort((rows["line"], rows[name]))
    keys = rows[name][order]
    starts = np.empty(len(keys), dtype=bool)
    starts[0] = True
    starts[1:] = keys[1:] != keys[:-1]
    group = np.cumsum(starts) - 1
    first_sorted = rows["line"][order][starts][group]
    first = np.empty_like(first_sorted)
    first[order] = first_sorted
    return first, first == rows["line"]


def find_duplicates(collector: DigestCollector) -> list[Duplicate]:
    """Within-file duplicates, each pointing at the first occurrence, ordered by line.

    ``exact``: the same record as an earlier line although the bytes differ (byte-identical lines are the
    dataset rule FT5xx's to report); ``normalised``: the same normalised text as an earlier line but not the
    same record; ``same-prompt``: the same prompt as an earlier line with a different answer; ``near``
    (only when the collector searched for them): similar to an earlier line without sharing its prompt.
    """
    import numpy as np
    rows = collector.rows()
    _, raw_first = _groups(rows, "raw")
    exact_line, exact_first = _groups(rows, "exact")
    norm_line, norm_first = _groups(rows, "normalised")
    prompt_line, prompt_first = _groups(rows, "prompt")
    lines = rows["line"]
    found: list[Duplicate] = []
    for i in np.flatnonzero(~exact_first & raw_first):
        found.append(Duplicate(EXACT, int(lines[i]), int(exact_line[i]), 1.0))
    # Rows are in line order, so a line's row is found by binary search (no per-row Python objects).
    repeats = np.flatnonzero(~norm_first & exact_first)
    answers_differ = rows["answer"][np.searchsorted(lines, norm_line[repeats])] != rows["answer"][repeats]
    for row, differ in zip(repeats.tolist(), answers_differ.tolist(), strict=True):
        first = int(norm_line[row])
        if differ:
            # DPO and reinforcement rows compare on their prompt alone: the same prompt with other outputs
            # (several preference pairs per prompt is common practice) is not a repeat of the example.
            found.append(Duplicate(SAME_PROMPT, int(lines[row]), first, None, answers_differ=True))
        else:
            found.append(Duplicate(NORMALISED, int(lines[row]), first, 1.0))
    for i in np.flatnonzero(~prompt_first & norm_first):
        found.append(Duplicate(SAME_PROMPT, int(lines[i]), int(prompt_line[i]), None, answers_differ=True))
    if collector.near_duplicates:
        for line, (sim, first) in collector.near_duplicates.items():
            index = int(np.searchsorted(lines, line))
            if index < len(lines) and lines[index] == line and prompt_first[index]:
                found.append(Duplicate(NEAR, line, first, sim))
    found.sort(key=lambda d: (d.line, d.first_line))
    return found


# Up to this many records (about 25 MB of Python objects), repeated keys are found in plain Python:
# importing numpy costs more (0.05-0.1 s).
SMALL_COUNT = 200_000


@dataclass(slots=True)
class PromptKeys:
    """Record observer for within-file duplicates in two steps: during the pass, one key per record
    (:func:`~ftprep.overlap.normalize.prompt_key`, a 64-bit hash of the prompt's last text, normalised: 12
    bytes with the line number); after it, :func:`ftprep.overlap_pass.find_file_duplicates` reads again
    only the lines whose key another line shares, with a :class:`DigestCollector`.

    Every kind of duplicate implies equal normalised prompts (equal raw bytes, records and normalised text
    all imply it), hence equal keys, so the second step finds exactly what one collector over every line
    would (tests/unit/overlap/test_duplicates.py, tests/corpus/test_corpus_duplicates.py).
    """

    _lines: array[int] = field(default_factory=lambda: array("I"))
    _keys: array[int] = field(default_factory=lambda: array("Q"))

    def __len__(self) -> int:
        return len(self._keys)

    def observe(self, line: int, kind: str, record: Any, raw: bytes) -> None:
        """Keep the record's key."""
        self._lines.append(line)
        self._keys.append(prompt_key(kind, record))

    def merge(self, other: Self) -> None:
        """Fold in the keys of the following byte range."""
        self._lines += other._lines
        self._keys += other._keys

    def shift_lines(self, offset: int) -> None:
        """Add ``offset`` to the line numbers (see :func:`ftprep.engine.relative_lines`)."""
        self._lines = shifted(self._lines, offset)

    def shared_lines(self, *, small: int = SMALL_COUNT) -> list[int]:
        """Lines (ascending) whose key another line has too (up to ``small`` records in plain
        Python, which costs less than importing numpy; with numpy above)."""
        count = len(self)
        if count < 2:
            return []
        keys = self._keys
        if count <= small:
            if len(set(keys)) == count:
                return []  # the usual case: no two records share a key
            seen = Counter(keys)
            return [line for line, key in zip(self._lines, keys, strict=True) if seen[key] > 1]
        import numpy as np

        values = np.frombuffer(keys, dtype=np.uint64)
        ordered = np.sort(values)
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        lines: list[int] = np.frombuffer(self._lines, dtype=np.uint32)[np.isin(values, repeated)].tolist()
        return lines


def repeated_raw(collector: DigestCollector) -> list[tuple[int, int]]:
    """``(line, first line)`` of every collected line whose bytes an earlier collected line has."""
    import numpy as np
    rows = collector.rows()
    first, is_first = _groups(rows, "raw")
    repeats = np.flatnonzero(~is_first)
    return list(zip(rows["line"][repeats].tolist(), first[repeats].tolist(), strict=True))


def _lookup(train: np.ndarray, valid: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """For each validation row: whether its ``name`` digest occurs in training, and the first such line."""
    import numpy as np
    if len(train) == 0 or len(valid) == 0:
        return np.zeros(len(valid), dtype=bool), np.zeros(len(valid), dtype=np.uint64)
    first, is_first = _groups(train, name)
    keys = train[name][is_first]
    lines = first[is_first]
    order = np.argsort(keys, kind="stable")
    keys, lines = keys[order], lines[order]
    pos = np.minimum(np.searchsorted(keys, valid[name]), len(keys) - 1)
    return keys[pos] == valid[name], lines[pos]


def compare_collectors(train: DigestCollector, validation: DigestCollector, *,
                       kinds: Iterable[str] = OVERLAP_KINDS) -> list[OverlapPair]:
    """Leaking validation lines, one pair each under the strongest kind among ``kinds``, ordered by line.

    Near matches come from whichever collector streamed against the other's index (``probe``), or, when
    both collectors kept signatures, by querying the validation signatures against the training index.
    """
    import numpy as np
    wanted = set(kinds)
    unknown = wanted - set(OVERLAP_KINDS)
    if unknown:
        raise ValueError(f"unknown overlap kind(s) {sorted(unknown)}; choose from {', '.join(OVERLAP_KINDS)}")
    t_rows, v_rows = train.rows(), validation.rows()
    pairs: dict[int, OverlapPair] = {}
    for kind, name in ((EXACT, "exact"), (NORMALISED, "normalised"), (SAME_PROMPT, "prompt")):
        if kind not in wanted:
            continue
        hit, line = _lookup(t_rows, v_rows, name)
        for i in np.flatnonzero(hit):
            v_line = int(v_rows["line"][i])
            if v_line not in pairs:
                sim = None if kind == SAME_PROMPT else 1.0
                pairs[v_line] = OverlapPair(kind, int(line[i]), v_line, sim)
    if NEAR in wanted:
        for v_line, (sim, t_line) in _cross_near(train, validation).items():
            if v_line not in pairs:
                pairs[v_line] = OverlapPair(NEAR, t_line, v_line, sim)
    return [pairs[k] for k in sorted(pairs)]


def _cross_near(train: DigestCollector, validation: DigestCollector) -> dict[int, tuple[float, int]]:
    best: dict[int, tuple[float, int]] = {}
    for v_line, (sim, t_line) in [*train.cross_near.items(), *validation.cross_near.items()]:
        _keep_best(best, v_line, sim, t_line)
    if not best and train.index is not None and validation.index is not None:
        for v_line, minhash in validation.index.items():
            matches = train.index.query(minhash)
            if matches:
                _keep_best(best, v_line, matches[0].similarity, matches[0].line)
    return best


