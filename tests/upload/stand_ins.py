"""Stand-ins for Together's and Fireworks' APIs on a loopback server, for the real ``together`` and ``fireworks-ai``
SDKs: the endpoints those SDKs call, Together's upload redirect and Fireworks' signed-URL upload, with faults (429
with Retry-After, 5xx, a connection reset mid-upload, a validation failure reported after the upload).

Every request is logged, so a test can assert that nothing at all was sent.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


@dataclass
class Fault:
    """Answer the next ``times`` requests matching method and path: with ``status`` (and ``headers``), or by
    resetting the connection after reading part of the body (``status`` 0)."""

    method: str
    path: re.Pattern[str]
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Logged:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def reset_connection(request: Request) -> Response:
    """Read a little of the body, then drop the connection: the client sees a reset in the middle of its upload."""
    request.stream.read(16)
    sock = request.environ.get("werkzeug.socket")
    assert isinstance(sock, socket.socket), "the server must expose its socket to reset it"
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.shutdown(socket.SHUT_RDWR)
    return Response(b"", status=500)


class StandIn:
    """Request log, faults and JSON answers shared by the two stand-ins."""

    routes: ClassVar[tuple[tuple[str, str, str], ...]] = ()

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.log: list[Logged] = []
        self.faults: list[Fault] = []
        self._ids = itertools.count(1)
        server.expect_request(re.compile("^/.*")).respond_with_handler(self._dispatch)

    def fail_next(self, method: str, path: str, status: int, *, times: int = 1, **headers: str) -> None:
        """Queue a fault for the next ``times`` requests whose path matches the regex ``path`` (status 0: reset)."""
        self.faults.append(Fault(method, re.compile(path), status, times, {k.replace("_", "-"): v
                                                                            for k, v in headers.items()}))

    def requests(self, method: str = ".*", path: str = ".*") -> list[Logged]:
        """Logged requests matching method and path regexes."""
        return [r for r in self.log if re.fullmatch(method, r.method) and re.fullmatch(path, r.path)]

    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):04d}"

    @staticmethod
    def json(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(obj), status=status, content_type="application/json", headers=headers or {})

    def _dispatch(self, request: Request) -> Response:
        for fault in self.faults:
            if fault.times > 0 and fault.method == request.method and fault.path.fullmatch(request.path):
                fault.times -= 1
                self.log.append(Logged(request.method, request.path, dict(request.headers), b""))
                if fault.status == 0:
                    return reset_connection(request)
                return self.json({"error": {"message": f"injected {fault.status}"}}, fault.status, fault.headers)
        body = request.get_data()
        self.log.append(Logged(request.method, request.path, dict(request.headers), body))
        for method, pattern, name in self.routes:
            found = re.fullmatch(pattern, request.path)
            if found and method == request.method:
                handler: Callable[..., Response] = getattr(self, name)
                return handler(request, **found.groupdict())
        return self.json({"error": {"message": f"no route {request.method} {request.path}"}}, 404)


class FakeTogether(StandIn):
    """Together's files and fine-tunes endpoints as the ``together`` SDK 3.x calls them."""

    routes = (
        ("POST", r"/v1/files", "files_create"),
        ("PUT", r"/hop/(?P<fid>[^/]+)", "storage_hop"),
        ("PUT", r"/storage/(?P<fid>[^/]+)", "storage_put"),
        ("POST", r"/v1/files/(?P<fid>[^/]+)/preprocess", "files_preprocess"),
        ("GET", r"/v1/files/(?P<fid>[^/]+)", "files_retrieve"),
        ("GET", r"/v1/fine-tunes/models/limits", "model_limits"),
        ("POST", r"/v1/fine-tunes/estimate-price", "estimate_price"),
        ("POST", r"/v1/fine-tunes/preview", "preview"),
        ("POST", r"/v1/fine-tunes", "jobs_create"),
        ("GET", r"/v1/fine-tunes", "jobs_list"),
        ("GET", r"/v1/fine-tunes/(?P<jid>[^/]+)/events", "jobs_events"),
        ("POST", r"/v1/fine-tunes/(?P<jid>[^/]+)/cancel", "jobs_cancel"),
        ("GET", r"/v1/fine-tunes/(?P<jid>[^/]+)", "jobs_retrieve"),
    )

    def __init__(self, server: HTTPServer) -> None:
        super().__init__(server)
        self.base_url = server.url_for("/").rstrip("/")
        self.files: dict[str, dict[str, Any]] = {}
        self.stored: dict[str, bytes] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.job_bodies: list[dict[str, Any]] = []
        self.events: dict[str, list[dict[str, Any]]] = {}
        # The service's verdict on the next file it validates (None: valid).
        self.validation_error: str | None = None
        self.script = ("queued", "running", "completed")
        self.token_count = 5000
        self.failure_message = "Training failed: sample 4 exceeds the model's context length"

    def files_create(self, request: Request) -> Response:
        fid = self._id("file")
        self.files[fid] = {"id": fid, "object": "file", "bytes": 0, "created_at": int(time.time()),
                           "filename": request.form.get("file_name", ""), "FileType": "jsonl",
                           "purpose": request.form.get("purpose"), "processing_status": "PENDING"}  # fmt: skip
        # Two hops, as storage may answer: the API redirects to one place, which redirects the PUT again.
        return Response(b"", status=302, headers={"Location": f"{self.base_url}/hop/{fid}",
                                                  "X-Together-File-Id": fid})  # fmt: skip

    def storage_hop(self, request: Request, fid: str) -> Response:
        return Response(b"", status=307, headers={"Location": f"{self.base_url}/storage/{fid}"})

    def storage_put(self, request: Request, fid: str) -> Response:
        self.stored[fid] = request.get_data()
        self.files[fid]["bytes"] = len(self.stored[fid])
        return Response(b"", status=200)

    def files_preprocess(self, request: Request, fid: str) -> Response:
        self.files[fid]["processing_status"] = "QUEUED"
        self.files[fid]["verdict"] = self.validation_error
        return self.json(self._file_view(fid))

    def _file_view(self, fid: str) -> dict[str, Any]:
        return {k: v for k, v in self.files[fid].items() if k != "verdict"}

    def files_retrieve(self, request: Request, fid: str) -> Response:
        entry = self.files.get(fid)
        if entry is None:
            return self.json({"error": {"message": f"file {fid} not found"}}, 404)
        if entry["processing_status"] == "QUEUED":
            entry["processing_status"] = "RUNNING"
        elif entry["processing_status"] == "RUNNING":
            verdict = entry.get("verdict")
            entry["processing_status"] = "INVALID_FORMAT" if verdict else "COMPLETED"
            entry["validation_report"] = ({"valid": False, "error": verdict, "error_type": "INVALID_FORMAT"}
                                          if verdict else {"valid": True, "nlines": 12})  # fmt: skip
        return self.json(self._file_view(fid))

    def model_limits(self, request: Request) -> Response:
        return self.json({
            "model_name": request.args.get("model_name"), "default_gradient_accumulation_steps": 1,
            "lora_training": {"default_rank": 8, "max_batch_size": 32, "max_batch_size_dpo": 16, "max_rank": 64,
                              "min_batch_size": 8, "target_modules": ["q_proj"]},
            "full_training": {"max_batch_size": 32, "max_batch_size_dpo": 16, "min_batch_size": 8},
            "max_learning_rate": 1.0, "min_learning_rate": 1e-6, "max_num_checkpoints": 10, "max_num_epochs": 20,
            "max_num_evals": 10, "max_seq_length_dpo": 8192, "max_seq_length_sft": 8192, "merge_output_lora": False,
            "min_max_seq_length": 512, "supports_full_training": True, "supports_reasoning": True,
            "supports_tools": True, "supports_vision": False,
        })  # fmt: skip

    def estimate_price(self, request: Request) -> Response:
        return self.json({"estimation_available": True, "allowed_to_proceed": True, "estimated_total_price": 1.25,
                          "estimated_train_token_count": 1234, "estimated_eval_token_count": 0, "user_limit": 100})

    def preview(self, request: Request) -> Response:
        body = request.get_json()
        rows = [{"input_ids": [1, 2, 3], "labels": [-100, 2, 3], "num_tokens": 30, "num_trained_tokens": 12,
                 "tokens": ["a", "b", "c"], "trained_spans": [[1, 3]], "truncated": False}
                for _ in range(body.get("top_k", 5))]  # fmt: skip
        return self.json({"dataset_format": "conversation", "max_seq_length": 8192, "model": body["model"],
                          "rows": rows, "train_on_inputs": False})  # fmt: skip

    def _event(self, jid: str, message: str, level: str = "info") -> None:
        self.events[jid].append({"object": "fine-tune-event", "created_at": "2026-12-06T02:00:00Z", "level": level,
                                 "message": message, "type": "JOB_START"})  # fmt: skip

    def jobs_create(self, request: Request) -> Response:
        body = request.get_json()
        self.job_bodies.append(body)
        jid = self._id("ft")
        now = "2026-12-06T02:00:00Z"
        self.jobs[jid] = {"id": jid, "status": "pending", "created_at": now, "updated_at": now,
                          "model": body.get("model"), "training_file": body.get("training_file"),
                          "validation_file": body.get("validation_file") or None, "n_epochs": body.get("n_epochs"),
                          "model_output_name": None, "adapter_output_name": None,
                          "training_method": body.get("training_method"), "token_count": None}  # fmt: skip
        self.events[jid] = []
        self._event(jid, f"Fine tune request created: {jid}")
        self.jobs[jid]["script"] = list(self.script)
        return self.json(self._job_view(jid))

    def _job_view(self, jid: str) -> dict[str, Any]:
        return {k: v for k, v in self.jobs[jid].items() if k != "script"}

    def jobs_retrieve(self, request: Request, jid: str) -> Response:
        job = self.jobs.get(jid)
        if job is None:
            return self.json({"error": {"message": f"job {jid} not found"}}, 404)
        if job["script"] and job["status"] not in ("cancelled", "cancel_requested"):
            job["status"] = job["script"].pop(0)
            self._event(jid, f"Job {job['status']}")
            if job["status"] == "error":
                self._event(jid, self.failure_message, "error")
            if job["status"] == "completed":
                job["model_output_name"] = f"user/{job['model']}-ft-{jid}"
                job["token_count"] = self.token_count
        return self.json(self._job_view(jid))

    def jobs_list(self, request: Request) -> Response:
        return self.json({"data": [self._job_view(j) for j in self.jobs]})

    def jobs_events(self, request: Request, jid: str) -> Response:
        return self.json({"data": self.events[jid]})

    def jobs_cancel(self, request: Request, jid: str) -> Response:
        self.jobs[jid]["status"] = "cancelled"
        return self.json(self._job_view(jid))


