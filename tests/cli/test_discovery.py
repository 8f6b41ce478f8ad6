"""Folders as arguments (their *.jsonl and *.jsonl.gz, less `exclude`), and suggestions for mistyped names."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from ftprep.check import check_files
from ftprep.cli import main
from tests.conftest import SAMPLES, valid_chat_lines

VALID = b"\n".join(valid_chat_lines()) + b"\n"


def _tree(root: Path) -> Path:
    data = root / "data"
    (data / "sub").mkdir(parents=True)
    (data / ".git").mkdir()
    (data / "train.jsonl").write_bytes(VALID)
    (data / "sub" / "valid.jsonl.gz").write_bytes(gzip.compress(VALID))
    (data / "sub" / "old.jsonl").write_bytes(VALID)
    (data / ".git" / "copy.jsonl").write_bytes(VALID)  # a hidden folder is never walked
    (data / "notes.txt").write_text("not data")
    return data


def _checked(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["check", *args, "-f", "json", "--quiet"])
    out = json.loads(capsys.readouterr().out)
    return code, [f["path"] for f in out["files"]]


def test_a_folder_is_its_jsonl_and_jsonl_gz_files(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _tree(tmp_path)
    code, paths = _checked(capsys, "data", "--isolated")
    assert code == 0
    # A folder's own files first, then its subfolders', each sorted by name.
    assert paths == ["data/train.jsonl", "data/sub/old.jsonl", "data/sub/valid.jsonl.gz"]


def test_exclude_in_the_configuration_leaves_files_out(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _tree(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.ftprep]\nexclude = ["data/sub/old.jsonl", "*.gz"]\n')
    code, paths = _checked(capsys, "data")
    assert code == 0
    assert paths == ["data/train.jsonl"]
    # A file named on the command line is checked even when a pattern matches it.
    assert _checked(capsys, "data/sub/old.jsonl")[1] == ["data/sub/old.jsonl"]


def test_a_folder_without_jsonl_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["check", str(tmp_path / "empty"), "--isolated"]) == 2
    assert "no *.jsonl or *.jsonl.gz file in this folder" in capsys.readouterr().err


def test_the_library_takes_one_path_a_pathlike_or_a_folder(tmp_path: Path) -> None:
    data = _tree(tmp_path)
    assert [f.path for f in check_files(str(data / "train.jsonl")).files] == [str(data / "train.jsonl")]
    assert [f.path for f in check_files(data / "train.jsonl").files] == [str(data / "train.jsonl")]
    assert len(check_files([data]).files) == 3


@pytest.mark.parametrize(("args", "suggestion"), [
    (["chek", "x.jsonl"], "did you mean 'check'?"),
    (["rule", "FT2O4"], "did you mean 'FT204'?"),
    (["rule", "null-optinal-field"], "did you mean 'null-optional-field'?"),
    (["check", str(SAMPLES / "chat_valid.jsonl"), "--ignore", "duplicate-lines"], "did you mean 'duplicate-line'?"),
])
def test_a_mistyped_name_gets_a_suggestion(args: list[str], suggestion: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert suggestion in capsys.readouterr().err


def test_a_mistyped_model_gets_a_suggestion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t.jsonl").write_bytes(VALID)
    assert main(["check", str(tmp_path / "t.jsonl"), "--model", "gpt-4o-mnii", "--isolated"]) == 2
    assert "did you mean 'gpt-4o-mini'?" in capsys.readouterr().err


def test_a_mistyped_config_key_gets_a_suggestion(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.jsonl").write_bytes(VALID)
    (tmp_path / "pyproject.toml").write_text('[tool.ftprep]\nmodle = "gpt-4o-mini"\nexlcude = ["x"]\n')
    assert main(["check", "t.jsonl"]) == 2
    err = capsys.readouterr().err
    assert "modle: unknown key; did you mean 'model'?" in err
    assert "exlcude: unknown key; did you mean 'exclude'?" in err
