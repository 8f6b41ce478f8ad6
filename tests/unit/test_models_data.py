"""The packaged model table and user overrides."""

from __future__ import annotations

import datetime as dt

import pytest

from ftprep.data.models import load_models, price_overrides, resolve_model
from ftprep.errors import ConfigError

SNAPSHOTS = [
    "gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "gpt-4.1-2025-04-14", "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano-2025-04-14", "gpt-3.5-turbo-0125", "gpt-3.5-turbo-1106", "gpt-3.5-turbo-0613",
    "babbage-002", "davinci-002", "o4-mini-2025-04-16",
]


def test_every_snapshot_of_issue_3_is_known() -> None:
    assert sorted(load_models().models) == sorted(SNAPSHOTS)


@pytest.mark.parametrize(("alias", "snapshot"), [
    ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"), ("gpt-4o", "gpt-4o-2024-08-06"),
    ("gpt-4.1", "gpt-4.1-2025-04-14"), ("gpt-3.5-turbo", "gpt-3.5-turbo-0125"),
    ("o4-mini", "o4-mini-2025-04-16"),
])
def test_alias_resolves_to_snapshot(alias: str, snapshot: str) -> None:
    assert resolve_model(alias).name == snapshot


def test_fine_tuned_name_resolves_to_base() -> None:
    assert resolve_model("ft:gpt-4o-mini-2024-07-18:acme::abc123").name == "gpt-4o-mini-2024-07-18"


@pytest.mark.parametrize(("name", "limit"), [
    ("gpt-4o", 65536), ("gpt-4o-mini", 65536), ("gpt-4.1", 65536), ("gpt-4.1-mini", 65536),
    ("gpt-4.1-nano", 32768), ("gpt-3.5-turbo", 16385),
])
def test_limits_from_issue_3(name: str, limit: int) -> None:
    assert resolve_model(name).max_tokens == limit


@pytest.mark.parametrize(("name", "price"), [
    ("gpt-4.1", 25.0), ("gpt-4.1-mini", 5.0), ("gpt-4.1-nano", 1.5), ("gpt-4o", 25.0), ("gpt-4o-mini", 3.0),
    ("gpt-3.5-turbo", 8.0), ("davinci-002", 6.0), ("babbage-002", 0.4),
])
def test_token_prices_from_issue_3(name: str, price: float) -> None:
    info = resolve_model(name).price
    assert info is not None and (info.value, info.unit) == (price, "usd_per_1m_tokens")


def test_rft_on_o4_mini_is_billed_per_hour() -> None:
    price = resolve_model("o4-mini").price
    assert price is not None and price.unit == "usd_per_hour"
    assert resolve_model("o4-mini").methods == ("reinforcement",)


def test_dpo_on_4o_and_41_family_only() -> None:
    with_dpo = sorted(n for n, m in load_models().models.items() if "dpo" in m.methods)
    assert with_dpo == sorted(SNAPSHOTS[:5])


def test_vision_on_4o_snapshot_and_41_family() -> None:
    vision = sorted(n for n, m in load_models().models.items() if m.vision)
    assert vision == sorted(["gpt-4o-2024-08-06", "gpt-4.1-2025-04-14", "gpt-4.1-mini-2025-04-14",
                             "gpt-4.1-nano-2025-04-14"])


def test_every_figure_has_a_source_and_date() -> None:
    for model in load_models().models.values():
        for fact in (model.limit, model.price, model.job_creation_cutoff, model.shutdown):
            assert fact is not None
            assert fact.source.startswith("https://") and fact.as_of == dt.date(2026, 11, 24)


def test_unknown_dates_are_left_empty_with_a_note() -> None:
    shutdown = resolve_model("babbage-002").shutdown
    assert shutdown.date is None and "not found" in shutdown.note


def test_unknown_model_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown model 'gpt-9'.*gpt-4o-mini-2024-07-18.*--encoding"):
        resolve_model("gpt-9")


def test_override_price_of_alias_replaces_source() -> None:
    table = load_models({"gpt-4o-mini": {"price": {"value": 2.5}}})
    price = table.resolve("gpt-4o-mini").price
    assert price is not None and (price.value, price.source, price.as_of) == (2.5, "user configuration", None)
    assert table.resolve("gpt-4o-mini").max_tokens == 65536


def test_add_a_model() -> None:
    table = load_models({"my-model": {"encoding": "cl100k_base", "limit": {"value": 8000},
                                      "price": {"value": 1.0}}})
    assert table.resolve("my-model").max_tokens == 8000


def test_added_model_without_encoding_is_config_error() -> None:
    with pytest.raises(ConfigError, match=r"model 'my-model': encoding: Field required"):
        load_models({"my-model": {"price": {"value": 1.0}}})


def test_unknown_field_is_config_error() -> None:
    with pytest.raises(ConfigError, match="pirce"):
        load_models({"gpt-4o": {"pirce": 3}})


def test_price_overrides_from_command_line() -> None:
    table = load_models(price_overrides({"gpt-4o": 30}, today=dt.date(2026, 1, 2)))
    price = table.resolve("gpt-4o").price
    assert price is not None
    assert (price.value, price.source, price.as_of) == (30.0, "--price", dt.date(2026, 1, 2))
