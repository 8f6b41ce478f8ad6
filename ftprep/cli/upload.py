"""``ftprep upload``: check, upload once, create the job, optionally follow it to the end."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ftprep.check import METHODS, CheckResult
from ftprep.cli.common import EXIT_FINDINGS, EXIT_OK, input_size, progress_bar, progress_enabled, quiet_option
from ftprep.config import Config, load_config
from ftprep.data.targets import Target
from ftprep.errors import ConfigError
from ftprep.extras import require
from ftprep.textsafe import dumps_json, escape_controls
from ftprep.upload.limits import (
    API_TIMEOUT_ENV,
    DEFAULT_API_TIMEOUT,
    DEFAULT_MULTIPART_THRESHOLD,
    DEFAULT_PART_SIZE,
    DEFAULT_POLL_INTERVAL,
)
from ftprep.upload.request_rules import JobRequest, request_problems, training_type_value
from ftprep.upload.secrets import redact
from ftprep.upload.targets import require_api, uses_openai_api

# The SDK-facing modules and the job request (pydantic) are imported inside the commands: importing `openai`
# costs half a second that every other ftprep command (check in a pre-commit hook) should not pay, and both
# come with the `upload` extra, which `ftprep --help` (it imports every command's module) must not need.
if TYPE_CHECKING:
    from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent

    from ftprep.upload.service import Figures, JobService, JobView, RemoteFile, ServiceFactory
    from ftprep.upload.spec import BuiltSpec, JobSpec, SpecFlags
    from ftprep.upload.uploader import CheckOutcome, OwnEstimate, ProgressCallback, UploadedFile

_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2, "mib": 1024**2,
          "g": 1024**3, "gb": 1024**3, "gib": 1024**3}  # fmt: skip


class ByteSize(click.ParamType[int, Any]):
    """A byte count: ``1048576``, ``256MB``, ``64MiB`` (binary units, as the API counts them)."""

    name = "bytes"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """Parse the size or fail with a usage error."""
        if isinstance(value, int):
            return value
        found = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", str(value))
        unit = found.group(2).lower() if found else ""
        if not found or unit not in _UNITS:
            self.fail(f"{value!r} is not a size; write e.g. 268435456, 256MB or 64MiB", param, ctx)
        return int(found.group(1)) * _UNITS[unit]


def output_format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--output-format text|json``."""
    return click.option(
        "--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
        help="Text for people, or one JSON document.",
    )(func)  # fmt: skip


def timeout_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--timeout SECONDS`` (or ``$FTPREP_API_TIMEOUT``): how long the API may stay silent."""
    return click.option(
        "--timeout", type=click.FloatRange(min=0, min_open=True), envvar=API_TIMEOUT_ENV,
        default=DEFAULT_API_TIMEOUT, show_default=True, metavar="SECONDS",
        help=f"Seconds the API may stay silent before a request fails; failed requests are retried a few "
             f"times, each retry shown on stderr (env: {API_TIMEOUT_ENV}).",
    )(func)  # fmt: skip


def safe_text(text: str) -> str:
    """Text an API or a file gave, fit to print: secrets masked, control characters escaped."""
    return escape_controls(redact(text))


def echo_json(data: Any) -> None:
    """Print one JSON document on stdout (secrets masked, control characters escaped, always valid)."""
    click.echo(redact(dumps_json(data, indent=True, default=str)))


def echo(text: str, *, err: bool = False) -> None:
    """Print a line that holds text from the API or a file (see :func:`safe_text`)."""
    click.echo(safe_text(text), err=err)


def note(message: str, *, quiet: bool = False) -> None:
    """Progress and chatter on stderr (never the key, never a raw control character)."""
    if not quiet:
        echo(message, err=True)


@contextmanager
def retries_on_stderr(quiet: bool) -> Iterator[None]:
    """Each retry of an API request shown on stderr while inside (unless ``quiet``)."""
    from ftprep.upload.client import retries_reported

    with retries_reported(lambda line: note(f"ftprep: {line}", quiet=quiet)):
        yield


def job_data(job: FineTuningJob) -> dict[str, Any]:
    """The job object as the API sent it (without pydantic's warnings about the SDK's grader union)."""
    data: dict[str, Any] = job.to_dict(warnings=False)
    return data


def event_line(event: FineTuningJobEvent) -> str:
    """``[level] message`` for one job event."""
    return f"[{event.level}] {event.message}"


def make_progress(enabled: bool) -> tuple[ProgressCallback | None, Callable[[], None]]:
    """A rich progress bar on stderr for multipart uploads, and the function that closes it."""
    if not enabled:
        return None, lambda: None
    from rich.console import Console
    from rich.markup import escape as rich_escape
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        console=Console(stderr=True), transient=False,
    )  # fmt: skip
    tasks: dict[str, Any] = {}

    def update(name: str, done: int, total: int) -> None:
        if name not in tasks:
            if not tasks:
                bar.start()
            tasks[name] = bar.add_task(f"uploading {rich_escape(escape_controls(name))}", total=total)
        bar.update(tasks[name], completed=done)

    def close() -> None:
        if tasks:
            bar.stop()

    return update, close


def render_gate_failure(result: CheckOutcome, output_format: str) -> None:
    """The check's errors, on stdout: the reason nothing was uploaded."""
    if output_format == "json":
        echo_json({"uploaded": False, "check": {"errors": result.errors,
                                                "findings": [f.to_dict() for f in result.findings]}})  # fmt: skip
    elif isinstance(result, CheckResult):
        # The check's own report, errors first: a file with 500,000 errors prints fifty and the totals.
        from ftprep.report import TEXT_MAX_FINDINGS, ReportOptions
        from ftprep.report.text import render

        click.echo(render(result, ReportOptions(max_findings=TEXT_MAX_FINDINGS)), nl=False)
    else:
        from ftprep.report.text import render_finding

        for finding in result.findings:
            if finding.severity.value == "error":
                click.echo(render_finding(finding))
    click.echo(
        f"ftprep: the check found {result.errors} error{'s' if result.errors != 1 else ''}; nothing was uploaded",
        err=True,
    )


