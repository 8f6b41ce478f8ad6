"""The model table: which models can be fine-tuned, with what tokenizer, limits, methods and prices.

``models.toml`` (packaged) holds one entry per dated snapshot; aliases resolve to snapshots. Each
figure carries its source URL and the date it was read. Users override fields or add models with
entries of the same shape (``[tool.ftprep.models.<name>]`` in the configuration, ``--price``).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from ftprep.data.typed import Invalid, build
from ftprep.errors import ConfigError, did_you_mean

Method = Literal["supervised", "dpo", "reinforcement"]
Format = Literal["chat", "completion", "preference"]
USER_SOURCE = "user configuration"
# Tokenizers ftprep ships (tiktoken encodings), and the open-model families a target's models may name; a model
# of a family without an offline tokenizer gets estimated token counts, labelled as such.
TIKTOKEN_ENCODINGS = ("o200k_base", "cl100k_base")
Encoding = Literal["o200k_base", "cl100k_base", "llama3", "llama4", "qwen2", "qwen3", "qwen3.5", "mistral-tekken",
                   "mistral-tekken-240718", "mistral-spm", "mistral-spm-v1", "mistral-spm-v2", "mistral-spm-v7",
                   "deepseek-v3", "deepseek-v4", "gpt-oss", "gemma", "unknown"]


@dataclass(frozen=True, slots=True)
class Limit:
    """Maximum training tokens per example; ``value`` is None when no source gives it."""

    value: int | None = field(default=None, metadata={"gt": 0})
    source: str = USER_SOURCE
    as_of: dt.date | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Price:
    """Training price: USD per 1M trained tokens, or per hour of training (reinforcement on o4-mini)."""

    value: float = field(metadata={"ge": 0})
    unit: Literal["usd_per_1m_tokens", "usd_per_hour"] = "usd_per_1m_tokens"
    source: str = USER_SOURCE
    as_of: dt.date | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class DateFact:
    """A lifecycle date with its source; ``date`` is None when no source gives it."""

    date: dt.date | None = None
    source: str = USER_SOURCE
    as_of: dt.date | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class ImageFormula:
    """How an image is counted: 512px tiles (base + tile x n) or 32px patches (x multiplier)."""

    kind: Literal["tiles", "patches"]
    base: int = 0
    tile: int = 0
    multiplier: float = 1.0


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Everything ftprep knows about one fine-tunable snapshot."""

    name: str
    encoding: Encoding
    aliases: tuple[str, ...] = ()
    methods: tuple[Method, ...] = ("supervised",)
    formats: tuple[Format, ...] = ("chat",)
    vision: bool = False
    image: ImageFormula | None = None
    limit: Limit = Limit()
    price: Price | None = None
    # Prices per training tier (Azure: global, standard, datazone, developer); ``price`` is the default tier's.
    prices: dict[str, Price] = field(default_factory=dict)
    job_creation_cutoff: DateFact = DateFact()
    shutdown: DateFact = DateFact()
    note: str = ""

    @property
    def max_tokens(self) -> int | None:
        """The per-example training limit, or None when unknown."""
        return self.limit.value

    @property
    def exact_tokens(self) -> bool:
        """Whether this model's tokens follow OpenAI's documented counting (a tiktoken encoding); other families
        are counted by :func:`ftprep.tokens.counter.counting_for`."""
        return self.encoding in TIKTOKEN_ENCODINGS

    def tier_price(self, tier: str | None) -> Price | None:
        """The price of a training tier (None: the default ``price``, else the first tier's)."""
        if tier is None:
            return self.price or next(iter(self.prices.values()), None)
        return self.prices.get(tier.lower())


def _packaged_table() -> dict[str, Any]:
    # Beside this module (package data, see pyproject.toml); importlib.resources would cost every command
    # the import of tempfile and shutil.
    text = Path(__file__).with_name("models.toml").read_text(encoding="utf-8")
    table: dict[str, Any] = tomllib.loads(text)["models"]
    return table


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Field-wise merge: nested tables (price, limit ...) merge their keys; everything else replaces."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
            if key in ("price", "limit", "job_creation_cutoff", "shutdown") and "source" not in value:
                # An overridden figure is no longer the packaged one: do not keep its source and date.
                merged[key].update(source=USER_SOURCE, as_of=None, note="")
        else:
            merged[key] = value
    return merged


class ModelTable:
    """Models by snapshot name, with alias resolution."""

    def __init__(self, models: Mapping[str, ModelInfo]):
        self.models = dict(models)
        self.aliases = {alias: m.name for m in self.models.values() for alias in m.aliases}

    def names(self) -> list[str]:
        """Every known name: snapshots and aliases, sorted."""
        return sorted([*self.models, *self.aliases])

    def resolve(self, name: str) -> ModelInfo:
        """The snapshot for a name or alias; ``ft:<base>:...`` fine-tuned names resolve to their base.

        Raises :class:`ConfigError` listing the known models when ``name`` is unknown.
        """
        key = name.strip()
        if key.startswith("ft:"):
            key = key.split(":")[1]
        key = self.aliases.get(key, key)
        if key in self.models:
            return self.models[key]
        raise ConfigError(
            f"unknown model {name!r}{did_you_mean(name, self.names()) or ';'} known models: {', '.join(self.names())}. "
            "Add it under [tool.ftprep.models] or pass --encoding to count tokens without model data"
        )


def load_models(extra: Mapping[str, Mapping[str, Any]] | None = None) -> ModelTable:
    """The packaged model table with user entries applied.

    ``extra`` maps a model name (snapshot or alias) to a table in the shape of a ``models.toml`` entry;
    fields of known models are overridden, unknown names are added (``encoding`` is then required).
    Raises :class:`ConfigError` naming the model and field when an entry is invalid.
    """
    return table_from_entries(_packaged_table(), extra)


def table_from_entries(entries: Mapping[str, Any], extra: Mapping[str, Mapping[str, Any]] | None = None, *,
                       where: str = "") -> ModelTable:
    """A model table from ``models.toml``-shaped entries (a target's ``[models]``) with user entries applied."""
    raw = {name: entry for name, entry in entries.items()}
    aliases = {a: name for name, entry in raw.items() if isinstance(entry, Mapping)
               for a in entry.get("aliases", [])}
    for name, entry in (extra or {}).items():
        target = aliases.get(name, name)
        raw[target] = _merge(raw.get(target, {}), entry)
    prefix = f"{where}: " if where else ""
    models: dict[str, ModelInfo] = {}
    for name, entry in raw.items():
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{prefix}model {name!r}: an entry must be a table, not {type(entry).__name__}")
        try:
            info = build(ModelInfo, {"name": name, **entry})
        except Invalid as exc:
            raise ConfigError(f"{prefix}model {name!r}: {exc}; fix [tool.ftprep.models.{name!r}]") from exc
        models[name] = info
    return ModelTable(models)


def price_overrides(prices: Mapping[str, float], *,
                    today: dt.date | None = None) -> dict[str, dict[str, Any]]:
    """``--price MODEL=USD`` values as ``load_models`` entries (source: the command line)."""
    as_of = today or dt.date.today()
    return {
        model: {"price": {"value": float(usd), "unit": "usd_per_1m_tokens", "source": "--price",
                          "as_of": as_of, "note": "given on the command line"}}
        for model, usd in prices.items()
    }


@cache
def default_models() -> ModelTable:
    """The packaged table without user entries (cached)."""
    return load_models()


def resolve_model(name: str, table: ModelTable | None = None) -> ModelInfo:
    """Resolve a model name or alias to its snapshot's :class:`ModelInfo`."""
    return (table or default_models()).resolve(name)
