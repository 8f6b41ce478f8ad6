"""Exceptions raised by the ftprep library.

Every message names what went wrong, where (file, line when known) and how to fix it. The CLI maps
:class:`FtprepError` subclasses to exit code 2; library code never exits the process.
"""

from __future__ import annotations


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


class UploadError(FtprepError):
    """The fine-tuning API refused a request, or a job could not be created or followed."""
