"""A stateful imitation of the Files, Uploads and fine-tuning jobs endpoints on a real loopback server.

The real ``openai`` SDK talks to it over HTTP. It keeps what was sent (file bytes, upload parts, job
bodies) so tests assert on exactly what reached "the API", and it can be told to fail the next
matching request (400, 404, 429, 500) to exercise errors, retries and resume.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.upload.stand_ins import reset_connection

API_KEY = "sk-test-Sup3rSecretKeyValue-0123456789abcdef"
SUCCESS_SCRIPT = ("validating_files", "queued", "running", "succeeded")


@dataclass
class Fault:
    """Answer the next ``times`` requests matching method and path with this status and body."""

    method: str
    path: re.Pattern[str]
    status: int
    message: str
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    # When set, the answer is this body as it is (a malformed 200, say), with this content type.
    raw: bytes | None = None
    content_type: str = "application/json"


@dataclass
class Logged:
    method: str
    path: str
    authorization: str | None
    api_key_header: str | None
    body: bytes


class FakeAPI:
    """The server-side state: files, uploads, parts and jobs, plus a request log and fault queue."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.base_url = server.url_for("/v1")
        self.files: dict[str, dict[str, Any]] = {}
        self.file_bytes: dict[str, bytes] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.parts: dict[str, bytes] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.job_bodies: list[dict[str, Any]] = []
        self.job_scripts: dict[str, list[str]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.log: list[Logged] = []
        self.faults: list[Fault] = []
        self.script: tuple[str, ...] = SUCCESS_SCRIPT
        self.failure_message = "The job failed due to an invalid training file: line 3 has no assistant message."
        self.trained_tokens = 4321
        self.upload_expires_in = 3600
        # Answer 503 to this part number (1-based) of an upload, interrupt_times times (the SDK retries 503s).
        self.interrupt_part: int | None = None
        self.interrupt_times = 0
        self._ids = itertools.count(1)
        server.expect_request(re.compile("^/(v1|openai)/.*")).respond_with_handler(self._dispatch)

    # -- test helpers -------------------------------------------------------------------------------
    def fail_next(self, method: str, path: str, status: int, message: str = "boom", **kw: Any) -> None:
        """Queue a fault for the next request whose path matches the regex ``path``."""
        self.faults.append(Fault(method, re.compile(path), status, message, **kw))

    def answer_next(
        self, method: str, path: str, body: bytes, *, status: int = 200, content_type: str = "application/json"
    ) -> None:
        """Answer the next request matching method and path regex with exactly ``body`` (a malformed answer)."""
        self.faults.append(Fault(method, re.compile(path), status, "", raw=body, content_type=content_type))

    def requests(self, method: str, path: str) -> list[Logged]:
        """Logged requests matching method and path regex."""
        return [r for r in self.log if r.method == method and re.fullmatch(path, r.path)]

    def file_content(self, file_id: str) -> bytes:
        return self.file_bytes[file_id]

    # -- dispatch -----------------------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):04d}"

    def _json(self, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        rid = f"req_{next(self._ids):06d}"
        return Response(
            json.dumps(obj),
            status=status,
            content_type="application/json",
            headers={"x-request-id": rid, **(headers or {})},
        )

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        kind = {400: "invalid_request_error", 404: "invalid_request_error", 429: "rate_limit_exceeded"}
        body = {
            "error": {
                "message": message,
                "type": kind.get(status, "server_error"),
                "param": None,
                "code": None,
            }
        }
        return self._json(body, status, headers)

    def _dispatch(self, request: Request) -> Response:
        body = request.get_data()
        self.log.append(
            Logged(
                request.method, request.path, request.headers.get("Authorization"), request.headers.get("api-key"), body
            )
        )
        for fault in self.faults:
            if fault.method == request.method and fault.path.fullmatch(request.path) and fault.times > 0:
                fault.times -= 1
                if fault.status == 0:  # a connection reset in the middle of the request
                    return reset_connection(request)
                if fault.raw is not None:
                    return Response(fault.raw, status=fault.status, content_type=fault.content_type)
                return self._error(fault.status, fault.message, fault.headers)
        path = re.sub(r"^/(v1|openai)", "", request.path)
        routes = [
            ("POST", r"/files", self._files_create),
            ("GET", r"/files", self._files_list),
            ("GET", r"/files/(?P<fid>[^/]+)", self._files_retrieve),
            ("POST", r"/uploads", self._uploads_create),
            ("POST", r"/uploads/(?P<uid>[^/]+)/parts", self._parts_create),
            ("POST", r"/uploads/(?P<uid>[^/]+)/complete", self._uploads_complete),
            ("POST", r"/uploads/(?P<uid>[^/]+)/cancel", self._uploads_cancel),
            ("POST", r"/fine_tuning/jobs", self._jobs_create),
            ("GET", r"/fine_tuning/jobs", self._jobs_list),
            ("GET", r"/fine_tuning/jobs/(?P<jid>[^/]+)", self._jobs_retrieve),
            ("GET", r"/fine_tuning/jobs/(?P<jid>[^/]+)/events", self._jobs_events),
            ("POST", r"/fine_tuning/jobs/(?P<jid>[^/]+)/(?P<verb>cancel|pause|resume)", self._jobs_verb),
        ]
        for method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if method == request.method and match:
                return handler(request, **match.groupdict())
        return self._error(404, f"no route {request.method} {path}")

    # -- files --------------------------------------------------------------------------------------
    def _new_file(self, name: str, content: bytes, purpose: str) -> dict[str, Any]:
        fid = self._id("file")
        obj = {
            "id": fid,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": name,
            "purpose": purpose,
            "status": "processed",
        }
        self.files[fid] = obj
        self.file_bytes[fid] = content
        return obj

    def _files_create(self, request: Request) -> Response:
        upload = request.files["file"]
        obj = self._new_file(upload.filename or "", upload.read(), request.form["purpose"])
        return self._json(obj)

    def _files_list(self, request: Request) -> Response:
        files = list(self.files.values())
        return self._json({"object": "list", "data": files, "has_more": False})

    def _files_retrieve(self, request: Request, fid: str) -> Response:
        if fid not in self.files:
            return self._error(404, f"No such File object: {fid}")
        return self._json(self.files[fid])

    # -- uploads ------------------------------------------------------------------------------------
    def _uploads_create(self, request: Request) -> Response:
        data = request.get_json()
        uid = self._id("upload")
        now = int(time.time())
        self.uploads[uid] = {
            "id": uid,
            "object": "upload",
            "bytes": data["bytes"],
            "filename": data["filename"],
            "purpose": data["purpose"],
            "mime_type": data["mime_type"],
            "status": "pending",
            "created_at": now,
            "expires_at": now + self.upload_expires_in,
            "part_ids": [],
        }
        return self._json(self._upload_view(uid))

    def _upload_view(self, uid: str) -> dict[str, Any]:
        return {k: v for k, v in self.uploads[uid].items() if k not in ("part_ids", "mime_type")}

    def _parts_create(self, request: Request, uid: str) -> Response:
        upload = self.uploads.get(uid)
        if upload is None:
            return self._error(404, f"No such Upload: {uid}")
        if upload["status"] != "pending":
            return self._error(400, f"Upload {uid} is {upload['status']}")
        if self.interrupt_part == len(upload["part_ids"]) + 1 and self.interrupt_times > 0:
            self.interrupt_times -= 1
            return self._error(503, "the part was interrupted", {"retry-after-ms": "1"})
        pid = self._id("part")
        self.parts[pid] = request.files["data"].read()
        upload["part_ids"].append(pid)
        return self._json({"id": pid, "object": "upload.part", "created_at": int(time.time()), "upload_id": uid})

    def _uploads_complete(self, request: Request, uid: str) -> Response:
        upload = self.uploads[uid]
        data = request.get_json()
        content = b"".join(self.parts[p] for p in data["part_ids"])
        if len(content) != upload["bytes"]:
            return self._error(400, f"expected {upload['bytes']} bytes, got {len(content)}")
        if "md5" in data and hashlib.md5(content).hexdigest() != data["md5"]:
            return self._error(400, "md5 mismatch")
        upload["status"] = "completed"
        upload["md5"] = data.get("md5")
        view = self._upload_view(uid)
        view["file"] = self._new_file(upload["filename"], content, upload["purpose"])
        return self._json(view)

    def _uploads_cancel(self, request: Request, uid: str) -> Response:
        self.uploads[uid]["status"] = "cancelled"
        return self._json(self._upload_view(uid))

    # -- jobs ---------------------------------------------------------------------------------------
    def _event(self, jid: str, message: str, level: str = "info") -> None:
        self.events[jid].append(
            {
                "id": self._id("ftevent"),
                "object": "fine_tuning.job.event",
                "created_at": int(time.time()),
                "level": level,
                "message": message,
                "type": "message",
            }
        )

    def _jobs_create(self, request: Request) -> Response:
        body = request.get_json()
        self.job_bodies.append(body)
        for key in ("training_file", "validation_file"):
            if key in body and body[key] not in self.files:
                return self._error(400, f"invalid {key}: {body[key]} does not exist")
        jid = self._id("ftjob")
        job = {
            "id": jid,
            "object": "fine_tuning.job",
            "created_at": int(time.time()),
            "error": None,
            "fine_tuned_model": None,
            "finished_at": None,
            "hyperparameters": {"n_epochs": "auto"},
            "model": body["model"],
            "organization_id": "org-test",
            "result_files": [],
            "seed": body.get("seed", 42),
            "status": self.script[0],
            "trained_tokens": None,
            "training_file": body["training_file"],
            "validation_file": body.get("validation_file"),
            "metadata": body.get("metadata"),
            "method": body.get("method"),
        }
        self.jobs[jid] = job
        self.job_scripts[jid] = list(self.script[1:])
        self.events[jid] = []
        self._event(jid, f"Created fine-tuning job: {jid}")
        return self._json(job)

    def _jobs_list(self, request: Request) -> Response:
        jobs = list(reversed(self.jobs.values()))
        for key, value in request.args.items():
            found = re.fullmatch(r"metadata\[(.+)\]", key)
            if found:
                jobs = [j for j in jobs if (j.get("metadata") or {}).get(found.group(1)) == value]
        limit = int(request.args.get("limit", 20))
        return self._json({"object": "list", "data": jobs[:limit], "has_more": len(jobs) > limit})

    def _jobs_retrieve(self, request: Request, jid: str) -> Response:
        job = self.jobs.get(jid)
        if job is None:
            return self._error(404, f"No such fine-tuning job: {jid}")
        script = self.job_scripts[jid]
        if script and job["status"] not in ("paused", "cancelled"):
            job["status"] = script.pop(0)
            self._event(jid, f"Job status: {job['status']}")
            if job["status"] == "succeeded":
                job["fine_tuned_model"] = f"ft:{job['model']}:org-test::{jid[-4:]}"
                job["trained_tokens"] = self.trained_tokens
                job["finished_at"] = int(time.time())
            elif job["status"] == "failed":
                job["error"] = {
                    "code": "invalid_training_file",
                    "message": self.failure_message,
                    "param": None,
                }
                self._event(jid, self.failure_message, "error")
        return self._json(job)

    def _jobs_events(self, request: Request, jid: str) -> Response:
        limit = int(request.args.get("limit", 20))
        events = list(reversed(self.events[jid]))[:limit]
        return self._json({"object": "list", "data": events, "has_more": False})

    def _jobs_verb(self, request: Request, jid: str, verb: str) -> Response:
        job = self.jobs[jid]
        job["status"] = {"cancel": "cancelled", "pause": "paused", "resume": "running"}[verb]
        self._event(jid, f"Job {job['status']}")
        return self._json(job)


@pytest.fixture
def api(httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAPI]:
    """The fake API, with the SDK's environment pointing at it and ftprep's state in tmp_path."""
    for name in (
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_AD_TOKEN",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "OPENAI_ADMIN_KEY",
        "OPENAI_API_VERSION",
        "XDG_STATE_HOME",
    ):
        monkeypatch.delenv(name, raising=False)
    fake = FakeAPI(httpserver)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("FTPREP_STATE_DIR", str(tmp_path / "state"))
    yield fake


@pytest.fixture
def client(api: FakeAPI) -> openai.OpenAI:
    """The real SDK client, pointed at the fake API (retries on, backoff set by the server's Retry-After)."""
    return openai.OpenAI(base_url=api.base_url, api_key=API_KEY, max_retries=2)


def write_chat(path: Path, count: int = 12, topic: str = "plus") -> Path:
    """A valid chat fine-tuning file: ``count`` system/user/assistant examples."""
    lines = []
    for i in range(count):
        record = {
            "messages": [
                {"role": "system", "content": "You are a terse arithmetic assistant."},
                {"role": "user", "content": f"What is {i} {topic} {i + 7}?"},
                {"role": "assistant", "content": f"The answer for {i} {topic} {i + 7} is computed."},
            ]
        }
        lines.append(json.dumps(record) + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def train(tmp_path: Path) -> Path:
    """Twelve valid training examples."""
    return write_chat(tmp_path / "train.jsonl", 12, "plus")


@pytest.fixture
def valid(tmp_path: Path) -> Path:
    """Ten valid validation examples, none shared with the training file."""
    return write_chat(tmp_path / "valid.jsonl", 10, "times")