def describe_file(field: str, uploaded: UploadedFile) -> str:
    """One line per file: id and what happened."""
    how = {"files": "uploaded", "uploads": "uploaded in parts", "record": "already uploaded, reused"}[uploaded.via]
    if uploaded.resumed_parts:
        how += f", resumed after {uploaded.resumed_parts} part(s)"
    return f"{field}: {uploaded.file_id} ({uploaded.path}, {how})"


@contextmanager
def _closing(close: Callable[[], None]) -> Iterator[None]:
    try:
        yield
    finally:
        close()


def _unknown(model: str, table: str) -> str:
    return (f"model {model!r} is not in {table} model table: the check uses the default model's limits and the "
            "service decides whether it can be fine-tuned")


def _n_epochs(spec: JobSpec) -> int | str | None:
    if spec.method is None:
        return None
    value = spec.method.hyperparameters().get("n_epochs")
    return value if isinstance(value, int | str) else None


@click.command("upload")
@click.argument("train", type=click.Path(dir_okay=False))
@click.option("--validation", type=click.Path(dir_okay=False), help="Validation file (checked for overlap too).")
@click.option("--model", help="Base model to fine-tune (or `model` in --job-spec).")
@click.option("--method", type=click.Choice(METHODS),
              help="Fine-tuning method; by default the file's, as `check` detects it (dpo for preference "
                   "pairs, else supervised). The job request always names the method the file was checked as.")
@click.option("--target", "target", help="Service: openai (default), azure, together, fireworks. Its check gates "
                                         "the upload; its request rules and quotas are checked before anything is "
                                         "sent.")
@click.option("--training-type", help="Azure training tier: global, standard, developer (or the API's value); sent "
                                      "as extra_body trainingType.")
@click.option("--suffix", help="Added to the fine-tuned model's name (OpenAI 1-64 characters; Azure 18, no dots).")
@click.option("--seed", type=int, help="Seed, 0-2147483647.")
@click.option("--metadata", multiple=True, metavar="KEY=VALUE", help="Job metadata (up to 16 pairs); repeatable.")
@click.option("--n-epochs", metavar="N|auto", help="Epochs, 1-50.")
@click.option("--batch-size", metavar="N|auto", help="Batch size, 1-256.")
@click.option("--learning-rate-multiplier", metavar="X|auto", help="Learning rate multiplier, > 0.")
@click.option("--beta", metavar="X|auto", help="DPO beta, in (0, 2].")
@click.option("--reasoning-effort", type=click.Choice(["default", "low", "medium", "high"]), help="RFT only.")
@click.option("--compute-multiplier", metavar="X|auto", help="RFT compute multiplier, > 0.")
@click.option("--eval-interval", metavar="N|auto", help="RFT steps between evaluations, >= 1.")
@click.option("--eval-samples", metavar="N|auto", help="RFT evaluation samples per step, >= 1.")
@click.option("--wandb-project", help="Send metrics to this Weights & Biases project.")
@click.option("--wandb-name", help="W&B run name.")
@click.option("--wandb-entity", help="W&B entity (team or user).")
@click.option("--wandb-tag", "wandb_tags", multiple=True, help="W&B run tag; repeatable.")
@click.option("--job-spec", type=click.Path(dir_okay=False, path_type=Path), help="Job parameters from .toml/.json.")
@click.option("--multipart-threshold", type=ByteSize(), default=None,
              help=f"Files larger than this go through the Uploads API in parts (default {DEFAULT_MULTIPART_THRESHOLD} "
                   "bytes; Azure: 100000000, Microsoft's advice).")  # fmt: skip
