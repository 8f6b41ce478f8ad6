"""Overlap and duplicates of files on disk: the overlap functions that read files through the engine's one
pass (:func:`ftprep.engine.scan_file`) or its workers.

:mod:`ftprep.overlap.compare` keeps the digests and the comparisons and reads no file; it sits below the
rules (FT520-FT549 import it) and so below the engine. This module sits above the engine, beside
:mod:`ftprep.check`, so that no import points up (the layers: :mod:`ftprep.rules.catalog`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from ftprep import parallel
from ftprep.engine import RANGES_PER_WORKER, ScanOptions, parallel_workers, scan_file
from ftprep.formats.detect import detect_format
from ftprep.jsonl.parse import read_object
from ftprep.jsonl.reader import READ_BUFFER, RawLine, count_lines, display_name, iter_lines, iter_stream, reporting
from ftprep.lint.context import RecordObserver
from ftprep.overlap.compare import (
    NEAR,
    OVERLAP_KINDS,
    DigestCollector,
    Duplicate,
    OverlapReport,
    PromptKeys,
    compare_collectors,
    find_duplicates,
    repeated_raw,
)
from ftprep.overlap.near import DEFAULT_NUM_PERM, DEFAULT_THRESHOLD, ShingleCounts, Template
from ftprep.overlap.normalize import words_of


def find_file_duplicates(path: str | os.PathLike[str], keys: PromptKeys) -> list[Duplicate]:
    """Within-file duplicates of ``path`` from the prompt keys of its pass (see :class:`PromptKeys`)."""
    return find_file_repeats(path, keys)[0]


def find_file_repeats(path: str | os.PathLike[str],
                      keys: PromptKeys) -> tuple[list[Duplicate], list[tuple[int, int]]]:
    """:func:`find_file_duplicates`, and the ``(line, first line)`` of every line whose bytes an earlier
    line has (byte-equal lines are equal records, so they share their prompt key)."""
    lines = keys.shared_lines()
    if not lines:
        return [], []
    collector = DigestCollector()
    scan_file(str(path), ScanOptions(enabled=frozenset()), [collector], only_lines=lines)
    return find_duplicates(collector), repeated_raw(collector)


def scan_records(path: str | os.PathLike[str], observer: RecordObserver,
                 progress: Callable[[int], None] | None = None) -> None:
    """Feed every record of ``path`` to ``observer`` through the engine's one pass (``progress``: called with
    byte counts as the file is read).

    Lines that are not JSON objects are skipped (reporting them is ``ftprep check``'s job); no finding is
    collected because no rule is enabled.
    """
    scan_file(str(path), ScanOptions(enabled=frozenset()), [observer], progress=progress)


def _size(path: str | os.PathLike[str]) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


TEMPLATE_SAMPLE = 50_000


def learn_template(*paths: str | os.PathLike[str], sample: int = TEMPLATE_SAMPLE,
                   progress: Callable[[int], None] | None = None) -> Template:
    """Count the shingles of each file's records and return the filter of their template shingles.

    A shingle in at least 5% of one file's records (and in at least 5 of them) is template there, and does
    not count towards near-duplicate similarity anywhere. A template is frequent by definition, so a large
    file is sampled: about ``sample`` records taken at an even stride over the whole file. ``progress`` is
    called with byte counts as each file is read.
    """
    return Template.of(*(_shingle_counts(path, max(1, -(-count_lines(path) // sample)), progress) for path in paths))


def _shingle_counts(path: str | os.PathLike[str], stride: int,
                    progress: Callable[[int], None] | None = None) -> ShingleCounts:
    """The shingle counts of every ``stride``-th line of ``path`` (lines 1, 1 + stride, ...), over byte ranges
    in every process when the file is large (the counts are sums, so they do not depend on the ranges)."""
    workers = parallel_workers(str(path))
    if workers <= 1:
        return _count_shingles_of(reporting(iter_lines(path), progress), stride)
    ranges = parallel.split_ranges(str(path), workers * RANGES_PER_WORKER)  # several per worker: progress

    def job(index: int) -> ShingleCounts:
        part = ranges[index]
        with open(path, "rb", buffering=READ_BUFFER) as stream:
            stream.seek(part.start)
            lines = iter_stream(stream, first_lineno=part.first_line, start_offset=part.start, end_offset=part.end)
            return _count_shingles_of(lines, stride)

    def done(index: int) -> None:  # a range at a time, as each finishes: the workers cannot call it
        if progress is not None:
            progress(ranges[index].end - ranges[index].start)

    counts = ShingleCounts()
    for part in parallel.map_ordered(job, len(ranges), workers, done=done):
        counts.merge(part)
    return counts


def _count_shingles_of(lines: Iterable[RawLine], stride: int) -> ShingleCounts:
    counts = ShingleCounts()
    for raw in lines:
        if (raw.lineno - 1) % stride:
            continue
        record = read_object(raw.data)  # as check reads it: never a value nested beyond the limit
        if record is not None:
            counts.add(words_of(detect_format(record), record))
    return counts


def find_overlap(train_path: str | os.PathLike[str], valid_path: str | os.PathLike[str], *,
                 threshold: float = DEFAULT_THRESHOLD, kinds: Iterable[str] = OVERLAP_KINDS,
                 num_perm: int = DEFAULT_NUM_PERM, within_near: bool = False,
                 progress: Callable[[int], None] | None = None) -> OverlapReport:
    """Compare a training and a validation file: leaking validation lines and each file's duplicates.

    One pass over each file. With near-duplicate search on, the smaller file (by size on disk) is read
    first and its signatures indexed (after a first pass over both that learns their template shingles,
    see :func:`learn_template`); the larger file is then streamed against that index, so only the
    smaller side's signatures are held. ``within_near`` also searches near-duplicates inside each file,
    which indexes both files' signatures. ``progress`` is called with byte counts as each file is read: once
    each, twice with near-duplicate search (the template, then the comparison). Raises
    :class:`~ftprep.errors.InputError` for unreadable files and ``ValueError`` for a threshold outside (0, 1] or
    an unknown kind.
    """
    kinds = tuple(k for k in OVERLAP_KINDS if k in set(kinds))
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    near = NEAR in kinds
    valid_first = _size(valid_path) <= _size(train_path)
    small_path, large_path = (valid_path, train_path) if valid_first else (train_path, valid_path)
    template = learn_template(small_path, large_path, progress=progress) if near or within_near else None
    small = DigestCollector(signatures=near, within_near=within_near, threshold=threshold, num_perm=num_perm,
                            template=template)
    scan_records(small_path, small, progress)
    large = DigestCollector(within_near=within_near, threshold=threshold, num_perm=num_perm,
                            probe=small.index if near else None, probe_is_validation=valid_first,
                            template=template)
    scan_records(large_path, large, progress)
    train, valid = (large, small) if valid_first else (small, large)
    return OverlapReport(
        train_path=display_name(train_path), validation_path=display_name(valid_path),
        train_examples=len(train), validation_examples=len(valid), threshold=threshold, kinds=kinds,
        pairs=tuple(compare_collectors(train, valid, kinds=kinds)),
        train_duplicates=tuple(find_duplicates(train)), validation_duplicates=tuple(find_duplicates(valid)),
    )
