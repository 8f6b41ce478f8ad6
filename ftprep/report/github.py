"""GitHub Actions workflow commands: one annotation per finding, capped, then a summary line."""

from __future__ import annotations

from ftprep.check import CheckResult
from ftprep.lint.finding import Finding, Severity
from ftprep.report.text import printable, summary_line

# GitHub shows at most 10 errors and 10 warnings per step; more only adds noise to the log.
MAX_ANNOTATIONS = 50
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


def render(result: CheckResult, limit: int = MAX_ANNOTATIONS) -> str:
    """Annotations for the first ``limit`` findings (errors first), then a summary notice."""
    findings = sorted(result.findings, key=lambda f: (f.severity.rank, *f.sort_key()))
    lines = [annotation(f) for f in findings[:limit]]
    hidden = len(findings) - limit
    summary = summary_line(result)
    if hidden > 0:
        summary += f" ({hidden} more not annotated; run `ftprep check` locally for all)"
    lines.append(f"::notice title=ftprep::{_escape_data(summary)}")
    return "\n".join(lines) + "\n"
