"""Stream a JSONL file as raw byte lines with line numbers and byte offsets.

The reader never decodes: it hands out bytes so that every defect (invalid UTF-8, BOM, NUL, CRLF) can
be reported by the rules instead of crashing here. Memory is bounded by the longest line.
"""

from __future__ import annotations

import gzip
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ftprep.errors import InputError

STDIN = "-"
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class RawLine:
    """One physical line: 1-based number, byte offset of its first byte, content without EOL, and EOL."""

    lineno: int
    offset: int
    data: bytes
    eol: bytes


def display_name(source: str | os.PathLike[str]) -> str:
    """The name findings use for a source: the path as given, or ``<stdin>``."""
    return "<stdin>" if str(source) == STDIN else str(source)


@contextmanager
def open_binary(source: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a path, a ``.gz`` file (detected by magic bytes) or ``-`` (stdin) for binary reading."""
    if str(source) == STDIN:
        yield sys.stdin.buffer
        return
    path = Path(source)
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a directory; pass a .jsonl file")
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror}); check its permissions") from exc
    with raw:
        if raw.peek(2)[:2] == GZIP_MAGIC:
            try:
                with gzip.open(raw, "rb") as gz:
                    yield gz  # type: ignore[misc]
            except gzip.BadGzipFile as exc:
                raise InputError(f"{path}: not a valid gzip file ({exc}); re-compress it or pass it plain") from exc
        else:
            yield raw


def split_eol(line: bytes) -> tuple[bytes, bytes]:
    """Split a physical line into its content and its end-of-line bytes (``\\n``, ``\\r\\n`` or none)."""
    if line.endswith(b"\r\n"):
        return line[:-2], b"\r\n"
    if line.endswith(b"\n"):
        return line[:-1], b"\n"
    return line, b""


def iter_stream(stream: BinaryIO, *, first_lineno: int = 1, start_offset: int = 0,
                end_offset: int | None = None) -> Iterator[RawLine]:
    """Yield the lines of an open binary stream; stop after the line that crosses ``end_offset``."""
    lineno = first_lineno
    offset = start_offset
    for line in stream:
        data, eol = split_eol(line)
        yield RawLine(lineno, offset, data, eol)
        lineno += 1
        offset += len(line)
        if end_offset is not None and offset >= end_offset:
            return


def count_lines(source: str | os.PathLike[str]) -> int:
    """How many lines :func:`iter_lines` yields for ``source`` (a path or ``.gz`` path): newlines are counted
    in 1 MB chunks at C speed, about 20 times faster than iterating the lines.

    Raises :class:`InputError` like :func:`iter_lines`.
    """
    count = 0
    last = b"\n"
    with open_binary(source) as stream:
        try:
            while chunk := stream.read(1 << 20):
                count += chunk.count(b"\n")
                last = chunk[-1:]
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"{display_name(source)}: cannot read ({exc}); is the file complete?") from exc
    return count + (last != b"\n")  # a last line without a newline


def iter_lines(source: str | os.PathLike[str]) -> Iterator[RawLine]:
    """Yield every physical line of ``source`` (path, ``.gz`` path or ``-``) as a :class:`RawLine`.

    Raises :class:`InputError` when the source cannot be opened or decompressed.
    """
    with open_binary(source) as stream:
        try:
            yield from iter_stream(stream)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"{display_name(source)}: cannot read ({exc}); is the file complete?") from exc
