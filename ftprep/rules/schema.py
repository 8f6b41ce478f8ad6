"""FT200-FT229: record shape per format (chat, completions), checked key by key with JSON pointers.

The shape is the one in :mod:`ftprep.formats`; tool definitions, tool calls and image parts are checked
in depth by :mod:`ftprep.rules.tools` and :mod:`ftprep.rules.vision`.
"""

from __future__ import annotations

import re
from typing import Any

from ftprep.formats.detect import CHAT, COMPLETION
from ftprep.lint.context import Record, RecordContext, record_check
from ftprep.lint.finding import Severity, json_text, pointer
from ftprep.lint.registry import Rule, register
from ftprep.rules.content import check_empty_message
from ftprep.rules.facts import ASSISTANT, message_facts, remember, top_facts

ROLES = ("system", "user", "assistant", "tool", "function")
MESSAGE_KEYS: dict[str, frozenset[str]] = {
    "system": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset({"role", "content", "name", "tool_calls", "function_call", "weight"}),
    "tool": frozenset({"role", "content", "tool_call_id"}),
    "function": frozenset({"role", "content", "name"}),
}
_PLAIN_ROLES = frozenset({"system", "user", "assistant"})
CHAT_TOP_KEYS = frozenset({"messages", "tools", "functions", "parallel_tool_calls"})
SAMPLE_WEIGHT = frozenset({"weight"})
COMPLETION_KEYS = frozenset({"prompt", "completion"})
CONTENT_LOOKALIKES = ("contents", "text", "value", "Content")
PART_TYPES = frozenset({"text", "image_url"})
NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# Common misspellings and look-alikes, so the fix can say what was meant.
KEY_HINTS = {
    "contents": "content", "text": "content", "value": "content", "from": "role", "speaker": "role",
    "author": "role", "toolcalls": "tool_calls", "tool_call": "tool_calls", "functioncall": "function_call",
    "loss_weight": "weight", "conversations": "messages", "conversation": "messages", "system": "a system message",
    "message": "messages", "chat": "messages",
}
ROLE_HINTS = {"human": "user", "gpt": "assistant", "bot": "assistant", "model": "assistant", "ai": "assistant",
              "developer": "system", "observation": "tool", "function_call": "assistant", "User": "user",
              "Assistant": "assistant", "System": "system"}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number",
            float: "number"}.get(type(value), type(value).__name__)




def key_hint(key: str) -> str:
    """'; did you mean X?' for a known misspelling or look-alike key, else ''."""
    hint = KEY_HINTS.get(key) or KEY_HINTS.get(key.lower())
    return f"; did you mean {hint!r}?" if hint else ""


@register
class UnrecognizedRecord(Rule):
    """What it does
    Flags an object that is in none of the fine-tuning formats: it has no `messages` (chat),
    no `input`/`preferred_output`/`non_preferred_output` (DPO) and no `prompt`/`completion` (completions).

    Why it matters
    Data exported from other tools (Alpaca, ShareGPT, Bedrock) looks like training data but the API
    rejects it.

    Example
    `{"instruction": "Translate", "input": "Bonjour", "output": "Hello"}` (Alpaca)

    Fix
    Convert it: `ftprep convert in.jsonl out.jsonl --to chat` detects Alpaca, ShareGPT and others.
    """

    code = "FT200"
    name = "unrecognized-record"
    severity = Severity.ERROR


@register
class MessagesNotList(Rule):
    """What it does
    Flags a `messages` value that is not a non-empty array.

    Why it matters
    A chat example is a list of messages; an empty list, a single object or a string is rejected.

    Example
    `{"messages": []}` or `{"messages": {"role": "user", "content": "hi"}}`

    Fix
    Put the conversation in an array of message objects, with at least one assistant message.
    """

    code = "FT201"
    name = "messages-not-list"
    severity = Severity.ERROR


@register
class MessageNotObject(Rule):
    """What it does
    Flags an element of `messages` that is not an object.

    Why it matters
    Each message needs a role and content; a bare string cannot say who is speaking.

    Example
    `{"messages": ["hi", "hello"]}`

    Fix
    Write each message as `{"role": "...", "content": "..."}`.
    """

    code = "FT202"
    name = "message-not-object"
    severity = Severity.ERROR


