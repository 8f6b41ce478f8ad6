"""One small interface over the fine-tuning services ftprep sends to that do not speak OpenAI's jobs API.

The CLI picks the service by target name (:func:`service_class`); each service module (``together_api``,
``fireworks_api``) wraps its official SDK behind :class:`JobService`: upload a checked file once (the local record
keeps the target and account), show the service's own figures before the job is created, create the job, and
read, list, follow and cancel jobs. Jobs and events come back as :class:`JobView` / :class:`EventView`, one shape
for every service, so ``ftprep jobs`` prints one table whatever the target. OpenAI and Azure keep the
:class:`~ftprep.upload.uploader.Uploader` (the ``openai`` SDK, Files and Uploads APIs).

No SDK is imported here: a service module is imported when its target is used.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ftprep.errors import ConfigError, UploadError
from ftprep.upload.polling import poll_until_ended
from ftprep.upload.registry import FileRegistry
from ftprep.upload.spec import JobSpec

# Where each service lives, as ``module:class``; the module is imported only when its target is picked.
SERVICES: Mapping[str, str] = {
    "together": "ftprep.upload.together_api:TogetherService",
    "fireworks": "ftprep.upload.fireworks_api:FireworksService",
}
# Job states every service's statuses map to; the first three end a job.
SUCCEEDED, FAILED, CANCELLED, RUNNING = "succeeded", "failed", "cancelled", "running"
ENDED = frozenset({SUCCEEDED, FAILED, CANCELLED})
# A whole upload that failed on the way (a reset connection, a 5xx on a PUT that the SDK does not retry) is sent
# again this many times at most, each retry logged where the SDKs log theirs (see ftprep.upload.client).
UPLOAD_ATTEMPTS = 3
_RETRY_LOG = logging.getLogger("ftprep.upload.retry")
T = TypeVar("T")


class FileRejected(UploadError):
    """The service validated an uploaded file and refused it: the data is at fault (``upload`` exits 1)."""


@dataclass(frozen=True, slots=True)
class JobView:
    """A fine-tuning job as any service reports it: ``status`` is the service's word, ``state`` one of
    ``succeeded``, ``failed``, ``cancelled``, ``running``; ``reported_tokens`` the service's token figure, named by
    ``tokens_field``; ``data`` the job object as the service sent it."""

    id: str
    status: str
    state: str
    model: str | None
    fine_tuned_model: str | None
    created_at: int | None
    reported_tokens: int | None = None
    tokens_field: str = "trained_tokens"
    error: str | None = None
    training_file: str | None = None
    validation_file: str | None = None
    method: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventView:
    """One event of a job: when (Unix seconds, None unknown), its level and message, and the event as sent."""

    id: str
    created_at: int | None
    level: str
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """A file (Together) or dataset (Fireworks) the service holds for one local file."""

    path: str
    file_id: str
    sha256: str
    bytes: int
    reused: bool
    via: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form for ``--output-format json``."""
        return {"path": self.path, "id": self.file_id, "sha256": self.sha256, "bytes": self.bytes,
                "reused": self.reused, "via": self.via}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Figures:
    """ftprep's own figures for a job, printed beside the service's: tokens per epoch, epochs, cost."""

    trained_tokens: int | None
    n_epochs: int | None
    cost_usd: float | None = None

    @property
    def tokens_per_epoch(self) -> int | None:
        """Tokens one epoch trains (None when unknown)."""
        if self.trained_tokens is None or not self.n_epochs:
            return None
        return self.trained_tokens // self.n_epochs


