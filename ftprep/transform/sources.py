"""Read convert's inputs as a stream of rows: JSONL, JSON documents, CSV/TSV and Parquet.

- JSONL (any extension whose content is one JSON value per line) is streamed line by line through the
  byte reader and the strict parser, so parse defects become reasons with the same codes ``check`` uses.
- A JSON document (an array of objects, or one object holding such an array) is parsed whole: a single
  JSON value cannot be streamed line by line, and reading it with orjson keeps nested rows as they are
  (a columnar reader would add null fields for keys a row lacks).
- CSV, TSV and Parquet are read with polars in batches; CSV/TSV cells stay strings (no type guessing, so
  "007" stays "007"), Parquet keeps its types.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import orjson

from ftprep.errors import InputError
from ftprep.extras import require
from ftprep.jsonl.parse import MAX_DEPTH, exact_document, parse_line
from ftprep.jsonl.reader import iter_lines, open_binary
from ftprep.jsonl.writer import record_bytes
from ftprep.rules.bytes import InvalidUtf8
from ftprep.rules.syntax import (
    DuplicateKey,
    IntegerTooLong,
    InvalidJson,
    LoneSurrogate,
    NestingTooDeep,
    NonFiniteNumber,
    NotAnObject,
)
from ftprep.transform.summary import Reason

if TYPE_CHECKING:  # polars (181 MB, the `tabular` extra; 0.1 s to import): only for tabular inputs
    import polars as pl

BATCH_ROWS = 10_000
_BOM = b"\xef\xbb\xbf"
# The finding code of each kind of problem the strict parser reports (ftprep.jsonl.parse).
PARSE_CODES = {"invalid-utf8": InvalidUtf8.code, "invalid-json": InvalidJson.code,
                "non-finite": NonFiniteNumber.code, "duplicate-key": DuplicateKey.code,
                "too-deep": NestingTooDeep.code, "lone-surrogate": LoneSurrogate.code,
                "integer-too-long": IntegerTooLong.code}
CONTAINERS = ("jsonl", "json", "csv", "tsv", "parquet")


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One input row: where it came from, its original bytes, its value (None if unusable) and defects.

    ``line`` is set for JSONL inputs, ``record`` (1-based) for the others; ``blank`` marks an empty line.
    """

    line: int | None
    record: int | None
    raw: bytes
    value: dict[str, Any] | None
    problems: tuple[Reason, ...] = ()
    blank: bool = False


