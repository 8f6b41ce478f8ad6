"""The chat (supervised fine-tuning) record: ``{"messages": [...], "tools"?, "functions"?, "parallel_tool_calls"?}``.

These models are the documented shape and the source of ``schemas/chat.schema.json``. The rules in
:mod:`ftprep.rules.schema` check the same shape by hand so that every problem gets its own code, pointer
and fix; a test keeps the two in agreement.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"


class Strict(BaseModel):
    """Base: unknown keys are errors, as the API treats them."""

    model_config = ConfigDict(extra="forbid")


class TextPart(Strict):
    """A text content part."""

    type: Literal["text"]
    text: str


class ImageURL(Strict):
    """Where an image is: an https URL or a ``data:image/...;base64,`` URL."""

    url: str
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(Strict):
    """An image content part (user messages only)."""

    type: Literal["image_url"]
    image_url: ImageURL


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class FunctionCall(Strict):
    """A call of a function: its name and its arguments as a JSON *string*."""

    name: str
    arguments: str


class ToolCall(Strict):
    """A tool call made by the assistant."""

    id: str
    type: Literal["function"]
    function: FunctionCall


class SystemMessage(Strict):
    """Instructions for the model."""

    role: Literal["system"]
    content: str | list[TextPart]
    name: Annotated[str, Field(pattern=NAME_PATTERN)] | None = None


class UserMessage(Strict):
    """A user turn; may carry images."""

    role: Literal["user"]
    content: str | list[ContentPart]
    name: Annotated[str, Field(pattern=NAME_PATTERN)] | None = None


class AssistantMessage(Strict):
    """An assistant turn: the training target. ``content`` may be null only next to a call."""

    role: Literal["assistant"]
    content: str | list[TextPart] | None = None
    name: Annotated[str, Field(pattern=NAME_PATTERN)] | None = None
    tool_calls: list[ToolCall] | None = None
    function_call: FunctionCall | None = None
    weight: Literal[0, 1] | None = None

    @field_validator("weight", mode="before")
    @classmethod
    def _integer_weight(cls, value: Any) -> Any:
        if not isinstance(value, int) or isinstance(value, bool):  # JSON true is not the integer 1
            raise ValueError("weight must be the integer 0 or 1")
        return value

    @model_validator(mode="after")
    def _content_or_call(self) -> AssistantMessage:
        if self.content is None and not self.tool_calls and self.function_call is None:
            raise ValueError("content may be null or absent only next to tool_calls or function_call")
        return self


class ToolMessage(Strict):
    """The result of a tool call, answering ``tool_call_id``."""

    role: Literal["tool"]
    content: str
    tool_call_id: str


class FunctionMessage(Strict):
    """Legacy: the result of a function call."""

    role: Literal["function"]
    name: str
    content: str | None


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage | FunctionMessage,
    Field(discriminator="role"),
]


class FunctionDefinition(Strict):
    """A function the model may call; ``parameters`` is a JSON Schema object."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(Strict):
    """A tool definition."""

    type: Literal["function"]
    function: FunctionDefinition


class ChatRecord(Strict):
    """One supervised fine-tuning example in chat format."""

    messages: Annotated[list[Message], Field(min_length=1)]
    tools: list[Tool] | None = None
    functions: list[FunctionDefinition] | None = None
    parallel_tool_calls: bool | None = None
