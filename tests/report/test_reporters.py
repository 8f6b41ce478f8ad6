"""One snapshot per check reporter, over the broken sample (set FTPREP_UPDATE_SNAPSHOTS=1 to rewrite them)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ftprep.check import check_files
from ftprep.report import CHECK_REPORTERS
from ftprep.report.github import render as render_github
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
        assert result["partialFingerprints"]["ftprepFinding/v1"]


def test_github_annotations_are_capped_with_a_summary(broken_result) -> None:  # type: ignore[no-untyped-def]
    lines = render_github(broken_result, limit=3).splitlines()
    assert len(lines) == 4
    assert all(line.startswith("::error ") for line in lines[:3])
    assert lines[3].startswith("::notice title=ftprep::") and "more not annotated" in lines[3]