@click.option("--context-length", type=click.IntRange(min=1),
              help="Together: max_seq_length; Fireworks: max_context_length (a multiple of 16).")
@click.option("--part-size", type=ByteSize(), default=DEFAULT_PART_SIZE, show_default=True,
              help="Part size for the Uploads API (at most 64MB).")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Check, then print the requests that would be sent; send nothing.")
@click.option("--wait/--no-wait", default=False, show_default=True, help="Follow the job until it ends.")
@click.option("--poll-interval", type=click.FloatRange(min=0), default=DEFAULT_POLL_INTERVAL, show_default=True,
              help="Seconds between status polls with --wait.")  # fmt: skip
@timeout_option
@output_format_option
@quiet_option
def upload_command(
    train: str,
    validation: str | None,
    job_spec: Path | None,
    multipart_threshold: int | None,
    part_size: int,
    dry_run: bool,
    wait: bool,
    poll_interval: float,
    timeout: float,
    output_format: str,
    quiet: bool,
    metadata: tuple[str, ...],
    wandb_tags: tuple[str, ...],
    target: str | None,
    training_type: str | None,
    context_length: int | None,
    **settings: Any,
) -> int:
    """Check TRAIN (and --validation), upload them once, and create a fine-tuning job.

    Any error found by the check stops everything: nothing leaves the machine (exit 1). A bad job request
    is reported with every problem (exit 2). Files already uploaded with the same bytes are reused. The
    method follows the file, as in `check` (unless --method or the job spec names one), and the job
    request always names it.
    """
    require("openai", extra="upload", feature="ftprep upload")
    from ftprep.upload.client import make_client
    from ftprep.upload.spec import SpecFlags, load_spec_file, parse_auto_or_number, parse_metadata_pairs
    from ftprep.upload.uploader import check_upload_options, check_uploadable

    job_target = dataclasses.replace(TargetPlan.load(target, training_type), progress=progress_enabled(quiet))
    threshold = job_target.multipart_threshold(multipart_threshold)
    if not job_target.reachable:
        # The service's own check first, so a broken file exits 1 with its findings; then say why nothing is sent.
        gated = job_target.gate_only(train, validation, settings.get("model"), settings.get("method"), output_format)
        if gated != EXIT_OK:
            return gated
        job_target.require_api()
    numeric = ("n_epochs", "batch_size", "learning_rate_multiplier", "beta", "compute_multiplier",
               "eval_interval", "eval_samples")  # fmt: skip
    values: dict[str, Any] = {
        k: (parse_auto_or_number(v) if k in numeric and v is not None else v) for k, v in settings.items()
    }
    data = load_spec_file(job_spec) if job_spec else {}
    if values.get("model") is None and not data.get("model") and job_target.service is not None:
        # A service's jobs need a base model; without one, the target's default (the one its check measures).
        values["model"] = job_target.target.default_model
        note(f"ftprep: no --model: {job_target.target.name}'s default, {values['model']}", quiet=quiet)
    flags = SpecFlags(**values, metadata=parse_metadata_pairs(metadata), wandb_tags=tuple(wandb_tags))
    request = RequestPlan.build(data, flags,
                                source=f"{job_spec} + flags" if job_spec else "flags",
                                model_warning=job_target.model_check)
    check_upload_options(threshold, part_size)
    for path in (train, validation):
        if path is not None:
            check_uploadable(path)
    job_target.check_request(request.built.spec.suffix, context_length)
    run = RunOptions(wait=wait, poll_interval=poll_interval, output_format=output_format, quiet=quiet,
                     timeout=timeout, context_length=context_length)
    if job_target.service is not None:
        # The service's client is made after the check: a broken file exits 1 whether or not a key is set.
        with retries_on_stderr(quiet):
            return upload_to_service(job_target, train, validation, request, run, dry_run=dry_run)
    if dry_run:
        return _dry_run(train, validation, request, threshold, part_size, output_format, quiet, job_target)
    # The client is made (key and endpoint checked) before the long check, as before.
    job_target.require_api()
    client = make_client(timeout=timeout)
    with retries_on_stderr(quiet):
        return _upload(client, train, validation, request, threshold, part_size,
                       wait=wait, poll_interval=poll_interval, output_format=output_format, quiet=quiet,
                       job_target=job_target)


