"""The local record of what was uploaded: sha256 of the bytes -> file id, per API base URL.

It lets a second run reuse a file instead of uploading the same bytes again (the id is verified with
``files.retrieve`` before reuse), lets an interrupted multipart upload resume (upload id and the parts
already sent), and remembers ftprep's token estimate per job for ``ftprep jobs show``.

Location: ``$FTPREP_STATE_DIR``, else ``$XDG_STATE_HOME/ftprep``, else ``~/.local/state/ftprep``; one
JSON file per base URL. No key or token is ever stored: only ids, sizes, names, hashes and times.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeGuard

from ftprep.errors import ConfigError
from ftprep.folders import user_folder
from ftprep.jsonl.writer import write_file_atomic

STATE_VERSION = 1


def state_dir() -> Path:
    """Where ftprep keeps its upload records."""
    return user_folder("FTPREP_STATE_DIR", "XDG_STATE_HOME", ".local", "state")


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A file the API holds: its id, size and name when uploaded, and when (Unix seconds)."""

    file_id: str
    bytes: int
    filename: str
    uploaded_at: int


@dataclass(frozen=True, slots=True)
class PendingUpload:
    """A multipart upload in progress: what a rerun needs to continue instead of starting again."""

    upload_id: str
    bytes: int
    part_size: int
    filename: str
    expires_at: int
    part_ids: tuple[str, ...]

    def with_part(self, part_id: str) -> PendingUpload:
        """The same upload with one more part sent."""
        return PendingUpload(
            self.upload_id,
            self.bytes,
            self.part_size,
            self.filename,
            self.expires_at,
            (*self.part_ids, part_id),
        )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_id(value: object) -> TypeGuard[str]:
    # The same shape as ftprep.upload.answers.ID_PATTERN (not imported: that module imports the SDK).
    return isinstance(value, str) and _ID.fullmatch(value) is not None


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,255}", re.ASCII)


def _file_record(entry: object) -> FileRecord | None:
    """The :class:`FileRecord` an entry of the record holds, or None when it is not well formed."""
    if not isinstance(entry, dict):
        return None
    file_id, size, name, when = (entry.get(k) for k in ("file_id", "bytes", "filename", "uploaded_at"))
    if not (_is_id(file_id) and _is_int(size) and isinstance(name, str) and _is_int(when)):
        return None
    return FileRecord(file_id, size, name, when)


def _pending_upload(entry: object) -> PendingUpload | None:
    """The :class:`PendingUpload` an entry of the record holds, or None when it is not well formed."""
    if not isinstance(entry, dict):
        return None
    upload_id, size, part_size, name, expires = (
        entry.get(k) for k in ("upload_id", "bytes", "part_size", "filename", "expires_at"))
    parts = entry.get("part_ids", [])
    if not (_is_id(upload_id) and _is_int(size) and _is_int(part_size) and isinstance(name, str)
            and _is_int(expires) and isinstance(parts, list) and all(_is_id(p) for p in parts)):
        return None
    return PendingUpload(upload_id, size, part_size, name, expires, tuple(parts))


class FileRegistry:
    """The record for one target and account: an API base URL (and, where the URL does not name the account,
    the account id in ``account``). Each change re-reads the file and rewrites it atomically.

    ``target`` is kept in the record; OpenAI's record (``target`` None or ``openai``) is keyed by the base URL
    alone, as before targets existed, so earlier uploads are still found.
    """

    def __init__(self, base_url: str, directory: Path | None = None, *, target: str | None = None,
                 account: str | None = None) -> None:
        self.base_url = base_url
        self.target = target or "openai"
        key = base_url if self.target == "openai" and not account else f"{self.target} {account or ''} {base_url}"
        slug = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        self.path = (directory or state_dir()) / f"files-{slug}.json"

    def _load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {
                "version": STATE_VERSION,
                "base_url": self.base_url,
                "target": self.target,
                "files": {},
                "uploads": {},
                "jobs": {},
            }
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot read the upload record: {exc.strerror or exc}") from exc
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
                raise ValueError("not an ftprep upload record")
        except ValueError as exc:
            raise ConfigError(
                f"{self.path}: the upload record is damaged ({exc}); delete it (ftprep then re-uploads once)"
            ) from None
        for key in ("uploads", "jobs"):
            if not isinstance(data.get(key), dict):  # absent (older record) or damaged: start that part afresh
                data[key] = {}
        return data

    def _save(self, data: dict[str, Any]) -> None:
        # Owner-only: the record holds no secret, but file names and ids are nobody else's business.
        write_file_atomic(self.path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode(), mode=0o600,
                          make_parents=True)

    def lookup(self, sha256: str) -> FileRecord | None:
        """The recorded upload of these bytes, if any (not yet verified against the API).

        An entry that is not a well-formed record (no valid file id: written by an older ftprep from a
        malformed API answer, or edited by hand) is dropped from the record, so the file is uploaded again.
        """
        entry = self._load()["files"].get(sha256)
        if entry is None:
            return None
        record = _file_record(entry)
        if record is None:
            self.forget(sha256)
        return record

    def remember(self, sha256: str, record: FileRecord) -> None:
        """Record that these bytes are held by the API under ``record.file_id``."""
        data = self._load()
        data["files"][sha256] = asdict(record)
        data["uploads"].pop(sha256, None)
        self._save(data)

    def forget(self, sha256: str) -> None:
        """Drop a record the API no longer honours (file deleted or unusable)."""
        data = self._load()
        if data["files"].pop(sha256, None) is not None:
            self._save(data)

    def pending(self, sha256: str) -> PendingUpload | None:
        """The unfinished multipart upload of these bytes, if one was recorded."""
        entry = self._load()["uploads"].get(sha256)
        if entry is None:
            return None
        pending = _pending_upload(entry)
        if pending is None:  # not a well-formed record: start the upload afresh
            self.drop_pending(sha256)
        return pending

    def save_pending(self, sha256: str, upload: PendingUpload) -> None:
        """Persist a multipart upload's progress (after every part, so a crash loses at most one part)."""
        data = self._load()
        entry = asdict(upload)
        entry["part_ids"] = list(upload.part_ids)
        data["uploads"][sha256] = entry
        self._save(data)

    def drop_pending(self, sha256: str) -> None:
        """Forget an unfinished upload (expired, cancelled or completed)."""
        data = self._load()
        if data["uploads"].pop(sha256, None) is not None:
            self._save(data)

    def remember_job(self, job_id: str, info: dict[str, Any]) -> None:
        """Keep facts about a job ftprep created (its token estimate) for ``jobs show``."""
        data = self._load()
        data["jobs"][job_id] = info
        self._save(data)

    def job_info(self, job_id: str) -> dict[str, Any] | None:
        """What ftprep recorded when it created ``job_id``, if it did."""
        entry = self._load()["jobs"].get(job_id)
        return entry if isinstance(entry, dict) else None
