"""The JSON contract (DESIGN.md): one object with files, findings and a summary; or JSON Lines of findings."""

from __future__ import annotations

from typing import Any

from ftprep.check import CheckResult
from ftprep.lint.finding import Finding
from ftprep.report.options import DEFAULT_OPTIONS, ReportOptions, group_by_rule, rule_totals, share
from ftprep.textsafe import dumps_json

SCHEMA_VERSION = 1


def shown_findings(result: CheckResult, max_findings: int | None) -> list[Finding]:
    """The findings to list: all (``max_findings`` None), else each rule's share, worst first, in file and
    line order."""
    findings = result.findings
    if max_findings is None or result.total <= max_findings:
        return findings
    groups = group_by_rule(result)
    counts = share([g.count for g in groups], max_findings)
    kept = [f for group, n in zip(groups, counts, strict=True) for f in group.findings[:n]]
    return sorted(kept, key=Finding.sort_key)


def to_data(result: CheckResult, options: ReportOptions = DEFAULT_OPTIONS) -> dict[str, Any]:
    """The report as plain data: every finding unless ``options.max_findings`` caps them (``omitted`` says
    how many were left out; ``by_rule`` counts them all)."""
    total = result.total
    listed = shown_findings(result, options.max_findings)
    return {
        "version": SCHEMA_VERSION,
        "files": [
            {"path": s.path, "format": s.kind, "method": s.method, "lines": s.lines, "examples": s.examples,
             "errors": s.errors, "warnings": s.warnings}
            for s in result.files
        ],
        "findings": [f.to_dict() for f in listed],
        "summary": {
            "target": result.target,
            "model": result.model,
            "files": len(result.files),
            "examples": sum(s.examples for s in result.files),
            "errors": result.errors,
            "warnings": result.warnings,
            "info": total - result.errors - result.warnings,
            "by_rule": {t.code: t.count for t in rule_totals(result)},
            "omitted": total - len(listed),
        },
    }


def render(result: CheckResult, options: ReportOptions = DEFAULT_OPTIONS) -> str:
    """Pretty-printed JSON object."""
    return dumps_json(to_data(result, options), indent=True) + "\n"


def render_lines(result: CheckResult, options: ReportOptions = DEFAULT_OPTIONS) -> str:
    """One finding per line (JSON Lines), capped as :func:`render` caps them."""
    return "".join(dumps_json(f.to_dict()) + "\n" for f in shown_findings(result, options.max_findings))
