"""What every check reporter shares: the options a person chooses (how many findings to show, totals only)
and the aggregates they are built from (findings grouped by file and rule, totals per rule, a fair share
of the findings to show)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ftprep.lint.finding import Finding, Severity

# Findings the text report shows by default: enough to see every kind of problem at a glance, few enough to
# read (a 10,000-line file with 5 kinds of error printed 28,128 lines before this cap).
TEXT_MAX_FINDINGS = 50
# SARIF results per rule by default: GitHub code scanning rejects a run over 25,000 results, and ftprep has
# fewer than 100 rules (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/
# sarif-support-for-code-scanning#file-limits, as of 2026-12).
SARIF_MAX_PER_RULE = 100


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """``max_findings``: findings to show (None: all; the text and JSON reports share it, SARIF reads it
    as a cap per rule, GitHub's caps are its own); ``statistics``: per-rule totals instead of the findings
    (text). The command line's defaults are :data:`DEFAULT_MAX_FINDINGS`."""

    max_findings: int | None = None
    statistics: bool = False


DEFAULT_OPTIONS = ReportOptions()
# ``--max-findings`` when not given, per output format (others: all).
DEFAULT_MAX_FINDINGS = {"text": TEXT_MAX_FINDINGS, "sarif": SARIF_MAX_PER_RULE}


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """The findings of one rule in one file, in line order."""

    path: str
    code: str
    name: str
    severity: Severity
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class RuleTotal:
    """How many findings one rule has over every file."""

    code: str
    name: str
    severity: Severity
    count: int


def group_by_rule(findings: Sequence[Finding]) -> list[RuleGroup]:
    """Findings grouped per file and rule: errors first, then warnings, then info; within a severity, files
    in the order they were given and rules by code."""
    order: dict[str, int] = {}
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        order.setdefault(finding.path, len(order))
        groups.setdefault((finding.path, finding.code), []).append(finding)
    built = [RuleGroup(path, code, items[0].name, items[0].severity, tuple(items))
             for (path, code), items in groups.items()]
    return sorted(built, key=lambda g: (g.severity.rank, order[g.path], g.code))


def rule_totals(findings: Sequence[Finding]) -> list[RuleTotal]:
    """Findings per rule over every file, the worst severity first, then the most frequent."""
    counts: dict[str, int] = {}
    first: dict[str, Finding] = {}
    for finding in findings:
        counts[finding.code] = counts.get(finding.code, 0) + 1
        first.setdefault(finding.code, finding)
    totals = [RuleTotal(code, first[code].name, first[code].severity, n) for code, n in counts.items()]
    return sorted(totals, key=lambda t: (t.severity.rank, -t.count, t.code))


def share(sizes: Sequence[int], budget: int | None) -> list[int]:
    """How many of each group to show within ``budget`` (None: all): an equal share per group, what a small
    group leaves going to the larger ones, so that every kind of problem gets examples before any kind gets
    many. Groups come worst first; a budget smaller than the number of groups serves the first ones."""
    if budget is None:
        return list(sizes)
    shown = [0] * len(sizes)
    left = budget
    open_groups = [i for i, size in enumerate(sizes) if size]
    while left > 0 and open_groups:
        each = max(1, left // len(open_groups))
        for i in list(open_groups):
            take = min(each, sizes[i] - shown[i], left)
            shown[i] += take
            left -= take
            if shown[i] == sizes[i]:
                open_groups.remove(i)
            if left == 0:
                break
    return shown


def line_list(lines: Sequence[int], limit: int = 8) -> str:
    """``3, 5, 8-12 and 1,234 more``: line numbers with runs joined, at most ``limit`` items."""
    runs: list[tuple[int, int]] = []
    for line in sorted(set(lines)):
        if runs and line == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], line)
        else:
            runs.append((line, line))
    items = [f"{a:,}" if a == b else f"{a:,}-{b:,}" for a, b in runs[:limit]]
    rest = sum(b - a + 1 for a, b in runs[limit:])
    return ", ".join(items) + (f" and {rest:,} more" if rest else "")


def plural(count: int, word: str) -> str:
    """``1 error``, ``2 errors``, ``1,234 findings``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"
