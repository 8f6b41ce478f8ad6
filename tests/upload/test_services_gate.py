"""The gate for every target: a broken file exits 1 and no request at all reaches the service (each stand-in
counts what it receives); the service SDKs are imported only when their target is used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from ftprep.cli import main
from tests.conftest import SAMPLES
from tests.upload.conftest import FakeAPI
from tests.upload.stand_ins import FakeFireworks, FakeTogether


def serve(target: str, server: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[object]:
    """A stand-in for ``target`` with the environment pointing at it; returns its request log."""
    monkeypatch.setenv("FTPREP_STATE_DIR", str(tmp_path / "state"))
    if target == "together":
        together = FakeTogether(server)
        monkeypatch.setenv("TOGETHER_API_KEY", "together-test-key-0123456789")
        monkeypatch.setenv("TOGETHER_BASE_URL", together.base_url)
        return together.log  # type: ignore[return-value]
    if target == "fireworks":
        fw = FakeFireworks(server)
        monkeypatch.setenv("FIREWORKS_API_KEY", "fireworks-test-key-0123456789")
        monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", "acme")
        monkeypatch.setenv("FIREWORKS_BASE_URL", fw.base_url)
        return fw.log  # type: ignore[return-value]
    azure = FakeAPI(server)
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.url_for("/").rstrip("/"))
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-test-key-0123456789")
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    return azure.log  # type: ignore[return-value]


@pytest.mark.parametrize("target", ["together", "fireworks", "azure"])
def test_a_broken_file_exits_1_and_no_request_reaches_the_service(
        target: str, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    log = serve(target, httpserver, monkeypatch, tmp_path)
    model = ["--model", "gpt-4.1-mini-2025-04-14"] if target == "azure" else []
    code = main(["upload", str(SAMPLES / "chat_broken.jsonl"), "--target", target, *model])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "nothing was uploaded" in err and "FT" in out
    assert log == []
    # The same with --dry-run or --wait: the gate comes first whatever else is asked.
    for extra in ("--dry-run", "--wait"):
        assert main(["upload", str(SAMPLES / "chat_broken.jsonl"), "--target", target, *model, extra]) == 1
    assert log == []


@pytest.mark.parametrize(("target", "flags", "says"), [
    ("together", ["--learning-rate-multiplier", "2"], "absolute learning rate"),
    ("fireworks", ["--context-length", "1000"], "multiple of 16"),
    ("azure", ["--model", "gpt-4.1-mini-2025-04-14", "--suffix", "a.b"], "contains a dot"),
])
def test_a_request_the_target_refuses_exits_2_and_no_request_reaches_the_service(
        target: str, flags: list[str], says: str, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = serve(target, httpserver, monkeypatch, tmp_path)
    code = main(["upload", str(SAMPLES / "chat_valid.jsonl"), "--target", target, *flags])
    _, err = capsys.readouterr()
    assert code == 2 and says in err
    assert log == []


def test_check_imports_no_service_sdk() -> None:
    code = ("import sys\nfrom ftprep.cli import main\n"
            f"sys.argv = ['ftprep', 'check', {str(SAMPLES / 'chat_valid.jsonl')!r}, '--target', 'together', '-q']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print([name for name in ('together', 'fireworks', 'openai') if name in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("target", ["together", "fireworks"])
def test_the_services_client_has_the_timeout_and_bounded_retries(target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    from ftprep.upload.client import DEFAULT_MAX_RETRIES
    from ftprep.upload.service import service_class

    monkeypatch.setenv("TOGETHER_API_KEY", "k" * 20)
    monkeypatch.setenv("FIREWORKS_API_KEY", "k" * 20)
    monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", "acme")
    factory = service_class(target)
    assert factory is not None
    service = factory(timeout=7.5)
    client = service.client  # type: ignore[attr-defined]
    assert client.timeout == httpx.Timeout(7.5, connect=7.5) and client.max_retries == DEFAULT_MAX_RETRIES
    assert factory(timeout=60).client.timeout == httpx.Timeout(60, connect=10)  # type: ignore[attr-defined]
