"""Plain text for people: one finding per line with its fix, then a summary."""

from __future__ import annotations

from dataclasses import replace

from ftprep.check import CheckResult
from ftprep.lint.finding import Finding
from ftprep.textsafe import escape_controls


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
    """Two lines: location, code, severity, message and pointer; then the fix."""
    finding = printable(finding)
    at = f" at {finding.pointer}" if finding.pointer else ""
    head = f"{format_location(finding)}: {finding.code} {finding.severity.value} [{finding.name}] {finding.message}{at}"
    return head + (f"\n    fix: {finding.fix}" if finding.fix else "")


def summary_line(result: CheckResult) -> str:
    """One line: files, examples, errors, warnings."""
    examples = sum(s.examples for s in result.files)
    info = len(result.findings) - result.errors - result.warnings
    files = len(result.files)
    return (f"{files} file{'s' if files != 1 else ''}, {examples} example{'s' if examples != 1 else ''} "
            f"(model {escape_controls(result.model)}, target {escape_controls(result.target)}): "
            f"{result.errors} error{'s' if result.errors != 1 else ''}, "
            f"{result.warnings} warning{'s' if result.warnings != 1 else ''}, {info} info")


def render(result: CheckResult) -> str:
    """The text report."""
    lines = [render_finding(f) for f in result.findings]
    for scan in result.files:
        verdict = "ok" if scan.errors == 0 else "FAILS"
        lines.append(f"{escape_controls(scan.path)}: {verdict} - {scan.kind or 'unknown'} format, "
                     f"{scan.examples} example(s), method {scan.method}, {scan.errors} error(s), "
                     f"{scan.warnings} warning(s)")
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"
