"""Hand checked files to the fine-tuning jobs API: the job request, the uploader, job following."""

from __future__ import annotations

from ftprep.upload.follow import STOP_STATUSES, TERMINAL_STATUSES, follow_job
from ftprep.upload.registry import FileRegistry, state_dir
from ftprep.upload.spec import BuiltSpec, JobSpec, SpecFlags, build_job_spec, load_spec_file
from ftprep.upload.uploader import CheckFailed, Gate, UploadedFile, UploadedFiles, Uploader, plan_requests

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
