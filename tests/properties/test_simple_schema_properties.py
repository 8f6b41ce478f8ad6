"""The fast acceptance test of flat parameters schemas never accepts what jsonschema rejects."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ftprep.rules.simple_schema import simple_schema

TYPE_NAMES = ["string", "integer", "number", "boolean", "null", "object", "array"]
KEYS = ["a", "b", "c"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2, 2, allow_nan=False),
                    st.sampled_from(["", "x", "y", "1", "ab", "xyz", "ORD-12345", "a@b.c", "2024-01-31"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=2) | st.dictionaries(
    st.sampled_from(KEYS), inner, max_size=2), max_leaves=4)
type_specs = st.sampled_from(TYPE_NAMES) | st.lists(st.sampled_from(TYPE_NAMES), min_size=1, max_size=3)


@st.composite
def property_schemas(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if draw(st.booleans()):
        spec["type"] = draw(type_specs)
    if draw(st.booleans()):
        spec["enum"] = draw(st.lists(st.sampled_from(["x", "y", "1"]) | scalars, min_size=1, max_size=3))
    if draw(st.booleans()):
        spec["description"] = "d"
    if draw(st.integers(0, 3)) == 0:
        spec["pattern"] = draw(st.sampled_from(["^x", "y$", "^ORD-[0-9]{5}$", "b", "^$", "[0-9]", "("]))
    for key in ("minLength", "maxLength"):
        if draw(st.integers(0, 4)) == 0:
            spec[key] = draw(st.integers(-1, 4) | st.just(1.0))
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if draw(st.integers(0, 4)) == 0:
            spec[key] = draw(st.integers(-2, 2) | st.floats(-2, 2, allow_nan=False) | st.just(True))
    if draw(st.integers(0, 4)) == 0:
        spec[draw(st.sampled_from(["format", "default", "examples"]))] = draw(
            st.sampled_from(["email", "date", "uri"]) | scalars | st.lists(scalars, max_size=2))
    if draw(st.integers(0, 9)) == 0:
        spec[draw(st.sampled_from(["items", "const", "multipleOf"]))] = draw(scalars)
    return spec


@st.composite
def object_schemas(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"}
    schema["properties"] = draw(st.dictionaries(st.sampled_from(KEYS), property_schemas(), max_size=3))
    if draw(st.booleans()):
        schema["required"] = draw(st.lists(st.sampled_from(KEYS), max_size=3, unique=True))
    if draw(st.booleans()):
        schema["additionalProperties"] = draw(st.booleans())
    return schema


@st.composite
def loose_schemas(draw: st.DrawFn) -> Any:
    """A flat schema with one thing that may break it: an annotation of another type, a repeated name."""
    schema = draw(object_schemas())
    junk = st.one_of(scalars, st.lists(st.sampled_from(KEYS + TYPE_NAMES), max_size=3))
    where = draw(st.sampled_from(["top", "property", "required", "types", "none"]))
    if where == "top":
        schema[draw(st.sampled_from(["description", "title"]))] = draw(junk)
    elif where == "required":
        schema["required"] = draw(st.lists(st.sampled_from(KEYS), min_size=2, max_size=4))
    elif schema["properties"] and where in ("property", "types"):
        spec = schema["properties"][draw(st.sampled_from(sorted(schema["properties"])))]
        if where == "property":
            spec[draw(st.sampled_from(["description", "title", "enum", "format", "examples", "pattern",
                                       "minLength", "maximum"]))] = draw(junk)
        else:
            spec["type"] = draw(st.lists(st.sampled_from(TYPE_NAMES), min_size=1, max_size=4))
    return schema


@settings(max_examples=600, deadline=None)
@given(loose_schemas())
def test_a_schema_read_as_simple_is_valid(schema: Any) -> None:
    if simple_schema(schema) is not None:
        Draft202012Validator.check_schema(schema)


def instances(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    return st.dictionaries(st.sampled_from(KEYS), values, max_size=3) | values


@settings(max_examples=800, deadline=None)
@given(st.data())
def test_accepts_only_what_jsonschema_accepts(data: st.DataObject) -> None:
    schema = data.draw(object_schemas())
    assume(Draft202012Validator(Draft202012Validator.META_SCHEMA).is_valid(schema))  # as compile_schema does
    instance = data.draw(instances(schema))
    simple = simple_schema(schema)
    if simple is not None and simple.accepts(instance):
        assert Draft202012Validator(schema).is_valid(instance), (schema, instance)


def test_the_common_tool_schema_is_fast_and_exact() -> None:
    schema = {"type": "object", "properties": {"order_id": {"type": "string", "description": "id",
                                                            "pattern": "^GL-[0-9]+$", "maxLength": 12},
                                               "express": {"type": "boolean"},
                                               "unit": {"type": "string", "enum": ["c", "f"]},
                                               "count": {"type": ["integer", "null"], "minimum": 1,
                                                         "maximum": 20}},
              "required": ["order_id"], "additionalProperties": False}
    simple = simple_schema(schema)
    assert simple is not None
    assert simple.accepts({"order_id": "GL-1"})
    assert simple.accepts({"order_id": "GL-1", "express": True, "unit": "c", "count": None})
    assert simple.accepts({"order_id": "GL-123456789", "count": 20})
    for bad in ({}, {"order_id": 1}, {"order_id": "GL-1", "other": 1}, {"order_id": "GL-1", "unit": "k"},
                {"order_id": "GL-1", "count": True}, {"order_id": "GL-1", "count": 1.0}, [], "x",
                {"order_id": "XX-1"}, {"order_id": "GL-1234567890"}, {"order_id": "GL-1", "count": 0},
                {"order_id": "GL-1", "count": 21}):
        assert not simple.accepts(bad), bad
    # 1.0 is an integer to jsonschema: left to it, not rejected.
    assert Draft202012Validator(schema).is_valid({"order_id": "GL-1", "count": 1.0})


def test_schemas_with_other_keywords_have_no_fast_test() -> None:
    for schema in ({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}}},
                   {"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}},
                   {"type": "object", "properties": {"a": {"type": "string", "minLength": -1}}},
                   {"type": "object", "properties": {"a": {"type": "number", "maximum": True}}},
                   {"type": "object", "properties": {"a": {"$ref": "#/$defs/x"}}},
                   {"type": "object", "patternProperties": {"^a": {}}},
                   {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"},
                   {"type": "object", "properties": {"a": {"enum": [1, 2]}}},
                   {"properties": {}}, {"type": "object", "additionalProperties": {"type": "string"}},
                   {"type": "object", "description": 3}, {"type": "object", "required": ["a", "a"]},
                   {"type": "object", "properties": {"a": {"type": ["string", "string"]}}}):
        assert simple_schema(schema) is None, schema


def test_bounds_and_patterns_agree_with_jsonschema_at_their_edges() -> None:
    # For the keywords it reads, the fast test is exact (not just safe), boundaries included.
    specs = [{"type": "integer", "minimum": 1, "maximum": 5}, {"type": "number", "exclusiveMinimum": 1},
             {"type": "number", "exclusiveMaximum": 5}, {"type": "string", "minLength": 2, "maxLength": 3},
             {"type": "string", "pattern": "^a[0-9]$"}, {"type": ["string", "integer"], "minimum": 2,
                                                           "maxLength": 1}]
    values: list[Any] = [0, 1, 2, 4, 5, 6, 0.5, 1.5, 4.999, "", "a", "ab", "abc", "abcd", "a1", "a12", "ba1"]
    for spec in specs:
        schema = {"type": "object", "properties": {"v": spec}}
        simple = simple_schema(schema)
        assert simple is not None, spec
        validator = Draft202012Validator(schema)
        for value in values:
            if type(value) is float and "integer" in spec["type"]:
                continue  # a float is left to jsonschema (1.0 is an integer there)
            assert simple.accepts({"v": value}) == validator.is_valid({"v": value}), (spec, value)
