"""Stream a JSONL file as raw byte lines with line numbers and byte offsets.

The reader never decodes: it hands out bytes so that every defect (invalid UTF-8, BOM, NUL, CRLF) can
be reported by the rules instead of crashing here. Memory is bounded by :data:`MAX_LINE_BYTES`: a longer
line is skipped to its newline without being kept, and stands as an :class:`OverlongLine` (its first
bytes and its size); a ``.gz`` file is decompressed as it is read, and refused once it inflates more than
:data:`MAX_INFLATE_RATIO` times.

Standard input, pipes and process substitution (``<(...)``, a ``/dev/fd/N`` path) can be read only once,
while ``check``, ``fix`` and ``split`` read a file two or more times (a second look at repeated prompts,
byte ranges for worker processes, the write pass): :func:`spooled` copies such a source once to a
temporary file, which every later step opens as a regular file and which is deleted afterwards.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, TypeVar

from ftprep.errors import InputError

T = TypeVar("T")

STDIN = "-"
GZIP_MAGIC = b"\x1f\x8b"
# The longest line read into memory. A vision example may embed 10 images of up to 10 MB each as base64
# (about 134 MB of text; rules/vision.py), so the bound sits well above that.
MAX_LINE_BYTES = 256 * 1024 * 1024
# How many leading bytes of a skipped line are kept (to tell JSON from binary garbage).
OVERLONG_HEAD = 4096
# A line longer than this whose first bytes are binary (see is_text) is read past at once, never kept:
# /dev/zero or a compressed file renamed .jsonl is not read into memory up to the limit.
PROBE_BYTES = 64 * 1024
# A .gz input that decompresses more than this many times its compressed size, once past
# INFLATE_GUARD_BYTES, is refused (a gzip bomb). The 49 corpus files compress 1.5-67 times (gzip -6); its maximum is
# about 1,030 times (a run of one byte), which only files made of one repeated line come near.
MAX_INFLATE_RATIO = 200
INFLATE_GUARD_BYTES = 32 * 1024 * 1024
_CHUNK = 1 << 20
# The buffer a file is read through. Python's default is the file system's block size (4 KiB here), and a
# 1.5 KB line read with readline then costs a read call every few lines and a join whenever it straddles
# two buffers: 64 KiB halves the reader's CPU time (100 MB of chat rows: 0.07-0.11 s to 0.04 s; of the
# real-data rows 0.08-0.14 s to 0.05-0.07 s), and a larger buffer saves little more.
READ_BUFFER = 64 * 1024
# A file stops being read after this many lines in a row without a JSON object (FT011, in the engine): a
# binary or non-JSONL file would otherwise keep a finding per line (200 MB of random bytes held 1.6 GB).
MAX_BAD_RUN = 100

# Spooled copies -> the name the user gave (findings and messages use it).
_SPOOLED: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class RawLine:
    """One physical line: 1-based number, byte offset of its first byte, content without EOL, and EOL.

    ``size`` is the whole line's size with its EOL when the line was longer than :data:`MAX_LINE_BYTES`
    (``data`` then holds only its first :data:`OVERLONG_HEAD` bytes), else 0.
    """

    lineno: int
    offset: int
    data: bytes
    eol: bytes
    size: int = 0


class OverlongLine(bytes):
    """Stands for a line longer than the limit: its first bytes (never a newline at the end) and, in
    ``size``, the byte size of the whole line with its end of line, which was read past but not kept."""

    size: int

    def __new__(cls, head: bytes, size: int) -> OverlongLine:
        line = super().__new__(cls, head.rstrip(b"\r\n")[:OVERLONG_HEAD])
        line.size = size
        return line


class InflateLimit(InputError):
    """A ``.gz`` input inflates beyond :data:`MAX_INFLATE_RATIO` (a gzip bomb)."""


@contextmanager
def named(path: str, name: str) -> Iterator[str]:
    """Findings and messages call the file ``path`` ``name`` (a temporary copy of records held in memory)
    until the block ends."""
    _SPOOLED[path] = name
    try:
        yield path
    finally:
        _SPOOLED.pop(path, None)


def display_name(source: str | os.PathLike[str]) -> str:
    """The name findings use for a source: the path as given (also for its spooled copy), or ``<stdin>``."""
    name = _SPOOLED.get(str(source), str(source))
    return "<stdin>" if name == STDIN else name


def original_path(source: str | os.PathLike[str]) -> str:
    """The path the user gave for ``source`` (``-`` for standard input), also for a spooled copy."""
    return _SPOOLED.get(str(source), str(source))


def source_kind(source: str | os.PathLike[str]) -> str:
    """``"file"`` (a regular file, read as often as needed) or ``"stream"`` (standard input, a pipe, a
    FIFO, or the terminal or device that is standard input: read once).

    Raises :class:`InputError` naming the path when it is missing, unreadable, a directory, or another
    kind of file (a socket, a block device, a character device such as ``/dev/zero``).
    """
    if str(source) == STDIN:
        return "stream"
    path = Path(source)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file; check the path") from None
    except OSError as exc:  # a symlink loop, a name too long, a folder without search permission
        raise InputError(f"{path}: cannot open ({exc.strerror}); check the path") from exc
    if stat.S_ISREG(info.st_mode):
        return "file"
    if stat.S_ISFIFO(info.st_mode):
        return "stream"
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is a directory; pass a .jsonl file")
    if stat.S_ISCHR(info.st_mode) and _is_stdin(info):
        return "stream"  # /dev/stdin on a terminal
    kind = ("a socket" if stat.S_ISSOCK(info.st_mode) else "a block device" if stat.S_ISBLK(info.st_mode)
            else "a character device" if stat.S_ISCHR(info.st_mode) else "not a regular file")
    raise InputError(f"{path}: is {kind}, not a file or a pipe; pass a .jsonl file, a pipe, or - for stdin")


def _is_stdin(info: os.stat_result) -> bool:
    try:
        return os.path.samestat(info, os.fstat(0))
    except OSError:
        return False


@contextmanager
def open_binary(source: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a path, a ``.gz`` file (detected by magic bytes) or ``-`` (stdin) for binary reading.

    A ``.gz`` file is decompressed as it is read; reading raises :class:`InflateLimit` once it has
    inflated more than :data:`MAX_INFLATE_RATIO` times its size.
    """
    if str(source) == STDIN:
        yield sys.stdin.buffer
        return
    path = Path(source)
    source_kind(path)  # a clear error for a missing path, a directory, a socket or a device
    try:
        raw = io.BufferedReader(io.FileIO(path, "rb"), READ_BUFFER)
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror}); check its permissions") from exc
    with raw:
        if raw.peek(2)[:2] == GZIP_MAGIC:
            try:
                with gzip.open(raw, "rb") as gz:
                    yield io.BufferedReader(_InflateGuard(gz, raw, display_name(path)), _CHUNK)
            except gzip.BadGzipFile as exc:
                raise InputError(f"{path}: not a valid gzip file ({exc}); re-compress it or pass it plain") from exc
        else:
            yield raw


