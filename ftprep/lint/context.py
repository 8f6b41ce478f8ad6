"""The context a record check runs in, and the registry of record checks per record kind.

A record check is a plain function ``check(record, ctx)`` that walks one parsed record and calls
``ctx.emit(RuleClass, pointer, message, fix)`` for each problem. Checks are registered per record kind
(``chat``, ``preference``, ``completion``) with :func:`record_check`; the engine runs them in
registration order. Emitting a rule that is not selected is a no-op, so checks need not know the selection.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, Self

from ftprep.data.targets import OPENAI_PARAMS, RuleParams
from ftprep.lint.finding import Finding, Severity
from ftprep.lint.registry import Rule

Record = dict[str, Any]


@dataclass(slots=True)
class Omitted:
    """The line findings of one rule in one file that were counted, not kept (``keep``, below): each one's
    line and the hash of its fix, and the text of the first distinct fixes. Enough for a report's totals
    and its fixes with the lines they apply to, in 12 bytes a finding instead of a :class:`Finding` (about
    180): a 1 GB file with 500,000 findings stays within bounded memory.

    ``texts`` holds the first :data:`FIX_TEXTS` distinct fixes of each byte range: a fix among the first
    few of a file (by the line it first applies to) is among the first few of the range it first appears
    in, so a report naming the first fixes always has their texts. Fix hashes are Python's own string hash,
    shared by the forked workers of one run and never written anywhere.
    """

    name: str
    severity: Severity
    lines: array[int] = field(default_factory=lambda: array("I"))
    fix_hashes: array[int] = field(default_factory=lambda: array("q"))
    texts: dict[int, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """How many findings were counted."""
        return len(self.lines)

    def add(self, line: int, fix: str) -> None:
        """Count one finding."""
        self.lines.append(line)
        key = hash(fix)
        self.fix_hashes.append(key)
        if len(self.texts) < FIX_TEXTS and key not in self.texts:
            self.texts[key] = fix

    def merge(self, other: Omitted) -> None:
        """Fold in the counted findings of the following byte range."""
        self.lines += other.lines
        self.fix_hashes += other.fix_hashes
        for key, text in other.texts.items():
            self.texts.setdefault(key, text)

    def shift_lines(self, offset: int) -> None:
        """Add ``offset`` to every line number (see :func:`ftprep.engine.relative_lines`)."""
        self.lines = shifted(self.lines, offset)

    def until(self, last: int) -> Omitted:
        """The findings on lines up to ``last``."""
        kept = Omitted(self.name, self.severity, texts=dict(self.texts))
        for line, key in zip(self.lines, self.fix_hashes, strict=True):
            if line <= last:
                kept.lines.append(line)
                kept.fix_hashes.append(key)
        return kept


# Distinct fix texts an Omitted keeps per byte range: more than any report names (text: 3 per rule).
FIX_TEXTS = 16


def omit(omitted: dict[str, Omitted], code: str, name: str, severity: Severity, line: int, fix: str) -> None:
    """Count a finding of rule ``code`` in ``omitted`` (per rule code) instead of keeping it."""
    tally = omitted.get(code)
    if tally is None:
        tally = omitted[code] = Omitted(name, severity)
    tally.add(line, fix)


@dataclass(slots=True)
class RecordContext:
    """Where a record sits and what the job is: path, line, method, model, target; collects findings."""

    path: str
    enabled: frozenset[str]
    method: str = "supervised"
    model: str | None = None
    # The service's rule parameters (minimum examples, images per example, accepted keys and roles ...).
    target: RuleParams = OPENAI_PARAMS
    line: int | None = None
    # The current line's bytes: lets checks skip work that cannot matter (a byte search before a tree walk;
    # a token covers at least one byte, so a short line cannot be over a token limit).
    raw: bytes = b""
    # The current record's format as the engine detected it (None: not known, detect it).
    kind: str | None = None
    findings: list[Finding] = field(default_factory=list)
    # Free-form facts checks share within one record (e.g. declared tool names); reset per record.
    scratch: dict[str, Any] = field(default_factory=dict)
    # Line findings kept per rule (0: all); those past it are only counted in ``omitted`` (per rule code).
    keep: int = 0
    omitted: dict[str, Omitted] = field(default_factory=dict)
    _kept: dict[str, int] = field(default_factory=dict)
    # Findings emitted so far, kept or only counted: what a check compares to see whether it found anything
    # (not len(findings), which a counted finding leaves as it was).
    emitted: int = 0
    # Set (to a list) in the byte ranges of a parallel pass: records whose check needs something large that
    # only the parent process builds (a tokenizer, about 50 MB in each process that builds it).
    deferred: list[Deferred] | None = None
    # Where the current line starts in the file (set by the pass for every line; read by defer()).
    offset: int = 0

    def emit(self, rule: type[Rule], pointer: str | None, message: str, fix: str = "",
             column: int | None = None, *, file_level: bool = False) -> None:
        """Record a finding of ``rule`` at the current line (or for the file) if the rule is enabled."""
        if rule.code not in self.enabled:
            return
        self.emitted += 1
        if self.keep and not file_level:
            kept = self._kept.get(rule.code, 0)
            if kept >= self.keep:
                omit(self.omitted, rule.code, rule.name, rule.severity, self.line or 0, fix)
                return
            self._kept[rule.code] = kept + 1
        self.findings.append(Finding(
            code=rule.code, name=rule.name, severity=rule.severity, path=self.path,
            line=None if file_level else self.line, column=column, pointer=pointer,
            message=message, fix=fix,
        ))

    @property
    def raw_size(self) -> int:
        """Size in bytes of the current line."""
        return len(self.raw)

    def defer(self, resume: RecordCheck) -> bool:
        """Hand the current record to the parent process, which calls ``resume(record, ctx)`` on it; False
        (nothing deferred) outside the byte ranges of a parallel pass. ``resume`` must emit what the check
        would have emitted here, and be a module-level function (it is pickled by name)."""
        if self.deferred is None:
            return False
        self.deferred.append(Deferred(self.line or 0, self.offset, self.kind or "", resume))
        return True

    def at(self, line: int | None) -> RecordContext:
        """Point the context at a new line and clear the per-record scratch space."""
        self.line = line
        self.scratch.clear()
        return self


RecordCheck = Callable[[Record, RecordContext], None]


@dataclass(frozen=True, slots=True)
class Deferred:
    """A record whose check a byte range handed back: the parent process reads the line at byte ``offset``
    again and calls ``resume(record, ctx)`` with the context at ``line`` and ``kind`` (see
    :meth:`RecordContext.defer`). Where the line is, not the record: a few bytes to send, not the record's
    100 KB, and nothing held while results wait for the ranges before them."""

    line: int
    offset: int
    kind: str
    resume: RecordCheck
RECORD_CHECKS: dict[str, list[RecordCheck]] = {}


@dataclass(frozen=True, slots=True)
class Gate:
    """When a record check can find something: under ``methods`` only (empty: any method), and, for a
    chat record, only when it has one of the ``facts`` (bits of :mod:`ftprep.rules.facts`; 0: always).
    The engine skips the call otherwise; the check's own pre-test stays (it may be called directly)."""

    facts: int = 0
    methods: frozenset[str] = frozenset()


