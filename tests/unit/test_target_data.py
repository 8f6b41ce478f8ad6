"""The target data files (ftprep/data/targets/*.toml): every figure carries its source and date.

These tests read the TOML with tomllib only, so they pin the data itself; the target loader has its own tests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
import typing
from pathlib import Path
from typing import Any

import pytest

import ftprep.data
from ftprep.data.models import Encoding, ModelInfo
from ftprep.data.targets import PARAM_NAMES

TARGETS_DIR = Path(ftprep.data.__file__).parent / "targets"
TARGETS = ("azure", "together", "fireworks")

PARAMS = {
    "min_examples", "max_examples", "max_file_bytes", "max_total_bytes", "max_files", "bom",
    "max_images_per_example", "image_urls", "sample_weight", "sample_weight_negative", "reasoning_keys", "roles",
    "system_first",
    "alternating", "dpo_single_turn", "dpo_output_roles", "reinforcement_rows", "suffix_max_chars",
    "suffix_no_dots", "max_token_epochs", "context_length_multiple", "training_tiers",
}
INT_PARAMS = {
    "min_examples", "max_examples", "max_file_bytes", "max_total_bytes", "max_files", "max_images_per_example",
    "suffix_max_chars", "max_token_epochs", "context_length_multiple",
}
BOOL_PARAMS = {"sample_weight", "sample_weight_negative", "system_first", "alternating", "dpo_single_turn",
               "suffix_no_dots"}
LIST_PARAMS = {"reasoning_keys", "roles", "dpo_output_roles", "training_tiers"}
CHOICES = {
    "bom": {"error", "accepted", "expected"},
    "image_urls": {"any", "data-only"},
    "reinforcement_rows": {"openai", "ground_truth"},
}
TARGET_KEYS = {"name", "title", "inherits", "default_model", "docs"}
MODEL_KEYS = {f.name for f in dataclasses.fields(ModelInfo)} - {"name"}
FACT_KEYS = {"value", "date", "unit", "source", "as_of", "note"}
ENCODINGS = set(typing.get_args(Encoding))
METHODS = {"supervised", "dpo", "reinforcement"}
FORMATS = {"chat", "completion", "preference"}
PRICE_UNITS = {"usd_per_1m_tokens", "usd_per_hour"}
AZURE_TIERS = {"standard", "global", "datazone", "developer"}


def load(name: str) -> dict[str, Any]:
    """Parse one target file as plain TOML."""
    with (TARGETS_DIR / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


def facts(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every fact table of a target file, with a readable path for failure messages."""
    found = [(f"params.{key}", fact) for key, fact in data["params"].items()]
    for model, entry in data["models"].items():
        found += [(f"models.{model}.{key}", entry[key]) for key in ("limit", "job_creation_cutoff", "shutdown")
                  if key in entry]
        found += [(f"models.{model}.prices.{tier}", fact) for tier, fact in entry.get("prices", {}).items()]
    return found


@pytest.mark.parametrize("name", TARGETS)
def test_target_table_names_the_file(name: str) -> None:
    target = load(name)["target"]
    assert set(target) <= TARGET_KEYS
    assert target["name"] == name
    assert target["title"]
    assert target["docs"].startswith("https://")


@pytest.mark.parametrize("name", TARGETS)
def test_every_fact_has_value_source_and_date(name: str) -> None:
    for path, fact in facts(load(name)):
        assert isinstance(fact, dict), path
        assert set(fact) <= FACT_KEYS, path
        assert ("value" in fact) != ("date" in fact), f"{path}: exactly one of value or date"
        assert isinstance(fact["source"], str) and fact["source"].startswith("https://"), path
        assert type(fact["as_of"]) is dt.date, f"{path}: as_of must be a TOML date"
        if "date" in fact:
            assert type(fact["date"]) is dt.date, path
        if "note" in fact:
            assert isinstance(fact["note"], str) and fact["note"], path


def test_schema_lists_every_param_the_loader_reads() -> None:
    assert set(PARAM_NAMES) == PARAMS


@pytest.mark.parametrize("name", TARGETS)
def test_params_are_known_and_typed(name: str) -> None:
    params = load(name)["params"]
    assert set(params) <= PARAMS, sorted(set(params) - PARAMS)
    for key, fact in params.items():
        value = fact["value"]
        if key in INT_PARAMS:
            assert type(value) is int and value > 0, key
        elif key in BOOL_PARAMS:
            assert type(value) is bool, key
        elif key in LIST_PARAMS:
            assert isinstance(value, list) and value and all(isinstance(item, str) for item in value), key
        else:
            assert value in CHOICES[key], key


@pytest.mark.parametrize("name", TARGETS)
def test_every_model_says_how_to_count_and_what_it_trains(name: str) -> None:
    models = load(name)["models"]
    assert models
    for model, entry in models.items():
        assert set(entry) <= MODEL_KEYS, f"{model}: {sorted(set(entry) - MODEL_KEYS)}"
        assert entry["encoding"] in ENCODINGS, model
        assert entry["methods"] and set(entry["methods"]) <= METHODS, model
        assert entry["formats"] and set(entry["formats"]) <= FORMATS, model
        assert isinstance(entry.get("vision", False), bool), model
        if "limit" in entry:
            assert type(entry["limit"]["value"]) is int and entry["limit"]["value"] > 0, model


@pytest.mark.parametrize("name", TARGETS)
def test_prices_have_a_unit(name: str) -> None:
    for model, entry in load(name)["models"].items():
        for tier, fact in entry.get("prices", {}).items():
            assert fact["unit"] in PRICE_UNITS, f"{model}.{tier}"
            assert isinstance(fact["value"], float) and fact["value"] > 0, f"{model}.{tier}"


@pytest.mark.parametrize("name", TARGETS)
def test_default_model_is_one_of_the_files_models(name: str) -> None:
    data = load(name)
    assert data["target"]["default_model"] in data["models"]


@pytest.mark.parametrize("name", TARGETS)
def test_aliases_do_not_collide(name: str) -> None:
    models = load(name)["models"]
    names = list(models) + [alias for entry in models.values() for alias in entry.get("aliases", [])]
    assert len(names) == len(set(names))


def test_azure_inherits_openai_and_prices_by_its_tiers() -> None:
    data = load("azure")
    assert data["target"]["inherits"] == "openai"
    tiers = {tier for entry in data["models"].values() for tier in entry.get("prices", {})}
    assert tiers <= AZURE_TIERS


def test_azure_facts_that_invert_openai_rules() -> None:
    params = load("azure")["params"]
    assert params["bom"]["value"] == "expected"
    assert params["max_images_per_example"]["value"] == 64
    assert params["dpo_output_roles"]["value"] == ["assistant", "tool"]


def test_azure_reinforcement_is_billed_per_hour() -> None:
    prices = load("azure")["models"]["o4-mini-2025-04-16"]["prices"]
    assert {fact["unit"] for fact in prices.values()} == {"usd_per_hour"}


def test_only_azure_inherits() -> None:
    assert "inherits" not in load("together")["target"]
    assert "inherits" not in load("fireworks")["target"]