@dataclasses.dataclass(frozen=True, slots=True)
class RunOptions:
    """How ``upload`` runs: follow the job or not, output, and the service options outside the job request."""

    wait: bool
    poll_interval: float
    output_format: str
    quiet: bool
    timeout: float
    context_length: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class TargetPlan:
    """The service a job goes to: its check (the gate), its request rules and the extra body it needs."""

    target: Target
    config: Config
    training_type: str | None
    # A progress bar on stderr for the check and ftprep's own estimate (see progress_enabled).
    progress: bool = False

    @classmethod
    def load(cls, name: str | None, training_type: str | None) -> TargetPlan:
        """The target named (else the configuration's, else OpenAI), with its training type checked."""
        from ftprep.check import resolve_target

        config = load_config()
        job_target = resolve_target(name, config)
        plan = cls(job_target, config, training_type)
        if training_type is not None:
            problems = request_problems(job_target.params, JobRequest(training_type=training_type))
            if problems:
                raise ConfigError("; ".join(problems))
        return plan

    @property
    def reachable(self) -> bool:
        """Whether ftprep can send to this target."""
        return uses_openai_api(self.target) or self.service is not None

    @property
    def service(self) -> ServiceFactory | None:
        """The target's service (Together, Fireworks); None for OpenAI's jobs API (openai, azure)."""
        from ftprep.upload.service import service_class
        from ftprep.upload.targets import service_name

        name = service_name(self.target)
        return service_class(name) if name is not None else None

    def multipart_threshold(self, given: int | None) -> int:
        """``given``, else the target's (Azure: Microsoft's advice), else ftprep's default."""
        from ftprep.upload.limits import MULTIPART_THRESHOLDS

        if given is not None:
            return given
        for name in (self.target.name, self.target.inherits):
            if name in MULTIPART_THRESHOLDS:
                return MULTIPART_THRESHOLDS[name]
        return DEFAULT_MULTIPART_THRESHOLD

    @property
    def model_check(self) -> Callable[[str], str | None] | None:
        """How the job request's model is looked up: OpenAI's jobs API, in ftprep's model table (None, the
        default); another service, in the target's own table."""
        return None if uses_openai_api(self.target) else self._model_warning

    def _model_warning(self, model: str) -> str | None:
        return None if self._knows(model) else _unknown(model, f"ftprep's {self.target.name}")

    def _knows(self, model: str) -> bool:
        from ftprep.check import resolve_job_model

        try:
            resolve_job_model(self.target, model, self.config)
        except ConfigError:
            return False
        return True

    def require_api(self) -> None:
        """ConfigError when the target cannot be reached (or its environment is incomplete)."""
        require_api(self.target, "upload")

    def check_request(self, suffix: str | None, context_length: int | None = None) -> None:
        """The target's request rules (suffix, context length ...); ConfigError listing every problem, before
        anything is sent."""
        problems = request_problems(self.target.params, JobRequest(suffix=suffix, context_length=context_length))
        if problems:
            raise ConfigError("; ".join(problems))

    def gate(self, paths: Sequence[str], *, validation: str | None, model: str | None,
             method: str | None) -> CheckOutcome:
        """The target's full check (``model`` None: the target's default model)."""
        from ftprep.check import check_files

        with progress_bar("checking", self.progress, input_size(*paths, validation)) as advance:
            result: CheckOutcome = check_files(paths, validation=validation, model=model, method=method,
                                               target=self.target, config=self.config, progress=advance)
        return result

    def own_estimate(self, train: str, validation: str | None, spec: JobSpec, target: Target | None) -> OwnEstimate:
        """ftprep's own estimate of the job (``target`` None: OpenAI's table and epochs rule), with progress."""
        from ftprep.upload.uploader import own_estimate

        with progress_bar("estimating", self.progress, input_size(train, validation)) as advance:
            return own_estimate(train, validation=validation, model=spec.model, method=spec.method_type,
                                n_epochs=_n_epochs(spec), target=target, progress=advance)

    def gate_only(self, train: str, validation: str | None, model: str | None, method: str | None,
                  output_format: str) -> int:
        """Run the gate alone: exit 1 with the findings when it fails, else 0."""
        from ftprep.upload.uploader import CheckFailed, run_gate

        try:
            run_gate(self.gate, train, validation, model=model, method=method)
        except CheckFailed as failed:
            render_gate_failure(failed.result, output_format)
            return EXIT_FINDINGS
        return EXIT_OK

    @property
    def states_own_figures(self) -> bool:
        """Whether the target states its own models and epochs rule on top of OpenAI's (Azure)."""
        return self.target.name != "openai"

    def check_quotas(self, client: Any, registry: Any, train: str, validation: str | None) -> None:
        """The resource's file quotas (Azure: bytes and files per resource), from what ``files.list`` shows plus
        what this upload adds; ConfigError listing every quota broken, before any file is sent."""
        from ftprep.upload.quotas import new_files, quota_problems, stored_files
        from ftprep.upload.uploader import fingerprint

        params = self.target.params
        if params.max_total_bytes is None and params.max_files is None:
            return
        stored = stored_files(client)
        locals_ = [fingerprint(path) for path in (train, validation) if path is not None]
        sending = new_files([(f.name, f.size, f.sha256) for f in locals_], stored, registry)
        problems = quota_problems(params, stored, sending)
        if problems:
            raise ConfigError("; ".join(problems) + "; nothing was sent")

    @property
    def extra_body(self) -> dict[str, Any] | None:
        """Azure's training type, as its docs send it (``extra_body={"trainingType": ...}``)."""
        if self.training_type is None:
            return None
        value = training_type_value(self.target.params, self.training_type)
        return {"trainingType": value} if value is not None else None


