"""Views of results: one module per output format; ``CHECK_REPORTERS`` maps a format name to its renderer."""

from __future__ import annotations

from typing import Protocol

from ftprep.check import CheckResult
from ftprep.report import github, sarif, text
from ftprep.report import json as json_report
from ftprep.report.options import DEFAULT_OPTIONS, TEXT_MAX_FINDINGS, ReportOptions


class CheckReporter(Protocol):
    """Renders a check result as one output format."""

    def __call__(self, result: CheckResult, options: ReportOptions = DEFAULT_OPTIONS, /) -> str:
        """The report as text."""


CHECK_REPORTERS: dict[str, CheckReporter] = {
    "text": text.render,
    "json": json_report.render,
    "jsonl": json_report.render_lines,
    "sarif": sarif.render,
    "github": github.render,
}

__all__ = ["CHECK_REPORTERS", "TEXT_MAX_FINDINGS", "CheckReporter", "ReportOptions"]
