"""The safe fixer: repair what is mechanical, set aside what is not, and never change a record's meaning.

Repaired in place: a byte order mark, CRLF line endings, NUL bytes, blank lines (dropped and counted),
null optional fields (dropped and counted: a DataFrame round trip's filled-in nulls, FT215), and JSON
formatting (every record is re-serialised compactly with orjson, keys in their order).
Optionally (``dedupe``) a record equal to an earlier one (same canonical record) is set aside.
Every line that still has an error under ``ftprep check``'s rules goes to the rejects file with its
finding codes. File-level findings (too few examples, format/model mismatch) cannot be fixed line by
line; they are reported as notes.

Two passes: the engine's check pass decides which lines carry errors, the second pass writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ftprep.check import check_files
from ftprep.config import Config
from ftprep.errors import ConfigError
from ftprep.jsonl.parse import parse_line
from ftprep.jsonl.reader import iter_lines
from ftprep.jsonl.writer import atomic_outputs, record_bytes
from ftprep.lint.finding import Severity
from ftprep.overlap.hashing import digest_bytes, record_digest
from ftprep.rules.bytes import BlankLine, NulByte, Utf8Bom
from ftprep.rules.dataset import DuplicateLine
from ftprep.rules.nulls import NULL_FIELDS, NullOptionalField, strip_nulls
from ftprep.rules.overlap import DuplicateRecord
from ftprep.rules.syntax import InvalidJson
from ftprep.transform.sources import PARSE_CODES
from ftprep.transform.split import output_with_rejects
from ftprep.transform.summary import Accounting, Reason, reject_bytes

# Errors the rewrite itself removes.
FIXED_CODES = frozenset({Utf8Bom.code, BlankLine.code, NulByte.code, NullOptionalField.code})
_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class FixResult:
    """What the fixer did: the line accounting and the count of repairs per kind."""

    accounting: Accounting
    repairs: dict[str, int]


def fix_file(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    rejects_out: str | os.PathLike[str] | None = None,
    dedupe: bool = False,
    model: str | None = None,
    method: str | None = None,
    config: Config | None = None,
    force: bool = False,
) -> FixResult:
    """Write a repaired copy of ``input_path`` to ``output_path``; lines with errors go to the rejects file.

    ``model``/``method``/``config`` are those of ``ftprep check`` (the rules that decide what is an error).
    The rejects file defaults to OUTPUT stem + ``.rejects.jsonl`` and is only created when needed.
    Raises :class:`ConfigError` for bad outputs and :class:`InputError` for an unreadable input.
    """
    if str(input_path) == "-":
        raise ConfigError("fix reads its input twice; pass a file path, not '-'")
    outputs = output_with_rejects(output_path, rejects_out, force=force)
    for output in outputs:
        output.validate([input_path])
    result = check_files([str(input_path)], model=model, method=method, config=config)
    bad: dict[int, list[Reason]] = {}
    accounting = Accounting()
    for finding in result.findings:
        if finding.severity is not Severity.ERROR or finding.code in FIXED_CODES:
            continue
        if finding.line is None:
            accounting.notes.append(f"{finding.code} {finding.name}: {finding.message} (fix: {finding.fix})")
        else:
            bad.setdefault(finding.line, []).append(Reason.of(finding))
    accounting.output("output", str(outputs[0].path))
    accounting.paths["rejects"] = str(outputs[1].path)
    repairs = {"bom": 0, "crlf": 0, "nul": 0, "nulls": 0, "reformatted": 0}
    seen: dict[bytes, tuple[int, bytes]] = {}
    with atomic_outputs(outputs, [input_path]) as (out, rejects):
        for raw in iter_lines(input_path):
            accounting.inputs += 1
            data = raw.data
            if raw.lineno == 1 and data.startswith(_BOM):
                data = data[3:]
                repairs["bom"] += 1
            if raw.eol == b"\r\n" or data.endswith(b"\r"):
                repairs["crlf"] += 1
                data = data.removesuffix(b"\r")
            if not data.strip():
                accounting.blank += 1
                continue
            reasons = bad.get(raw.lineno)
            if reasons is None:
                if b"\x00" in data:
                    repairs["nul"] += 1
                    data = data.replace(b"\x00", b"")
                parsed = parse_line(data)
                if not parsed.ok or parsed.problems or not isinstance(parsed.value, dict):
                    # Only when the check's selection ignored the parse rules: never write a broken line.
                    reasons = [Reason(PARSE_CODES[p.kind], p.message, p.pointer) for p in parsed.problems] or [
                        Reason(InvalidJson.code, "line is not a strict JSON object")]
                else:
                    record, removed = strip_nulls(parsed.value)
                    if removed:
                        repairs["nulls"] += len(removed)
                        accounting.drop(NULL_FIELDS, len(removed))
                if reasons is None and dedupe:
                    digest = record_digest(record)
                    first = seen.get(digest)
                    if first is None:
                        seen[digest] = (raw.lineno, digest_bytes(data))
                    else:
                        rule = DuplicateLine if first[1] == digest_bytes(data) else DuplicateRecord
                        reasons = [Reason(rule.code, f"same record as line {first[0]}")]
                        accounting.set_aside += 1
                if reasons is None:
                    try:
                        compact = record_bytes(record)
                    except ValueError as exc:
                        reasons = [Reason(InvalidJson.code, f"the record has no valid UTF-8 JSON form ({exc})")]
                    else:
                        repairs["reformatted"] += compact != data
                        out.write_line(compact)
                        accounting.count_output("output")
                        continue
            rejects.write_line(reject_bytes(reasons, raw.data, line=raw.lineno))
            accounting.count_reject(r.code for r in reasons)
    accounting.extra = {"fix": {"repairs": repairs, "dedupe": dedupe}}
    return FixResult(accounting, repairs)