def detect_container(path: str | os.PathLike[str]) -> str:
    """jsonl, json, csv, tsv or parquet: by extension, then by the first bytes."""
    name = str(path).lower().removesuffix(".gz")
    for suffix, container in ((".csv", "csv"), (".tsv", "tsv"), (".parquet", "parquet"), (".jsonl", "jsonl")):
        if name.endswith(suffix):
            return container
    with open_binary(path) as stream:
        head = stream.read(1 << 16)
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.removeprefix(_BOM).lstrip()
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{") and name.endswith(".json"):
        # A pretty-printed object spans lines, and a one-line file may be an object holding the rows;
        # several objects, one per line, are JSONL whatever the extension.
        first, _, rest = text.partition(b"\n")
        return "jsonl" if rest.strip() and parse_line(first.strip()).ok else "json"
    return "jsonl"


def iter_rows(path: str | os.PathLike[str], container: str) -> Iterator[SourceRow]:
    """Yield the rows of ``path`` read as ``container`` (see :func:`detect_container`)."""
    if container != "jsonl" and not Path(path).is_file():
        raise InputError(f"{path}: no such file; check the path")
    if container == "jsonl":
        yield from _jsonl_rows(path)
    elif container == "json":
        yield from _json_rows(path)
    elif container in ("csv", "tsv"):
        yield from _csv_rows(path, "\t" if container == "tsv" else ",")
    elif container == "parquet":
        yield from _parquet_rows(path)
    else:
        raise InputError(f"{path}: unknown input container {container!r}; use one of {', '.join(CONTAINERS)}")


def _jsonl_rows(path: str | os.PathLike[str]) -> Iterator[SourceRow]:
    for raw in iter_lines(path):
        data = raw.data.removeprefix(_BOM) if raw.lineno == 1 else raw.data
        data = data.removesuffix(b"\r")
        if not data.strip():
            yield SourceRow(raw.lineno, None, raw.data, None, blank=True)
            continue
        yield _parsed_row(raw.lineno, None, raw.data, data)


def _parsed_row(line: int | None, record: int | None, raw: bytes, data: bytes) -> SourceRow:
    """The row a JSON text holds, read as ``check`` reads a JSONL line (the same problems, same codes)."""
    parsed = parse_line(data)
    problems = tuple(Reason(PARSE_CODES[p.kind], p.message, p.pointer) for p in parsed.problems)
    if not parsed.ok or problems:
        return SourceRow(line, record, raw, None, problems or (Reason(InvalidJson.code, "invalid JSON"),))
    if not isinstance(parsed.value, dict):
        what = "line" if line is not None else "array item"
        return SourceRow(line, record, raw, None,
                         (Reason(NotAnObject.code, f"{what} is a JSON {type(parsed.value).__name__}, not an object"),))
    return SourceRow(line, record, raw, parsed.value)


def _document_rows(path: str | os.PathLike[str], document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        lists = [k for k, v in document.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if len(lists) == 1:
            return list(document[lists[0]])
        if not lists:
            return [document]
        raise InputError(f"{path}: the JSON object holds several lists of records ({', '.join(lists)}); "
                         "extract the one to convert into its own file")
    raise InputError(f"{path}: a JSON document must be an array of objects or an object holding one")


def _json_rows(path: str | os.PathLike[str]) -> Iterator[SourceRow]:
    with open_binary(path) as stream:
        data = stream.read().removeprefix(_BOM)
    try:
        document = exact_document(data)
    except ValueError as exc:
        raise InputError(f"{path}: not a valid JSON document ({exc}); fix the JSON or pass JSONL") from exc
    for number, item in enumerate(_document_rows(path, document), start=1):
        try:
            raw = record_bytes(item)
        except ValueError:  # a lone surrogate: ASCII escapes carry it, and the row's reading reports it
            try:
                raw = json.dumps(item, ensure_ascii=True, separators=(",", ":")).encode("ascii")
            except RecursionError:
                yield SourceRow(None, number, b"", None, (Reason(NestingTooDeep.code, "the array item nests "
                                                                 f"more than {MAX_DEPTH} levels deep"),))
                continue
        yield _parsed_row(None, number, raw, raw)


def _frame_rows(frame: pl.DataFrame, start: int) -> Iterator[SourceRow]:
    for offset, row in enumerate(frame.iter_rows(named=True)):
        yield SourceRow(None, start + offset, orjson.dumps(row, default=str), row)


def _lazy_rows(path: str | os.PathLike[str], lazy: pl.LazyFrame, what: str) -> Iterator[SourceRow]:
    """Rows of a lazy frame, collected in batches by the streaming engine (memory: one batch)."""
    import polars as pl  # the caller required it

    number = 1
    try:
        for frame in lazy.collect_batches(chunk_size=BATCH_ROWS):
            yield from _frame_rows(frame, number)
            number += frame.height
    except pl.exceptions.PolarsError as exc:
        # polars explains over many lines (hints for its own API): the first sentence is the diagnosis.
        reason = " ".join(str(exc).split("\n\n", 1)[0].split())
        raise InputError(f"{path}: cannot read as {what} ({reason}); fix the file or convert it to JSONL "
                         "first") from exc


def _polars(what: str) -> ModuleType:
    return require("polars", extra="tabular", feature=f"reading {what}")


def _csv_rows(path: str | os.PathLike[str], separator: str) -> Iterator[SourceRow]:
    what = "TSV" if separator == "\t" else "CSV"
    lazy = _polars(what).scan_csv(Path(path), separator=separator, infer_schema=False)
    yield from _lazy_rows(path, lazy, what)


def _parquet_rows(path: str | os.PathLike[str]) -> Iterator[SourceRow]:
    yield from _lazy_rows(path, _polars("Parquet").scan_parquet(Path(path)), "Parquet")
