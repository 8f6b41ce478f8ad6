"""Token statistics of a file, collected in the engine's one pass.

:class:`TokenCollector` is a :class:`~ftprep.lint.context.RecordObserver`: the engine hands it every
parsed record; it counts tokens in batches and keeps only integers: one ``uint32`` per example plus sums,
so memory is O(examples) no matter how long the lines are. Collectors of consecutive byte ranges (the
engine's worker processes) merge in order; they pickle without their tokenizer, which is re-created from
its name where they are unpickled.
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from ftprep.data.models import ModelInfo
from ftprep.lint.context import shifted
from ftprep.tokens.accounting import (
    ASSISTANT,
    ASSISTANT_UNTRAINED,
    N_BUCKETS,
    OTHER,
    SYSTEM,
    TOOL,
    TOOLS_DEF,
    USER,
    Accountant,
    ExampleTokens,
)

if TYPE_CHECKING:  # tiktoken is imported where an encoding is built (start-up time of `check`)
    import tiktoken

ROLES = ("system", "user", "assistant", "tool", "tools", "other")
# Flush the batch at this many records or buffered line bytes: bounds memory, amortises thread start-up.
BATCH_RECORDS = 512
BATCH_BYTES = 8 * 1024 * 1024
MAX_LISTED_LINES = 20


@dataclass(frozen=True, slots=True)
class Summary:
    """Distribution of tokens per example: true percentiles (linear interpolation between ranks)."""

    mean: float
    median: float
    p5: float
    p95: float
    min: int
    max: int


def percentile(ordered: array[int] | list[int], q: float) -> float:
    """The ``q``-th percentile (0..100) of sorted values, interpolating linearly between closest ranks."""
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class TokenCollector:
    """Counts every record it observes and aggregates per-example totals, limits and role shares."""

    def __init__(self, enc: tiktoken.Encoding, model: ModelInfo | None = None, *,
                 limit: int | None = None, num_threads: int | None = None) -> None:
        # Records come parsed from JSON: equal tool definitions have equal JSON, so their count is cached.
        self.accountant = Accountant(enc, model, cache_tools=True)
        self.limit = limit if limit is not None else (model.max_tokens if model is not None else None)
        # One thread by default: tiktoken's batch encoder pays a thread-pool task per text, which costs
        # more than encoding a typical message (measured 3x slower on 2 cores); the engine's worker
        # processes give the parallelism instead. With one thread each record is counted as it comes.
        self.num_threads = num_threads or 1
        self.totals = array("I")
        self.lines = array("I")
        # Tokens per bucket of every example so far (see ftprep.tokens.accounting), and their sum.
        self.buckets = [0] * N_BUCKETS
        self._running = 0
        self.over_limit = 0
        self.truncated_tokens = 0
        self.zero_trainable = 0
        self.images_estimated = 0
        self.kinds: Counter[str] = Counter()
        self.over_limit_lines: list[int] = []
        self._batch: list[tuple[int, dict[str, Any], str]] = []
        self._batch_bytes = 0

    # -- RecordObserver ---------------------------------------------------------------------------

    def observe(self, line: int, kind: str, record: dict[str, Any], raw: bytes) -> None:
        """Count one record (with several threads: queue it; counted when the batch is full or at
        :meth:`flush`)."""
        if self.num_threads <= 1:
            # The walk adds the record's tokens to the running sums per bucket: the example's total is what
            # they grew by (no list per example to add up and add in: a third of the collector's own time).
            buckets = self.buckets
            trained = buckets[ASSISTANT]
            images = self.accountant.tally_into(buckets, record, kind)
            running = sum(buckets)
            self._counted(line, kind, running - self._running, buckets[ASSISTANT] == trained, images)
            self._running = running
            return
        self._batch.append((line, record, kind))
        self._batch_bytes += len(raw)
        if len(self._batch) >= BATCH_RECORDS or self._batch_bytes >= BATCH_BYTES:
            self.flush()

    def merge(self, other: Self) -> None:
        """Append the statistics of the following byte range."""
        self.flush()
        other.flush()
        self.totals.extend(other.totals)
        self.lines.extend(other.lines)
        self.buckets = [mine + theirs for mine, theirs in zip(self.buckets, other.buckets, strict=True)]
        self._running = sum(self.buckets)
        self.over_limit += other.over_limit
        self.truncated_tokens += other.truncated_tokens
        self.zero_trainable += other.zero_trainable
        self.images_estimated += other.images_estimated
        self.accountant.forced_cuts += other.accountant.forced_cuts
        self.kinds.update(other.kinds)
        room = MAX_LISTED_LINES - len(self.over_limit_lines)
        self.over_limit_lines.extend(other.over_limit_lines[:max(room, 0)])

    def shift_lines(self, offset: int) -> None:
        """Add ``offset`` to the line numbers (see :func:`ftprep.engine.relative_lines`)."""
        self.flush()
        self.lines = shifted(self.lines, offset)
        self.over_limit_lines = [line + offset for line in self.over_limit_lines]

    def __getstate__(self) -> dict[str, Any]:
        """Pickled state (from a worker process): everything counted, nothing queued."""
        self.flush()
        return dict(self.__dict__)

    # -- counting ---------------------------------------------------------------------------------

    def flush(self) -> None:
        """Count the queued records."""
        if not self._batch:
            return
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        counted = self.accountant.count_many([(record, kind) for _, record, kind in batch],
                                             num_threads=self.num_threads)
        for (line, _, kind), tokens in zip(batch, counted, strict=True):
            self.add(line, kind, tokens)

    def add(self, line: int, kind: str, tokens: ExampleTokens) -> None:
        """Add one counted example."""
        sums = [0] * N_BUCKETS
        sums[SYSTEM], sums[USER], sums[TOOL], sums[TOOLS_DEF] = tokens.system, tokens.user, tokens.tool, tokens.tools
        sums[ASSISTANT], sums[ASSISTANT_UNTRAINED] = tokens.trainable, tokens.assistant - tokens.trainable
        sums[OTHER] = tokens.other
        self._add(line, kind, tokens.total, sums, tokens.images_estimated)

    def _add(self, line: int, kind: str, total: int, sums: list[int], images_estimated: bool) -> None:
        """Add one counted example: its total and its tokens per bucket (see :mod:`ftprep.tokens.accounting`)."""
        self.buckets = list(map(int.__add__, self.buckets, sums))
        self._running += total
        self._counted(line, kind, total, sums[ASSISTANT] == 0, images_estimated)

    def _counted(self, line: int, kind: str, total: int, untrained: bool, images_estimated: bool) -> None:
        """Add one example whose tokens per bucket are added in: its total, whether it trains on nothing, whether
        an image size was assumed."""
        self.totals.append(total if total <= 0xFFFFFFFF else 0xFFFFFFFF)
        self.lines.append(line)
        self.kinds[kind] += 1
        if untrained:
            self.zero_trainable += 1
        if images_estimated:
            self.images_estimated += 1
        if self.limit is not None and total > self.limit:
            self.over_limit += 1
            self.truncated_tokens += total - self.limit
            if len(self.over_limit_lines) < MAX_LISTED_LINES:
                self.over_limit_lines.append(line)

    # -- results ----------------------------------------------------------------------------------

    @property
    def roles(self) -> dict[str, int]:
        """Token totals per role (``tools`` = definitions, ``other`` = primer and unknown roles)."""
        b = self.buckets
        return {"system": b[SYSTEM], "user": b[USER], "assistant": b[ASSISTANT] + b[ASSISTANT_UNTRAINED],
                "tool": b[TOOL], "tools": b[TOOLS_DEF], "other": b[OTHER]}

    @property
    def trainable(self) -> int:
        """Tokens trained on: assistant messages of weight other than 0 (completions, both DPO outputs)."""
        return self.buckets[ASSISTANT]

    @property
    def examples(self) -> int:
        """Number of examples counted (call :meth:`flush` first, or use :meth:`finish`)."""
        return len(self.totals)

    @property
    def total_tokens(self) -> int:
        """Sum of all example totals."""
        return sum(self.totals)

    @property
    def billing_tokens(self) -> int:
        """Sum over examples of min(limit, total): what one epoch is billed (truncation cuts the rest)."""
        return self.total_tokens - self.truncated_tokens

    def finish(self) -> Self:
        """Count what is still queued; returns self."""
        self.flush()
        return self

    def summary(self) -> Summary:
        """Mean, median, p5, p95, min and max tokens per example."""
        return summarise(self.totals)

    def histogram(self, bins: int = 10) -> list[tuple[int, int, int]]:
        """``bins`` equal-width bins ``(low, high, count)`` over [min, max]; ``high`` is inclusive."""
        return histogram_of(self.totals, bins)


def summarise(values: Sequence[int]) -> Summary:
    """Mean, median, p5, p95, min and max of token counts."""
    ordered = sorted(values)
    if not ordered:
        return Summary(0.0, 0.0, 0.0, 0.0, 0, 0)
    return Summary(mean=sum(ordered) / len(ordered), median=percentile(ordered, 50),
                   p5=percentile(ordered, 5), p95=percentile(ordered, 95), min=ordered[0], max=ordered[-1])


def histogram_of(values: Sequence[int], bins: int = 10) -> list[tuple[int, int, int]]:
    """``bins`` equal-width bins ``(low, high, count)`` over [min, max] of ``values``; ``high`` is inclusive."""
    if not values:
        return []
    # Sorted (in C; a sorted list again costs a pass), each bin's count is two bisections apart: a loop over the
    # values took as long as the sort (0.035 s for 168,554 examples).
    ordered = sorted(values)
    low, high = ordered[0], ordered[-1]
    width = max(1, math.ceil((high - low + 1) / bins))
    counts = []
    start = 0
    for i in range(bins):
        end = bisect.bisect_right(ordered, low + (i + 1) * width - 1) if i < bins - 1 else len(ordered)
        counts.append(end - start)
        start = end
    return [(low + i * width, min(low + (i + 1) * width - 1, high), c) for i, c in enumerate(counts)
            if low + i * width <= high]
