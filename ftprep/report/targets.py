"""What ``ftprep targets`` shows: a target's rule parameters and models, each figure with its source and date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ftprep.check import resolve_target
from ftprep.config import Config
from ftprep.data.models import ModelInfo
from ftprep.data.targets import PARAM_NAMES, SHAPE_DEFAULTS, Target, packaged_names
from ftprep.tokens.counter import counting_for

UNKNOWN = "unknown"


def _fact(fact: Any) -> dict[str, Any] | None:
    if fact is None:
        return None
    value = fact.value if hasattr(fact, "value") else fact.date
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, dt.date):
        value = value.isoformat()
    return {"value": value, "source": fact.source, "as_of": fact.as_of.isoformat() if fact.as_of else None,
            "note": fact.note}


def _counting(encoding: str) -> str:
    counting, why = counting_for(encoding)
    return {"exact": "exact", "tokenizer": "the model's own tokenizer (OpenAI's message framing)"}.get(
        counting, f"estimated ({why})")


def _model(info: ModelInfo) -> dict[str, Any]:
    return {
        "name": info.name, "aliases": list(info.aliases), "tokenizer": info.encoding,
        "tokens": _counting(info.encoding),
        "methods": list(info.methods), "formats": list(info.formats), "vision": info.vision,
        "limit": _fact(info.limit) if info.limit.value is not None else None,
        "job_creation_cutoff": _fact(info.job_creation_cutoff) if info.job_creation_cutoff.date else None,
        "shutdown": _fact(info.shutdown) if info.shutdown.date else None,
        "prices": {tier: {**(_fact(price) or {}), "unit": price.unit} for tier, price in
                   (info.prices or ({"default": info.price} if info.price else {})).items()},
        "note": info.note,
    }


def describe_target(name: str, config: Config) -> dict[str, Any]:
    """A target as plain data: header, every parameter (None when unknown, with what ftprep applies then),
    severities, models."""
    target: Target = resolve_target(name, config)
    return {
        "name": target.name, "title": target.title, "docs": target.docs, "inherits": target.inherits,
        "default_model": target.default_model, "user_defined": target.user_defined,
        "params": {param: _fact(target.fact(param)) for param in PARAM_NAMES},
        "applied_when_unknown": {param: _plain(getattr(target.params, param)) for param in PARAM_NAMES
                                 if target.fact(param) is None and param in SHAPE_DEFAULTS},
        "severity": dict(target.severity),
        "models": [_model(info) for info in target.models.models.values()],
    }


def _plain(value: Any) -> Any:
    return sorted(value) if isinstance(value, frozenset | tuple) else value


def _value(fact: dict[str, Any] | None, applied: Any = None) -> str:
    if fact is None:
        if applied is not None:
            shown = ", ".join(map(str, applied)) if isinstance(applied, list) else str(applied)
            return f"{UNKNOWN} (ftprep applies OpenAI's: {shown or 'none'})"
        return UNKNOWN
    value = fact["value"]
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _cite(fact: dict[str, Any] | None) -> str:
    if fact is None:
        return ""
    return f"  [{fact['source']}, {fact['as_of'] or 'undated'}]" + (f" {fact['note']}" if fact["note"] else "")


def render_target(data: dict[str, Any]) -> str:
    """The text view of :func:`describe_target`'s data."""
    inherits = f", inherits {data['inherits']}" if data["inherits"] else ""
    lines = [f"{data['name']}: {data['title']}{inherits}", f"  docs: {data['docs'] or UNKNOWN}",
             f"  default model: {data['default_model']}", "  rule parameters:"]
    for param, fact in data["params"].items():
        lines.append(f"    {param}: {_value(fact, data['applied_when_unknown'].get(param))}{_cite(fact)}")
    if data["severity"]:
        lines.append("  severities: " + ", ".join(f"{k}={v}" for k, v in data["severity"].items()))
    lines.append("  models:")
    for model in data["models"]:
        aliases = f" ({', '.join(model['aliases'])})" if model["aliases"] else ""
        limit = _value(model["limit"])
        lines.append(f"    {model['name']}{aliases}: {', '.join(model['methods'])}; tokenizer {model['tokenizer']} "
                     f"({model['tokens'].split(' (')[0]}); limit {limit}; vision {'yes' if model['vision'] else 'no'}")
        for key, label in (("limit", "limit"), ("job_creation_cutoff", "new jobs until"), ("shutdown", "shutdown")):
            fact = model[key]
            if fact is not None and key != "limit":
                lines.append(f"      {label}: {fact['value']}{_cite(fact)}")
        if model["limit"] is not None:
            lines.append(f"      limit source:{_cite(model['limit'])}")
        if model["prices"]:
            for tier, price in model["prices"].items():
                unit = "/1M training tokens" if price["unit"] == "usd_per_1m_tokens" else "/hour"
                lines.append(f"      price ({tier}): ${price['value']:g}{unit}{_cite(price)}")
        else:
            lines.append(f"      price: {UNKNOWN}")
    return "\n".join(lines) + "\n\n"


TABLE_START = "<!-- generated: ftprep.report.targets.params_table; run `python -m ftprep.report.targets` -->"
TABLE_END = "<!-- end of generated table -->"


def _cell(param: str, fact: dict[str, Any] | None, applied: Any) -> str:
    if fact is None:
        return "unknown" if applied is None else f"unknown (applies {_value(None, applied).split(': ', 1)[1][:-1]})"
    value = _value(fact)
    if isinstance(fact["value"], int) and not isinstance(fact["value"], bool) and not param.endswith("_bytes"):
        value = f"{fact['value']:,}"
    elif param.endswith("_bytes"):
        value = f"{fact['value'] / (1 << 30):,.2f} GiB" if fact["value"] >= 1 << 30 else \
            f"{fact['value'] / (1 << 20):,.0f} MiB"
    return f"{value} ([source]({fact['source']}), {fact['as_of']})" if fact["source"].startswith("http") \
        else f"{value} ({fact['source']})"


def params_table(config: Config | None = None) -> str:
    """docs/targets.md's table: one row per rule parameter, one column per packaged target, each cell with its
    source and as-of date."""
    described = [describe_target(name, config or Config()) for name in packaged_names()]
    lines = [TABLE_START, "", "| parameter | " + " | ".join(d["name"] for d in described) + " |",
             "|---|" + "---|" * len(described)]
    for param in PARAM_NAMES:
        cells = [_cell(param, d["params"][param], d["applied_when_unknown"].get(param)).replace("|", "/")
                 for d in described]
        lines.append(f"| `{param}` | " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", TABLE_END])


if __name__ == "__main__":  # pragma: no cover - regenerates the table in docs/targets.md
    import pathlib
    import sys

    doc = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "docs/targets.md")
    text = doc.read_text(encoding="utf-8")
    head, _, rest = text.partition(TABLE_START)
    _, _, tail = rest.partition(TABLE_END)
    doc.write_text(head + params_table() + tail, encoding="utf-8")
