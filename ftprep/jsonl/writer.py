"""Atomic output files: write to a temp file in the same folder, fsync, then ``os.replace`` into place.

A reader of the output path sees either the old file or the complete new one, never a partial file.
Temp files are named ``.<output name>.ftprep-tmp-<pid>-<random>`` so they are recognisable; a run removes
the stale temp files of its own outputs left by a killed process (SIGKILL cannot be intercepted), and
:func:`atomic_outputs` turns SIGTERM/SIGHUP into an exception while it runs, so that the temp files are
removed on the way out. Several outputs of one command commit together, with signals blocked, so a
command never leaves one output new and another old.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO

import orjson

from ftprep.errors import ConfigError, OutputError

TEMP_MARK = ".ftprep-tmp-"
_CAUGHT_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s)


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM or SIGHUP arrives while outputs are being written.

    A subclass of ``KeyboardInterrupt`` so that every layer treats it as a user interruption.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


def record_bytes(record: Any) -> bytes:
    """A record as one compact JSON line (no end of line), keys in their order, values exactly as read.

    orjson on the fast path; integers beyond 64 bits (which orjson cannot write) through the standard
    library, with the same digits. Raises ``ValueError`` (``UnicodeEncodeError`` for a lone surrogate,
    which has no UTF-8 encoding) rather than write a line that is not valid UTF-8 JSON.
    """
    try:
        return orjson.dumps(record)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        pass
    try:
        text = json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except RecursionError as exc:
        raise ValueError("the record nests too deeply to be written") from exc
    except TypeError as exc:
        raise ValueError(f"the record holds a value JSON cannot hold ({exc})") from exc
    return text.encode("utf-8")


def temp_prefix(path: Path) -> str:
    """The name prefix of ``path``'s temp files (``.name.ftprep-tmp-``)."""
    return f".{path.name}{TEMP_MARK}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete temp files of ``path`` left by processes that no longer run; return what was removed."""
    removed: list[Path] = []
    folder = path.parent
    prefix = temp_prefix(path)
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix)]
    except OSError:
        return removed
    for name in names:
        pid_text = name[len(prefix):].split("-", 1)[0]
        if pid_text.isdigit() and _pid_alive(int(pid_text)) and int(pid_text) != os.getpid():
            continue  # another live run is writing the same output
        with contextlib.suppress(OSError):
            (folder / name).unlink()
            removed.append(folder / name)
    return removed


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_SPECIAL_KINDS = ((stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "named pipe"),
                  (stat.S_ISSOCK, "socket"))