class FakeFireworks(StandIn):
    """Fireworks' datasets and fine-tuning jobs endpoints as the ``fireworks-ai`` SDK 1.x calls them."""

    routes = (
        ("POST", r"/v1/accounts/(?P<acct>[^/]+)/datasets", "datasets_create"),
        ("GET", r"/v1/accounts/(?P<acct>[^/]+)/datasets/(?P<did>[^/:]+)", "datasets_get"),
        ("POST", r"/v1/accounts/(?P<acct>[^/]+)/datasets/(?P<did>[^/:]+):upload", "datasets_upload"),
        ("POST", r"/v1/accounts/(?P<acct>[^/]+)/datasets/(?P<did>[^/:]+):getUploadEndpoint", "upload_endpoint"),
        ("PUT", r"/signed/(?P<did>[^/]+)/(?P<name>[^/]+)", "signed_put"),
        ("POST", r"/v1/accounts/(?P<acct>[^/]+)/datasets/(?P<did>[^/:]+):validateUpload", "validate_upload"),
        ("POST", r"/v1/accounts/(?P<acct>[^/]+)/(?P<kind>supervisedFineTuningJobs|dpoJobs)", "jobs_create"),
        ("GET", r"/v1/accounts/(?P<acct>[^/]+)/(?P<kind>supervisedFineTuningJobs|dpoJobs)", "jobs_list"),
        ("GET", r"/v1/accounts/(?P<acct>[^/]+)/(?P<kind>supervisedFineTuningJobs|dpoJobs)/(?P<jid>[^/:]+)",
         "jobs_get"),
        ("POST", r"/v1/accounts/(?P<acct>[^/]+)/(?P<kind>supervisedFineTuningJobs|dpoJobs)/(?P<jid>[^/:]+):cancel",
         "jobs_cancel"),
    )

    def __init__(self, server: HTTPServer) -> None:
        super().__init__(server)
        self.base_url = server.url_for("/").rstrip("/")
        self.datasets: dict[str, dict[str, Any]] = {}
        self.stored: dict[str, bytes] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.job_bodies: list[dict[str, Any]] = []
        self.validation_error: str | None = None
        self.script = ("JOB_STATE_RUNNING", "JOB_STATE_COMPLETED")

    def datasets_create(self, request: Request, acct: str) -> Response:
        body = request.get_json()
        did = body.get("datasetId")
        if did in self.datasets:
            return self.json({"error": {"code": 409, "message": f"dataset {did} already exists"}}, 409)
        self.datasets[did] = {"name": f"accounts/{acct}/datasets/{did}", "state": "UPLOADING",
                              **body.get("dataset", {})}  # fmt: skip
        return self.json(self.datasets[did])

    def datasets_get(self, request: Request, acct: str, did: str) -> Response:
        if did not in self.datasets:
            return self.json({"error": {"code": 404, "message": f"dataset {did} not found"}}, 404)
        return self.json(self.datasets[did])

    def _received(self, did: str, content: bytes) -> None:
        self.stored[did] = content
        entry = self.datasets[did]
        if self.validation_error:
            entry["status"] = {"code": "INVALID_ARGUMENT", "message": self.validation_error}
            entry["state"] = "STATE_UNSPECIFIED"
        else:
            entry["state"] = "READY"
            entry["status"] = {"code": "OK", "message": ""}

    def datasets_upload(self, request: Request, acct: str, did: str) -> Response:
        self._received(did, request.files["file"].read())
        return self.json({})

    def upload_endpoint(self, request: Request, acct: str, did: str) -> Response:
        names = request.get_json()["filenameToSize"]
        return self.json({"filenameToSignedUrls": {n: f"{self.base_url}/signed/{did}/{n}?sig=abc" for n in names}})

    def signed_put(self, request: Request, did: str, name: str) -> Response:
        if "Authorization" in request.headers:
            return self.json({"error": "a signed URL must not receive the API key"}, 400)
        size = request.headers.get("X-Goog-Content-Length-Range", "")
        content = request.get_data()
        if size != f"{len(content)},{len(content)}":
            return self.json({"error": f"content length range {size!r} does not match"}, 400)
        self.stored[did] = content
        return Response(b"", status=200)

    def validate_upload(self, request: Request, acct: str, did: str) -> Response:
        self._received(did, self.stored[did])
        return self.json({})

    def jobs_create(self, request: Request, acct: str, kind: str) -> Response:
        body = request.get_json()
        self.job_bodies.append({"kind": kind, **body})
        jid = self._id("job")
        self.jobs[jid] = {"name": f"accounts/{acct}/{kind}/{jid}", "state": "JOB_STATE_CREATING",
                          "createTime": "2026-12-06T02:00:00Z", "script": list(self.script), "kind": kind,
                          **body}  # fmt: skip
        return self.json(self._job_view(jid))

    def _job_view(self, jid: str) -> dict[str, Any]:
        return {k: v for k, v in self.jobs[jid].items() if k not in ("script", "kind")}

    def jobs_get(self, request: Request, acct: str, kind: str, jid: str) -> Response:
        job = self.jobs.get(jid)
        if job is None or job["kind"] != kind:
            return self.json({"error": {"code": 404, "message": f"job {jid} not found"}}, 404)
        if job["script"] and job["state"] != "JOB_STATE_CANCELLED":
            job["state"] = job["script"].pop(0)
            if job["state"] == "JOB_STATE_COMPLETED":
                job["outputModel"] = f"accounts/{acct}/models/ft-{jid}"
            if job["state"] == "JOB_STATE_FAILED":
                job["status"] = {"code": "INVALID_ARGUMENT", "message": "line 4: the assistant turn is empty"}
        return self.json(self._job_view(jid))

    def jobs_list(self, request: Request, acct: str, kind: str) -> Response:
        jobs = [self._job_view(j) for j, job in self.jobs.items() if job["kind"] == kind]
        return self.json({kind: jobs, "nextPageToken": ""})

    def jobs_cancel(self, request: Request, acct: str, kind: str, jid: str) -> Response:
        self.jobs[jid]["state"] = "JOB_STATE_CANCELLED"
        return self.json({})
