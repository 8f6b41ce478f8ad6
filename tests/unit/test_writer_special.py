"""An output path that exists and is not a regular file is refused, never replaced.

Outputs are written to a temp file and moved over the path: over ``/dev/stdout`` (a link to the process's
pipe or terminal) run as root, ``-o /dev/stdout --force`` replaced the link itself. The same move would
replace a FIFO, a socket or a device node. Tests use such files made in tmp_path, never the real /dev.
"""

from __future__ import annotations

import os
import socket
import stat
import sys
from pathlib import Path

import pytest

from ftprep.cli import main
from ftprep.errors import ConfigError
from ftprep.jsonl.writer import write_file_atomic

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, sockets and symlinks")
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "chat_valid.jsonl"


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def test_a_named_pipe_is_refused_and_left_in_place(fifo: Path) -> None:
    with pytest.raises(ConfigError, match="pipe: is a named pipe, not a regular file"):
        write_file_atomic(fifo, b"data\n")

    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_link_to_a_pipe_like_dev_stdout_is_refused_and_the_link_kept(
    fifo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "stdout"
    link.symlink_to(fifo)

    assert main(["fix", str(SAMPLE), "-o", str(link), "--force"]) == 2

    assert capsys.readouterr().err == (
        f"ftprep: error: {link}: is a named pipe, not a regular file; ftprep writes outputs as files "
        "(give a file path)\n"
    )
    assert link.is_symlink() and os.readlink(link) == str(fifo)


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(ConfigError, match="is a socket"):
            write_file_atomic(path, b"x")
    finally:
        server.close()
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_a_link_loop_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loop = tmp_path / "loop.jsonl"
    loop.symlink_to(loop)

    assert main(["fix", str(SAMPLE), "-o", str(loop), "--force"]) == 2

    assert capsys.readouterr().err.startswith(f"ftprep: error: {loop}: is a link that cannot be followed (")
    assert loop.is_symlink()


def test_a_regular_file_is_still_replaced_with_force(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b"old\n")

    write_file_atomic(path, b"new\n")

    assert path.read_bytes() == b"new\n"
