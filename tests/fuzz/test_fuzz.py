"""Fuzz suite (issue 19): generated inputs through check, fix, convert, split and estimate, in process.

Each batch file holds thousands of generated lines (mutated corpus rows, or records drawn by hypothesis)
and goes through every entry point. For each: no exception escapes; every input line is accounted for
(outputs + rejects + dropped blank lines = input lines); ``fix`` and ``convert`` write valid UTF-8 that
``check`` parses without a JSON or byte finding. Seeds are fixed, so CI sees the same inputs every run.
``FUZZ_SCALE`` (an environment variable, default 1) multiplies the number of batches for a longer local run.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ftprep.check import check_files
from ftprep.config import Config
from ftprep.estimation import estimate
from ftprep.transform.convert import ConvertOptions, convert_file
from ftprep.transform.fix import fix_file
from ftprep.transform.split import GROUP_BY, split_file

from .inputs import corpus_batch, hypothesis_lines

SCALE = int(os.environ.get("FUZZ_SCALE", "1"))
BATCH_LINES = 2_000
CORPUS_BATCHES = 50 * SCALE
HYPOTHESIS_EXAMPLES = 300 * SCALE
MINIMUM_INPUTS = 100_000
# Findings that mean "this line is not JSON or not clean bytes": none may appear in fix/convert output.
PARSE_CODES = ("FT0", "FT1")
CONVERT_TARGETS = ("chat", "completions", "dpo")
CONVERT_SOURCES = (None, "chat", "sharegpt", "alpaca", "completions", "preference", "dpo")
ISOLATED = Config()


@cache
def drawn_lines() -> tuple[bytes, ...]:
    return tuple(hypothesis_lines(HYPOTHESIS_EXAMPLES))


def batch(index: int) -> tuple[bytes, ...]:
    """Batch ``index``: corpus mutations, and the hypothesis lines as the last batch."""
    if index < CORPUS_BATCHES:
        return tuple(corpus_batch(index, BATCH_LINES))
    return drawn_lines()


BATCHES = list(range(CORPUS_BATCHES + 1))


def write_batch(folder: Path, lines: tuple[bytes, ...]) -> Path:
    path = folder / "fuzz.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def assert_clean_jsonl(path: Path) -> None:
    """The file is valid UTF-8 and every line parses: check reports no byte or JSON finding."""
    data = path.read_bytes()
    data.decode("utf-8")  # strict: raises on invalid UTF-8 (a lone surrogate written with surrogatepass)
    if not data:
        return
    findings = check_files([str(path)], config=ISOLATED, min_examples=1).findings
    bad = [(f.code, f.line, f.message) for f in findings if f.code.startswith(PARSE_CODES)]
    assert bad == []


def lines_in(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def json_document(lines: tuple[bytes, ...]) -> bytes:
    """The lines Python's json reads, as one JSON array (the JSON-document input of convert)."""
    items = []
    for line in lines:
        try:
            json.loads(line.decode("utf-8"))
        except (ValueError, RecursionError):
            continue
        items.append(line.removeprefix(b"\xef\xbb\xbf"))
    return b"[" + b",".join(items) + b"]"


def test_the_suite_runs_at_least_100000_inputs() -> None:
    # Every corpus batch holds BATCH_LINES lines; the hypothesis batch adds about 3,500 (asserted below).
    assert len(batch(0)) == BATCH_LINES and CORPUS_BATCHES * BATCH_LINES >= MINIMUM_INPUTS


@pytest.mark.parametrize("index", BATCHES)
def test_fuzz_batch(index: int, tmp_path: Path) -> None:
    lines = batch(index)
    path, count = write_batch(tmp_path, lines), len(lines)
    assert count >= (BATCH_LINES if index < CORPUS_BATCHES else 3_000 * SCALE)

    result = check_files([str(path)], config=ISOLATED)
    assert result.files[0].lines == count
    # One more check per batch, in turn: reinforcement with a grader, completions, DPO.
    grader = tmp_path / "grader.json"
    grader.write_text('{"type": "string_check", "name": "g", "input": "{{item.answer}}", '
                      '"reference": "{{item.reference.value}}", "operation": "eq"}')
    variants: list[dict[str, Any]] = [
        {"model": "o4-mini", "method": "reinforcement", "grader": str(grader)},
        {"model": "davinci-002"}, {"method": "dpo"}]
    check_files([str(path)], config=ISOLATED, **variants[index % len(variants)])

    fixed = fix_file(path, tmp_path / "fixed.jsonl", config=ISOLATED)
    assert fixed.accounting.inputs == count and fixed.accounting.balanced
    assert lines_in(tmp_path / "fixed.jsonl") == fixed.accounting.outputs["output"]
    assert lines_in(tmp_path / "fixed.rejects.jsonl") == fixed.accounting.rejected
    assert_clean_jsonl(tmp_path / "fixed.jsonl")

    to = CONVERT_TARGETS[index % len(CONVERT_TARGETS)]
    source = CONVERT_SOURCES[index % len(CONVERT_SOURCES)]
    converted = convert_file(path, tmp_path / "converted.jsonl", ConvertOptions(to=to, source=source))
    assert converted.accounting.inputs == count and converted.accounting.balanced
    assert lines_in(tmp_path / "converted.jsonl") == converted.accounting.outputs["output"]
    assert lines_in(tmp_path / "converted.rejects.jsonl") == converted.accounting.rejected
    assert_clean_jsonl(tmp_path / "converted.jsonl")

    document = tmp_path / "fuzz.json"
    document.write_bytes(json_document(lines))
    from_document = convert_file(document, tmp_path / "from_document.jsonl", ConvertOptions(to=to, source=source),
                                 container="json")
    assert from_document.accounting.balanced
    assert_clean_jsonl(tmp_path / "from_document.jsonl")

    group_by = GROUP_BY[index % len(GROUP_BY)]
    split = split_file(path, valid_ratio=0.2, seed=index, group_by=group_by, train_out=tmp_path / "train.jsonl",
                       valid_out=tmp_path / "valid.jsonl", rejects_out=tmp_path / "split.rejects.jsonl")
    assert split.accounting.inputs == count and split.accounting.balanced
    assert [lines_in(tmp_path / name) for name in ("train.jsonl", "valid.jsonl", "split.rejects.jsonl")] == [
        split.accounting.outputs["train"], split.accounting.outputs["valid"], split.accounting.rejected]

    estimated = estimate(str(path), model="gpt-4o-mini")
    assert estimated.files[0].examples <= count
