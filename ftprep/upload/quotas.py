"""A resource's file quotas, checked before a file is sent: what the service already holds (``files.list``) plus
what this upload adds, against the target's ``max_total_bytes`` and ``max_files`` (Azure OpenAI: 1 GB and 100
files per resource for fine-tuning), and the job's tokens x epochs against ``max_token_epochs``.

Files this upload reuses (the local record names a file the service still holds) add nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import openai
from openai.types import FileObject

from ftprep.data.targets import RuleParams
from ftprep.upload.answers import call_api
from ftprep.upload.registry import FileRegistry
from ftprep.upload.request_rules import JobRequest, request_problems

# Files of the fine-tuning quota: the training and validation files, and the results files jobs write.
FINE_TUNING_PURPOSES = frozenset({"fine-tune", "fine-tune-results"})


@dataclass(frozen=True, slots=True)
class StoredFiles:
    """What the resource holds for fine-tuning: ids with their sizes."""

    sizes: dict[str, int]

    @property
    def total_bytes(self) -> int:
        """Bytes held."""
        return sum(self.sizes.values())


def stored_files(client: openai.OpenAI) -> StoredFiles:
    """The fine-tuning files the resource holds (every page of ``files.list``)."""
    action = "listing the files the resource holds (to check its quotas before uploading)"

    def listing() -> list[FileObject]:
        return list(client.files.list())

    sizes = {f.id: int(f.bytes or 0) for f in call_api(action, listing)
             if isinstance(f, FileObject) and f.purpose in FINE_TUNING_PURPOSES}  # fmt: skip
    return StoredFiles(sizes)


def new_files(files: Iterable[tuple[str, int, str]], stored: StoredFiles,
              registry: FileRegistry) -> list[tuple[str, int]]:
    """The ``(name, bytes)`` of each ``(name, bytes, sha256)`` that this upload sends (not held already)."""
    sending = []
    for name, size, sha256 in files:
        record = registry.lookup(sha256)
        if record is None or stored.sizes.get(record.file_id) != size:
            sending.append((name, size))
    return sending


def quota_problems(params: RuleParams, stored: StoredFiles, sending: Sequence[tuple[str, int]]) -> list[str]:
    """Every quota of the target that these files would break, with what is there and the fix."""
    problems: list[str] = []
    adding = sum(size for _, size in sending)
    if params.max_total_bytes is not None and stored.total_bytes + adding > params.max_total_bytes:
        problems.append(
            f"{params.name} holds {stored.total_bytes:,} bytes of fine-tuning files and this upload adds {adding:,}: "
            f"more than its {params.max_total_bytes:,} bytes per resource; delete files you no longer need "
            "(openai api files.delete, or the portal) or split the data")
    if params.max_files is not None and len(stored.sizes) + len(sending) > params.max_files:
        problems.append(
            f"{params.name} holds {len(stored.sizes)} fine-tuning files and this upload adds {len(sending)}: more "
            f"than its {params.max_files} files per resource; delete files you no longer need")
    return problems


def budget_problems(params: RuleParams, trained_tokens: int | None) -> list[str]:
    """The job's tokens x epochs (ftprep's own estimate) against the target's per-job budget."""
    if trained_tokens is None:
        return []
    return request_problems(params, JobRequest(trained_tokens=trained_tokens))
