"""Keeping secrets out of everything ftprep shows: API keys, bearer tokens, credentials in URLs."""

from __future__ import annotations

import os
import re

_SECRET_ENV = ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN",
               "TOGETHER_API_KEY", "FIREWORKS_API_KEY", "WANDB_API_KEY")
# Defensive patterns for secrets ftprep was never told about: OpenAI-style keys and bearer tokens.
_SECRET_PATTERNS = (
    re.compile(r"sk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-~+/]{8,}=*"),
    re.compile(r"(?i)(api[-_]?key[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{8,}"),
)
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def strip_userinfo(url: str) -> str:
    """Drop ``user:password@`` from a URL so it can be shown and stored."""
    return _URL_USERINFO.sub("", url)


def _known_secrets(extra: tuple[str | None, ...] = ()) -> list[str]:
    values = [os.environ.get(name) for name in _SECRET_ENV]
    return sorted({v for v in (*values, *extra) if v and len(v) >= 4}, key=len, reverse=True)


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every known secret (environment keys, ``secrets``) and key-like string masked."""
    for secret in _known_secrets(secrets):
        text = text.replace(secret, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", text)
    return strip_userinfo(text)
