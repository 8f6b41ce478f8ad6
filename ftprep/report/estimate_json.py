"""JSON view of an estimate: one object, overall figures at the top, per-file figures under ``files``."""

from __future__ import annotations

from ftprep.cost import EstimateResult
from ftprep.textsafe import dumps_json


def render(result: EstimateResult) -> str:
    """The estimate as pretty-printed JSON (the ``--output-format json`` contract)."""
    return dumps_json(result.to_dict(), indent=True) + "\n"
