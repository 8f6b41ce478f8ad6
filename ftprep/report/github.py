"""GitHub Actions workflow commands: at most 10 annotations per level, one log line per rule, a summary
notice; and the Markdown table for ``$GITHUB_STEP_SUMMARY``."""

from __future__ import annotations

from ftprep.check import CheckResult
from ftprep.lint.finding import Finding, Severity
from ftprep.report.options import DEFAULT_OPTIONS, ReportOptions, plural, rule_totals, share
from ftprep.report.text import printable, summary_line
from ftprep.textsafe import escape_controls

# GitHub shows at most 10 error, 10 warning and 10 notice annotations per step; more only add noise to the
# log (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands, as of 2026-12).
MAX_PER_LEVEL = 10
COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    """``::error file=...,line=...,col=...,title=...::message``."""
    finding = printable(finding)
    props = [f"file={_escape_property(finding.path)}"]
    if finding.line is not None:
        props.append(f"line={finding.line}")
    if finding.column is not None:
        props.append(f"col={finding.column}")
    props.append(f"title={_escape_property(f'{finding.code} {finding.name}')}")
    at = f" at {finding.pointer}" if finding.pointer else ""
    fix = f" Fix: {finding.fix}" if finding.fix else ""
    return f"::{COMMANDS[finding.severity]} {','.join(props)}::{_escape_data(finding.message + at + '.' + fix)}"


def render(result: CheckResult, options: ReportOptions = DEFAULT_OPTIONS, *, limit: int = MAX_PER_LEVEL) -> str:
    """Annotations for the first ``limit`` findings of each severity (errors first), then one log line per
    rule with its count and how many were annotated, then a summary notice. ``options`` is not read: the
    caps are GitHub's."""
    findings = sorted(result.findings, key=lambda f: (f.severity.rank, *f.sort_key()))
    totals = rule_totals(result)
    annotated: list[Finding] = []
    for severity in COMMANDS:
        # Each rule of a level gets its share of the level's annotations before any rule gets two.
        by_rule: dict[str, list[Finding]] = {}
        for finding in findings:
            if finding.severity is severity:
                by_rule.setdefault(finding.code, []).append(finding)
        counted = {t.code: t.count for t in totals if t.severity is severity}
        counts = share([counted[code] for code in by_rule], limit)
        annotated += [f for items, n in zip(by_rule.values(), counts, strict=True) for f in items[:n]]
    annotated.sort(key=lambda f: (f.severity.rank, *f.sort_key()))
    lines = [annotation(f) for f in annotated]
    shown = {t.code: 0 for t in totals}
    for finding in annotated:
        shown[finding.code] += 1
    for total in totals:
        lines.append(_escape_data(f"ftprep: {total.code} {total.severity.value} [{total.name}]: "
                                  f"{plural(total.count, 'finding')}, {shown[total.code]:,} annotated"))
    summary = summary_line(result)
    hidden = result.total - len(annotated)
    if hidden > 0:
        summary += f" ({hidden:,} more not annotated; run `ftprep check` locally for all)"
    lines.append(f"::notice title=ftprep::{_escape_data(summary)}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return escape_controls(text).replace("|", "\\|").replace("\n", " ")


def step_summary(result: CheckResult) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: a verdict per file and a table of findings per rule."""
    lines = ["## ftprep check", "", "| file | verdict | format | examples | errors | warnings |",
             "|---|---|---|---:|---:|---:|"]
    for scan in result.files:
        verdict = "ok" if scan.errors == 0 else "**fails**"
        lines.append(f"| {_cell(scan.path)} | {verdict} | {_cell(scan.kind or 'unknown')} | {scan.examples:,} | "
                     f"{scan.errors:,} | {scan.warnings:,} |")
    totals = rule_totals(result)
    if totals:
        lines += ["", "| rule | name | severity | findings |", "|---|---|---|---:|"]
        lines += [f"| {t.code} | {t.name} | {t.severity.value} | {t.count:,} |" for t in totals]
    lines += ["", _cell(summary_line(result)), ""]
    return "\n".join(lines)
