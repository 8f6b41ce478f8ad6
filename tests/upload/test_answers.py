"""What the API answers is checked before it is used: malformed 200s, stalls, retries, damaged records.

The real CLI and the real ``openai`` SDK against the loopback stand-in (and, for stalls, a socket that
accepts connections and never answers).
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from ftprep.cli import main
from ftprep.upload.client import DEFAULT_TIMEOUT, make_client
from ftprep.upload.registry import FileRegistry
from ftprep.upload.uploader import fingerprint
from tests.upload.conftest import API_KEY, FakeAPI

MALFORMED_FILE_ANSWERS = {
    "html page": (b"<html><body>Sign in to the proxy</body></html>", "text/html"),
    "broken JSON": (b'{"id": "file-1", ', "application/json"),
    "empty object": (b"{}", "application/json"),
    "null id": (b'{"id": null, "object": "file", "bytes": 10}', "application/json"),
    "id with control characters": (b'{"id": "file-1\\u001b[2J", "object": "file"}', "application/json"),
    "a list": (b"[1, 2]", "application/json"),
}


def error_line(err: str) -> str:
    """The one error line (and only one line: no traceback)."""
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert err.startswith("ftprep: error: ")
    return err


def state(tmp_path: Path) -> dict[str, object]:
    (path,) = (tmp_path / "state").iterdir()
    data: dict[str, object] = json.loads(path.read_text())
    return data


@pytest.mark.parametrize("answer", MALFORMED_FILE_ANSWERS.values(), ids=MALFORMED_FILE_ANSWERS.keys())
def test_a_malformed_answer_to_the_upload_is_one_error_line_and_never_reaches_the_record(
    api: FakeAPI, train: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], answer: tuple[bytes, str]
) -> None:
    body, content_type = answer
    api.answer_next("POST", "/v1/files", body, content_type=content_type)

    assert main(["upload", str(train), "--model", "gpt-4o-mini"]) == 2

    err = error_line(capsys.readouterr().err)
    assert err.startswith("ftprep: error: uploading train.jsonl failed: the API's answer ")
    assert "\x1b" not in err
    assert api.job_bodies == []
    assert not (tmp_path / "state").exists() or state(tmp_path)["files"] == {}

    # The next run is not hurt by the bad answer: it uploads and creates the job.
    assert main(["upload", str(train), "--model", "gpt-4o-mini"]) == 0
    (record,) = state(tmp_path)["files"].values()  # type: ignore[attr-defined]
    assert record["file_id"] in api.files


@pytest.mark.parametrize("bad_id", [None, "", 42, "file 1\n"])
def test_a_record_damaged_by_an_earlier_version_is_repaired_not_a_crash(
    api: FakeAPI, train: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_id: object
) -> None:
    local = fingerprint(str(train))
    registry = FileRegistry(api.base_url)
    registry.path.parent.mkdir(parents=True)
    registry.path.write_text(json.dumps({
        "version": 1, "base_url": api.base_url, "jobs": {},
        "files": {local.sha256: {"file_id": bad_id, "bytes": local.size, "filename": "train.jsonl",
                                 "uploaded_at": 1}},
        "uploads": {local.sha256: {"upload_id": None, "bytes": "many"}},
    }))  # fmt: skip

    assert main(["upload", str(train), "--model", "gpt-4o-mini"]) == 0

    assert "Traceback" not in capsys.readouterr().err
    assert len(api.requests("POST", "/v1/files")) == 1
    record = registry.lookup(local.sha256)
    assert record is not None and record.file_id in api.files
    assert registry.pending(local.sha256) is None
    assert state(tmp_path)["uploads"] == {}


def test_damaged_upload_and_job_sections_of_the_record_are_started_afresh(
    api: FakeAPI, train: Path, tmp_path: Path
) -> None:
    registry = FileRegistry(api.base_url)
    registry.path.parent.mkdir(parents=True)
    registry.path.write_text(json.dumps({"version": 1, "files": {}, "uploads": [], "jobs": "none"}))

    assert main(["upload", str(train), "--model", "gpt-4o-mini"]) == 0

    assert list(state(tmp_path)["jobs"]) == list(api.jobs)  # type: ignore[call-overload]


@pytest.mark.parametrize("body", [b"{}", b'{"id": null, "status": "queued"}', b'{"id": "ftjob-1"}', b"not json"])
def test_a_job_answer_without_an_id_or_status_is_an_error_not_created_job_none(
    api: FakeAPI, train: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], body: bytes
) -> None:
    api.answer_next("POST", "/v1/fine_tuning/jobs", body)

    assert main(["upload", str(train), "--model", "gpt-4o-mini"]) == 2

    captured = capsys.readouterr()
    err = error_line(captured.err.split("\n", 1)[-1])  # the first stderr line names the uploaded file
    assert err.startswith("ftprep: error: creating the fine-tuning job failed: the API's answer ")
    assert "see ftprep jobs list" in err
    assert "None" not in captured.out + captured.err
    assert state(tmp_path)["jobs"] == {}


@pytest.mark.parametrize(
    ("argv", "method", "path", "body"),
    [
        (["jobs", "show", "ftjob-1"], "GET", "/v1/fine_tuning/jobs/ftjob-1", b"<html>gateway</html>"),
        (["jobs", "show", "ftjob-1"], "GET", "/v1/fine_tuning/jobs/ftjob-1", b'{"id": "ftjob-1"}'),
        (["jobs", "wait", "ftjob-1"], "GET", "/v1/fine_tuning/jobs/ftjob-1", b'{"id": "ftjob-1"}'),
        (["jobs", "list"], "GET", "/v1/fine_tuning/jobs", b'{"data": [{}]}'),
        (["jobs", "list"], "GET", "/v1/fine_tuning/jobs", b"<html>gateway</html>"),
        (["jobs", "events", "ftjob-1"], "GET", "/v1/fine_tuning/jobs/ftjob-1/events", b'{"data": "none"}'),
        (["jobs", "cancel", "ftjob-1"], "POST", "/v1/fine_tuning/jobs/ftjob-1/cancel", b"[]"),
    ],
)
def test_jobs_commands_turn_malformed_answers_into_one_error_line(
    api: FakeAPI, capsys: pytest.CaptureFixture[str], argv: list[str], method: str, path: str, body: bytes
) -> None:
    content_type = "text/html" if body.startswith(b"<") else "application/json"
    api.answer_next(method, path, body, content_type=content_type)

    assert main([*argv, "--poll-interval", "0"] if argv[1] == "wait" else argv) == 2

    err = error_line(capsys.readouterr().err)
    assert "failed: the API's answer " in err
    assert "OPENAI_BASE_URL" in err


@pytest.fixture
def silent_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[socket.socket]:
    """An endpoint that accepts connections and never answers (a stalled API or proxy); one retry."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{listener.getsockname()[1]}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("FTPREP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    monkeypatch.setattr("ftprep.upload.client.DEFAULT_MAX_RETRIES", 1)
    yield listener
    listener.close()


