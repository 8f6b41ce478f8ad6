"""The JSON contract (DESIGN.md): one object with files, findings and a summary; or JSON Lines of findings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ftprep.check import CheckResult
from ftprep.lint.finding import Finding
from ftprep.report.options import DEFAULT_OPTIONS, ReportOptions, group_by_rule, rule_totals, share
from ftprep.textsafe import dumps_json

SCHEMA_VERSION = 1


def shown_findings(result: CheckResult, max_findings: int | None) -> list[Finding]:
    """The findings to list: all (``max_findings`` None), else each rule's share, worst first, in file and
    line order."""
    if max_findings is None or result.total <= max_findings:
        return result.findings
    groups = group_by_rule(result)
    counts = share([g.count for g in groups], max_findings)
    kept = [f for group, n in zip(groups, counts, strict=True) for f in group.findings[:n]]
    return sorted(kept, key=Finding.sort_key)


def to_data(result: CheckResult, options: ReportOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    """The report as plain data: every finding unless ``options.max_findings`` caps them (``omitted`` says
    how many were left out; ``by_rule`` counts them all)."""
    listed = shown_findings(result, options.max_findings)
    data = _document(result, len(listed))
    data["findings"] = [f.to_dict() for f in listed]
    return data


def _document(result: CheckResult, listed: int) -> dict[str, Any]:
    """The report without its findings (an empty list in their place)."""
    total = result.total
    return {
        "version": SCHEMA_VERSION,
        "files": [
            {"path": s.path, "format": s.kind, "method": s.method, "lines": s.lines, "examples": s.examples,
             "errors": s.errors, "warnings": s.warnings}
            for s in result.files
        ],
        "findings": [],
        "summary": {
            "target": result.target,
            "model": result.model,
            "files": len(result.files),
            "examples": sum(s.examples for s in result.files),
            "errors": result.errors,
            "warnings": result.warnings,
            "info": total - result.errors - result.warnings,
            "by_rule": {t.code: t.count for t in rule_totals(result)},
            "omitted": total - listed,
        },
    }


# Findings written at a time: the report of a million findings is never one string in memory.
CHUNK = 4096
_FINDINGS_SLOT = '\n  "findings": []'


def write(result: CheckResult, options: ReportOptions, out: Callable[[str], object]) -> None:
    """The pretty-printed JSON object, written to ``out`` a few thousand findings at a time; the same text as
    :func:`render`."""
    listed = shown_findings(result, options.max_findings)
    # The key only appears as a key: inside a JSON string a quote is escaped and a newline is "\n".
    head, tail = dumps_json(_document(result, len(listed)), indent=True).split(_FINDINGS_SLOT, 1)
    if not listed:
        out(head + _FINDINGS_SLOT + tail + "\n")
        return
    out(head + '\n  "findings": [\n')
    for start in range(0, len(listed), CHUNK):
        # A list of findings pretty-printed alone, its brackets cut and each line indented one level more.
        lines = dumps_json([f.to_dict() for f in listed[start:start + CHUNK]], indent=True).split("\n")[1:-1]
        out(("" if start == 0 else ",\n") + "\n".join("  " + line for line in lines))
    out("\n  ]" + tail + "\n")


def write_lines(result: CheckResult, options: ReportOptions, out: Callable[[str], object]) -> None:
    """One finding per line (JSON Lines), capped as :func:`render` caps them, a few thousand at a time."""
    listed = shown_findings(result, options.max_findings)
    for start in range(0, len(listed), CHUNK):
        out("".join(dumps_json(f.to_dict()) + "\n" for f in listed[start:start + CHUNK]))


def render(result: CheckResult, options: ReportOptions = DEFAULT_OPTIONS) -> str:
    """Pretty-printed JSON object."""
    parts: list[str] = []
    write(result, options, parts.append)
    return "".join(parts)


def render_lines(result: CheckResult, options: ReportOptions = DEFAULT_OPTIONS) -> str:
    """One finding per line (JSON Lines), capped as :func:`render` caps them."""
    parts: list[str] = []
    write_lines(result, options, parts.append)
    return "".join(parts)
