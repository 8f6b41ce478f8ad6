"""Targets: the places a file goes (OpenAI, Azure OpenAI, Together, Fireworks), each with its rules and models.

A target is data, not code: ``targets/<name>.toml`` (packaged) holds its rule parameters (``[params]``, every
figure with its source URL and the date it was read), rule severities it changes (``[severity]``) and its model
table (``[models.<id>]``, the shape of ``models.toml``, with prices per training tier). A target may inherit
another (``azure`` inherits ``openai``) and state only what differs, as sqlfluff's dialects do. A parameter no
source gives is left out: it is *unknown*, and the rule that needs it does not fire for that target.

Rules read the plain values of :class:`RuleParams` (``ctx.target``) on the hot path; :class:`Target` keeps the
facts with their sources for ``ftprep targets`` and the documentation. Users add or override targets in
``[tool.ftprep.targets.<name>]`` (same shape).
"""

from __future__ import annotations

import datetime as dt
import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any, Literal

from ftprep.data.models import USER_SOURCE, ModelTable, load_models, table_from_entries
from ftprep.data.typed import Invalid, build
from ftprep.errors import ConfigError

TARGETS_DIR = Path(__file__).with_name("targets")
DEFAULT_TARGET = "openai"
ALL_TARGETS = "all"
# OpenAI's roles: `developer` only in reinforcement rows (the system role of reasoning models).
OPENAI_ROLES = ("system", "user", "assistant", "tool", "function", "developer")


@dataclass(frozen=True, slots=True)
class IntFact:
    """A number (count or bytes) with its source."""

    value: int = field(metadata={"ge": 0})
    source: str = USER_SOURCE
    as_of: dt.date | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class BoolFact:
    """A yes/no rule parameter with its source."""

    value: bool
    source: str = USER_SOURCE
    as_of: dt.date | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class NamesFact:
    """A list of names (roles, message keys, training tiers) with its source."""

    value: tuple[str, ...]
    source: str = USER_SOURCE
    as_of: dt.date | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class BomFact:
    """What a service does with a UTF-8 byte-order mark: rejects it, accepts it, or asks for it."""

    value: Literal["error", "accepted", "expected"]
    source: str = USER_SOURCE
    as_of: dt.date | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class ImageUrlsFact:
    """Which image URLs a service takes: any (https and data URLs) or base64 data URLs only."""

    value: Literal["any", "data-only"]
    source: str = USER_SOURCE
    as_of: dt.date | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class RowsFact:
    """The reinforcement row shape: OpenAI's (messages + the grader's keys) or Fireworks' (+ ``ground_truth``)."""

    value: Literal["openai", "ground_truth"]
    source: str = USER_SOURCE
    as_of: dt.date | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class ParamsTable:
    """``[params]`` of a target file: each parameter is a fact, or absent (unknown)."""

    min_examples: IntFact | None = None
    max_examples: IntFact | None = None
    max_file_bytes: IntFact | None = None
    max_total_bytes: IntFact | None = None
    max_files: IntFact | None = None
    bom: BomFact | None = None
    max_images_per_example: IntFact | None = None
    image_urls: ImageUrlsFact | None = None
    sample_weight: BoolFact | None = None
    sample_weight_negative: BoolFact | None = None
    reasoning_keys: NamesFact | None = None
    roles: NamesFact | None = None
    system_first: BoolFact | None = None
    alternating: BoolFact | None = None
    dpo_single_turn: BoolFact | None = None
    dpo_output_roles: NamesFact | None = None
    reinforcement_rows: RowsFact | None = None
    suffix_max_chars: IntFact | None = None
    suffix_no_dots: BoolFact | None = None
    max_token_epochs: IntFact | None = None
    context_length_multiple: IntFact | None = None
    training_tiers: NamesFact | None = None


PARAM_NAMES = tuple(f.name for f in fields(ParamsTable))


@dataclass(frozen=True, slots=True)
class RuleParams:
    """The values rules read (``ctx.target``); ``None`` is unknown (the rule that needs it stays silent).

    The defaults are OpenAI's, so a rule called without a target behaves as it always did.
    """

    name: str = DEFAULT_TARGET
    min_examples: int | None = 10
    max_examples: int | None = None
    max_file_bytes: int | None = None
    max_total_bytes: int | None = None
    max_files: int | None = None
    bom: str = "error"
    max_images_per_example: int | None = 10
    image_urls: str = "any"
    sample_weight: bool = False
    sample_weight_negative: bool = False
    reasoning_keys: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset(OPENAI_ROLES)
    system_first: bool = False
    alternating: bool = False
    dpo_single_turn: bool = False
    dpo_output_roles: frozenset[str] = frozenset({"assistant"})
    reinforcement_rows: str = "openai"
    suffix_max_chars: int | None = None
    suffix_no_dots: bool = False
    max_token_epochs: int | None = None
    context_length_multiple: int | None = None
    training_tiers: tuple[str, ...] = ()


OPENAI_PARAMS = RuleParams()
# What the shape rules apply for a parameter a target leaves unknown: OpenAI's behaviour (they always need a value);
# `ftprep targets` says so. Numeric limits left unknown are not checked at all.
SHAPE_PARAMS = ("bom", "image_urls", "sample_weight", "sample_weight_negative", "reasoning_keys", "roles",
                "system_first", "alternating", "dpo_single_turn", "dpo_output_roles", "reinforcement_rows",
                "suffix_no_dots", "training_tiers")
SHAPE_DEFAULTS = {param: getattr(OPENAI_PARAMS, param) for param in SHAPE_PARAMS}


@dataclass(frozen=True, slots=True)
class TargetHeader:
    """``[target]`` of a target file."""

    name: str
    title: str
    default_model: str
    docs: str = ""
    inherits: str | None = None
    models_file: str | None = None
    # Whether `--target all` includes it (the hosted services do; the local `hf` target is named on its own).
    in_all: bool = True


