"""Plain text for people, grouped as linters group it: per file and rule, errors first, each fix once with
the lines it applies to, a capped number of findings, totals per rule, then a verdict per file."""

from __future__ import annotations

from dataclasses import replace

from ftprep.check import CheckResult
from ftprep.lint.finding import Finding
from ftprep.report.options import (
    DEFAULT_OPTIONS,
    ReportOptions,
    RuleGroup,
    group_by_rule,
    line_list,
    plural,
    rule_totals,
    share,
)
from ftprep.textsafe import escape_controls

# Distinct fixes printed per rule and file (a fix that names a line, as FT502's, differs on every line).
MAX_FIXES = 3
# Totals per rule follow the findings when some were left out, or when there are more than this many.
TOTALS_FROM = 20


def printable(finding: Finding) -> Finding:
    """The finding with the text that may come from the data (path, pointer, message, fix) fit for a
    terminal: control characters and lone surrogates written as escapes (:mod:`ftprep.textsafe`).

    Every text-like view (text, GitHub annotations, the upload gate's listing) renders this, not the raw
    finding: a JSON key such as ``"\u001b[2J"`` in a message would otherwise clear the screen.
    """
    return replace(
        finding,
        path=escape_controls(finding.path),
        pointer=escape_controls(finding.pointer) if finding.pointer else finding.pointer,
        message=escape_controls(finding.message),
        fix=escape_controls(finding.fix),
    )


def format_location(finding: Finding) -> str:
    """``path:line:col`` (``path`` alone for file-level findings)."""
    where = finding.path
    if finding.line is not None:
        where += f":{finding.line}"
        if finding.column is not None:
            where += f":{finding.column}"
    return where


def render_finding(finding: Finding) -> str:
    """Two lines: location, code, severity, message and pointer; then the fix (the upload gate's listing)."""
    finding = printable(finding)
    at = f" at {finding.pointer}" if finding.pointer else ""
    head = f"{format_location(finding)}: {finding.code} {finding.severity.value} [{finding.name}] {finding.message}{at}"
    return head + (f"\n    fix: {finding.fix}" if finding.fix else "")


def summary_line(result: CheckResult) -> str:
    """One line: files, examples, errors, warnings."""
    examples = sum(s.examples for s in result.files)
    errors, warnings = result.errors, result.warnings
    info = result.total - errors - warnings
    files = len(result.files)
    return (f"{files} file{'s' if files != 1 else ''}, {examples} example{'s' if examples != 1 else ''} "
            f"(model {escape_controls(result.model)}, target {escape_controls(result.target)}): "
            f"{errors} error{'s' if errors != 1 else ''}, "
            f"{warnings} warning{'s' if warnings != 1 else ''}, {info} info")


def _group_lines(group: RuleGroup, shown: int) -> list[str]:
    """A rule's findings in one file: a header with the count, the findings shown, then each distinct fix
    once with the lines it applies to."""
    total = group.count
    if total == 1 and shown == 1:
        return render_finding(group.findings[0]).split("\n")
    path = escape_controls(group.path)
    out = [f"{path}: {group.code} {group.severity.value} [{group.name}]: {plural(total, 'finding')}"]
    for finding in group.findings[:shown]:
        finding = printable(finding)
        at = f" at {finding.pointer}" if finding.pointer else ""
        out.append(f"  {format_location(finding)}: {finding.message}{at}")
    if shown == 0:
        out.append(f"  (not shown: {plural(total, 'finding')})")
    elif shown < total:
        out.append(f"  ... {total - shown:,} more {group.code} in this file")
    # A rule none of whose findings is shown keeps to one fix: the totals say the rest.
    most = MAX_FIXES if shown else 1
    fixes, distinct = group.fixes(most)
    for fix, lines in fixes:
        numbered = [line for line in lines if line]
        where = f" (line{'s' if len(numbered) > 1 else ''} {line_list(numbered)})" if numbered else ""
        out.append(f"  fix{where}: {escape_controls(fix)}")
    if distinct > most:
        out.append(f"  ({distinct - most:,} other fix{'es' if distinct - most != 1 else ''}: "
                   "--output-format json lists each)")
    return out


def statistics_lines(result: CheckResult) -> list[str]:
    """Findings per rule over every file: count, code, severity, name."""
    totals = rule_totals(result)
    if not totals:
        return []
    width = max(len(f"{t.count:,}") for t in totals)
    return [f"{plural(result.total, 'finding')} by rule:",
            *(f"  {t.count:>{width},}  {t.code}  {t.severity.value:<7}  {t.name}" for t in totals)]


def render(result: CheckResult, options: ReportOptions = DEFAULT_OPTIONS) -> str:
    """The text report: findings grouped by file and rule, errors first, at most ``options.max_findings``
    of them (each rule gets its share); per-rule totals; a verdict per file; the summary. With
    ``options.statistics`` the totals replace the findings."""
    total = result.total
    lines: list[str] = []
    hidden = 0
    if not options.statistics:
        groups = group_by_rule(result)
        counts = share([g.count for g in groups], options.max_findings)
        for group, shown in zip(groups, counts, strict=True):
            lines += _group_lines(group, shown)
        hidden = total - sum(counts)
    totals = statistics_lines(result)
    if totals and (options.statistics or hidden or total > TOTALS_FROM):
        lines += totals
    if hidden:
        lines.append(f"{hidden:,} of {plural(total, 'finding')} not shown "
                     f"(--max-findings {options.max_findings}); --max-findings 0 or --output-format json "
                     "shows all")
    for scan in result.files:
        verdict = "ok" if scan.errors == 0 else "FAILS"
        lines.append(f"{escape_controls(scan.path)}: {verdict} - {scan.kind or 'unknown'} format, "
                     f"{scan.examples} example(s), method {scan.method}, {scan.errors} error(s), "
                     f"{scan.warnings} warning(s)")
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"
