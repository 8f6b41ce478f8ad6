"""``ftprep upload`` end to end: the real CLI, the real check, the real SDK, a loopback API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftprep.cli import main
from tests.upload.conftest import API_KEY, FakeAPI, write_chat

FULL_FLAGS = [
    "--model",
    "gpt-4o-mini",
    "--suffix",
    "support-bot",
    "--seed",
    "7",
    "--metadata",
    "team=search",
    "--metadata",
    "run=a=b",
    "--n-epochs",
    "3",
    "--batch-size",
    "auto",
    "--learning-rate-multiplier",
    "0.5",
    "--wandb-project",
    "ft-runs",
    "--wandb-name",
    "first",
    "--wandb-tag",
    "x",
    "--wandb-tag",
    "y",
]


def expected_body(train_id: str, valid_id: str) -> dict[str, object]:
    return {
        "model": "gpt-4o-mini",
        "training_file": train_id,
        "validation_file": valid_id,
        "suffix": "support-bot",
        "seed": 7,
        "metadata": {"team": "search", "run": "a=b"},
        "method": {
            "type": "supervised",
            "supervised": {"hyperparameters": {"batch_size": "auto", "learning_rate_multiplier": 0.5, "n_epochs": 3}},
        },
        "integrations": [{"type": "wandb", "wandb": {"project": "ft-runs", "name": "first", "tags": ["x", "y"]}}],
    }


def state_text(tmp_path: Path) -> str:
    return "".join(p.read_text() for p in (tmp_path / "state").iterdir())


def test_a_full_run_uploads_both_files_creates_the_job_follows_it_and_a_second_run_uploads_nothing(
    api: FakeAPI, train: Path, valid: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["upload", str(train), "--validation", str(valid), *FULL_FLAGS, "--wait", "--poll-interval", "0"]

    assert main([*argv, "--output-format", "json"]) == 0
    first = capsys.readouterr()
    result = json.loads(first.out)

    train_id = result["files"]["training_file"]["id"]
    valid_id = result["files"]["validation_file"]["id"]
    assert [api.files[i]["purpose"] for i in (train_id, valid_id)] == ["fine-tune", "fine-tune"]
    assert api.file_content(train_id) == train.read_bytes()
    assert api.file_content(valid_id) == valid.read_bytes()
    assert api.job_bodies == [expected_body(train_id, valid_id)]
    assert result["job"]["status"] == "succeeded"
    assert result["fine_tuned_model"] == f"ft:gpt-4o-mini:org-test::{result['job']['id'][-4:]}"
    assert result["trained_tokens"] == 4321
    assert isinstance(result["estimated_trained_tokens"], int) and result["estimated_trained_tokens"] > 0
    assert "succeeded" in first.err  # status progress on stderr

    assert main(argv) == 0
    second = capsys.readouterr()

    assert len(api.requests("POST", "/v1/files")) == 2
    assert len(api.job_bodies) == 2 and api.job_bodies[1] == api.job_bodies[0]
    assert "already uploaded, reused" in second.err
    assert "fine_tuned_model: ft:gpt-4o-mini:org-test::" in second.out
    for text in (first.out, first.err, second.out, second.err, state_text(tmp_path)):
        assert API_KEY not in text
    assert all(r.authorization == f"Bearer {API_KEY}" for r in api.log)


def test_text_output_prints_the_job_id_and_file_ids(
    api: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["upload", str(train), "--model", "gpt-4o-mini"]) == 0

    out = capsys.readouterr().out.splitlines()
    (job_id,) = api.jobs
    assert out[0] == f"job: {job_id}"
    assert out[1] == f"training_file: {api.job_bodies[0]['training_file']}"


def test_a_broken_file_never_reaches_the_server(api: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = train.with_name("broken.jsonl")
    broken.write_bytes(train.read_bytes() + b'{"messages": [}\n')

    assert main(["upload", str(broken), "--model", "gpt-4o-mini", "--wait"]) == 1

    captured = capsys.readouterr()
    assert api.log == []
    assert f"{broken}:13:15: FT101 error [invalid-json]" in captured.out
    assert "nothing was uploaded" in captured.err


def test_a_file_with_hundreds_of_errors_prints_the_checks_capped_report(
    api: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = train.with_name("broken.jsonl")
    broken.write_bytes(train.read_bytes() + b"".join(b'{"messages": [{"role": "wizard", "content": "q%d"}, '
                                                     b'{"role": "assistant", "content": "a"}]}\n' % i
                                                     for i in range(400)))

    assert main(["upload", str(broken), "--model", "gpt-4o-mini"]) == 1

    captured = capsys.readouterr()
    assert api.log == []
    listed = [line for line in captured.out.splitlines() if line.startswith(f"  {broken}:")]
    assert len(listed) == 50 and "... 350 more FT203 in this file" in captured.out  # not 400 lines
    assert "400 errors" in captured.out and "nothing was uploaded" in captured.err


def test_a_65_character_suffix_never_reaches_the_server(
    api: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["upload", str(train), "--model", "gpt-4o-mini", "--suffix", "s" * 65]) == 2

    assert api.log == []
    assert "  - suffix: String should have at most 64 characters" in capsys.readouterr().err


def test_a_bad_spec_lists_every_problem_and_sends_nothing(
    api: FakeAPI, train: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "job.toml"
    spec.write_text(
        'model = "gpt-4o-mini"\nsuffix = ""\nseed = 2147483648\nepochs = 3\n'
        '[method]\ntype = "dpo"\n[method.dpo.hyperparameters]\nbeta = 2.5\n'
        '[[integrations]]\ntype = "wandb"\nwandb = { name = "run" }\n'
    )

    assert main(["upload", str(train), "--job-spec", str(spec), "--batch-size", "300"]) == 2

    err = capsys.readouterr().err
    assert api.log == []
    assert f"{spec} + flags: 6 problems in the job request (nothing was sent):" in err
    for line in [
        "  - method.dpo.hyperparameters.batch_size: must be 'auto' or an integer from 1 to 256 (got 300)",
        "  - method.dpo.hyperparameters.beta: must be 'auto' or a number in (0, 2] (got 2.5)",
        "  - suffix: String should have at least 1 character",
        "  - seed: Input should be less than or equal to 2147483647",
        "  - integrations[0].wandb.project: required",
        "  - epochs: unknown field (not a parameter of fine_tuning.jobs.create); remove it or fix its spelling",
    ]:
        assert line in err


def test_flags_override_the_job_spec_file_field_by_field(
    api: FakeAPI, train: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "job.json"
    spec.write_text(
        json.dumps(
            {
                "model": "gpt-4o-mini",
                "suffix": "from-file",
                "metadata": {"a": "1"},
                "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2, "batch_size": 8}}},
            }
        )
    )

    code = main(
        [
            "upload",
            str(train),
            "--job-spec",
            str(spec),
            "--suffix",
            "from-flag",
            "--metadata",
            "b=2",
            "--batch-size",
            "16",
        ]
    )

    assert code == 0
    body = api.job_bodies[0]
    assert body["suffix"] == "from-flag"
    assert body["metadata"] == {"a": "1", "b": "2"}
    assert body["method"] == {
        "type": "supervised",
        "supervised": {"hyperparameters": {"n_epochs": 2, "batch_size": 16}},
    }


def test_deprecated_top_level_hyperparameters_are_sent_under_method_with_a_warning(
    api: FakeAPI, train: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "job.toml"
    spec.write_text('model = "gpt-4o-mini"\n[hyperparameters]\nn_epochs = 4\n')

    assert main(["upload", str(train), "--job-spec", str(spec)]) == 0

    assert "hyperparameters" not in api.job_bodies[0]
    assert api.job_bodies[0]["method"] == {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 4}}}
    assert "top-level hyperparameters are deprecated" in capsys.readouterr().err


def test_an_unknown_model_is_a_warning_and_the_api_decides(
    api: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["upload", str(train), "--model", "my-org-base-model"]) == 0

    assert api.job_bodies[0]["model"] == "my-org-base-model"
    assert "model 'my-org-base-model' is not in ftprep's model table" in capsys.readouterr().err


def test_wait_on_a_failing_job_exits_1_with_the_api_error_message(
    api: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.script = ("validating_files", "failed")

    assert main(["upload", str(train), "--model", "gpt-4o-mini", "--wait", "--poll-interval", "0"]) == 1

    (job_id,) = api.jobs
    err = capsys.readouterr().err
    assert f"ftprep: job {job_id} failed: {api.failure_message}" in err
    assert f"[error] {api.failure_message}" in err


def test_dry_run_prints_the_exact_requests_and_sends_nothing(
    api: FakeAPI, train: Path, valid: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["upload", str(train), "--validation", str(valid), *FULL_FLAGS, "--dry-run", "--output-format", "json"]

    assert main(argv) == 0

    assert api.log == []
    plan = json.loads(capsys.readouterr().out)
    assert [(r["method"], r["url"]) for r in plan["requests"]] == [
        ("POST", f"{api.base_url}/files"),
        ("POST", f"{api.base_url}/files"),
        ("POST", f"{api.base_url}/fine_tuning/jobs"),
    ]
    assert plan["requests"][0]["multipart"]["file"]["bytes"] == train.stat().st_size
    assert plan["requests"][2]["json"] == expected_body("<id of train.jsonl>", "<id of valid.jsonl>")


def test_dry_run_after_an_upload_shows_the_verification_of_the_recorded_file(
    api: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["upload", str(train), "--model", "gpt-4o-mini"]) == 0
    file_id = api.job_bodies[0]["training_file"]
    capsys.readouterr()
    sent = len(api.log)

    assert main(["upload", str(train), "--model", "gpt-4o-mini", "--dry-run"]) == 0

    out = capsys.readouterr().out
    assert len(api.log) == sent
    assert out.startswith(f"GET {api.base_url}/files/{file_id}\n")
    assert f'"training_file": "{file_id}"' in out


def test_large_files_use_the_uploads_api_through_the_cli(
    api: FakeAPI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = write_chat(tmp_path / "big.jsonl", 40)
    argv = [
        "upload",
        str(big),
        "--model",
        "gpt-4o-mini",
        "--multipart-threshold",
        "1KiB",
        "--part-size",
        "1KiB",
        "--output-format",
        "json",
    ]

    assert main(argv) == 0

    result = json.loads(capsys.readouterr().out)
    assert result["files"]["training_file"]["via"] == "uploads"
    assert len(api.requests("POST", "/v1/uploads/.*/parts")) == -(-big.stat().st_size // 1024)
    assert api.file_content(result["files"]["training_file"]["id"]) == big.read_bytes()


def test_an_api_error_is_one_line_with_the_request_id_and_no_key(
    api: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.fail_next("POST", "/v1/fine_tuning/jobs", 400, f"Incorrect API key provided: {API_KEY}.")

    assert main(["upload", str(train), "--model", "gpt-4o-mini"]) == 2

    captured = capsys.readouterr()
    (line,) = [x for x in captured.err.splitlines() if x.startswith("ftprep: error:")]
    assert line.startswith("ftprep: error: creating the fine-tuning job failed: HTTP 400: Incorrect API key provided:")
    assert "[redacted]" in line and "(request id req_" in line
    assert API_KEY not in captured.err + captured.out
    assert API_KEY[:12] not in captured.err


def test_a_missing_key_is_a_configuration_error_before_anything_is_sent(
    api: FakeAPI, train: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")

    assert main(["upload", str(train), "--model", "gpt-4o-mini"]) == 2

    assert api.log == []
    assert "ftprep: error: cannot set up the API client: Missing credentials" in capsys.readouterr().err


def test_an_oversized_part_size_is_a_usage_error(api: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["upload", str(train), "--model", "gpt-4o-mini", "--part-size", "65MB"]) == 2

    assert api.log == []
    assert "--part-size 68157440 is out of range" in capsys.readouterr().err
