"""Bounded reading: over-long lines, gzip bombs, files that are not JSONL, and the spooled copy of a pipe."""

from __future__ import annotations

import gzip
import io
import os
import threading
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ftprep import engine, parallel
from ftprep.check import check_files
from ftprep.engine import MAX_BAD_RUN, ScanOptions, all_codes, scan_file, scan_lines
from ftprep.errors import ConfigError, InputError
from ftprep.estimation import estimate
from ftprep.jsonl import reader
from ftprep.jsonl.reader import (
    OVERLONG_HEAD,
    InflateLimit,
    OverlongLine,
    RawLine,
    count_lines,
    display_name,
    is_text,
    iter_lines,
    read_lines,
    source_kind,
    spooled,
)
from ftprep.transform.split import split_file

POSIX = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/fd are POSIX")
OPTIONS = ScanOptions(enabled=all_codes(), model="gpt-4o-mini", expected_kinds=frozenset({"chat"}),
                      model_label="gpt-4o-mini")


def _chat(i: int) -> bytes:
    return orjson.dumps({"messages": [{"role": "user", "content": f"Question {i}?"},
                                      {"role": "assistant", "content": f"Answer {i}."}]})


def test_a_line_over_the_limit_is_read_past_not_kept() -> None:
    stream = io.BufferedReader(io.BytesIO(b"short\n" + b"x" * 100 + b"\r\nnext\nlast"), 16)
    lines = list(read_lines(stream, limit=10))
    assert lines[0] == b"short\n"
    assert type(lines[1]) is OverlongLine
    assert bytes(lines[1]) == b"x" * 11 and lines[1].size == 102
    assert lines[2:] == [b"next\n", b"last"]


def test_a_line_of_exactly_the_limit_is_whole() -> None:
    assert list(read_lines(io.BytesIO(b"x" * 10 + b"\n" + b"y" * 10), limit=10)) == [b"x" * 10 + b"\n", b"y" * 10]


def test_iter_lines_gives_the_head_and_size_of_an_overlong_line(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", 8)
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"{}\n" + b"a" * 5000 + b"\n{}\n")
    assert list(iter_lines(path)) == [RawLine(1, 0, b"{}", b"\n"), RawLine(2, 3, b"a" * 9, b"", 5001),
                                      RawLine(3, 5004, b"{}", b"\n")]


def test_overlong_head_is_bounded() -> None:
    line = OverlongLine(b"z" * (OVERLONG_HEAD * 3), 10**9)
    assert len(line) == OVERLONG_HEAD and line.size == 10**9


def test_text_or_binary_by_the_first_bytes() -> None:
    assert is_text("é".encode() * 10)
    assert is_text("é".encode()[:1])  # a character cut by the head's end
    assert not is_text(b"\x00" * 10)
    assert not is_text(b"\xff\xfe{")


def test_an_overlong_line_is_a_finding_and_the_next_line_is_checked(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", 200)
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"\n".join([_chat(0), b'{"messages": "' + b"a" * 1000 + b'"}', _chat(1), b"[1]"]) + b"\n")
    scan = scan_file(str(path), OPTIONS)
    assert [(f.code, f.line) for f in scan.findings] == [("FT500", None), ("FT010", 2), ("FT102", 4)]
    assert scan.findings[1].message == "line is longer than 200 bytes, the reader's limit: not read or checked"
    assert scan.examples == 2


def test_an_overlong_binary_line_stops_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", 200)
    path = tmp_path / "f.jsonl"
    path.write_bytes(_chat(0) + b"\n" + b"\x00" * 10_000 + b"\n" + _chat(1) + b"\n")
    scan = scan_file(str(path), OPTIONS)
    assert [(f.code, f.line) for f in scan.findings] == [("FT011", None), ("FT500", None)]
    assert scan.findings[0].message.startswith("this is not JSONL: an over-long line of binary data")
    assert "(line 2)" in scan.findings[0].message
    assert (scan.lines, scan.examples) == (2, 1)


def test_a_long_binary_line_is_not_read_into_memory() -> None:
    class Counting(io.BytesIO):
        longest = 0

        def readline(self, size: int | None = -1) -> bytes:
            line = super().readline(size)
            Counting.longest = max(Counting.longest, len(line))
            return line

    stream = Counting(b"\x00" * 5_000_000 + b"\n{}\n")
    lines = list(read_lines(stream))
    assert type(lines[0]) is OverlongLine and lines[0].size == 5_000_001
    assert lines[1] == b"{}\n"
    assert Counting.longest <= 1 << 20


