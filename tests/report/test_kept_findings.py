"""A capped report is the same whether the check kept every finding or only what the report lists.

``ftprep check`` passes ``check_files(keep_findings=findings_to_keep(...))``: each rule keeps its first
findings per file and byte range, and the rest are counted with their lines and fixes
(:class:`ftprep.lint.context.Omitted`). Every report a format and cap give must be byte-identical to the
report of the full list: totals, shares, "N more", fixes with their line lists, "other fixes" counts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftprep import engine
from ftprep.check import CheckResult, check_files
from ftprep.report import CHECK_REPORTERS, ReportOptions, findings_to_keep
from tests.conftest import CORPUS, TODAY


def _rows(count: int) -> list[str]:
    """Chat rows with many findings of rules whose fixes differ: FT209 (a fix per unknown key), FT208,
    FT101 (bad JSON), FT502 (a fix naming the line repeated), FT524-style duplicates, blank lines."""
    lines = []
    for i in range(count):
        record: dict[str, object] = {"messages": [{"role": "user", "content": f"q{i % 700}"},
                                                  {"role": "assistant", "content": f"a{i % 700}"}]}
        kind = i % 7
        if kind == 0:
            record[f"key{i % 23}"] = i  # FT209: 23 distinct fixes
        elif kind == 1:
            record["messages"] = record["messages"][:1]  # type: ignore[index]
        elif kind == 2:
            lines.append("")  # a blank line between records
        line = json.dumps(record)
        lines.append(line[:-1] if kind == 3 else line)
    return lines


@pytest.fixture
def many(tmp_path: Path) -> list[str]:
    first = tmp_path / "a.jsonl"
    first.write_text("\n".join(_rows(6_000)) + "\n")
    second = tmp_path / "b.jsonl"
    second.write_text("\n".join(_rows(900)[::-1]) + "\n")
    return [str(first), str(second)]


@pytest.fixture
def many_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut every file into 2 x 24 ranges, so that each range keeps its own first findings."""
    monkeypatch.setattr(engine, "RANGES_PER_WORKER", 24)


CASES = [("text", None), ("text", 50), ("text", 7), ("text", 1), ("json", 40), ("jsonl", 3), ("sarif", 100),
         ("sarif", 2), ("github", None)]


def _reports(paths: list[str], fmt: str, cap: int | None, statistics: bool = False) -> tuple[str, str, CheckResult]:
    options = ReportOptions(max_findings=cap, statistics=statistics)
    keep = findings_to_keep(fmt, options)
    full = check_files(paths, today=TODAY)
    kept = check_files(paths, today=TODAY, keep_findings=keep)
    return CHECK_REPORTERS[fmt](full, options), CHECK_REPORTERS[fmt](kept, options), kept


@pytest.mark.parametrize(("fmt", "cap"), CASES)
def test_a_capped_report_from_kept_findings_is_the_report_of_every_finding(many: list[str], many_ranges: None,
                                                                           fmt: str, cap: int | None) -> None:
    full, kept, result = _reports(many, fmt, cap)
    assert kept == full
    if cap is not None or fmt == "github":
        # The check did keep fewer: the report is not the same only because nothing was left out.
        assert len(result.findings) < result.total and result.total > 2_000


def test_statistics_from_one_finding_per_rule(many: list[str]) -> None:
    full, kept, result = _reports(many, "text", 50, statistics=True)
    assert kept == full and len(result.findings) < 100 < result.total


def test_the_exit_code_counts_the_findings_not_kept(many: list[str]) -> None:
    full = check_files(many, today=TODAY)
    kept = check_files(many, today=TODAY, keep_findings=1)
    assert (kept.errors, kept.warnings, kept.total) == (full.errors, full.warnings, len(full.findings))
    assert [(s.errors, s.warnings) for s in kept.files] == [(s.errors, s.warnings) for s in full.files]


def test_a_target_severity_applies_to_the_findings_not_kept(many: list[str]) -> None:
    # Azure makes some rules warnings or info; the counted findings must move with the kept ones.
    full = check_files(many, today=TODAY, target="together")
    kept = check_files(many, today=TODAY, target="together", keep_findings=2)
    options = ReportOptions(max_findings=2)
    assert CHECK_REPORTERS["json"](kept, options) == CHECK_REPORTERS["json"](full, options)
    assert (kept.errors, kept.warnings) == (full.errors, full.warnings)


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this clone")
def test_the_corpus_text_reports_are_the_same_from_kept_findings() -> None:
    files = sorted(str(p) for p in CORPUS.rglob("*.jsonl"))
    options = ReportOptions(max_findings=5)
    compared = 0
    for path in files:
        full = check_files([path], today=TODAY)
        kept = check_files([path], today=TODAY, keep_findings=findings_to_keep("text", options))
        assert CHECK_REPORTERS["text"](kept, options) == CHECK_REPORTERS["text"](full, options), path
        compared += len(full.findings) > len(kept.findings)
    assert compared >= 5  # files where findings were left out
