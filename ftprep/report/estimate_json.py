"""JSON view of an estimate: one object, overall figures at the top, per-file figures under ``files``."""

from __future__ import annotations

from collections.abc import Sequence

from ftprep.cost import EstimateResult
from ftprep.textsafe import dumps_json


def render(result: EstimateResult) -> str:
    """The estimate as pretty-printed JSON (the ``--output-format json`` contract)."""
    return dumps_json(result.to_dict(), indent=True) + "\n"


def render_many(results: Sequence[EstimateResult]) -> str:
    """Several estimates (one per training file, each its own job): ``{"version": 1, "estimates": [...]}``, each
    item the object :func:`render` prints for one file."""
    return dumps_json({"version": 1, "estimates": [result.to_dict() for result in results]}, indent=True) + "\n"