@register
class InvalidRole(Rule):
    """What it does
    Flags a message whose `role` is missing or not one of system, user, assistant, tool, function.

    Why it matters
    The API knows only these roles (and `developer`, the system role of reasoning models, in
    reinforcement rows). Other tools' names (human, gpt, model) are rejected.

    Example
    `{"role": "human", "content": "hi"}`

    Fix
    Use user for the person, assistant for the model's answer, system for instructions.
    """

    code = "FT203"
    name = "invalid-role"
    severity = Severity.ERROR


@register
class UnknownMessageKey(Rule):
    """What it does
    Flags a key a message of that role may not have (a misspelt `contents`, `weight` spelled
    `loss_weight`, `tool_call_id` on an assistant message...).

    Why it matters
    The API rejects unknown keys, and a misspelt key means the intended field is missing too.

    Example
    `{"role": "user", "contents": "hi"}`

    Fix
    Rename the key to the documented one or remove it. Allowed: system/user: role, content, name;
    assistant: role, content, name, tool_calls, function_call, weight; tool: role, content, tool_call_id;
    function: role, content, name.
    """

    code = "FT204"
    name = "unknown-message-key"
    severity = Severity.ERROR


@register
class InvalidContent(Rule):
    """What it does
    Flags a message `content` that is missing or of the wrong type: it must be a string or a list of
    content parts; it may be null (or absent) only on an assistant message that makes a tool or function
    call; a tool message's content must be a string.

    Why it matters
    The API rejects the example, and a null answer would train the model to say nothing.

    Example
    `{"role": "user", "content": null}` or `{"role": "assistant", "content": 42}`

    Fix
    Give the message its text as a string, or add the tool call the null content stands beside.
    """

    code = "FT205"
    name = "invalid-content"
    severity = Severity.ERROR


@register
class InvalidContentPart(Rule):
    """What it does
    Flags a content part that is not an object, has no known `type` (text, image_url), or lacks its
    payload (`text` string for text parts, `image_url.url` string for images).

    Why it matters
    Content parts from other tools (`{"type": "text", "value": ...}`, `{"type": "image", ...}`) look right
    but are rejected.

    Example
    `{"type": "text", "value": "hi"}`

    Fix
    Use `{"type": "text", "text": "..."}` or `{"type": "image_url", "image_url": {"url": "..."}}`.
    """

    code = "FT206"
    name = "invalid-content-part"
    severity = Severity.ERROR


@register
class InvalidWeight(Rule):
    """What it does
    Flags a `weight` that is not the integer 0 or 1, or that sits on a message that is not an assistant
    message.

    Why it matters
    Weights choose which assistant messages are trained on; any other value or place is rejected.

    Example
    `{"role": "assistant", "content": "ok", "weight": 0.5}` or `"weight": true`

    Fix
    Use 0 (do not train on this message) or 1 (train on it), on assistant messages only.
    """

    code = "FT207"
    name = "invalid-weight"
    severity = Severity.ERROR


@register
class NoAssistantMessage(Rule):
    """What it does
    Flags a supervised chat example with no assistant message.

    Why it matters
    The assistant messages are what the model learns; an example without one is rejected.

    Example
    `{"messages": [{"role": "user", "content": "hi"}]}`

    Fix
    Add the answer as an assistant message, or drop the example. (Reinforcement fine-tuning rows end with a
    user message instead: pass `--method reinforcement`.)
    """

    code = "FT208"
    name = "no-assistant-message"
    severity = Severity.ERROR


@register
class UnknownTopLevelKey(Rule):
    """What it does
    Flags a top-level key the record's format does not have. Chat: messages, tools, functions,
    parallel_tool_calls; completions: prompt, completion; DPO: input, preferred_output,
    non_preferred_output. (Reinforcement rows may carry extra keys: they are grader variables.)

    Why it matters
    The API rejects unknown keys; they are often metadata (ids, labels, a top-level `system`) that should
    live elsewhere.

    Example
    `{"system": "Be brief.", "messages": [...]}` (Bedrock style)

    Fix
    Remove the key, or move its content where it belongs (a top-level system prompt becomes the first
    message with role system).
    """

    code = "FT209"
    name = "unknown-top-level-key"
    severity = Severity.ERROR


