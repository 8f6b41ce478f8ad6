"""The one pass over a file: bytes -> lines -> strict JSON -> format -> record checks -> dataset checks.

``scan_file`` streams the file once; memory holds only findings, one line number and one format byte per
record (and an 8-byte digest where repeated lines are the pass's to find), and what the observers keep.
Observers (token counters, overlap digests) are fed every parsed record in the same pass, so ``check`` and
``estimate`` never read a file twice.

Large regular files are split into newline-aligned byte ranges checked by this process and forked
worker processes, one per CPU in all (:mod:`ftprep.parallel`); each range yields a :class:`RangeState`,
numbered from line 1 when every observer can shift its line numbers, and the ranges are shifted and folded
in line order, so findings, counts and observer statistics are the same as in one process.
"""

from __future__ import annotations

import gzip
import os
import pickle
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from ftprep import parallel
from ftprep.data.targets import OPENAI_PARAMS, RuleParams
from ftprep.errors import InputError, WorkerError
from ftprep.formats.detect import CHAT, COMPLETION, KINDS, PREFERENCE, detect_format, kind_label
from ftprep.jsonl import reader
from ftprep.jsonl.parse import parse_line, strict_fast
from ftprep.jsonl.reader import (
    MAX_BAD_RUN,
    STDIN,
    OverlongLine,
    RawLine,
    display_name,
    is_text,
    open_binary,
    read_lines,
)
from ftprep.lint.context import (
    CHECK_GATES,
    RECORD_CHECKS,
    Deferred,
    Gate,
    Omitted,
    RecordCheck,
    RecordContext,
    RecordObserver,
    shifted,
)
from ftprep.lint.finding import Finding, Severity
from ftprep.overlap.compare import SMALL_COUNT
from ftprep.rules.bytes import BlankLine, InvalidUtf8, LineTooLong, MissingBom, NotJsonl, NulByte, Utf8Bom
from ftprep.rules.catalog import all_rules
from ftprep.rules.dataset import (
    MIN_EXAMPLES,
    DuplicateLine,
    EmptyFile,
    MixedFormat,
    TooFewExamples,
    TooManyExamples,
)
from ftprep.rules.facts import FACTS_KEY
from ftprep.rules.job import FormatModelMismatch
from ftprep.rules.nulls import FIX as NULL_FIX
from ftprep.rules.nulls import NullOptionalField, describe, may_hold_nulls, strip_nulls
from ftprep.rules.schema import UnrecognizedRecord, key_hint
from ftprep.rules.syntax import (
    DuplicateKey,
    IntegerTooLong,
    InvalidJson,
    LoneSurrogate,
    NestingTooDeep,
    NonFiniteNumber,
    NotAnObject,
)

BOM = b"\xef\xbb\xbf"
METHOD_BY_KIND = {PREFERENCE: "dpo", CHAT: "supervised", COMPLETION: "supervised"}
_PARSE_RULES = {"invalid-utf8": InvalidUtf8, "invalid-json": InvalidJson, "non-finite": NonFiniteNumber,
                "duplicate-key": DuplicateKey, "too-deep": NestingTooDeep, "lone-surrogate": LoneSurrogate,
                "integer-too-long": IntegerTooLong}
