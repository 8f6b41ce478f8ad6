"""The one pass over a file: bytes -> lines -> strict JSON -> format -> record checks -> dataset checks.

``scan_file`` streams the file once; memory holds only findings, one 8-byte digest and one format byte per
line, and what the observers keep. Observers (token counters, overlap digests) are fed every parsed record
in the same pass, so ``check`` and ``estimate`` never read a file twice.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import polars as pl

from ftprep.formats.detect import CHAT, COMPLETION, KINDS, PREFERENCE, detect_format, kind_label
from ftprep.jsonl.parse import parse_line
from ftprep.jsonl.reader import RawLine, display_name, iter_lines
from ftprep.lint.context import RECORD_CHECKS, RecordContext, RecordObserver
from ftprep.lint.finding import Finding
from ftprep.lint.registry import all_rules
from ftprep.rules.bytes import BlankLine, InvalidUtf8, NulByte, Utf8Bom
from ftprep.rules.dataset import MIN_EXAMPLES, DuplicateLine, EmptyFile, MixedFormat, TooFewExamples
from ftprep.rules.job import FormatModelMismatch
from ftprep.rules.schema import UnrecognizedRecord, key_hint
from ftprep.rules.syntax import DuplicateKey, InvalidJson, NonFiniteNumber, NotAnObject

BOM = b"\xef\xbb\xbf"
METHOD_BY_KIND = {PREFERENCE: "dpo", CHAT: "supervised", COMPLETION: "supervised"}
_PARSE_RULES = {"invalid-utf8": InvalidUtf8, "invalid-json": InvalidJson, "non-finite": NonFiniteNumber,
                "duplicate-key": DuplicateKey}
_NO_KIND = 255


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What the pass checks against: the model, the method (None: from the first record), enabled rules.

    ``expected_kinds`` are the record kinds the model and method take (empty: anything); ``model_label``
    names the model in messages.
    """

    enabled: frozenset[str]
    model: str | None = None
    method: str | None = None
    expected_kinds: frozenset[str] = frozenset()
    model_label: str = ""
    min_examples: int = MIN_EXAMPLES


@dataclass(slots=True)
class FileScan:
    """What one pass found in one file."""

    path: str
    method: str
    kind: str | None = None
    lines: int = 0
    examples: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> int:
        """Number of error findings."""
        return sum(1 for f in self.findings if f.severity.value == "error")

    @property
    def warnings(self) -> int:
        """Number of warning findings."""
        return sum(1 for f in self.findings if f.severity.value == "warning")


def all_codes() -> frozenset[str]:
    """Every registered rule code (the default selection)."""
    return frozenset(r.code for r in all_rules())


