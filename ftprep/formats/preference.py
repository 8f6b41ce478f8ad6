"""The DPO (preference) record: a prompt and two answers, one preferred.

``{"input": {"messages": [...], "tools"?, "parallel_tool_calls"?}, "preferred_output": [assistant message],
"non_preferred_output": [assistant message]}``. This model is the documented shape and the source of
``schemas/preference.schema.json``; :mod:`ftprep.rules.preference` checks the same shape key by key.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ftprep.formats.chat import AssistantMessage, Message, Strict, Tool


class PreferenceInput(Strict):
    """The prompt both answers respond to: chat messages ending with a user message, and optional tools."""

    messages: Annotated[list[Message], Field(min_length=1)]
    tools: list[Tool] | None = None
    parallel_tool_calls: bool | None = None


class PreferenceRecord(Strict):
    """One DPO example: the prompt, the preferred answer and the non-preferred answer (one message each)."""

    input: PreferenceInput
    preferred_output: Annotated[list[AssistantMessage], Field(min_length=1, max_length=1)]
    non_preferred_output: Annotated[list[AssistantMessage], Field(min_length=1, max_length=1)]
