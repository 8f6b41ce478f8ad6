"""FT250-FT259: the DPO (preference) record: input, preferred and non-preferred outputs.

The input's messages follow the chat rules (the same walker, at ``/input/messages``) and its tools the tool
rules; images in the input follow the vision rules.
"""

from __future__ import annotations

from typing import Any

from ftprep.formats.detect import PREFERENCE
from ftprep.lint.context import Record, RecordContext, record_check
from ftprep.lint.finding import Severity, json_text, pointer
from ftprep.lint.registry import Rule, register
from ftprep.rules.schema import MessagesNotList, UnknownTopLevelKey, check_messages, key_hint
from ftprep.rules.tools import check_call_graph, check_calls, check_definitions
from ftprep.rules.vision import check_images

_SYSTEM_ROLES = ("system", "developer")

TOP_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})
INPUT_KEYS = frozenset({"messages", "tools", "parallel_tool_calls"})
OUTPUTS = ("preferred_output", "non_preferred_output")
# Other tools' names for the two outputs, so the fix can say what was meant.
OUTPUT_HINTS = {"chosen": "preferred_output", "rejected": "non_preferred_output",
                "chosen_messages": "preferred_output", "rejected_messages": "non_preferred_output"}


@register
class MissingPreferenceOutput(Rule):
    """What it does
    Flags a DPO record without `preferred_output` or without `non_preferred_output`.

    Why it matters
    DPO learns from the difference between the two answers; a row with only one cannot train and is
    rejected. Exports from other tools name them `chosen` / `rejected`.

    Example
    `{"input": {"messages": [...]}, "preferred_output": [{"role": "assistant", "content": "..."}]}`

    Fix
    Add the missing answer as a one-message array, or drop the row.
    """

    code = "FT250"
    name = "missing-preference-output"
    severity = Severity.ERROR


@register
class InvalidPreferenceOutput(Rule):
    """What it does
    Flags a `preferred_output` or `non_preferred_output` that is not an array of exactly one assistant
    message.

    Why it matters
    Each output is the single answer the model gives to the input; a string, several messages or a user
    message is rejected.

    Example
    `"preferred_output": "Paris"` or `"preferred_output": [{"role": "user", "content": "..."}]`

    Fix
    Write `"preferred_output": [{"role": "assistant", "content": "Paris"}]`.
    """

    code = "FT251"
    name = "invalid-preference-output"
    severity = Severity.ERROR


@register
class InvalidPreferenceInput(Rule):
    """What it does
    Flags a DPO record whose `input` is missing or is not an object holding a `messages` array.

    Why it matters
    The input is the prompt both answers respond to; without it there is nothing to prefer an answer for.

    Example
    `{"input": "What is the capital of France?", "preferred_output": [...], ...}`

    Fix
    Write `"input": {"messages": [{"role": "user", "content": "What is the capital of France?"}]}`.
    """

    code = "FT252"
    name = "invalid-preference-input"
    severity = Severity.ERROR


@register
class InputNotEndingWithUser(Rule):
    """What it does
    Flags a DPO input whose last message is not a user message.

    Why it matters
    The outputs answer the last user turn; an input ending with an assistant message (the answer copied into
    the prompt) teaches preferences over a conversation that is already finished.

    Example
    `"input": {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}`

    Fix
    End the input with the user message; the answers go into the two outputs.
    """

    code = "FT253"
    name = "input-not-ending-with-user"
    severity = Severity.ERROR


@register
class IdenticalPreferenceOutputs(Rule):
    """What it does
    Flags a DPO record whose preferred and non-preferred outputs are the same.

    Why it matters
    The pair carries no preference: it adds cost and no signal, and usually means a generation step
    failed.

    Example
    `"preferred_output": [{"role": "assistant", "content": "4"}], "non_preferred_output": [{"role": "assistant",
    "content": "4"}]`

    Fix
    Replace the non-preferred output with a worse answer, or drop the row.
    """

    code = "FT254"
    name = "identical-preference-outputs"
    severity = Severity.WARNING


@register
class MultiTurnPreferenceInput(Rule):
    """What it does
    Flags a DPO input with more than one user turn (or an assistant turn), for a target that takes one-turn
    preference rows only (Fireworks).

    Why it matters
    Fireworks' DPO guide accepts single-turn preference data; a multi-turn input is rejected, and the rejection
    can surface as a plain "Internal error".

    Example
    `"input": {"messages": [{"role": "user", ...}, {"role": "assistant", ...}, {"role": "user", ...}]}`

    Fix
    Keep the last user turn (and an optional system message) in `input.messages`, or train multi-turn preference
    data elsewhere.
    """

    code = "FT255"
    name = "multi-turn-preference-input"
    severity = Severity.ERROR


