"""On every corpus file, within-file duplicates found in two steps (prompt keys in the pass, full digests of
the lines sharing a prompt) equal those of one digest collector over every line, and ``ftprep check`` on
the file and on standard input (which is read once, so it keeps full digests) reports the same findings,
repeated lines (FT502) included."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import orjson
import pytest

from ftprep.check import check_files
from ftprep.overlap import DigestCollector, find_duplicates
from ftprep.overlap.compare import PromptKeys
from ftprep.overlap.normalize import last_prompt_segment, record_text
from ftprep.overlap_pass import find_file_duplicates, scan_records
from tests.conftest import CORPUS

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this clone")]

FILES = sorted(CORPUS.rglob("*.jsonl")) if CORPUS.is_dir() else []


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_two_step_duplicates_equal_one_collector(path: Path) -> None:
    keys, collector = PromptKeys(), DigestCollector()
    scan_records(path, keys)
    scan_records(path, collector)
    assert find_file_duplicates(path, keys) == find_duplicates(collector)


def test_corpus_holds_duplicates_for_the_comparison_to_mean_something() -> None:
    found = 0
    for path in FILES:
        collector = DigestCollector()
        scan_records(path, collector)
        found += len(find_duplicates(collector))
    assert found > 0


@pytest.mark.parametrize("path", [p for p in FILES if p.stat().st_size < 5_000_000],
                         ids=lambda p: p.name)
def test_check_of_a_file_and_of_stdin_agree(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # FT502 too: a file finds repeated lines in the second step, standard input from every line's digest.
    as_file = check_files([str(path)], select=["FT52", "FT502"])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(path.read_bytes())))
    as_stdin = check_files(["-"], select=["FT52", "FT502"])
    assert [(f.code, f.line, f.message) for f in as_file.findings] == \
           [(f.code, f.line, f.message) for f in as_stdin.findings]


def test_last_prompt_segment_is_the_last_of_the_record_text_prompt_on_every_row() -> None:
    # Every corpus row read as every kind: the shortcut walks (chat with and without an assistant message,
    # DPO input) give the segment the whole record text ends its prompt with.
    rows = kinds = 0
    for path in FILES:
        with path.open("rb") as handle:
            for line in handle:
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                rows += 1
                for kind in ("chat", "preference", "completion", None):
                    prompt = record_text(kind, record).prompt
                    assert last_prompt_segment(kind, record) == (prompt[-1] if prompt else None), (path, line)
                    kinds += 1
    assert rows > 40_000 and kinds == 4 * rows
