"""Leak-free train/validation split: group-aware, optionally stratified, deterministic for a seed.

How membership is decided (no step looks at input order, so shuffling the input moves no record):

1. Records are grouped: two records are in one group when they share a canonical record digest
   (``exact``), a normalised-text digest (``normalized``), a normalised prompt (``prompt``), or are
   near-duplicates by MinHash/LSH (``near``); each level includes the ones before it. Groups are the
   connected components of "shares a key with", so a group never straddles the split.
2. A group's identity is the smallest canonical digest among its members; its score is a BLAKE2b hash of
   that identity keyed with the seed.
3. Per stratum (the value at ``--stratify-by`` of the group's identity record; one stratum without it),
   the validation target is the stratum's share of the total target, rounded by largest remainder.
   Groups are taken in score order into validation while they fit the target, so singletons land the
   target exactly and larger groups never overshoot it.

Memory holds digests (88 bytes per record, from :class:`ftprep.overlap.DigestCollector`), a stratum id
and labels per record, and with ``near`` a 256-byte MinHash signature per record; never texts. The input
is read twice (digests, then writing); ``near`` adds one earlier pass that learns the template shingles
as ``ftprep overlap`` does.
"""

from __future__ import annotations

import hashlib
import os
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ftprep.engine import ScanOptions, scan_file
from ftprep.errors import ConfigError, InputError
from ftprep.jsonl.reader import iter_lines, reporting
from ftprep.jsonl.writer import AtomicOutput, atomic_outputs, require_jsonl_name
from ftprep.overlap.compare import DigestCollector
from ftprep.overlap.hashing import canonical_bytes
from ftprep.overlap.near import DEFAULT_NUM_PERM, DEFAULT_THRESHOLD, NearIndex, Template, signature
from ftprep.overlap_pass import learn_template
from ftprep.rules.bytes import InvalidUtf8, LineTooLong, NotJsonl
from ftprep.rules.syntax import InvalidJson, NotAnObject
from ftprep.transform.pointer import MISSING, parse_pointer, resolve
from ftprep.transform.summary import Accounting, Reason, reject_bytes

GROUP_BY = ("exact", "normalized", "prompt", "near")
_KEY_FIELDS = {"exact": ("exact",), "normalized": ("exact", "normalised"),
               "prompt": ("exact", "normalised", "prompt"), "near": ("exact", "normalised", "prompt")}
_REJECT_CODES = frozenset({InvalidUtf8.code, InvalidJson.code, NotAnObject.code, LineTooLong.code, NotJsonl.code})
_BOM = b"\xef\xbb\xbf"
# Side of each physical line in the writing pass.
_TRAIN, _VALID, _REJECT, _BLANK = 0, 1, 2, 3
# A stratum value longer than this is keyed by its digest (a label is short; a text is not a label).
_MAX_STRATUM_BYTES = 200


@dataclass(slots=True)
class SplitResult:
    """What a split did: the accounting of lines, the group count, and validation counts per stratum."""

    accounting: Accounting
    groups: int
    target: int
    strata: dict[str, dict[str, int]] = field(default_factory=dict)


def output_with_rejects(output_path: str | os.PathLike[str], rejects_out: str | os.PathLike[str] | None, *,
                        force: bool) -> list[AtomicOutput]:
    """The output file and its rejects file (OUTPUT stem + ``.rejects.jsonl`` unless named, created only when
    needed), each named as JSONL (:func:`require_jsonl_name`)."""
    rejects_path = f"{output_stem(output_path)}.rejects.jsonl" if rejects_out is None else rejects_out
    for named in (output_path, rejects_path):
        require_jsonl_name(named)
    return [AtomicOutput(output_path, force=force), AtomicOutput(rejects_path, force=force, optional=True)]


