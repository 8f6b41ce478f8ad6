"""``upload --target together`` and ``jobs --target together`` through the real ``together`` SDK against the
stand-in server: the upload redirect, the service's validation after upload, its estimate and preview beside
ftprep's figures, the job request, retries and faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from ftprep.cli import main
from tests.upload.stand_ins import FakeTogether

TOGETHER_KEY = "tgp_v1_SecretTogetherKey0123456789abcdef"


@pytest.fixture
def together(httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTogether]:
    """The stand-in, with the SDK's environment pointing at it and ftprep's state in tmp_path."""
    fake = FakeTogether(httpserver)
    monkeypatch.setenv("TOGETHER_API_KEY", TOGETHER_KEY)
    monkeypatch.setenv("TOGETHER_BASE_URL", fake.base_url)
    monkeypatch.setenv("FTPREP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setattr("ftprep.upload.together_api.FILE_POLL_INTERVAL", 0.0)
    yield fake


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def upload(train: Path, *extra: str) -> list[str]:
    return ["upload", str(train), "--target", "together", "--model", "Qwen/Qwen3-8B", *extra]


def test_upload_follows_the_redirect_waits_for_validation_and_creates_the_job(
        together: FakeTogether, train: Path, valid: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(upload(train, "--validation", str(valid), "--n-epochs", "2", "--suffix", "support",
                                "--seed", "7", "--batch-size", "16", "--output-format", "json"), capsys)
    assert code == 0, err
    result = json.loads(out)
    training_id = result["files"]["training_file"]["id"]
    assert together.stored[training_id] == train.read_bytes()
    # The API's redirect, then storage's own redirect of the PUT, both followed.
    assert [r.path for r in together.requests("PUT")][:2] == [f"/hop/{training_id}", f"/storage/{training_id}"]
    body = together.job_bodies[0]
    assert body["training_file"] == training_id and body["validation_file"] == result["files"]["validation_file"]["id"]
    assert body["n_epochs"] == 2 and body["suffix"] == "support" and body["random_seed"] == 7
    assert body["batch_size"] == 16 and body["training_method"]["method"] == "sft"
    # The service's estimate and preview are asked for before the job exists, and shown beside ftprep's figures.
    paths = [r.path for r in together.log]
    assert paths.index("/v1/fine-tunes/preview") < paths.index("/v1/fine-tunes")
    assert "together estimate: 1,234 training tokens, $1.25 (ftprep:" in err and "x 2 = " in err
    assert "together preview of the first 5 row(s)" in err and "150 tokens, 60 trained, 0 truncated" in err
    assert result["service_estimate"][0].startswith("together estimate")
    assert TOGETHER_KEY not in out + err


def test_dpo_files_go_as_dpo_jobs_with_their_beta(together: FakeTogether, capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    rows = [{"input": {"messages": [{"role": "user", "content": f"q{i}"}]},
             "preferred_output": [{"role": "assistant", "content": f"good {i}"}],
             "non_preferred_output": [{"role": "assistant", "content": f"bad {i}"}]} for i in range(12)]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, _, err = run(upload(path, "--beta", "0.2"), capsys)
    assert code == 0, err
    method = together.job_bodies[0]["training_method"]
    assert method["method"] == "dpo" and method["dpo_beta"] == 0.2
    assert together.requests("POST", "/v1/fine-tunes/preview") == []  # the preview takes sft jobs only


def test_the_same_bytes_are_uploaded_once(together: FakeTogether, train: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run(upload(train), capsys)[0] == 0
    code, _, err = run(upload(train), capsys)
    assert code == 0, err
    assert len(together.requests("POST", "/v1/files")) == 1 and "already uploaded, reused" in err


def test_a_recorded_file_the_service_no_longer_holds_is_uploaded_again(
        together: FakeTogether, train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(upload(train), capsys)[0] == 0
    together.files.clear()  # deleted on the service (or the key is another account's)
    code, _, err = run(upload(train), capsys)
    assert code == 0, err
    assert len(together.requests("POST", "/v1/files")) == 2


def test_the_record_keeps_the_target_and_never_the_key(together: FakeTogether, train: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert run(upload(train), capsys)[0] == 0
    records = list((tmp_path / "state").glob("files-*.json"))
    assert len(records) == 1
    text = records[0].read_text()
    assert json.loads(text)["target"] == "together" and TOGETHER_KEY not in text


def test_the_services_validation_error_is_reported_at_its_line_and_no_job_is_created(
        together: FakeTogether, train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    together.validation_error = "Invalid format on line 3: 'messages' must end with an assistant turn"
    code, _, err = run(upload(train), capsys)
    assert code == 1
    assert f"{train}:3: Together refused the file after upload: Invalid format on line 3" in err
    assert together.requests("POST", "/v1/fine-tunes.*") == []
    # A refused file is not recorded: the next run uploads the corrected bytes.
    together.validation_error = None
    assert run(upload(train), capsys)[0] == 0
    assert len(together.requests("POST", "/v1/files")) == 2


@pytest.mark.parametrize(("status", "shown"), [(0, "connection failed"), (500, "HTTP 500")])
def test_a_failed_put_to_storage_is_retried_and_shown(together: FakeTogether, train: Path, status: int, shown: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # The SDK does not retry its PUT to storage: a reset in the middle of it, or a 5xx, sends the upload again.
    together.fail_next("PUT", r"/storage/.*", status)
    code, out, err = run(upload(train, "--output-format", "json"), capsys)
    assert code == 0, err
    assert f"API request failed: {shown}" in err and "retry 1 of 2" in err
    file_id = json.loads(out)["files"]["training_file"]["id"]
    assert together.stored[file_id] == train.read_bytes()


def test_429_with_retry_after_and_5xx_are_retried_by_the_sdk_and_shown(
        together: FakeTogether, train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    together.fail_next("POST", "/v1/files", 429, retry_after_ms="1")
    together.fail_next("POST", "/v1/fine-tunes", 503, retry_after_ms="1")
    code, _, err = run(upload(train), capsys)
    assert code == 0, err
    assert "API request failed: HTTP 429; retrying in" in err and "HTTP 503" in err


def test_retries_are_bounded(together: FakeTogether, train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    together.fail_next("PUT", r"/storage/.*", 0, times=10)
    code, _, err = run(upload(train), capsys)
    assert code == 2 and "uploading train.jsonl to together failed" in err
    assert len(together.requests("PUT", r"/storage/.*")) == 3
    assert together.requests("POST", "/v1/fine-tunes") == []


def test_a_request_together_cannot_take_sends_nothing(together: FakeTogether, train: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(upload(train, "--learning-rate-multiplier", "0.5", "--metadata", "team=a"), capsys)
    assert code == 2 and "absolute learning rate" in err and "no metadata" in err and "nothing was sent" in err
    code, _, err = run(upload(train, "--wandb-project", "runs"), capsys)
    assert code == 2 and "WANDB_API_KEY" in err
    assert together.log == []


def test_a_context_length_the_model_does_not_take_is_refused_before_any_file_is_sent(
        together: FakeTogether, train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The stand-in's model takes at most 8192 tokens per sequence for sft; the SDK checks against its limits.
    code, _, err = run(upload(train, "--context-length", "16384"), capsys)
    assert code == 2 and "must be less than 8192" in err and "nothing was sent" in err
    assert [r.path for r in together.log] == ["/v1/fine-tunes/models/limits"]


def test_wandb_settings_are_mapped_and_the_wandb_key_never_shown(
        together: FakeTogether, train: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_API_KEY", "wandb-secret-0123456789")
    code, out, err = run(upload(train, "--wandb-project", "runs", "--wandb-name", "r1", "--wandb-entity", "team",
                                "--dry-run"), capsys)
    assert code == 0 and "wandb-secret" not in out + err and '"wandb_api_key": "[redacted]"' in out
    assert together.log == []
    assert run(upload(train, "--wandb-project", "runs", "--wandb-name", "r1", "--wandb-entity", "team"), capsys)[0] == 0
    body = together.job_bodies[0]
    assert (body["wandb_project_name"], body["wandb_name"], body["wandb_entity"]) == ("runs", "r1", "team")
    assert body["wandb_key"] == "wandb-secret-0123456789"  # the SDK sends wandb_api_key as wandb_key


def test_dry_run_prints_every_request_and_sends_nothing(together: FakeTogether, train: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY")  # a dry run needs no key
    code, out, err = run(upload(train, "--dry-run", "--output-format", "json"), capsys)
    assert code == 0, err
    planned = [(r["method"], r["url"].replace(together.base_url, "")) for r in json.loads(out)["requests"]]
    assert planned[1:3] == [("POST", "/v1/files"), ("PUT", "<Location of the redirect>")]
    sent = [(r.method, r.path) for r in together.log]
    assert ("POST", "/v1/fine-tunes/estimate-price") in planned and planned[-1] == ("POST", "/v1/fine-tunes")
    assert sent == []
    # The plan is what a real run sends, in the same order: placeholders filled in, storage's second hop and the
    # polls of the file's state aside.
    monkeypatch.setenv("TOGETHER_API_KEY", TOGETHER_KEY)
    assert run(upload(train), capsys)[0] == 0
    file_id = next(iter(together.files))

    def fill(url: str) -> str:
        url = url.replace("<id of train.jsonl>", file_id).split("?")[0]
        return f"/storage/{file_id}" if url == "<Location of the redirect>" else url

    def comparable(requests: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(m, u) for m, u in requests if u != f"/hop/{file_id}" and u != f"/v1/files/{file_id}"]

    sent = [(r.method, r.path) for r in together.log]
    assert comparable(sent) == comparable([(m, fill(u)) for m, u in planned])


def test_wait_follows_the_job_and_compares_the_tokens(together: FakeTogether, train: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(upload(train, "--wait", "--poll-interval", "0"), capsys)
    assert code == 0, err
    assert "status: completed" in out and "token_count: 5000 (ftprep estimated" in out
    assert "[info] Job running" in err


def test_a_failed_job_exits_1_with_the_services_reason(together: FakeTogether, train: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    together.script = ("running", "error")
    code, out, err = run(upload(train, "--wait", "--poll-interval", "0"), capsys)
    assert code == 1 and "status: error" in out
    assert "job ft-" in err and "failed: Training failed: sample 4 exceeds the model's context length" in err


def test_jobs_list_show_events_wait_cancel(together: FakeTogether, train: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert run(upload(train, "--output-format", "json"), capsys)[0] == 0
    job_id = next(iter(together.jobs))
    code, out, _ = run(["jobs", "--target", "together", "list"], capsys)
    assert code == 0 and out.startswith(f"{job_id}  pending") and "Qwen/Qwen3-8B" in out
    code, out, _ = run(["jobs", "--target", "together", "events", job_id], capsys)
    assert code == 0 and "Fine tune request created" in out
    code, out, _ = run(["jobs", "--target", "together", "wait", job_id, "--poll-interval", "0"], capsys)
    assert code == 0 and f"{job_id}: completed" in out and "token_count: 5000 (ftprep estimated" in out
    code, out, _ = run(["jobs", "--target", "together", "show", job_id], capsys)
    assert code == 0 and "estimated_trained_tokens:" in out and "token_count:" in out
    code, out, _ = run(["jobs", "--target", "together", "cancel", job_id], capsys)
    assert code == 0 and f"{job_id}: cancelled" in out
