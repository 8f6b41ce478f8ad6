"""``upload --target azure`` through the real ``openai`` SDK's ``AzureOpenAI`` client against the stand-in server:
the resource's quotas (bytes and files, from ``files.list``) and the job's tokens x epochs are checked before any
file is sent; large files go through the Uploads API; the record keeps the target."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ftprep.cli import main
from ftprep.cli.upload import TargetPlan
from tests.upload.conftest import FakeAPI, write_chat

AZURE_KEY = "azure-test-key-0123456789abcdef"


@pytest.fixture
def azure(api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> FakeAPI:
    """The stand-in server as an Azure OpenAI resource (AzureOpenAI client: /openai/... with api-version)."""
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", api.server.url_for("/").rstrip("/"))
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    return api


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def held(api: FakeAPI, count: int, size: int) -> None:
    """Files the resource already holds (only their size matters to the quota)."""
    for i in range(count):
        api.files[f"file-held{i}"] = {"id": f"file-held{i}", "object": "file", "bytes": size,
                                      "created_at": int(time.time()), "filename": f"old{i}.jsonl",
                                      "purpose": "fine-tune", "status": "processed"}  # fmt: skip


def upload_args(train: Path, *extra: str) -> list[str]:
    return ["upload", str(train), "--target", "azure", "--model", "gpt-4.1-mini-2025-04-14", *extra]


def test_azure_upload_lists_the_resource_then_sends_with_the_api_key_header(
        azure: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(upload_args(train, "--training-type", "global", "--output-format", "json"), capsys)
    assert code == 0, err
    order = [(r.method, r.path) for r in azure.log]
    assert order[0] == ("GET", "/openai/files") and ("POST", "/openai/files") in order
    assert azure.log[0].api_key_header == AZURE_KEY and AZURE_KEY not in out + err
    assert azure.job_bodies[0]["trainingType"] == "GlobalStandard"
    assert azure.job_bodies[0]["method"] == {"type": "supervised"}


def test_azure_quota_of_bytes_per_resource_stops_the_upload(azure: FakeAPI, train: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    held(azure, 2, 536_870_000)  # 1,073,740,000 bytes: the next file does not fit in 1 GB
    code, _, err = run(upload_args(train), capsys)
    assert code == 2
    assert "1,073,741,824 bytes per resource" in err and "nothing was sent" in err
    assert azure.requests("POST", r".*/files") == [] and azure.requests("POST", r".*/uploads") == []


def test_azure_quota_of_files_per_resource_stops_the_upload(azure: FakeAPI, train: Path, valid: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    held(azure, 99, 10)  # one more fits, two do not
    code, _, err = run(upload_args(train, "--validation", str(valid)), capsys)
    assert code == 2 and "holds 99 fine-tuning files and this upload adds 2" in err and "100 files" in err
    assert azure.requests("POST", r".*/files") == []
    # Without the validation file the one new file fits.
    code, _, err = run(upload_args(train), capsys)
    assert code == 0, err


def test_a_file_the_resource_already_holds_adds_nothing_to_the_quota(azure: FakeAPI, train: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert run(upload_args(train), capsys)[0] == 0
    held(azure, 100 - len(azure.files), 10)  # full, the file uploaded above among them: it is reused
    code, _, err = run(upload_args(train), capsys)
    assert code == 0, err
    assert len(azure.requests("POST", r".*/files")) == 1


def test_tokens_times_epochs_over_the_targets_budget_stops_the_upload(
        azure: FakeAPI, train: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A budget of 500 tokens x epochs (Azure's is 2 billion): the file's 12 examples x 3 epochs exceed it.
    (tmp_path / "ftprep.toml").write_text('[targets.azure]\nparams = { max_token_epochs = { value = 500 } }\n')
    monkeypatch.chdir(tmp_path)
    code, _, err = run(upload_args(train, "--n-epochs", "3"), capsys)
    assert code == 2 and "tokens x epochs" in err and "at most 500" in err, err
    assert [r.method for r in azure.log] == []


def test_azure_sends_files_over_its_threshold_through_the_uploads_api_in_parts(
        azure: FakeAPI, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = write_chat(tmp_path / "big.jsonl", 40)
    code, out, err = run(upload_args(big, "--multipart-threshold", "1000", "--part-size", "1024",
                                     "--output-format", "json"), capsys)
    assert code == 0, err
    assert azure.requests("POST", r"/openai/files") == []
    parts = azure.requests("POST", r"/openai/uploads/[^/]+/parts")
    assert len(parts) == -(-big.stat().st_size // 1024)
    file_id = json.loads(out)["files"]["training_file"]["id"]
    assert azure.file_content(file_id) == big.read_bytes()


def test_azure_default_threshold_is_below_the_size_where_files_create_fails() -> None:
    assert TargetPlan.load("azure", None).multipart_threshold(None) == 100_000_000
    assert TargetPlan.load("openai", None).multipart_threshold(None) == 256 * 1024 * 1024
    assert TargetPlan.load("azure", None).multipart_threshold(5000) == 5000


def test_azure_retries_a_429_with_retry_after_and_says_so(azure: FakeAPI, train: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    azure.fail_next("GET", r"/openai/files", 429, "slow down", headers={"retry-after-ms": "1"})
    azure.fail_next("POST", r"/openai/files", 500, "oops", headers={"retry-after-ms": "1"})
    code, _, err = run(upload_args(train), capsys)
    assert code == 0, err
    assert "API request failed: HTTP 429; retry 1 of 4" in err and "HTTP 500" in err


def test_a_connection_reset_mid_part_is_retried_by_the_sdk_and_the_upload_completes(
        azure: FakeAPI, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = write_chat(tmp_path / "big.jsonl", 40)
    azure.fail_next("POST", r"/openai/uploads/[^/]+/parts", 0)
    code, out, err = run(upload_args(big, "--multipart-threshold", "1000", "--part-size", "1024",
                                     "--output-format", "json"), capsys)
    assert code == 0, err
    assert "API request failed: connection failed" in err
    assert azure.file_content(json.loads(out)["files"]["training_file"]["id"]) == big.read_bytes()


def test_jobs_target_azure_show_puts_ftpreps_estimate_beside_the_reported_tokens(
        azure: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(upload_args(train, "--output-format", "json"), capsys)
    assert code == 0
    job_id = json.loads(out)["job"]["id"]
    assert run(["jobs", "--target", "azure", "wait", job_id, "--poll-interval", "0"], capsys)[0] == 0
    code, out, _ = run(["jobs", "--target", "azure", "show", job_id], capsys)
    assert code == 0 and "trained_tokens:" in out and "estimated_trained_tokens:" in out, out
    assert "estimate vs reported:" in out
