"""A fast acceptance test for the parameters schemas most tools declare, before jsonschema.

Most function parameters are a flat object schema: ``type: object``, ``properties`` whose values have a
JSON ``type`` (or a list of types), maybe a string ``enum``, a ``pattern``, string length or number bounds
(``minLength``, ``maxLength``, ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``) and
annotations, ``required`` and ``additionalProperties: false``. For those, :meth:`SimpleSchema.accepts`
decides in a few dict lookups that the arguments of a call are valid, where jsonschema's ``iter_errors``
walks generators for every call. It answers only "surely valid"; everything else (a mismatch, a float for
``integer``, a keyword it does not know) goes to jsonschema, which writes the message. So a finding can
never be lost to it (tests/properties/test_simple_schema_properties.py compares it with jsonschema).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Exact Python types of parsed JSON values per JSON Schema type. A bool is not an "integer" or a "number",
# and a float with no fraction, which Draft 4 and later count as an "integer", is left to jsonschema.
_TYPES: dict[str, frozenset[type]] = {
    "string": frozenset({str}),
    "integer": frozenset({int}),
    "number": frozenset({int, float}),
    "boolean": frozenset({bool}),
    "null": frozenset({type(None)}),
    "object": frozenset({dict}),
    "array": frozenset({list}),
}
_ANY = frozenset().union(*_TYPES.values())
_OBJECT_KEYS = frozenset({"type", "properties", "required", "additionalProperties", "description", "title"})
# Bounds, each applying to one kind of value (jsonschema ignores it for the others), as Python tests.
_STRING_BOUNDS = {"minLength": lambda bound, item: len(item) >= bound,
                  "maxLength": lambda bound, item: len(item) <= bound}
_NUMBER_BOUNDS = {"minimum": lambda bound, item: item >= bound, "maximum": lambda bound, item: item <= bound,
                  "exclusiveMinimum": lambda bound, item: item > bound,
                  "exclusiveMaximum": lambda bound, item: item < bound}
# Annotations: they never make a value invalid (jsonschema checks no `format` unless asked to).
_ANNOTATIONS = frozenset({"description", "title", "format", "default", "examples"})
_PROPERTY_KEYS = frozenset({"type", "enum", "pattern", *_STRING_BOUNDS, *_NUMBER_BOUNDS, *_ANNOTATIONS})
_NUMBER_TYPES = (int, float)

Bound = Callable[[Any, Any], bool]


@dataclass(frozen=True, slots=True)
class _Property:
    """One property: the exact types it takes, its string enum (None: any value of those types), its
    pattern, and its bounds for strings and for numbers. ``plain``: none of those but the types."""

    types: frozenset[type]
    enum: frozenset[str] | None = None
    pattern: re.Pattern[str] | None = None
    string_bounds: tuple[tuple[Bound, int], ...] = ()
    number_bounds: tuple[tuple[Bound, int | float], ...] = ()
    plain: bool = True

    def accepts(self, item: Any) -> bool:
        kind = type(item)
        if kind not in self.types:
            return False
        if kind is str:
            if self.enum is not None and item not in self.enum:
                return False
            if self.pattern is not None and self.pattern.search(item) is None:
                return False
            return all(test(bound, item) for test, bound in self.string_bounds)
        if self.enum is not None:
            return False  # a string enum takes strings only
        return kind not in _NUMBER_TYPES or all(test(bound, item) for test, bound in self.number_bounds)


@dataclass(frozen=True, slots=True)
class SimpleSchema:
    """A flat object schema, as :func:`simple_schema` reads it."""

    required: tuple[str, ...]
    properties: dict[str, _Property]
    closed: bool  # additionalProperties: false

    def accepts(self, value: Any) -> bool:
        """True when the schema surely accepts ``value``; False means "ask jsonschema", not "invalid"."""
        if type(value) is not dict:
            return False
        for key in self.required:
            if key not in value:
                return False
        properties = self.properties
        for key, item in value.items():
            spec = properties.get(key)
            if spec is None:
                if self.closed:
                    return False
                continue
            if spec.plain:
                if type(item) not in spec.types:
                    return False
            elif not spec.accepts(item):
                return False
        return True


def simple_schema(schema: Any) -> SimpleSchema | None:
    """The schema as a :class:`SimpleSchema`, or None when it uses anything else (``$ref``, nested
    schemas, ``items``, ``const``, ``$schema`` ...): those are checked and validated by jsonschema alone.

    A schema it reads is also a valid 2020-12 schema (the meta-schema accepts it), so it needs no
    jsonschema ``check_schema`` either.
    """
    if type(schema) is not dict or not _OBJECT_KEYS.issuperset(schema) or schema.get("type") != "object":
        return None
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    closed = schema.get("additionalProperties", True)
    if type(properties) is not dict or type(required) is not list or type(closed) is not bool:
        return None
    if not all(type(key) is str for key in required) or len(set(required)) != len(required):
        return None
    if not _annotations_valid(schema):
        return None
    read: dict[str, _Property] = {}
    for key, spec in properties.items():
        found = _property(spec)
        if found is None:
            return None
        read[key] = found
    return SimpleSchema(tuple(required), read, not closed)


def _annotations_valid(schema: dict[str, Any]) -> bool:
    return (all(type(schema.get(key, "")) is str for key in ("description", "title", "format"))
            and type(schema.get("examples", [])) is list)


def _property(spec: Any) -> _Property | None:
    if type(spec) is not dict or not _PROPERTY_KEYS.issuperset(spec) or not _annotations_valid(spec):
        return None
    types = _ANY
    if "type" in spec:
        names = spec["type"]
        names = [names] if type(names) is str else names
        if type(names) is not list or not names or not all(type(n) is str and n in _TYPES for n in names):
            return None
        if len(set(names)) != len(names):
            return None
        types = frozenset().union(*(_TYPES[n] for n in names))
    enum = None
    if "enum" in spec:
        values = spec["enum"]
        if type(values) is not list or not all(type(v) is str for v in values):
            return None
        enum = frozenset(values)
    pattern = None
    if "pattern" in spec:
        if type(spec["pattern"]) is not str:
            return None
        try:
            # jsonschema tests a pattern with re.search, and its meta-schema check compiles it with re.
            pattern = re.compile(spec["pattern"])
        except re.error:
            return None
    string_bounds = []
    for key, test in _STRING_BOUNDS.items():
        if key in spec:
            if type(spec[key]) is not int or spec[key] < 0:
                return None
            string_bounds.append((test, spec[key]))
    number_bounds = []
    for key, test in _NUMBER_BOUNDS.items():
        if key in spec:
            if type(spec[key]) not in _NUMBER_TYPES:
                return None
            number_bounds.append((test, spec[key]))
    plain = enum is None and pattern is None and not string_bounds and not number_bounds
    return _Property(types, enum, pattern, tuple(string_bounds), tuple(number_bounds), plain)
