"""Optional dependencies: the packages that only some features need, each installed by an extra of ftprep.

The base install (``pip install ftprep``, and what the pre-commit hooks install) holds what ``check``,
``estimate`` (text, json, markdown), ``overlap``, ``split``, ``fix`` and ``convert`` of JSON/JSONL need. The
rest is imported through :func:`require`, which turns a missing package into a
:class:`~ftprep.errors.MissingExtraError` naming the feature and the extra that installs it; the CLI prints
it as one line and exits 2.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ftprep.errors import MissingExtraError

# Top-level module -> (distribution, extra): what installs a package a feature imports (pyproject.toml's
# [project.optional-dependencies]; tests/unit/test_extras.py holds the two together).
OPTIONAL_MODULES: dict[str, tuple[str, str]] = {
    "plotly": ("plotly", "html"),
    "polars": ("polars", "tabular"),
    "openai": ("openai", "upload"),
    "pydantic": ("pydantic", "upload"),
    "together": ("together", "together"),
    "fireworks": ("fireworks-ai", "fireworks"),
}


def require(module: str, *, extra: str, feature: str) -> ModuleType:
    """Import ``module`` (e.g. ``"polars"``, ``"plotly.graph_objects"``) for ``feature``.

    Raises :class:`MissingExtraError` ("reading Parquet needs polars: pip install 'ftprep[tabular]'") when it
    or a package it imports is missing.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.partition(".")[0]
        package = OPTIONAL_MODULES.get(top, (top, extra))[0]
        raise _error(feature, package, extra, exc, top) from exc


def missing_extra(exc: ImportError, feature: str = "this command") -> MissingExtraError | None:
    """The :class:`MissingExtraError` for an import that failed because an optional package is missing
    (``None`` for any other import error, which is a bug or a broken install)."""
    if isinstance(exc, MissingExtraError):
        return exc
    top = (exc.name or "").partition(".")[0]
    if not isinstance(exc, ModuleNotFoundError) or top not in OPTIONAL_MODULES:
        return None
    package, extra = OPTIONAL_MODULES[top]
    return _error(feature, package, extra, exc, top)


def _error(feature: str, package: str, extra: str, exc: ImportError, top: str) -> MissingExtraError:
    missing = (exc.name or "").partition(".")[0]
    # A package the optional one needs, missing or broken: name it, the reinstall brings it back.
    detail = f" ({exc})" if missing and missing != top else ""
    return MissingExtraError(f"{feature} needs {package}, which is not installed{detail}: "
                             f"pip install 'ftprep[{extra}]'", name=top)
