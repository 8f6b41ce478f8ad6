"""The reinforcement fine-tuning (RFT) record: a prompt for the model to answer, plus grader variables.

``{"messages": [... ending with a user message], "tools"?, <any other key>: <grader variable>}``. There is
no assistant answer: the model samples answers during training and the grader scores them, reading the
row's other keys as ``{{item.<key>}}``. Source of ``schemas/reinforcement.schema.json``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from ftprep.formats.chat import NAME_PATTERN, ContentPart, Strict, SystemMessage, TextPart, Tool, UserMessage


class DeveloperMessage(Strict):
    """Instructions for a reasoning model (the o-series name for a system message)."""

    role: Literal["developer"]
    content: str | list[TextPart]
    name: Annotated[str, Field(pattern=NAME_PATTERN)] | None = None


class PromptUserMessage(UserMessage):
    """A user turn of the prompt; text and images."""

    content: str | list[ContentPart]


PromptMessage = Annotated[
    DeveloperMessage | SystemMessage | PromptUserMessage,
    Field(discriminator="role"),
]


class ReinforcementRecord(Strict):
    """One RFT example. Keys other than ``messages`` and ``tools`` are grader variables (any JSON value)."""

    model_config = ConfigDict(extra="allow")

    messages: Annotated[list[PromptMessage], Field(min_length=1)]
    tools: list[Tool] | None = None