def output_stem(path: str | os.PathLike[str]) -> Path:
    """``data.jsonl`` / ``data.jsonl.gz`` / ``data.json`` -> ``data`` (same folder), for default outputs."""
    p = Path(path)
    name = p.name
    if not name:
        raise ConfigError(f"{os.fspath(path)!r}: is not a file path; give a file path for the output")
    for suffix in (".gz", ".jsonl", ".json", ".csv", ".tsv", ".parquet"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return p.with_name(name)


class _GroupObserver:
    """Engine observer: digests per record (through a DigestCollector), strata, near-duplicate edges.

    Records are numbered as members from 0 in each byte range of a parallel pass; :meth:`merge` renumbers
    the following range's members, strata and edges after the ones already folded in, and links its
    records to earlier ranges' near-duplicates. The members, strata and the set of edges are those one
    process finds (edges may come in another order, which the connected components do not depend on).
    """

    def __init__(self, stratify: tuple[str, ...] | None, template: Template | None, threshold: float) -> None:
        self.digests = DigestCollector()
        self.stratify = stratify
        self.strata: dict[bytes, int] = {}
        self.stratum_of = array("I")
        self.template = template
        self.index = NearIndex(threshold, DEFAULT_NUM_PERM) if template is not None else None
        self.edges = array("Q")

    def observe(self, line: int, kind: str, record: Any, raw: bytes) -> None:
        member = len(self.digests)
        texts = self.digests.observe(line, kind, record, raw)
        if self.stratify is not None:
            value = resolve(record, self.stratify)
            key = b"<missing>" if value is MISSING else canonical_bytes(value)
            if len(key) > _MAX_STRATUM_BYTES:
                key = b"#" + hashlib.blake2b(key, digest_size=16).hexdigest().encode()
            self.stratum_of.append(self.strata.setdefault(key, len(self.strata)))
        if self.index is not None:
            minhash = signature(texts.words, DEFAULT_NUM_PERM, self.template)
            if minhash is None:
                return
            for match in self.index.query(minhash):
                self.edges.extend((member, match.line))
            self.index.add(member, minhash)

    def merge(self, other: _GroupObserver) -> None:
        """Fold in the observer of the following byte range."""
        base = len(self.digests)
        if self.stratify is not None:
            # Strata are numbered in order of first appearance: the other range's new ones come after ours,
            # in the order that range met them.
            number = {local: self.strata.setdefault(key, len(self.strata)) for key, local in other.strata.items()}
            self.stratum_of.extend(number[local] for local in other.stratum_of)
        self.edges.extend(member + base for member in other.edges)
        if self.index is not None and other.index is not None:
            # Each of its records against every earlier range's (the range's own pairs came with it), then
            # all of them into the index.
            incoming = other.index.items()
            for member, minhash in incoming:
                for match in self.index.query(minhash):
                    self.edges.extend((member + base, match.line))
            for member, minhash in incoming:
                self.index.add(member + base, minhash)
        self.digests.merge(other.digests)


def _components(count: int, keys: list[np.ndarray], edges: np.ndarray) -> np.ndarray:
    """Connected components of records linked by equal keys or by edges, as the smallest member index.

    Min-label propagation with pointer jumping: memory is a few integer arrays, whatever the text size.
    """
    labels = np.arange(count, dtype=np.int64)
    groupings = []
    for column in keys:
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        starts = np.ones(count, dtype=bool)
        starts[1:] = ordered[1:] != ordered[:-1]
        gid = np.cumsum(starts) - 1
        groupings.append((order, gid, int(gid[-1]) + 1 if count else 0))
    pairs = edges.reshape(-1, 2).astype(np.int64)
    while True:
        before = labels.copy()
        for order, gid, groups in groupings:
            smallest = np.full(groups, count, dtype=np.int64)
            np.minimum.at(smallest, gid, labels[order])
            labels[order] = smallest[gid]
        if len(pairs):
            low = np.minimum(labels[pairs[:, 0]], labels[pairs[:, 1]])
            np.minimum.at(labels, pairs[:, 0], low)
            np.minimum.at(labels, pairs[:, 1], low)
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, before):
            return labels


