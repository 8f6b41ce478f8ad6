"""The Uploader against the real SDK and a stateful loopback API: gate, upload, dedupe, multipart, resume."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import openai
import pytest

from ftprep.errors import ConfigError, InputError, UploadError
from ftprep.upload.registry import FileRegistry
from ftprep.upload.spec import build_job_spec
from ftprep.upload.uploader import MAX_UPLOAD_BYTES, CheckFailed, Uploader
from tests.upload.conftest import API_KEY, FakeAPI, write_chat


def make_uploader(client: openai.OpenAI, **kw: object) -> Uploader:
    return Uploader(client, **kw)  # type: ignore[arg-type]


def test_small_files_are_sent_with_purpose_fine_tune_and_their_exact_bytes(
    api: FakeAPI, client: openai.OpenAI, train: Path, valid: Path
) -> None:
    files = make_uploader(client).upload(str(train), str(valid), model="gpt-4o-mini", method=None)

    posts = api.requests("POST", "/v1/files")
    assert len(posts) == 2
    assert [api.files[f.file_id]["purpose"] for f in (files.training, files.validation)] == ["fine-tune"] * 2
    assert api.file_content(files.training.file_id) == train.read_bytes()
    assert api.file_content(files.validation.file_id) == valid.read_bytes()  # type: ignore[union-attr]
    assert api.files[files.training.file_id]["filename"] == "train.jsonl"
    assert (files.training.reused, files.training.via) == (False, "files")


def test_the_same_bytes_are_not_uploaded_twice(api: FakeAPI, client: openai.OpenAI, train: Path) -> None:
    first = make_uploader(client).upload(str(train), model="gpt-4o-mini", method=None)
    copy = train.with_name("renamed.jsonl")
    copy.write_bytes(train.read_bytes())

    second = make_uploader(client).upload(str(copy), model="gpt-4o-mini", method=None)

    assert len(api.requests("POST", "/v1/files")) == 1
    assert [r.path for r in api.requests("GET", "/v1/files/.*")] == [f"/v1/files/{first.training.file_id}"]
    assert (second.training.file_id, second.training.reused) == (first.training.file_id, True)


def test_a_recorded_file_the_api_no_longer_has_is_uploaded_again(
    api: FakeAPI, client: openai.OpenAI, train: Path
) -> None:
    first = make_uploader(client).upload(str(train), model="gpt-4o-mini", method=None)
    del api.files[first.training.file_id]

    second = make_uploader(client).upload(str(train), model="gpt-4o-mini", method=None)

    assert len(api.requests("POST", "/v1/files")) == 2
    assert second.training.reused is False
    assert second.training.file_id != first.training.file_id
    record = FileRegistry(api.base_url).lookup(second.training.sha256)
    assert record is not None and record.file_id == second.training.file_id


def test_a_file_with_errors_never_reaches_the_server(api: FakeAPI, client: openai.OpenAI, train: Path) -> None:
    broken = train.with_name("broken.jsonl")
    broken.write_bytes(train.read_bytes() + b'{"messages": [}\n')

    with pytest.raises(CheckFailed) as caught:
        make_uploader(client).upload(str(broken), model="gpt-4o-mini", method=None)

    assert caught.value.result.errors == 1
    assert [(f.code, f.line) for f in caught.value.result.findings] == [("FT101", 13)]
    assert api.log == []


def test_a_validation_file_with_errors_stops_the_training_upload_too(
    api: FakeAPI, client: openai.OpenAI, train: Path, tmp_path: Path
) -> None:
    bad_valid = tmp_path / "bad_valid.jsonl"
    bad_valid.write_bytes(b"not json\n")

    with pytest.raises(CheckFailed):
        make_uploader(client).upload(str(train), str(bad_valid), model="gpt-4o-mini", method=None)

    assert api.log == []


def test_large_files_go_through_the_uploads_api_in_parts_with_an_md5(
    api: FakeAPI, client: openai.OpenAI, tmp_path: Path
) -> None:
    big = write_chat(tmp_path / "big.jsonl", 40)
    size = big.stat().st_size
    progress: list[tuple[str, int, int]] = []
    uploader = make_uploader(client, multipart_threshold=1000, part_size=1024, progress=lambda *a: progress.append(a))

    files = uploader.upload(str(big), model="gpt-4o-mini", method=None)

    parts = -(-size // 1024)
    assert api.requests("POST", "/v1/files") == []
    assert len(api.requests("POST", "/v1/uploads")) == 1
    assert len(api.requests("POST", "/v1/uploads/.*/parts")) == parts
    created = json.loads(api.requests("POST", "/v1/uploads")[0].body)
    assert created == {
        "bytes": size,
        "filename": "big.jsonl",
        "mime_type": "text/jsonl",
        "purpose": "fine-tune",
    }
    (upload,) = api.uploads.values()
    assert upload["md5"] == hashlib.md5(big.read_bytes()).hexdigest()
    assert api.file_content(files.training.file_id) == big.read_bytes()
    assert files.training.via == "uploads"
    assert progress[0] == ("big.jsonl", 0, size) and progress[-1] == ("big.jsonl", size, size)
    assert len(progress) == parts + 1


def test_an_interrupted_multipart_upload_resumes_with_the_missing_parts_only(
    api: FakeAPI, client: openai.OpenAI, tmp_path: Path
) -> None:
    big = write_chat(tmp_path / "big.jsonl", 40)
    parts = -(-big.stat().st_size // 1024)
    api.interrupt_part, api.interrupt_times = 3, 3  # outlasts the SDK's 2 retries
    with pytest.raises(UploadError) as caught:
        make_uploader(client, multipart_threshold=1000, part_size=1024).upload(
            str(big), model="gpt-4o-mini", method=None
        )
    message = str(caught.value)
    assert message.startswith(f"uploading part 3 of {parts} of big.jsonl failed: HTTP 503: the part was interrupted")
    assert "run the same command again to resume (upload upload-" in message

    files = make_uploader(client, multipart_threshold=1000, part_size=1024).upload(
        str(big), model="gpt-4o-mini", method=None
    )

    assert len(api.requests("POST", "/v1/uploads")) == 1
    assert len(api.requests("POST", "/v1/uploads/.*/parts")) == parts + 3  # three refused attempts of part 3
    assert files.training.resumed_parts == 2
    assert api.file_content(files.training.file_id) == big.read_bytes()
    assert FileRegistry(api.base_url).pending(files.training.sha256) is None


def test_an_expired_upload_is_not_resumed(api: FakeAPI, client: openai.OpenAI, tmp_path: Path) -> None:
    big = write_chat(tmp_path / "big.jsonl", 40)
    api.interrupt_part, api.interrupt_times = 2, 3
    with pytest.raises(UploadError):
        make_uploader(client, multipart_threshold=1000, part_size=1024).upload(
            str(big), model="gpt-4o-mini", method=None
        )
    later = make_uploader(client, multipart_threshold=1000, part_size=1024, clock=lambda: 4_000_000_000.0)

    files = later.upload(str(big), model="gpt-4o-mini", method=None)

    assert len(api.requests("POST", "/v1/uploads")) == 2
    assert files.training.resumed_parts == 0
    assert api.file_content(files.training.file_id) == big.read_bytes()


def test_a_refused_part_drops_the_upload_record_so_the_next_run_starts_afresh(
    api: FakeAPI, client: openai.OpenAI, tmp_path: Path
) -> None:
    big = write_chat(tmp_path / "big.jsonl", 40)
    api.fail_next("POST", "/v1/uploads/.*/parts", 400, "Part is larger than the upload allows")
    with pytest.raises(UploadError) as caught:
        make_uploader(client, multipart_threshold=1000, part_size=1024).upload(
            str(big), model="gpt-4o-mini", method=None
        )
    assert "HTTP 400: Part is larger than the upload allows" in str(caught.value)
    assert "resume" not in str(caught.value)

    files = make_uploader(client, multipart_threshold=1000, part_size=1024).upload(
        str(big), model="gpt-4o-mini", method=None
    )

    assert len(api.requests("POST", "/v1/uploads")) == 2
    assert api.file_content(files.training.file_id) == big.read_bytes()


def test_a_recorded_upload_the_api_no_longer_accepts_is_started_over_once(
    api: FakeAPI, client: openai.OpenAI, tmp_path: Path
) -> None:
    big = write_chat(tmp_path / "big.jsonl", 40)
    api.interrupt_part, api.interrupt_times = 2, 3
    with pytest.raises(UploadError):
        make_uploader(client, multipart_threshold=1000, part_size=1024).upload(
            str(big), model="gpt-4o-mini", method=None
        )
    (first_upload,) = api.uploads
    api.uploads[first_upload]["status"] = "cancelled"

    files = make_uploader(client, multipart_threshold=1000, part_size=1024).upload(
        str(big), model="gpt-4o-mini", method=None
    )

    assert len(api.requests("POST", "/v1/uploads")) == 2
    assert files.training.resumed_parts == 0
    assert api.file_content(files.training.file_id) == big.read_bytes()


def test_a_rate_limited_upload_is_retried_by_the_sdk_and_sends_the_exact_bytes(
    api: FakeAPI, client: openai.OpenAI, train: Path
) -> None:
    api.fail_next("POST", "/v1/files", 429, "Rate limit reached", headers={"retry-after-ms": "10"})

    files = make_uploader(client).upload(str(train), model="gpt-4o-mini", method=None)

    assert len(api.requests("POST", "/v1/files")) == 2
    assert api.file_content(files.training.file_id) == train.read_bytes()


def test_a_rejected_job_is_one_line_with_status_message_and_request_id(api: FakeAPI, client: openai.OpenAI) -> None:
    api.fail_next("POST", "/v1/fine_tuning/jobs", 400, "Model gpt-4o-mini cannot be fine-tuned with dpo")
    spec = build_job_spec({"model": "gpt-4o-mini"}).spec.with_files("file-x", None)

    with pytest.raises(UploadError) as caught:
        make_uploader(client).create_job(spec)

    message = str(caught.value)
    assert message.startswith("creating the fine-tuning job failed: HTTP 400: Model gpt-4o-mini cannot be")
    assert "(request id req_" in message and "\n" not in message
    assert API_KEY not in message


def test_create_job_sends_every_parameter_as_given(api: FakeAPI, client: openai.OpenAI) -> None:
    t = api._new_file("t.jsonl", b"{}\n", "fine-tune")["id"]
    v = api._new_file("v.jsonl", b"{}\n", "fine-tune")["id"]
    spec = build_job_spec(
        {
            "model": "gpt-4o-mini",
            "suffix": "support-bot",
            "seed": 7,
            "metadata": {"team": "search"},
            "method": {
                "type": "supervised",
                "supervised": {
                    "hyperparameters": {"n_epochs": 3, "batch_size": "auto", "learning_rate_multiplier": 0.5}
                },
            },
            "integrations": [{"type": "wandb", "wandb": {"project": "ft", "tags": ["a"]}}],
        }
    ).spec.with_files(t, v)

    job = make_uploader(client).create_job(spec)

    assert api.job_bodies == [
        {
            "model": "gpt-4o-mini",
            "training_file": t,
            "validation_file": v,
            "suffix": "support-bot",
            "seed": 7,
            "metadata": {"team": "search"},
            "method": {
                "type": "supervised",
                "supervised": {
                    "hyperparameters": {"batch_size": "auto", "learning_rate_multiplier": 0.5, "n_epochs": 3}
                },
            },
            "integrations": [{"type": "wandb", "wandb": {"project": "ft", "tags": ["a"]}}],
        }
    ]
    assert job.status == "validating_files"


def test_a_file_over_8_gb_is_refused_before_anything_is_read_or_sent(
    api: FakeAPI, client: openai.OpenAI, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.jsonl"
    with open(huge, "wb") as handle:
        handle.truncate(MAX_UPLOAD_BYTES + 1)  # sparse: no disk used

    with pytest.raises(InputError, match="over the API's 8 GB upload limit"):
        make_uploader(client).upload(str(huge), model="gpt-4o-mini", method=None)

    assert api.log == []


def test_part_sizes_over_64_mb_are_refused(client: openai.OpenAI) -> None:
    with pytest.raises(ConfigError, match="--part-size 67108865 is out of range"):
        make_uploader(client, part_size=64 * 1024 * 1024 + 1)


def test_gzip_input_is_refused_with_the_fix(api: FakeAPI, client: openai.OpenAI, tmp_path: Path) -> None:
    packed = tmp_path / "train.jsonl.gz"
    packed.write_bytes(b"\x1f\x8b")

    with pytest.raises(InputError, match="decompress it first"):
        make_uploader(client).upload(str(packed), model="gpt-4o-mini", method=None)


def test_the_state_record_holds_ids_and_hashes_but_never_the_key(
    api: FakeAPI, client: openai.OpenAI, train: Path, tmp_path: Path
) -> None:
    files = make_uploader(client).upload(str(train), model="gpt-4o-mini", method=None)

    (state,) = (tmp_path / "state").iterdir()
    text = state.read_text()
    assert API_KEY not in text
    assert json.loads(text)["files"][files.training.sha256]["file_id"] == files.training.file_id
    assert oct(os.stat(state).st_mode & 0o777) == "0o600"


def test_records_are_kept_per_api_base_url(api: FakeAPI, client: openai.OpenAI, train: Path) -> None:
    files = make_uploader(client).upload(str(train), model="gpt-4o-mini", method=None)

    assert FileRegistry(api.base_url).lookup(files.training.sha256) is not None
    assert FileRegistry("https://other.example/v1").lookup(files.training.sha256) is None
