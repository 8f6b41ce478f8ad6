"""``upload --target`` and ``jobs --target``: the target's check gates the upload, its request rules are checked
before anything is sent, Azure's training type goes in the body, and targets ftprep cannot reach send nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftprep.cli import main
from tests.conftest import SAMPLES


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def together_rows(tmp_path: Path) -> str:
    """Rows Together takes and OpenAI refuses (a top-level sample weight)."""
    path = tmp_path / "weighted.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}],
             "weight": 1.5} for i in range(12)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def no_api_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_api_env")
@pytest.mark.parametrize("target", ["together", "fireworks", "azure"])
def test_broken_file_exits_1_and_sends_nothing(target: str, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Azure's client is made before the check: an endpoint where nothing listens (port 9, loopback) shows that no
    # request is sent (a request would fail with exit 2, not 1). Together and Fireworks need nothing at all.
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    model = ["--model", "gpt-4.1-mini"] if target == "azure" else []
    code, out, err = run(["upload", str(SAMPLES / "chat_broken.jsonl"), "--target", target, *model], capsys)
    assert code == 1, err
    assert "FT204" in out + err and "nothing was uploaded" in out + err


@pytest.mark.usefixtures("no_api_env")
def test_a_passing_file_without_the_services_key_says_which_variable_is_missing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    code, _, err = run(["upload", together_rows(tmp_path), "--target", "together"], capsys)
    assert code == 2 and "TOGETHER_API_KEY" in err
    # The same file fails OpenAI's check (the sample weight), so it is refused there with exit 1, nothing sent
    # (an endpoint where nothing listens: a request would be exit 2).
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    code, out, err = run(["upload", together_rows(tmp_path), "--model", "gpt-4o-mini"], capsys)
    assert code == 1 and "FT209" in out + err


@pytest.mark.usefixtures("no_api_env")
def test_azure_request_rules_before_anything_is_sent(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["upload", str(SAMPLES / "chat_valid.jsonl"), "--target", "azure", "--model", "gpt-4.1-mini"]
    code, _, err = run([*args, "--suffix", "support.bot"], capsys)
    assert code == 2 and "contains a dot" in err
    code, _, err = run([*args, "--suffix", "customer-support-bot"], capsys)
    assert code == 2 and "at most 18" in err
    code, _, err = run([*args, "--training-type", "premium"], capsys)
    assert code == 2 and "training type 'premium'" in err
    code, _, err = run(args, capsys)
    assert code == 2 and "AZURE_OPENAI_ENDPOINT" in err


def test_azure_dry_run_shows_the_training_type(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://example-resource.openai.azure.com")
    code, out, _ = run(["upload", str(SAMPLES / "chat_valid.jsonl"), "--target", "azure", "--model", "gpt-4.1-mini",
                        "--training-type", "global", "--dry-run", "--output-format", "json"], capsys)
    assert code == 0
    job = json.loads(out)["requests"][-1]
    assert job["json"]["trainingType"] == "GlobalStandard" and job["json"]["method"]["type"] == "supervised"
    quota = json.loads(out)["requests"][0]
    assert (quota["method"], quota["url"]) == ("GET", "https://example-resource.openai.azure.com/openai/files")


def test_jobs_target_without_the_services_key_is_a_clear_error(capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIREWORKS_API_KEY", raising=False)
    code, _, err = run(["jobs", "--target", "fireworks", "list"], capsys)
    assert code == 2 and "FIREWORKS_API_KEY" in err
