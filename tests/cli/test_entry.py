"""The console entry point (``ftprep`` / ``python -m ftprep``): output, exit codes and exit handlers survive
the fast exit taken once a tokenizer was built (see :func:`ftprep.cli.run`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ftprep.cli import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "chat_valid.jsonl"


def ftprep(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "ftprep", *args], capture_output=True, cwd=REPO, check=False)


def test_estimate_output_through_a_pipe_is_whole(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["estimate", str(SAMPLE), "--model", "gpt-4o-mini", "-f", "json", "--quiet", "--isolated"]
    assert main(args) == 0
    in_process = json.loads(capsys.readouterr().out)
    done = ftprep(*args)  # a pipe: stdout is block-buffered, so only the flush gets it out
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == in_process
    html = ftprep("estimate", str(SAMPLE), "--model", "gpt-4o-mini", "-f", "html", "--quiet", "--isolated")
    assert html.returncode == 0
    assert len(html.stdout) > 64 * 1024 and html.stdout.rstrip().endswith(b"</html>")


def test_exit_code_and_exit_handlers_after_a_tokenizer_was_built(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"messages": [{"role": "user"}]}\n')
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('exit handler ran', file=sys.stderr))\n"
        "from ftprep.tokens.encoding import get_encoding\n"
        "get_encoding('o200k_base')\n"
        "from ftprep.cli import run\n"
        f"sys.argv = ['ftprep', 'check', {str(bad)!r}]\n"
        "run()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=REPO, check=False)
    assert done.returncode == 1
    assert b"exit handler ran" in done.stderr
    assert b"bad.jsonl:1" in done.stdout


@pytest.mark.parametrize(("sample", "code"), [("chat_valid.jsonl", 0), ("chat_broken.jsonl", 1)])
def test_without_a_tokenizer_the_exit_is_the_usual_one(sample: str, code: int) -> None:
    done = ftprep("check", str(REPO / "samples" / sample), "--isolated")
    assert (done.returncode, done.stderr) == (code, b"")
    assert (b"FT" in done.stdout) == (code == 1)
