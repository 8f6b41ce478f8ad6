"""Check, upload once, create the job.

Order of work, and why: the size limits first (cheap, and an 8 GB file should not be read twice for
nothing); then the full check (the *gate*) — any error and nothing leaves the machine; then each file is
uploaded unless the API already holds the same bytes (sha256 record, verified with ``files.retrieve``);
finally the job is created. Files up to the multipart threshold go through ``files.create``; larger ones
through the Uploads API in parts, with an md5 on completion and resume of an interrupted upload.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import openai
from openai.types import FileObject, Upload
from openai.types.fine_tuning import FineTuningJob
from openai.types.uploads import UploadPart

from ftprep.errors import ConfigError, InputError, UploadError
from ftprep.lint.finding import Finding
from ftprep.upload.answers import MalformedAnswer, call_api, describe_value, expect_field, expect_object, valid_id
from ftprep.upload.client import api_error, base_url_of, describe_api_error
from ftprep.upload.limits import (
    DEFAULT_MULTIPART_THRESHOLD,
    DEFAULT_PART_SIZE,
    MAX_FILES_CREATE_BYTES,
    MAX_PART_SIZE,
    MAX_UPLOAD_BYTES,
    MiB,
)
from ftprep.upload.registry import FileRecord, FileRegistry, PendingUpload
from ftprep.upload.spec import JobSpec

UPLOAD_MIME_TYPE = "text/jsonl"
PURPOSE: Final = "fine-tune"
# Resuming an upload that expires within minutes would race its expiry; start a fresh one instead.
RESUME_MARGIN_SECONDS = 300
_HASH_CHUNK = 1 * MiB


class CheckedFile(Protocol):
    """One checked file of a :class:`CheckOutcome` (``ftprep.engine.FileScan``): the method it was checked as."""

    @property
    def method(self) -> str: ...


class CheckOutcome(Protocol):
    """What the gate returns: the error count, the findings and the files (``ftprep.check.CheckResult``)."""

    @property
    def errors(self) -> int: ...

    @property
    def files(self) -> Sequence[CheckedFile]: ...

    @property
    def findings(self) -> Sequence[Finding]: ...


class Gate(Protocol):
    """The full check run before anything is sent (``ftprep.check.check_files``)."""

    def __call__(
        self, paths: Sequence[str], *, validation: str | None, model: str | None, method: str | None
    ) -> CheckOutcome: ...


def default_gate(
    paths: Sequence[str], *, validation: str | None, model: str | None, method: str | None
) -> CheckOutcome:
    """ftprep's full check (imported lazily: the engine is heavy and the CLI may not need it)."""
    from ftprep.check import check_files

    result: CheckOutcome = check_files(paths, validation=validation, model=model, method=method)
    return result


class CheckFailed(UploadError):
    """The gate found errors: nothing was uploaded. ``result`` holds the findings to show."""

    def __init__(self, result: CheckOutcome) -> None:
        self.result = result
        count = result.errors
        super().__init__(
            f"the check found {count} error{'s' if count != 1 else ''}; nothing was uploaded. "
            "Fix them (ftprep check shows each with its fix) and run again."
        )


class _UploadRefused(Exception):
    """The API refused a request of a multipart upload (4xx): the upload cannot be continued."""

    def __init__(self, error: openai.APIStatusError, action: str) -> None:
        super().__init__(action)
        self.error = error
        self.action = action


ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(filename, bytes_done, bytes_total)`` while a multipart upload runs."""


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file to upload: where it is, its name, size and content hashes."""

    path: str
    name: str
    size: int
    sha256: str
    md5: str


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file the API holds: which local file, its id, and whether this run sent it or reused it."""

    path: str
    file_id: str
    sha256: str
    bytes: int
    reused: bool
    via: Literal["files", "uploads", "record"]
    resumed_parts: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form for ``--output-format json``."""
        return {
            "path": self.path,
            "id": self.file_id,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "reused": self.reused,
            "via": self.via,
            "resumed_parts": self.resumed_parts,
        }


@dataclass(frozen=True, slots=True)
class UploadedFiles:
    """The training file and, when given, the validation file, as held by the API; ``method`` is the
    fine-tuning method the check held them to (given, or detected from the rows as ``check`` does): the
    job must be created with the same one (:meth:`JobSpec.with_method`)."""

    training: UploadedFile
    validation: UploadedFile | None
    method: str = "supervised"


