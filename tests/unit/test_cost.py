"""Epochs, trained tokens and cost."""

from __future__ import annotations

import pytest

from ftprep.cost import cost_usd, epochs_auto, trained_tokens
from ftprep.data.models import resolve_model


@pytest.mark.parametrize(("n", "epochs"), [
    (1, 25), (4, 25), (5, 20), (10, 10), (33, 3), (34, 3), (100, 3), (8333, 3), (8334, 2), (12500, 2),
    (12501, 1), (50000, 1), (0, 3),
])
def test_epochs_auto(n: int, epochs: int) -> None:
    assert epochs_auto(n) == epochs


def test_trained_tokens_is_epochs_times_billing() -> None:
    assert trained_tokens(8242, 20) == 164840


def test_cost_per_million_tokens() -> None:
    assert cost_usd(2_000_000, resolve_model("gpt-4o-mini").price) == pytest.approx(6.0)


def test_no_dollar_figure_for_hourly_billing() -> None:
    assert cost_usd(2_000_000, resolve_model("o4-mini").price) is None


def test_no_dollar_figure_without_price() -> None:
    assert cost_usd(1, None) is None