_KIND_INDEX = {kind: index for index, kind in enumerate(KINDS)}
_NO_KIND = 255
_ALWAYS = Gate()
# Bytes of a file's head the file-level diagnosis reads (kept while reading a stream that cannot be read
# again): enough for the first records of a pretty-printed file.
HEAD_BYTES = 1 << 20
# Below this size one process is as fast as starting workers (measured on 2 CPUs: 4 MB, 0.13 s in one
# process, 0.10 s in two; docs/performance.md).
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
# Ranges per worker: more ranges balance uneven lines (a worker idles less at the end) and report progress
# more often; 8 measured a little faster than 4 and 16 for estimate on 100 MB (docs/performance.md).
RANGES_PER_WORKER = 8
MAX_RANGE_BYTES = 64 * 1024 * 1024

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What the pass checks against: the model, the method (None: from the first record), enabled rules.

    ``expected_kinds`` are the record kinds the model and method take (empty: anything); ``model_label``
    names the model in messages. ``line_digests=False`` leaves repeated lines (FT502) of records with a
    format to the caller, which finds them among fewer lines (:func:`ftprep.check.check_files` looks among
    the lines whose prompt key another line shares: byte-equal lines are equal records); the pass then
    digests only the lines without a format.
    """

    enabled: frozenset[str]
    model: str | None = None
    method: str | None = None
    expected_kinds: frozenset[str] = frozenset()
    model_label: str = ""
    min_examples: int | None = MIN_EXAMPLES
    max_examples: int | None = None
    line_digests: bool = True
    # Line findings kept per rule and byte range (0: all); the others are counted in FileScan.omitted.
    keep_findings: int = 0
    target: RuleParams = OPENAI_PARAMS


@dataclass(slots=True)
class FileScan:
    """What one pass found in one file."""

    path: str
    method: str
    kind: str | None = None
    lines: int = 0
    examples: int = 0
    findings: list[Finding] = field(default_factory=list)
    # Why the pass stopped before the end of the file (FT011, also when that rule is not selected).
    not_jsonl: str | None = None
    # The first bytes of standard input or a pipe (read once), for the file-level diagnosis (FT012); None
    # for a file, whose head is read again. ftprep.diagnose drops it once used.
    head: bytes | None = None
    # Line findings counted but not kept, per rule code (ScanOptions.keep_findings).
    omitted: dict[str, Omitted] = field(default_factory=dict)

    def count(self, severity: Severity) -> int:
        """Number of findings of one severity, the counted ones included."""
        return (sum(1 for f in self.findings if f.severity is severity)
                + sum(tally.count for tally in self.omitted.values() if tally.severity is severity))

    @property
    def errors(self) -> int:
        """Number of error findings."""
        return self.count(Severity.ERROR)

    @property
    def warnings(self) -> int:
        """Number of warning findings."""
        return self.count(Severity.WARNING)

    @property
    def total(self) -> int:
        """Number of findings, the counted ones included."""
        return len(self.findings) + sum(tally.count for tally in self.omitted.values())


def all_codes() -> frozenset[str]:
    """Every registered rule code (the default selection)."""
    return frozenset(r.code for r in all_rules())


def line_digest(data: bytes) -> int:
    """64-bit digest of a line's content, for duplicate detection within one run: Python's own keyed
    SipHash of the bytes (0.4 us for 1.5 KB, against 1.3 us for SHA-1). Its key is random per interpreter
    but shared by the forked workers, and digests never leave the run."""
    return hash(data) & 0xFFFF_FFFF_FFFF_FFFF


@dataclass(slots=True)
class RangeState:
    """What the pass keeps about a run of lines: enough to fold consecutive runs in line order.

    ``trailing_blank`` are the blank lines after the last non-blank line (a blank line is only a finding
    when a record follows it); ``has_content`` says whether any non-blank line was seen.
    """

    findings: list[Finding] = field(default_factory=list)
    omitted: dict[str, Omitted] = field(default_factory=dict)
    digests: array[int] = field(default_factory=lambda: array("Q"))
    digest_lines: array[int] = field(default_factory=lambda: array("I"))
    kinds: bytearray = field(default_factory=bytearray)
    kind_lines: array[int] = field(default_factory=lambda: array("I"))
    trailing_blank: array[int] = field(default_factory=lambda: array("I"))
    has_content: bool = False
    # Lines without a JSON object before the range's first record (up to MAX_BAD_RUN), the length of the
    # run of such lines at its end, and whether the range stopped at a run (FT011): enough to stop a
    # run that crosses ranges where one process would.
    bad_head: array[int] = field(default_factory=lambda: array("I"))
    bad_tail: int = 0
    bad_tail_start: int = 0
    stopped: bool = False
    stop_message: str = ""
    lines: int = 0
    examples: int = 0
    method: str | None = None
    observers: Sequence[RecordObserver] = ()
    # Records whose check the parent process finishes (RecordContext.defer), in line order.
    deferred: list[Deferred] = field(default_factory=list)

    def shift_lines(self, offset: int) -> None:
        """Add ``offset`` to every line number (a range numbered from 1 placed after ``offset`` lines)."""
        if not offset:
            return
        self.findings[:] = [f if f.line is None else replace(f, line=f.line + offset) for f in self.findings]
        for tally in self.omitted.values():
            tally.shift_lines(offset)
        self.deferred[:] = [replace(item, line=item.line + offset) for item in self.deferred]
        for numbers in (self.digest_lines, self.kind_lines, self.trailing_blank, self.bad_head):
            numbers[:] = shifted(numbers, offset)
        self.lines += offset
        if self.bad_tail_start:
            self.bad_tail_start += offset
        for observer in self.observers:
            observer.shift_lines(offset)  # type: ignore[attr-defined]  # see relative_lines()


class _Pass:
    """State of one pass over one file (or over one byte range of it)."""

    def __init__(self, path: str, options: ScanOptions, observers: Sequence[RecordObserver],
                 method: str | None = None) -> None:
        self.options = options
        self.observers = tuple(observers)
        method = options.method or method
        self.state = RangeState(observers=self.observers)
        self.ctx = RecordContext(path=path, enabled=options.enabled, method=method or "supervised",
                                 model=options.model, target=options.target, findings=self.state.findings,
                                 keep=options.keep_findings, omitted=self.state.omitted)
        self.method_known = method is not None
        # A check's only output is ctx.emit, a no-op for rules not enabled: with none enabled (estimate,
        # overlap) the checks cannot matter.
        self._checks = self._record_checks()
        # Work only some rules need: the digest (duplicate lines) and the duplicate-key test of the parse.
        self._digests = DuplicateLine.code in options.enabled and options.line_digests
        self._formatless_digests = DuplicateLine.code in options.enabled and not options.line_digests
        self._duplicate_keys = DuplicateKey.code in options.enabled
        # The file the records that byte ranges defer are read from again (see _resume).
        self.source: str | None = None
        # Lines to feed (None: all); the others are skipped before parsing.
        self.only_lines: frozenset[int] | None = None
        self.last_line = 0
        # Whether line 1 is the file's first line (a BOM may start it): not in a range numbered from 1.
        self.file_start = True
        # Lines in a row without a JSON object, and the first of them (FT011).
        self.bad_run = 0
        self.bad_start = 0

    def _record_checks(self) -> dict[str, tuple[tuple[RecordCheck, int], ...]]:
        """Per record kind: the checks to run under the current method, each with the chat facts one of
        which a record needs for the check to matter (0: always run it; see :class:`Gate`)."""
        if not self.options.enabled:
            return {kind: () for kind in KINDS}
        checks: dict[str, tuple[tuple[RecordCheck, int], ...]] = {}
        for kind in KINDS:
            kept = []
            for check in RECORD_CHECKS.get(kind, ()):
                gate = CHECK_GATES.get(check, _ALWAYS)
                if not gate.methods or self.ctx.method in gate.methods:
                    kept.append((check, gate.facts if kind == CHAT else 0))
            checks[kind] = tuple(kept)
        return checks

    def _set_method(self, method: str) -> None:
        self.ctx.method = method
        self.method_known = True
        self._checks = self._record_checks()

    def feed(self, raw: RawLine) -> None:
        """Take one line."""
        if raw.size:  # over the reader's limit: only its first bytes were kept
            self.overlong(raw.lineno, OverlongLine(raw.data, raw.size))
        else:
            self.feed_line(raw.lineno, raw.data)

    def feed_line(self, lineno: int, data: bytes) -> None:
        """Take one line's content (without its end of line)."""
        state = self.state
        ctx = self.ctx
        ctx.line = lineno
        ctx.scratch.clear()
        state.lines = lineno
        if lineno == 1 and self.file_start:
            if data.startswith(BOM):
                if ctx.target.bom == "error":
                    ctx.emit(Utf8Bom, None, "file starts with a UTF-8 byte order mark", "save the file without BOM",
                             column=1)
                data = data[3:]
            elif ctx.target.bom == "expected":
                ctx.emit(MissingBom, None, f"file has no UTF-8 byte order mark, which {ctx.target.name}'s "
                         "documentation asks for", "add one if the service rejects the file: "
                         "printf '\\xef\\xbb\\xbf' | cat - in.jsonl > out.jsonl", file_level=True)
        # A record starts with "{": only other lines pay for the copy strip() makes.
        if not data or (data[0] != 0x7B and not data.strip()):
            state.trailing_blank.append(lineno)
            return
        state.has_content = True
        if state.trailing_blank:
            for blank in state.trailing_blank:
                ctx.at(blank).emit(BlankLine, None, "blank line between records", "delete the line")
            del state.trailing_blank[:]
            ctx.at(lineno)
        # 0 (an integer): `b"\x00" in data` would first try its operand as an integer, and the TypeError
        # CPython raises and clears inside costs three times the memchr (about 2,000 instructions a line).
        if 0 in data:
            ctx.emit(NulByte, None, f"{data.count(0)} NUL byte(s) in the line (a UTF-16 file?)",
                     "convert the file to UTF-8 or remove the NUL bytes", column=data.index(0) + 1)
            data = data.replace(b"\x00", b"")
        if data.endswith(b"\r"):
            data = data[:-1]
        record = strict_fast(data, duplicate_keys=self._duplicate_keys)
        if record is None:
            parsed = parse_line(data)
            for problem in parsed.problems:
                ctx.emit(_PARSE_RULES[problem.kind], problem.pointer, problem.message, _FIXES[problem.kind],
                         column=problem.column)
            if not parsed.ok:
                self._bad(lineno)
                return
            record = parsed.value
            if not isinstance(record, dict):
                kind_of = type(record).__name__
                ctx.emit(NotAnObject, "",
                         f"line is a JSON {'array' if kind_of == 'list' else kind_of}, not an object",
                         "write one JSON object per line")
                self._bad(lineno)
                return
        state.examples += 1
        self.bad_run = 0
        if self._digests:
            state.digests.append(line_digest(data))
            state.digest_lines.append(lineno)
        if may_hold_nulls(data):
            # A DataFrame round trip's filled-in nulls: one finding for the line, and the other checks see
            # the record without them (as `ftprep fix` writes it) instead of reporting each field.
            record, removed = strip_nulls(record)
            if removed:
                ctx.emit(NullOptionalField, removed[0], describe(removed), NULL_FIX)
        kind = CHAT if "messages" in record else detect_format(record)
        state.kind_lines.append(lineno)
        if kind is None:
            keys = ", ".join(list(record)[:6]) or "no keys"
            hints = "".join(key_hint(k) for k in record if key_hint(k))[:120]
            ctx.emit(UnrecognizedRecord, "", f"record is in no fine-tuning format (keys: {keys}){hints}",
                     "convert it with `ftprep convert`")
            state.kinds.append(_NO_KIND)
            if self._formatless_digests:
                state.digests.append(line_digest(data))
                state.digest_lines.append(lineno)
            return
        if not self.method_known:
            self._set_method(METHOD_BY_KIND[kind])
        state.kinds.append(_KIND_INDEX[kind])
        ctx.raw = data
        ctx.kind = kind
        for check, needs in self._checks[kind]:
            if needs:
                # The shape check ran first and kept the record's facts: without any of those the check
                # needs, it has nothing to look at.
                facts = ctx.scratch.get(FACTS_KEY)
                if facts is not None and not facts & needs:
                    continue
            check(record, ctx)
        for observer in self.observers:
            observer.observe(lineno, kind, record, data)

    def _bad(self, lineno: int) -> None:
        """Count a line without a JSON object; stop the pass at the MAX_BAD_RUN-th in a row (FT011)."""
        state = self.state
        if not self.bad_run:
            self.bad_start = lineno
        self.bad_run += 1
        if not state.examples and len(state.bad_head) < MAX_BAD_RUN:
            state.bad_head.append(lineno)
        if self.bad_run >= MAX_BAD_RUN:
            self.stop(self.bad_start, lineno, f"{MAX_BAD_RUN} lines in a row hold no JSON object")

    def stop(self, first: int, last: int, why: str) -> None:
        """Stop the pass at line ``last``: the file is not JSONL (FT011)."""
        lines = f"line {last}" if first == last else f"lines {first}-{last}"
        message = f"this is not JSONL: {why} ({lines}); the rest of the file was not read"
        self.ctx.emit(NotJsonl, None, message, "pass a JSONL file, or convert it: ftprep convert IN OUT --to chat",
                      file_level=True)
        self.state.stopped = True
        self.state.stop_message = message
        self.state.lines = last

    def overlong(self, lineno: int, line: OverlongLine) -> None:
        """A line over the reader's limit (read past, not kept): FT010, or FT011 when it is not text."""
        self.ctx.line = lineno
        self.state.lines = lineno
        self.state.has_content = True
        if not is_text(line):
            self.stop(lineno, lineno, "an over-long line of binary data (NUL bytes or invalid UTF-8)")
            return
        # The size is not given: a spooled copy of a pipe holds only the first bytes past the limit.
        self.ctx.emit(LineTooLong, None, f"line is longer than {reader.MAX_LINE_BYTES:,} bytes, the reader's "
                      "limit: not read or checked", "write one record per line; no example comes near this size")
        self._bad(lineno)

    def read(self, stream: reader.LineSource, *, first_lineno: int = 1, start: int = 0, end: int | None = None,
             progress: Progress | None = None) -> None:
        """Feed the lines of ``stream`` (positioned at byte ``start``) up to the line crossing ``end``."""
        feed = self.feed_line
        only = self.only_lines
        state = self.state
        ctx = self.ctx
        lineno = first_lineno - 1
        offset = start
        reported = start
        for line in read_lines(stream):  # a line is never empty: it holds at least its newline or one byte
            lineno += 1
            ctx.offset = offset  # where a deferred record is read again
            offset += len(line)
            if only is not None and lineno not in only:
                if lineno > self.last_line:
                    break
                continue
            if line[-1] == 0x0A:
                line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
            elif type(line) is OverlongLine:
                offset += line.size - len(line)
                self.overlong(lineno, line)
                if state.stopped or (end is not None and offset >= end):
                    break
                continue
            feed(lineno, line)
            if state.stopped:
                break
            if progress is not None and offset - reported >= 1 << 20:
                progress(offset - reported)
                reported = offset
            if end is not None and offset >= end:
                break
        if progress is not None and offset > reported:
            progress(offset - reported)

    def range_state(self) -> RangeState:
        """The state to send back from a worker (observers included)."""
        self.state.method = self.ctx.method if self.method_known else None
        self.state.bad_tail = self.bad_run
        self.state.bad_tail_start = self.bad_start if self.bad_run else 0
        return self.state

    def absorb(self, other: RangeState) -> None:
        """Fold in the state of the byte range that follows the lines fed so far."""
        state = self.state
        if state.stopped:
            return  # one process would not have read it
        if other.has_content:
            for blank in state.trailing_blank:
                self.ctx.at(blank).emit(BlankLine, None, "blank line between records", "delete the line")
            state.trailing_blank = other.trailing_blank
            state.has_content = True
        else:
            state.trailing_blank.extend(other.trailing_blank)
        if self.bad_run and self.bad_run + len(other.bad_head) >= MAX_BAD_RUN:
            # A run of lines without a JSON object that crosses into this range: stop where one process
            # does. The range holds no record before that line, so only its findings up to it count.
            last = other.bad_head[MAX_BAD_RUN - self.bad_run - 1]
            state.findings.extend(f for f in other.findings if f.line is not None and f.line <= last)
            self._merge_omitted({code: tally.until(last) for code, tally in other.omitted.items()})
            self._resume([item for item in other.deferred if item.line <= last])
            self.stop(self.bad_start, last, f"{MAX_BAD_RUN} lines in a row hold no JSON object")
            return
        if other.examples:
            self.bad_run, self.bad_start = other.bad_tail, other.bad_tail_start
        elif other.bad_head:
            if not self.bad_run:
                self.bad_start = other.bad_head[0]
            self.bad_run += len(other.bad_head)
        state.stopped, state.stop_message = other.stopped, other.stop_message
        state.findings.extend(other.findings)
        self._merge_omitted(other.omitted)
        state.digests.extend(other.digests)
        state.digest_lines.extend(other.digest_lines)
        state.kinds.extend(other.kinds)
        state.kind_lines.extend(other.kind_lines)
        state.lines = max(state.lines, other.lines)
        state.examples += other.examples
        if not self.method_known and other.method is not None:
            self._set_method(other.method)
        for mine, theirs in zip(self.observers, other.observers, strict=True):
            mine.merge(theirs)
        self._resume(other.deferred)

    def _resume(self, deferred: Sequence[Deferred]) -> None:
        """Finish the checks a byte range handed back (RecordContext.defer), in this process: each line is
        read again and made the record the range checked, as :meth:`feed_line` makes it."""
        if not deferred:
            return
        if self.source is None:
            raise RuntimeError("a pass that takes deferred records needs the file to read them from")
        with open(self.source, "rb") as stream:
            for item in deferred:
                stream.seek(item.offset)
                data = stream.readline()
                data = data[:-2] if data.endswith(b"\r\n") else data[:-1] if data.endswith(b"\n") else data
                if item.offset == 0 and data.startswith(BOM):
                    data = data[3:]
                data = data.replace(b"\x00", b"")
                if data.endswith(b"\r"):
                    data = data[:-1]
                record = parse_line(data).value
                if may_hold_nulls(data):
                    record, _ = strip_nulls(record)
                ctx = self.ctx.at(item.line)
                ctx.kind, ctx.raw = item.kind, data
                item.resume(record, ctx)

    def _merge_omitted(self, other: dict[str, Omitted]) -> None:
        """Fold in the counted findings of the following byte range."""
        for code, tally in other.items():
            if not tally.count:
                continue
            mine = self.state.omitted.get(code)
            if mine is None:
                self.state.omitted[code] = tally
            else:
                mine.merge(tally)

    def finish(self, path: str) -> FileScan:
        """Run the file-level rules and return the scan."""
        ctx = self.ctx
        state = self.state
        examples = state.examples
        scan = FileScan(path=path, method=ctx.method, lines=state.lines, examples=examples,
                        not_jsonl=state.stop_message or None, omitted=state.omitted)
        counts = Counter(state.kinds)
        counts.pop(_NO_KIND, None)
        if examples == 0 and not ctx.findings:
            ctx.emit(EmptyFile, None, "file holds no records", "check the step that wrote it", file_level=True)
        elif self.options.min_examples is not None and 0 < examples < self.options.min_examples:
            ctx.emit(TooFewExamples, None,
                     f"{examples} example(s); {ctx.target.name} fine-tuning needs at least {self.options.min_examples}",
                     f"add {self.options.min_examples - examples} or more examples", file_level=True)
        elif self.options.max_examples is not None and examples > self.options.max_examples:
            ctx.emit(TooManyExamples, None,
                     f"{examples:,} examples; {ctx.target.name} takes at most {self.options.max_examples:,}",
                     f"drop {examples - self.options.max_examples:,} or more examples, or split the job",
                     file_level=True)
        if counts:
            # Majority format; ties go to the format seen first.
            first_seen = {k: state.kinds.index(k) for k in counts}
            majority = max(counts, key=lambda k: (counts[k], -first_seen[k]))
            scan.kind = KINDS[majority]
            if len(counts) > 1:
                self._emit_mixed(majority)
            expected = self.options.expected_kinds
            if expected and scan.kind not in expected:
                wanted = " or ".join(kind_label(k) for k in sorted(expected))
                ctx.emit(FormatModelMismatch, None,
                         f"file is in {kind_label(scan.kind)} format, but {self.options.model_label or 'the job'} "
                         f"takes {wanted}", _format_fix(scan.kind), file_level=True)
        self._emit_duplicates()
        scan.findings = sorted(ctx.findings, key=Finding.sort_key)
        return scan

    def _emit_mixed(self, majority: int) -> None:
        ctx = self.ctx
        state = self.state
        for kind, line in zip(state.kinds, state.kind_lines, strict=True):
            if kind not in (majority, _NO_KIND):
                message = f"{kind_label(KINDS[kind])} record in a {kind_label(KINDS[majority])} file"
                ctx.at(line).emit(MixedFormat, "", message, "convert the record or move it to its own file")

    def _emit_duplicates(self) -> None:
        state = self.state
        if len(state.digests) < 2 or DuplicateLine.code not in self.options.enabled:
            return
        emit_repeated_lines(self.ctx, repeated_lines(state.digests, state.digest_lines))


