"""``ftprep jobs ...``: every verb, text and JSON, against the loopback API through the real SDK."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest

from ftprep.cli import main
from tests.upload.conftest import API_KEY, FakeAPI


def create_job(api: FakeAPI, client: openai.OpenAI, **metadata: str) -> str:
    file_id = api._new_file("train.jsonl", b"{}\n", "fine-tune")["id"]
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=file_id, metadata=metadata or None)
    return job.id


def test_list_json_is_a_list_of_job_objects_newest_first(
    api: FakeAPI, client: openai.OpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = create_job(api, client), create_job(api, client)

    assert main(["jobs", "list", "--output-format", "json"]) == 0

    jobs = json.loads(capsys.readouterr().out)
    assert [j["id"] for j in jobs] == [second, first]
    assert all(j["object"] == "fine_tuning.job" for j in jobs)


def test_list_filters_by_metadata_and_limits(
    api: FakeAPI, client: openai.OpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    create_job(api, client, team="search")
    wanted = create_job(api, client, team="ads")
    create_job(api, client, team="ads")

    assert main(["jobs", "list", "--metadata", "team=ads", "--limit", "1"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and not lines[0].startswith(wanted)
    assert lines[0].split()[1] == "validating_files"


def test_show_prints_the_job_with_ftprep_estimate_next_to_trained_tokens(
    api: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["upload", str(train), "--model", "gpt-4o-mini", "--wait", "--poll-interval", "0"]) == 0
    (job_id,) = api.jobs
    capsys.readouterr()

    assert main(["jobs", "show", job_id, "--output-format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert main(["jobs", "show", job_id]) == 0
    text = capsys.readouterr().out

    assert shown["trained_tokens"] == 4321
    assert isinstance(shown["estimated_trained_tokens"], int)
    assert f"trained_tokens:           4321\nestimated_trained_tokens: {shown['estimated_trained_tokens']}\n" in text
    assert "status:                   succeeded" in text


def test_events_are_listed_oldest_first(
    api: FakeAPI, client: openai.OpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = create_job(api, client)
    client.fine_tuning.jobs.retrieve(job_id)  # moves the job on: one more event

    assert main(["jobs", "events", job_id, "--output-format", "json"]) == 0

    events = json.loads(capsys.readouterr().out)
    assert [e["message"] for e in events] == [f"Created fine-tuning job: {job_id}", "Job status: queued"]


def test_events_follow_prints_each_event_once_until_the_job_ends(
    api: FakeAPI, client: openai.OpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = create_job(api, client)

    assert main(["jobs", "events", job_id, "--follow", "--poll-interval", "0"]) == 0

    messages = [line.split("] ", 1)[1] for line in capsys.readouterr().out.splitlines()]
    assert messages == [
        f"Created fine-tuning job: {job_id}",
        "Job status: queued",
        "Job status: running",
        "Job status: succeeded",
    ]


def test_wait_follows_to_success_and_prints_the_fine_tuned_model(
    api: FakeAPI, client: openai.OpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = create_job(api, client)

    assert main(["jobs", "wait", job_id, "--poll-interval", "0"]) == 0

    captured = capsys.readouterr()
    assert captured.out == f"{job_id}: succeeded\nfine_tuned_model: ft:gpt-4o-mini:org-test::{job_id[-4:]}\n" + (
        "trained_tokens: 4321\n"
    )
    assert f"{job_id}: running" in captured.err


def test_wait_on_a_failed_job_exits_1_with_its_error(
    api: FakeAPI, client: openai.OpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    api.script = ("validating_files", "failed")
    job_id = create_job(api, client)

    assert main(["jobs", "wait", job_id, "--poll-interval", "0", "--output-format", "json"]) == 1

    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"]["message"] == api.failure_message
    assert f"ftprep: job {job_id} failed: {api.failure_message}" in captured.err


@pytest.mark.parametrize(("verb", "status"), [("cancel", "cancelled"), ("pause", "paused"), ("resume", "running")])
def test_control_verbs_post_to_their_endpoint_and_print_the_new_status(
    api: FakeAPI, client: openai.OpenAI, capsys: pytest.CaptureFixture[str], verb: str, status: str
) -> None:
    job_id = create_job(api, client)

    assert main(["jobs", verb, job_id]) == 0

    assert capsys.readouterr().out == f"{job_id}: {status}\n"
    assert [r.path for r in api.requests("POST", f"/v1/fine_tuning/jobs/{job_id}/{verb}")] == [
        f"/v1/fine_tuning/jobs/{job_id}/{verb}"
    ]


def test_wait_stops_on_a_paused_job_and_says_how_to_resume(
    api: FakeAPI, client: openai.OpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = create_job(api, client)
    client.fine_tuning.jobs.pause(job_id)

    assert main(["jobs", "wait", job_id, "--poll-interval", "0"]) == 1

    assert f"resume it with: ftprep jobs resume {job_id}" in capsys.readouterr().err


def test_an_unknown_job_is_one_error_line_with_the_request_id(api: FakeAPI, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "show", "ftjob-missing"]) == 2

    err = capsys.readouterr().err
    assert err.startswith(
        "ftprep: error: reading job ftjob-missing failed: HTTP 404: No such fine-tuning job: ftjob-missing "
        "(request id req_"
    )
    assert err.count("\n") == 1


def test_rate_limits_are_retried_by_the_sdk(
    api: FakeAPI, client: openai.OpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = create_job(api, client)
    api.fail_next("GET", "/v1/fine_tuning/jobs", 429, "Rate limit reached", times=2, headers={"retry-after-ms": "5"})

    assert main(["jobs", "list", "--output-format", "json"]) == 0

    assert [j["id"] for j in json.loads(capsys.readouterr().out)] == [job_id]
    assert len(api.requests("GET", "/v1/fine_tuning/jobs")) == 3


def test_azure_settings_select_the_sdk_azure_client(
    api: FakeAPI, client: openai.OpenAI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = create_job(api, client)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", api.base_url.removesuffix("/v1"))
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-" + API_KEY)
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    monkeypatch.delenv("OPENAI_BASE_URL")

    assert main(["jobs", "show", job_id, "--output-format", "json"]) == 0

    assert json.loads(capsys.readouterr().out)["id"] == job_id
    (request,) = api.requests("GET", f"/openai/fine_tuning/jobs/{job_id}")
    assert request.api_key_header == "azure-" + API_KEY
