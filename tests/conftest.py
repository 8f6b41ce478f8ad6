"""Shared fixtures: repository paths and small file writers."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
CORPUS = (REPO.parent / "shared" / "corpus").resolve()
# Model lifecycle warnings depend on the date; tests that compare whole outputs run on this one.
TODAY = dt.date(2026, 11, 24)


def pytest_configure(config: pytest.Config) -> None:
    """ftprep's cache (the parsed vocabularies) in a folder of the test run, never in the user's home. Set
    before collection (test modules may build encodings when imported) and in the environment, so that
    the commands the tests run as subprocesses use it too."""
    folder = tempfile.mkdtemp(prefix="ftprep-cache-")
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    previous = os.environ.get("FTPREP_CACHE_DIR")
    os.environ["FTPREP_CACHE_DIR"] = folder
    config.add_cleanup(lambda: os.environ.pop("FTPREP_CACHE_DIR", None) if previous is None
                       else os.environ.__setitem__("FTPREP_CACHE_DIR", previous))


def chat_line(user: str = "Hello", answer: str = "Hi there.") -> bytes:
    """One valid chat record as JSONL bytes (no newline)."""
    return orjson.dumps({"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]})


def valid_chat_lines(n: int = 10) -> list[bytes]:
    """``n`` distinct valid chat records."""
    return [chat_line(f"Question {i}?", f"Answer {i}.") for i in range(n)]


@pytest.fixture
def write_lines(tmp_path: Path) -> Callable[..., Path]:
    """Write byte lines joined by ``\\n`` (with a final newline) to a file in tmp_path."""

    def write(lines: list[bytes], name: str = "data.jsonl") -> Path:
        path = tmp_path / name
        path.write_bytes(b"".join(line + b"\n" for line in lines))
        return path

    return write