def emit_repeated_lines(ctx: RecordContext, pairs: Iterable[tuple[int, int]]) -> None:
    """FT502 for each ``(line, first line)`` whose bytes an earlier line has."""
    for line, first in pairs:
        ctx.at(line).emit(DuplicateLine, None, f"same bytes as line {first}", f"drop this line or line {first}")


def repeated_lines(digests: array[int], lines: array[int], *, small: int = SMALL_COUNT) -> list[tuple[int, int]]:
    """``(line, first line)`` for every line whose digest an earlier line has, in line order.

    ``lines`` ascend. Up to ``small`` lines a dict finds the first occurrences (cheaper than importing
    numpy); above, sorting the digests stably keeps each group's first occurrence first, and numpy works on
    the arrays in place (about 20 bytes per line), where a dict or a data-frame library would copy them.
    """
    if len(digests) <= small:
        if len(set(digests)) == len(digests):
            return []  # the usual case, found at a third of the cost of the dict
        first: dict[int, int] = {}
        return [(line, seen) for digest, line in zip(digests, lines, strict=True)
                if (seen := first.setdefault(digest, line)) != line]
    import numpy as np

    keys = np.frombuffer(digests, dtype=np.uint64)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.empty(len(keys), dtype=bool)
    starts[:1] = True
    starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
    sorted_lines = np.frombuffer(lines, dtype=np.uint32)[order]
    firsts = sorted_lines[starts][np.cumsum(starts) - 1]
    repeat = ~starts
    pairs = sorted(zip(sorted_lines[repeat].tolist(), firsts[repeat].tolist(), strict=True))
    return pairs