@register
class InvalidName(Rule):
    """What it does
    Flags a message `name` that is not a string of 1-64 letters, digits, underscores or hyphens.

    Why it matters
    The API validates names with this pattern; spaces or dots are rejected.

    Example
    `{"role": "user", "name": "Dr. Smith", "content": "..."}`

    Fix
    Use a name such as `dr_smith`, or drop the field.
    """

    code = "FT210"
    name = "invalid-name"
    severity = Severity.ERROR


@register
class InvalidSampleWeight(Rule):
    """What it does
    Flags a top-level sample `weight` that is not a non-negative number, for a target that takes one (Together,
    Fireworks); on a target that does not (OpenAI, Azure) a top-level `weight` is an unknown key (FT209).

    Why it matters
    The sample weight multiplies the example's loss; a string, a negative number or null fails validation.

    Example
    `{"messages": [...], "weight": "high"}` or `"weight": -1`

    Fix
    Use a number of 0 or more (1 is the default), or drop the key.
    """

    code = "FT211"
    name = "invalid-sample-weight"
    severity = Severity.ERROR


@register
class SystemNotFirst(Rule):
    """What it does
    Flags a system message that is not the first message, for a target that requires it first (Fireworks).

    Why it matters
    Such services build the prompt with the system message at its head; a later one is rejected or silently
    misplaced by the chat template.

    Example
    `[{"role": "user", ...}, {"role": "system", ...}, {"role": "assistant", ...}]`

    Fix
    Move the system message to the start, or merge it into the first one.
    """

    code = "FT212"
    name = "system-not-first"
    severity = Severity.ERROR


@register
class RolesNotAlternating(Rule):
    """What it does
    Flags a conversation whose user and assistant turns do not alternate after an optional system message, for a
    target that documents alternation (Together). Tool results and the assistant's tool calls belong to the
    assistant's turn.

    Why it matters
    Together's data-preparation guide says a conversation must start with system or user and alternate user and
    assistant afterwards; many open models' chat templates raise on anything else.

    Example
    `[{"role": "user", ...}, {"role": "user", ...}, {"role": "assistant", ...}]`

    Fix
    Merge consecutive messages of the same role, or insert the missing turn.
    """

    code = "FT213"
    name = "roles-not-alternating"
    severity = Severity.ERROR


@register
class InvalidReasoning(Rule):
    """What it does
    Flags an assistant message's reasoning field (`reasoning`, `reasoning_content`) that is not a string, for a
    target that takes reasoning traces (Together, Fireworks); elsewhere the key is unknown (FT204).

    Why it matters
    The service trains on the reasoning text; any other type fails validation.

    Example
    `{"role": "assistant", "content": "42", "reasoning_content": ["step 1", "step 2"]}`

    Fix
    Join the reasoning into one string.
    """

    code = "FT214"
    name = "invalid-reasoning"
    severity = Severity.ERROR


@register
class InvalidCompletionField(Rule):
    """What it does
    Flags a completions record whose `prompt` or `completion` is missing or not a string.

    Why it matters
    Legacy completion models (babbage-002, davinci-002) train on exactly these two strings.

    Example
    `{"prompt": "2+2=", "completion": 4}`

    Fix
    Write both fields as strings: `{"prompt": "2+2=", "completion": " 4"}`.
    """

    code = "FT220"
    name = "invalid-completion-field"
    severity = Severity.ERROR


def check_unknown_top_keys(record: Record, ctx: RecordContext, allowed: frozenset[str], label: str) -> None:
    """Emit :class:`UnknownTopLevelKey` for every key of ``record`` not in ``allowed``."""
    for key in record:
        if key not in allowed:
            ctx.emit(UnknownTopLevelKey, pointer(key), f"unknown top-level key {key!r} in a {label} record"
                     + key_hint(key), f"remove {key!r}; allowed keys: {', '.join(sorted(allowed))}")