@dataclasses.dataclass(frozen=True, slots=True)
class RequestPlan:
    """The job request as far as it is known before the check: validated, except the hyperparameters of a
    method that follows the file (their method is known once the check detected it, see :meth:`final`)."""

    data: Mapping[str, Any]
    flags: SpecFlags
    source: str
    built: BuiltSpec
    method_named: bool

    model_warning: Callable[[str], str | None] | None = None

    @classmethod
    def build(cls, data: Mapping[str, Any], flags: SpecFlags, *, source: str,
              model_warning: Callable[[str], str | None] | None = None) -> RequestPlan:
        """Validate what can be validated now (every problem of a named-method request; ConfigError).
        ``model_warning``: the target's word on an unknown model (default: OpenAI's model table)."""
        method = data.get("method")
        named = flags.method is not None or (isinstance(method, Mapping) and method.get("type") is not None)
        # Hyperparameter flags belong under the method, which follows the file when none is named: they
        # are validated in final(), still before anything is sent.
        from ftprep.upload.spec import build_job_spec

        early = flags if named else flags.without_hyperparameters()
        built = build_job_spec(data, early, source=source, model_warning=model_warning)
        return cls(data, flags, source, built, named, model_warning)

    @property
    def gate_model(self) -> str | None:
        """The model the check measures against (None: unknown to ftprep, the check's default)."""
        return self.built.spec.model if self.built.model_known else None

    @property
    def gate_method(self) -> str | None:
        """The method to check the file as (None: detect it from the rows)."""
        return self.built.spec.method_type if self.method_named else None

    def final(self, checked_as: str) -> BuiltSpec:
        """The request for a file the check held to ``checked_as``: that method, always named."""
        from ftprep.upload.spec import build_job_spec

        if self.method_named:
            built = self.built
        else:
            built = build_job_spec(self.data, self.flags, source=self.source, default_method=checked_as,
                                   model_warning=self.model_warning)
        for warning in built.warnings:
            click.echo(f"ftprep: warning: {safe_text(warning)}", err=True)
        return dataclasses.replace(built, spec=built.spec.with_method(checked_as))