_FIXES = {
    "invalid-json": "write each record on one line with a JSON library (json.dumps per record)",
    "invalid-utf8": "re-encode the file as UTF-8",
    "non-finite": "replace it with null or a number",
    "duplicate-key": "keep only one of the values",
    "too-deep": "flatten the nested value or drop it",
    "lone-surrogate": "remove the broken character or write its whole UTF-16 pair",
    "integer-too-long": "write the number as a string or drop it",
}


def _format_fix(kind: str) -> str:
    if kind == COMPLETION:
        return "use --model davinci-002 or babbage-002, or convert: ftprep convert IN OUT --to chat"
    if kind == PREFERENCE:
        return "pass --method dpo with a model that offers DPO"
    return "pick a chat model (--model gpt-4o-mini) or convert the file"


def scan_lines(path: str, lines: Iterable[RawLine], options: ScanOptions,
               observers: Sequence[RecordObserver] = ()) -> FileScan:
    """Run the pass over already-read lines (tests, stdin); see :func:`scan_file`."""
    state = _Pass(path, options, observers)
    for raw in lines:
        state.feed(raw)
        if state.state.stopped:
            break
    return state.finish(path)


def parallel_workers(path: str, observers: Sequence[RecordObserver] = (), workers: int | None = None) -> int:
    """How many processes :func:`scan_file` uses for ``path``: ``workers`` if given, else 1 for stdin,
    ``.gz`` files, files under :data:`PARALLEL_MIN_BYTES` and observers that opt out (``parallel = False``),
    else every usable CPU."""
    if str(path) == STDIN or not parallel.fork_available():
        return 1
    if any(not getattr(observer, "parallel", True) for observer in observers):
        return 1
    try:
        size = os.path.getsize(path)
        if not os.path.isfile(path):
            return 1  # a pipe: read once, by one process
        with open(path, "rb") as stream:
            compressed = stream.read(2) == b"\x1f\x8b"
    except OSError:
        return 1  # let the reader raise the error with its message
    if compressed or size == 0:
        return 1
    if workers is None:
        return parallel.usable_cpus() if size >= PARALLEL_MIN_BYTES else 1
    return max(1, workers)


