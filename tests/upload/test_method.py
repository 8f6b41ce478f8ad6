"""``ftprep upload`` checks and sends the same method, always named in the job request (issue 18, point 1).

A request without ``method`` runs as supervised whatever the file holds: a DPO file checked as DPO and
sent without a method failed after the upload. The method follows the file as in ``check``, unless
``--method`` or the job spec names one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import openai
import pytest

from ftprep.cli import main
from ftprep.upload.spec import JobSpec
from ftprep.upload.uploader import Uploader
from tests.upload.conftest import FakeAPI

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture
def dpo(tmp_path: Path) -> Path:
    return Path(shutil.copy(SAMPLES / "dpo_valid.jsonl", tmp_path / "prefs.jsonl"))


@pytest.fixture
def rft(tmp_path: Path) -> tuple[Path, Path]:
    """Reinforcement rows and a job spec holding the grader."""
    grader = json.loads((SAMPLES / "rft_grader.json").read_text())
    spec = tmp_path / "job.json"
    spec.write_text(json.dumps({"method": {"type": "reinforcement", "reinforcement": {"grader": grader}}}))
    return Path(shutil.copy(SAMPLES / "rft_valid.jsonl", tmp_path / "rft.jsonl")), spec


def sent_method(api: FakeAPI) -> Any:
    (body,) = api.job_bodies
    return body["method"]


def test_a_chat_file_is_sent_as_supervised_by_name(api: FakeAPI, train: Path) -> None:
    assert main(["upload", str(train), "--model", "gpt-4o-mini"]) == 0

    assert sent_method(api) == {"type": "supervised"}


def test_a_preference_file_is_checked_and_sent_as_dpo_without_being_told(
    api: FakeAPI, dpo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["upload", str(dpo), "--model", "gpt-4o-mini"]) == 0

    assert sent_method(api) == {"type": "dpo"}
    assert "method: dpo" in capsys.readouterr().out.splitlines()


def test_hyperparameter_flags_go_under_the_method_the_file_was_checked_as(api: FakeAPI, dpo: Path) -> None:
    assert main(["upload", str(dpo), "--model", "gpt-4o-mini", "--beta", "0.2", "--n-epochs", "2"]) == 0

    assert sent_method(api) == {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2, "n_epochs": 2}}}


def test_deprecated_hyperparameters_of_a_spec_file_go_under_the_detected_method(
    api: FakeAPI, dpo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "job.toml"
    spec.write_text('model = "gpt-4o-mini"\n[hyperparameters]\nn_epochs = 3\n')

    assert main(["upload", str(dpo), "--job-spec", str(spec)]) == 0

    assert sent_method(api) == {"type": "dpo", "dpo": {"hyperparameters": {"n_epochs": 3}}}
    assert "sent as method.dpo.hyperparameters" in capsys.readouterr().err


def test_a_supervised_hyperparameter_that_does_not_fit_the_detected_method_is_refused_before_uploading(
    api: FakeAPI, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["upload", str(train), "--model", "gpt-4o-mini", "--beta", "0.2"]) == 2

    assert "method.supervised.hyperparameters.beta" in capsys.readouterr().err
    assert api.log == []


def test_reinforcement_named_by_the_job_spec_is_checked_and_sent_as_reinforcement(
    api: FakeAPI, rft: tuple[Path, Path]
) -> None:
    rows, spec = rft

    assert main(["upload", str(rows), "--model", "o4-mini", "--job-spec", str(spec)]) == 0

    method = sent_method(api)
    assert method["type"] == "reinforcement"
    assert method["reinforcement"]["grader"]["name"] == "clause_label"


def test_a_named_method_is_the_one_checked_a_preference_file_named_supervised_is_refused(
    api: FakeAPI, dpo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["upload", str(dpo), "--model", "gpt-4o-mini", "--method", "supervised"]) == 1

    assert "nothing was uploaded" in capsys.readouterr().err
    assert api.log == []


@pytest.mark.parametrize("method", ["supervised", "dpo", "reinforcement"])
def test_dry_run_shows_the_method_of_the_request_for_every_method(
    api: FakeAPI, train: Path, dpo: Path, rft: tuple[Path, Path], method: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = {
        "supervised": [str(train), "--model", "gpt-4o-mini"],
        "dpo": [str(dpo), "--model", "gpt-4o-mini"],
        "reinforcement": [str(rft[0]), "--model", "o4-mini", "--job-spec", str(rft[1])],
    }[method]

    assert main(["upload", *argv, "--dry-run", "--output-format", "json"]) == 0

    job_request = json.loads(capsys.readouterr().out)["requests"][-1]
    assert job_request["json"]["method"]["type"] == method
    assert api.log == []


def test_help_says_the_method_follows_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["upload", "--help"]) == 0

    help_text = " ".join(capsys.readouterr().out.split())
    assert "by default the file's, as `check` detects it" in help_text
    assert "default: supervised" not in help_text


def test_the_library_uploader_names_the_method_the_files_were_checked_as(
    api: FakeAPI, client: openai.OpenAI, dpo: Path
) -> None:
    files = Uploader(client).upload(str(dpo), model="gpt-4o-mini", method=None)
    spec = JobSpec(model="gpt-4o-mini").with_method(files.method).with_files(files.training.file_id, None)

    assert files.method == "dpo"
    assert spec.to_request()["method"] == {"type": "dpo"}
    assert JobSpec(model="gpt-4o-mini", training_file="file-1").to_request()["method"] == {"type": "supervised"}


@pytest.mark.parametrize("target", ["openai", "azure"])
@pytest.mark.parametrize("method", ["supervised", "dpo", "reinforcement"])
def test_every_method_is_sent_by_name_to_every_client(
    api: FakeAPI, train: Path, dpo: Path, rft: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
    method: str, target: str,
) -> None:
    if target == "azure":
        monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", api.base_url.removesuffix("/v1"))
        monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-key-0123456789")
        monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
        monkeypatch.delenv("OPENAI_BASE_URL")
    argv = {
        "supervised": [str(train), "--model", "gpt-4o-mini"],
        "dpo": [str(dpo), "--model", "gpt-4o-mini"],
        "reinforcement": [str(rft[0]), "--model", "o4-mini", "--job-spec", str(rft[1])],
    }[method]

    assert main(["upload", *argv]) == 0

    assert sent_method(api)["type"] == method
    prefix = "/openai" if target == "azure" else "/v1"
    assert len(api.requests("POST", f"{prefix}/fine_tuning/jobs")) == 1