@record_check(CHAT, first=True)
def check_chat_shape(record: Record, ctx: RecordContext) -> None:
    """The chat record: top-level keys and every message's role, keys, content, name and weight. Its walk
    also keeps the record's facts (:mod:`ftprep.rules.facts`) for the checks that run after it."""
    # The common record holds `messages` alone: no other top-level key to check or to take facts from.
    alone = len(record) == 1
    if ctx.method != "reinforcement" and not alone:
        target = ctx.target
        check_unknown_top_keys(record, ctx, CHAT_TOP_KEYS | SAMPLE_WEIGHT if target.sample_weight else CHAT_TOP_KEYS,
                               "chat")
        if target.sample_weight and "weight" in record:
            check_sample_weight(record["weight"], ctx)
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        what = "an empty array" if messages == [] else _type_name(messages)
        ctx.emit(MessagesNotList, "/messages", f"`messages` must be a non-empty array of messages, not {what}",
                 "put the conversation in an array of {role, content} objects")
        return
    found = check_messages(messages, ctx, ("messages",), facts=True)
    remember(ctx, found if alone else found | top_facts(record))
    if ctx.method == "supervised" and not found & ASSISTANT:
        ctx.emit(NoAssistantMessage, "/messages", "no assistant message: this example trains nothing",
                 "add the answer as an assistant message or drop the example")


def check_sample_weight(weight: Any, ctx: RecordContext) -> None:
    """A top-level sample weight: a number, not negative unless the target takes negative weights (FT211)."""
    if type(weight) not in (int, float):
        ctx.emit(InvalidSampleWeight, "/weight", f"sample weight {json_text(weight)} is not a number",
                 "use a number (1 is the default), or drop the key")
    elif weight < 0 and not ctx.target.sample_weight_negative:
        ctx.emit(InvalidSampleWeight, "/weight", f"sample weight {weight!r} is negative; {ctx.target.name} takes "
                 "0 or more", "use a non-negative number (1 is the default), or drop the key")


def check_messages(messages: list[Any], ctx: RecordContext, base: tuple[str | int, ...], *,
                   facts: bool = False) -> int:
    """Check each message of a message list at ``base`` (``("messages",)`` or ``("input", "messages")``):
    shape (FT20x) and blank text (FT300), in one walk. With ``facts``, returns the messages' facts
    (:func:`ftprep.rules.facts.message_facts` of each), else 0."""
    found = 0
    for index, message in enumerate(messages):
        if type(message) is dict and len(message) == 2:
            # The common message, {"role", "content"} with text that is not blank: nothing to report, and
            # no fact but its role.
            role = message.get("role")
            content = message.get("content")
            if (type(role) is str and role in _PLAIN_ROLES and type(content) is str and content
                    and not content.isspace()):
                if role == "assistant":
                    found |= ASSISTANT
                continue
        where = (*base, index)
        if not isinstance(message, dict):
            ctx.emit(MessageNotObject, pointer(*where), f"message {index} is {_type_name(message)}, not an object",
                     'write it as {"role": "...", "content": "..."}')
            continue
        check_message(message, ctx, where)
        if facts:
            found |= message_facts(message)
    return found if facts else 0


