"""One snapshot per check reporter, over the broken sample (set FTPREP_UPDATE_SNAPSHOTS=1 to rewrite them)."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import jsonschema
import pytest

from ftprep.check import check_files
from ftprep.lint.finding import Finding, Severity
from ftprep.report import CHECK_REPORTERS, TEXT_MAX_FINDINGS, ReportOptions, sarif
from ftprep.report import json as json_report
from ftprep.report.github import render as render_github
from ftprep.report.github import step_summary
from ftprep.textsafe import dumps_json
from tests.conftest import REPO, TODAY

SNAPSHOTS = Path(__file__).parent / "snapshots"
SUFFIX = {"text": "txt", "json": "json", "jsonl": "jsonl", "sarif": "sarif.json", "github": "github.txt"}


@pytest.fixture
def broken_result(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(REPO)
    return check_files(["samples/chat_broken.jsonl"], today=TODAY)


@pytest.mark.parametrize("fmt", sorted(CHECK_REPORTERS))
def test_reporter_snapshot(fmt: str, broken_result) -> None:  # type: ignore[no-untyped-def]
    rendered = CHECK_REPORTERS[fmt](broken_result)
    snapshot = SNAPSHOTS / f"check.{SUFFIX[fmt]}"
    if os.environ.get("FTPREP_UPDATE_SNAPSHOTS"):
        snapshot.write_text(rendered)
    assert rendered == snapshot.read_text()


def test_sarif_declares_every_rule_it_references(broken_result) -> None:  # type: ignore[no-untyped-def]
    log = json.loads(CHECK_REPORTERS["sarif"](broken_result))
    run = log["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert log["version"] == "2.1.0"
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["partialFingerprints"][sarif.FINGERPRINT_KEY]


def test_github_caps_annotations_per_level_then_counts_each_rule(broken_result) -> None:  # type: ignore[no-untyped-def]
    lines = render_github(broken_result, limit=3).splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert len(errors) == 3 and len(warnings) == 2  # 13 errors, 2 warnings in the sample
    # three different rules get the three error annotations (each rule its share)
    assert len({line.split("title=")[1].split(" ")[0] for line in errors}) == 3
    per_rule = [line for line in lines if line.startswith("ftprep: FT")]
    assert len(per_rule) == 14 and "ftprep: FT209 error [unknown-top-level-key]: 2 findings" in per_rule[0]
    assert lines[-1].startswith("::notice title=ftprep::") and "10 more not annotated" in lines[-1]


def test_github_step_summary_is_a_table_of_rules(broken_result) -> None:  # type: ignore[no-untyped-def]
    summary = step_summary(broken_result)
    assert "| samples/chat_broken.jsonl | **fails** | chat | 13 | 13 | 2 |" in summary
    assert "| FT209 | unknown-top-level-key | error | 2 |" in summary


def _many_findings(tmp_path: Path, rows: int = 10_000) -> Path:
    """A chat file of ``rows`` lines cycling through 5 kinds of error (FT209, FT203, FT208, FT207, FT101)."""
    lines = []
    for i in range(rows):
        record: dict[str, object] = {"messages": [{"role": "user", "content": f"q{i}"},
                                                  {"role": "assistant", "content": f"a{i}"}]}
        kind = i % 5
        if kind == 0:
            record["id"] = i
        elif kind == 1:
            record["messages"][0]["role"] = "human"  # type: ignore[index]
        elif kind == 2:
            record["messages"] = record["messages"][:1]  # type: ignore[index]
        elif kind == 3:
            record["messages"][1]["weight"] = 0.5  # type: ignore[index]
        line = json.dumps(record)
        lines.append(line[:-1] if kind == 4 else line)
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


FIVE_RULES = ("FT101", "FT203", "FT207", "FT208", "FT209")


def test_text_report_of_10000_broken_lines_stays_short_and_counts_every_rule(tmp_path: Path) -> None:
    path = str(_many_findings(tmp_path))
    result = check_files([path], today=TODAY)
    assert len(result.findings) == 10_000
    text = CHECK_REPORTERS["text"](result, ReportOptions(max_findings=TEXT_MAX_FINDINGS))
    lines = text.splitlines()
    assert len(lines) < 200
    sections: dict[str, list[str]] = {}
    for line in lines:
        if line.startswith(f"{path}: FT"):
            sections[line.split()[1]] = body = []
        elif line.startswith("  ") and sections:
            body.append(line)
    assert sorted(sections) == list(FIVE_RULES)  # errors first: every rule has its group
    for code in FIVE_RULES:
        assert f"2,000  {code}  error" in text  # the totals table
        shown = [line for line in sections[code] if line.startswith(f"  {path}:")]
        fixes = [line for line in sections[code] if line.startswith("  fix (lines ")]
        assert len(shown) == TEXT_MAX_FINDINGS // 5 and len(fixes) == 1  # each rule its share, its fix once
        assert f"  ... 1,990 more {code} in this file" in sections[code]
    assert "9,950 of 10,000 findings not shown (--max-findings 50)" in text


def test_text_groups_errors_before_warnings_across_files(tmp_path: Path) -> None:
    warned = tmp_path / "a.jsonl"
    warned.write_text("\n".join(json.dumps({"messages": [{"role": "user", "content": "q"},
                                                         {"role": "assistant", "content": " "}]})
                                for _ in range(12)) + "\n")
    broken = tmp_path / "b.jsonl"
    broken.write_text(json.dumps({"messages": [{"role": "human", "content": "q"}]}) + "\n")
    text = CHECK_REPORTERS["text"](check_files([str(warned), str(broken)], today=TODAY))
    assert text.index("FT203 error") < text.index("FT300 warning")


def test_statistics_prints_totals_instead_of_findings(broken_result) -> None:  # type: ignore[no-untyped-def]
    text = CHECK_REPORTERS["text"](broken_result, ReportOptions(statistics=True))
    assert "unknown key 'contents'" not in text
    assert "15 findings by rule:" in text and "  2  FT209  error    unknown-top-level-key" in text


def test_json_caps_findings_only_when_asked_and_counts_the_rest(tmp_path: Path) -> None:
    result = check_files([str(_many_findings(tmp_path, 100))], today=TODAY)
    full = json.loads(CHECK_REPORTERS["json"](result))
    assert len(full["findings"]) == 100 and full["summary"]["omitted"] == 0
    capped = json.loads(CHECK_REPORTERS["json"](result, ReportOptions(max_findings=10)))
    assert len(capped["findings"]) == 10 and capped["summary"]["omitted"] == 90
    assert capped["summary"]["by_rule"] == dict.fromkeys(FIVE_RULES, 20)
    assert {f["code"] for f in capped["findings"]} == set(FIVE_RULES)


def test_sarif_caps_results_per_rule_with_true_counts(tmp_path: Path) -> None:
    result = check_files([str(_many_findings(tmp_path, 1000))], today=TODAY)
    log = json.loads(CHECK_REPORTERS["sarif"](result, ReportOptions(max_findings=7)))
    run = log["runs"][0]
    assert len(run["results"]) == 35
    counted = {r["id"]: r["properties"] for r in run["tool"]["driver"]["rules"] if "properties" in r}
    assert counted == {code: {"findings": 200, "results": 7} for code in FIVE_RULES}
    assert run["properties"] == {"findings": 1000, "results": 35, "omitted": 965, "maxResultsPerRule": 7}


def test_sarif_is_valid_against_the_2_1_0_schema(tmp_path: Path, broken_result) -> None:  # type: ignore[no-untyped-def]
    schema = json.loads((Path(__file__).parent / "sarif" / "sarif-schema-2.1.0.json").read_text())
    validator = jsonschema.Draft4Validator(schema)
    for result in (broken_result, check_files([str(_many_findings(tmp_path, 200))], today=TODAY)):
        log = json.loads(CHECK_REPORTERS["sarif"](result))
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
        assert errors == []


def _prints(path: Path) -> dict[tuple[str, int], str]:
    log = json.loads(sarif.render(check_files([str(path)], today=TODAY)))
    return {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]):
            r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in log["runs"][0]["results"]}


def test_sarif_fingerprints_survive_a_line_inserted_above(tmp_path: Path) -> None:
    lines = [json.dumps({"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]})
             for i in range(12)]
    lines[3] = json.dumps({"messages": [{"role": "human", "content": "q"}, {"role": "assistant", "content": "a"}]})
    lines[7] = lines[1]  # FT502 "same bytes as line 2": a message naming a line number
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n")
    before = _prints(path)
    path.write_text("\n".join([lines[0].replace("q0", "new"), *lines]) + "\n")
    after = _prints(path)
    assert set(before) == {("FT203", 4), ("FT502", 8)} and set(after) == {("FT203", 5), ("FT502", 9)}
    assert before[("FT203", 4)] == after[("FT203", 5)]
    assert before[("FT502", 8)] == after[("FT502", 9)]
    assert len(set(before.values())) == 2


def test_sarif_fingerprints_differ_for_the_same_problem_in_other_records(tmp_path: Path) -> None:
    result = check_files([str(_many_findings(tmp_path, 100))], today=TODAY)
    log = json.loads(sarif.render(result))
    prints = [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in log["runs"][0]["results"]]
    assert len(prints) == len(set(prints)) == 100


def test_a_finding_as_json_has_every_field_in_order() -> None:
    finding = Finding(code="FT208", name="no-assistant", severity=Severity.WARNING, path="a.jsonl", line=3,
                      column=None, pointer="/messages", message="m", fix="f")
    expected = {**dataclasses.asdict(finding), "severity": "warning"}
    assert finding.to_dict() == expected and list(finding.to_dict()) == list(expected)


@pytest.mark.parametrize("chunk", [1, 7, 4096])
@pytest.mark.parametrize("cap", [None, 30])
def test_json_written_in_pieces_is_the_document_dumped_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             chunk: int, cap: int | None) -> None:
    result = check_files([str(_many_findings(tmp_path, 100))], today=TODAY)
    options = ReportOptions(max_findings=cap)
    monkeypatch.setattr(json_report, "CHUNK", chunk)
    pieces: list[str] = []
    json_report.write(result, options, pieces.append)
    assert "".join(pieces) == dumps_json(json_report.to_data(result, options), indent=True) + "\n"
    assert len(pieces) >= min(len(result.findings), cap or 100) // chunk  # written piece by piece
    lines: list[str] = []
    json_report.write_lines(result, options, lines.append)
    assert "".join(lines) == "".join(dumps_json(f) + "\n" for f in json_report.to_data(result, options)["findings"])


def test_json_of_a_clean_file_keeps_its_empty_findings_list(tmp_path: Path) -> None:
    path = tmp_path / "ok.jsonl"
    path.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"q{i}"},
                                                     {"role": "assistant", "content": f"a{i}"}]}) + "\n"
                            for i in range(12)))
    result = check_files([str(path)], today=TODAY, ignore=["FT6"])
    assert not result.findings
    text = json_report.render(result)
    assert text == dumps_json(json_report.to_data(result), indent=True) + "\n" and '"findings": []' in text
