"""Hand checked files to the fine-tuning jobs API: the job request, the uploader, job following.

Names are loaded on first use: the ``openai`` SDK takes half a second to import, and commands that never
talk to the API (``ftprep check`` in a pre-commit hook) should not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ftprep.upload.follow import STOP_STATUSES, TERMINAL_STATUSES, follow_job
    from ftprep.upload.registry import FileRegistry, state_dir
    from ftprep.upload.spec import BuiltSpec, JobSpec, SpecFlags, build_job_spec, load_spec_file
    from ftprep.upload.uploader import (
        CheckFailed,
        Gate,
        UploadedFile,
        UploadedFiles,
        Uploader,
        plan_requests,
    )

_EXPORTS = {
    "STOP_STATUSES": "follow",
    "TERMINAL_STATUSES": "follow",
    "follow_job": "follow",
    "FileRegistry": "registry",
    "state_dir": "registry",
    "BuiltSpec": "spec",
    "JobSpec": "spec",
    "SpecFlags": "spec",
    "build_job_spec": "spec",
    "load_spec_file": "spec",
    "CheckFailed": "uploader",
    "Gate": "uploader",
    "UploadedFile": "uploader",
    "UploadedFiles": "uploader",
    "Uploader": "uploader",
    "plan_requests": "uploader",
}

__all__ = [
    "STOP_STATUSES",
    "TERMINAL_STATUSES",
    "BuiltSpec",
    "CheckFailed",
    "FileRegistry",
    "Gate",
    "JobSpec",
    "SpecFlags",
    "UploadedFile",
    "UploadedFiles",
    "Uploader",
    "build_job_spec",
    "follow_job",
    "load_spec_file",
    "plan_requests",
    "state_dir",
]


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first access."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ftprep.upload' has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(f"ftprep.upload.{_EXPORTS[name]}"), name)
    except ImportError as exc:  # the SDK and pydantic come with the `upload` extra
        from ftprep.extras import missing_extra

        missing = missing_extra(exc, feature=f"ftprep.upload.{name}")
        if missing is None:
            raise
        raise missing from exc
