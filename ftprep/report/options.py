"""What every check reporter shares: the options a person chooses (how many findings to show, totals only)
and the aggregates they are built from (findings grouped by file and rule, totals per rule, a fair share
of the findings to show)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ftprep.lint.context import Omitted
from ftprep.lint.finding import Finding, Severity

if TYPE_CHECKING:
    from ftprep.check import CheckResult

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
    """The findings of one rule in one file: those kept, in line order, and those only counted
    (:attr:`~ftprep.engine.FileScan.omitted`, which a capped report need not keep)."""

    path: str
    code: str
    name: str
    severity: Severity
    findings: tuple[Finding, ...]
    omitted: Omitted | None = None

    @property
    def count(self) -> int:
        """How many findings the rule has in the file, the counted ones included."""
        return len(self.findings) + (self.omitted.count if self.omitted is not None else 0)

    def fixes(self, most: int) -> tuple[list[tuple[str, list[int]]], int]:
        """The first ``most`` distinct fixes, by the line each first applies to, each with its lines (0 for a
        file-level finding), and how many distinct fixes there are; an empty fix is none."""
        lines = [f.line or 0 for f in self.findings]
        keys = [hash(f.fix) for f in self.findings]
        texts = {key: f.fix for key, f in zip(keys, self.findings, strict=True)}
        if self.omitted is not None:
            lines += self.omitted.lines
            keys += self.omitted.fix_hashes
            for key, text in self.omitted.texts.items():
                texts.setdefault(key, text)
        empty = hash("")
        first: dict[int, int] = {}
        for line, key in zip(lines, keys, strict=True):
            if key != empty and (key not in first or line < first[key]):
                first[key] = line
        chosen = sorted(first, key=first.__getitem__)[:most]
        where: dict[int, list[int]] = {key: [] for key in chosen}
        for line, key in zip(lines, keys, strict=True):
            if key in where:
                where[key].append(line)
        return [(texts[key], where[key]) for key in chosen], len(first)


@dataclass(frozen=True, slots=True)
class RuleTotal:
    """How many findings one rule has over every file."""

    code: str
    name: str
    severity: Severity
    count: int


def group_by_rule(result: CheckResult) -> list[RuleGroup]:
    """The result's findings grouped per file and rule: errors first, then warnings, then info; within a
    severity, files in the order they were given and rules by code."""
    order = {scan.path: number for number, scan in enumerate(result.files)}
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in result.findings:
        order.setdefault(finding.path, len(order))
        groups.setdefault((finding.path, finding.code), []).append(finding)
    tallies = {(scan.path, code): tally for scan in result.files for code, tally in scan.omitted.items()
               if tally.count}
    built = []
    for key in [*groups, *(key for key in tallies if key not in groups)]:
        items, tally = groups.get(key, []), tallies.get(key)
        name, severity = (items[0].name, items[0].severity) if items else (tally.name, tally.severity)  # type: ignore[union-attr]
        built.append(RuleGroup(key[0], key[1], name, severity, tuple(items), tally))
    return sorted(built, key=lambda g: (g.severity.rank, order[g.path], g.code))


def rule_totals(result: CheckResult) -> list[RuleTotal]:
    """Findings per rule over every file, the counted ones included: the worst severity first, then the most
    frequent."""
    counts: dict[str, int] = {}
    first: dict[str, tuple[str, Severity]] = {}
    # In any order (a rule's name and severity are the same in every file): not result.findings, which sorts.
    for finding in (f for findings in [*(scan.findings for scan in result.files), result.extra_findings]
                    for f in findings):
        counts[finding.code] = counts.get(finding.code, 0) + 1
        first.setdefault(finding.code, (finding.name, finding.severity))
    for scan in result.files:
        for code, tally in scan.omitted.items():
            if tally.count:
                counts[code] = counts.get(code, 0) + tally.count
                first.setdefault(code, (tally.name, tally.severity))
    totals = [RuleTotal(code, *first[code], n) for code, n in counts.items()]
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
