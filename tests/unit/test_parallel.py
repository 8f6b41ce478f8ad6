"""Parallel pass: byte ranges checked by worker processes give exactly the single-process results.

The files are small, so the tests force the workers (``workers=2`` or a zero size threshold) and cut the
file into many ranges (``RANGES_PER_WORKER``), which puts range boundaries next to almost every defect.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from ftprep import engine, parallel
from ftprep.check import check_files
from ftprep.engine import FileScan, ScanOptions, all_codes, scan_file
from ftprep.estimation import estimate
from ftprep.tokens.encoding import get_encoding
from ftprep.tokens.stats import TokenCollector
from tests.conftest import CORPUS, TODAY

pytestmark = pytest.mark.skipif(not parallel.fork_available(), reason="worker processes are forked")

OPTIONS = ScanOptions(enabled=all_codes(), model="gpt-4o-mini", expected_kinds=frozenset({"chat"}),
                      model_label="gpt-4o-mini")


def _chat(i: int, answer: str | None = None) -> bytes:
    return orjson.dumps({"messages": [
        {"role": "system", "content": "You answer gardening questions."},
        {"role": "user", "content": f"Question {i}: when do tulips bloom in zone {i % 9}?"},
        {"role": "assistant", "content": answer if answer is not None else f"Answer {i}: in spring."}]})


def _tool_chat(i: int) -> bytes:
    call = {"id": f"call_{i}", "type": "function",
            "function": {"name": "get_order", "arguments": orjson.dumps({"order_id": i}).decode()}}
    tools = [{"type": "function", "function": {"name": "get_order", "description": "Look up an order.",
                                               "parameters": {"type": "object",
                                                              "properties": {"order_id": {"type": "string"}}}}}]
    return orjson.dumps({"messages": [
        {"role": "user", "content": f"Where is order {i}?"},
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": f"call_{i}", "content": "shipped"},
        {"role": "assistant", "content": "It has shipped."}], "tools": tools})


def _defective_lines() -> list[bytes]:
    """About 240 lines with a defect of another kind every few lines (and duplicates of earlier lines)."""
    defects = [
        b"",                                                   # blank line
        b"   ",                                                # whitespace-only line
        b'{"messages": [{"role": "user", "content": "hi"}',    # invalid JSON
        b'{"messages": [], "messages": []}',                   # duplicate key
        b'{"messages": [{"role": "user", "content": NaN}]}',   # non-finite number
        b"[1, 2, 3]",                                          # not an object
        b'{"text": "an alpaca row", "instruction": "x"}',      # no fine-tuning format
        b'{"prompt": "2+2=", "completion": " 4"}',             # completion row in a chat file
        _chat(7, answer=""),                                   # empty assistant content
        _chat(8, answer="ends here <|endoftext|>"),            # special token text
        b'{"messages": [{"role": "user", "content": "caf\xe9"}]}',  # invalid UTF-8
        _chat(9) + b"\r",                                      # CRLF line ending
        b'{"messages": [{"role": "us\x00er", "content": "x"}]}',  # NUL byte
        _tool_chat(10),
        b'{"messages": [{"role": "wizard", "content": "x"}]}',  # unknown role
    ]
    lines = [b"\xef\xbb\xbf" + _chat(0)]                       # BOM on line 1
    for i in range(1, 200):
        lines.append(_chat(i) if i % 7 else _tool_chat(i))
        if i % 3 == 0:
            lines.append(defects[(i // 3) % len(defects)])
        if i % 17 == 0:
            lines.append(lines[i // 2])                        # duplicate of a line far above
    lines += [b"", b""]                                        # trailing blank lines: not findings
    return lines


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


@pytest.fixture
def many_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut every file into 2 x 24 ranges (a boundary every few lines of the test files)."""
    monkeypatch.setattr(engine, "RANGES_PER_WORKER", 24)


def _same(serial: FileScan, parallel_scan: FileScan) -> None:
    assert parallel_scan.findings == serial.findings
    assert (parallel_scan.lines, parallel_scan.examples, parallel_scan.kind, parallel_scan.method) == (
        serial.lines, serial.examples, serial.kind, serial.method)