class _InflateGuard(io.RawIOBase):
    """A decompressing stream that stops at :data:`MAX_INFLATE_RATIO` (compressed bytes: the position
    in the underlying file, which reads ahead by at most one buffer)."""

    def __init__(self, gz: gzip.GzipFile, raw: BinaryIO, name: str) -> None:
        super().__init__()
        self._gz = gz
        self._raw = raw
        self._name = name
        self._out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        got = self._gz.readinto(buffer)
        self._out += got
        if self._out > INFLATE_GUARD_BYTES:
            packed = max(1, self._raw.tell())
            if self._out > MAX_INFLATE_RATIO * packed:
                raise InflateLimit(
                    f"{self._name}: {packed:,} compressed bytes inflate to more than {self._out:,} (over "
                    f"{MAX_INFLATE_RATIO} times): a gzip bomb, or a file of one repeated line; decompress it "
                    "yourself (gunzip -k) and check the plain file")
        return int(got)


class LineSource(Protocol):
    """What the line reader needs of a stream: ``readline`` with a size limit."""

    def readline(self, size: int = -1, /) -> bytes:
        """One line of at most ``size`` bytes (b"" at the end)."""
        ...


class HeadKeeper:
    """A binary stream read through :meth:`readline` that keeps a copy of its first ``size`` bytes: the head
    of standard input or a pipe, which cannot be opened again once the pass has read it."""

    def __init__(self, stream: LineSource, size: int) -> None:
        self._readline = stream.readline
        self._size = size
        self._pieces: list[bytes] = []
        self._kept = 0

    def readline(self, size: int = -1, /) -> bytes:
        """One line (at most ``size`` bytes), as the wrapped stream gives it."""
        line = self._readline(size)
        if self._kept < self._size and line:
            piece = line[: self._size - self._kept]
            self._pieces.append(bytes(piece))
            self._kept += len(piece)
        return line

    @property
    def head(self) -> bytes:
        """The first bytes read (up to ``size``)."""
        return b"".join(self._pieces)