class JobService(Protocol):
    """What ``upload`` and ``jobs`` need from a service."""

    target: str
    registry: FileRegistry

    def request_problems(self, spec: JobSpec) -> list[str]:
        """Every part of ``spec`` this service cannot take (checked before anything is sent)."""
        ...

    def validate(self, spec: JobSpec, figures: Figures) -> None:
        """The service's own word on the request, asked before any file is sent (a read, never data);
        ConfigError with its reason."""
        ...

    def plan(self, files: Sequence[tuple[str, Any]], spec: JobSpec, figures: Figures) -> list[dict[str, Any]]:
        """The requests an upload would send, in order, for ``--dry-run``; ``files`` pairs each role with its
        :class:`~ftprep.upload.uploader.LocalFile`."""
        ...

    def upload(self, local: Any) -> RemoteFile:
        """Upload one checked :class:`~ftprep.upload.uploader.LocalFile` (or reuse the service's copy)."""
        ...

    def preflight(self, spec: JobSpec, training: RemoteFile, validation: RemoteFile | None,
                  figures: Figures) -> list[str]:
        """The service's own estimate of the job, as lines to print beside ftprep's (before the job exists)."""
        ...

    def create_job(self, spec: JobSpec, training: RemoteFile, validation: RemoteFile | None,
                   figures: Figures) -> JobView:
        """Create the fine-tuning job; UploadError with the service's reason."""
        ...

    def retrieve(self, job_id: str) -> JobView:
        """The job as the service reports it now."""
        ...

    def list_jobs(self, limit: int) -> list[JobView]:
        """The most recent jobs, newest first."""
        ...

    def events(self, job_id: str, limit: int) -> list[EventView] | None:
        """The job's events, oldest first; None when the service has no events for jobs."""
        ...

    def cancel(self, job_id: str) -> JobView:
        """Cancel the job."""
        ...


class ServiceFactory(Protocol):
    """A service class: built from the SDK's environment."""

    def __call__(self, *, timeout: float, context_length: int | None = None, offline: bool = False) -> JobService:
        ...


def service_class(target: str) -> ServiceFactory | None:
    """The service for ``target`` (None: the target speaks OpenAI's jobs API, see ``Uploader``)."""
    where = SERVICES.get(target)
    if where is None:
        return None
    module, name = where.split(":")
    try:
        factory: ServiceFactory = getattr(importlib.import_module(module), name)
    except ImportError as exc:  # the SDK is an optional extra
        raise ConfigError(
            f"--target {target} needs its SDK, which is not installed ({exc.name}): pip install 'ftprep[{target}]'"
        ) from None
    return factory


def with_upload_retries(action: str, send: Callable[[], T], transient: Callable[[BaseException], bool]) -> T:
    """``send()``, sent again (at most :data:`UPLOAD_ATTEMPTS` times in all) when it fails in a way
    ``transient`` accepts; each retry is logged as the SDKs log theirs (shown on stderr by ``upload``)."""
    for attempt in range(1, UPLOAD_ATTEMPTS + 1):
        try:
            return send()
        except Exception as exc:
            if attempt == UPLOAD_ATTEMPTS or not transient(exc):
                raise
            delay = 0.5 * attempt
            response = getattr(exc, "response", None)
            status = getattr(exc, "status_code", None) or getattr(response, "status_code", None)
            if isinstance(status, int):
                _RETRY_LOG.debug("Retrying due to status code %i", status)
            else:
                _RETRY_LOG.debug("Encountered exception: %s", type(exc).__name__)
            _RETRY_LOG.info("Retrying request in %f seconds (retry %i of %s)", delay, attempt, UPLOAD_ATTEMPTS - 1)
            time.sleep(delay)
    raise UploadError(f"{action} failed")  # not reached: the loop returns or raises


def follow(service: JobService, job_id: str, *, poll_interval: float,
           on_status: Callable[[JobView], None] | None = None,
           on_event: Callable[[EventView], None] | None = None,
           sleep: Callable[[float], None] = time.sleep) -> JobView:
    """Poll a job until it ends; ``on_status`` on each change of status, ``on_event`` once per new event."""
    return poll_until_ended(lambda: service.retrieve(job_id), lambda: service.events(job_id, 100) or [],
                            lambda job: job.status, lambda job: job.state in ENDED, poll_interval=poll_interval,
                            on_status=on_status, on_event=on_event, sleep=sleep)
