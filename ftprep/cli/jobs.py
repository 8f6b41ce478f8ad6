"""``ftprep jobs list|show|events|wait|cancel|pause|resume``: fine-tuning job control."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from ftprep.cli.common import EXIT_FINDINGS, EXIT_OK, quiet_option
from ftprep.cli.upload import (
    echo,
    echo_json,
    event_line,
    explain_unfinished,
    job_data,
    note,
    outcome_lines,
    output_format_option,
    retries_on_stderr,
    safe_text,
    timeout_option,
)
from ftprep.errors import ConfigError
from ftprep.extras import require
from ftprep.textsafe import dumps_json
from ftprep.upload.limits import DEFAULT_POLL_INTERVAL

# The SDK is imported inside the commands (see ftprep.cli.upload).
if TYPE_CHECKING:
    import openai
    from openai.types.fine_tuning import FineTuningJob

    from ftprep.upload.service import JobService, JobView


def _when(timestamp: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(timestamp)) if timestamp else "-"


def _call(action: str, func: Callable[[], FineTuningJob]) -> FineTuningJob:
    from openai.types.fine_tuning import FineTuningJob

    from ftprep.upload.answers import call_api, expect_field, expect_object

    job = expect_object(call_api(action, func), FineTuningJob, action, what="fine-tuning job")
    expect_field(job, "status", str, action)
    return job


@contextmanager
def _client(timeout: float, quiet: bool = False) -> Iterator[openai.OpenAI]:
    """The API client, with each retry of a request shown on stderr while it is used."""
    require("openai", extra="upload", feature="ftprep jobs")
    from ftprep.upload.client import make_client

    client = make_client(timeout=timeout)
    with retries_on_stderr(quiet):
        yield client


def _summary(job_id: str, status: str, model: str | None, tuned: str | None, created: int | None) -> str:
    """One row of ``jobs list``, the same shape for every target."""
    return f"{job_id}  {status:<16} {model}  {tuned or '-'}  {_when(created)}"


def _job_summary(job: FineTuningJob) -> str:
    return _summary(job.id, job.status, job.model, job.fine_tuned_model, job.created_at)


def _target_name() -> str:
    target = click.get_current_context().find_root().meta.get("ftprep.jobs.target")
    return target if isinstance(target, str) else "openai"


def _estimate_of(client: openai.OpenAI, job_id: str) -> int | None:
    from ftprep.upload.client import base_url_of
    from ftprep.upload.registry import FileRegistry

    info = FileRegistry(base_url_of(client), target=_target_name()).job_info(job_id)
    value = info.get("estimated_trained_tokens") if info else None
    return value if isinstance(value, int) else None


def _service(timeout: float) -> JobService | None:
    """The target's service (Together, Fireworks), or None for OpenAI's jobs API (openai, azure)."""
    from ftprep.check import resolve_target
    from ftprep.config import load_config
    from ftprep.upload.service import service_class
    from ftprep.upload.targets import service_name

    name = service_name(resolve_target(_target_name(), load_config()))
    factory = service_class(name) if name is not None else None
    return factory(timeout=timeout) if factory is not None else None


def _service_estimate(service: JobService, job_id: str) -> dict[str, Any]:
    info = service.registry.job_info(job_id) or {}
    return {key: info.get(key) for key in ("estimated_trained_tokens", "estimated_n_epochs")}


def _show_service_job(job: JobView, estimate: dict[str, Any]) -> None:
    trained, epochs = estimate.get("estimated_trained_tokens"), estimate.get("estimated_n_epochs")
    per_epoch = trained // epochs if isinstance(trained, int) and isinstance(epochs, int) and epochs else None
    rows: list[tuple[str, Any]] = [
        ("id", job.id), ("status", job.status), ("model", job.model), ("fine_tuned_model", job.fine_tuned_model),
        ("training_file", job.training_file), ("validation_file", job.validation_file),
        ("created", _when(job.created_at)), ("method", job.method), (job.tokens_field, job.reported_tokens),
        ("estimated_trained_tokens", trained), ("estimated_n_epochs", epochs),
        ("estimated_tokens_per_epoch", per_epoch), ("error", job.error),
    ]  # fmt: skip
    for key, value in rows:
        if value is not None:
            echo(f"{key + ':':<28}{value}")
    if job.tokens_field == "trained_tokens" and job.reported_tokens and isinstance(trained, int):
        click.echo(f"{'estimate vs reported:':<28}{trained / job.reported_tokens:.1%}")


def _service_job_lines(job: JobView, estimate: dict[str, Any]) -> None:
    echo(f"{job.id}: {job.status}")
    outcome_lines(job.fine_tuned_model, job.tokens_field, job.reported_tokens,
                  estimate.get("estimated_trained_tokens"), say_trained=True)


def _show_job(job: FineTuningJob, estimate: int | None) -> None:
    rows: list[tuple[str, Any]] = [
        ("id", job.id), ("status", job.status), ("model", job.model),
        ("fine_tuned_model", job.fine_tuned_model), ("training_file", job.training_file),
        ("validation_file", job.validation_file), ("created", _when(job.created_at)),
        ("finished", _when(job.finished_at)), ("method", job.method.type if job.method else None),
        ("seed", job.seed), ("trained_tokens", job.trained_tokens),
        ("estimated_trained_tokens", estimate),
    ]  # fmt: skip
    if job.error is not None:
        rows.append(("error", f"{job.error.code}: {job.error.message}"))
    if job.metadata:
        rows.append(("metadata", ", ".join(f"{k}={v}" for k, v in job.metadata.items())))
    for key, value in rows:
        if value is not None:
            echo(f"{key + ':':<26}{value}")
    if job.trained_tokens and estimate:
        click.echo(f"{'estimate vs reported:':<26}{estimate / job.trained_tokens:.1%}")


@click.group("jobs")
@click.option("--target", "target", help="Service: openai (default), azure (AZURE_OPENAI_ENDPOINT, or "
                                         "OPENAI_BASE_URL in Azure's v1 form), together (TOGETHER_API_KEY), "
                                         "fireworks (FIREWORKS_API_KEY, FIREWORKS_ACCOUNT_ID).")
@click.pass_context
def jobs_group(ctx: click.Context, target: str | None) -> None:
    """List, inspect, follow and control fine-tuning jobs (`ftprep jobs --target azure list`)."""
    if target is not None:
        from ftprep.check import resolve_target
        from ftprep.config import load_config
        from ftprep.upload.targets import require_api

        job_target = resolve_target(target, load_config())
        require_api(job_target, "jobs")
        ctx.find_root().meta["ftprep.jobs.target"] = job_target.name


@jobs_group.command("list")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True, help="How many jobs.")
@click.option("--metadata", multiple=True, metavar="KEY=VALUE", help="Only jobs with this metadata; repeatable.")
@timeout_option
@output_format_option
def list_command(limit: int, metadata: tuple[str, ...], timeout: float, output_format: str) -> int:
    """The most recent fine-tuning jobs (JSON: a list of job objects)."""
    from openai.types.fine_tuning import FineTuningJob

    from ftprep.upload.answers import call_api, expect_page
    from ftprep.upload.spec import parse_metadata_pairs

    filters = parse_metadata_pairs(metadata)
    service = _service(timeout)
    if service is not None:
        if filters:
            raise ConfigError(f"{service.target} jobs have no metadata to filter on: drop --metadata")
        with retries_on_stderr(False):
            views = service.list_jobs(limit)
        if output_format == "json":
            echo_json([dict(view.data) for view in views])
        else:
            for view in views:
                echo(_summary(view.id, view.status, view.model, view.fine_tuned_model, view.created_at))
        return EXIT_OK
    action = "listing fine-tuning jobs"
    with _client(timeout) as client:
        if filters:
            page = call_api(action, lambda: client.fine_tuning.jobs.list(limit=limit, metadata=filters))
        else:
            page = call_api(action, lambda: client.fine_tuning.jobs.list(limit=limit))
    jobs = expect_page(page, FineTuningJob, action, what="fine-tuning job")
    if output_format == "json":
        echo_json([job_data(job) for job in jobs])
    else:
        for job in jobs:
            echo(_job_summary(job))
    return EXIT_OK


@jobs_group.command("show")
@click.argument("job_id")
@timeout_option
@output_format_option
def show_command(job_id: str, timeout: float, output_format: str) -> int:
    """One job, with ftprep's token estimate next to the reported trained_tokens when ftprep created it."""
    from ftprep.upload.follow import retrieve_job

    service = _service(timeout)
    if service is not None:
        with retries_on_stderr(False):
            view = service.retrieve(job_id)
        figures = _service_estimate(service, job_id)
        if output_format == "json":
            echo_json({**view.data, **figures})
        else:
            _show_service_job(view, figures)
        return EXIT_OK
    with _client(timeout) as client:
        job = retrieve_job(client, job_id)
    estimate = _estimate_of(client, job_id)
    if output_format == "json":
        echo_json({**job_data(job), "estimated_trained_tokens": estimate})
    else:
        _show_job(job, estimate)
    return EXIT_OK


