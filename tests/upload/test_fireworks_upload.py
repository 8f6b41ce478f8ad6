"""``upload --target fireworks`` and ``jobs --target fireworks`` through the real ``fireworks-ai`` SDK against the
stand-in server: a dataset per content hash, the direct upload and the signed-URL path, supervised and DPO jobs,
the service's validation after upload, retries and faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from ftprep.cli import main
from ftprep.upload.fireworks_api import dataset_id
from tests.upload.conftest import write_chat
from tests.upload.stand_ins import FakeFireworks

FIREWORKS_KEY = "fw_SecretFireworksKey0123456789abcdef"
ACCOUNT = "acme"


@pytest.fixture
def fw(httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFireworks]:
    """The stand-in, with the SDK's environment pointing at it and ftprep's state in tmp_path."""
    fake = FakeFireworks(httpserver)
    monkeypatch.setenv("FIREWORKS_API_KEY", FIREWORKS_KEY)
    monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("FIREWORKS_BASE_URL", fake.base_url)
    monkeypatch.setenv("FTPREP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr("ftprep.upload.fireworks_api.DATASET_POLL_INTERVAL", 0.0)
    yield fake


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def upload(train: Path, *extra: str) -> list[str]:
    return ["upload", str(train), "--target", "fireworks", "--model", "accounts/fireworks/models/qwen3-8b", *extra]


def test_direct_upload_and_supervised_job(fw: FakeFireworks, train: Path, valid: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(upload(train, "--validation", str(valid), "--n-epochs", "2", "--suffix", "support",
                                "--context-length", "4096", "--output-format", "json"), capsys)
    assert code == 0, err
    did = dataset_id(json.loads(out)["files"]["training_file"]["sha256"])
    assert fw.stored[did] == train.read_bytes()
    assert len(fw.requests("POST", rf".*/datasets/{did}:upload")) == 1 and fw.requests("PUT") == []
    body = fw.job_bodies[0]
    assert body["kind"] == "supervisedFineTuningJobs" and body["dataset"] == f"accounts/{ACCOUNT}/datasets/{did}"
    assert body["epochs"] == 2 and body["maxContextLength"] == 4096 and body["displayName"] == "support"
    assert body["baseModel"] == "accounts/fireworks/models/qwen3-8b" and body["evaluationDataset"].endswith(
        dataset_id(json.loads(out)["files"]["validation_file"]["sha256"]))
    assert FIREWORKS_KEY not in out + err


def test_files_over_the_direct_limit_go_through_the_signed_url(
        fw: FakeFireworks, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ftprep.upload.fireworks_api.DIRECT_UPLOAD_BYTES", 100)
    big = write_chat(tmp_path / "big.jsonl", 20)
    code, out, err = run(upload(big, "--output-format", "json"), capsys)
    assert code == 0, err
    did = dataset_id(json.loads(out)["files"]["training_file"]["sha256"])
    assert fw.stored[did] == big.read_bytes()  # the stand-in refuses a PUT carrying the API key
    paths = [r.path for r in fw.log]
    assert paths.index(f"/v1/accounts/{ACCOUNT}/datasets/{did}:getUploadEndpoint") < paths.index(
        f"/signed/{did}/big.jsonl") < paths.index(f"/v1/accounts/{ACCOUNT}/datasets/{did}:validateUpload")


def test_a_reset_of_the_signed_url_put_is_retried_and_shown(
        fw: FakeFireworks, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ftprep.upload.fireworks_api.DIRECT_UPLOAD_BYTES", 100)
    big = write_chat(tmp_path / "big.jsonl", 20)
    fw.fail_next("PUT", r"/signed/.*", 0)
    code, _, err = run(upload(big), capsys)
    assert code == 0, err
    assert "API request failed: connection failed" in err and "retry 1 of 2" in err


def test_the_same_bytes_make_one_dataset(fw: FakeFireworks, train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(upload(train), capsys)[0] == 0
    code, _, err = run(upload(train), capsys)
    assert code == 0 and "already uploaded, reused" in err
    assert len(fw.requests("POST", r".*/datasets")) == 1 and len(fw.requests("POST", r".*:upload")) == 1


def test_dpo_files_go_as_dpo_jobs(fw: FakeFireworks, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # ftprep's fireworks table lists no model that trains DPO: one of the user's own, in ftprep.toml.
    (tmp_path / "ftprep.toml").write_text(
        '[targets.fireworks.models."accounts/acme/models/pref-8b"]\n'
        'encoding = "qwen3"\nmethods = ["dpo"]\nformats = ["preference"]\nlimit = { value = 8192, source = "test" }\n')
    monkeypatch.chdir(tmp_path)
    rows = [{"input": {"messages": [{"role": "user", "content": f"q{i}"}]},
             "preferred_output": [{"role": "assistant", "content": f"good {i}"}],
             "non_preferred_output": [{"role": "assistant", "content": f"bad {i}"}]} for i in range(12)]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, _, err = run(["upload", str(path), "--target", "fireworks", "--model", "accounts/acme/models/pref-8b",
                        "--n-epochs", "1"], capsys)
    assert code == 0, err
    body = fw.job_bodies[0]
    assert body["kind"] == "dpoJobs" and body["lossConfig"] == {"method": "DPO"}
    assert body["trainingConfig"]["epochs"] == 1


def test_the_services_validation_error_is_reported_at_its_line(fw: FakeFireworks, train: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    fw.validation_error = "line 7: messages[1] has no content"
    code, _, err = run(upload(train), capsys)
    assert code == 1 and f"{train}:7: Fireworks refused the file after upload" in err
    assert fw.job_bodies == []


def test_context_length_not_a_multiple_of_16_sends_nothing(fw: FakeFireworks, train: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(upload(train, "--context-length", "4100"), capsys)
    assert code == 2 and "not a multiple of 16" in err and "use 4096" in err
    assert fw.log == []


def test_429_and_5xx_are_retried_by_the_sdk_and_shown(fw: FakeFireworks, train: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    fw.fail_next("POST", r".*/datasets", 429, retry_after_ms="1")
    fw.fail_next("POST", r".*/supervisedFineTuningJobs", 502, retry_after_ms="1")
    code, _, err = run(upload(train), capsys)
    assert code == 0, err
    assert "HTTP 429; retrying in" in err and "HTTP 502" in err


def test_no_account_id_is_a_clear_error(fw: FakeFireworks, train: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIREWORKS_ACCOUNT_ID")
    code, _, err = run(upload(train), capsys)
    assert code == 2 and "FIREWORKS_ACCOUNT_ID" in err and fw.log == []


def test_dry_run_prints_every_request_and_sends_nothing(fw: FakeFireworks, train: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIREWORKS_API_KEY")  # a dry run needs no key
    code, out, _ = run(upload(train, "--dry-run"), capsys)
    assert code == 0 and "/datasets" in out and ":upload" in out and "supervisedFineTuningJobs" in out
    assert fw.log == []
    code, out, _ = run(upload(train, "--dry-run", "--output-format", "json"), capsys)
    planned = [(r["method"], r["url"].replace(fw.base_url, "")) for r in json.loads(out)["requests"]]
    # The plan is what a real run sends, in the same order.
    monkeypatch.setenv("FIREWORKS_API_KEY", FIREWORKS_KEY)
    assert run(upload(train), capsys)[0] == 0
    assert [(r.method, r.path) for r in fw.log] == planned


def test_jobs_list_show_wait_cancel(fw: FakeFireworks, train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(upload(train), capsys)[0] == 0
    job_id = next(iter(fw.jobs))
    code, out, _ = run(["jobs", "--target", "fireworks", "list"], capsys)
    assert code == 0 and out.startswith(f"{job_id}  JOB_STATE_CREATING")
    code, out, err = run(["jobs", "--target", "fireworks", "events", job_id], capsys)
    assert code == 0 and "fireworks reports no job events" in err
    code, out, _ = run(["jobs", "--target", "fireworks", "wait", job_id, "--poll-interval", "0"], capsys)
    assert code == 0 and f"{job_id}: JOB_STATE_COMPLETED" in out and "fine_tuned_model: accounts/acme/models" in out
    code, out, _ = run(["jobs", "--target", "fireworks", "show", job_id], capsys)
    assert code == 0 and "estimated_trained_tokens:" in out
    code, out, _ = run(["jobs", "--target", "fireworks", "cancel", job_id], capsys)
    assert code == 0 and f"{job_id}: JOB_STATE_CANCELLED" in out
