"""Tell which fine-tuning record format a parsed JSON object is in.

Kinds: ``chat`` (``messages``: supervised and reinforcement rows), ``preference`` (DPO: ``input`` +
``preferred_output`` / ``non_preferred_output``), ``completion`` (legacy ``prompt`` / ``completion``).
"""

from __future__ import annotations

from typing import Any, Final

CHAT: Final = "chat"
PREFERENCE: Final = "preference"
COMPLETION: Final = "completion"
KINDS: Final = (CHAT, PREFERENCE, COMPLETION)

_PREFERENCE_OUTPUTS = frozenset({"preferred_output", "non_preferred_output"})


def detect_format(record: dict[str, Any]) -> str | None:
    """The record's kind, or ``None`` when it has none of the keys that identify a format.

    A string ``input`` is Alpaca's, not DPO's: DPO is recognised by its outputs or an ``input`` object
    holding ``messages``.
    """
    if "messages" in record:
        return CHAT
    if not _PREFERENCE_OUTPUTS.isdisjoint(record):
        return PREFERENCE
    given = record.get("input")
    if isinstance(given, dict) and "messages" in given:
        return PREFERENCE
    if "prompt" in record or "completion" in record:
        return COMPLETION
    return None


def kind_label(kind: str | None) -> str:
    """Human name of a kind for messages."""
    return {CHAT: "chat", PREFERENCE: "DPO (preference)", COMPLETION: "completions"}.get(kind or "", "unknown")
