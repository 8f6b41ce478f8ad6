"""Build frozen dataclasses from TOML tables, with every problem named by its key path.

The model table and the configuration are read on every command, and importing a validation library
and building its schemas cost more than the rest of ``ftprep check``'s start-up (about 0.17 s of 0.4 s),
so these few flat shapes are checked here: field types (``str``, ``int``, ``float``, ``bool``,
``datetime.date`` from a TOML date or an ISO string, ``Literal``, ``X | None``, ``tuple[X, ...]``,
``list[X]``, ``dict[str, X]``, ``Any`` and nested dataclasses), required fields, unknown keys, and the
bounds a field declares in its metadata (``field(metadata={"gt": 0})``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Literal, TypeVar

from ftprep.errors import did_you_mean

T = TypeVar("T")


class Invalid(ValueError):
    """The problems of a table, each as ``(key path, message)``."""

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]):
        super().__init__("; ".join(f"{'.'.join(map(str, loc)) or '(top)'}: {msg}" for loc, msg in problems))
        self.problems = problems


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def build(cls: type[T], data: Any, *, key: Callable[[str], str] = str) -> T:
    """An instance of the dataclass ``cls`` from a mapping; ``key`` turns a field name into its key in
    the mapping (``snake_case`` names are accepted too). Raises :class:`Invalid` with every problem."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    value = _dataclass(cls, data, (), problems, key)
    if problems:
        raise Invalid(problems)
    return typing.cast(T, value)


def _dataclass(cls: type, data: Any, loc: tuple[str | int, ...], problems: list[Any],
               key: Callable[[str], str]) -> Any:
    if not isinstance(data, Mapping):
        problems.append((loc, f"expected a table, not {type(data).__name__}"))
        return None
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    by_key = {key(name): name for name in fields} | {name: name for name in fields}
    values: dict[str, Any] = {}
    for given, item in data.items():
        name = by_key.get(given) if isinstance(given, str) else None
        if name is None:
            problems.append(((*loc, given), "unknown key" + (did_you_mean(given, map(key, fields))
                                                             if isinstance(given, str) else "")))
            continue
        field = fields[name]
        checked = _value(_hints(cls)[name], item, (*loc, given), problems, key)
        bound = _bound(field, checked)
        if bound:
            problems.append(((*loc, given), bound))
        values[name] = checked
    for name, field in fields.items():
        if name not in values and field.default is dataclasses.MISSING \
                and field.default_factory is dataclasses.MISSING:
            problems.append(((*loc, key(name)), "Field required"))
    try:
        return cls(**values)
    except (TypeError, ValueError):
        return None  # problems are already listed


def _bound(field: dataclasses.Field[Any], value: Any) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if "gt" in field.metadata and not value > field.metadata["gt"]:
        return f"Input should be greater than {field.metadata['gt']}"
    if "ge" in field.metadata and not value >= field.metadata["ge"]:
        return f"Input should be greater than or equal to {field.metadata['ge']}"
    return None


def _value(hint: Any, value: Any, loc: tuple[str | int, ...], problems: list[Any],
           key: Callable[[str], str]) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return _value(options[0], value, loc, problems, key)
        raise TypeError(f"unsupported union {hint}")  # pragma: no cover - not used by our shapes
    if origin is Literal:
        if value in args and type(value) in {type(a) for a in args}:
            return value
        problems.append((loc, f"Input should be {' or '.join(repr(a) for a in args)}"))
        return value
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            problems.append((loc, f"expected an array, not {type(value).__name__}"))
            return value
        items = [_value(args[0], item, (*loc, i), problems, key) for i, item in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            problems.append((loc, f"expected a table, not {type(value).__name__}"))
            return value
        return {k: _value(args[1], v, (*loc, k), problems, key) for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        return _dataclass(typing.cast(type, hint), value, loc, problems, key)
    return _scalar(hint, value, loc, problems)


def _scalar(hint: Any, value: Any, loc: tuple[str | int, ...], problems: list[Any]) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif hint is dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        problems.append((loc, "Input should be a valid date (YYYY-MM-DD)"))
        return value
    else:  # pragma: no cover - a shape this module does not know
        raise TypeError(f"unsupported field type {hint}")
    problems.append((loc, f"Input should be a valid {hint.__name__}, not {type(value).__name__}"))
    return value