def _upload(client: Any, train: str, validation: str | None, request: RequestPlan, multipart_threshold: int,
            part_size: int, *, wait: bool, poll_interval: float, output_format: str, quiet: bool,
            job_target: TargetPlan) -> int:
    from ftprep.upload.client import base_url_of
    from ftprep.upload.follow import follow_job
    from ftprep.upload.registry import FileRegistry
    from ftprep.upload.uploader import CheckFailed, Uploader, checked_method

    progress, close_progress = make_progress(progress_enabled(quiet))
    # One record per target and account (an Azure resource is its own base URL); the record names the target.
    registry = FileRegistry(base_url_of(client), target=job_target.target.name)
    uploader = Uploader(client, registry, multipart_threshold=multipart_threshold, part_size=part_size,
                        progress=progress, gate=job_target.gate)
    try:
        outcome = uploader.check(train, validation, model=request.gate_model, method=request.gate_method)
    except CheckFailed as failed:
        render_gate_failure(failed.result, output_format)
        return EXIT_FINDINGS
    method = checked_method(outcome, request.gate_method)
    built = request.final(method)  # a bad request: ConfigError (exit 2), nothing sent
    spec = built.spec
    # OpenAI keeps its own model table and epochs rule (target None); another target (Azure) states its own.
    own_target = job_target.target if job_target.states_own_figures else None
    estimate = job_target.own_estimate(train, validation, spec, own_target)
    check_budget(job_target, estimate.trained_tokens)
    job_target.check_quotas(client, uploader.registry, train, validation)
    with _closing(close_progress):
        files = uploader.upload_files(train, validation, method=method)
    uploaded = [("training_file", files.training)]
    if files.validation is not None:
        uploaded.append(("validation_file", files.validation))
    for field, item in uploaded:
        note(describe_file(field, item), quiet=quiet or output_format == "json")
    job = uploader.create_job(
        spec.with_files(files.training.file_id, files.validation.file_id if files.validation else None),
        extra_body=job_target.extra_body,
    )
    note(f"created job {job.id} (status {job.status})", quiet=quiet or output_format == "json")
    uploader.registry.remember_job(job.id, {
        "estimated_trained_tokens": estimate.trained_tokens, "training_file": files.training.file_id,
        "training_path": str(train), "model": spec.model, "target": job_target.target.name,
    })  # fmt: skip

    result: dict[str, Any] = {
        "files": {field: item.to_dict() for field, item in uploaded},
        "job": job_data(job),
        "method": method,
        "warnings": list(built.warnings),
    }
    code = EXIT_OK
    if wait:
        chatter, created = quiet, job.id
        try:
            job = follow_job(
                client, created, poll_interval=poll_interval,
                on_status=lambda j: note(f"{j.id}: {j.status}", quiet=chatter),
                on_event=lambda e: note(event_line(e), quiet=chatter),
            )  # fmt: skip
        except KeyboardInterrupt:
            # Stopping the wait does not stop the job, which is already paid for; say how to pick it up.
            click.echo(f"ftprep: stopped following; job {created} continues: ftprep jobs wait {created}", err=True)
            return 130
        result["job"] = job_data(job)
        result["fine_tuned_model"] = job.fine_tuned_model
        result["trained_tokens"] = job.trained_tokens
        code = EXIT_OK if job.status == "succeeded" else EXIT_FINDINGS
    result["estimated_trained_tokens"] = estimate.trained_tokens
    if estimate.note:
        result["notes"] = [estimate.note]

    if output_format == "json":
        echo_json(result)
    else:
        _render_text(result, job, wait)
    if code != EXIT_OK:
        explain_unfinished(job)
    return code


def outcome_lines(fine_tuned_model: str | None, tokens_field: str, reported: int | None, estimate: Any, *,
                  say_trained: bool = False) -> None:
    """The model a job made and the tokens the service reports, beside ftprep's estimate (``say_trained``: the
    estimate is named as trained tokens, where the service's field has another name)."""
    if fine_tuned_model:
        echo(f"fine_tuned_model: {fine_tuned_model}")
    if reported is not None:
        mine = f" (ftprep estimated {estimate}{' trained' if say_trained else ''})" if estimate is not None else ""
        echo(f"{tokens_field}: {reported}{mine}")


def _render_text(result: dict[str, Any], job: FineTuningJob, waited: bool) -> None:
    echo(f"job: {job.id}")
    for field, item in result["files"].items():
        echo(f"{field}: {item['id']}")
    echo(f"method: {result['method']}")
    if waited:
        echo(f"status: {job.status}")
        outcome_lines(job.fine_tuned_model, "trained_tokens", job.trained_tokens,
                      result.get("estimated_trained_tokens"))
    for extra in result.get("notes", []):
        echo(f"note: {extra}", err=True)


