"""Byte-range parallelism: split a file at newlines, run a job per range in this process and forked
worker processes, and hand the results out in range order.

Workers are forked, so a job (a closure over the rule registry, options and observers) needs no
pickling on the way in; only each range's result is pickled back (and the results of the ranges this
process runs itself are pickled too, so they are alike). Results are handed out in range order, which
lets the caller fold them exactly as one process would have met the lines.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar

T = TypeVar("T")
_COUNT_CHUNK = 1024 * 1024


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
    numbers its lines as a single pass would. A parallel pass uses :class:`LineNumbers` instead, which
    counts while the workers already run.
    """
    bounds = range_bounds(path, count)
    with open(path, "rb") as stream:
        firsts = list(_first_lines(stream, bounds))
    return [ByteRange(start, end, first) for (start, end), first in zip(bounds, firsts, strict=True)]


def range_bounds(path: str, count: int, *, small_tail: int = 0) -> list[tuple[int, int]]:
    """``(start, end)`` of at most ``count`` newline-aligned byte ranges of about equal size (a few seeks),
    except the last ``small_tail``, which are half as large: the workers then finish closer together."""
    size = os.path.getsize(path)
    small_tail = min(small_tail, count)
    weights = [2] * (count - small_tail) + [1] * small_tail
    total = sum(weights)
    starts = [0]
    with open(path, "rb") as stream:
        done = 0
        for k in range(1, count):
            done += weights[k - 1]
            target = size * done // total
            if target <= starts[-1]:
                continue
            boundary = _line_start_after(stream, target - 1)
            if boundary >= size:
                break
            if boundary > starts[-1]:
                starts.append(boundary)
    return [(start, starts[i + 1] if i + 1 < len(starts) else size) for i, start in enumerate(starts)]


def _first_lines(stream: io.BufferedReader, bounds: list[tuple[int, int]]) -> Iterator[int]:
    """The number of the first line of each range: 1, then 1 + the newlines before each next range."""
    first_line = 1
    stream.seek(0)
    # One buffer read into again and again: a new bytes object per chunk costs page faults, and a buffer
    # that fits in the CPU caches makes the count about a third faster.
    buffer = bytearray(_COUNT_CHUNK)
    for start, end in bounds:
        yield first_line
        remaining = end - start
        while remaining > 0:
            with memoryview(buffer) as view:
                got = stream.readinto(view[:min(_COUNT_CHUNK, remaining)])
            if not got:
                break
            first_line += buffer.count(b"\n", 0, got)
            remaining -= got


class LineNumbers:
    """First line numbers of byte ranges, counted by a thread of this process while forked workers already
    check the first ranges (counting 100 MB of newlines takes about 0.1 s, which workers used to wait for).

    Create it before the workers are forked (they share its array and events), call :meth:`start` after,
    and :meth:`first_line` in a worker waits until that range's number is known.
    """

    def __init__(self, path: str, bounds: list[tuple[int, int]]) -> None:
        context = multiprocessing.get_context("fork")
        self.path = path
        self.bounds = bounds
        self._numbers = context.RawArray("q", len(bounds))
        self._ready = [context.Event() for _ in bounds]
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Count in a background thread."""
        self._thread = threading.Thread(target=self._count, name="ftprep-line-numbers", daemon=True)
        self._thread.start()

    def _count(self) -> None:
        try:
            with open(self.path, "rb") as stream:
                for index, first in enumerate(_first_lines(stream, self.bounds)):
                    self._numbers[index] = first
                    self._ready[index].set()
        except Exception:  # whatever stopped the count, no worker may wait for it forever
            for index, event in enumerate(self._ready):
                if not event.is_set():
                    self._numbers[index] = -1
                    event.set()

    def first_line(self, index: int) -> int:
        """The number of range ``index``'s first line (waits for the counting thread). Raises OSError when
        the lines could not be counted."""
        self._ready[index].wait()
        first = int(self._numbers[index])
        if first < 0:
            raise OSError(f"cannot count the lines of {self.path}")
        return first

    def join(self) -> None:
        """Wait for the counting thread."""
        if self._thread is not None:
            self._thread.join()


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


class WorkerLost(RuntimeError):
    """A worker process ended without sending the result of the job it had taken."""

    def __init__(self, exitcode: int) -> None:
        how = f"was killed by signal {-exitcode}" if exitcode < 0 else f"ended with exit code {exitcode}"
        super().__init__(f"a worker process {how}")
        self.exitcode = exitcode


def _portable(exc: BaseException) -> bytes:
    """A worker's exception, pickled for the parent (as a RuntimeError naming it when it cannot be)."""
    try:
        return pickle.dumps(exc, pickle.HIGHEST_PROTOCOL)
    except Exception:  # any pickling failure: send what can be sent
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"), pickle.HIGHEST_PROTOCOL)


# prctl(2) option: the signal a process gets when the thread that forked it ends (Linux only).
_PR_SET_PDEATHSIG = 1
_ORPHAN_POLL_SECONDS = 0.2


def _kernel_kills_orphan() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where that cannot be asked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):  # no libc prctl (an unusual libc): fall back to polling
        return False


def _watch_parent(parent: int) -> None:
    """Poll for the parent's death (where the kernel cannot be asked to signal it) and end this process."""
    while os.getppid() == parent:
        time.sleep(_ORPHAN_POLL_SECONDS)
    os._exit(1)


