"""Byte-range parallelism: split a file at newlines, run a job per range in worker processes, in order.

Workers are forked, so a job (a closure over the rule registry, options and observers) needs no
pickling on the way in; only each range's result is pickled back. Results are handed out in range order,
which lets the caller fold them exactly as one process would have met the lines.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar

T = TypeVar("T")
_COUNT_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``start`` (a line start) to ``end`` (just after a newline, or the file size); first line number."""

    start: int
    end: int
    first_line: int


def usable_cpus() -> int:
    """CPUs this process may run on (the affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def fork_available() -> bool:
    """Whether worker processes can be forked (not on Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def split_ranges(path: str, count: int) -> list[ByteRange]:
    """Cut ``path`` into at most ``count`` newline-aligned ranges of about equal size, with line numbers.

    Reads the file once to count the newlines before each range (a C-speed scan), so that every worker
    numbers its lines as a single pass would.
    """
    size = os.path.getsize(path)
    starts = [0]
    with open(path, "rb") as stream:
        for k in range(1, count):
            target = size * k // count
            if target <= starts[-1]:
                continue
            boundary = _line_start_after(stream, target - 1)
            if boundary >= size:
                break
            if boundary > starts[-1]:
                starts.append(boundary)
        ranges: list[ByteRange] = []
        first_line = 1
        stream.seek(0)
        for index, start in enumerate(starts):
            end = starts[index + 1] if index + 1 < len(starts) else size
            ranges.append(ByteRange(start, end, first_line))
            remaining = end - start
            while remaining > 0:
                chunk = stream.read(min(_COUNT_CHUNK, remaining))
                if not chunk:
                    break
                first_line += chunk.count(b"\n")
                remaining -= len(chunk)
    return ranges


def _line_start_after(stream: BinaryIO, position: int) -> int:
    """Offset just after the first newline at or after ``position`` (the size when there is none)."""
    stream.seek(position)
    while True:
        chunk = stream.read(1 << 16)
        if not chunk:
            return stream.tell()
        found = chunk.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(chunk)


_JOB: Callable[[int], Any] | None = None


def _run(index: int) -> tuple[int, Any]:
    assert _JOB is not None, "worker started without a job"
    return index, _JOB(index)


def map_ordered(job: Callable[[int], T], count: int, workers: int,
                done: Callable[[int], None] | None = None) -> Iterator[T]:
    """Yield ``job(0) ... job(count - 1)``, computed by ``workers`` forked processes, in index order.

    ``done(index)`` is called in this process as each job finishes (in any order), e.g. for progress.
    An exception in a job is raised here. Results wait in memory only until the ones before them arrive.
    """
    global _JOB
    _JOB = job
    # Objects that exist before the fork go to the permanent generation: a collection in a worker would
    # otherwise touch every one of them and copy their pages (the tokenizer alone is tens of MB).
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(min(workers, count)) as pool:
            waiting: dict[int, T] = {}
            following = 0
            for index, result in pool.imap_unordered(_run, range(count)):
                if done is not None:
                    done(index)
                waiting[index] = result
                while following in waiting:
                    yield waiting.pop(following)
                    following += 1
    finally:
        _JOB = None
        gc.unfreeze()