@jobs_group.command("events")
@click.argument("job_id")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True, help="How many events.")
@click.option("--follow", is_flag=True, help="Keep printing new events until the job ends.")
@click.option("--poll-interval", type=click.FloatRange(min=0), default=DEFAULT_POLL_INTERVAL, show_default=True,
              help="Seconds between polls with --follow.")  # fmt: skip
@timeout_option
@output_format_option
def events_command(job_id: str, limit: int, follow: bool, poll_interval: float, timeout: float,
                   output_format: str) -> int:
    """A job's events, oldest first (JSON: a list; with --follow, one JSON object per line)."""
    from ftprep.upload.follow import follow_job, recent_events

    def emit(event: Any) -> None:
        if output_format == "json":
            click.echo(safe_text(dumps_json(event.to_dict())))
        else:
            echo(f"{_when(event.created_at)} {event_line(event)}")

    service = _service(timeout)
    if service is not None:
        return _service_events(service, job_id, limit, follow, poll_interval, output_format)
    with _client(timeout) as client:
        if not follow:
            events = recent_events(client, job_id, limit=limit)
            if output_format == "json":
                echo_json([event.to_dict() for event in events])
            else:
                for event in events:
                    emit(event)
            return EXIT_OK
        job = follow_job(client, job_id, poll_interval=poll_interval, on_event=emit)
    return EXIT_OK if job.status == "succeeded" else EXIT_FINDINGS