def die_with_parent(parent: int) -> None:
    """Make this forked worker end as soon as its parent ``parent`` does.

    A SIGKILL of the parent (a CI step cancelled, a timeout) otherwise leaves the worker running its
    range for minutes, or blocked for ever on a lock or an event the parent held, and holding the
    caller's stderr open, so whoever waits for that pipe to close waits too. On Linux the kernel sends
    SIGKILL when the parent dies (``PR_SET_PDEATHSIG``); elsewhere a thread polls ``getppid``. Both are
    checked against a parent that died before the request was made.
    """
    if not _kernel_kills_orphan():
        threading.Thread(target=_watch_parent, args=(parent,), name="ftprep-orphan-watch", daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def _work(job: Callable[[int], Any], take: Callable[[], int | None], results: Any, parent: int) -> None:
    """A worker process: take job indexes until none is left, send each result pickled (or the error).

    It ends with its parent (:func:`die_with_parent`). It also stops after the job in hand when its parent
    has gone, and then exits without waiting for its results to be read: nobody would read them (the
    queue's thread would wait for ever)."""
    die_with_parent(parent)
    index: int | None = None
    try:
        while os.getppid() == parent and (index := take()) is not None:
            results.put((index, True, pickle.dumps(job(index), pickle.HIGHEST_PROTOCOL)))
    except BaseException as exc:  # every failure goes to the parent, which raises it
        results.put((index, False, _portable(exc)))
    finally:
        if os.getppid() != parent:
            results.cancel_join_thread()


def map_ordered(job: Callable[[int], T], count: int, workers: int,
                done: Callable[[int], None] | None = None,
                started: Callable[[], None] | None = None,
                tick: Callable[[], None] | None = None, interval: float = 0.1) -> Iterator[T]:
    """Yield ``job(0) ... job(count - 1)``, computed by this process and ``workers - 1`` forked ones, in
    index order.

    Every process, this one included, takes the next job index from a shared counter, so the jobs spread
    over the processes as they finish. This process works too, rather than only waiting for results: what
    it holds when the workers are forked (a tokenizer of 50 MB, say) is then mapped by ``workers``
    processes, not ``workers + 1``. Each result is pickled, as it would be to cross from a worker, so
    where a job ran makes no difference to what is yielded.

    ``done(index)`` is called in this process as each job finishes (in any order), e.g. for progress;
    ``started()`` once the workers are forked (to start threads they must not inherit); ``tick()`` every
    ``interval`` seconds while this process waits for a worker's result (e.g. to read the progress the
    workers write in shared memory, see :class:`RangeProgress`). All three run in the calling thread. An
    exception in a job is raised here; a worker that dies without a result raises :class:`WorkerLost`. Results
    wait in memory only until the ones before them arrive.
    """
    context = multiprocessing.get_context("fork")
    counter = context.RawValue("q", 0)
    lock = context.Lock()
    results = context.Queue()

    def take() -> int | None:
        with lock:
            index = int(counter.value)
            if index >= count:
                return None
            counter.value = index + 1
            return index

    waiting: dict[int, T] = {}

    def keep(index: int, ok: bool, payload: bytes) -> None:
        value = pickle.loads(payload)
        if not ok:
            raise value
        if done is not None:
            done(index)
        waiting[index] = value

    children: list[Any] = []
    # Objects that exist before the fork go to the permanent generation: a collection in a worker would
    # otherwise touch every one of them and copy their pages (the tokenizer alone is tens of MB).
    gc.freeze()
    try:
        for _ in range(min(workers, count) - 1):
            child = context.Process(target=_work, args=(job, take, results, os.getpid()), daemon=True)
            child.start()
            children.append(child)
        if started is not None:
            started()
        following = 0
        own = True
        while following < count:
            while True:  # what the workers sent so far
                try:
                    keep(*results.get_nowait())
                except queue.Empty:
                    break
            index = take() if own else None
            if index is not None:
                keep(index, True, pickle.dumps(job(index), pickle.HIGHEST_PROTOCOL))
            else:
                own = False
                if following not in waiting:
                    try:
                        keep(*results.get(timeout=interval))
                    except queue.Empty:
                        if tick is not None:
                            tick()
                        dead = [c.exitcode for c in children if c.exitcode not in (None, 0)]
                        if dead:
                            raise WorkerLost(dead[0]) from None
            while following in waiting:
                yield waiting.pop(following)
                following += 1
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()
            child.join()
        results.close()
        results.join_thread()
        gc.unfreeze()


class RangeProgress:
    """Bytes read so far in each byte range, in shared memory: the process reading a range writes only that
    range's slot (no lock needed), the parent sums them and reports what is new.

    Create it before the workers are forked. :meth:`reader` gives the callback for a range's reads, in a
    worker or in the parent (which then reports at once: it cannot tick while it reads); in the parent,
    :meth:`report` calls ``progress`` with the bytes read since the last report (:meth:`finished` marks a
    range complete).
    """

    def __init__(self, sizes: list[int], progress: Callable[[int], None]) -> None:
        self.sizes = sizes
        self.progress = progress
        self._read = multiprocessing.get_context("fork").RawArray("q", len(sizes))
        self._finished = [False] * len(sizes)
        self._reported = 0
        self._parent = os.getpid()

    def reader(self, index: int) -> Callable[[int], None]:
        """The callback a worker passes to its read of range ``index``: adds the bytes read to its slot."""
        slots = self._read
        parent = self._parent

        def advance(count: int) -> None:
            slots[index] += count
            if os.getpid() == parent:  # a range this process reads itself: it cannot tick meanwhile
                self.report()

        return advance

    def finished(self, index: int) -> None:
        self._finished[index] = True
        self.report()

    def report(self) -> None:
        read = self._read
        total = sum(size if end else min(read[index], size)
                    for index, (size, end) in enumerate(zip(self.sizes, self._finished, strict=True)))
        if total > self._reported:
            self.progress(total - self._reported)
            self._reported = total
