"""Every command that reads a file shows progress on stderr, counted in bytes that add up to what it reads
(off when not a terminal, in CI, under pre-commit, or with --quiet)."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from ftprep.cli import main
from ftprep.cli.common import progress_enabled
from ftprep.overlap_pass import find_overlap
from ftprep.transform.convert import ConvertOptions, convert_file
from ftprep.transform.fix import fix_file
from ftprep.transform.split import split_file


def _rows(path: Path, count: int, *, kto: bool = False) -> Path:
    rows = [{"prompt": f"Q{i // 2}", "completion": f"A{i}", "label": i % 2 == 0} if kto else
            {"messages": [{"role": "user", "content": f"Question {i} " + "x" * (i % 50)},
                          {"role": "assistant", "content": f"Answer {i}"}]} for i in range(count)]
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    # Over 1 MB: the counts are reported in pieces, not only at the end.
    return _rows(tmp_path / "data.jsonl", 20_000)


def test_split_reports_each_byte_of_both_passes(data: Path, tmp_path: Path) -> None:
    seen: list[int] = []
    split_file(data, valid_ratio=0.1, progress=seen.append)
    assert sum(seen) == 2 * data.stat().st_size and len(seen) > 2


def test_fix_reports_each_byte_of_both_passes(data: Path, tmp_path: Path) -> None:
    seen: list[int] = []
    fix_file(data, tmp_path / "fixed.jsonl", progress=seen.append)
    assert sum(seen) == 2 * data.stat().st_size and len(seen) > 2


def test_convert_reports_each_row_once_and_pairs_twice(data: Path, tmp_path: Path) -> None:
    seen: list[int] = []
    convert_file(data, tmp_path / "chat.jsonl", ConvertOptions(to="chat"), progress=seen.append)
    assert sum(seen) == data.stat().st_size and len(seen) > 1
    kto = _rows(tmp_path / "kto.jsonl", 20_000, kto=True)
    seen.clear()
    convert_file(kto, tmp_path / "dpo.jsonl", ConvertOptions(to="dpo", kto="pairs"), progress=seen.append)
    assert sum(seen) == 2 * kto.stat().st_size


def test_overlap_reports_each_file_once_and_twice_with_near_duplicates(data: Path, tmp_path: Path) -> None:
    valid = _rows(tmp_path / "valid.jsonl", 300)
    seen: list[int] = []
    find_overlap(data, valid, kinds=("exact", "same-prompt"), progress=seen.append)
    assert sum(seen) == data.stat().st_size + valid.stat().st_size
    small = _rows(tmp_path / "small.jsonl", 2_000)
    seen.clear()
    find_overlap(small, valid, progress=seen.append)  # the template's pass, then the comparison
    assert sum(seen) == 2 * (small.stat().st_size + valid.stat().st_size)


Recorded = list[tuple[str, bool, int, int]]


def _recording(monkeypatch: pytest.MonkeyPatch, module: str) -> Recorded:
    """Replace the command module's progress bar by one that records (label, enabled, total, bytes reported)."""
    bars: Recorded = []

    @contextlib.contextmanager
    def bar(label: str, enabled: bool, total: int) -> Iterator[Callable[[int], None]]:
        counted = [0]

        def advance(n: int) -> None:
            counted[0] += n

        yield advance
        bars.append((label, enabled, total, counted[0]))

    monkeypatch.setattr(importlib.import_module(module), "progress_bar", bar)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    for name in ("CI", "PRE_COMMIT"):
        monkeypatch.delenv(name, raising=False)
    return bars


@pytest.mark.parametrize(("module", "args", "label", "passes"), [
    ("ftprep.cli.split", ["split", "DATA", "--valid-ratio", "0.1"], "splitting", 2),
    ("ftprep.cli.fix", ["fix", "DATA"], "fixing", 2),
    ("ftprep.cli.convert", ["convert", "DATA", "OUT/chat.jsonl", "--to", "chat"], "converting", 1),
    ("ftprep.cli.overlap", ["overlap", "DATA", "DATA", "--kind", "exact"], "comparing", 2),
    ("ftprep.cli.trainer_config", ["trainer-config", "DATA", "--trainer", "axolotl"], "reading", 1),
])
def test_each_command_feeds_a_bar_that_reaches_its_total(module: str, args: list[str], label: str, passes: int,
                                                         data: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    bars = _recording(monkeypatch, module)
    argv = [str(data) if a == "DATA" else a.replace("OUT", str(tmp_path)) for a in args]
    assert main([*argv, "--isolated"] if module.endswith(("fix", "overlap")) else argv) in (0, 1)
    assert bars == [(label, True, passes * data.stat().st_size, passes * data.stat().st_size)]
    bars.clear()
    main([*argv, "--quiet", "--force"] if module.endswith(("split", "fix", "convert")) else [*argv, "--quiet"])
    assert len(bars) == 1
    assert bars[0][1] is False  # --quiet: no bar


def test_progress_is_off_in_ci_under_pre_commit_and_when_piped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    assert progress_enabled(False) and not progress_enabled(True)
    monkeypatch.setenv("CI", "true")
    assert not progress_enabled(False)
    monkeypatch.delenv("CI")
    monkeypatch.setenv("PRE_COMMIT", "1")
    assert not progress_enabled(False)
    monkeypatch.delenv("PRE_COMMIT")
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    assert not progress_enabled(False)


@pytest.mark.parametrize(("args", "labels"), [
    (["--model", "gpt-4o-mini"], ["checking"]),  # OpenAI's dry run: the gate (its estimate comes with the job)
    (["--target", "together", "--model", "Qwen/Qwen3-8B"], ["checking", "estimating"]),  # the gate, then figures
])
def test_upload_shows_its_check_and_its_estimate(args: list[str], labels: list[str], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    data = _rows(tmp_path / "data.jsonl", 2_000)
    bars = _recording(monkeypatch, "ftprep.cli.upload")
    assert main(["upload", str(data), *args, "--dry-run"]) == 0
    size = data.stat().st_size
    assert bars == [(label, True, size, size) for label in labels]
    bars.clear()
    assert main(["upload", str(data), *args, "--dry-run", "--quiet"]) == 0
    assert [bar[1] for bar in bars] == [False] * len(labels)
