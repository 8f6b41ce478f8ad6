"""Exceptions raised by the ftprep library.

Every message names what went wrong, where (file, line when known) and how to fix it. The CLI maps
:class:`FtprepError` subclasses to exit code 2; library code never exits the process.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class FtprepError(Exception):
    """Base class: a failure of the tool's inputs or environment, not a finding in the data."""


class InputError(FtprepError):
    """An input file cannot be read (missing, unreadable, not a file, wrong compression)."""


class ConfigError(FtprepError):
    """Configuration or options are invalid (unknown key, unknown model, bad rule selector)."""


class OutputError(FtprepError):
    """An output file cannot be written (full disk, quota, I/O error); the output path is left unchanged."""


class WorkerError(FtprepError):
    """A worker process of a parallel pass ended without its result (killed, e.g. out of memory)."""


class MissingExtraError(FtprepError, ImportError):
    """A feature needs a package of an extra that is not installed; the message names the extra to install.

    An ImportError too, so that code probing for an optional package with ``except ImportError`` still works.
    """


class UploadError(FtprepError):
    """The fine-tuning API refused a request, or a job could not be created or followed."""


def did_you_mean(given: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` for the choice closest to a mistyped ``given`` (difflib), else ``""``.

    Both sides are compared folded (upper case, the letter O as a zero), so that ``ft2o4`` finds ``FT204``.
    """
    folded = {_fold(option): option for option in choices}
    close = difflib.get_close_matches(_fold(given), folded, n=1, cutoff=0.6)
    return f"; did you mean {folded[close[0]]!r}?" if close else ""


def _fold(text: str) -> str:
    return text.upper().replace("O", "0")
