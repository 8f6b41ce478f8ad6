"""Line accounting shared by split, convert and fix: where every input line (or row) went, and why.

Every input line ends up in exactly one place: one of the outputs, the rejects file, or, for blank lines
only, dropped (counted under ``FT004``). :meth:`Accounting.balanced` states that identity. An output record
may be made of several input lines (``convert --kto pairs``: a label=true and a label=false row make one DPO
pair): :meth:`Accounting.output` declares how many, and the identity counts input lines, not records.

A rejects file is JSONL, one object per rejected line::

    {"line": 12, "record": null, "reasons": ["FT205"],
     "findings": [{"code": "FT205", "pointer": "/messages/1/content", "message": "..."}],
     "raw": "<the original line text>"}

``line`` is the 1-based physical line of a JSONL input (``null`` for tabular and JSON-array inputs),
``record`` the 1-based row of a tabular or JSON-array input (``null`` for JSONL); ``reasons`` are the
distinct finding codes in order of first appearance (``ftprep rule CODE`` explains each); ``raw`` is
the line as read (the row as JSON for tabular inputs), or ``raw_base64`` when it is not valid UTF-8.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ftprep.lint.finding import Finding

BLANK_CODE = "FT004"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a line was rejected: a finding code, where in the record, and a sentence."""

    code: str
    message: str
    pointer: str | None = None

    @classmethod
    def of(cls, finding: Finding) -> Reason:
        """The reason a finding gives."""
        return cls(finding.code, finding.message, finding.pointer)


def reject_bytes(reasons: Iterable[Reason], raw: bytes, *, line: int | None = None,
                 record: int | None = None) -> bytes:
    """One rejects-file line (without EOL) for a rejected input line or row."""
    listed = list(reasons)
    entry: dict[str, Any] = {
        "line": line,
        "record": record,
        "reasons": list(dict.fromkeys(r.code for r in listed)),
        "findings": [{"code": r.code, "pointer": r.pointer, "message": r.message} for r in listed],
    }
    try:
        entry["raw"] = raw.decode("utf-8")
    except UnicodeDecodeError:
        entry["raw_base64"] = base64.b64encode(raw).decode("ascii")
    return orjson.dumps(entry)


@dataclass(slots=True)
class Accounting:
    """Counts per output, per reject reason and of dropped blank lines, plus file-level notes.

    ``inputs`` counts input lines (or rows); ``outputs`` lines written per output label (``train``,
    ``valid``, ``output``), each made of ``per_record[label]`` input lines (1 unless declared); ``rejected`` lines
    sent to the rejects file (``set_aside`` of them on request);
    ``reasons`` rejected lines per
    code (a line with two codes counts under both); ``notes`` are findings no line-level action fixes
    (too few examples, ...), reported rather than rejected.
    """

    inputs: int = 0
    outputs: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    # Rejected lines the user asked to set aside (``fix --dedupe``): they do not make the run fail.
    set_aside: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    blank: int = 0
    # Fields left out of records that were written (a column the output does not carry, a null optional
    # field): values and rows per field name, counted so that nothing is dropped silently.
    dropped_fields: Counter[str] = field(default_factory=Counter)
    dropped_rows: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # What an input unit is: a JSONL line, or a row of a tabular or JSON-array input.
    unit: str = "line"
    # Input lines per output record, for outputs whose records are made of several (absent: 1).
    per_record: dict[str, int] = field(default_factory=dict)

    def output(self, label: str, path: str, per_record: int = 1) -> None:
        """Declare an output (so that it is listed with 0 lines when nothing goes there), each of its records
        made of ``per_record`` input lines."""
        self.outputs.setdefault(label, 0)
        self.paths[label] = path
        if per_record != 1:
            self.per_record[label] = per_record

    def input_lines(self, label: str) -> int:
        """Input lines that went into the records written to ``label``."""
        return self.outputs[label] * self.per_record.get(label, 1)

    def count_output(self, label: str) -> None:
        """One line written to ``label``."""
        self.outputs[label] += 1

    def drop(self, name: str, values: int = 1) -> None:
        """``values`` values of the field ``name`` were left out of one written row."""
        self.dropped_fields[name] += values
        self.dropped_rows[name] += 1

    def count_reject(self, codes: Iterable[str]) -> None:
        """One line rejected for ``codes``."""
        self.rejected += 1
        self.reasons.update(list(dict.fromkeys(codes)))

    @property
    def balanced(self) -> bool:
        """Every input line is in exactly one output record, the rejects, or dropped as blank."""
        return self.inputs == sum(map(self.input_lines, self.outputs)) + self.rejected + self.blank

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (the ``--output-format json`` summary)."""
        return {
            "inputs": self.inputs,
            "unit": self.unit,
            "outputs": {label: self._output_dict(label) for label in self.outputs},
            "rejected": {"path": self.paths.get("rejects"), "lines": self.rejected,
                         "reasons": dict(sorted(self.reasons.items()))},
            "dropped": {BLANK_CODE: self.blank} if self.blank else {},
            "dropped_fields": {name: {"values": n, "rows": self.dropped_rows[name]}
                               for name, n in sorted(self.dropped_fields.items())},
            "balanced": self.balanced,
            "notes": list(self.notes),
            **self.extra,
        }

    def _output_dict(self, label: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"path": self.paths.get(label), "lines": self.outputs[label]}
        if label in self.per_record:
            entry |= {"input_lines": self.input_lines(label), "input_lines_per_record": self.per_record[label]}
        return entry

    def render(self) -> str:
        """Human summary, one fact per line (for stderr)."""
        lines = [f"{self.inputs} input {self.unit}(s)"]
        for label, n in self.outputs.items():
            made_of = (f" (from {self.input_lines(label)} input {self.unit}s, {self.per_record[label]} per record)"
                       if label in self.per_record else "")
            lines.append(f"  {label}: {n} -> {self.paths.get(label, '')}{made_of}")
        if self.rejected:
            reasons = ", ".join(f"{code} x{n}" for code, n in sorted(self.reasons.items()))
            lines.append(f"  rejected: {self.rejected} -> {self.paths.get('rejects', '')} ({reasons})")
        if self.blank:
            lines.append(f"  dropped: {self.blank} blank line(s) ({BLANK_CODE})")
        lines.extend(f"  dropped {name}: {n} value(s) in {self.dropped_rows[name]} row(s)"
                     for name, n in sorted(self.dropped_fields.items()))
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines) + "\n"