def check_message(message: dict[str, Any], ctx: RecordContext, where: tuple[str | int, ...]) -> None:
    """One message: role, allowed keys, content, name, weight."""
    role = message.get("role")
    target = ctx.target
    if not isinstance(role, str):
        role = None if role is None else repr(role)  # an array or object as role: unknown, and unhashable
    elif role == "developer" and ctx.method == "reinforcement" and role in target.roles:
        # Reasoning models take developer instructions; reinforcement rows for o-series models use them.
        role = "system"
    elif role in MESSAGE_KEYS and role not in target.roles:
        # A role OpenAI knows that this target does not take (Together has no `function`): its keys are still
        # checked as that role's, so that one defect gives one finding.
        ctx.emit(InvalidRole, pointer(*where, "role"), f"role {role!r} is not accepted by {target.name}",
                 "use one of: " + ", ".join(r for r in ROLES if r in target.roles))
    if role not in MESSAGE_KEYS:
        if "role" not in message:
            ctx.emit(InvalidRole, pointer(*where), "message has no `role`" + (
                " (it has `from`: ShareGPT style)" if "from" in message else ""),
                "add role: system, user, assistant or tool")
        else:
            given = message["role"]
            hint = ROLE_HINTS.get(given) if isinstance(given, str) else None
            ctx.emit(InvalidRole, pointer(*where, "role"), f"unknown role {json_text(given)}",
                     f"use {hint!r}" if hint else "use one of: " + ", ".join(ROLES))
        allowed = frozenset().union(*MESSAGE_KEYS.values())
    else:
        allowed = MESSAGE_KEYS[role]
        if role == "assistant" and target.reasoning_keys:
            allowed = allowed | target.reasoning_keys
            for key in target.reasoning_keys & message.keys():
                if not isinstance(message[key], str):
                    ctx.emit(InvalidReasoning, pointer(*where, key),
                             f"`{key}` must be a string, not {_type_name(message[key])}",
                             "join the reasoning into one string")
    for key in message:
        if key not in allowed:
            if key == "weight" and role in MESSAGE_KEYS:
                ctx.emit(InvalidWeight, pointer(*where, key), f"`weight` on a {role} message",
                         "weights go on assistant messages only; remove it")
                continue
            ctx.emit(UnknownMessageKey, pointer(*where, key),
                     f"unknown key {key!r} in a {role + ' ' if role in MESSAGE_KEYS else ''}message" + key_hint(key),
                     f"rename or remove it; allowed: {', '.join(sorted(allowed))}")
    _check_content(message, role, ctx, where)
    check_empty_message(message, role, ctx, where)
    if "name" in message and role != "function":
        name = message["name"]
        if not isinstance(name, str) or not NAME_RE.match(name):
            ctx.emit(InvalidName, pointer(*where, "name"), f"name {json_text(name)} is not 1-64 of [a-zA-Z0-9_-]",
                     "use letters, digits, _ and - only, or drop the name")
    if role == "assistant" and "weight" in message:
        weight = message["weight"]
        if type(weight) is not int or weight not in (0, 1):
            ctx.emit(InvalidWeight, pointer(*where, "weight"), f"weight {json_text(weight)} is not the integer 0 or 1",
                     "use 0 (not trained) or 1 (trained)")


def _check_content(message: dict[str, Any], role: Any, ctx: RecordContext, where: tuple[str | int, ...]) -> None:
    calls = role == "assistant" and (bool(message.get("tool_calls")) or bool(message.get("function_call")))
    if "content" not in message:
        # A misspelt content key is already reported as unknown-message-key: one finding per defect.
        if not calls and role in MESSAGE_KEYS and not any(k in message for k in CONTENT_LOOKALIKES):
            ctx.emit(InvalidContent, pointer(*where), f"{role} message has no `content`",
                     "add the message text as `content`")
        return
    content = message["content"]
    if content is None:
        if not calls and role in ("system", "user", "assistant", "tool"):
            ctx.emit(InvalidContent, pointer(*where, "content"),
                     f"null content on a {role} message without a tool call",
                     "give the message its text, or add the tool call it stands beside")
        return
    if isinstance(content, str):
        return
    if role == "tool":
        ctx.emit(InvalidContent, pointer(*where, "content"),
                 f"tool message content must be a string, not {_type_name(content)}",
                 "serialise the tool result to a string")
        return
    if not isinstance(content, list):
        ctx.emit(InvalidContent, pointer(*where, "content"),
                 f"content must be a string or an array of parts, not {_type_name(content)}",
                 "write the text as a string")
        return
    for index, part in enumerate(content):
        _check_part(part, ctx, (*where, "content", index))