def test_a_stalled_api_fails_after_the_timeout_with_each_retry_on_stderr(
    silent_api: socket.socket, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()

    assert main(["upload", str(train), "--model", "gpt-4o-mini", "--timeout", "0.3"]) == 2

    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    retry, failure = err.splitlines()
    assert retry.startswith("ftprep: API request failed: no answer in time; retry 1 of 1 in ")
    assert failure == "ftprep: error: uploading train.jsonl failed: the API did not answer in time; try again"
    assert elapsed < 10  # two tries of 0.3 s, a back-off of at most 1 s, and the check


def test_the_timeout_comes_from_the_environment_too(
    silent_api: socket.socket, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FTPREP_API_TIMEOUT", "0.2")
    started = time.monotonic()

    assert main(["jobs", "show", "ftjob-1"]) == 2

    assert time.monotonic() - started < 5
    assert capsys.readouterr().err.endswith("reading job ftjob-1 failed: the API did not answer in time; try again\n")


def test_the_default_timeout_is_a_minute_not_the_sdks_ten(api: FakeAPI) -> None:
    timeout = make_client().timeout

    assert isinstance(timeout, openai.Timeout)
    assert (timeout.read, timeout.write, timeout.connect) == (DEFAULT_TIMEOUT, DEFAULT_TIMEOUT, 10.0)
    assert DEFAULT_TIMEOUT == 60


def test_a_zero_timeout_is_a_usage_error(api: FakeAPI, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "list", "--timeout", "0"]) == 2

    assert "--timeout" in capsys.readouterr().err
    assert api.log == []


def test_retries_after_rate_limits_and_server_errors_are_shown_on_stderr(
    api: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.fail_next("POST", "/v1/files", 429, "Rate limit reached", headers={"retry-after-ms": "5"})
    api.fail_next("POST", "/v1/fine_tuning/jobs", 503, "overloaded", headers={"retry-after-ms": "5"})

    assert main(["upload", str(train), "--model", "gpt-4o-mini"]) == 0

    retries = [line for line in capsys.readouterr().err.splitlines() if "retry" in line]
    assert retries == [
        "ftprep: API request failed: HTTP 429; retry 1 of 4 in 0.0 s",
        "ftprep: API request failed: HTTP 503; retry 1 of 4 in 0.0 s",
    ]


def test_quiet_hides_the_retry_lines(api: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api.fail_next("POST", "/v1/files", 429, "Rate limit reached", headers={"retry-after-ms": "5"})

    assert main(["upload", str(train), "--model", "gpt-4o-mini", "--quiet"]) == 0

    assert capsys.readouterr().err == ""


RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def test_text_the_api_echoes_is_redacted_and_escaped_like_ftpreps_own(
    api: FakeAPI, client: openai.OpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    api.failure_message = f"bad file (key {API_KEY}) \u001b[2J\u009b2J"
    api.script = ("validating_files", "failed")
    file_id = api._new_file("train.jsonl", b"{}\n", "fine-tune")["id"]
    job_id = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=file_id).id

    codes = [
        main(["jobs", "wait", job_id, "--poll-interval", "0"]),
        main(["jobs", "events", job_id]),
        main(["jobs", "events", job_id, "--output-format", "json"]),
        main(["jobs", "show", job_id]),
        main(["jobs", "show", job_id, "--output-format", "json"]),
        main(["jobs", "list", "--output-format", "json"]),
    ]

    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert codes == [1, 0, 0, 0, 0, 0]
    assert API_KEY not in printed
    assert RAW_CONTROL.findall(printed) == []
    assert printed.count("bad file (key [redacted]) \\u001b[2J\\u009b2J") >= 3  # wait, events, show (text)


def test_the_upload_gate_listing_escapes_hostile_keys(
    api: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = train.with_name("hostile.jsonl")
    record = {"messages": [{"role": "user", "content": "hi", "\u001b[2J": 1}, {"role": "assistant", "content": "x"}]}
    hostile.write_text(train.read_text() + json.dumps(record) + "\n")

    assert main(["upload", str(hostile), "--model", "gpt-4o-mini"]) == 1

    captured = capsys.readouterr()
    assert RAW_CONTROL.findall(captured.out + captured.err) == []
    assert "at /messages/0/\\u001b[2J" in captured.out
    assert api.log == []


def test_an_api_error_message_with_control_characters_is_escaped(
    api: FakeAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    api.fail_next("GET", "/v1/fine_tuning/jobs/ftjob-1", 400, "bad \u001b[2J request \u009b")

    assert main(["jobs", "show", "ftjob-1"]) == 2

    err = error_line(capsys.readouterr().err)
    assert "HTTP 400: bad \\u001b[2J request \\u009b (request id" in err