def test_a_long_latin1_record_is_text() -> None:
    line = b'{"prompt": "caf\xe9' + b"x" * 100_000 + b'"}\n'
    assert list(read_lines(io.BytesIO(line))) == [line]


def test_a_run_of_lines_without_json_stops_the_file(tmp_path: Path) -> None:
    lines = [_chat(i) for i in range(5)] + [b"not json %d" % i for i in range(3 * MAX_BAD_RUN)] + [_chat(9)]
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    scan = scan_file(str(path), OPTIONS)
    stop = [f for f in scan.findings if f.code == "FT011"]
    assert len(stop) == 1
    assert f"(lines 6-{5 + MAX_BAD_RUN})" in stop[0].message
    assert len([f for f in scan.findings if f.code == "FT101"]) == MAX_BAD_RUN
    assert (scan.lines, scan.examples) == (5 + MAX_BAD_RUN, 5)


def test_random_bytes_stop_early_with_few_findings(tmp_path: Path) -> None:
    path = tmp_path / "random.jsonl"
    path.write_bytes(os.urandom(4 << 20))
    scan = scan_file(str(path), OPTIONS)
    assert MAX_BAD_RUN <= scan.lines <= MAX_BAD_RUN + 10  # blank lines do not count
    assert "FT011" in {f.code for f in scan.findings}
    assert len(scan.findings) <= 4 * MAX_BAD_RUN


@pytest.mark.skipif(not parallel.fork_available(), reason="worker processes are forked")
@pytest.mark.parametrize("before", [0, 1, 7, 40])
def test_a_run_across_ranges_stops_where_one_process_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           before: int) -> None:
    monkeypatch.setattr(engine, "RANGES_PER_WORKER", 24)
    bad = [b"not json", b"", b"\xff\xfe"]
    lines = ([_chat(i) for i in range(30)] + [bad[i % 3] for i in range(before)] + [_chat(99)]
             + [bad[i % 3] for i in range(int(1.6 * MAX_BAD_RUN))] + [_chat(i) for i in range(40, 90)])
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    serial = scan_file(str(path), OPTIONS, workers=1)
    assert any(f.code == "FT011" for f in serial.findings)
    split = scan_file(str(path), OPTIONS, workers=2)
    assert split.findings == serial.findings
    assert (split.lines, split.examples, split.kind) == (serial.lines, serial.examples, serial.kind)
    assert split.not_jsonl == serial.not_jsonl is not None


def test_a_gzip_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "INFLATE_GUARD_BYTES", 1 << 20)
    path = tmp_path / "bomb.jsonl.gz"
    path.write_bytes(gzip.compress(b"\x00" * (64 << 20)))
    with pytest.raises(InflateLimit, match=r"bomb.jsonl.gz: [\d,]+ compressed bytes inflate to more than"):
        count_lines(path)
    with pytest.raises(InputError, match="gzip bomb"):
        check_files([str(path)])


def test_a_gzip_file_of_ordinary_ratio_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "INFLATE_GUARD_BYTES", 1 << 10)
    path = tmp_path / "ok.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(_chat(i) for i in range(5000)) + b"\n"))
    assert count_lines(path) == 5000