def check_upload_options(multipart_threshold: int, part_size: int) -> None:
    """Reject thresholds and part sizes the API cannot take (ConfigError, before anything runs)."""
    if not 1 <= part_size <= MAX_PART_SIZE:
        raise ConfigError(f"--part-size {part_size} is out of range: a part is 1 to {MAX_PART_SIZE} bytes (64 MB)")
    if not 0 <= multipart_threshold <= MAX_FILES_CREATE_BYTES:
        raise ConfigError(
            f"--multipart-threshold {multipart_threshold} is out of range: "
            f"0 to {MAX_FILES_CREATE_BYTES} bytes "
            "(files.create takes at most 512 MB)"
        )


def check_uploadable(path: str) -> int:
    """The size of ``path`` if the API can take it as a fine-tuning file; InputError otherwise."""
    if path == "-":
        raise InputError("upload needs a file on disk, not standard input; save the data to a .jsonl file")
    if path.endswith(".gz"):
        raise InputError(f"{path}: the API takes plain JSONL; decompress it first (gunzip -k {path})")
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not Path(path).is_file():
        raise InputError(f"{path}: not a regular file")
    if size > MAX_UPLOAD_BYTES:
        raise InputError(
            f"{path}: {size} bytes is over the API's 8 GB upload limit ({MAX_UPLOAD_BYTES} bytes); "
            "split it (ftprep split) or sample it down"
        )
    return size


def fingerprint(path: str) -> LocalFile:
    """Size, sha256 (the dedupe key) and md5 (the Uploads API checksum) in one read of the file."""
    sha256 = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_HASH_CHUNK):
                sha256.update(chunk)
                md5.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return LocalFile(path, Path(path).name, size, sha256.hexdigest(), md5.hexdigest())


def run_gate(gate: Gate, train: str, validation: str | None, *, model: str | None, method: str | None) -> CheckOutcome:
    """Run the full check over the files to send; raise :class:`CheckFailed` on any error."""
    result = gate([train], validation=validation, model=model, method=method)
    if result.errors:
        raise CheckFailed(result)
    return result


def checked_method(outcome: CheckOutcome, method: str | None) -> str:
    """The method the gate checked the training file as: ``method`` when given, else the one the check
    detected from its rows (``dpo`` for preference pairs), else ``supervised``."""
    if method is not None:
        return method
    return outcome.files[0].method if outcome.files else "supervised"