def split_eol(line: bytes) -> tuple[bytes, bytes]:
    """Split a physical line into its content and its end-of-line bytes (``\\n``, ``\\r\\n`` or none)."""
    if line.endswith(b"\r\n"):
        return line[:-2], b"\r\n"
    if line.endswith(b"\n"):
        return line[:-1], b"\n"
    return line, b""


def read_lines(stream: LineSource, limit: int | None = None) -> Iterator[bytes]:
    """The physical lines of ``stream``, each with its end of line; a line longer than ``limit`` bytes
    (default :data:`MAX_LINE_BYTES`), or longer than :data:`PROBE_BYTES` and binary from its first bytes,
    is read past without being kept and stands as an :class:`OverlongLine`.
    """
    limit = MAX_LINE_BYTES if limit is None else limit
    probe = min(limit + 1, PROBE_BYTES)
    readline = stream.readline
    while line := readline(probe):
        if line[-1] == 0x0A or len(line) < probe:
            yield line
        elif not is_text(line[:OVERLONG_HEAD]):
            yield _skip_line(readline, line[:OVERLONG_HEAD], len(line))
        else:
            # A long text line: read in pieces, joined only if it ends within the limit (an over-long
            # line then never holds more than the limit in memory, nor a copy of it).
            pieces = [line]
            size = len(line)
            while size <= limit and pieces[-1][-1] != 0x0A:
                piece = readline(min(_CHUNK, limit + 1 - size))
                if not piece:
                    break
                pieces.append(piece)
                size += len(piece)
            if size > limit and pieces[-1][-1] != 0x0A:
                head = line[:OVERLONG_HEAD]
                del pieces
                yield _skip_line(readline, head, size)
            else:
                yield b"".join(pieces)


def _skip_line(readline: Callable[[int], bytes], head: bytes, size: int) -> OverlongLine:
    """Read past the rest of a long line (in bounded pieces) and return its stand-in."""
    while True:
        piece = readline(_CHUNK)
        size += len(piece)
        if not piece or piece[-1] == 0x0A:
            return OverlongLine(head, size)


def iter_stream(stream: BinaryIO, *, first_lineno: int = 1, start_offset: int = 0,
                end_offset: int | None = None) -> Iterator[RawLine]:
    """Yield the lines of an open binary stream; stop after the line that crosses ``end_offset``."""
    lineno = first_lineno
    offset = start_offset
    for line in read_lines(stream):
        if type(line) is OverlongLine:
            size = line.size
            yield RawLine(lineno, offset, bytes(line), b"", size)
        else:
            size = len(line)
            data, eol = split_eol(line)
            yield RawLine(lineno, offset, data, eol)
        lineno += 1
        offset += size
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
            while chunk := stream.read(_CHUNK):
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


