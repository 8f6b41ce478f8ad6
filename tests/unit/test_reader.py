"""The byte reader: line numbers, offsets, end-of-line bytes, .gz and stdin."""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftprep.errors import InputError
from ftprep.jsonl.reader import PROBE_BYTES, READ_BUFFER, RawLine, count_lines, iter_lines, split_eol

BYTE_TABLE = [
    (b"a\nb\n", [(1, 0, b"a", b"\n"), (2, 2, b"b", b"\n")]),
    (b"a\r\nb\r\n", [(1, 0, b"a", b"\r\n"), (2, 3, b"b", b"\r\n")]),
    (b"a\nb", [(1, 0, b"a", b"\n"), (2, 2, b"b", b"")]),
    (b"\xef\xbb\xbfa\n", [(1, 0, b"\xef\xbb\xbfa", b"\n")]),
    (b"a\n\n\n", [(1, 0, b"a", b"\n"), (2, 2, b"", b"\n"), (3, 3, b"", b"\n")]),
    (b"a\rb\n", [(1, 0, b"a\rb", b"\n")]),
    (b"", []),
]


@pytest.mark.parametrize(("content", "expected"), BYTE_TABLE)
def test_lines_numbers_offsets_and_eols(tmp_path: Path, content: bytes, expected: list[tuple[int, int, bytes, bytes]]
                                        ) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(content)
    assert list(iter_lines(path)) == [RawLine(*row) for row in expected]
    assert count_lines(path) == len(expected)


@given(st.lists(st.sampled_from([b"a", b"", b"\r", b"{}", b"x" * 70]), max_size=30), st.booleans(), st.booleans())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_count_lines_equals_the_lines_iterated(tmp_path: Path, lines: list[bytes], final: bool, zipped: bool) -> None:
    content = b"\n".join(lines) + (b"\n" if final and lines else b"")
    path = tmp_path / "f.jsonl"
    path.write_bytes(gzip.compress(content) if zipped else content)
    assert count_lines(path) == sum(1 for _ in iter_lines(path))


def _expected_lines(content: bytes) -> list[RawLine]:
    """The lines of ``content`` cut by hand at each newline."""
    rows: list[RawLine] = []
    offset = 0
    while offset < len(content):
        newline = content.find(b"\n", offset)
        end = len(content) if newline < 0 else newline + 1
        rows.append(RawLine(len(rows) + 1, offset, *split_eol(content[offset:end])))
        offset = end
    return rows


# Lines that end (or whose CRLF is cut) at the edges of the read buffer and of the reader's probe, a line
# several buffers long, a BOM and NUL bytes, with and without a final newline: the file is read as cut by hand.
_EDGES = [READ_BUFFER - 2, READ_BUFFER - 1, READ_BUFFER, READ_BUFFER + 1, PROBE_BYTES + 1, 3 * READ_BUFFER + 7]


@pytest.mark.parametrize("final", [b"\n", b"\r\n", b""])
@pytest.mark.parametrize("edge", _EDGES)
def test_lines_at_the_read_buffer_edges_are_read_whole(tmp_path: Path, edge: int, final: bytes) -> None:
    filler = b'{"messages": [{"role": "user", "content": "' + b"x" * edge + b'"}]}'
    first = b"\xef\xbb\xbf" + filler[: edge - 4] + b"\r\n"  # CR: the file's byte `edge`, LF the next
    content = (first + b'{"a": "\x00"}\n' + filler + b"\n" + b"\n" + filler[:edge] + b"\r\n"
               + b"{}" + final)
    path = tmp_path / "edges.jsonl"
    path.write_bytes(content)
    lines = list(iter_lines(path))
    assert lines == _expected_lines(content)
    assert lines[0].eol == b"\r\n" and lines[0].offset + len(lines[0].data) + 2 == len(first)
    assert b"".join(line.data + line.eol for line in lines) == content
    assert count_lines(path) == len(lines)


def test_split_eol_keeps_a_lone_carriage_return_in_the_content() -> None:
    assert split_eol(b"x\r") == (b"x\r", b"")


def test_gzip_input_is_detected_by_content(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"a": 1}\n{"b": 2}\n'))
    assert [line.data for line in iter_lines(path)] == [b'{"a": 1}', b'{"b": 2}']


def test_truncated_gzip_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"a": 1}\n' * 1000)[:40])
    with pytest.raises(InputError, match=r"f\.jsonl\.gz"):
        list(iter_lines(path))
    with pytest.raises(InputError, match=r"f\.jsonl\.gz"):
        count_lines(path)


def test_stdin_is_read_as_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = io.TextIOWrapper(io.BytesIO(b'{"a": 1}\r\n'))
    monkeypatch.setattr(sys, "stdin", fake)
    assert list(iter_lines("-")) == [RawLine(1, 0, b'{"a": 1}', b"\r\n")]


def test_missing_file_is_an_input_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.jsonl: no such file"):
        list(iter_lines(tmp_path / "nope.jsonl"))


def test_directory_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        list(iter_lines(tmp_path))
