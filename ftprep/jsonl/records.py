"""Records held in memory, read by the same pass as a file: an iterable of dicts, a polars DataFrame or a
Hugging Face ``datasets.Dataset`` is written to a temporary JSONL file that findings name ``<records>``.

The kind of container is told by duck typing (its module's name and the method it has), so neither polars
nor datasets is imported unless the caller already holds one of their objects. Rows are written as they are:
the nulls a DataFrame fills in for absent fields stay null, and ``check`` reports them (FT215) as it does in a
file written from the DataFrame.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from ftprep.errors import ConfigError
from ftprep.jsonl.reader import named

# How findings name in-memory records.
RECORDS_LABEL = "<records>"
Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


def _module(value: object) -> str:
    return type(value).__module__.split(".", 1)[0]


def record_rows(given: object) -> Iterable[Any] | None:
    """The rows of ``given`` when it is a table held in memory (a polars DataFrame, a ``datasets.Dataset``
    or ``IterableDataset``); None for anything else. Raises :class:`ConfigError` for a container of several
    tables (a ``DatasetDict``) or a pandas DataFrame, whose iteration gives column names, not rows."""
    module = _module(given)
    if module == "polars" and hasattr(given, "iter_rows"):
        if hasattr(given, "collect"):  # a LazyFrame: collected in batches would need the streaming engine
            raise ConfigError("a polars LazyFrame: pass lazy.collect() (a DataFrame), or write it with "
                              "sink_ndjson and pass the file")
        rows: Iterable[Any] = given.iter_rows(named=True)
        return rows
    if module == "datasets":
        if isinstance(given, Mapping):
            raise ConfigError(f"a {type(given).__name__} holds several splits ({', '.join(map(str, given))}): pass "
                              "one of them, e.g. data['train']")
        if isinstance(given, Iterable):  # Dataset and IterableDataset yield one dict per row
            return given
    if module == "pandas" and hasattr(given, "to_dict"):
        raise ConfigError("a pandas DataFrame iterates over its column names: pass df.to_dict('records'), "
                          "polars.from_pandas(df), or a JSONL file (df.to_json(path, orient='records', lines=True))")
    return None


@contextlib.contextmanager
def as_paths(given: Paths | Iterable[Mapping[str, Any]] | Any) -> Iterator[list[str | os.PathLike[str]]]:
    """The paths to read for ``given``: one path or several as they are, or, for records in memory (an
    iterable of dicts, a DataFrame, a Dataset: see :func:`record_rows`), a temporary JSONL file named
    :data:`RECORDS_LABEL`, removed when the block ends. Raises :class:`ConfigError` for a record that has no
    JSON form."""
    if isinstance(given, (str, os.PathLike)):
        yield [given]
        return
    rows = record_rows(given)
    items = iter(rows if rows is not None else given)
    first = next(items, None)
    if first is None:
        if rows is None:
            yield []
            return
    elif not isinstance(first, Mapping):
        yield [first, *items]
        return
    with tempfile.TemporaryDirectory(prefix="ftprep-records-") as folder:
        path = os.path.join(folder, "records.jsonl")
        with open(path, "wb") as out:
            for index, record in enumerate(itertools.chain([] if first is None else [first], items)):
                try:
                    out.write(orjson.dumps(record) + b"\n")
                except TypeError as exc:
                    raise ConfigError(f"record {index} cannot be written as JSON ({exc}); pass dicts of JSON "
                                      "values, or paths") from None
        with named(path, RECORDS_LABEL):
            yield [path]
