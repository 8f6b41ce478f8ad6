"""Findings: the facts ftprep reports about a file, as plain data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is: error (the API rejects it or the job fails), warning (harmful), info."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for errors, 1 for warnings, 2 for info: sorts the worst first."""
        return _RANK[self]


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place: rule code and name, severity, location, message and fix.

    ``line`` is 1-based and ``None`` for file-level findings; ``pointer`` is an RFC 6901 JSON pointer into
    the record (``/messages/2/role``) or ``None``; ``column`` is 1-based when known.
    """

    code: str
    name: str
    severity: Severity
    path: str
    line: int | None
    column: int | None
    pointer: str | None
    message: str
    fix: str

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Order: by file, file-level first, then line, column and code."""
        return (self.path, self.line or 0, self.column or 0, self.code, self.pointer or "")

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract's finding object (built by hand: ``dataclasses.asdict`` copies deeply, five
        times slower, which a report of a million findings feels)."""
        return {"code": self.code, "name": self.name, "severity": self.severity.value, "path": self.path,
                "line": self.line, "column": self.column, "pointer": self.pointer, "message": self.message,
                "fix": self.fix}


def escape_pointer_token(token: str | int) -> str:
    """Escape one reference token for an RFC 6901 JSON pointer (``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str | int) -> str:
    """Build an RFC 6901 pointer from reference tokens: ``pointer("messages", 2)`` -> ``/messages/2``."""
    return "".join("/" + escape_pointer_token(t) for t in tokens)


def json_text(value: Any, limit: int = 60) -> str:
    """A value for a message, as the user's file writes it: ``null``, ``true``, ``3``, ``["a"]``; a string
    keeps its quotes (``'gpt'``), as the other messages quote names. Long values are cut at ``limit``."""
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except ValueError:  # a circular structure cannot come from JSON; keep the message anyway
            text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."