def refuse_special_output(path: Path) -> None:
    """Raise :class:`ConfigError` when ``path`` exists and is not a regular file (nor a folder, reported
    apart): a device, a pipe, a socket, a terminal, or a link to one such as ``/dev/stdout``.

    An output is written to a temp file and moved over ``path``: over a special file that move would
    replace it (as root, ``-o /dev/stdout --force`` replaced the ``/dev/stdout`` link), never write into it.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:  # a link loop, a link into a folder that cannot be read
        if os.path.islink(path):
            raise ConfigError(f"{path}: is a link that cannot be followed ({exc.strerror}); give a file path") from None
        return
    for test, kind in _SPECIAL_KINDS:
        if test(mode):
            raise ConfigError(f"{path}: is a {kind}, not a regular file; ftprep writes outputs as files "
                              "(give a file path)")


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
    except (RuntimeError, OSError):  # a symlink loop (RuntimeError before Python 3.13): not the same file
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class AtomicOutput:
    """One output file written through a temp file; :meth:`commit` moves it into place.

    ``optional``: when nothing was written, commit creates no file (and, with ``force``, removes an old
    one so that no stale file is mistaken for this run's output). Used for rejects files.
    """

    def __init__(self, path: str | os.PathLike[str], *, force: bool = False, optional: bool = False,
                 mode: int | None = None) -> None:
        if not os.fspath(path):
            raise ConfigError("an output path is empty (''); give a file path")
        self.path = Path(path)
        self.force = force
        self.optional = optional
        self.mode = mode
        self.lines = 0
        self.bytes = 0
        self.temp: Path | None = None
        self._file: BinaryIO | None = None

    def validate(self, inputs: Sequence[str | os.PathLike[str]]) -> None:
        """Refuse to write over an input, a special file, into a missing folder, or over an existing file
        without force."""
        refuse_special_output(self.path)
        for source in inputs:
            if str(source) != "-" and _same_file(self.path, Path(source)):
                raise ConfigError(f"{self.path}: is the input file; write the output to another path")
        try:
            os.stat(self.path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ConfigError(f"{self.path}: a symbolic link loop ({exc.strerror}); "
                                  "fix the link or choose another path") from exc
        if self.path.is_dir():
            raise ConfigError(f"{self.path}: is a directory; give a file path for the output")
        if not self.path.parent.is_dir():
            raise ConfigError(f"{self.path}: folder {self.path.parent} does not exist; create it first")
        if self.path.exists() and not self.force:
            raise ConfigError(f"{self.path}: already exists; pass --force to overwrite it or choose another path")

    def open(self) -> None:
        """Create the temp file next to the output (removing stale temps of this output first)."""
        remove_stale_temps(self.path)
        try:
            fd, name = tempfile.mkstemp(prefix=f"{temp_prefix(self.path)}{os.getpid()}-", dir=self.path.parent)
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot create a file in {self.path.parent} ({exc.strerror}); "
                              "check its permissions") from exc
        self.temp = Path(name)
        # mkstemp creates 0600; give the output the mode a plain open() would have (or the one asked for).
        with contextlib.suppress(OSError):
            os.fchmod(fd, self.mode if self.mode is not None else 0o666 & ~_umask())
        self._file = os.fdopen(fd, "wb", buffering=1 << 20)

    def write_line(self, data: bytes) -> None:
        """Write one line (``data`` without its end of line) followed by ``\\n``."""
        if self._file is None:
            raise RuntimeError(f"{self.path}: output is not open")
        try:
            self._file.write(data)
            self._file.write(b"\n")
        except OSError as exc:
            raise self._write_error(exc) from exc
        self.lines += 1
        self.bytes += len(data) + 1

    def write(self, data: bytes) -> None:
        """Write bytes as they are (whole documents such as reports)."""
        if self._file is None:
            raise RuntimeError(f"{self.path}: output is not open")
        try:
            self._file.write(data)
        except OSError as exc:
            raise self._write_error(exc) from exc
        self.bytes += len(data)

    def _write_error(self, exc: OSError) -> OutputError:
        """The clear error for a failed write (full disk, quota, I/O error), naming the output."""
        hint = "free some space or write to another disk" if exc.errno in (errno.ENOSPC, errno.EDQUOT) \
            else "check the disk and the folder's permissions"
        return OutputError(f"{self.path}: cannot write ({exc.strerror or exc}); {hint}; the output was not changed")

    def _close(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            file.close()

    def flush(self) -> None:
        """Flush and fsync the temp file (the data is on disk before the rename makes it visible)."""
        if self._file is not None:
            try:
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError as exc:
                raise self._write_error(exc) from exc
        self._close()

    def commit(self) -> None:
        """Move the finished temp file into place (or drop it when optional and empty)."""
        self.flush()
        if self.temp is None:
            return
        temp, self.temp = self.temp, None
        if self.optional and self.lines == 0:
            temp.unlink(missing_ok=True)
            if self.force:
                self.path.unlink(missing_ok=True)
            return
        try:
            os.replace(temp, self.path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise OutputError(f"{self.path}: cannot move the finished output into place ({exc.strerror}); "
                              "check the folder's permissions") from exc
        _fsync_folder(self.path.parent)

    def discard(self) -> None:
        """Close and delete the temp file; the output path is left as it was."""
        with contextlib.suppress(OSError):
            self._close()
        if self.temp is not None:
            self.temp.unlink(missing_ok=True)
            self.temp = None


def _fsync_folder(folder: Path) -> None:
    """Persist the rename itself (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _raise_terminated(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def _signals_as_exceptions() -> Iterator[None]:
    """SIGTERM/SIGHUP raise :class:`Terminated` (main thread, default handlers only) while the block runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in _CAUGHT_SIGNALS:
        if signal.getsignal(signum) is signal.SIG_DFL:
            previous[signum] = signal.signal(signum, _raise_terminated)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Hold back interrupting signals while outputs are renamed into place (they arrive afterwards)."""
    held = {signal.SIGINT, *_CAUGHT_SIGNALS}
    can_block = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    if can_block:
        signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        if can_block:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


@contextlib.contextmanager
def atomic_outputs(outputs: Sequence[AtomicOutput],
                   inputs: Sequence[str | os.PathLike[str]] = ()) -> Iterator[Sequence[AtomicOutput]]:
    """Open every output for writing; commit them all when the block succeeds, discard them all otherwise.

    Validation happens before anything is created: an output that is an input, an existing output
    without ``force``, or two outputs with the same path raise :class:`~ftprep.errors.ConfigError`.
    Any exception, including ``KeyboardInterrupt`` and SIGTERM/SIGHUP (raised as :class:`Terminated`),
    removes the temp files and leaves the output paths untouched.
    """
    seen: list[Path] = []
    for output in outputs:
        output.validate(inputs)
        if any(_same_file(output.path, other) for other in seen):
            raise ConfigError(f"{output.path}: given for two outputs; choose distinct paths")
        seen.append(output.path)
    with _signals_as_exceptions():
        try:
            for output in outputs:
                output.open()
            yield outputs
            for output in outputs:
                output.flush()
            with _signals_blocked():
                for output in outputs:
                    output.commit()
        except BaseException:
            for output in outputs:
                output.discard()
            raise


def write_file_atomic(path: str | os.PathLike[str], data: bytes, *, inputs: Sequence[str | os.PathLike[str]] = (),
                      mode: int | None = None, make_parents: bool = False) -> None:
    """Write a whole file (a report, a state record) atomically, replacing any old one.

    Refuses to write over one of ``inputs`` (:class:`~ftprep.errors.ConfigError`). ``mode`` sets the
    permissions (default: what a plain ``open()`` gives under the umask); ``make_parents`` creates the folder.
    """
    target = Path(path)
    if make_parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    output = AtomicOutput(target, force=True, mode=mode)
    with atomic_outputs([output], inputs):
        output.write(data)


# Names that promise another format than the JSONL these writers produce (a reader trusting the extension
# would fail on the file, or misread it).
FOREIGN_SUFFIXES = frozenset({".parquet", ".pq", ".csv", ".tsv", ".json", ".arrow", ".feather", ".ipc", ".xlsx",
                              ".xls", ".zip", ".gz", ".bz2", ".xz", ".zst", ".avro", ".orc", ".txt"})


def require_jsonl_name(path: str | os.PathLike[str]) -> None:
    """Refuse an output name whose extension says it is not JSONL (``out.parquet``, ``out.csv``, ``out.gz``):
    :class:`~ftprep.errors.ConfigError` naming the fix. Standard output (``-``) and names without an
    extension pass."""
    suffix = Path(path).suffix.lower()
    if str(path) != "-" and suffix in FOREIGN_SUFFIXES:
        raise ConfigError(f"{path}: ftprep writes JSONL (uncompressed), not {suffix[1:]}; name the output "
                          f"{Path(path).with_suffix('.jsonl').name}")