def _check_part(part: Any, ctx: RecordContext, where: tuple[str | int, ...]) -> None:
    if not isinstance(part, dict):
        ctx.emit(InvalidContentPart, pointer(*where), f"content part is {_type_name(part)}, not an object",
                 'use {"type": "text", "text": "..."}')
        return
    kind = part.get("type")
    if not isinstance(kind, str) or kind not in PART_TYPES:
        ctx.emit(InvalidContentPart, pointer(*where, "type") if "type" in part else pointer(*where),
                 f"content part type {json_text(kind)} is not text or image_url",
                 'use {"type": "text", "text": "..."} or {"type": "image_url", "image_url": {"url": "..."}}')
        return
    extra = [key for key in part if key not in ("type", kind)]
    for key in extra:
        ctx.emit(InvalidContentPart, pointer(*where, key), f"unknown key {key!r} in a {kind} part",
                 f"a {kind} part has only `type` and `{kind}`")
    if kind not in part and extra:
        return  # the payload is under a wrong key, reported just above: one finding per defect
    if kind == "text":
        if not isinstance(part.get("text"), str):
            ctx.emit(InvalidContentPart, pointer(*where, "text") if "text" in part else pointer(*where),
                     "text part without a string `text`", 'write {"type": "text", "text": "..."}')
        return
    image = part.get("image_url")
    if not isinstance(image, dict) or not isinstance(image.get("url"), str):
        ctx.emit(InvalidContentPart, pointer(*where, "image_url"), "image_url part needs an object with a string `url`",
                 'write {"type": "image_url", "image_url": {"url": "https://..."}}')


_RESULT_ROLES = frozenset({"tool", "function"})
_SYSTEM_ROLES = frozenset({"system", "developer"})


@record_check(CHAT)
def check_turn_order(record: Record, ctx: RecordContext) -> None:
    """Where the target asks for it: a system message first (FT212) and user/assistant turns that alternate
    (FT213, the first defect of a record only). A tool result and the assistant's tool calls belong to the
    assistant's turn."""
    target = ctx.target
    if not (target.system_first or target.alternating):
        return
    messages = record.get("messages")
    if not isinstance(messages, list):
        return
    previous: str | None = None  # the turn so far: user or assistant
    continues = False  # whether the previous message leaves the assistant's turn open (a call, a result)
    alternation_reported = False
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            return  # reported by the shape rules
        role = message.get("role")
        if role in _SYSTEM_ROLES:
            if index > 0 and target.system_first:
                ctx.emit(SystemNotFirst, pointer("messages", index, "role"),
                         f"{role} message at position {index}; {target.name} takes it only as the first message",
                         "move it to the start of the conversation or merge it into the first one")
            continue
        if not target.alternating or alternation_reported or not isinstance(role, str):
            continue
        turn = "assistant" if role in _RESULT_ROLES else role
        if turn not in ("user", "assistant"):
            continue
        problem = None
        if previous is None and turn != "user":
            problem = f"the conversation starts with {json_text(role)}, not with a user message"
        elif turn == previous and not (turn == "assistant" and (continues or role in _RESULT_ROLES)):
            problem = f"two {turn} turns in a row (message {index})"
        if problem is not None:
            ctx.emit(RolesNotAlternating, pointer("messages", index), problem + f"; {target.name} expects user "
                     "and assistant turns to alternate after an optional system message",
                     "merge consecutive messages of one role, or add the missing turn")
            alternation_reported = True
        previous = turn
        continues = role in _RESULT_ROLES or bool(message.get("tool_calls") or message.get("function_call"))


@record_check(COMPLETION)
def check_completion_shape(record: Record, ctx: RecordContext) -> None:
    """The completions record: exactly string `prompt` and `completion`."""
    check_unknown_top_keys(record, ctx, COMPLETION_KEYS, "completions")
    for key in ("prompt", "completion"):
        if key not in record:
            ctx.emit(InvalidCompletionField, "", f"completions record has no {key!r}",
                     f"add {key!r} as a string")
        elif not isinstance(record[key], str):
            ctx.emit(InvalidCompletionField, pointer(key),
                     f"{key!r} must be a string, not {_type_name(record[key])}", f"write {key!r} as a string")
