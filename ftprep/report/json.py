"""The JSON contract (DESIGN.md): one object with files, findings and a summary; or JSON Lines of findings."""

from __future__ import annotations

from typing import Any

from ftprep.check import CheckResult
from ftprep.textsafe import dumps_json

SCHEMA_VERSION = 1


def to_data(result: CheckResult) -> dict[str, Any]:
    """The report as plain data."""
    findings = result.findings
    return {
        "version": SCHEMA_VERSION,
        "files": [
            {"path": s.path, "format": s.kind, "method": s.method, "lines": s.lines, "examples": s.examples,
             "errors": s.errors, "warnings": s.warnings}
            for s in result.files
        ],
        "findings": [f.to_dict() for f in findings],
        "summary": {
            "target": result.target,
            "model": result.model,
            "files": len(result.files),
            "examples": sum(s.examples for s in result.files),
            "errors": result.errors,
            "warnings": result.warnings,
            "info": len(findings) - result.errors - result.warnings,
        },
    }


def render(result: CheckResult) -> str:
    """Pretty-printed JSON object."""
    return dumps_json(to_data(result), indent=True) + "\n"


def render_lines(result: CheckResult) -> str:
    """One finding per line (JSON Lines)."""
    return "".join(dumps_json(f.to_dict()) + "\n" for f in result.findings)
