"""Fireworks AI through its official ``fireworks-ai`` SDK: a dataset per checked file (named by the file's sha256,
so the same bytes are uploaded once per account), uploaded directly up to the target's ``max_file_bytes`` (150 MB)
or through a signed URL above it; supervised or DPO jobs; reading, listing, following and cancelling them.

The SDK decides the endpoint and the key: ``FIREWORKS_API_KEY``, ``FIREWORKS_ACCOUNT_ID``, ``FIREWORKS_BASE_URL``
(default ``https://api.fireworks.ai``). The signed URL receives the bytes from a plain HTTP client that carries no
Fireworks credentials (as the SDK's own ``fireworks.lib.dataset_upload`` does); it must be https unless the API's
base URL is itself plain http (a local stand-in).
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import fireworks
import httpx

from ftprep.errors import ConfigError, InputError, UploadError
from ftprep.textsafe import escape_controls
from ftprep.upload.answers import describe_value
from ftprep.upload.client import CONNECT_TIMEOUT, DEFAULT_MAX_RETRIES, api_error
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

# Used when the target states no max_file_bytes: the SDK's datasets.upload docstring, "up to 150Mb".
DIRECT_UPLOAD_BYTES = 150_000_000
# Fireworks' job states (fireworks/types/supervised_fine_tuning_job.py) mapped to ftprep's job states.
STATES = {"JOB_STATE_COMPLETED": SUCCEEDED, "JOB_STATE_EARLY_STOPPED": SUCCEEDED, "JOB_STATE_FAILED": FAILED,
          "JOB_STATE_EXPIRED": FAILED, "JOB_STATE_CANCELLED": CANCELLED}  # fmt: skip
# The two job collections ftprep creates in: (kind in the URL, method).
KINDS = (("supervisedFineTuningJobs", "supervised"), ("dpoJobs", "dpo"))
WANDB_KEY_ENV = "WANDB_API_KEY"
DATASET_POLL_INTERVAL = 2.0
T = TypeVar("T")


def _call(action: str, func: Callable[[], T]) -> T:
    return sdk_call(action, func, fireworks, fireworks.FireworksError, "FIREWORKS_BASE_URL", "Fireworks")


def _transient(exc: BaseException) -> bool:
    return transient(exc, fireworks.APIConnectionError, fireworks.APIStatusError)


def dataset_id(sha256: str) -> str:
    """The dataset id for a file's bytes: the same bytes, the same dataset (ids: lowercase, digits, hyphens)."""
    return f"ftprep-{sha256[:32]}"


