"""Facts about a chat record's messages that several checks would otherwise each look for in a walk of
their own: one walk per record, kept in the context's per-record scratch space.

Each fact is a superset of the pre-test of the check that reads it (a check skips its work only when the
fact is absent, and then its own pre-test would have skipped it too), so findings do not change.
"""

from __future__ import annotations

from typing import Any

from ftprep.lint.context import Record, RecordContext

LIST_CONTENT = 1  # a message whose content is an array of parts (where images live)
TOOLS = 2  # tools/functions/parallel_tool_calls, a tool call or legacy function call, a tool/function role
WEIGHT = 4  # a message with a `weight` key
ASSISTANT = 8  # a message with role assistant

FACTS_KEY = "chat_facts"  # where they are kept in the context's scratch space (the engine reads it)
_TOOL_ROLES = ("tool", "function")  # a tuple: a role may be an unhashable list in bad data


def chat_facts(record: Record, ctx: RecordContext) -> int:
    """The facts (bit flags) of a chat record, computed once per record (or kept by the shape check, which
    walks the messages anyway)."""
    facts: int | None = ctx.scratch.get(FACTS_KEY)
    if facts is None:
        facts = ctx.scratch[FACTS_KEY] = _scan(record)
    return facts


def remember(ctx: RecordContext, facts: int) -> None:
    """Keep the facts a walk over the record's messages found (``top_facts`` | ``message_facts`` of each)."""
    ctx.scratch[FACTS_KEY] = facts


def top_facts(record: Record) -> int:
    """The facts of a chat record's top-level keys."""
    return TOOLS if ("tools" in record or "functions" in record or "parallel_tool_calls" in record) else 0


def message_facts(message: Any) -> int:
    """The facts of one message."""
    if not isinstance(message, dict):
        return 0
    facts = ASSISTANT if message.get("role") == "assistant" else 0
    if isinstance(message.get("content"), list):
        facts |= LIST_CONTENT
    if "tool_calls" in message or "function_call" in message or message.get("role") in _TOOL_ROLES:
        facts |= TOOLS
    if "weight" in message:
        facts |= WEIGHT
    return facts


def _scan(record: Record) -> int:
    facts = top_facts(record)
    messages = record.get("messages")
    if isinstance(messages, list):
        for message in messages:
            facts |= message_facts(message)
    return facts