def line_digest(data: bytes) -> int:
    """64-bit digest of a line's content, for duplicate detection."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


class _Pass:
    """State of one pass over one file."""

    def __init__(self, path: str, options: ScanOptions, observers: Sequence[RecordObserver]) -> None:
        self.options = options
        self.observers = observers
        self.ctx = RecordContext(path=path, enabled=options.enabled, method=options.method or "supervised",
                                 model=options.model)
        self.method_known = options.method is not None
        self.pending_blank: list[RawLine] = []
        self.digests = array("Q")
        self.digest_lines = array("I")
        self.kinds = bytearray()
        self.kind_lines = array("I")
        self.lines = 0
        self.examples = 0

    def feed(self, raw: RawLine) -> None:
        ctx = self.ctx.at(raw.lineno)
        self.lines = raw.lineno
        data = raw.data
        if raw.lineno == 1 and data.startswith(BOM):
            ctx.emit(Utf8Bom, None, "file starts with a UTF-8 byte order mark", "save the file without BOM",
                     column=1)
            data = data[3:]
        if not data.strip():
            self.pending_blank.append(raw)
            return
        for blank in self.pending_blank:
            ctx.at(blank.lineno).emit(BlankLine, None, "blank line between records", "delete the line")
        self.pending_blank.clear()
        ctx.at(raw.lineno)
        if b"\x00" in data:
            ctx.emit(NulByte, None, f"{data.count(0)} NUL byte(s) in the line (a UTF-16 file?)",
                     "convert the file to UTF-8 or remove the NUL bytes", column=data.index(0) + 1)
            data = data.replace(b"\x00", b"")
        if data.endswith(b"\r"):
            data = data[:-1]
        parsed = parse_line(data)
        for problem in parsed.problems:
            ctx.emit(_PARSE_RULES[problem.kind], problem.pointer, problem.message, _FIXES[problem.kind],
                     column=problem.column)
        if not parsed.ok:
            return
        record = parsed.value
        if not isinstance(record, dict):
            kind_of = type(record).__name__
            ctx.emit(NotAnObject, "", f"line is a JSON {'array' if kind_of == 'list' else kind_of}, not an object",
                     "write one JSON object per line")
            return
        self.examples += 1
        self.digests.append(line_digest(data))
        self.digest_lines.append(raw.lineno)
        kind = detect_format(record)
        if kind is not None and not self.method_known:
            ctx.method = METHOD_BY_KIND[kind]
            self.method_known = True
        if kind is None:
            keys = ", ".join(list(record)[:6]) or "no keys"
            hints = "".join(key_hint(k) for k in record if key_hint(k))[:120]
            ctx.emit(UnrecognizedRecord, "", f"record is in no fine-tuning format (keys: {keys}){hints}",
                     "convert it with `ftprep convert`")
            self.kinds.append(_NO_KIND)
            self.kind_lines.append(raw.lineno)
            return
        self.kinds.append(KINDS.index(kind))
        self.kind_lines.append(raw.lineno)
        ctx.raw = data
        for check in RECORD_CHECKS.get(kind, ()):
            check(record, ctx)
        for observer in self.observers:
            observer.observe(raw.lineno, kind, record, data)

    def finish(self, path: str) -> FileScan:
        ctx = self.ctx
        scan = FileScan(path=path, method=ctx.method, lines=self.lines, examples=self.examples)
        counts = Counter(k for k in self.kinds if k != _NO_KIND)
        if self.examples == 0 and not ctx.findings:
            ctx.emit(EmptyFile, None, "file holds no records", "check the step that wrote it", file_level=True)
        elif 0 < self.examples < self.options.min_examples:
            ctx.emit(TooFewExamples, None,
                     f"{self.examples} example(s); fine-tuning needs at least {self.options.min_examples}",
                     f"add {self.options.min_examples - self.examples} or more examples", file_level=True)
        if counts:
            # Majority format; ties go to the format seen first.
            first_seen = {k: i for i, k in reversed(list(enumerate(self.kinds)))}
            majority = max(counts, key=lambda k: (counts[k], -first_seen[k]))
            scan.kind = KINDS[majority]
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
        for kind, line in zip(self.kinds, self.kind_lines, strict=True):
            if kind not in (majority, _NO_KIND):
                message = f"{kind_label(KINDS[kind])} record in a {kind_label(KINDS[majority])} file"
                ctx.at(line).emit(MixedFormat, "", message, "convert the record or move it to its own file")

    def _emit_duplicates(self) -> None:
        if len(self.digests) < 2 or DuplicateLine.code not in self.options.enabled:
            return
        frame = pl.DataFrame({
            "h": pl.Series(self.digests, dtype=pl.UInt64),
            "line": pl.Series(self.digest_lines, dtype=pl.UInt32),
        })
        repeats = (frame.with_columns(first=pl.col("line").min().over("h"))
                   .filter(pl.col("line") != pl.col("first")).sort("line"))
        for line, first in repeats.select("line", "first").iter_rows():
            self.ctx.at(line).emit(DuplicateLine, None, f"same bytes as line {first}",
                                   f"drop this line or line {first}")


_FIXES = {
    "invalid-json": "write each record on one line with a JSON library (json.dumps per record)",
    "invalid-utf8": "re-encode the file as UTF-8",
    "non-finite": "replace it with null or a number",
    "duplicate-key": "keep only one of the values",
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
    return state.finish(path)


def scan_file(path: str, options: ScanOptions, observers: Sequence[RecordObserver] = ()) -> FileScan:
    """Check one file (path, ``.gz`` or ``-``) in one streaming pass, feeding ``observers`` every record.

    Raises :class:`~ftprep.errors.InputError` when the file cannot be read.
    """
    return scan_lines(display_name(path), iter_lines(path), options, observers)