def explain_unfinished(job: FineTuningJob) -> None:
    """Why a followed job did not succeed, on stderr: the API's error message, or what to do next."""
    if job.status == "failed":
        reason = getattr(job.error, "message", None) or "no reason given by the API"
        echo(f"ftprep: job {job.id} failed: {reason}", err=True)
    elif str(job.status) == "paused":  # not in the SDK's status list yet, but the API reports it
        echo(f"ftprep: job {job.id} is paused; resume it with: ftprep jobs resume {job.id}", err=True)
    else:
        echo(f"ftprep: job {job.id} ended as {job.status}", err=True)


def _dry_run(
    train: str,
    validation: str | None,
    request: RequestPlan,
    multipart_threshold: int,
    part_size: int,
    output_format: str,
    quiet: bool,
    job_target: TargetPlan,
) -> int:
    from ftprep.upload.client import configured_base_url
    from ftprep.upload.registry import FileRegistry
    from ftprep.upload.uploader import CheckFailed, checked_method, fingerprint, plan_requests, run_gate

    try:
        outcome = run_gate(job_target.gate, train, validation, model=request.gate_model, method=request.gate_method)
    except CheckFailed as failed:
        render_gate_failure(failed.result, output_format)
        return EXIT_FINDINGS
    spec = request.final(checked_method(outcome, request.gate_method)).spec
    base_url = configured_base_url()
    files = [("training_file", fingerprint(train))]
    if validation is not None:
        files.append(("validation_file", fingerprint(validation)))
    if not job_target.reachable:
        job_target.require_api()
    requests = plan_requests(
        files, spec, base_url=base_url, registry=FileRegistry(base_url, target=job_target.target.name),
        multipart_threshold=multipart_threshold, part_size=part_size,
    )  # fmt: skip
    if job_target.extra_body:
        requests[-1]["json"] = {**requests[-1]["json"], **job_target.extra_body}
    params = job_target.target.params
    if params.max_total_bytes is not None or params.max_files is not None:
        requests.insert(0, {"method": "GET", "url": f"{base_url}/files",
                            "note": f"the files the resource holds, to check {params.name}'s quotas before any file "
                                    "is sent"})  # fmt: skip
    return print_plan(requests, output_format, quiet)


def own_figures(train: str, validation: str | None, spec: JobSpec, job_target: TargetPlan) -> Figures:
    """ftprep's estimate of the job on the target (tokens x epochs, cost), before anything is sent."""
    from ftprep.upload.service import Figures

    estimate = job_target.own_estimate(train, validation, spec, job_target.target)
    if estimate.note:
        click.echo(f"ftprep: note: {safe_text(estimate.note)}", err=True)
    return Figures(estimate.trained_tokens, estimate.n_epochs, estimate.cost_usd)


def check_budget(job_target: TargetPlan, trained_tokens: int | None) -> None:
    """The target's tokens x epochs budget per job (Azure: 2 billion) against ftprep's estimate; ConfigError."""
    from ftprep.upload.quotas import budget_problems

    problems = budget_problems(job_target.target.params, trained_tokens)
    if problems:
        raise ConfigError("; ".join(problems) + "; nothing was sent")


def upload_to_service(job_target: TargetPlan, train: str, validation: str | None, request: RequestPlan,
                      run: RunOptions, *, dry_run: bool) -> int:
    """Check, then upload through the target's service (Together, Fireworks), show its estimate beside ftprep's,
    create the job and optionally follow it. Nothing is sent when the check or the request fails."""
    from ftprep.upload.uploader import CheckFailed, checked_method, fingerprint, run_gate

    try:
        outcome = run_gate(job_target.gate, train, validation, model=request.gate_model, method=request.gate_method)
    except CheckFailed as failed:
        render_gate_failure(failed.result, run.output_format)
        return EXIT_FINDINGS
    spec = request.final(checked_method(outcome, request.gate_method)).spec
    figures = own_figures(train, validation, spec, job_target)
    check_budget(job_target, figures.trained_tokens)
    factory = job_target.service
    if factory is None:
        raise ConfigError(f"{job_target.target.name} has no service of its own: it takes OpenAI's jobs API")
    service = factory(timeout=run.timeout, context_length=run.context_length, offline=dry_run)
    problems = service.request_problems(spec)
    if problems:
        raise ConfigError(f"the job request does not fit {service.target}: " + "; ".join(problems)
                          + "; nothing was sent")
    files = [("training_file", fingerprint(train))]
    if validation is not None:
        files.append(("validation_file", fingerprint(validation)))
    if dry_run:
        return print_plan(service.plan(files, spec, figures), run.output_format, run.quiet)
    service.validate(spec, figures)
    return _send_to_service(service, files, spec, figures, run)


