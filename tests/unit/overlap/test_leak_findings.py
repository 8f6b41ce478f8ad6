"""overlap_findings: one finding per leaking validation line (FT520-FT523), strict makes them errors."""

from __future__ import annotations

from pathlib import Path

from ftprep.lint.finding import Severity
from ftprep.overlap_pass import find_overlap
from ftprep.rules.overlap import overlap_findings
from tests.unit.overlap.leakset import build


def test_each_leak_kind_has_its_code_at_the_validation_line(tmp_path: Path) -> None:
    train, valid, _, _ = build(tmp_path)
    findings = overlap_findings(str(train), str(valid), find_overlap(train, valid))
    assert [(f.code, f.line, f.severity) for f in findings] == [
        ("FT520", 2, Severity.WARNING), ("FT521", 4, Severity.WARNING), ("FT522", 5, Severity.WARNING),
        ("FT523", 7, Severity.WARNING)]
    assert findings[0].message == f"validation example is the same record as training example at {train}:4"
    assert all(f.path == str(valid) for f in findings)


def test_strict_raises_severity_and_keeps_codes(tmp_path: Path) -> None:
    train, valid, _, _ = build(tmp_path)
    findings = overlap_findings(str(train), str(valid), find_overlap(train, valid), strict=True)
    assert {f.severity for f in findings} == {Severity.ERROR}
    assert [f.code for f in findings] == ["FT520", "FT521", "FT522", "FT523"]


def test_enabled_filters_codes(tmp_path: Path) -> None:
    train, valid, _, _ = build(tmp_path)
    findings = overlap_findings(str(train), str(valid), find_overlap(train, valid), enabled={"FT522"})
    assert [f.code for f in findings] == ["FT522"]
