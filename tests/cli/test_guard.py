"""The one guard of the CLI entry (issue 19): every failure is one line on stderr and exit 2, never a
traceback and never exit 1 (which means "findings in the data")."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

import pytest

import ftprep.engine
from ftprep.cli import main
from ftprep.jsonl.writer import AtomicOutput

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "chat_valid.jsonl"


def _boom(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise ZeroDivisionError("forced\ninternal error")


def test_an_internal_error_in_process_is_one_line_and_exit_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(ftprep.engine, "strict_fast", _boom)
    monkeypatch.delenv("FTPREP_DEBUG", raising=False)
    assert main(["check", str(SAMPLE), "--isolated"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("ftprep: internal error: ZeroDivisionError: forced internal error; please report it")
    assert "Traceback" not in err


def test_ftprep_debug_shows_the_traceback_too(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(ftprep.engine, "strict_fast", _boom)
    monkeypatch.setenv("FTPREP_DEBUG", "1")
    assert main(["check", str(SAMPLE), "--isolated"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1].startswith("ftprep: internal error: ZeroDivisionError")


def test_an_internal_error_in_a_real_process_is_one_line_and_exit_2() -> None:
    script = (
        "import sys, ftprep.engine\n"
        "def boom(*a, **k):\n"
        "    raise KeyError('forced')\n"
        "ftprep.engine.strict_fast = boom\n"
        "from ftprep.cli import run\n"
        f"sys.argv = ['ftprep', 'check', {str(SAMPLE)!r}, '--isolated']\n"
        "run()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "FTPREP_DEBUG"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=REPO, check=False, env=env)
    assert done.returncode == 2
    assert done.stderr.count(b"\n") == 1, done.stderr
    assert done.stderr.startswith(b"ftprep: internal error: KeyError: 'forced'; please report it")


def test_a_full_disk_names_the_output_and_leaves_nothing_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    real_open = AtomicOutput.open

    def open_on_a_full_disk(self: AtomicOutput) -> None:
        real_open(self)
        assert self._file is not None
        self._file.close()
        # /dev/full answers every write with ENOSPC, as a full disk does.
        self._file = open("/dev/full", "wb", buffering=0)  # noqa: SIM115 - closed by the writer

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    monkeypatch.setattr(AtomicOutput, "open", open_on_a_full_disk)
    out = tmp_path / "out.jsonl"
    assert main(["fix", str(SAMPLE), "-o", str(out), "--isolated", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"ftprep: error: {out}: cannot write ({os.strerror(errno.ENOSPC)})" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_symlink_loop_as_output_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    for target in (tmp_path / "a", tmp_path / "a" / "x.jsonl"):
        assert main(["fix", str(SAMPLE), "-o", str(target), "--isolated", "-q"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"ftprep: error: {target}: ")
        assert os.strerror(errno.ELOOP) in err


def test_a_symlink_loop_as_input_is_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert main(["check", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ftprep: error: {tmp_path / 'a'}")


@pytest.mark.parametrize("args", [
    ["fix", str(SAMPLE), "-o", ""],
    ["convert", str(SAMPLE), "", "--to", "completions"],
    ["split", str(SAMPLE), "--valid-count", "1", "--train-out", ""],
])
def test_an_empty_output_path_is_a_clear_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*args, "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ftprep: error: ")
    assert "''" in err and "internal error" not in err


def test_a_non_table_tool_key_in_a_parent_pyproject_is_ignored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('tool = "not a table"\n[project]\nname = "x"\n')
    work = tmp_path / "sub"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["check", str(SAMPLE), "-q"]) == 0
    assert capsys.readouterr().err == ""


HOSTILE = (b'{"messages": [{"role": "user", "\\ud800": "a", "content": "q\\udfff"}, '
           b'{"role": "assistant", "content": "a"}]}\n'
           b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "x": '
           + b"[" * 600 + b"]" * 600 + b"}\n"
           b'{"prompt": "q", "completion": "a", "n": ' + b"9" * 5000 + b"}\n")


def ftprep_run(*args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "FTPREP_DEBUG"}
    return subprocess.run([sys.executable, "-m", "ftprep", *args], capture_output=True, cwd=REPO, check=False,
                          env=env)


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "sarif", "github"])
def test_hostile_lines_are_findings_in_every_format(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(HOSTILE)
    done = ftprep_run("check", str(path), "--isolated", "-f", fmt)
    assert (done.returncode, done.stderr) == (1, b"")
    out = done.stdout.decode("utf-8")  # strict: no lone surrogate reached the output
    assert all(code in out for code in ("FT105", "FT106", "FT107"))


def test_fix_rejects_hostile_lines_and_writes_valid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(HOSTILE + b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", '
                     b'"content": "a"}], "parallel_tool_calls": false, "tools": [{"type": "function", "function": '
                     b'{"name": "f", "parameters": {"type": "object", "maximum": 123456789012345678901234567890}}}]}\n')
    done = ftprep_run("fix", str(path), "-o", str(tmp_path / "out.jsonl"), "--isolated", "-f", "json")
    assert done.returncode == 1, done.stderr  # lines went to the rejects file
    out = (tmp_path / "out.jsonl").read_bytes()
    out.decode("utf-8")
    assert out.count(b"\n") == 1 and b'"maximum":123456789012345678901234567890}' in out
    (tmp_path / "out.rejects.jsonl").read_bytes().decode("utf-8")