def _largest_remainder(target: int, sizes: dict[int, int], order_key: dict[int, bytes]) -> dict[int, int]:
    """Split ``target`` over strata in proportion to ``sizes``; remainders go to the largest fractions."""
    total = sum(sizes.values())
    exact = {s: target * n / total for s, n in sizes.items()}
    shares = {s: int(v) for s, v in exact.items()}
    left = target - sum(shares.values())
    for s in sorted(exact, key=lambda s: (-(exact[s] - shares[s]), order_key[s]))[:left]:
        shares[s] += 1
    return shares


def _valid_target(examples: int, valid_ratio: float | None, valid_count: int | None) -> int:
    if (valid_ratio is None) == (valid_count is None):
        raise ConfigError("give exactly one of --valid-ratio and --valid-count")
    if valid_ratio is not None:
        if not 0.0 < valid_ratio < 1.0:
            raise ConfigError(f"--valid-ratio must be between 0 and 1 (exclusive), got {valid_ratio}")
        target = round(valid_ratio * examples)
    else:
        assert valid_count is not None
        target = valid_count
    if examples and not 0 < target < examples:
        raise ConfigError(f"validation target {target} leaves no example on one side of {examples} examples; "
                          "choose a ratio or count between them")
    return target


def assign_groups(labels: np.ndarray, identity: np.ndarray, strata: np.ndarray, target: int, seed: int,
                  stratum_names: dict[int, bytes]) -> tuple[np.ndarray, dict[int, tuple[int, int, int]]]:
    """Per record: True for validation. Also per stratum: (records, target, taken).

    ``labels``: component label per record; ``identity``: canonical digest per record (S16);
    ``strata``: stratum id per record.
    """
    count = len(labels)
    order = np.lexsort((identity, labels))
    sorted_labels = labels[order]
    first = np.ones(count, dtype=bool)
    first[1:] = sorted_labels[1:] != sorted_labels[:-1]
    heads = order[first]  # the member with the smallest digest of each group
    group_of = np.empty(count, dtype=np.int64)
    group_of[order] = np.cumsum(first) - 1
    sizes = np.bincount(group_of, minlength=len(heads))
    key = seed.to_bytes(16, "little", signed=True)
    scores = [hashlib.blake2b(bytes(identity[h]), key=key, digest_size=8).digest() for h in heads]
    group_stratum = strata[heads]
    stratum_sizes: dict[int, int] = {}
    for s, n in zip(group_stratum.tolist(), sizes.tolist(), strict=True):
        stratum_sizes[s] = stratum_sizes.get(s, 0) + n
    targets = _largest_remainder(target, stratum_sizes, stratum_names)
    chosen = np.zeros(len(heads), dtype=bool)
    taken = dict.fromkeys(stratum_sizes, 0)
    for g in sorted(range(len(heads)), key=lambda g: (scores[g], bytes(identity[heads[g]]))):
        s = int(group_stratum[g])
        if taken[s] + sizes[g] <= targets[s]:
            chosen[g] = True
            taken[s] += int(sizes[g])
    report = {s: (stratum_sizes[s], targets[s], taken[s]) for s in stratum_sizes}
    return chosen[group_of], report