@jobs_group.command("wait")
@click.argument("job_id")
@click.option("--poll-interval", type=click.FloatRange(min=0), default=DEFAULT_POLL_INTERVAL, show_default=True,
              help="Seconds between status polls.")  # fmt: skip
@timeout_option
@output_format_option
@quiet_option
def wait_command(job_id: str, poll_interval: float, timeout: float, output_format: str, quiet: bool) -> int:
    """Follow a job (status and events on stderr) until it ends; exit 0 only if it succeeded."""
    from ftprep.upload.follow import follow_job

    service = _service(timeout)
    if service is not None:
        return _service_wait(service, job_id, poll_interval, output_format, quiet)
    with _client(timeout, quiet) as client:
        job = follow_job(
            client, job_id, poll_interval=poll_interval,
            on_status=lambda j: note(f"{j.id}: {j.status}", quiet=quiet),
            on_event=lambda e: note(event_line(e), quiet=quiet),
        )  # fmt: skip
    estimate = _estimate_of(client, job_id)
    if output_format == "json":
        echo_json({**job_data(job), "estimated_trained_tokens": estimate})
    else:
        echo(f"{job.id}: {job.status}")
        outcome_lines(job.fine_tuned_model, "trained_tokens", job.trained_tokens, estimate)
    if job.status == "succeeded":
        return EXIT_OK
    explain_unfinished(job)
    return EXIT_FINDINGS


def _control(verb: str, doc: str) -> click.Command:
    @click.command(verb, help=doc)
    @click.argument("job_id")
    @timeout_option
    @output_format_option
    def command(job_id: str, timeout: float, output_format: str) -> int:
        service = _service(timeout)
        if service is not None:
            if verb != "cancel":
                raise ConfigError(f"{service.target} jobs cannot be {verb}d through ftprep: cancel is the control it "
                                  "offers")
            with retries_on_stderr(False):
                view = service.cancel(job_id)
            if output_format == "json":
                echo_json(dict(view.data))
            else:
                echo(f"{view.id}: {view.status}")
            return EXIT_OK
        with _client(timeout) as client:
            action = getattr(client.fine_tuning.jobs, verb)
            job = _call(f"{verb} job {job_id}", lambda: action(job_id))
        if output_format == "json":
            echo_json(job_data(job))
        else:
            echo(f"{job.id}: {job.status}")
        return EXIT_OK

    return command


def _service_events(service: JobService, job_id: str, limit: int, follow: bool, poll_interval: float,
                    output_format: str) -> int:
    from ftprep.upload.service import SUCCEEDED, EventView
    from ftprep.upload.service import follow as follow_service

    def emit(event: EventView) -> None:
        if output_format == "json":
            click.echo(safe_text(dumps_json(dict(event.data))))
        else:
            echo(f"{_when(event.created_at)} [{event.level}] {event.message}")

    with retries_on_stderr(False):
        if follow:
            job = follow_service(service, job_id, poll_interval=poll_interval, on_event=emit)
            return EXIT_OK if job.state == SUCCEEDED else EXIT_FINDINGS
        events = service.events(job_id, limit)
    if events is None:
        note(f"ftprep: {service.target} reports no job events; `ftprep jobs --target {service.target} show "
             f"{job_id}` gives its state and status message")
        events = []
    if output_format == "json":
        echo_json([dict(event.data) for event in events])
    else:
        for event in events:
            emit(event)
    return EXIT_OK


def _service_wait(service: JobService, job_id: str, poll_interval: float, output_format: str, quiet: bool) -> int:
    from ftprep.upload.service import SUCCEEDED
    from ftprep.upload.service import follow as follow_service

    with retries_on_stderr(quiet):
        job = follow_service(service, job_id, poll_interval=poll_interval,
                             on_status=lambda j: note(f"{j.id}: {j.status}", quiet=quiet),
                             on_event=lambda e: note(f"[{e.level}] {e.message}", quiet=quiet))
    estimate = _service_estimate(service, job_id)
    if output_format == "json":
        echo_json({**job.data, **estimate})
    else:
        _service_job_lines(job, estimate)
    if job.state == SUCCEEDED:
        return EXIT_OK
    echo(f"ftprep: job {job.id} ended as {job.status}" + (f": {job.error}" if job.error else ""), err=True)
    return EXIT_FINDINGS


jobs_group.add_command(_control("cancel", "Cancel a job that has not finished."))
jobs_group.add_command(_control("pause", "Pause a running job (resume it later)."))
jobs_group.add_command(_control("resume", "Resume a paused job."))
