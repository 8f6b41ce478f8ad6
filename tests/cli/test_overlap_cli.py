"""``ftprep overlap``: report formats, exit codes, --from-config."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ftprep.cli import main
from tests.unit.overlap.leakset import build, chat, write


def test_leaks_exit_1_and_list_each_pair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train, valid, _, _ = build(tmp_path)
    assert main(["overlap", str(train), str(valid)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"{valid} vs {train}: 4/15 validation examples (26.7%) leak"
    assert f"  {valid}:2: exact of {train}:4 (similarity 1.00)" in out
    assert "  by kind: exact 1, normalised 1, same-prompt 1, near 1" in out


def test_no_leak_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write(tmp_path / "t.jsonl", [chat("What is the capital of France?", "Paris.")])
    valid = write(tmp_path / "v.jsonl", [chat("Name a large ocean please.", "The Pacific.")])
    assert main(["overlap", str(train), str(valid)]) == 0
    assert "0/1 validation examples (0.0%) leak" in capsys.readouterr().out


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train, valid, _, _ = build(tmp_path)
    assert main(["overlap", str(train), str(valid), "--output-format", "json"]) == 1
    data = orjson.loads(capsys.readouterr().out)
    report = data["pairs"][0]
    assert report["counts"] == {"exact": 1, "normalised": 1, "same-prompt": 1, "near": 1}
    assert report["leaked"] == 4 and report["validation"]["examples"] == 15
    assert report["pairs"][0] == {"kind": "exact", "train_line": 4, "validation_line": 2, "similarity": 1.0}


def test_markdown_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train, valid, _, _ = build(tmp_path)
    main(["overlap", str(train), str(valid), "-f", "markdown"])
    out = capsys.readouterr().out
    assert "| 2 | exact | 4 | 1.00 |" in out
    assert "| near | 1 |" in out


def test_quiet_leaves_out_the_pairs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train, valid, _, _ = build(tmp_path)
    main(["overlap", str(train), str(valid), "--quiet"])
    assert "exact of" not in capsys.readouterr().out


def test_missing_arguments_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["overlap"]) == 2
    assert "give TRAIN and VALIDATION" in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    valid = write(tmp_path / "v.jsonl", [chat("a", "b")])
    assert main(["overlap", str(tmp_path / "nope.jsonl"), str(valid)]) == 2
    assert "no such file" in capsys.readouterr().err


def test_from_config_checks_every_pair(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    build(tmp_path)
    write(tmp_path / "t2.jsonl", [chat("Tell me a joke about cats.", "No.")])
    write(tmp_path / "v2.jsonl", [chat("Describe the weather on Mars.", "Cold.")])
    (tmp_path / "ftprep.toml").write_text(
        '[[pairs]]\ntrain = "train.jsonl"\nvalidation = "valid.jsonl"\n'
        '[[pairs]]\ntrain = "t2.jsonl"\nvalidation = "v2.jsonl"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["overlap", "--from-config", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "valid.jsonl vs " in out and "4/15" in out
    assert "0/1 validation examples" in out


def test_from_config_without_pairs_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ftprep.toml").write_text('model = "gpt-4o-mini"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["overlap", "--from-config"]) == 2
    assert "no [[tool.ftprep.pairs]]" in capsys.readouterr().err
