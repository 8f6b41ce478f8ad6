"""Run the real rules of ``ftprep check`` on one record at a time (for convert's output rows).

The engine's own pass is reused on a one-line input; only line-level errors count, because file-level
findings (too few examples, format/model mismatch) say nothing about the row itself.
"""

from __future__ import annotations

from ftprep.check import expected_kinds
from ftprep.data.models import load_models
from ftprep.engine import ScanOptions, all_codes, scan_lines
from ftprep.jsonl.reader import RawLine
from ftprep.lint.finding import Finding, Severity


class RecordChecker:
    """Checks serialised records against every rule, for a model and method, as ``ftprep check`` would."""

    def __init__(self, model: str, method: str) -> None:
        info = load_models().resolve(model)
        self.options = ScanOptions(enabled=all_codes(), model=info.name, method=method,
                                   expected_kinds=expected_kinds(info, method), model_label=model,
                                   min_examples=1)

    def errors(self, data: bytes) -> list[Finding]:
        """The error findings of one record's line (``data`` without EOL)."""
        scan = scan_lines("<record>", [RawLine(1, 0, data, b"\n")], self.options)
        return [f for f in scan.findings if f.severity is Severity.ERROR and f.line is not None]