def reporting(lines: Iterable[RawLine], progress: Callable[[int], None] | None) -> Iterator[RawLine]:
    """``lines`` as they are, calling ``progress`` with the bytes read (line and end of line), about once per
    megabyte and at the end (a progress bar over a second pass that ``iter_lines`` makes)."""
    return metered(lines, lambda raw: raw.size or len(raw.data) + len(raw.eol), progress)


def metered(items: Iterable[T], size: Callable[[T], int], progress: Callable[[int], None] | None) -> Iterator[T]:
    """``items`` as they are, calling ``progress`` with the bytes ``size`` says each took, about once per
    megabyte and at the end."""
    if progress is None:
        yield from items
        return
    pending = 0
    for item in items:
        pending += size(item)
        if pending >= 1 << 20:
            progress(pending)
            pending = 0
        yield item
    if pending:
        progress(pending)


@contextmanager
def spooled(source: str | os.PathLike[str], folder: str | None = None) -> Iterator[str]:
    """A path every step can open as often as it needs: ``source`` itself when it is a regular file; for
    standard input, a pipe or a FIFO, a copy made by reading it once (in ``folder``, default the system's
    temporary folder, ``$TMPDIR``), deleted on exit. The copy keeps the source's file name (its
    extension tells ``convert`` the container) and :func:`display_name` maps it back to ``source``.

    The copy needs as much free disk as the input holds; it is bounded like the reader: a line longer than
    :data:`MAX_LINE_BYTES` is copied up to just over the limit (the reader then reports it as it would in
    the original), and the copy ends where the check of the original stops: at a long line that is not
    text (``/dev/zero``, binary data), or after :data:`MAX_BAD_RUN` lines in a row that cannot be records
    (an endless stream of garbage fills no disk). Raises :class:`InputError` for a source that is neither
    a file nor a pipe, and when the copy cannot be written (full disk).
    """
    if source_kind(source) == "file":
        yield str(source)
        return
    name = display_name(source)
    if str(source) == STDIN and STDIN in _SPOOLED.values():
        raise InputError("standard input (-) can be read only once: pass it as one of the inputs")
    base = "stdin" if str(source) == STDIN else (Path(source).name or "input")
    try:
        where = tempfile.mkdtemp(prefix="ftprep-spool-", dir=folder)
    except OSError as exc:
        raise InputError(f"{name}: cannot create a temporary folder to read it into ({exc.strerror}); set "
                         "TMPDIR to a writable folder, or pass a file") from exc
    copy = os.path.join(where, base)
    try:
        with open_binary(source) if str(source) == STDIN else open(source, "rb") as stream:
            try:
                with open(copy, "wb") as out:
                    _copy_bounded(stream, out)
            except OSError as exc:
                raise InputError(f"{name}: cannot copy it to {where} to read it more than once "
                                 f"({exc.strerror or exc}); free disk space or set TMPDIR, or pass a file") from exc
        _SPOOLED[copy] = str(source)
        yield copy
    finally:
        _SPOOLED.pop(copy, None)
        shutil.rmtree(where, ignore_errors=True)


def _copy_bounded(stream: BinaryIO, out: BinaryIO, limit: int | None = None) -> None:
    """Copy ``stream`` to ``out``; a line longer than ``limit`` is cut just past it, and the copy ends where
    the reader stops (see :func:`spooled`). Compressed input is copied as it is."""
    limit = MAX_LINE_BYTES if limit is None else limit
    chunk = stream.read(_CHUNK)
    if chunk.startswith(GZIP_MAGIC):  # the reader guards the inflated lines of the copy
        out.write(chunk)
        shutil.copyfileobj(stream, out, _CHUNK)
        return
    line = 0  # bytes of the current line read so far
    head = b""  # its first bytes
    run, at_line_start = 0, True  # lines in a row that cannot be records; whether a line starts next
    stopping = False  # the line where the reader stops has started: copy up to its end
    while chunk:
        stop_at = -1
        if not stopping:
            run, stop_at = _bad_line_starts(chunk, at_line_start, run)
        at_line_start = chunk.endswith(b"\n")
        first = chunk.find(b"\n")
        if first >= 0 and line + first <= limit and len(chunk) <= limit:
            # The usual chunk: it ends the current line within the limit, and no line it holds can be
            # longer than the chunk itself: copy it whole.
            out.write(chunk)
            last = chunk.rfind(b"\n")
            line, head = len(chunk) - last - 1, chunk[last + 1:last + 1 + OVERLONG_HEAD]
        else:
            line, head = _copy_cut(chunk, out, limit, line, head)
        # The reader stops at that line (FT011): garbage after it, maybe endless, is not copied.
        if stopping and b"\n" in chunk:
            return
        if stop_at >= 0:
            if chunk.find(b"\n", stop_at) >= 0:
                return
            stopping = True
        if line > PROBE_BYTES and not is_text(head):
            return  # binary data, maybe endless (/dev/zero): the reader stops at this line
        chunk = stream.read(_CHUNK)