def scan_file(path: str, options: ScanOptions, observers: Sequence[RecordObserver] = (), *,
              workers: int | None = None, progress: Progress | None = None,
              only_lines: Iterable[int] | None = None) -> FileScan:
    """Check one file (path, ``.gz`` or ``-``) in one streaming pass, feeding ``observers`` every record.

    ``workers``: processes to use (None: automatic, see :func:`parallel_workers`). In a parallel run
    each byte range feeds its own copy of each observer (pickled as it was when the pass started) and
    the copies are merged into ``observers`` in line order, so pass fresh observers. Observers that
    cannot be pickled, or that set ``parallel = False``, keep the pass in one process. ``progress`` is called with
    byte counts as the file is read. ``only_lines`` feeds only those lines (one process; file-level counts
    and findings then describe the lines fed). Raises :class:`~ftprep.errors.InputError` when the file
    cannot be read.
    """
    name = display_name(path)
    count = 1 if only_lines is not None else parallel_workers(path, observers, workers)
    if count > 1:
        scan = _scan_parallel(str(path), name, options, observers, count, progress)
        if scan is not None:
            return scan
    state = _Pass(name, options, observers)
    if only_lines is not None:
        state.only_lines = frozenset(only_lines)
        state.last_line = max(state.only_lines, default=0)
    keeper: reader.HeadKeeper | None = None
    with open_binary(path) as stream:
        source: reader.LineSource = stream
        if reader.source_kind(path) == "stream":  # read once: keep the head the diagnosis reads
            source = keeper = reader.HeadKeeper(stream, HEAD_BYTES)
        try:
            state.read(source, progress=progress)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"{name}: cannot read ({exc}); is the file complete?") from exc
    scan = state.finish(name)
    if keeper is not None:
        scan.head = keeper.head
    return scan


