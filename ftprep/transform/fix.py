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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ftprep.check import check_files
from ftprep.config import Config
from ftprep.errors import ConfigError, InputError
from ftprep.jsonl.discover import expand_paths
from ftprep.jsonl.parse import parse_line
from ftprep.jsonl.reader import iter_lines, reporting
from ftprep.jsonl.writer import atomic_outputs, record_bytes
from ftprep.lint.finding import Severity
from ftprep.overlap.hashing import digest_bytes, record_digest
from ftprep.rules.bytes import BlankLine, NulByte, Utf8Bom
from ftprep.rules.dataset import DuplicateLine
from ftprep.rules.nulls import NULL_FIELDS, NullOptionalField, strip_nulls
from ftprep.rules.overlap import DuplicateRecord
from ftprep.rules.syntax import InvalidJson
from ftprep.transform.sources import PARSE_CODES
from ftprep.transform.split import output_stem, output_with_rejects
from ftprep.transform.summary import Accounting, Reason, reject_bytes

# What a fixed copy beside its input is called (data.jsonl -> data.fixed.jsonl), and its rejects.
FIXED_SUFFIX = ".fixed.jsonl"
REJECTS_SUFFIX = ".rejects.jsonl"
# Errors the rewrite itself removes.
FIXED_CODES = frozenset({Utf8Bom.code, BlankLine.code, NulByte.code, NullOptionalField.code})
_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class FixResult:
    """What the fixer did: the line accounting and the count of repairs per kind."""

    accounting: Accounting
    repairs: dict[str, int]


def fix_plan(inputs: Iterable[str], *, output_dir: str | os.PathLike[str] | None = None,
             exclude: Sequence[str] = (), root: Path | None = None) -> list[tuple[str, Path]]:
    """(input, output) for every file to fix: the files named, and the ``*.jsonl``/``*.jsonl.gz`` files under
    each folder named (less ``exclude``, see :func:`ftprep.jsonl.discover.expand_paths`).

    Without ``output_dir`` each output is beside its input, ``NAME.fixed.jsonl``; a folder's files named so (or
    ``NAME.rejects.jsonl``) are outputs of an earlier run and are not fixed again. With ``output_dir`` each
    output keeps its input's name (as ``.jsonl``) and its path under the folder named, inside ``output_dir``
    (whose own files are never inputs). Raises :class:`ConfigError` when two inputs would write one output or
    standard input has no output folder, :class:`InputError` for a folder with nothing to fix.
    """
    out_root = None if output_dir is None else Path(output_dir).resolve()
    plan: list[tuple[str, Path]] = []
    for given in inputs:
        if given == "-" or not os.path.isdir(given):
            if given == "-" and output_dir is None:
                raise ConfigError("standard input (-) has no name to write beside: give --output or --output-dir")
            name = "stdin.jsonl" if given == "-" else output_stem(given).name + ".jsonl"
            plan.append((given, Path(output_dir) / name if output_dir is not None
                         else Path(f"{output_stem(given)}{FIXED_SUFFIX}")))
            continue
        found = [path for path in expand_paths([given], exclude, root)
                 if not path.endswith((FIXED_SUFFIX, REJECTS_SUFFIX))
                 and not (out_root is not None and Path(path).resolve().is_relative_to(out_root))]
        if not found:
            raise InputError(f"{given}: no *.jsonl or *.jsonl.gz file to fix in this folder (outputs of an "
                             "earlier fix are left out); name the files instead")
        for path in found:
            if output_dir is None:
                plan.append((path, Path(f"{output_stem(path)}{FIXED_SUFFIX}")))
            else:
                relative = Path(os.path.relpath(output_stem(path), given))
                plan.append((path, Path(output_dir) / relative.with_name(relative.name + ".jsonl")))
    seen: dict[Path, str] = {}
    for source, output in plan:
        key = output.resolve()
        if key in seen:
            raise ConfigError(f"{seen[key]} and {source} would both be written to {output}; fix them one at a time "
                              "with --output")
        seen[key] = source
    return plan


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
    progress: Callable[[int], None] | None = None,
) -> FixResult:
    """Write a repaired copy of ``input_path`` to ``output_path``; lines with errors go to the rejects file.

    ``model``/``method``/``config`` are those of ``ftprep check`` (the rules that decide what is an error).
    The rejects file defaults to OUTPUT stem + ``.rejects.jsonl`` and is only created when needed. ``progress``
    is called with byte counts as the input is read, twice (the check's pass, then the writing).
    Raises :class:`ConfigError` for bad outputs and :class:`InputError` for an unreadable input.
    """
    if str(input_path) == "-":
        raise ConfigError("fix reads its input twice; pass a file path, not '-'")
    outputs = output_with_rejects(output_path, rejects_out, force=force)
    for output in outputs:
        output.validate([input_path])
    result = check_files([str(input_path)], model=model, method=method, config=config, progress=progress)
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
        for raw in reporting(iter_lines(input_path), progress):
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
                if 0 in data:  # a NUL byte (an integer test: no TypeError raised and cleared inside)
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