def split_file(
    path: str | os.PathLike[str],
    *,
    valid_ratio: float | None = None,
    valid_count: int | None = None,
    seed: int = 0,
    group_by: str = "prompt",
    stratify_by: str | None = None,
    train_out: str | os.PathLike[str] | None = None,
    valid_out: str | os.PathLike[str] | None = None,
    rejects_out: str | os.PathLike[str] | None = None,
    force: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Callable[[int], None] | None = None,
) -> SplitResult:
    """Split a JSONL file into training and validation files that share no group (see module docstring).

    Lines that are not JSON objects go to the rejects file (``INPUT.rejects.jsonl`` by default, only
    created when needed); blank lines are dropped and counted. Raises :class:`ConfigError` for bad options
    or outputs (existing without ``force``, equal to the input) and :class:`InputError` for an unreadable
    input. ``progress`` is called with byte counts as the input is read, twice (grouping, then writing).
    """
    if group_by not in GROUP_BY:
        raise ConfigError(f"unknown --group-by {group_by!r}; use one of: {', '.join(GROUP_BY)}")
    if str(path) == "-":
        raise ConfigError("split reads its input twice; pass a file path, not '-'")
    stem = output_stem(path)
    outputs = [AtomicOutput(f"{stem}.train.jsonl" if train_out is None else train_out, force=force),
               AtomicOutput(f"{stem}.valid.jsonl" if valid_out is None else valid_out, force=force),
               AtomicOutput(f"{stem}.rejects.jsonl" if rejects_out is None else rejects_out, force=force,
                            optional=True)]
    for output in outputs:
        require_jsonl_name(output.path)
        output.validate([path])
    _valid_target(0, valid_ratio, valid_count)  # option errors before any pass over the input
    template = learn_template(path) if group_by == "near" else None
    observer = _GroupObserver(parse_pointer(stratify_by) if stratify_by is not None else None, template, threshold)
    scan = scan_file(str(path), ScanOptions(enabled=_REJECT_CODES), [observer], progress=progress)
    for finding in scan.findings:
        if finding.code == NotJsonl.code:  # the pass stopped: the lines after it were not read
            raise InputError(f"{finding.path}: {finding.message}; {finding.fix}")
    rows = observer.digests.rows()
    count = len(rows)
    if count == 0:
        raise ConfigError(f"{path}: holds no JSON records to split")
    target = _valid_target(count, valid_ratio, valid_count)
    labels = _components(count, [rows[f] for f in _KEY_FIELDS[group_by]],
                         np.frombuffer(observer.edges, dtype=np.uint64))
    strata = (np.frombuffer(observer.stratum_of, dtype=np.uint32) if stratify_by is not None
              else np.zeros(count, dtype=np.uint32))
    names = {i: k for k, i in observer.strata.items()} if stratify_by is not None else {0: b""}
    is_valid, per_stratum = assign_groups(labels, rows["exact"], strata, target, seed, names)

    side = bytearray([_REJECT]) * (scan.lines + 1)
    for line, valid in zip(rows["line"].tolist(), is_valid.tolist(), strict=True):
        side[line] = _VALID if valid else _TRAIN
    reasons: dict[int, list[Reason]] = {}
    for finding in scan.findings:
        if finding.line is not None:
            reasons.setdefault(finding.line, []).append(Reason.of(finding))

    accounting = Accounting()
    accounting.output("train", str(outputs[0].path))
    accounting.output("valid", str(outputs[1].path))
    accounting.paths["rejects"] = str(outputs[2].path)
    with atomic_outputs(outputs, [path]) as (train, valid, rejects):
        for raw in reporting(iter_lines(path), progress):
            data = raw.data[3:] if raw.lineno == 1 and raw.data.startswith(_BOM) else raw.data
            data = data[:-1] if data.endswith(b"\r") else data
            accounting.inputs += 1
            where = side[raw.lineno] if raw.lineno < len(side) else _REJECT
            if where == _REJECT and not data.strip():
                accounting.blank += 1
            elif where == _TRAIN:
                train.write_line(data)
                accounting.count_output("train")
            elif where == _VALID:
                valid.write_line(data)
                accounting.count_output("valid")
            else:
                why = reasons.get(raw.lineno) or [Reason(InvalidJson.code, "line is not a JSON object")]
                rejects.write_line(reject_bytes(why, raw.data, line=raw.lineno))
                accounting.count_reject(r.code for r in why)
    groups = len(np.unique(labels))
    strata_report = {
        (names[s].decode("utf-8", "replace") if stratify_by is not None else "all"):
            {"records": n, "valid_target": t, "valid": k}
        for s, (n, t, k) in sorted(per_stratum.items(), key=lambda kv: names[kv[0]])
    }
    accounting.extra = {"split": {"records": count, "groups": groups, "valid_target": target,
                                  "group_by": group_by, "seed": seed, "strata": strata_report}}
    return SplitResult(accounting, groups, target, strata_report)