Severity = Literal["error", "warning", "info", "off"]


@dataclass(frozen=True)
class Target:
    """One place a file goes: its rule parameters (with their sources), severities and models."""

    name: str
    title: str
    default_model: str
    docs: str
    params: RuleParams
    facts: ParamsTable
    severity: Mapping[str, Severity]
    models: ModelTable
    inherits: str | None = None
    user_defined: bool = False
    in_all: bool = True

    def fact(self, name: str) -> Any:
        """The fact behind parameter ``name`` (value, source, as_of, note), or None when unknown."""
        return getattr(self.facts, name)


def packaged_names() -> list[str]:
    """The packaged targets' names, sorted with the default first."""
    names = sorted(p.stem for p in TARGETS_DIR.glob("*.toml"))
    return sorted(names, key=lambda n: n != DEFAULT_TARGET)


@cache
def _packaged(name: str) -> dict[str, Any]:
    path = TARGETS_DIR / f"{name}.toml"
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _merge_tables(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Section-wise merge of two target tables: ``params``, ``severity`` and ``models`` merge by key (a model
    entry or a parameter replaces the inherited one whole), ``target`` merges field by field."""
    merged: dict[str, Any] = {key: dict(value) if isinstance(value, Mapping) else value for key, value in base.items()}
    for key, value in extra.items():
        if key in ("params", "severity", "models", "target") and isinstance(value, Mapping):
            section = dict(merged.get(key) or {})
            section.update(value)
            merged[key] = section
        else:
            merged[key] = value
    return merged


def _raw(name: str, user: Mapping[str, Mapping[str, Any]], seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """The target's table with its ancestors' applied (packaged first, then the user's)."""
    if name in seen:
        raise ConfigError(f"target {name!r} inherits itself: {' -> '.join((*seen, name))}")
    own: dict[str, Any] = {}
    if (TARGETS_DIR / f"{name}.toml").is_file():
        own = _merge_tables(own, _packaged(name))
    if name in user:
        if not isinstance(user[name], Mapping):
            raise ConfigError(f"[tool.ftprep.targets.{name}] must be a table")
        own = _merge_tables(own, user[name])
    if not own:
        raise ConfigError(unknown_target_message(name, [*packaged_names(), *user]))
    header = own.get("target") or {}
    parent = header.get("inherits") if isinstance(header, Mapping) else None
    if not parent:
        return own
    base = _raw(str(parent), user, (*seen, name))
    base_header = dict(base.get("target") or {})
    if "models" in own:
        # A target that lists models has exactly those (Azure's gpt-4o is not OpenAI's gpt-4o), not its parent's.
        base_header.pop("models_file", None)
        base = {**base, "models": {}}
    merged = _merge_tables({**base, "target": base_header}, own)
    merged["target"] = {**base_header, **header}
    return merged


def unknown_target_message(name: str, known: list[str]) -> str:
    """The error for an unknown target name, with a suggestion."""
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (f"unknown target {name!r}{hint} Known targets: {', '.join(sorted(set(known)))}, or {ALL_TARGETS!r}; "
            "add one under [tool.ftprep.targets.<name>]")


def _params(table: ParamsTable, name: str) -> RuleParams:
    values: dict[str, Any] = {"name": name}
    for param in PARAM_NAMES:
        fact = getattr(table, param)
        if fact is None:
            values[param] = SHAPE_DEFAULTS.get(param)
            continue
        value = fact.value
        if isinstance(value, tuple) and param != "training_tiers":
            value = frozenset(value)
        values[param] = value
    return RuleParams(**values)


def load_target(name: str, user: Mapping[str, Mapping[str, Any]] | None = None,
                models: Mapping[str, Mapping[str, Any]] | None = None) -> Target:
    """The target ``name`` with its ancestors and the user's entries applied.

    ``user`` is ``[tool.ftprep.targets]``; ``models`` the user's ``[tool.ftprep.models]`` (added to every
    target's table). Raises :class:`ConfigError` naming the target and key when a table is invalid.
    """
    user = user or {}
    raw = _raw(name, user)
    where = f"target {name!r}"
    try:
        header = build(TargetHeader, {"name": name, **(raw.get("target") or {})})
    except Invalid as exc:
        raise ConfigError(f"{where}: target.{exc}; fix [tool.ftprep.targets.{name}.target]") from exc
    try:
        params = build(ParamsTable, raw.get("params") or {})
    except Invalid as exc:
        raise ConfigError(f"{where}: params.{exc}; fix [tool.ftprep.targets.{name}.params]") from exc
    severity = dict(raw.get("severity") or {})
    for key, value in severity.items():
        if value not in ("error", "warning", "info", "off"):
            raise ConfigError(f"{where}: severity of {key!r} is {value!r}; use error, warning, info or off")
    if header.models_file:
        table = load_models(models)
    else:
        table = table_from_entries(raw.get("models") or {}, models, where=where)
    if header.default_model not in table.names():
        raise ConfigError(f"{where}: default_model {header.default_model!r} is not one of its models")
    return Target(name=name, title=header.title, default_model=header.default_model, docs=header.docs,
                  params=_params(params, name), facts=params, severity=severity, models=table,
                  inherits=header.inherits, user_defined=name in user, in_all=header.in_all)


def target_names(user: Mapping[str, Any] | None = None) -> list[str]:
    """Every target name: the packaged ones, then the user's new ones."""
    packaged = packaged_names()
    return [*packaged, *sorted(n for n in (user or {}) if n not in packaged)]


@cache
def default_target() -> Target:
    """The packaged OpenAI target (cached)."""
    return load_target(DEFAULT_TARGET)
