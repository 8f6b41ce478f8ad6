"""Standard input, process substitution (/dev/fd/N) and named FIFOs give the results of a regular file.

Each command runs as a real process reading a real pipe, with a timeout: a command that opens its input
twice would wait for ever on the second open (a FIFO) or read nothing (a drained pipe), so it fails here
instead of hanging CI.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "chat_valid.jsonl"
TIMEOUT = 60
pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/fd are POSIX")
Runner = Callable[[list[str]], subprocess.CompletedProcess[bytes]]


def _data() -> bytes:
    # A repeated record and a blank line: the duplicate search reads the lines sharing a prompt again.
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    return b"".join([*lines, lines[0], b"\n", lines[1]])


def _feed(fd: int, data: bytes) -> None:
    # A command that stopped reading closes the pipe: its result tells.
    with contextlib.suppress(BrokenPipeError), os.fdopen(fd, "wb") as pipe:
        pipe.write(data)


def _run(args: list[str], *, stdin: bytes | None = None, pass_fds: tuple[int, ...] = (),
         cwd: Path = REPO) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "ftprep", *args], input=stdin, capture_output=True, cwd=cwd,
                          timeout=TIMEOUT, pass_fds=pass_fds, check=False)


@pytest.fixture(params=["file", "stdin", "dev-fd", "fifo"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Callable[..., object]]]:
    """How the input reaches the command: (mode, run(args with INPUT as a placeholder))."""
    data = _data()
    mode = request.param
    plain = tmp_path / "train.jsonl"
    plain.write_bytes(data)

    def run(args: list[str]) -> subprocess.CompletedProcess[bytes]:
        if mode == "file":
            return _run([str(plain) if a == "INPUT" else a for a in args])
        if mode == "stdin":
            return _run(["-" if a == "INPUT" else a for a in args], stdin=data)
        if mode == "dev-fd":  # what bash's <(cat train.jsonl) passes
            read, write = os.pipe()
            threading.Thread(target=_feed, args=(write, data), daemon=True).start()
            try:
                return _run([f"/dev/fd/{read}" if a == "INPUT" else a for a in args], pass_fds=(read,))
            finally:
                os.close(read)
        fifo = tmp_path / "train.fifo"
        os.mkfifo(fifo)
        threading.Thread(target=lambda: _feed(os.open(fifo, os.O_WRONLY), data), daemon=True).start()
        return _run([str(fifo) if a == "INPUT" else a for a in args])

    yield mode, run


def _findings(out: bytes) -> list[tuple[object, ...]]:
    report = json.loads(out)
    return [(f["code"], f["line"], f["pointer"], f["message"]) for f in report["findings"]]


def _expected(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    plain = tmp_path / "expected.jsonl"
    plain.write_bytes(_data())
    return _run([str(plain) if a == "INPUT" else a for a in args])


def test_check_reads_a_pipe_like_a_file(source: tuple[str, Callable[..., subprocess.CompletedProcess[bytes]]],
                                        tmp_path: Path) -> None:
    mode, run = source
    args = ["check", "INPUT", "-f", "json", "--isolated"]
    got = run(args)
    expected = _expected(args, tmp_path)
    assert got.returncode == expected.returncode == 1, got.stderr
    assert _findings(got.stdout) == _findings(expected.stdout)
    codes = {f[0] for f in _findings(got.stdout)}
    assert {"FT004", "FT502"} <= codes  # the blank line and the repeated line: the whole input was read
    report = json.loads(got.stdout)
    assert report["files"][0]["examples"] == 14
    if mode == "stdin":
        assert report["files"][0]["path"] == "<stdin>"
    elif mode == "dev-fd":
        assert report["files"][0]["path"].startswith("/dev/fd/")


def test_estimate_reads_a_pipe_like_a_file(source: tuple[str, Callable[..., subprocess.CompletedProcess[bytes]]],
                                           tmp_path: Path) -> None:
    _, run = source
    args = ["estimate", "INPUT", "-f", "json", "--isolated"]
    got = run(args)
    expected = _expected(args, tmp_path)
    assert got.returncode == 0, got.stderr
    train, reference = json.loads(got.stdout)["files"][0], json.loads(expected.stdout)["files"][0]
    assert train["examples"] == 14
    for key in ("examples", "total_tokens", "billing_tokens", "trained_tokens", "cost_usd"):
        assert train[key] == reference[key]


def test_overlap_reads_a_pipe_like_a_file(source: tuple[str, Callable[..., subprocess.CompletedProcess[bytes]]],
                                          tmp_path: Path) -> None:
    _, run = source
    args = ["overlap", "INPUT", str(SAMPLE), "-f", "json", "--within-near"]
    got, expected = run(args), _expected(args, tmp_path)
    assert got.returncode == expected.returncode == 1, got.stderr
    pair, reference = json.loads(got.stdout)["pairs"][0], json.loads(expected.stdout)["pairs"][0]
    assert pair["train"]["examples"] == 14
    for key in ("pairs", "counts", "leaked"):
        assert pair[key] == reference[key]
    assert pair["train"]["duplicates"] == reference["train"]["duplicates"]


@pytest.mark.parametrize("command", ["fix", "convert", "split"])
def test_writers_read_a_pipe_like_a_file(command: str,
                                         source: tuple[str, Callable[..., subprocess.CompletedProcess[bytes]]],
                                         tmp_path: Path) -> None:
    _, run = source
    outputs = {"fix": ["-o", "OUT/out.jsonl"], "convert": ["OUT/out.jsonl", "--to", "chat"],
               "split": ["--valid-count", "3", "--train-out", "OUT/out.jsonl", "--valid-out", "OUT/valid.jsonl"]}
    got_dir, expected_dir = tmp_path / "got", tmp_path / "expected"
    got_dir.mkdir()
    expected_dir.mkdir()

    def args(folder: Path) -> list[str]:
        return [command, "INPUT", *(a.replace("OUT", str(folder)) for a in outputs[command]), "-f", "json"]

    got = run(args(got_dir))
    expected = _expected(args(expected_dir), tmp_path)
    assert got.returncode == expected.returncode, got.stderr
    assert sorted(p.name for p in got_dir.iterdir()) == sorted(p.name for p in expected_dir.iterdir())
    for produced in got_dir.iterdir():
        assert produced.read_bytes() == (expected_dir / produced.name).read_bytes(), produced.name
    summary = json.loads(got.stdout)
    assert summary["inputs"] == 15


def test_gzip_through_a_pipe(tmp_path: Path) -> None:
    got = _run(["check", "-", "-f", "json", "--isolated"], stdin=gzip.compress(SAMPLE.read_bytes()))
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["files"][0]["examples"] == 12


def test_standard_input_only_once(tmp_path: Path) -> None:
    got = _run(["check", "-", "--validation", "-"], stdin=SAMPLE.read_bytes())
    assert got.returncode == 2
    assert b"standard input (-) can be read only once" in got.stderr


def test_split_of_a_pipe_needs_its_outputs(tmp_path: Path) -> None:
    got = _run(["split", "-", "--valid-count", "2"], stdin=SAMPLE.read_bytes())
    assert got.returncode == 2
    assert b"split needs --train-out and --valid-out" in got.stderr


def test_no_temporary_copy_is_left(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    env = {**os.environ, "TMPDIR": str(spool)}
    done = subprocess.run([sys.executable, "-m", "ftprep", "check", "-", "-q"], input=SAMPLE.read_bytes(),
                          capture_output=True, cwd=REPO, timeout=TIMEOUT, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert list(spool.iterdir()) == []


def test_a_device_is_a_clear_error() -> None:
    got = _run(["check", "/dev/zero"])
    assert got.returncode == 2
    assert got.stderr.decode().strip() == ("ftprep: error: /dev/zero: is a character device, not a file or a "
                                           "pipe; pass a .jsonl file, a pipe, or - for stdin")


def test_a_socket_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        got = _run(["estimate", str(path)])
    assert got.returncode == 2
    assert f"{path}: is a socket, not a file or a pipe".encode() in got.stderr


def test_the_progress_size_does_not_open_a_pipe(tmp_path: Path) -> None:
    from ftprep.cli.common import input_size

    fifo = tmp_path / "p"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer for ever
    plain = tmp_path / "f.jsonl"
    plain.write_bytes(b"{}\n")
    sizes: list[int] = []
    worker = threading.Thread(target=lambda: sizes.append(input_size(str(fifo), str(plain), "-", None)),
                              daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert sizes == [3]
