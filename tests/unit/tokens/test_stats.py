"""Token statistics: exact sums, percentiles, limits, merging."""

from __future__ import annotations

import math
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from ftprep.data.models import load_models
from ftprep.tokens.encoding import get_encoding
from ftprep.tokens.stats import TokenCollector, histogram_of, percentile

O200K = get_encoding("o200k_base")


def record(words: int, weight: int = 1) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": "hi"},
                         {"role": "assistant", "content": " x" * words, "weight": weight}]}


def feed(collector: TokenCollector, records: list[dict[str, Any]], first_line: int = 1) -> TokenCollector:
    for i, r in enumerate(records):
        collector.observe(first_line + i, "chat", r, orjson.dumps(r))
    return collector.finish()


def test_totals_per_example_in_line_order() -> None:
    # user: 3 + 1 + 1 ("hi"); assistant: 3 + 1 + words (" x" is one token); primer 3
    collector = feed(TokenCollector(O200K), [record(1), record(10), record(5)])
    assert list(collector.totals) == [13, 22, 17]
    assert list(collector.lines) == [1, 2, 3]
    assert collector.trainable == 5 + 14 + 9
    assert collector.roles["user"] == 15 and collector.roles["other"] == 9


def test_percentiles_interpolate() -> None:
    values = list(range(1, 11))
    assert (percentile(values, 50), percentile(values, 5), percentile(values, 95)) == (5.5, 1.45, 9.55)


def test_summary() -> None:
    summary = feed(TokenCollector(O200K), [record(n) for n in (1, 2, 3, 4)]).summary()
    assert (summary.min, summary.max, summary.median, summary.mean) == (13, 16, 14.5, 14.5)


def test_over_limit_counts_and_truncated_tokens() -> None:
    table = load_models({"tiny": {"encoding": "o200k_base", "limit": {"value": 15}}})
    collector = feed(TokenCollector(O200K, table.resolve("tiny")), [record(1), record(10), record(5)])
    assert (collector.over_limit, collector.truncated_tokens) == (2, 7 + 2)
    assert collector.over_limit_lines == [2, 3]
    assert collector.billing_tokens == 13 + 15 + 15


def test_zero_trainable_counted() -> None:
    assert feed(TokenCollector(O200K), [record(3, weight=0), record(3)]).zero_trainable == 1


def test_merge_equals_single_pass() -> None:
    records = [record(n) for n in range(30)]
    whole = feed(TokenCollector(O200K), records)
    first = feed(TokenCollector(O200K), records[:13])
    first.merge(feed(TokenCollector(O200K), records[13:], first_line=14))
    assert (first.totals, first.lines, first.trainable, first.roles) == \
        (whole.totals, whole.lines, whole.trainable, whole.roles)


def test_histogram_covers_every_example() -> None:
    collector = feed(TokenCollector(O200K), [record(n) for n in range(100)])
    bins = collector.histogram(10)
    assert sum(c for _, _, c in bins) == 100
    assert (bins[0][0], bins[-1][1]) == (12, 111)


def test_counted_as_observed_equals_batched_and_added() -> None:
    from ftprep.tokens.accounting import Accountant

    records = [record(n, weight=n % 2) for n in range(40)] + [
        {"messages": [{"role": "system", "content": "Be brief. " * 40}, {"role": "user", "content": "q"},
                      {"role": "assistant", "content": "a"}],
         "tools": [{"type": "function", "function": {"name": "f", "description": "F."}}]}] * 5
    direct = feed(TokenCollector(O200K), records)
    threaded = feed(TokenCollector(O200K, num_threads=2), records)
    added = TokenCollector(O200K)
    accountant = Accountant(O200K)
    for line, r in enumerate(records, 1):
        added.add(line, "chat", accountant.count(r, "chat"))
    for other in (threaded, added):
        assert (other.totals, other.lines, other.trainable, other.roles, other.zero_trainable, other.kinds) == \
            (direct.totals, direct.lines, direct.trainable, direct.roles, direct.zero_trainable, direct.kinds)


def test_examples_observed_after_a_merge_or_an_add_get_their_own_totals() -> None:
    """The totals come from running sums per bucket: whatever was added before (a merged range, an example
    counted elsewhere) is not part of the next example's total."""
    from ftprep.tokens.accounting import Accountant

    records = [record(n, weight=n % 2) for n in range(12)]
    whole = feed(TokenCollector(O200K), records)
    mixed = feed(TokenCollector(O200K), records[:4])
    mixed.merge(feed(TokenCollector(O200K), records[4:8], first_line=5))
    feed(mixed, records[8:10], first_line=9)
    mixed.add(11, "chat", Accountant(O200K).count(records[10], "chat"))
    feed(mixed, records[11:], first_line=12)
    assert (mixed.totals, mixed.lines, mixed.trainable, mixed.roles, mixed.zero_trainable, mixed.kinds) == \
        (whole.totals, whole.lines, whole.trainable, whole.roles, whole.zero_trainable, whole.kinds)


@given(st.lists(st.integers(0, 2**32 - 1), max_size=300) | st.lists(st.integers(0, 40), max_size=300),
       st.integers(1, 12))
@settings(max_examples=300, deadline=None)
def test_histogram_puts_each_value_in_its_bin(values: list[int], bins: int) -> None:
    """Bin ``i`` of equal width ``w`` from the minimum holds the values with ``(value - min) // w == i`` (the last
    bin also the few above it); bins starting above the maximum are left out."""
    result = histogram_of(values, bins)
    if not values:
        assert result == []
        return
    low, high = min(values), max(values)
    width = max(1, math.ceil((high - low + 1) / bins))
    expected = [0] * bins
    for value in values:
        expected[min((value - low) // width, bins - 1)] += 1
    assert result == [(low + i * width, min(low + (i + 1) * width - 1, high), count)
                      for i, count in enumerate(expected) if low + i * width <= high]
    assert sum(count for _, _, count in result) == len(values)
