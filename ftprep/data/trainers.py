"""Local trainers (TRL, Unsloth, Axolotl, LLaMA-Factory): their default length limit and what they do with long
rows, OpenAI's ``weight`` and roles that do not alternate, each figure with its source (``trainers.toml``)."""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from ftprep.data.targets import IntFact
from ftprep.data.typed import Invalid, build
from ftprep.errors import ConfigError

DEFAULT_TRAINER = "trl"


@dataclass(frozen=True, slots=True)
class Trainer:
    """One trainer's defaults."""

    name: str
    title: str
    max_length: IntFact
    over_length: Literal["truncates", "drops"]
    weight: str
    weight_note: str
    alternation: str

    @property
    def honours_weight(self) -> bool:
        """Whether the trainer can honour OpenAI's per-message weight (Axolotl, when configured)."""
        return self.weight.startswith("honoured")

    @property
    def requires_alternation(self) -> bool:
        """Whether rows whose user/assistant turns do not alternate are dropped (LLaMA-Factory)."""
        return self.alternation.startswith("required")


@cache
def trainers() -> dict[str, Trainer]:
    """The packaged trainers by name."""
    with Path(__file__).with_name("trainers.toml").open("rb") as handle:
        table = tomllib.load(handle)["trainers"]
    try:
        return {name: build(Trainer, {"name": name, **entry}) for name, entry in table.items()}
    except Invalid as exc:  # pragma: no cover - the packaged file is tested
        raise ConfigError(f"trainers.toml: {exc}") from exc


def get_trainer(name: str) -> Trainer:
    """A trainer by name; :class:`ConfigError` with a suggestion for an unknown one."""
    known = trainers()
    if name in known:
        return known[name]
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"unknown trainer {name!r}{hint} Use one of: {', '.join(known)}")
