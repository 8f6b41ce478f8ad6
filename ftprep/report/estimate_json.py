"""JSON view of an estimate: one object, overall figures at the top, per-file figures under ``files``."""

from __future__ import annotations

import orjson

from ftprep.cost import EstimateResult


def render(result: EstimateResult) -> str:
    """The estimate as pretty-printed JSON (the ``--output-format json`` contract)."""
    return orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"
