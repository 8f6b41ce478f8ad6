"""Views of results: one module per output format; ``CHECK_REPORTERS`` maps a format name to its renderer."""

from __future__ import annotations

from collections.abc import Callable

from ftprep.check import CheckResult
from ftprep.report import github, sarif, text
from ftprep.report import json as json_report

CheckReporter = Callable[[CheckResult], str]

CHECK_REPORTERS: dict[str, CheckReporter] = {
    "text": text.render,
    "json": json_report.render,
    "jsonl": json_report.render_lines,
    "sarif": sarif.render,
    "github": github.render,
}

__all__ = ["CHECK_REPORTERS", "CheckReporter"]