class FireworksService:
    """The :class:`~ftprep.upload.service.JobService` for ``--target fireworks``."""

    target = "fireworks"

    def __init__(self, *, timeout: float, context_length: int | None = None, offline: bool = False,
                 client: fireworks.Fireworks | None = None, registry: FileRegistry | None = None,
                 direct_upload_bytes: int | None = None) -> None:
        # offline (--dry-run): nothing is sent, so no key is needed; the SDK still decides the base URL.
        key = (os.environ.get("FIREWORKS_API_KEY") or "unused") if offline else None
        try:
            self.client = client or fireworks.Fireworks(
                max_retries=DEFAULT_MAX_RETRIES, timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
                api_key=key)
        except fireworks.FireworksError as exc:
            raise ConfigError(f"--target fireworks: {redact(str(exc))}") from None
        account = self.client.account_id or ("<FIREWORKS_ACCOUNT_ID>" if offline else None)
        if not account:
            raise ConfigError("--target fireworks: set FIREWORKS_ACCOUNT_ID (your account id, as in "
                              "accounts/<id>/datasets)")
        self.account = account
        self.base_url = strip_userinfo(str(self.client.base_url)).rstrip("/")
        self.registry = registry or FileRegistry(self.base_url, target=self.target, account=account)
        self.context_length = context_length
        self.direct_upload_bytes = direct_upload_bytes or DIRECT_UPLOAD_BYTES
        self.timeout = timeout

    # -- the request ---------------------------------------------------------------------------------------
    def request_problems(self, spec: JobSpec) -> list[str]:
        """Parts of an OpenAI-shaped job request Fireworks has no place for (named, with the fix)."""
        problems: list[str] = []
        method = spec.method_type or "supervised"
        if method not in dict((m, k) for k, m in KINDS):
            problems.append(f"ftprep sends supervised and dpo jobs to fireworks, not {method}")
        hyper = spec.method.hyperparameters() if spec.method else {}
        if "learning_rate_multiplier" in hyper:
            problems.append("fireworks takes an absolute learning rate, not OpenAI's multiplier: drop "
                            "--learning-rate-multiplier")
        if "batch_size" in hyper and hyper["batch_size"] != "auto":
            problems.append("fireworks counts its batch size in tokens, not examples: drop --batch-size")
        if "beta" in hyper and hyper["beta"] != "auto":
            problems.append("fireworks' DPO jobs document no beta: drop --beta")
        if spec.metadata:
            problems.append("fireworks jobs have no metadata: drop --metadata")
        if spec.seed is not None:
            problems.append("fireworks jobs take no seed: drop --seed")
        for integration in spec.integrations or []:
            if integration.wandb.tags or integration.wandb.name:
                problems.append("fireworks takes a W&B project and entity only: drop --wandb-name and --wandb-tag")
            if not os.environ.get(WANDB_KEY_ENV):
                problems.append(f"fireworks sends metrics to W&B with your W&B key: set {WANDB_KEY_ENV}")
        return problems

    def _dataset_name(self, did: str) -> str:
        return f"accounts/{self.account}/datasets/{did}"

    def job_request(self, spec: JobSpec, training: str, validation: str | None,
                    figures: Figures) -> tuple[str, dict[str, Any]]:
        """The job collection (``supervisedFineTuningJobs`` or ``dpoJobs``) and the keyword arguments of its
        ``create``; ``training``/``validation`` are dataset ids."""
        hyper = spec.method.hyperparameters() if spec.method else {}
        epochs = hyper.get("n_epochs")
        config: dict[str, Any] = {"base_model": spec.model,
                                  "epochs": epochs if isinstance(epochs, int) else (figures.n_epochs or 1)}
        if self.context_length is not None:
            config["max_context_length"] = self.context_length
        args: dict[str, Any] = {"dataset": self._dataset_name(training)}
        if spec.suffix is not None:
            args["display_name"] = spec.suffix
        for integration in spec.integrations or []:
            wandb: dict[str, Any] = {"enabled": True, "project": integration.wandb.project,
                                     "api_key": os.environ.get(WANDB_KEY_ENV)}
            if integration.wandb.entity:
                wandb["entity"] = integration.wandb.entity
            args["wandb_config"] = wandb
        if (spec.method_type or "supervised") == "dpo":
            if validation is not None:
                config["evaluation_dataset"] = self._dataset_name(validation)
            return "dpoJobs", {**args, "training_config": config, "loss_config": {"method": "DPO"}}
        if validation is not None:
            args["evaluation_dataset"] = self._dataset_name(validation)
        return "supervisedFineTuningJobs", {**args, **config}

    def validate(self, spec: JobSpec, figures: Figures) -> None:
        """Fireworks documents no endpoint that checks a job request before it is created: nothing to ask."""

    def plan(self, files: Sequence[tuple[str, Any]], spec: JobSpec, figures: Figures) -> list[dict[str, Any]]:
        """The requests an upload would send, in order (``--dry-run``)."""
        base = f"{self.base_url}/v1/accounts/{self.account}"
        requests: list[dict[str, Any]] = []
        ids: dict[str, str] = {}
        for role, local in files:
            did = dataset_id(local.sha256)
            ids[role] = did
            requests.append({"method": "GET", "url": f"{base}/datasets/{did}",
                             "note": f"a dataset of these bytes already there and READY is reused, and the requests "
                                     f"below for {local.name} are not sent"})  # fmt: skip
            requests.append({"method": "POST", "url": f"{base}/datasets",
                             "json": {"datasetId": did, "dataset": self._dataset_body(local)}})
            if local.size <= self.direct_upload_bytes:
                requests.append({"method": "POST", "url": f"{base}/datasets/{did}:upload",
                                 "multipart": {"file": {"filename": local.name, "bytes": local.size,
                                                        "sha256": local.sha256}}})  # fmt: skip
            else:
                requests += [
                    {"method": "POST", "url": f"{base}/datasets/{did}:getUploadEndpoint",
                     "json": {"filenameToSize": {local.name: str(local.size)}}},
                    {"method": "PUT", "url": "<signed URL>",
                     "note": f"the {local.size} bytes of {local.name}, without Fireworks credentials"},
                    {"method": "POST", "url": f"{base}/datasets/{did}:validateUpload", "json": {}},
                ]  # fmt: skip
            requests.append({"method": "GET", "url": f"{base}/datasets/{did}", "note": "until the dataset is READY"})
        kind, arguments = self.job_request(spec, ids["training_file"], ids.get("validation_file"), figures)
        wandb = arguments.get("wandb_config")
        if isinstance(wandb, dict) and wandb.get("api_key"):
            arguments["wandb_config"] = {**wandb, "api_key": "[redacted]"}
        requests.append({"method": "POST", "url": f"{base}/{kind}", "json": arguments})
        return requests

    # -- files -----------------------------------------------------------------------------------------------
    @staticmethod
    def _dataset_body(local: Any) -> dict[str, Any]:
        with open(local.path, "rb") as handle:
            lines = sum(1 for _ in handle)
        return {"displayName": local.name[:200], "exampleCount": str(lines), "userUploaded": {}}

    def upload(self, local: Any) -> RemoteFile:
        """Create the file's dataset and upload its bytes (or reuse the dataset of the same bytes)."""
        did = dataset_id(local.sha256)
        existing = self._dataset(did)
        if existing is not None and existing.state == "READY":
            self.registry.remember(local.sha256, FileRecord(did, local.size, local.name, int(time.time())))
            return RemoteFile(local.path, did, local.sha256, local.size, True, "record")
        if existing is None:
            try:
                body = self._dataset_body(local)
            except OSError as exc:
                raise InputError(f"{local.path}: cannot read: {exc.strerror or exc}") from None
            dataset = {"display_name": body["displayName"], "example_count": body["exampleCount"],
                       "user_uploaded": {}}  # fmt: skip
            _call(f"creating the dataset for {local.name} on fireworks",
                  lambda: self.client.datasets.create(dataset_id=did, dataset=dataset))  # type: ignore[arg-type]
        action = f"uploading {local.name} to fireworks"
        if local.size <= self.direct_upload_bytes:
            with open(local.path, "rb") as handle:
                content = handle.read()
            _call(action, lambda: self.client.datasets.upload(did, file=(local.name, content, "application/jsonl")))
            via = "files"
        else:
            _call(action, lambda: with_upload_retries(action, lambda: self._signed_upload(did, local), _transient))
            via = "signed-url"
        self._wait_ready(local, did)
        self.registry.remember(local.sha256, FileRecord(did, local.size, local.name, int(time.time())))
        return RemoteFile(local.path, did, local.sha256, local.size, False, via)

    def _dataset(self, did: str) -> Any:
        try:
            return self.client.datasets.get(did)
        except fireworks.NotFoundError:
            return None
        except fireworks.FireworksError as exc:
            raise api_error(exc, f"reading dataset {did} on fireworks", fireworks) from None

    def _signed_upload(self, did: str, local: Any) -> None:
        answer = self.client.datasets.get_upload_endpoint(did, filename_to_size={local.name: str(local.size)})
        url = (answer.filename_to_signed_urls or {}).get(local.name)
        if not url:
            raise UploadError(f"fireworks gave no signed URL for {local.name}")
        insecure_ok = httpx.URL(self.base_url).scheme == "http"
        if httpx.URL(url).scheme != "https" and not insecure_ok:
            raise UploadError(f"fireworks gave a signed URL that is not https for {local.name}; nothing was sent")
        # A plain client: the signed URL must never receive the Fireworks key. Both headers are part of the
        # URL's signature.
        with httpx.Client(timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, CONNECT_TIMEOUT))) as http, \
                open(local.path, "rb") as handle:
            response = http.put(url, content=handle, headers={
                "Content-Type": "application/octet-stream",
                "X-Goog-Content-Length-Range": f"{local.size},{local.size}"})
        response.raise_for_status()
        self.client.datasets.validate_upload(did, body={})

    def _wait_ready(self, local: Any, did: str, limit: float = 1800.0) -> None:
        started = time.monotonic()
        while True:
            dataset = _call(f"reading dataset {did} on fireworks", lambda: self.client.datasets.get(did))
            status = dataset.status
            code = getattr(status, "code", None)
            if code not in (None, "OK"):
                message = getattr(status, "message", None) or str(code)
                raise FileRejected(escape_controls(redact(rejection_message(local.path, message, "Fireworks"))))
            if dataset.state == "READY":
                return
            if time.monotonic() - started > limit:
                raise UploadError(f"fireworks' dataset {did} is not READY after {limit:.0f} s; run the same command "
                                  "later: the dataset is reused once it is ready")
            time.sleep(DATASET_POLL_INTERVAL)

    # -- jobs ------------------------------------------------------------------------------------------------
    def preflight(self, spec: JobSpec, training: RemoteFile, validation: RemoteFile | None,
                  figures: Figures) -> list[str]:
        """Fireworks documents no price estimate or preview endpoint: ftprep's figures alone."""
        if figures.trained_tokens is None:
            return []
        cost = f", ${figures.cost_usd:,.2f}" if figures.cost_usd is not None else ""
        return [f"ftprep: {figures.tokens_per_epoch:,} tokens per epoch x {figures.n_epochs} = "
                f"{figures.trained_tokens:,} trained{cost} (fireworks offers no estimate of its own)"]

    def create_job(self, spec: JobSpec, training: RemoteFile, validation: RemoteFile | None,
                   figures: Figures) -> JobView:
        """Create the supervised or DPO job."""
        kind, arguments = self.job_request(spec, training.file_id, validation.file_id if validation else None,
                                           figures)
        resource = self._jobs(kind)
        action = f"creating the fine-tuning job on fireworks ({kind})"
        try:
            job = _call(action, lambda: resource.create(**arguments))
        except UploadError as exc:
            raise UploadError(f"{exc}; the datasets are uploaded and are reused by the next run") from None
        return self._view(job, kind, action)

    def _jobs(self, kind: str) -> Any:
        return self.client.dpo_jobs if kind == "dpoJobs" else self.client.supervised_fine_tuning_jobs

    def _view(self, job: Any, kind: str, action: str) -> JobView:
        data: dict[str, Any] = job.to_dict(mode="json")
        name = data.get("name")
        if not isinstance(name, str) or "/" not in name:
            raise UploadError(f"{action} failed: the answer has no job name (got {describe_value(name)})")
        state = str(data.get("state") or "JOB_STATE_UNSPECIFIED")
        status_data, config_data = data.get("status"), data.get("trainingConfig")
        status: dict[str, Any] = status_data if isinstance(status_data, dict) else {}
        config: dict[str, Any] = config_data if isinstance(config_data, dict) else data
        evaluation = config.get("evaluationDataset") or data.get("evaluationDataset")
        return JobView(
            id=name.rsplit("/", 1)[-1], status=state, state=STATES.get(state, RUNNING),
            model=config.get("baseModel"), fine_tuned_model=config.get("outputModel") or data.get("outputModel"),
            created_at=timestamp(data.get("createTime")), reported_tokens=None, tokens_field="tokens",
            error=status.get("message") or None, training_file=data.get("dataset"),
            validation_file=evaluation, method=dict(KINDS).get(kind), data=data,
        )  # fmt: skip

    def _find(self, job_id: str) -> tuple[str, Any]:
        for kind, _ in KINDS:
            try:
                return kind, self._jobs(kind).get(job_id)
            except fireworks.NotFoundError:
                continue
            except fireworks.FireworksError as exc:
                raise api_error(exc, f"reading job {job_id} on fireworks", fireworks) from None
        raise UploadError(f"fireworks has no supervised or DPO job {job_id} in account {self.account}")

    def retrieve(self, job_id: str) -> JobView:
        """The job now (supervised or DPO)."""
        kind, job = self._find(job_id)
        return self._view(job, kind, f"reading job {job_id} on fireworks")

    def list_jobs(self, limit: int) -> list[JobView]:
        """The most recent supervised and DPO jobs, newest first."""
        jobs: list[JobView] = []
        for kind, _ in KINDS:
            jobs += self._list(kind, limit)
        jobs.sort(key=lambda job: job.created_at or 0, reverse=True)
        return jobs[:limit]

    def _list(self, kind: str, limit: int) -> list[JobView]:
        action = f"listing fireworks' {kind}"
        page = _call(action, lambda: self._jobs(kind).list(page_size=limit))
        return [self._view(job, kind, action) for job in _call(action, lambda: list(itertools.islice(page, limit)))]

    def events(self, job_id: str, limit: int) -> list[EventView] | None:
        """Fireworks documents no job events: None (its job state and status message stand for them)."""
        return None

    def cancel(self, job_id: str) -> JobView:
        """Cancel the job, then read it back."""
        kind, _ = self._find(job_id)
        _call(f"cancelling job {job_id} on fireworks", lambda: self._jobs(kind).cancel(job_id, body={}))
        return self.retrieve(job_id)
