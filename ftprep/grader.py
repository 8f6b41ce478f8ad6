"""Reinforcement fine-tuning graders: read the grader JSON a job will use and find the row keys it reads.

A grader reads a training row's keys as ``{{item.<key>}}`` templates (string_check / text_similarity
fields, score_model / label_model input messages, nested graders of a multi grader) or, in a python
grader's source, as ``item["<key>"]``. Every such key must exist in every row, or the job fails while
grading. ``load_grader`` accepts the grader object itself, ``{"grader": {...}}``, or a job's ``method``
object (``{"type": "reinforcement", "reinforcement": {"grader": {...}}}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ftprep.errors import ConfigError
from ftprep.jsonl.parse import MAX_DEPTH, nesting_depth
from ftprep.lint.finding import pointer

# Fields each grader type needs (from the fine-tuning API's grader objects).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "string_check": ("input", "reference", "operation"),
    "text_similarity": ("input", "reference", "evaluation_metric"),
    "score_model": ("model", "input"),
    "label_model": ("model", "input", "labels", "passing_labels"),
    "python": ("source",),
    "multi": ("graders", "calculate_output"),
}
GRADER_TYPES = tuple(REQUIRED_FIELDS)
# ``{{item.a}}``, ``{{item.a.b}}`` (the key b of the object a), ``{{item["a"]}}``, ``{{item["a"].b}}``...
_STEP = r"""\.[A-Za-z0-9_$-]+|\[\s*["'][^"']+["']\s*\]"""
_TEMPLATE_RE = re.compile(r"""\{\{\s*item((?:""" + _STEP + r""")+)""")
_STEP_RE = re.compile(r"""\.([A-Za-z0-9_$-]+)|\[\s*["']([^"']+)["']\s*\]""")
# In python source only subscripts make a key required; item.get("x") is written for optional keys.
_SUBSCRIPT_RE = re.compile(r"""\bitem((?:\[\s*["'][^"']+["']\s*\])+)""")

KeyPath = tuple[str, ...]
"""The keys a grader follows from the row: ("reference",) or ("reference", "answer")."""


@dataclass(frozen=True, slots=True)
class Grader:
    """A grader read from a file: its type, name, and the row keys it reads, in first-seen order."""

    source: str
    type: str
    name: str
    item_paths: tuple[KeyPath, ...]

    @property
    def item_keys(self) -> tuple[str, ...]:
        """The paths as written after ``item.``: ``reference`` or ``reference.answer``."""
        return tuple(key_label(path) for path in self.item_paths)


def key_label(path: KeyPath) -> str:
    """A key path as dotted text."""
    return ".".join(path)


def _path(chain: str) -> KeyPath:
    return tuple(m.group(1) or m.group(2) for m in _STEP_RE.finditer(chain))


def load_grader(path: str | Path) -> Grader:
    """Read and check a grader JSON file.

    Raises :class:`ConfigError` naming the file when it cannot be read, is not JSON, or holds a grader of
    unknown type or without a field its type needs.
    """
    source = str(path)
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read grader file {source}: {exc.strerror or exc}") from exc
    # The walks below recurse; a grader is a few levels deep (a multi grader of model graders about 8).
    if nesting_depth(text) > MAX_DEPTH:
        raise ConfigError(f"grader file {source}: nests more than {MAX_DEPTH} levels deep; "
                          "no grader does: check that it is the grader file")
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"grader file {source} is not valid JSON: {exc}; write the grader object as JSON") from exc
    return parse_grader(data, source)


def parse_grader(data: Any, source: str = "<grader>") -> Grader:
    """Check a grader object (or a wrapper holding one) and collect the row keys it reads."""
    grader, base = _unwrap(data)
    if not isinstance(grader, dict):
        raise ConfigError(f"grader file {source}: expected a grader object, found {type(grader).__name__}")
    keys: dict[KeyPath, None] = {}
    _walk_grader(grader, base, source, keys)
    name = grader.get("name")
    return Grader(source=source, type=str(grader.get("type")), name=name if isinstance(name, str) else "",
                  item_paths=tuple(keys))


def _unwrap(data: Any) -> tuple[Any, tuple[str, ...]]:
    if not isinstance(data, dict):
        return data, ()
    if "method" in data and isinstance(data["method"], dict):
        inner, base = _unwrap(data["method"])
        return inner, ("method", *base)
    if data.get("type") == "reinforcement" and isinstance(data.get("reinforcement"), dict):
        return data["reinforcement"].get("grader"), ("reinforcement", "grader")
    if "type" not in data and isinstance(data.get("grader"), dict):
        return data["grader"], ("grader",)
    return data, ()


def _walk_grader(grader: dict[str, Any], where: tuple[str, ...], source: str, keys: dict[KeyPath, None]) -> None:
    kind = grader.get("type")
    at = f" at {pointer(*where)}" if where else ""
    if not isinstance(kind, str) or kind not in REQUIRED_FIELDS:
        raise ConfigError(f"grader file {source}: unknown grader type {kind!r}{at}; "
                          f"use one of: {', '.join(GRADER_TYPES)}")
    missing = [field for field in REQUIRED_FIELDS[kind] if field not in grader]
    if missing:
        raise ConfigError(f"grader file {source}: {kind} grader{at} lacks {', '.join(missing)}; add "
                          f"{'it' if len(missing) == 1 else 'them'}")
    for key, value in grader.items():
        if kind == "multi" and key == "graders":
            continue
        if kind == "python" and key == "source" and isinstance(value, str):
            for match in _SUBSCRIPT_RE.finditer(value):
                keys.setdefault(_path(match.group(1)))
        _collect_templates(value, keys)
    if kind == "multi":
        graders = grader["graders"]
        items = graders.items() if isinstance(graders, dict) else enumerate(graders) if isinstance(graders, list) \
            else None
        if items is None:
            raise ConfigError(f"grader file {source}: multi grader{at} needs `graders` as an object of graders")
        for label, inner in items:
            if not isinstance(inner, dict):
                raise ConfigError(f"grader file {source}: {pointer(*where, 'graders', label)} is not a grader object")
            _walk_grader(inner, (*where, "graders", str(label)), source, keys)


def _collect_templates(value: Any, keys: dict[KeyPath, None]) -> None:
    """Add the key paths of every ``{{item.X}}`` template in a JSON value (strings at any depth)."""
    if isinstance(value, str):
        if "item" in value:
            for match in _TEMPLATE_RE.finditer(value):
                keys.setdefault(_path(match.group(1)))
    elif isinstance(value, dict):
        for inner in value.values():
            _collect_templates(inner, keys)
    elif isinstance(value, list):
        for inner in value:
            _collect_templates(inner, keys)
