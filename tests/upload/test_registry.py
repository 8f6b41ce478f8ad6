"""The local upload record, where it lives, and the secret scrubbing of everything ftprep shows."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from ftprep.errors import ConfigError
from ftprep.upload.follow import follow_job
from ftprep.upload.registry import FileRecord, FileRegistry, PendingUpload, state_dir
from ftprep.upload.secrets import redact
from tests.upload.conftest import API_KEY, FakeAPI


def test_state_dir_prefers_ftprep_state_dir_then_xdg_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FTPREP_STATE_DIR", raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    assert state_dir() == tmp_path / "home" / ".local" / "state" / "ftprep"

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_dir() == tmp_path / "xdg" / "ftprep"

    monkeypatch.setenv("FTPREP_STATE_DIR", str(tmp_path / "explicit"))
    assert state_dir() == tmp_path / "explicit"


def test_records_survive_a_new_registry_object_and_leave_no_temp_files(tmp_path: Path) -> None:
    FileRegistry("https://api.example/v1", tmp_path).remember("ab" * 32, FileRecord("file-1", 10, "t.jsonl", 5))
    FileRegistry("https://api.example/v1", tmp_path).save_pending(
        "cd" * 32, PendingUpload("upload-1", 99, 64, "big.jsonl", 1000, ("part-1",))
    )

    again = FileRegistry("https://api.example/v1", tmp_path)
    assert again.lookup("ab" * 32) == FileRecord("file-1", 10, "t.jsonl", 5)
    assert again.pending("cd" * 32) == PendingUpload("upload-1", 99, 64, "big.jsonl", 1000, ("part-1",))
    assert [p.name for p in tmp_path.iterdir()] == [again.path.name]


def test_remembering_a_file_drops_its_pending_upload(tmp_path: Path) -> None:
    registry = FileRegistry("https://api.example/v1", tmp_path)
    registry.save_pending("ab" * 32, PendingUpload("upload-1", 99, 64, "big.jsonl", 1000, ()))

    registry.remember("ab" * 32, FileRecord("file-1", 99, "big.jsonl", 5))

    assert registry.pending("ab" * 32) is None


def test_a_damaged_record_is_a_configuration_error_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    registry = FileRegistry("https://api.example/v1", tmp_path)
    registry.path.write_text("{not json")

    with pytest.raises(ConfigError, match=r"the upload record is damaged .*; delete it"):
        registry.lookup("ab" * 32)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key {API_KEY} rejected", "key [redacted] rejected"),
        ("Incorrect API key provided: sk-proj-abcdefghijklmnop1234.", "Incorrect API key provided: [redacted]."),
        ("Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer [redacted]"),
        ('{"api_key": "s3cr3t-value-123"}', '{"api_key": "[redacted]"}'),
        ("https://user:pass@proxy.example/v1", "https://proxy.example/v1"),
        ("file-abc123 uploaded", "file-abc123 uploaded"),
    ],
)
def test_redact_masks_keys_tokens_and_url_credentials(
    text: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)

    assert redact(text) == expected


def test_follow_reports_each_status_change_and_each_event_once(api: FakeAPI, client: openai.OpenAI) -> None:
    file_id = api._new_file("t.jsonl", b"{}\n", "fine-tune")["id"]
    job = client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=file_id)
    statuses: list[str] = []
    events: list[str] = []
    sleeps: list[float] = []

    final = follow_job(
        client,
        job.id,
        poll_interval=7.5,
        on_status=lambda j: statuses.append(j.status),
        on_event=lambda e: events.append(e.message),
        sleep=sleeps.append,
    )

    assert final.status == "succeeded"
    assert statuses == ["queued", "running", "succeeded"]
    assert events == [
        f"Created fine-tuning job: {job.id}",
        "Job status: queued",
        "Job status: running",
        "Job status: succeeded",
    ]
    assert sleeps == [7.5, 7.5]
