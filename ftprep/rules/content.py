"""FT300-FT319: what the messages say: empty or whitespace-only text."""

from __future__ import annotations

from typing import Any

from ftprep.formats.detect import COMPLETION
from ftprep.lint.context import Record, RecordContext, record_check
from ftprep.lint.finding import Severity, pointer
from ftprep.lint.registry import Rule, register


@register
class EmptyContent(Rule):
    """What it does
    Flags a system, user or assistant message whose text is empty or only whitespace (an assistant message
    that makes a tool call may have empty content).

    Why it matters
    An empty assistant message trains the model to answer with nothing; an empty prompt teaches an
    answer to no question. Both usually come from a broken export.

    Example
    `{"role": "assistant", "content": "   "}`

    Fix
    Fill in the text or drop the message (or the example).
    """

    code = "FT300"
    name = "empty-content"
    severity = Severity.WARNING


@register
class EmptyCompletion(Rule):
    """What it does
    Flags a completions record whose `completion` is empty or only whitespace.

    Why it matters
    The completion is the only thing trained; an empty one teaches the model to stop at once.

    Example
    `{"prompt": "Translate: chat ->", "completion": ""}`

    Fix
    Write the expected output, or drop the record.
    """

    code = "FT301"
    name = "empty-completion"
    severity = Severity.WARNING


def _text_of(content: Any) -> str | None:
    """The text of a string or text-part content; None when it holds something else (an image)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text") for p in content if isinstance(p, dict)]
        if any(isinstance(p, dict) and p.get("type") != "text" for p in content):
            return None
        return "".join(t for t in texts if isinstance(t, str))
    return None


def check_empty_message(message: dict[str, Any], role: str | None, ctx: RecordContext,
                        where: tuple[str | int, ...]) -> None:
    """Emit :class:`EmptyContent` for a blank system/user/assistant text (the message walker calls this)."""
    if role not in ("system", "user", "assistant"):
        return
    if role == "assistant" and (message.get("tool_calls") or message.get("function_call")):
        return
    text = _text_of(message.get("content"))
    if text is not None and not text.strip():
        what = "empty" if not text else "only whitespace"
        ctx.emit(EmptyContent, pointer(*where, "content"), f"{role} message is {what}",
                 "write the text or drop the message")


@record_check(COMPLETION)
def check_completion_content(record: Record, ctx: RecordContext) -> None:
    """A blank completion."""
    completion = record.get("completion")
    if isinstance(completion, str) and not completion.strip():
        ctx.emit(EmptyCompletion, "/completion", "completion is empty" if not completion else
                 "completion is only whitespace", "write the expected output or drop the record")
