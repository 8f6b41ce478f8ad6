"""A fast acceptance test for the parameters schemas most tools declare, before jsonschema.

Most function parameters are a flat object schema: ``type: object``, ``properties`` whose values have a
JSON ``type`` (or a list of types) and maybe a string ``enum``, ``required`` and
``additionalProperties: false``. For those, :meth:`SimpleSchema.accepts` decides in a few dict lookups that
the arguments of a call are valid, where jsonschema's ``iter_errors`` walks generators for every call. It
answers only "surely valid"; everything else (a mismatch, a float for ``integer``, a keyword it does not
know) goes to jsonschema, which writes the message. So a finding can never be lost to it
(tests/properties/test_simple_schema_properties.py compares it with jsonschema).
"""

from __future__ import annotations

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
# Annotations only: they never make a value invalid.
_OBJECT_KEYS = frozenset({"type", "properties", "required", "additionalProperties", "description", "title"})
_PROPERTY_KEYS = frozenset({"type", "enum", "description", "title"})

# A property: the exact types it takes, and its string enum (None: any value of those types).
_Property = tuple[frozenset[type], frozenset[str] | None]


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
            types, enum = spec
            if type(item) not in types or (enum is not None and (type(item) is not str or item not in enum)):
                return False
        return True


def simple_schema(schema: Any) -> SimpleSchema | None:
    """The schema as a :class:`SimpleSchema`, or None when it uses anything else (``$ref``, nested
    schemas, patterns, bounds, ``$schema`` ...): those are checked and validated by jsonschema alone.

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
    return all(type(schema.get(key, "")) is str for key in ("description", "title"))


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
    return types, enum