@POSIX
def test_kinds_of_sources(tmp_path: Path) -> None:
    plain = tmp_path / "f.jsonl"
    plain.write_bytes(b"{}\n")
    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    assert (source_kind(plain), source_kind(fifo), source_kind("-")) == ("file", "stream", "stream")
    with pytest.raises(InputError, match="is a directory"):
        source_kind(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        source_kind(tmp_path / "missing")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(InputError, match=r"loop: cannot open \(Too many levels of symbolic links\)"):
        source_kind(loop)


@POSIX
def test_a_spooled_copy_is_named_after_its_source_and_deleted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    read, write = os.pipe()
    os.write(write, b"{}\n{}\n")
    os.close(write)
    source = f"/dev/fd/{read}"
    try:
        with spooled(source, folder=str(tmp_path)) as copy:
            assert copy != source and Path(copy).read_bytes() == b"{}\n{}\n"
            assert Path(copy).name == str(read)
            assert display_name(copy) == source
        assert not Path(copy).exists() and list(tmp_path.iterdir()) == []
    finally:
        os.close(read)


def test_a_regular_file_is_not_copied(tmp_path: Path) -> None:
    plain = tmp_path / "f.jsonl"
    plain.write_bytes(b"{}\n")
    with spooled(plain) as path:
        assert path == str(plain)


def test_the_copy_is_bounded_like_the_reader(tmp_path: Path) -> None:
    out = tmp_path / "copy"
    source = io.BytesIO(b"ok\n" + b"a" * 50 + b"\nok\n" + b"b" * 11 + b"\n" + b"c" * 10 + b"\n")
    with out.open("wb") as handle:
        reader._copy_bounded(source, handle, limit=10)
    assert out.read_bytes() == b"ok\n" + b"a" * 11 + b"\nok\n" + b"b" * 11 + b"\n" + b"c" * 10 + b"\n"
    # Through the reader, the copy gives the original's lines (the over-long one as over-long).
    sizes = [type(line) is OverlongLine for line in read_lines(io.BytesIO(out.read_bytes()), limit=10)]
    assert sizes == [False, True, False, True, False]


def test_the_copy_of_endless_binary_data_stops(tmp_path: Path) -> None:
    class Zeros(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            buffer[:] = bytes(len(buffer))
            return len(buffer)

    out = tmp_path / "copy"
    with out.open("wb") as handle:
        reader._copy_bounded(io.BufferedReader(Zeros()), handle, limit=1000)  # would never end
    assert out.stat().st_size == 1001


@POSIX
def test_check_files_reads_a_fifo_once(tmp_path: Path) -> None:
    # The library without the command line's copy: a FIFO is read in one pass, duplicates included.
    lines = [_chat(i) for i in range(12)] + [_chat(0)]
    fifo = tmp_path / "train.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as pipe:
            pipe.write(b"\n".join(lines) + b"\n")

    results: list[object] = []
    threading.Thread(target=feed, daemon=True).start()
    worker = threading.Thread(target=lambda: results.append(check_files([str(fifo)], select=["FT5"])),
                              daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert results, "check_files did not finish: it opened the FIFO twice"
    result = results[0]
    assert [(f.code, f.line) for f in result.findings] == [("FT502", 13)]  # type: ignore[attr-defined]


@POSIX
def test_a_validation_pipe_is_refused_by_the_library(tmp_path: Path) -> None:
    plain = tmp_path / "train.jsonl"
    plain.write_bytes(_chat(0) + b"\n")
    fifo = tmp_path / "valid.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"valid\.fifo: the overlap check reads the validation file more than once"):
        check_files([str(plain)], validation=str(fifo))


def test_split_sets_an_overlong_line_aside_with_its_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", 200)
    path = tmp_path / "in.jsonl"
    lines = [_chat(i) for i in range(12)]
    lines.insert(3, b'{"messages": "' + b"a" * 1000 + b'"}')
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = split_file(path, valid_count=2)
    assert result.accounting.to_dict()["rejected"]["reasons"] == {"FT010": 1}


def test_split_refuses_a_file_that_is_not_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join([_chat(i) for i in range(12)] + [b"x,y"] * MAX_BAD_RUN + [_chat(50)]) + b"\n")
    with pytest.raises(InputError, match=r"in\.jsonl: this is not JSONL: 100 lines in a row hold no JSON object"):
        split_file(path, valid_count=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_estimate_of_a_file_that_is_not_jsonl_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "random.jsonl"
    path.write_bytes(os.urandom(1 << 20))
    with pytest.raises(InputError, match=r"random\.jsonl: this is not JSONL: 100 lines in a row hold no JSON"):
        estimate(str(path), model="gpt-4o-mini")


def test_scan_lines_treats_read_lines_as_scan_file_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", 200)
    path = tmp_path / "f.jsonl"
    lines = [_chat(0), b'{"messages": "' + b"a" * 1000 + b'"}', *[b"nope"] * (MAX_BAD_RUN + 5), _chat(1)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    from_file = scan_file(str(path), OPTIONS)
    from_lines = scan_lines(str(path), iter_lines(path), OPTIONS)
    assert from_lines.findings == from_file.findings
    assert [f.code for f in from_file.findings].count("FT011") == 1
    assert (from_lines.lines, from_lines.not_jsonl) == (from_file.lines, from_file.not_jsonl)


@given(st.lists(st.integers(0, 40), max_size=30), st.booleans(), st.integers(3, 30), st.integers(1, 50))
@settings(max_examples=300, deadline=None)
def test_the_copy_cuts_each_line_like_the_reference(lengths: list[int], final: bool, limit: int, chunk: int) -> None:
    lines = [b"x" * n for n in lengths]
    data = b"\n".join(lines) + (b"\n" if final and lines else b"")
    expected = b"".join((line[:limit + 1] if len(line) + 1 > limit + 1 else line) + newline
                        for line, newline in zip(data.split(b"\n"), [b"\n"] * data.count(b"\n") + [b""],
                                                 strict=True))
    out = io.BytesIO()
    original = reader._CHUNK
    reader._CHUNK = chunk  # small reads put line ends at every place in a chunk (restored below)
    try:
        reader._copy_bounded(io.BytesIO(data), out, limit=limit)
    finally:
        reader._CHUNK = original
    assert out.getvalue() == expected


@pytest.mark.skipif(not parallel.fork_available(), reason="worker processes are forked")
def test_overlong_lines_across_ranges_give_the_serial_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    monkeypatch.setattr(reader, "MAX_LINE_BYTES", 300)
    monkeypatch.setattr(engine, "RANGES_PER_WORKER", 24)
    long = b'{"messages": "' + b"a" * 2000 + b'"}'
    lines = [_chat(i) if i % 7 != 3 else long for i in range(60)]  # a record first: the pass goes parallel
    path = tmp_path / "f.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    serial = scan_file(str(path), OPTIONS, workers=1)
    assert [f.line for f in serial.findings if f.code == "FT010"] == list(range(4, 61, 7))
    split = scan_file(str(path), OPTIONS, workers=2)
    assert split.findings == serial.findings
    assert (split.lines, split.examples) == (serial.lines, serial.examples) == (60, 51)


@given(st.lists(st.integers(0, 60), max_size=20), st.booleans(), st.integers(1, 40), st.integers(1, 70),
       st.integers(1, 9))
@settings(max_examples=300, deadline=None)
def test_read_lines_keeps_lines_up_to_the_limit(lengths: list[int], final: bool, limit: int, probe: int,
                                                chunk: int) -> None:
    data = b"\n".join(b"x" * n for n in lengths) + (b"\n" if final and lengths else b"")
    physical = data.splitlines(keepends=True)
    original = reader.PROBE_BYTES, reader._CHUNK
    reader.PROBE_BYTES, reader._CHUNK = probe, chunk  # every path: probe, pieces, skip (restored below)
    try:
        got = list(read_lines(io.BufferedReader(io.BytesIO(data), 16), limit=limit))
    finally:
        reader.PROBE_BYTES, reader._CHUNK = original
    assert len(got) == len(physical)
    for line, expected in zip(got, physical, strict=True):
        if len(expected.rstrip(b"\n")) > limit:
            assert type(line) is OverlongLine and line.size == len(expected) and bytes(line) == b"x" * len(line)
        else:
            assert type(line) is bytes and line == expected


def test_the_copy_of_endless_random_bytes_stops() -> None:
    class Random(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            buffer[:] = os.urandom(len(buffer))
            return len(buffer)

    out = io.BytesIO()
    reader._copy_bounded(io.BufferedReader(Random()), out)  # would never end
    assert out.tell() <= 2 << 20


_KINDS_OF_LINES = [b"{}", b'{"a": 1}', b"", b"  ", b"\x00", b"x,y", b"[1]", b"\xff\xfe", b" {}", b"\x00{}",
                   b"\xef\xbb\xbf{}", b"\t\x0b{}", b"  \"s\""]


@given(st.lists(st.tuples(st.sampled_from(_KINDS_OF_LINES), st.integers(1, 120)), max_size=8),
       st.integers(3, 200))
@example(runs=[(b"x,y", 120)], chunk=4)  # chunks end with lines: the copy stops right after the 100th
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_checking_the_copy_gives_the_checks_of_the_original(tmp_path: Path, runs: list[tuple[bytes, int]],
                                                            chunk: int) -> None:
    data = b"".join((line + b"\n") * count for line, count in runs)
    original = tmp_path / "original.jsonl"
    original.write_bytes(data)
    copy = tmp_path / "copy.jsonl"
    saved = reader._CHUNK
    reader._CHUNK = chunk  # line starts at every place in a chunk (restored below)
    try:
        with copy.open("wb") as out:
            reader._copy_bounded(io.BytesIO(data), out)
    finally:
        reader._CHUNK = saved
    assert data.startswith(copy.read_bytes())
    expected, got = scan_file(str(original), OPTIONS), scan_file(str(copy), OPTIONS)
    assert [(f.code, f.line, f.message) for f in got.findings] == [
        (f.code, f.line, f.message) for f in expected.findings]
    assert (got.lines, got.examples, got.not_jsonl) == (expected.lines, expected.examples, expected.not_jsonl)
