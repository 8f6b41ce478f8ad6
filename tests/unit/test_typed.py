"""The typed loader behind the model table and the configuration: every problem, by key path."""

from __future__ import annotations

import datetime as dt

import pytest

from ftprep.config import Config, parse_config
from ftprep.data.models import ModelInfo, Price
from ftprep.data.typed import Invalid, build
from ftprep.errors import ConfigError


def test_valid_model_entry_is_built_with_types_and_defaults() -> None:
    info = build(ModelInfo, {"name": "m", "encoding": "cl100k_base", "aliases": ["a"],
                             "price": {"value": 2, "as_of": "2026-01-02"}})
    assert info.aliases == ("a",) and info.methods == ("supervised",) and info.image is None
    assert info.price == Price(value=2.0, as_of=dt.date(2026, 1, 2))


def test_every_problem_is_listed_with_its_path() -> None:
    with pytest.raises(Invalid) as caught:
        build(ModelInfo, {"name": "m", "encoding": "p50k", "vision": "yes", "limit": {"value": 0, "extra": 1},
                          "price": {"value": -1, "as_of": "soon"}, "methods": ["sft"]})
    problems = dict(caught.value.problems)
    assert set(problems) == {("encoding",), ("vision",), ("limit", "value"), ("limit", "extra"),
                             ("price", "value"), ("price", "as_of"), ("methods", 0)}
    assert problems[("limit", "extra")] == "unknown key"
    assert "greater than 0" in problems[("limit", "value")]
    assert "valid date" in problems[("price", "as_of")]


def test_config_takes_kebab_and_snake_keys_and_rejects_wrong_types() -> None:
    config = parse_config({"per-file-ignores": {"a/*": ["FT502"]}, "pairs": [{"train": "t", "validation": "v"}]},
                          None)
    assert config.per_file_ignores == {"a/*": ["FT502"]} and config.pairs[0].validation == "v"
    assert parse_config({"per_file_ignores": {"b": []}}, None).per_file_ignores == {"b": []}
    expected = r"select\.1: Input should be a valid str.*pairs\.0\.validation: Field required"
    with pytest.raises(ConfigError, match=expected):
        parse_config({"select": ["FT1", 2], "pairs": [{"train": "t"}]}, None)
    assert Config().source is None
