"""Views of results: one module per output format; ``CHECK_REPORTERS`` maps a format name to its renderer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ftprep.check import CheckResult
from ftprep.report import github, sarif, text
from ftprep.report import json as json_report
from ftprep.report.options import DEFAULT_OPTIONS, TEXT_MAX_FINDINGS, ReportOptions


class CheckReporter(Protocol):
    """Renders a check result as one output format."""

    def __call__(self, result: CheckResult, options: ReportOptions = DEFAULT_OPTIONS, /) -> str:
        """The report as text."""


class CheckWriter(Protocol):
    """Writes a check result as one output format, piece by piece (a report too large for one string)."""

    def __call__(self, result: CheckResult, options: ReportOptions, out: Callable[[str], object], /) -> None:
        """Pass the report's text to ``out``, in order."""


# The formats whose report grows with every finding: written piece by piece (the same text as rendered).
CHECK_WRITERS: dict[str, CheckWriter] = {"json": json_report.write, "jsonl": json_report.write_lines}

CHECK_REPORTERS: dict[str, CheckReporter] = {
    "text": text.render,
    "json": json_report.render,
    "jsonl": json_report.render_lines,
    "sarif": sarif.render,
    "github": github.render,
}



def findings_to_keep(output_format: str, options: ReportOptions) -> int:
    """How many findings of each rule a report lists at most per file (0: all): ``check_files``'s
    ``keep_findings``, so that a file with a million findings is not held in memory to list fifty. The
    report is the same as from every finding (tests/report/test_kept_findings.py)."""
    if output_format == "github":
        return github.MAX_PER_LEVEL
    if output_format == "text" and options.statistics:
        return 1
    return options.max_findings or 0


__all__ = ["CHECK_REPORTERS", "CHECK_WRITERS", "TEXT_MAX_FINDINGS", "CheckReporter", "CheckWriter", "ReportOptions",
           "findings_to_keep"]
