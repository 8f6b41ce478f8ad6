"""Forked workers end with their parent: a SIGKILL of ``check`` or ``split`` leaves no process behind.

A worker that outlives its parent keeps the caller's stderr open, so a CI step reading that pipe waits
for ever (seen in 2 of ~330 kills before workers asked to die with their parent).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ftprep.engine import PARALLEL_MIN_BYTES

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; forks workers")

ROOT = Path(__file__).resolve().parents[2]
GRACE_SECONDS = 1.0
KILLS = 30


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie has ended: it holds no file and runs no code)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def group_members(pgid: int) -> list[int]:
    """Running processes of process group ``pgid``."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def survivors_after(pids: list[int] | None, pgid: int, grace: float = GRACE_SECONDS) -> list[int]:
    """Processes still running ``grace`` seconds from now (``pids``, or the group's members)."""
    deadline = time.monotonic() + grace
    while True:
        left = [p for p in pids if alive(p)] if pids is not None else group_members(pgid)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


WORKER_SCRIPT = r"""
import os, sys, time
from ftprep import parallel

PARENT = os.getpid()

def job(index):
    if os.getpid() != PARENT:
        os.write(1, f"{os.getpid()}\n".encode())  # a worker says it is busy (one write: lines never mix)
    time.sleep(120)
    return index

for _ in parallel.map_ordered(job, 4, 3):
    pass
"""


def test_workers_busy_in_a_long_job_end_within_a_second_of_their_parent_being_killed() -> None:
    proc = subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        assert proc.stdout is not None
        workers = [int(proc.stdout.readline()) for _ in range(2)]
        assert all(alive(p) for p in workers)

        proc.kill()
        proc.wait()

        assert survivors_after(workers, proc.pid) == []
    finally:
        for pid in group_members(proc.pid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid chat file just over the size at which the check forks workers."""
    path = tmp_path_factory.mktemp("orphans") / "big.jsonl"
    lines = []
    size = 0
    i = 0
    while size <= PARALLEL_MIN_BYTES + 512 * 1024:
        line = json.dumps({"messages": [
            {"role": "user", "content": f"What is {i} plus {i + 7}? Explain briefly, with the steps."},
            {"role": "assistant", "content": f"{i} plus {i + 7} is {2 * i + 7}: add the units, then the tens."},
        ]}) + "\n"  # fmt: skip
        lines.append(line)
        size += len(line)
        i += 1
    path.write_text("".join(lines))
    return path


def test_no_process_outlives_a_killed_check_or_split_by_more_than_a_second(big_file: Path, tmp_path: Path) -> None:
    commands = [
        ["check", str(big_file)],
        ["split", str(big_file), "--valid-ratio", "0.1", "--force",
         "--train-out", str(tmp_path / "t.jsonl"), "--valid-out", str(tmp_path / "v.jsonl")],
    ]  # fmt: skip
    started = time.monotonic()
    finished = subprocess.run([sys.executable, "-m", "ftprep", *commands[0]], cwd=ROOT, capture_output=True)
    assert finished.returncode == 0, finished.stderr
    duration = time.monotonic() - started
    chooser = random.Random(19)
    orphaned: list[tuple[list[str], float, list[int]]] = []
    kills = 0
    for attempt in range(KILLS):
        argv = commands[attempt % 2]
        # stderr is a pipe, as in a CI step that captures the output.
        proc = subprocess.Popen([sys.executable, "-m", "ftprep", *argv], cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        at = chooser.uniform(0.05, duration)
        time.sleep(at)
        if proc.poll() is None:
            proc.kill()
            kills += 1
        proc.wait()
        left = survivors_after(None, proc.pid)
        if left:
            orphaned.append((argv[:1], at, left))
            for pid in left:
                os.kill(pid, signal.SIGKILL)
        assert proc.stderr is not None
        proc.stderr.close()
    assert orphaned == []
    assert kills >= KILLS * 2 // 3  # most runs were killed while they worked, not after they ended