def test_split_ranges_start_after_a_newline_and_number_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.jsonl", [b"a" * n for n in (5, 1, 30, 2, 2, 40, 7)])
    data = path.read_bytes()
    ranges = parallel.split_ranges(str(path), 4)
    assert ranges[0].start == 0 and ranges[-1].end == len(data)
    for before, after in itertools.pairwise(ranges):
        assert before.end == after.start and data[after.start - 1:after.start] == b"\n"
        assert after.first_line == data[:after.start].count(b"\n") + 1


def test_split_ranges_of_a_file_without_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"x" * 50 + b"\n" + b"y" * 50)
    assert [(r.start, r.end, r.first_line) for r in parallel.split_ranges(str(path), 2)] == [(0, 51, 1),
                                                                                          (51, 101, 2)]


def test_defects_across_range_boundaries_give_the_serial_findings(tmp_path: Path, many_ranges: None) -> None:
    path = _write(tmp_path / "mixed.jsonl", _defective_lines())
    serial = scan_file(str(path), OPTIONS, workers=1)
    assert {f.code for f in serial.findings} >= {"FT001", "FT002", "FT003", "FT004", "FT101", "FT102", "FT103",
                                                 "FT104", "FT502", "FT503"}
    _same(serial, scan_file(str(path), OPTIONS, workers=2))


def test_blank_lines_at_a_boundary_are_findings_only_before_a_record(tmp_path: Path, many_ranges: None) -> None:
    lines = [_chat(i) for i in range(12)]
    lines[6:6] = [b"", b"", b""]
    path = _write(tmp_path / "blank.jsonl", [*lines, b"", b""])
    serial = scan_file(str(path), OPTIONS, workers=1)
    assert [(f.code, f.line) for f in serial.findings] == [("FT004", 7), ("FT004", 8), ("FT004", 9)]
    _same(serial, scan_file(str(path), OPTIONS, workers=2))


def test_duplicate_of_a_line_in_another_range_names_the_first(tmp_path: Path, many_ranges: None) -> None:
    lines = [_chat(i) for i in range(40)]
    lines.append(lines[0])
    path = _write(tmp_path / "dup.jsonl", lines)
    scan = scan_file(str(path), OPTIONS, workers=2)
    assert [(f.code, f.line, f.message) for f in scan.findings] == [("FT502", 41, "same bytes as line 1")]


def test_file_level_findings_are_the_serial_ones(tmp_path: Path, many_ranges: None) -> None:
    lines = [orjson.dumps({"prompt": f"{i} + 1 =", "completion": f" {i + 1}"}) for i in range(30)]
    lines[3] = _chat(3)
    path = _write(tmp_path / "completions.jsonl", lines)
    options = ScanOptions(enabled=all_codes(), model="gpt-4o-mini", expected_kinds=frozenset({"chat"}),
                          model_label="gpt-4o-mini", min_examples=100)
    serial = scan_file(str(path), options, workers=1)
    assert {f.code for f in serial.findings if f.line is None} == {"FT500", "FT600"}
    _same(serial, scan_file(str(path), options, workers=2))


def test_method_of_a_later_range_comes_from_the_first_record(tmp_path: Path, many_ranges: None) -> None:
    dpo = orjson.dumps({"input": {"messages": [{"role": "user", "content": "Pick one"}]},
                        "preferred_output": [{"role": "assistant", "content": "A"}],
                        "non_preferred_output": [{"role": "assistant", "content": "B"}]})
    lines = [b"not json", dpo, *[_chat(i) for i in range(30)]]
    path = _write(tmp_path / "dpo_first.jsonl", lines)
    options = ScanOptions(enabled=all_codes(), model="gpt-4o-mini")
    serial = scan_file(str(path), options, workers=1)
    assert serial.method == "dpo"
    _same(serial, scan_file(str(path), options, workers=2))


def test_token_statistics_merge_to_the_serial_ones(tmp_path: Path, many_ranges: None) -> None:
    path = _write(tmp_path / "mixed.jsonl", _defective_lines())
    enc = get_encoding("o200k_base")
    one, two = TokenCollector(enc, limit=60), TokenCollector(enc, limit=60)
    scan_file(str(path), OPTIONS, [one], workers=1)
    scan_file(str(path), OPTIONS, [two], workers=2)
    one.finish()
    two.finish()
    assert two.totals == one.totals and two.lines == one.lines
    assert (two.trainable, two.roles, two.over_limit, two.truncated_tokens, two.over_limit_lines, two.kinds) == (
        one.trainable, one.roles, one.over_limit, one.truncated_tokens, one.over_limit_lines, one.kinds)


