"""Together AI through its official ``together`` SDK: upload a checked file once, show Together's own estimate
and preview beside ftprep's figures, create the job, and read, list, follow and cancel jobs.

The SDK decides the endpoint and the key: ``TOGETHER_API_KEY``, ``TOGETHER_BASE_URL`` (default
``https://api.together.ai``). ``files.upload`` asks ``POST /v1/files`` for a place to put the bytes; the answer is
a redirect (302, ``Location`` and ``X-Together-File-Id``) to storage, where the SDK PUTs the file, following
further redirects, and then asks ``POST /v1/files/{id}/preprocess``. The SDK retries the API requests (429, 5xx,
lost connections), not the PUT: a whole upload that failed on the way is sent again, a bounded number of times
(:func:`~ftprep.upload.service.with_upload_retries`). After the upload the service validates the file; ftprep
waits for that and reports the service's error at its line when the message names one.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
import together
from together.types.fine_tuning_estimate_price_response import AvailableEstimate

from ftprep.errors import ConfigError, InputError, UploadError
from ftprep.textsafe import escape_controls
from ftprep.upload.answers import describe_value, valid_id
from ftprep.upload.client import CONNECT_TIMEOUT, DEFAULT_MAX_RETRIES
from ftprep.upload.registry import FileRecord, FileRegistry
from ftprep.upload.sdk import rejection_message, sdk_call, timestamp, transient
from ftprep.upload.secrets import redact, strip_userinfo
from ftprep.upload.service import (
    CANCELLED,
    FAILED,
    RUNNING,
    SUCCEEDED,
    EventView,
    Figures,
    FileRejected,
    JobView,
    RemoteFile,
    with_upload_retries,
)
from ftprep.upload.spec import JobSpec

PURPOSE = "fine-tune"
TRAINING_METHODS = {"supervised": "sft", "dpo": "dpo"}
# Together's job statuses (together/types/finetune_response.py) mapped to ftprep's job states.
STATES = {"completed": SUCCEEDED, "error": FAILED, "cancelled": CANCELLED}
# The file validation pipeline's states (together/types/file_response.py, processing_status).
FILE_DONE, FILE_FAILED = frozenset({"COMPLETED"}), frozenset({"FAILED", "INVALID_FORMAT"})
# How many rows of the training file Together's preview tokenizes (its top_k).
PREVIEW_ROWS = 5
# Seconds between looks at an uploaded file while the service validates it.
FILE_POLL_INTERVAL = 2.0
WANDB_KEY_ENV = "WANDB_API_KEY"
T = TypeVar("T")


def _call(action: str, func: Callable[[], T]) -> T:
    return sdk_call(action, func, together, together.TogetherError, "TOGETHER_BASE_URL", "Together")


def _transient(exc: BaseException) -> bool:
    return transient(exc, together.APIConnectionError, together.APIStatusError, plain_status=False)


def _text(value: Any) -> str:
    return str(getattr(value, "value", value))


class TogetherService:
    """The :class:`~ftprep.upload.service.JobService` for ``--target together``."""

    target = "together"

    def __init__(self, *, timeout: float, context_length: int | None = None, offline: bool = False,
                 client: together.Together | None = None, registry: FileRegistry | None = None,
                 file_poll_interval: float | None = None, file_wait_limit: float = 1800.0) -> None:
        # offline (--dry-run): nothing is sent, so no key is needed; the SDK still decides the base URL.
        key = (os.environ.get("TOGETHER_API_KEY") or "unused") if offline else None
        try:
            self.client = client or together.Together(
                max_retries=DEFAULT_MAX_RETRIES, timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
                api_key=key)
        except together.TogetherError as exc:
            raise ConfigError(f"--target together: {redact(str(exc))}") from None
        self.base_url = strip_userinfo(str(self.client.base_url)).rstrip("/")
        # The key names the account and is never written: a file of another account is simply not found when
        # the record is verified, and is then uploaded again.
        self.registry = registry or FileRegistry(self.base_url, target=self.target)
        self.context_length = context_length
        self.limits: Any = None  # the model's limits, once validate() has read them
        self.file_poll_interval = FILE_POLL_INTERVAL if file_poll_interval is None else file_poll_interval
        self.file_wait_limit = file_wait_limit

    # -- the request ---------------------------------------------------------------------------------------
    def request_problems(self, spec: JobSpec) -> list[str]:
        """Parts of an OpenAI-shaped job request Together has no place for (named, with the fix)."""
        problems: list[str] = []
        method = spec.method_type or "supervised"
        if method not in TRAINING_METHODS:
            problems.append(f"together trains sft and dpo jobs, not {method}: use --method supervised or dpo")
        hyper = spec.method.hyperparameters() if spec.method else {}
        if "learning_rate_multiplier" in hyper:
            problems.append("together takes an absolute learning rate, not OpenAI's multiplier: drop "
                            "--learning-rate-multiplier")
        if spec.metadata:
            problems.append("together jobs have no metadata: drop --metadata")
        for integration in spec.integrations or []:
            if integration.wandb.tags:
                problems.append("together takes no W&B tags: drop --wandb-tag")
            if not os.environ.get(WANDB_KEY_ENV):
                problems.append(f"together sends metrics to W&B with your W&B key: set {WANDB_KEY_ENV}")
        return problems

    def job_arguments(self, spec: JobSpec, training: str, validation: str | None,
                      figures: Figures) -> dict[str, Any]:
        """The keyword arguments of ``fine_tuning.create`` for ``spec`` (the SDK sends them as the job body)."""
        hyper = spec.method.hyperparameters() if spec.method else {}
        epochs = hyper.get("n_epochs")
        args: dict[str, Any] = {
            "training_file": training, "model": spec.model,
            # ftprep's estimate and the job agree on the epochs: "auto" is sent as the number ftprep counted.
            "n_epochs": epochs if isinstance(epochs, int) else (figures.n_epochs or 1),
            "training_method": TRAINING_METHODS.get(spec.method_type or "supervised", "sft"),
        }  # fmt: skip
        if validation is not None:
            args["validation_file"] = validation
        if isinstance(hyper.get("batch_size"), int):
            args["batch_size"] = hyper["batch_size"]
        if isinstance(hyper.get("beta"), int | float):
            args["dpo_beta"] = float(hyper["beta"])
        if spec.suffix is not None:
            args["suffix"] = spec.suffix
        if self.context_length is not None:
            args["max_seq_length"] = self.context_length
        if spec.seed is not None:
            args["random_seed"] = spec.seed
        for integration in spec.integrations or []:
            wandb = integration.wandb
            args["wandb_project_name"] = wandb.project
            args["wandb_api_key"] = os.environ.get(WANDB_KEY_ENV)
            if wandb.name:
                args["wandb_name"] = wandb.name
            if wandb.entity:
                args["wandb_entity"] = wandb.entity
        return args

    def validate(self, spec: JobSpec, figures: Figures) -> None:
        """The model's limits (``fine_tuning.model_limits``) and the SDK's own check of the request against them,
        before any file is sent: a batch size or context length the model does not take is a ConfigError."""
        from together.lib.resources.fine_tuning import create_finetune_request

        self.limits = _call(f"reading together's limits for {spec.model}",
                            lambda: self.client.fine_tuning.model_limits(model_name=spec.model))
        arguments = self.job_arguments(spec, "<training file>", None, figures)
        try:
            create_finetune_request(model_limits=self.limits, **arguments)
        except ValueError as exc:
            raise ConfigError(f"together: {spec.model}: {exc}; nothing was sent") from None

    def plan(self, files: Sequence[tuple[str, Any]], spec: JobSpec, figures: Figures) -> list[dict[str, Any]]:
        """The requests an upload would send, in order (``--dry-run``)."""
        base = self.base_url
        requests: list[dict[str, Any]] = [
            {"method": "GET", "url": f"{base}/v1/fine-tunes/models/limits?model_name={spec.model}",
             "note": "the model's limits, which the SDK checks the job request against before any file is sent"}]
        ids: dict[str, str] = {}
        for role, local in files:
            record = self.registry.lookup(local.sha256)
            if record is not None:
                requests.append({"method": "GET", "url": f"{base}/v1/files/{record.file_id}",
                                 "note": f"verify the earlier upload of {local.name} (sha256 {local.sha256}); if it "
                                         "is still there it is reused and the requests below for this file are "
                                         "not sent"})  # fmt: skip
            requests += [
                {"method": "POST", "url": f"{base}/v1/files",
                 "multipart": {"purpose": PURPOSE, "file_name": local.name, "file_type": "jsonl"},
                 "note": "answered by a redirect (302) to storage, with the file id"},
                {"method": "PUT", "url": "<Location of the redirect>",
                 "note": f"the {local.size} bytes of {local.name} (sha256 {local.sha256}); further redirects followed"},
                {"method": "POST", "url": f"{base}/v1/files/<id of {local.name}>/preprocess"},
                {"method": "GET", "url": f"{base}/v1/files/<id of {local.name}>",
                 "note": "repeated until the service has validated the file (processing_status COMPLETED)"},
            ]  # fmt: skip
            ids[role] = record.file_id if record is not None else f"<id of {local.name}>"
        arguments = self.job_arguments(spec, ids["training_file"], ids.get("validation_file"), figures)
        if arguments.get("wandb_api_key"):
            arguments["wandb_api_key"] = "[redacted]"
        requests += [
            {"method": "POST", "url": f"{base}/v1/fine-tunes/estimate-price", "json": self._estimate_body(arguments)},
            {"method": "POST", "url": f"{base}/v1/fine-tunes/preview", "json": self._preview_body(arguments),
             "note": "sft jobs only"},
            {"method": "POST", "url": f"{base}/v1/fine-tunes/estimate-price", "json": self._estimate_body(arguments),
             "note": "asked again by the SDK's fine_tuning.create"},
            {"method": "POST", "url": f"{base}/v1/fine-tunes", "json": arguments,
             "note": "sent by the SDK with its defaults for what is not given"},
        ]  # fmt: skip
        return requests

    # -- files -----------------------------------------------------------------------------------------------
    def upload(self, local: Any) -> RemoteFile:
        """Upload one checked file, wait for the service's validation, record it; or reuse the earlier upload."""
        reused = self._reusable(local)
        if reused is not None:
            return RemoteFile(local.path, reused, local.sha256, local.size, True, "record")
        if Path(local.path).suffix != ".jsonl":
            raise InputError(f"{local.path}: Together takes files named .jsonl; rename it (cp {local.path} "
                             f"{Path(local.path).with_suffix('.jsonl').name})")
        action = f"uploading {local.name} to together"
        # check=False: ftprep's check of the file already ran for Together (the gate), with its findings.
        created = _call(action, lambda: with_upload_retries(
            action, lambda: self.client.files.upload(Path(local.path), purpose=PURPOSE, check=False), _transient))
        file_id = getattr(created, "id", None)
        if not valid_id(file_id):
            raise UploadError(f"{action} failed: the answer has no valid file id (got {describe_value(file_id)})")
        self._wait_validated(local, str(file_id))
        self.registry.remember(local.sha256, FileRecord(str(file_id), local.size, local.name, int(time.time())))
        return RemoteFile(local.path, str(file_id), local.sha256, local.size, False, "files")

    def _reusable(self, local: Any) -> str | None:
        record = self.registry.lookup(local.sha256)
        if record is None:
            return None
        action = f"checking the earlier upload of {local.name} ({record.file_id})"

        def retrieve() -> Any:
            try:
                return self.client.files.retrieve(record.file_id)
            except together.NotFoundError:  # deleted, or another account's: upload again
                return None

        remote = _call(action, retrieve)
        usable = (remote is not None and getattr(remote, "bytes", None) == local.size
                  and _text(getattr(remote, "processing_status", None) or "") not in FILE_FAILED)
        if not usable:
            self.registry.forget(local.sha256)
            return None
        return record.file_id

    def _wait_validated(self, local: Any, file_id: str) -> None:
        """Wait until the service has validated the file; FileRejected with its error when it refuses it."""
        action = f"reading the state of {local.name} ({file_id}) on together"
        started = time.monotonic()
        while True:
            remote = _call(action, lambda: self.client.files.retrieve(file_id))
            status = _text(getattr(remote, "processing_status", None) or "")
            report = getattr(remote, "validation_report", None)
            if status in FILE_FAILED or (report is not None and report.valid is False):
                error = (report.error if report is not None else None) or f"processing status {status}"
                raise FileRejected(escape_controls(redact(rejection_message(local.path, error, "Together"))))
            if status in FILE_DONE or not status:  # no status: a purpose the service does not validate
                return
            if time.monotonic() - started > self.file_wait_limit:
                raise UploadError(f"together has not validated {local.name} ({file_id}) after "
                                  f"{self.file_wait_limit:.0f} s (status {status}); run the same command later: "
                                  "the file is reused once it is validated")
            time.sleep(self.file_poll_interval)

    # -- the job ---------------------------------------------------------------------------------------------
    @staticmethod
    def _estimate_body(arguments: dict[str, Any]) -> dict[str, Any]:
        method: dict[str, Any] = {"method": arguments["training_method"]}
        if method["method"] == "sft":
            method["train_on_inputs"] = "auto"
        body = {"training_file": arguments["training_file"], "model": arguments["model"],
                "n_epochs": arguments["n_epochs"], "training_method": method}  # fmt: skip
        if arguments.get("validation_file"):
            body["validation_file"] = arguments["validation_file"]
        return body

    @staticmethod
    def _preview_body(arguments: dict[str, Any]) -> dict[str, Any]:
        return {"model": arguments["model"], "training_file": arguments["training_file"], "top_k": PREVIEW_ROWS}

    def preflight(self, spec: JobSpec, training: RemoteFile, validation: RemoteFile | None,
                  figures: Figures) -> list[str]:
        """Together's price estimate and its preview of the first rows (tokens after the model's chat template),
        each beside ftprep's figure; a figure the service cannot give is said to be unavailable."""
        arguments = self.job_arguments(spec, training.file_id, validation.file_id if validation else None, figures)
        mine = (f"ftprep: {figures.tokens_per_epoch:,} tokens per epoch x {figures.n_epochs} = "
                f"{figures.trained_tokens:,} trained" if figures.trained_tokens is not None else "ftprep: no estimate")
        if figures.cost_usd is not None:
            mine += f", ${figures.cost_usd:,.2f}"
        lines: list[str] = []
        body = self._estimate_body(arguments)
        try:
            estimate = _call("asking together for its price estimate",
                             lambda: self.client.fine_tuning.estimate_price(**body))
        except UploadError as exc:
            lines.append(f"together's price estimate is unavailable: {exc}")
        else:
            if isinstance(estimate, AvailableEstimate):
                tokens, price = estimate.estimated_train_token_count, estimate.estimated_total_price
                shown_tokens = f"{tokens:,.0f}" if isinstance(tokens, int | float) else "?"
                shown_price = f"${price:,.2f}" if isinstance(price, int | float) else "?"
                lines.append(f"together estimate: {shown_tokens} training tokens, {shown_price} ({mine})")
                if getattr(estimate, "allowed_to_proceed", True) is False:
                    lines.append(f"together says the job exceeds what the account may spend (limit "
                                 f"{estimate.user_limit}); the job may be refused")
            else:
                reason = getattr(estimate, "unavailable_reason", "no reason given")
                lines.append(f"together gives no price estimate ({reason}); {mine}")
        if arguments["training_method"] == "sft":
            preview_body = self._preview_body(arguments)
            try:
                preview = _call("asking together for its preview", lambda: self.client.fine_tuning.preview(
                    **preview_body))
            except UploadError as exc:
                lines.append(f"together's preview is unavailable: {exc}")
            else:
                rows = preview.rows
                truncated = sum(1 for row in rows if row.truncated)
                lines.append(
                    f"together preview of the first {len(rows)} row(s) after {preview.model}'s chat template: "
                    f"{sum(r.num_tokens for r in rows):,} tokens, {sum(r.num_trained_tokens for r in rows):,} "
                    f"trained, {truncated} truncated at {preview.max_seq_length:,}")
        return lines

    def create_job(self, spec: JobSpec, training: RemoteFile, validation: RemoteFile | None,
                   figures: Figures) -> JobView:
        """Create the job with ``fine_tuning.create`` (which checks the request against the model's limits)."""
        arguments = self.job_arguments(spec, training.file_id, validation.file_id if validation else None, figures)
        limits = self.limits or _call(f"reading together's limits for {spec.model}",
                                      lambda: self.client.fine_tuning.model_limits(model_name=spec.model))
        action = "creating the fine-tuning job on together"
        try:
            job = _call(action, lambda: self.client.fine_tuning.create(**arguments, model_limits=limits))
        except UploadError as exc:
            raise UploadError(f"{exc}; the files are uploaded and are reused by the next run") from None
        return self._view(job, action)

    def _view(self, job: Any, action: str) -> JobView:
        data: dict[str, Any] = job.to_dict(mode="json")
        job_id = data.get("id")
        if not valid_id(job_id):
            raise UploadError(f"{action} failed: the answer has no valid job id (got {describe_value(job_id)})")
        status = _text(data.get("status") or "unknown")
        method = data.get("training_method")
        return JobView(
            id=str(job_id), status=status, state=STATES.get(status, RUNNING), model=data.get("model"),
            fine_tuned_model=data.get("model_output_name") or data.get("output_name"),
            created_at=timestamp(data.get("created_at")), reported_tokens=data.get("token_count"),
            tokens_field="token_count", training_file=data.get("training_file"),
            validation_file=data.get("validation_file") or None,
            method=method.get("method") if isinstance(method, dict) else None, data=data,
        )  # fmt: skip

    def retrieve(self, job_id: str) -> JobView:
        """The job now; a failed job carries the message of its last error event (Together's jobs have no error
        field of their own)."""
        action = f"reading job {job_id} on together"
        job = self._view(_call(action, lambda: self.client.fine_tuning.retrieve(job_id)), action)
        if job.state == FAILED and job.error is None:
            errors = [e.message for e in self.events(job_id, 100) if e.level == "error" and e.message]
            if errors:
                job = dataclasses.replace(job, error=errors[-1])
        return job

    def list_jobs(self, limit: int) -> list[JobView]:
        """The most recent jobs, newest first."""
        action = "listing together's fine-tuning jobs"
        page = _call(action, lambda: self.client.fine_tuning.list())
        jobs = [self._view(job, action) for job in page.data or []]
        jobs.sort(key=lambda job: job.created_at or 0, reverse=True)
        return jobs[:limit]

    def events(self, job_id: str, limit: int) -> list[EventView]:
        """The job's events, oldest first."""
        page = _call(f"reading the events of job {job_id} on together",
                     lambda: self.client.fine_tuning.list_events(job_id))
        events = []
        for index, event in enumerate(page.data or []):
            data = event.to_dict(mode="json")
            events.append(EventView(f"{data.get('created_at')}#{index}", timestamp(data.get("created_at")),
                                    _text(data.get("level") or "info"), str(data.get("message") or ""), data))
        return events[-limit:]

    def cancel(self, job_id: str) -> JobView:
        """Ask the service to cancel the job."""
        action = f"cancelling job {job_id} on together"
        return self._view(_call(action, lambda: self.client.fine_tuning.cancel(job_id)), action)