class Uploader:
    """Uploads fine-tuning files once and creates jobs, through the official ``openai`` SDK client.

    ``gate`` is the check run before anything is sent (default: :func:`default_gate`); ``registry`` the
    local sha256 -> file id record (default: the one for the client's base URL); ``progress`` is called
    while multipart uploads run.
    """

    def __init__(
        self,
        client: openai.OpenAI,
        registry: FileRegistry | None = None,
        *,
        gate: Gate | None = None,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        part_size: int = DEFAULT_PART_SIZE,
        progress: ProgressCallback | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_upload_options(multipart_threshold, part_size)
        self.client = client
        self.registry = registry or FileRegistry(base_url_of(client))
        self.gate: Gate = gate or default_gate
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.progress = progress
        self.clock = clock

    def upload(
        self, train: str, validation: str | None = None, *, model: str | None, method: str | None
    ) -> UploadedFiles:
        """Check both files (gate), then upload each unless the API already holds its bytes.

        The result names the method the files were checked as: create the job with that method.
        """
        outcome = self.check(train, validation, model=model, method=method)
        return self.upload_files(train, validation, method=checked_method(outcome, method))

    def check(self, train: str, validation: str | None = None, *, model: str | None,
              method: str | None) -> CheckOutcome:
        """The size limits and the gate, nothing sent; :class:`CheckFailed` when the check finds errors."""
        for path in (train, validation):
            if path is not None:
                check_uploadable(path)
        return run_gate(self.gate, train, validation, model=model, method=method)

    def upload_files(self, train: str, validation: str | None = None, *, method: str) -> UploadedFiles:
        """Upload files that passed :meth:`check` as ``method`` (or reuse the API's copies of their bytes)."""
        training = self.upload_checked(fingerprint(train))
        checked = self.upload_checked(fingerprint(validation)) if validation is not None else None
        return UploadedFiles(training, checked, method)

    def upload_checked(self, local: LocalFile) -> UploadedFile:
        """Upload one file that already passed the gate (or reuse the API's copy of its bytes)."""
        reused = self._reusable(local)
        if reused is not None:
            return UploadedFile(local.path, reused, local.sha256, local.size, True, "record")
        if local.size > self.multipart_threshold:
            return self._multipart(local)
        return self._files_create(local)

    def create_job(self, spec: JobSpec, *, extra_body: dict[str, Any] | None = None) -> FineTuningJob:
        """Create the fine-tuning job (``spec`` carries the file ids; ``extra_body`` a service's own fields, such
        as Azure's ``trainingType``); UploadError with the API's reason."""
        body = spec.to_request()
        action = "creating the fine-tuning job"
        try:
            job = call_api(action, lambda: self.client.fine_tuning.jobs.create(**body, extra_body=extra_body))
            checked = expect_object(job, FineTuningJob, action, what="fine-tuning job")
            expect_field(checked, "status", str, action)
        except MalformedAnswer as exc:
            # The request may have created a job all the same: say where to look instead of guessing.
            raise UploadError(f"{exc}; the job may exist all the same: see ftprep jobs list") from None
        return checked

    def _reusable(self, local: LocalFile) -> str | None:
        record = self.registry.lookup(local.sha256)
        if record is None:
            return None
        action = f"checking the earlier upload of {local.name} ({record.file_id})"
        remote = call_api(action, lambda: self._retrieve_file(record.file_id))
        if remote is None:
            self.registry.forget(local.sha256)
            return None
        remote = expect_object(remote, FileObject, action, what="file")
        # A file that failed processing, changed purpose or size cannot stand in for these bytes.
        if remote.status == "error" or remote.purpose != PURPOSE or remote.bytes != local.size:
            self.registry.forget(local.sha256)
            return None
        return record.file_id

    def _retrieve_file(self, file_id: str) -> FileObject | None:
        """The API's file object, or None when the API no longer has the file."""
        try:
            return self.client.files.retrieve(file_id)
        except openai.NotFoundError:
            return None

    def _remember(self, local: LocalFile, file_id: str) -> None:
        self.registry.remember(local.sha256, FileRecord(file_id, local.size, local.name, int(self.clock())))

    def _files_create(self, local: LocalFile) -> UploadedFile:
        action = f"uploading {local.name}"
        try:
            with open(local.path, "rb") as handle:
                created = call_api(action, lambda: self.client.files.create(
                    file=(local.name, handle, "application/jsonl"), purpose=PURPOSE))
        except OSError as exc:
            raise InputError(f"{local.path}: cannot read: {exc.strerror or exc}") from None
        # Checked before it is recorded: a bad id in the record would be reused by every later upload.
        created = expect_object(created, FileObject, action, what="file")
        self._remember(local, created.id)
        return UploadedFile(local.path, created.id, local.sha256, local.size, False, "files")

    def _start_upload(self, local: LocalFile) -> PendingUpload:
        action = f"starting the multipart upload of {local.name}"
        created = call_api(action, lambda: self.client.uploads.create(
            bytes=local.size, filename=local.name, mime_type=UPLOAD_MIME_TYPE, purpose=PURPOSE))
        created = expect_object(created, Upload, action, what="upload")
        expect_field(created, "expires_at", int, action)
        pending = PendingUpload(created.id, local.size, self.part_size, local.name, created.expires_at, ())
        self.registry.save_pending(local.sha256, pending)
        return pending

    def _resumable(self, local: LocalFile) -> PendingUpload | None:
        pending = self.registry.pending(local.sha256)
        if pending is None:
            return None
        same_layout = pending.bytes == local.size and pending.part_size == self.part_size
        if same_layout and pending.expires_at - self.clock() > RESUME_MARGIN_SECONDS:
            return pending
        self.registry.drop_pending(local.sha256)
        return None

    def _multipart(self, local: LocalFile) -> UploadedFile:
        pending = self._resumable(local)
        resumed_parts = len(pending.part_ids) if pending is not None else 0
        if pending is None:
            pending = self._start_upload(local)
        try:
            pending, completed = self._finish_upload(local, pending)
        except _UploadRefused as refused:
            self.registry.drop_pending(local.sha256)
            if not resumed_parts:
                raise api_error(refused.error, refused.action) from None
            # The recorded upload is no longer usable on the server (cancelled, expired early, already
            # completed by a run that died before recording it): start over, once.
            resumed_parts = 0
            try:
                pending, completed = self._finish_upload(local, self._start_upload(local))
            except _UploadRefused as again:
                self.registry.drop_pending(local.sha256)
                raise api_error(again.error, again.action) from None
        file_id = completed.file.id if isinstance(completed.file, FileObject) else None
        if completed.status != "completed" or not valid_id(file_id):
            self.registry.drop_pending(local.sha256)
            raise UploadError(
                f"the multipart upload of {local.name} ({pending.upload_id}) ended as "
                f"{describe_value(completed.status)!r} without a valid file id; run again to upload it afresh"
            )
        assert file_id is not None  # valid_id() said so; for the type checker
        self._remember(local, file_id)
        return UploadedFile(local.path, file_id, local.sha256, local.size, False, "uploads", resumed_parts)

    def _finish_upload(self, local: LocalFile, pending: PendingUpload) -> tuple[PendingUpload, Upload]:
        """Send the missing parts and complete the upload with the file's md5.

        A client error (4xx other than 429) means the upload itself is refused: :class:`_UploadRefused`.
        Anything else (server errors after the SDK's retries, lost connection) keeps the record so that
        running the same command again resumes from the last part the API confirmed.
        """
        total_parts = max(1, -(-local.size // self.part_size))
        done = len(pending.part_ids) * self.part_size
        self._report(local.name, min(done, local.size), local.size)
        try:
            with open(local.path, "rb") as handle:
                handle.seek(done)
                while chunk := handle.read(self.part_size):
                    action = f"uploading part {len(pending.part_ids) + 1} of {total_parts} of {local.name}"
                    with self._resumable_call(action, pending):
                        part = expect_object(self.client.uploads.parts.create(pending.upload_id, data=chunk),
                                             UploadPart, action, what="upload part")
                    pending = pending.with_part(part.id)
                    self.registry.save_pending(local.sha256, pending)
                    done += len(chunk)
                    self._report(local.name, done, local.size)
        except OSError as exc:
            raise InputError(f"{local.path}: cannot read: {exc.strerror or exc}") from None
        with self._resumable_call(f"completing the upload of {local.name} ({pending.upload_id})", pending):
            completed = expect_object(
                self.client.uploads.complete(pending.upload_id, part_ids=list(pending.part_ids), md5=local.md5),
                Upload, f"completing the upload of {local.name}", what="upload")
        return pending, completed

    @contextmanager
    def _resumable_call(self, action: str, pending: PendingUpload) -> Iterator[None]:
        try:
            yield
        except openai.APIStatusError as exc:
            if 400 <= exc.status_code < 500 and exc.status_code != 429:
                raise _UploadRefused(exc, action) from None
            raise self._resume_hint(exc, action, pending) from None
        except openai.OpenAIError as exc:
            raise self._resume_hint(exc, action, pending) from None
        except UploadError as exc:  # a malformed answer: what the API kept is unknown, resuming will tell
            raise UploadError(f"{exc}; run the same command again to resume (upload {pending.upload_id})") from None
        except (ValueError, AttributeError, TypeError) as exc:  # not JSON: see ftprep.upload.answers
            raise UploadError(f"{action} failed: the API's answer is not valid JSON ({describe_value(str(exc))}); "
                              f"run the same command again to resume (upload {pending.upload_id})") from None

    @staticmethod
    def _resume_hint(exc: openai.OpenAIError, action: str, pending: PendingUpload) -> UploadError:
        expires = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(pending.expires_at))
        return UploadError(
            describe_api_error(exc, action) + f"; run the same command again to resume "
            f"(upload {pending.upload_id} expires {expires})"
        )

    def _report(self, name: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(name, done, total)


def plan_requests(
    files: Sequence[tuple[str, LocalFile]],
    spec: JobSpec,
    *,
    base_url: str,
    registry: FileRegistry,
    multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
    part_size: int = DEFAULT_PART_SIZE,
) -> list[dict[str, Any]]:
    """The requests an upload would send, in order, for ``--dry-run`` (nothing is sent).

    ``files`` pairs each job field (``training_file``, ``validation_file``) with its local file. Ids not
    known yet appear as ``<id of NAME>``; a recorded earlier upload appears as the check that would
    verify it, since the reuse decision needs the API's answer.
    """
    requests: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    for field_name, local in files:
        record = registry.lookup(local.sha256)
        placeholder = f"<id of {local.name}>"
        if record is not None:
            requests.append({
                "method": "GET",
                "url": f"{base_url}/files/{record.file_id}",
                "note": f"verify the earlier upload of {local.name} (sha256 {local.sha256}); "
                "if it is still there it is reused and the requests below for this file are not sent",
            })  # fmt: skip
        if local.size > multipart_threshold:
            parts = max(1, -(-local.size // part_size))
            requests.append({
                "method": "POST",
                "url": f"{base_url}/uploads",
                "json": {"bytes": local.size, "filename": local.name, "mime_type": UPLOAD_MIME_TYPE,
                         "purpose": PURPOSE},
            })  # fmt: skip
            requests.append({
                "method": "POST",
                "url": f"{base_url}/uploads/<upload id>/parts",
                "multipart": {"data": f"{parts} part(s) of up to {part_size} bytes"},
                "count": parts,
            })  # fmt: skip
            requests.append({
                "method": "POST",
                "url": f"{base_url}/uploads/<upload id>/complete",
                "json": {"part_ids": [f"<part {i + 1} id>" for i in range(parts)], "md5": local.md5},
            })  # fmt: skip
        else:
            requests.append({
                "method": "POST",
                "url": f"{base_url}/files",
                "multipart": {"purpose": PURPOSE,
                              "file": {"filename": local.name, "bytes": local.size, "sha256": local.sha256}},
            })  # fmt: skip
        ids[field_name] = record.file_id if record is not None else placeholder
    job = spec.with_files(ids["training_file"], ids.get("validation_file"))
    requests.append({"method": "POST", "url": f"{base_url}/fine_tuning/jobs", "json": job.to_request()})
    return requests


@dataclass(frozen=True, slots=True)
class OwnEstimate:
    """ftprep's trained-token estimate (with its epochs and cost when known), or why there is none."""

    trained_tokens: int | None
    note: str | None
    n_epochs: int | None = None
    cost_usd: float | None = None


def own_estimate(
    train: str, *, validation: str | None, model: str, method: str | None, n_epochs: int | str | None,
    target: Any = None, progress: Callable[[int], None] | None = None,
) -> OwnEstimate:
    """ftprep's own trained-token estimate for the job, for comparison with the API's ``trained_tokens``.

    ``target`` (a :class:`~ftprep.data.targets.Target`, default OpenAI) is the service whose model table, epochs
    rule and prices apply; a model the target does not know is counted with its default model's limits."""
    try:
        # Looked up at run time: the estimate module is optional for uploading.
        estimate = importlib.import_module("ftprep.estimation").estimate
    except (ImportError, AttributeError):
        return OwnEstimate(None, "ftprep's estimate is not available in this installation")
    epochs = n_epochs if isinstance(n_epochs, int) else "auto"
    extra: dict[str, Any] = {"progress": progress} if target is None else {"target": target, "progress": progress}
    try:
        result = estimate(train, validation=validation, model=model, method=method, n_epochs=epochs, **extra)
    except ConfigError as exc:
        if target is None:
            return OwnEstimate(None, f"no estimate: {exc}")
        try:  # a model of the service that ftprep's table does not list: the target's default model's limits
            result = estimate(train, validation=validation, model=None, method=method, n_epochs=epochs, **extra)
        except (ConfigError, InputError) as exc:
            return OwnEstimate(None, f"no estimate: {exc}")
    except InputError as exc:
        return OwnEstimate(None, f"no estimate: {exc}")
    tokens = getattr(result, "trained_tokens", None)
    if tokens is None:
        return OwnEstimate(None, "no estimate available")
    cost = getattr(result, "cost_usd", None)
    return OwnEstimate(int(tokens), None, getattr(result, "n_epochs", None),
                       float(cost) if isinstance(cost, int | float) else None)