def _scan_parallel(path: str, name: str, options: ScanOptions, observers: Sequence[RecordObserver],
                   workers: int, progress: Progress | None) -> FileScan | None:
    """The pass over byte ranges in ``workers`` processes; None when one process must do it."""
    size = os.path.getsize(path)
    count = max(workers * RANGES_PER_WORKER, -(-size // MAX_RANGE_BYTES))
    # The last two ranges of each worker are half-size: the workers end within about a quarter of a range.
    ranges = parallel.range_bounds(path, count, small_tail=2 * workers)
    if len(ranges) < 2:
        return None
    method = options.method
    if method is None:
        # Checks depend on the method the first record implies; a worker of a later range must know it.
        method = _first_method(path, ranges[0][1])
        if method is None:
            return None

    try:
        # Each range starts from fresh observers: copies of the given ones as they are now, before any line.
        blank = pickle.dumps(tuple(observers), pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None  # an observer that cannot travel between processes keeps the pass in one

    # Each range is numbered from 1 and shifted as it is folded in, when every observer can shift its
    # line numbers; otherwise the ranges' first line numbers are counted by a thread while the workers
    # check the first ranges (0.045 s of CPU per 100 MB, taken from the workers).
    numbers = None if relative_lines(observers) else parallel.LineNumbers(path, ranges)

    # Progress as the workers read (every MiB), not only as each range ends.
    shared = None if progress is None else parallel.RangeProgress([end - start for start, end in ranges], progress)

    def job(index: int) -> RangeState:
        start, end = ranges[index]
        state = _Pass(name, options, pickle.loads(blank), method)
        state.ctx.deferred = state.state.deferred  # what needs the tokenizer goes to the parent process
        state.file_start = start == 0
        with open(path, "rb", buffering=reader.READ_BUFFER) as stream:
            stream.seek(start)
            first = 1 if numbers is None else numbers.first_line(index)
            state.read(stream, first_lineno=first, start=start, end=end,
                       progress=None if shared is None else shared.reader(index))
        return state.range_state()

    head = _Pass(name, options, observers, method)
    head.source = path
    offset = 0
    try:
        for result in parallel.map_ordered(job, len(ranges), workers,
                                           done=None if shared is None else shared.finished,
                                           started=numbers.start if numbers is not None else None,
                                           tick=None if shared is None else shared.report):
            if numbers is None:
                result.shift_lines(offset)
                offset = result.lines
            head.absorb(result)
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc}); is the file complete?") from exc
    except parallel.WorkerLost as exc:
        raise WorkerError(f"{name}: {exc} while checking the file (out of memory?); run again, or on one "
                          "CPU with `taskset -c 0 ftprep ...`") from exc
    if numbers is not None:
        numbers.join()  # done by now: every range was numbered before its result came back
    return head.finish(name)


def relative_lines(observers: Sequence[RecordObserver]) -> bool:
    """Whether byte ranges can be numbered from 1 and shifted afterwards: every observer has
    ``shift_lines(offset)``, which adds ``offset`` to the line numbers it keeps (see
    :class:`~ftprep.lint.context.RecordObserver`)."""
    return all(callable(getattr(observer, "shift_lines", None)) for observer in observers)


def _first_method(path: str, end: int) -> str | None:
    """The method implied by the first record with a format, looked for in the first ``end`` bytes."""
    with open(path, "rb") as stream:
        offset = 0
        for lineno, line in enumerate(read_lines(stream), 1):
            offset += line.size if type(line) is OverlongLine else len(line)
            data = line[:-2] if line.endswith(b"\r\n") else line[:-1] if line.endswith(b"\n") else line
            if lineno == 1 and data.startswith(BOM):
                data = data[3:]
            data = data.replace(b"\x00", b"")
            if data.endswith(b"\r"):
                data = data[:-1]
            if data.strip():
                parsed = parse_line(data)
                kind = detect_format(parsed.value) if parsed.ok and isinstance(parsed.value, dict) else None
                if kind is not None:
                    return METHOD_BY_KIND[kind]
            if offset >= end:
                return None
    return None
