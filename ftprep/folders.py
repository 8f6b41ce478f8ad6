"""Where ftprep keeps files of its own: an explicit variable, else the XDG base folder, else one in the home."""

from __future__ import annotations

import os
from pathlib import Path


def user_folder(explicit: str, xdg: str, *home: str) -> Path:
    """``$explicit`` when set and not empty, else ``$xdg/ftprep``, else ``~/<home...>/ftprep``.

    Raises RuntimeError when the home folder is needed and unknown.
    """
    value = os.environ.get(explicit)
    if value:
        return Path(value).expanduser()
    base = os.environ.get(xdg)
    return (Path(base).expanduser() if base else Path.home().joinpath(*home)) / "ftprep"
