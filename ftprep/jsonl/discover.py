"""Directory arguments: the JSONL files under a folder, less those the configuration excludes."""

from __future__ import annotations

import contextlib
import fnmatch
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from ftprep.errors import InputError

# What a directory argument picks up.
SUFFIXES = (".jsonl", ".jsonl.gz")
# Folders never walked: version control, environments and caches hold copies, not datasets.
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox"})


def expand_paths(paths: Iterable[str | os.PathLike[str]], exclude: Sequence[str] = (),
                 root: Path | None = None) -> list[str]:
    """``paths`` with every directory replaced by the ``*.jsonl`` and ``*.jsonl.gz`` files under it (sorted,
    recursively, hidden folders skipped); a file (or ``-``) named explicitly is kept as given.

    ``exclude`` holds glob patterns (``[tool.ftprep] exclude``), matched against a found file's path relative
    to ``root`` (the configuration's folder), its path as walked and its name. Raises :class:`InputError` for a
    directory with no such file.
    """
    expanded: list[str] = []
    for given in paths:
        path = os.fspath(given)
        if path == "-" or not os.path.isdir(path):
            expanded.append(path)
            continue
        found = [f for f in _walk(path) if not _excluded(f, exclude, root)]
        if not found:
            raise InputError(f"{path}: no *.jsonl or *.jsonl.gz file in this folder"
                             + (" that `exclude` leaves" if exclude else "") + "; name the files instead")
        expanded.extend(found)
    return expanded


def _walk(folder: str) -> list[str]:
    found: list[str] = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        found.extend(os.path.join(current, name) for name in sorted(files) if name.endswith(SUFFIXES))
    return found


def _excluded(path: str, patterns: Sequence[str], root: Path | None) -> bool:
    if not patterns:
        return False
    candidates = {path, os.path.normpath(path), os.path.basename(path)}
    if root is not None:
        # Outside the configuration's folder (ValueError): match the path as walked.
        with contextlib.suppress(ValueError, OSError):
            candidates.add(Path(path).resolve().relative_to(root.resolve()).as_posix())
    return any(fnmatch.fnmatch(candidate, pattern) for candidate in candidates for pattern in patterns)