def _bad_line_starts(chunk: bytes, at_line_start: bool, run: int) -> tuple[int, int]:
    """The run of lines that cannot be records after ``chunk`` (``run`` before it), and where in the chunk
    the line starts at which the run reaches :data:`MAX_BAD_RUN` (-1: nowhere).

    A line that starts in the chunk with anything but ``{`` (after white space and NUL bytes) is no record
    for the engine either, so the engine stops no later than the copy; a line starting with ``{`` ends the
    run, and a blank one, or one whose start is cut, leaves it as it is.
    """
    newlines = chunk.count(b"\n")
    inner = newlines - chunk.endswith(b"\n")  # newlines followed by a line start in this chunk
    if chunk.count(b"\n{") == inner and (not at_line_start or chunk.startswith(b"{")):
        return (0, -1) if inner or at_line_start else (run, -1)  # the usual chunk: every line a "{"
    starts = [0] if at_line_start else []
    position = chunk.find(b"\n")
    while 0 <= position < len(chunk) - 1:
        starts.append(position + 1)
        position = chunk.find(b"\n", position + 1)
    for start in starts:
        end = chunk.find(b"\n", start, start + 256)
        text = chunk[start:start + 256 if end < 0 else end].replace(b"\x00", b"")
        text = text.lstrip(b" \t\r\x0b\x0c\xef\xbb\xbf")
        if not text:
            continue
        if text[0] == 0x7B:
            run = 0
        else:
            run += 1
            if run >= MAX_BAD_RUN:
                return run, start
    return run, -1


def _copy_cut(chunk: bytes, out: BinaryIO, limit: int, line: int, head: bytes) -> tuple[int, bytes]:
    """Copy ``chunk`` line by line, each line cut just past ``limit`` (``line`` bytes of the current line,
    starting with ``head``, came before); returns the current line's size and head after the chunk."""
    view = memoryview(chunk)
    start = 0
    while start < len(chunk):
        newline = chunk.find(b"\n", start)
        end = len(chunk) if newline < 0 else newline + 1
        if len(head) < OVERLONG_HEAD:
            head += chunk[start:min(end, start + OVERLONG_HEAD - len(head))]
        keep = min(end - start, limit + 1 - line)  # up to one byte past the limit
        if keep > 0:
            out.write(view[start:start + keep])
        line += end - start
        if newline >= 0:
            if keep < end - start:
                out.write(b"\n")  # the cut dropped the line's own newline
            line, head = 0, b""
        start = end
    return line, head


def is_text(head: bytes) -> bool:
    """Whether the first bytes of a line can be text: no NUL byte, and a JSON object or UTF-8 (a character
    cut at the end of ``head`` is allowed); a record in another encoding (Latin-1) is text."""
    if b"\x00" in head:
        return False
    if head.lstrip(b" \t\xef\xbb\xbf").startswith(b"{"):
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


def spooled_all(sources: list[str | None], stack: contextlib.ExitStack) -> list[str | None]:
    """:func:`spooled` for each source (None stays None), kept until ``stack`` closes."""
    return [None if s is None else stack.enter_context(spooled(s)) for s in sources]
