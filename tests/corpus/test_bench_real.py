"""bench/real.py: the real-data benchmark files are made of corpus rows, every row unique, and ``check`` finds
no duplicate in them (skipped when ../shared/corpus is absent)."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest

from ftprep.check import check_files
from ftprep.formats.detect import detect_format
from tests.conftest import CORPUS, REPO

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this clone")]

sys.path.insert(0, str(REPO / "bench"))
import real  # noqa: E402

DUPLICATE_CODES = {"FT502", "FT524", "FT525", "FT526", "FT527"}


def test_real_rows_are_the_corpus_chat_and_dpo_rows_each_unique(tmp_path: Path) -> None:
    rows = real.corpus_rows(CORPUS)
    path = tmp_path / "real.jsonl"
    counts = real.write(path, 25_000_000, CORPUS)  # more than one pass over the corpus rows
    lines = path.read_bytes().splitlines()
    assert counts["rows"] == len(lines) and counts["passes"] == 2 and counts["corpus_rows"] == len(rows)
    assert len(set(lines)) == len(lines)
    kinds = {detect_format(orjson.loads(line)) for line in lines}
    assert kinds == {"chat", "preference"}
    for index, line in enumerate(lines):
        assert f" #{index}".encode() in line
    result = check_files([str(path)])
    assert not DUPLICATE_CODES & {f.code for f in result.findings}
    # The same rows copied without the suffix are duplicates: the check above can find them.
    copied = tmp_path / "copied.jsonl"
    copied.write_bytes(b"\n".join(rows[:2000] * 2) + b"\n")
    assert DUPLICATE_CODES & {f.code for f in check_files([str(copied)]).findings}


def test_multilingual_conversations_are_unique_and_some_are_long(tmp_path: Path) -> None:
    path = tmp_path / "multi.jsonl"
    counts = real.write_multilingual(path, 3_000_000, CORPUS)
    lines = path.read_bytes().splitlines()
    assert counts["rows"] == len(lines) and len(set(lines)) == len(lines)
    assert counts["long_lines"] == sum(len(line) + 1 > 32_768 for line in lines) > 0
    assert not DUPLICATE_CODES & {f.code for f in check_files([str(path)]).findings}
