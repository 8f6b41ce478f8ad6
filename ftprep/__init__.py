"""ftprep: validate, measure and prepare JSONL fine-tuning files before they reach a fine-tuning jobs API.

The public API, loaded on first use so that ``import ftprep`` stays cheap (a pre-commit hook imports the
checker only; the ``openai`` SDK alone takes half a second to import)::

    from ftprep import check_files, estimate, find_overlap, split_file, convert_file, fix_file, Uploader
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from ftprep.check import CheckResult, check_files
    from ftprep.data.targets import Target, load_target
    from ftprep.errors import ConfigError, FtprepError, InputError, OutputError, UploadError, WorkerError
    from ftprep.estimation import estimate, estimate_template
    from ftprep.lint.finding import Finding, Severity
    from ftprep.matrix import TargetMatrix, check_targets
    from ftprep.overlap_pass import find_overlap
    from ftprep.transform.convert import ConvertOptions, convert_file
    from ftprep.transform.fix import fix_file
    from ftprep.transform.outputs import convert_file_to
    from ftprep.transform.split import split_file
    from ftprep.upload import JobSpec, Uploader

_EXPORTS = {
    "CheckResult": "ftprep.check",
    "check_files": "ftprep.check",
    "ConfigError": "ftprep.errors",
    "FtprepError": "ftprep.errors",
    "InputError": "ftprep.errors",
    "OutputError": "ftprep.errors",
    "UploadError": "ftprep.errors",
    "WorkerError": "ftprep.errors",
    "estimate": "ftprep.estimation",
    "estimate_template": "ftprep.estimation",
    "Target": "ftprep.data.targets",
    "load_target": "ftprep.data.targets",
    "TargetMatrix": "ftprep.matrix",
    "check_targets": "ftprep.matrix",
    "Finding": "ftprep.lint.finding",
    "Severity": "ftprep.lint.finding",
    "find_overlap": "ftprep.overlap_pass",
    "ConvertOptions": "ftprep.transform.convert",
    "convert_file": "ftprep.transform.convert",
    "fix_file": "ftprep.transform.fix",
    "convert_file_to": "ftprep.transform.outputs",
    "split_file": "ftprep.transform.split",
    "JobSpec": "ftprep.upload",
    "Uploader": "ftprep.upload",
}

__all__ = [  # noqa: RUF022 - grouped like _EXPORTS
    "CheckResult", "check_files", "ConfigError", "FtprepError", "InputError", "OutputError", "UploadError",
    "WorkerError", "estimate", "estimate_template", "Target", "load_target", "TargetMatrix", "check_targets",
    "Finding", "Severity", "find_overlap", "ConvertOptions", "convert_file", "fix_file", "convert_file_to",
    "split_file", "JobSpec", "Uploader",
]


def __dir__() -> list[str]:
    """The module's names with the public API, which is loaded on first use (so not yet in globals())."""
    return sorted({*globals(), *__all__})


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ftprep' has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:  # JobSpec and Uploader come with the `upload` extra
        from ftprep.extras import missing_extra

        missing = missing_extra(exc, feature=f"ftprep.{name}")
        if missing is None:
            raise
        raise missing from exc