CHECK_GATES: dict[RecordCheck, Gate] = {}


def record_check(*kinds: str, first: bool = False, facts: int = 0,
                 methods: tuple[str, ...] = ()) -> Callable[[RecordCheck], RecordCheck]:
    """Decorator: run this check on every record of the given kinds (``first``: before the others, e.g. a
    check whose walk leaves facts in ``scratch`` that later checks read; ``facts`` and ``methods``: see
    :class:`Gate`)."""

    def add(func: RecordCheck) -> RecordCheck:
        for kind in kinds:
            checks = RECORD_CHECKS.setdefault(kind, [])
            if first:
                checks.insert(0, func)
            else:
                checks.append(func)
        CHECK_GATES[func] = Gate(facts, frozenset(methods))
        return func

    return add


def shifted(lines: array[int], offset: int) -> array[int]:
    """Line numbers moved ``offset`` lines down (``shift_lines`` of an observer, see below)."""
    return array(lines.typecode, [line + offset for line in lines])


class RecordObserver(Protocol):
    """Something the engine's one pass feeds every parsed record to (token counts, digests ...).

    ``kind`` is the detected record kind; ``raw`` the line's bytes. Observers built for byte ranges of one
    file are merged in line order with :meth:`merge`, so parallel and serial runs give the same result.
    An observer that also has ``shift_lines(offset)``, adding ``offset`` to every line number it keeps,
    lets each range be numbered from 1 (no count of the lines before it: see
    :func:`ftprep.engine.relative_lines`).
    """

    def observe(self, line: int, kind: str, record: Record, raw: bytes) -> object:
        """Take one record (the engine ignores what it returns)."""

    def merge(self, other: Self) -> None:
        """Fold in the observer of the following byte range."""
