"""The file-level diagnosis after the pass: read the head of a file again, say once what the file is when it
is not fine-tuning JSONL (FT012, :mod:`ftprep.rules.diagnosis`), and cut the line findings that follow from
it to a few examples of each rule."""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Sequence

from ftprep.engine import HEAD_BYTES, FileScan
from ftprep.errors import InputError
from ftprep.jsonl.reader import STDIN, open_binary, original_path, source_kind
from ftprep.lint.finding import Finding, Severity
from ftprep.rules.bytes import NotJsonl
from ftprep.rules.diagnosis import (
    JSON_ARRAY,
    KEEP_EXAMPLES,
    PRETTY,
    Diagnosis,
    FileDiagnosis,
    Record,
    container_of,
    diagnose_container,
    diagnose_rows,
    document_records,
    line_records,
)

# Rows of the head (or of a window) a row diagnosis looks at, sampled over it; bytes of each later window.
SAMPLED_ROWS = 50
WINDOW_BYTES = 1 << 18


def read_head(path: str, size: int = HEAD_BYTES) -> bytes | None:
    """The first ``size`` bytes of ``path`` (decompressed for ``.gz``); None for standard input or a pipe,
    which cannot be read twice (the pass kept their head: :attr:`FileScan.head`), or a file that cannot be read
    again."""
    try:
        if path == STDIN or source_kind(path) == "stream":
            return None
        with open_binary(path) as stream:
            return stream.read(size)
    except (InputError, OSError, EOFError):
        return None


def diagnose(head: bytes, scan: FileScan, *, method_given: bool, reinforcement_model: str | None,
             command_path: str | None = None, windows: Sequence[bytes] = ()) -> Diagnosis | None:
    """What the file whose first bytes are ``head`` is, when it is not fine-tuning JSONL and the scan found
    errors it explains. ``command_path`` is the input the suggested commands read (default: the scan's path;
    ``-`` for standard input). ``windows``: bytes from further into the file (see :func:`read_windows`); a row
    diagnosis holds only when the rows there are of the same kind (a mixed file gets none)."""
    where = command_path or scan.path
    container = container_of(head)
    if container is not None:
        records = document_records(head) if container in (JSON_ARRAY, PRETTY) else []
        return diagnose_container(where, container, records)
    if not scan.errors:
        return None
    found = diagnose_rows(where, spread_records(head), method_given=method_given,
                          reinforcement_model=reinforcement_model)
    if found is None:
        return None
    for window in windows:
        records = spread_records(window, partial_first=True)
        if records:
            other = diagnose_rows(where, records, method_given=method_given,
                                  reinforcement_model=reinforcement_model)
            if other is None or other.what != found.what:
                return None
    # And the scan found errors it explains (kept, or only counted: check_files' keep_findings).
    counted = [code for code, tally in scan.omitted.items() if tally.severity is Severity.ERROR]
    if not any(f.line is not None and f.severity is Severity.ERROR and found.explains(f.code) for f in scan.findings) \
            and not any(found.explains(code) for code in counted):
        return None
    return found


def spread_records(data: bytes, limit: int = SAMPLED_ROWS, *, partial_first: bool = False) -> list[Record]:
    """Up to ``limit`` records of the complete lines of ``data``, sampled over all of them (the whole of a
    small file, whose head is all of it). ``partial_first``: ``data`` starts inside a line, skipped."""
    lines = data.split(b"\n")
    if partial_first:
        lines = lines[1:]
    if len(data) >= HEAD_BYTES or partial_first:
        lines = lines[:-1]  # cut by the read: maybe not a whole line
    lines = [line for line in lines if line.strip()]
    if len(lines) > limit:
        # A sample drawn at random (seeded by the count, so the same file gives the same rows): evenly spaced
        # rows can fall in step with a pattern of the file and see only one kind of row.
        lines = [lines[i] for i in sorted(random.Random(len(lines)).sample(range(len(lines)), limit))]
    return line_records(b"\n".join(lines), limit)


def read_windows(path: str, size: int = WINDOW_BYTES) -> list[bytes]:
    """Bytes from a quarter, half, three quarters into ``path`` and from its end: none for standard input,
    ``.gz`` files (which would be decompressed whole to get there) and files under two heads."""
    try:
        if path == STDIN or source_kind(path) == "stream":
            return []
        total = os.path.getsize(path)
        if total < 2 * HEAD_BYTES:
            return []
        windows = []
        with open(path, "rb") as stream:
            if stream.read(2) == b"\x1f\x8b":
                return []
            for start in (total // 4, total // 2, 3 * total // 4, total - size):
                stream.seek(start)
                windows.append(stream.read(size))
        return windows
    except (InputError, OSError):
        return []


def apply_diagnosis(path: str, scan: FileScan, *, enabled: frozenset[str], method_given: bool,
                    reinforcement_model: str | None) -> None:
    """Add FT012 to ``scan`` when the file as a whole is the problem, and keep only the first
    :data:`KEEP_EXAMPLES` line findings of each rule it explains (the message counts the others)."""
    kept_head, scan.head = scan.head, None  # a stream's head is only needed here
    if FileDiagnosis.code not in enabled:
        return
    head = kept_head if kept_head is not None else read_head(path)
    if not head:
        return
    # Standard input (also its spooled copy): the commands read `-`, as the check did.
    command_path = STDIN if original_path(path) == STDIN else None
    found = diagnose(head, scan, method_given=method_given, reinforcement_model=reinforcement_model,
                     command_path=command_path, windows=read_windows(path))
    if found is None:
        return
    kept: list[Finding] = []
    seen: Counter[str] = Counter()
    cut: Counter[str] = Counter()
    for finding in scan.findings:
        if finding.code == NotJsonl.code:
            continue  # "this is not JSONL": the diagnosis says so, with what the file is and the command to run
        if finding.line is not None and found.explains(finding.code):
            seen[finding.code] += 1
            if seen[finding.code] > KEEP_EXAMPLES:
                cut[finding.code] += 1
                continue
        kept.append(finding)
    for code in [code for code in scan.omitted if found.explains(code)]:
        cut[code] += scan.omitted.pop(code).count  # counted in the message, like the findings cut above
    message = found.what
    if cut:
        rules = ", ".join(f"{code} x{count:,}" for code, count in sorted(cut.items()))
        message += (f"; {sum(cut.values()):,} line findings that follow from it are not listed ({rules}), "
                    f"only the first {KEEP_EXAMPLES} of each rule are listed")
    diagnosis = Finding(code=FileDiagnosis.code, name=FileDiagnosis.name, severity=FileDiagnosis.severity,
                        path=scan.path, line=None, column=None, pointer=None, message=message, fix=found.fix)
    scan.findings = sorted([diagnosis, *kept], key=Finding.sort_key)