@record_check(PREFERENCE)
def check_preference(record: Record, ctx: RecordContext) -> None:
    """A DPO record: keys, input (chat rules, tools, images), outputs, and whether the outputs differ."""
    for key in record:
        if key not in TOP_KEYS:
            hint = f"; did you mean {OUTPUT_HINTS[key]!r}?" if key in OUTPUT_HINTS else key_hint(key)
            ctx.emit(UnknownTopLevelKey, pointer(key), f"unknown top-level key {key!r} in a DPO record{hint}",
                     f"remove or rename {key!r}; allowed keys: {', '.join(sorted(TOP_KEYS))}")
    declared = _check_input(record, ctx)
    outputs: list[Any] = []
    for key in OUTPUTS:
        if key not in record:
            ctx.emit(MissingPreferenceOutput, "", f"DPO record has no {key!r}",
                     f'add "{key}": [{{"role": "assistant", "content": "..."}}] or drop the row')
            continue
        if _check_output(record[key], key, ctx):
            check_calls(record[key], declared, ctx, (key,))
            outputs.append(record[key][0])
    if len(outputs) == 2 and outputs[0] == outputs[1]:
        ctx.emit(IdenticalPreferenceOutputs, "/non_preferred_output",
                 "preferred and non-preferred outputs are identical", "write a worse answer or drop the row")


def _check_input(record: Record, ctx: RecordContext) -> Any:
    given = record.get("input")
    if not isinstance(given, dict):
        ctx.emit(InvalidPreferenceInput, pointer("input") if "input" in record else "",
                 "DPO record has no `input`" if "input" not in record
                 else "`input` must be an object with `messages`",
                 'write "input": {"messages": [{"role": "user", "content": "..."}]}')
        return None
    for key in given:
        if key not in INPUT_KEYS:
            ctx.emit(UnknownTopLevelKey, pointer("input", key), f"unknown key {key!r} in a DPO input" + key_hint(key),
                     f"remove {key!r}; allowed keys: {', '.join(sorted(INPUT_KEYS))}")
    declared = check_definitions(given, ctx, ("input",))
    messages = given.get("messages")
    base = ("input", "messages")
    if "messages" not in given:
        ctx.emit(InvalidPreferenceInput, "/input", "DPO input has no `messages`",
                 'add "messages": [{"role": "user", "content": "..."}]')
        return declared
    if not isinstance(messages, list) or not messages:
        what = "an empty array" if messages == [] else type(messages).__name__
        ctx.emit(MessagesNotList, pointer(*base), f"`input.messages` must be a non-empty array, not {what}",
                 "put the prompt in an array of {role, content} objects")
        return declared
    check_messages(messages, ctx, base)
    if ctx.target.dpo_single_turn:
        turns = [m.get("role") for m in messages if isinstance(m, dict) and m.get("role") not in _SYSTEM_ROLES]
        if len(turns) > 1:
            ctx.emit(MultiTurnPreferenceInput, pointer(*base),
                     f"DPO input has {len(turns)} turns ({', '.join(map(str, turns))}); "
                     f"{ctx.target.name} takes one user turn",
                     "keep the final user message (and an optional system message) in input.messages")
    check_calls(messages, declared, ctx, base)
    check_call_graph(messages, ctx, base)
    check_images(messages, ctx, base)
    last = messages[-1]
    role = last.get("role") if isinstance(last, dict) else None
    if isinstance(last, dict) and role != "user":
        ctx.emit(InputNotEndingWithUser, pointer(*base, len(messages) - 1),
                 f"input ends with a {role} message, not a user message" if isinstance(role, str)
                 else "input does not end with a user message",
                 "end the input with the user turn; answers belong in the outputs")
    return declared


def _check_output(value: Any, key: str, ctx: RecordContext) -> bool:
    """Whether ``value`` is one assistant message (checked by the chat walker); emits what is wrong."""
    fix = f'write "{key}": [{{"role": "assistant", "content": "..."}}]'
    if not isinstance(value, list):
        shape = "a string" if isinstance(value, str) else "an object" if isinstance(value, dict) else repr(value)
        ctx.emit(InvalidPreferenceOutput, pointer(key), f"{key} must be an array of one message, not {shape}", fix)
        return False
    if len(value) != 1:
        ctx.emit(InvalidPreferenceOutput, pointer(key), f"{key} holds {len(value)} messages; it takes exactly one",
                 "keep the single assistant answer" if value else fix)
        return False
    message = value[0]
    roles = ctx.target.dpo_output_roles
    role = message.get("role") if isinstance(message, dict) else None
    if role is not None and not (isinstance(role, str) and role in roles):
        wanted = " or ".join(sorted(roles))
        ctx.emit(InvalidPreferenceOutput, pointer(key, 0, "role"),
                 f"{key} holds a {json_text(message.get('role'))} message, not an {wanted} message", fix)
        return False
    check_messages(value, ctx, (key,))
    return isinstance(message, dict)
