"""Configuration: ``[tool.ftprep]`` in ``pyproject.toml`` or the top level of ``ftprep.toml``.

The closest file wins, searching from the working directory upwards (``ftprep.toml`` before
``pyproject.toml`` in the same folder; a ``pyproject.toml`` without ``[tool.ftprep]`` is passed over).
Unknown keys are errors. Paths in the file are relative to the file's folder.
"""

from __future__ import annotations

import contextlib
import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftprep.data.typed import Invalid, build
from ftprep.errors import ConfigError

CONFIG_FILES = ("ftprep.toml", "pyproject.toml")


def _kebab(name: str) -> str:
    return name.replace("_", "-")


@dataclass(frozen=True, slots=True)
class Pair:
    """A training file and the validation file that goes with it (checked by ``ftprep overlap --from-config``)."""

    train: str
    validation: str


@dataclass(frozen=True, slots=True)
class Config:
    """The ``[tool.ftprep]`` settings (keys in kebab case: ``per-file-ignores``)."""

    model: str | None = None
    method: str | None = None
    target: str | None = None
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    # Globs of files a directory argument leaves out (relative to the configuration's folder, or a file name).
    exclude: list[str] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    prices: dict[str, float] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    # [tool.ftprep.targets.<name>]: new targets, or overrides of the packaged ones (see ftprep.data.targets).
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Where the settings came from (None: defaults); not a key of the file.
    source: Path | None = field(default=None, init=False)

    @property
    def root(self) -> Path:
        """The folder paths in the file are relative to."""
        return self.source.parent if self.source else Path.cwd()

    def ignored_for(self, path: str) -> list[str]:
        """Selectors ignored for ``path`` by ``per-file-ignores`` (globs relative to the config's folder)."""
        candidates = {path}
        # A file outside the config's folder (ValueError), or a path that cannot be resolved (a symlink
        # loop: RuntimeError before Python 3.13, OSError after): match its path as given.
        with contextlib.suppress(ValueError, RuntimeError, OSError):
            candidates.add(str(Path(path).resolve().relative_to(self.root.resolve())))
        return [sel for pattern, sels in self.per_file_ignores.items()
                if any(fnmatch.fnmatch(c, pattern) for c in candidates) for sel in sels]

    def resolved_pairs(self) -> list[tuple[str, str]]:
        """``pairs`` as paths usable from the working directory."""
        return [(str(self.root / p.train), str(self.root / p.validation)) for p in self.pairs]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc}); fix the syntax") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc


def _section(path: Path) -> dict[str, Any] | None:
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        # Another tool's pyproject.toml may hold anything under `tool`: only a table can hold our section.
        tool = data.get("tool")
        section = tool.get("ftprep") if isinstance(tool, dict) else None
        return section if isinstance(section, dict) else None
    return data


def find_config_file(start: Path) -> Path | None:
    """The closest ``ftprep.toml`` or ``pyproject.toml`` with ``[tool.ftprep]`` at or above ``start``."""
    folder = start.resolve()
    for candidate_dir in (folder, *folder.parents):
        for name in CONFIG_FILES:
            path = candidate_dir / name
            if path.is_file() and _section(path) is not None:
                return path
    return None


def parse_config(data: dict[str, Any], source: Path | None) -> Config:
    """Validate a settings table; every problem is listed in one :class:`ConfigError`."""
    try:
        config = build(Config, data, key=_kebab)
    except Invalid as exc:
        where = f"{source} [tool.ftprep]" if source and source.name == "pyproject.toml" else str(source or "config")
        raise ConfigError(f"{where}: {exc}") from exc
    object.__setattr__(config, "source", source)
    return config


def load_config(start: Path | None = None, *, explicit: Path | None = None, isolated: bool = False) -> Config:
    """Load the settings that apply at ``start`` (default: the working directory).

    ``explicit`` names a file to use instead of searching; ``isolated`` ignores every file.
    """
    if isolated:
        return Config()
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"{explicit}: no such configuration file")
        section = _section(explicit)
        if section is None:
            raise ConfigError(f"{explicit}: has no [tool.ftprep] section")
        return parse_config(section, explicit)
    path = find_config_file(start or Path.cwd())
    if path is None:
        return Config()
    section = _section(path)
    return parse_config(section or {}, path)