def test_check_files_and_estimate_are_the_same_with_workers(tmp_path: Path, many_ranges: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(_write(tmp_path / "mixed.jsonl", _defective_lines()))
    serial_check = check_files([path], today=TODAY)
    serial_estimate = estimate(path, model="gpt-4o-mini", today=TODAY)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    assert engine.parallel_workers(path) == parallel.usable_cpus()
    assert check_files([path], today=TODAY).findings == serial_check.findings
    assert estimate(path, model="gpt-4o-mini", today=TODAY) == serial_estimate


def test_progress_reports_every_byte_once(tmp_path: Path, many_ranges: None) -> None:
    path = _write(tmp_path / "mixed.jsonl", _defective_lines())
    for workers in (1, 2):
        seen: list[int] = []
        scan_file(str(path), OPTIONS, workers=workers, progress=seen.append)
        assert sum(seen) == path.stat().st_size


def test_range_progress_reports_reads_and_ends_once() -> None:
    seen: list[int] = []
    shared = parallel.RangeProgress([10, 20], seen.append)
    shared.reader(0)(4)  # read in this process: reported at once (it cannot tick while it reads)
    shared.reader(1)(5)
    shared.reader(1)(30)  # a read past the range's end (its last line crosses it) counts up to the end
    shared.report()  # nothing new: nothing reported
    shared.finished(0)
    shared.finished(1)
    assert seen == [4, 5, 15, 6]
    assert sum(seen) == 30


_PARENT = os.getpid()


def _slow_square(index: int) -> int:
    """Slow in a worker (0.3 s), less so here (0.05 s): this process ends up waiting for a worker."""
    time.sleep(0.05 if os.getpid() == _PARENT else 0.3)
    return index * index


def test_map_ordered_ticks_while_waiting_and_keeps_the_order() -> None:
    ticks: list[None] = []
    done: list[int] = []
    results = list(parallel.map_ordered(_slow_square, 4, 2, done=done.append, tick=lambda: ticks.append(None),
                                        interval=0.02))
    assert results == [0, 1, 4, 9]
    assert sorted(done) == [0, 1, 2, 3]
    assert len(ticks) >= 3  # a worker's job took 0.3 s


def _square_pid(index: int) -> tuple[int, int]:
    time.sleep(0.01)
    return index * index, os.getpid()


@pytest.mark.parametrize(("count", "workers"), [(1, 2), (2, 2), (7, 2), (20, 3), (5, 1)])
def test_map_ordered_yields_every_result_in_order(count: int, workers: int) -> None:
    results = list(parallel.map_ordered(_square_pid, count, workers))
    assert [value for value, _ in results] == [i * i for i in range(count)]
    pids = {pid for _, pid in results}
    assert len(pids) <= min(workers, count)
    if count >= 7:
        assert _PARENT in pids and len(pids) > 1  # this process works too, beside its workers


def _fail_at(index: int) -> int:
    if index == 3:
        raise ValueError(f"job {index} failed")
    return index


def _die_in_worker(index: int) -> int:
    if os.getpid() != _PARENT:
        os._exit(7)
    time.sleep(0.05)
    return index


def test_map_ordered_raises_a_jobs_error_and_a_dead_worker() -> None:
    with pytest.raises(ValueError, match="job 3 failed"):
        list(parallel.map_ordered(_fail_at, 8, 2))
    with pytest.raises(parallel.WorkerLost, match="exit code 7"):
        list(parallel.map_ordered(_die_in_worker, 8, 2, interval=0.01))


def test_parallel_progress_advances_within_ranges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers report every MiB they read, so a range of several MiB shows before it ends."""
    path = _write(tmp_path / "big.jsonl", [_chat(i, "x" * 300) for i in range(24_000)])  # ~8.6 MB, 4 ranges
    monkeypatch.setattr(engine, "RANGES_PER_WORKER", 2)
    ordered = parallel.map_ordered

    def eager(*args: object, **kwargs: object) -> object:
        return ordered(*args, **{**kwargs, "interval": 0.0005})  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "map_ordered", eager)
    seen: list[int] = []
    scan_file(str(path), OPTIONS, workers=2, progress=seen.append)
    assert sum(seen) == path.stat().st_size
    assert min(seen) > 0
    assert len(seen) > 4  # more reports than ranges: reads inside a range were reported


def test_an_observer_that_opts_out_keeps_one_process(tmp_path: Path) -> None:
    class Local:
        parallel = False

        def observe(self, line: int, kind: str, record: object, raw: bytes) -> None:
            """Nothing."""

        def merge(self, other: Local) -> None:
            """Nothing."""

    path = _write(tmp_path / "f.jsonl", [_chat(i) for i in range(20)])
    assert engine.parallel_workers(str(path), [Local()], workers=4) == 1
    assert engine.parallel_workers(str(path), [], workers=4) == 4


def test_small_files_gz_and_stdin_use_one_process(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.jsonl", [_chat(i) for i in range(20)])
    gz = tmp_path / "f.jsonl.gz"
    gz.write_bytes(b"\x1f\x8b" + b"\x00" * 20)
    assert (engine.parallel_workers(str(path)), engine.parallel_workers(str(gz), workers=4),
            engine.parallel_workers("-", workers=4)) == (1, 1, 1)


# Every corpus file, cut into 48 ranges: real data puts range boundaries inside every shape of record.
CORPUS_FILES = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.jsonl")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this clone")
@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_files_give_the_serial_findings(name: str, many_ranges: None) -> None:
    path = CORPUS / name
    options = ScanOptions(enabled=all_codes(), model="gpt-4o-mini")
    _same(scan_file(str(path), options, workers=1), scan_file(str(path), options, workers=2))


def test_line_numbers_counted_in_a_thread_equal_split_ranges(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.jsonl", [b"a" * n for n in (5, 1, 30, 2, 2, 40, 7, 0, 9)])
    bounds = parallel.range_bounds(str(path), 5)
    numbers = parallel.LineNumbers(str(path), bounds)
    numbers.start()
    assert [numbers.first_line(i) for i in range(len(bounds))] == [r.first_line for r in
                                                                   parallel.split_ranges(str(path), 5)]
    numbers.join()


def test_line_numbers_of_an_unreadable_file_raise_instead_of_waiting(tmp_path: Path) -> None:
    numbers = parallel.LineNumbers(str(tmp_path / "gone.jsonl"), [(0, 10), (10, 20)])
    numbers.start()
    numbers.join()
    with pytest.raises(OSError, match="cannot count the lines"):
        numbers.first_line(1)


def test_range_bounds_make_the_last_ranges_half_size(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.jsonl", [b"x" * 98] * 1000)  # 99-byte lines
    bounds = parallel.range_bounds(str(path), 8, small_tail=4)
    sizes = [end - start for start, end in bounds]
    assert bounds[0][0] == 0 and bounds[-1][1] == 99_000
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    assert all(abs(size - 16_500) <= 99 for size in sizes[:4]), sizes
    assert all(abs(size - 8_250) <= 99 for size in sizes[4:]), sizes


def test_a_bom_only_counts_on_the_file_s_first_line(tmp_path: Path, many_ranges: None) -> None:
    # 2 x 24 ranges for 20 lines: every line starts a range, numbered from 1 in its worker.
    bom = b"\xef\xbb\xbf"
    path = _write(tmp_path / "boms.jsonl", [bom + _chat(i) if i % 4 == 0 else _chat(i) for i in range(20)])
    serial = scan_file(str(path), OPTIONS, workers=1)
    assert [(f.code, f.line) for f in serial.findings] == [("FT002", 1), ("FT101", 5), ("FT101", 9),
                                                          ("FT101", 13), ("FT101", 17)]  # BOM, then not JSON
    _same(serial, scan_file(str(path), OPTIONS, workers=2))


def test_observers_without_shift_lines_get_counted_line_numbers(tmp_path: Path, many_ranges: None) -> None:
    from ftprep.overlap import DigestCollector, find_duplicates

    lines = _defective_lines()
    path = _write(tmp_path / "mixed.jsonl", lines)
    assert not engine.relative_lines([DigestCollector()]) and engine.relative_lines([TokenCollector(
        get_encoding("o200k_base"))])
    one, two = DigestCollector(), DigestCollector()
    serial = scan_file(str(path), OPTIONS, [one], workers=1)
    _same(serial, scan_file(str(path), OPTIONS, [two], workers=2))
    assert find_duplicates(two) == find_duplicates(one) and len(find_duplicates(one)) > 0


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_workers_end_soon_after_their_parent_is_killed(tmp_path: Path) -> None:
    """A worker whose parent died stops after the job in hand and exits (it used to wait for ever for its
    queued results to be read)."""
    import signal
    import subprocess
    import sys

    script = ("import time\nfrom ftprep import parallel\n"
              "def job(i):\n    time.sleep(0.2)\n    return b'x' * 200_000\n"  # results larger than a pipe
              "for _ in parallel.map_ordered(job, 200, 2):\n    pass\n")
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        children: list[int] = []
        for _ in range(100):
            time.sleep(0.05)
            children = [int(pid) for task in Path(f"/proc/{parent.pid}/task").iterdir()
                        for pid in (task / "children").read_text().split()]
            if children:
                break
        assert children, "no worker was forked"
        time.sleep(1.0)  # the worker has queued results by now
        parent.send_signal(signal.SIGKILL)
        parent.wait()

        def running(pid: int) -> bool:
            try:
                return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
            except OSError:
                return False

        deadline = time.monotonic() + 5
        while any(running(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(running(pid) for pid in children)
    finally:
        parent.kill()


def test_a_killed_worker_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ftprep.errors import WorkerError

    path = _write(tmp_path / "data.jsonl", [_chat(i) for i in range(400)])
    read = engine._Pass.read

    def read_or_die(self: engine._Pass, *args: object, **kwargs: object) -> None:
        if os.getpid() != _PARENT:
            os.kill(os.getpid(), 9)  # as the kernel's out-of-memory killer would
        time.sleep(0.05)
        read(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine._Pass, "read", read_or_die)
    with pytest.raises(WorkerError, match=r"data\.jsonl: a worker process was killed by signal 9"):
        scan_file(str(path), OPTIONS, workers=2)


# -- split: the grouping observer folds byte ranges into exactly the one-process split ----------------

def _near_dataset() -> list[bytes]:
    """Chat records with near-duplicate families spread over the whole file, shared prompts, exact
    duplicates, strata, blank and broken lines: every kind of group crosses range boundaries."""
    import random

    rng = random.Random(7)
    words = ["photosynthesis", "light", "water", "carbon", "glucose", "oxygen", "leaves", "green", "chloroplast",
             "cycle", "energy", "sugar", "plant", "root", "stem", "flower", "seed", "soil", "rain", "sun"]
    # 40 families of 9 records: each in 2.5% of the records, below the template's share (5%, at least 18
    # records here), so their shingles count.
    families = [" ".join(rng.choice(words) for _ in range(40)) for _ in range(40)]
    lines: list[bytes] = []
    for i in range(360):
        family = families[i % 40]
        # Near, never equal: only the near-duplicate edges join a family (no two prompts are the same),
        # except every seventh record, which repeats the prompt of an earlier one of its family.
        text = f"{family} item{i}" if i % 7 or i < 40 else f"{family} item{i - 40}"
        label = ("positive", "negative", "neutral")[i % 3]
        lines.append(orjson.dumps({"messages": [{"role": "user", "content": text},
                                                {"role": "assistant", "content": label}]}))
        if i % 37 == 0:
            lines.append(lines[-1])  # an exact duplicate, next to its twin
        if i % 53 == 0:
            lines.append(b"")
        if i % 71 == 0:
            lines.append(b"{broken")
    return lines


@pytest.mark.parametrize("group_by", ["exact", "normalized", "prompt", "near"])
@pytest.mark.parametrize("stratify", [None, "/messages/-1/content"])
def test_split_in_many_ranges_equals_one_process(tmp_path: Path, many_ranges: None, group_by: str,
                                                 stratify: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    from ftprep.transform.split import split_file

    source = _write(tmp_path / "data.jsonl", _near_dataset())
    outputs = {}
    for label, workers in (("one", 1), ("many", 2)):
        monkeypatch.setattr(engine, "parallel_workers", lambda *args, _n=workers, **kwargs: _n)
        result = split_file(source, valid_ratio=0.25, group_by=group_by, stratify_by=stratify, seed=3,
                            train_out=tmp_path / f"{label}.train", valid_out=tmp_path / f"{label}.valid",
                            rejects_out=tmp_path / f"{label}.rejects", force=True)
        outputs[label] = (result.groups, result.strata, *(
            (tmp_path / f"{label}.{side}").read_bytes() for side in ("train", "valid", "rejects")))
    assert outputs["many"] == outputs["one"]
    groups = outputs["one"][0]
    assert groups <= 45 if group_by == "near" else 300 < groups <= 360  # near: about the 40 families


@pytest.mark.corpus
@pytest.mark.parametrize("group_by", ["prompt", "near"])
def test_split_of_corpus_files_in_many_ranges_equals_one_process(tmp_path: Path, many_ranges: None,
                                                                 group_by: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from ftprep.errors import ConfigError
    from ftprep.transform.split import split_file

    files = sorted(p for p in CORPUS.rglob("*.jsonl") if p.stat().st_size < 3_000_000)[:12]
    assert files, "corpus not found"
    compared = 0
    for path in files:
        outputs = []
        for workers in (1, 2):
            monkeypatch.setattr(engine, "parallel_workers", lambda *args, _n=workers, **kwargs: _n)
            try:
                result = split_file(path, valid_ratio=0.2, group_by=group_by, train_out=tmp_path / "t",
                                    valid_out=tmp_path / "v", rejects_out=tmp_path / "r", force=True)
            except ConfigError:
                outputs.append(None)  # too few records to split: the same either way
                continue
            outputs.append((result.groups, *((tmp_path / n).read_bytes() if (tmp_path / n).exists() else b""
                                             for n in ("t", "v", "r"))))
            (tmp_path / "r").unlink(missing_ok=True)
        assert outputs[0] == outputs[1], path.name
        compared += outputs[0] is not None
    assert compared >= 6


def test_template_learnt_over_ranges_equals_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from ftprep.overlap_pass import learn_template

    files = [_write(tmp_path / "near.jsonl", _near_dataset() * 3)]
    files += sorted(p for p in CORPUS.rglob("*.jsonl") if 200_000 < p.stat().st_size < 3_000_000)[:3]
    for sample in (50, 50_000):  # a stride of several lines, and every line
        templates = []
        for workers in (1, 2):
            monkeypatch.setattr(engine, "parallel_workers", lambda *args, _n=workers, **kwargs: _n)
            templates.append(learn_template(*files, sample=sample))
        one, many = templates
        assert len(one.reached) == len(many.reached) == len(files)
        assert all(np.array_equal(a, b) for a, b in zip(one.reached, many.reached, strict=True))
        assert any(a.any() for a in one.reached)  # some cells are template: the comparison has content


def test_shingle_counts_over_ranges_count_every_sampled_record(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from ftprep.overlap_pass import _shingle_counts

    path = _write(tmp_path / "near.jsonl", _near_dataset())
    counts = []
    for workers in (1, 2):
        monkeypatch.setattr(engine, "parallel_workers", lambda *args, _n=workers, **kwargs: _n)
        counts.append(_shingle_counts(path, 3))
    for c in counts:
        c._flush()  # hashes still buffered count too
    assert counts[0].records == counts[1].records > 100
    assert (counts[0]._table == counts[1]._table).all()


def _error_rows(path: Path, count: int) -> Path:
    """Chat rows that fail: every third has no assistant message (FT208), every fifth an unknown key
    (FT209); the rest pass."""
    rows = []
    for i in range(count):
        messages = [{"role": "user", "content": f"Question {i}"}]
        if i % 3:
            messages.append({"role": "assistant", "content": f"Answer {i}"})
        row: dict[str, object] = {"messages": messages}
        if i % 5 == 0:
            row["system"] = "Be brief."
        rows.append(orjson.dumps(row))
    return _write(path, rows)


@pytest.mark.parametrize("workers", [1, 2])
def test_keep_findings_keeps_the_first_of_each_rule_and_counts_the_rest(tmp_path: Path, many_ranges: None,
                                                                        workers: int) -> None:
    path = _error_rows(tmp_path / "errors.jsonl", 600)
    every = scan_file(str(path), OPTIONS, workers=workers)
    kept = scan_file(str(path), replace(OPTIONS, keep_findings=2), workers=workers)
    by_code = {code: [f for f in every.findings if f.code == code] for code in {f.code for f in every.findings}}
    assert by_code["FT208"] and by_code["FT209"] and not every.omitted
    for code, findings in by_code.items():
        ours = [f for f in kept.findings if f.code == code]
        # Each byte range keeps its first two (one process: the file's first two), in line order.
        assert ours == [f for f in findings if f in ours]
        assert ours[:2] == findings[:2] and (len(ours) == 2 if workers == 1 else 2 <= len(ours) <= 2 * 48)
        # The others are counted with their lines and fixes, the numbers the full list has.
        tally = kept.omitted[code]
        assert tally.count == len(findings) - len(ours) and tally.name == findings[0].name
        assert sorted([*(f.line for f in ours), *tally.lines]) == [f.line for f in findings]
        assert {f.fix for f in findings} == {*(f.fix for f in ours), *tally.texts.values()}
        assert all(key in tally.texts for key in tally.fix_hashes)


def test_an_estimates_verdict_counts_the_findings_it_does_not_keep(tmp_path: Path) -> None:
    path = _error_rows(tmp_path / "errors.jsonl", 3_000)
    result = check_files([str(path)], today=TODAY, ignore=["FT502", "FT524", "FT525", "FT526", "FT527"])
    errors = [f for f in result.findings if f.severity.value == "error"]
    verdict = estimate(str(path), model="gpt-4o-mini", today=TODAY).verdict
    assert verdict is not None and verdict.errors == len(errors) > 1_000
    assert verdict.by_rule == {code: sum(1 for f in errors if f.code == code) for code in {f.code for f in errors}}
    assert verdict.first == [f.to_dict() for f in errors[:5]]


def _long_chat(i: int, words: int) -> bytes:
    text = " ".join(f"w{i}x{j}" for j in range(words))
    return orjson.dumps({"messages": [{"role": "user", "content": f"Question {i}"},
                                      {"role": "assistant", "content": text, "name": None}]})


def _long_lines() -> list[bytes]:
    """Chat rows, every fifth long: some over gpt-3.5-turbo-0613's 4,096 tokens, some only over the byte
    bound; with a BOM on line 1 (a long row), CRLF, NUL bytes and filled-in nulls on long rows."""
    lines = [b"\xef\xbb\xbf" + _long_chat(0, 3_000)]
    for i in range(1, 150):
        if i % 5 == 1:
            lines.append(_long_chat(i, 300))  # over the cheap test's 2,040 bytes, under the byte bound
            continue
        if i % 5:
            lines.append(_chat(i))
            continue
        line = _long_chat(i, 1_000 + 400 * (i % 7))  # 1,000-3,400 words: about 3,000-10,000 tokens
        if i % 3 == 0:
            line += b"\r"
        if i % 4 == 0:
            line = line.replace(b"Question", b"Ques\x00tion")
        lines.append(line)
    return lines


@pytest.mark.parametrize("workers", [2, 3])
def test_examples_over_the_token_limit_are_counted_by_the_parent_with_the_same_findings(
        tmp_path: Path, many_ranges: None, workers: int) -> None:
    path = str(_write(tmp_path / "long.jsonl", _long_lines()))
    options = replace(OPTIONS, model="gpt-3.5-turbo-0613")
    serial = scan_file(path, options, workers=1)
    over = [f for f in serial.findings if f.code == "FT400"]
    assert len(over) > 10 and any(f.line == 1 for f in over)  # the BOM line too
    _same(serial, scan_file(path, options, workers=workers))


def test_a_byte_range_hands_back_the_examples_that_need_the_tokenizer(tmp_path: Path) -> None:
    # In a fresh process: a range of a parallel pass defers what the byte bound cannot decide, and builds no
    # tokenizer (the parent builds one, shared by nobody else); what the bound decides is not deferred.
    path = _write(tmp_path / "long.jsonl", _long_lines())
    code = f"""
from ftprep import engine
from ftprep.engine import ScanOptions, all_codes
from ftprep.tokens.encoding import built
options = ScanOptions(enabled=all_codes(), model="gpt-3.5-turbo-0613")
state = engine._Pass("long.jsonl", options, (), "supervised")
state.ctx.deferred = state.state.deferred
with open({str(path)!r}, "rb") as stream:
    state.read(stream)
print([d.line for d in state.state.deferred], {{d.resume.__name__ for d in state.state.deferred}}, built())
"""
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    lines = _long_lines()
    longer = [number for number, line in enumerate(lines, 1) if len(line) > 4_096]
    medium = [number for number, line in enumerate(lines, 1) if 2_100 < len(line) <= 4_096]
    assert len(medium) > 20 and len(longer) == 30  # the medium ones: the byte bound says they fit
    assert out == f"{longer} {{'resume_token_limit'}} False\n"