def print_plan(requests: list[dict[str, Any]], output_format: str, quiet: bool) -> int:
    """``--dry-run``'s output: each request that would be sent (method, URL, body or note); exit 0."""
    if output_format == "json":
        echo_json({"dry_run": True, "requests": requests})
        return EXIT_OK
    for planned in requests:
        echo(f"{planned['method']} {planned['url']}")
        for key in ("note", "json", "multipart"):
            if key in planned:
                text = planned[key] if isinstance(planned[key], str) else dumps_json(planned[key], indent=True)
                click.echo("  " + "\n  ".join(safe_text(line) for line in text.split("\n")))
    note("dry run: nothing was sent", quiet=quiet)
    return EXIT_OK


def _send_to_service(service: JobService, files: list[tuple[str, Any]], spec: JobSpec, figures: Figures,
                     run: RunOptions) -> int:
    from ftprep.upload.service import FAILED, SUCCEEDED, FileRejected, follow

    chatter = run.quiet or run.output_format == "json"
    sent: dict[str, RemoteFile] = {}
    for role, local in files:
        try:
            sent[role] = service.upload(local)
        except FileRejected as rejected:
            click.echo(f"ftprep: {safe_text(str(rejected))}", err=True)
            return EXIT_FINDINGS
        item = sent[role]
        how = "already uploaded, reused" if item.reused else f"uploaded to {service.target}"
        note(f"{role}: {item.file_id} ({item.path}, {how})", quiet=chatter)
    training, checked = sent["training_file"], sent.get("validation_file")
    service_figures = service.preflight(spec, training, checked, figures)
    for line in service_figures:
        note(line, quiet=run.quiet)
    job = service.create_job(spec, training, checked, figures)
    note(f"created job {job.id} on {service.target} (status {job.status})", quiet=chatter)
    service.registry.remember_job(job.id, {
        "estimated_trained_tokens": figures.trained_tokens, "estimated_n_epochs": figures.n_epochs,
        "training_file": training.file_id, "training_path": training.path, "model": spec.model,
        "target": service.target,
    })  # fmt: skip
    code = EXIT_OK
    if run.wait:
        try:
            job = follow(service, job.id, poll_interval=run.poll_interval,
                         on_status=lambda j: note(f"{j.id}: {j.status}", quiet=run.quiet),
                         on_event=lambda e: note(f"[{e.level}] {e.message}", quiet=run.quiet))
        except KeyboardInterrupt:
            click.echo(f"ftprep: stopped following; job {job.id} continues: "
                       f"ftprep jobs --target {service.target} wait {job.id}", err=True)
            return 130
        code = EXIT_OK if job.state == SUCCEEDED else EXIT_FINDINGS
    result: dict[str, Any] = {
        "target": service.target, "files": {role: item.to_dict() for role, item in sent.items()},
        "job": dict(job.data), "method": spec.method_type, "service_estimate": service_figures,
        "estimated_trained_tokens": figures.trained_tokens, "estimated_n_epochs": figures.n_epochs,
    }  # fmt: skip
    if run.output_format == "json":
        echo_json(result)
    else:
        render_service_job(job, figures.trained_tokens, waited=run.wait)
    if code != EXIT_OK:
        reason = f": {job.error}" if job.error else ""
        word = "failed" if job.state == FAILED else f"ended as {job.status}"
        echo(f"ftprep: job {job.id} {word}{reason}", err=True)
    return code


def render_service_job(job: JobView, estimate: int | None, *, waited: bool) -> None:
    """What ``upload`` prints for a job on a service: id, files, method; status and tokens once it ended."""
    echo(f"job: {job.id}")
    for field, value in (("training_file", job.training_file), ("validation_file", job.validation_file),
                         ("method", job.method)):
        if value:
            echo(f"{field}: {value}")
    if waited:
        echo(f"status: {job.status}")
        outcome_lines(job.fine_tuned_model, job.tokens_field, job.reported_tokens, estimate, say_trained=True)
