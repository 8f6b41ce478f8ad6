"""Write converted rows in the formats of where the data goes: TRL, Vertex AI Gemini, Bedrock Nova and Haiku.

Each row is first read into OpenAI chat (or DPO) messages by :mod:`ftprep.transform.convert`, then written
in the target format. Formats and their sources (as of 2026-12):

``trl``            TRL's conversational rows: ``{"messages": [...], "tools"?}``; preference sources give
                   ``{"prompt": [...], "chosen": [...], "rejected": [...]}`` (message lists). Tool-call
                   ``arguments`` become objects, as the Hugging Face chat format expects.
                   https://huggingface.co/docs/trl/dataset_formats
``vertex``         Gemini supervised tuning: ``systemInstruction``/``contents``/``parts``, role ``model``,
                   ``functionCall`` (``args`` an object), ``functionResponse``, ``tools`` as
                   ``functionDeclarations``; images only as ``fileData`` with a ``gs://`` URI.
                   https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning-prepare
``bedrock-nova``   ``bedrock-conversation-2024``: ``schemaVersion``, ``system`` list of text blocks, content
                   blocks (text; images only from ``s3://``); first turn user, last assistant; the reserved
                   words of :data:`NOVA_RESERVED` fail the job.
                   https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html
``bedrock-haiku``  Claude 3 Haiku on Bedrock: ``system`` string, ``messages`` of string content, strictly
                   alternating, first user, last assistant, no other keys.
                   https://platform.claude.com/cookbook/finetuning-finetuning-on-bedrock

Whatever a target cannot carry (per-message ``weight``, ``name``, images, tools, extra top-level keys, the
rejected side of a preference row for a supervised target ...) is counted per field in the summary; with
``strict`` the row goes to the rejects file instead. Rows the target cannot express at all (tool calls for
Haiku, roles that do not alternate ...) are rejected with the reason. Every written row passes a structural
validator of its target format.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from ftprep.errors import ConfigError
from ftprep.jsonl.writer import atomic_outputs, record_bytes
from ftprep.transform.convert import (
    KTO_FALSE,
    ConvertOptions,
    ConvertResult,
    Message,
    Unconvertible,
    convert_row,
    prepare_conversion,
    refuse_kto_false,
    reporting_rows,
    row_source,
)
from ftprep.transform.pointer import parse_pointer
from ftprep.transform.sources import iter_rows
from ftprep.transform.summary import Reason, reject_bytes

OUTPUT_TARGETS = ("trl", "vertex", "bedrock-nova", "bedrock-haiku")
# Reject reason codes of these writers (there is no ftprep rule set for these formats).
NOT_EXPRESSIBLE = "not-expressible"
DROPPED_FIELD = "dropped-field"
NOVA_RESERVED_WORD = "nova-reserved-word"
INVALID_OUTPUT = "invalid-output"
NOVA_RESERVED = ("User:", "Bot:", "Assistant:", "System:", "<image>", "<video>", "[EOS]")
NOVA_SCHEMA = "bedrock-conversation-2024"

_PREFERENCE_SOURCES = ("dpo", "preference", "sharegpt-preference")
# Top-level keys each source format reads; (supervised, preference) when the two differ.
_SOURCE_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # parallel_tool_calls is read, and counted as dropped: no target carries it.
    "chat": (frozenset({"messages", "tools", "functions", "system", "parallel_tool_calls"}),) * 2,
    "sharegpt": (frozenset({"conversations", "system", "tools"}),) * 2,
    "alpaca": (frozenset({"instruction", "input", "output", "system", "history"}),) * 2,
    "completions": (frozenset({"prompt", "completion"}),) * 2,
    "preference": (frozenset({"prompt", "chosen"}), frozenset({"prompt", "chosen", "rejected"})),
    "sharegpt-preference": (frozenset({"conversations", "system", "chosen"}),
                            frozenset({"conversations", "system", "chosen", "rejected"})),
    "dpo": (frozenset({"input", "preferred_output"}),
            frozenset({"input", "preferred_output", "non_preferred_output"})),
}
_OPENAI_PARTS = ("text", "image_url", "input_audio", "file")
_IMAGE_FORMATS = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "gif": "gif", "webp": "webp"}
_MIME = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}


@dataclass(slots=True)
class _Row:
    """What writing one row left behind: dropped field -> number of values."""

    dropped: Counter[str] = field(default_factory=Counter)

    def drop(self, name: str, count: int = 1) -> None:
        self.dropped[name] += count


def _fail(message: str, pointer: str | None = None, code: str = NOT_EXPRESSIBLE) -> Unconvertible:
    return Unconvertible(message, pointer, code)


def _check_messages(messages: Any, where: str) -> None:
    """The OpenAI shapes the writers rely on; anything else is a malformed row, not a crash."""
    if not isinstance(messages, list):
        raise Unconvertible("messages must be a list", where)
    for index, message in enumerate(messages):
        at = f"{where}/{index}"
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise Unconvertible("a message must be an object with a role", at)
        content = message.get("content")
        if not (content is None or isinstance(content, str)
                or (isinstance(content, list) and all(isinstance(p, dict) for p in content))):
            raise Unconvertible("content must be text or a list of parts", f"{at}/content")
        calls = message.get("tool_calls")
        if calls is None:
            continue
        if not isinstance(calls, list):
            raise Unconvertible("tool_calls must be a list", f"{at}/tool_calls")
        for number, call in enumerate(calls):
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                raise Unconvertible("a tool call needs a function with a name", f"{at}/tool_calls/{number}")


def _check_record(record: Mapping[str, Any]) -> None:
    """Messages and tools of an intermediate OpenAI chat or DPO record have the shapes the writers read."""
    if "messages" in record:
        _check_messages(record["messages"], "/messages")
    else:
        _check_messages(record["input"].get("messages"), "/input/messages")
        _check_messages(record["preferred_output"], "/preferred_output")
        _check_messages(record["non_preferred_output"], "/non_preferred_output")
    tools = record.get("tools")
    if tools is not None and not (isinstance(tools, list) and all(
            isinstance(t, dict) and isinstance(t.get("function"), dict) for t in tools)):
        raise Unconvertible("tools must be a list of function definitions", "/tools")


def _is_preference(source: str, options: ConvertOptions) -> bool:
    if source == "map":
        return any(name in ("chosen", "rejected") for name, _ in options.field_map)
    return source in _PREFERENCE_SOURCES


def _count_extra_keys(row: Mapping[str, Any], source: str, options: ConvertOptions, preference: bool,
                      acc: _Row) -> None:
    """Top-level keys the source format does not read (and nested DPO ``input`` keys) are dropped."""
    if source == "map":
        read = {parse_pointer(path)[0] for _, path in options.field_map if parse_pointer(path)}
    else:
        read = set(_SOURCE_KEYS[source][1 if preference else 0])
    for key in row:
        if key not in read:
            acc.drop(key)
    given = row.get("input")
    if source == "dpo" and isinstance(given, dict):
        for key in given:
            if key != "messages" and not (key == "tools" and preference):
                acc.drop(f"input.{key}")


def _text_of(content: Any, where: str, acc: _Row, image: Callable[[str, str], dict[str, Any] | None] | None
             ) -> list[dict[str, Any]]:
    """Content (string or OpenAI parts) -> ``[{"text": ...} | <image block>]``; other parts are dropped."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}]
    if not isinstance(content, list):
        raise _fail("content must be text or a list of parts", where)
    blocks: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in _OPENAI_PARTS:
            raise _fail(f"content part of type {kind!r} is not an OpenAI part (text, image_url, input_audio, file)",
                        f"{where}/{index}")
        if kind == "text":
            if not isinstance(part.get("text"), str):
                raise _fail("a text part needs a string text", f"{where}/{index}")
            blocks.append({"text": part["text"]})
            continue
        if kind == "image_url" and isinstance(part, dict) and image is not None:
            spec = part.get("image_url")
            url = spec.get("url") if isinstance(spec, dict) else None
            block = image(url, f"{where}/{index}") if isinstance(url, str) else None
            if block is not None:
                blocks.append(block)
                continue
        acc.drop(f"content part {kind or 'unknown'}")
    return blocks


def _joined(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b["text"] for b in blocks if "text" in b)


def _split_system(messages: list[Message]) -> tuple[list[str], list[Message]]:
    """Leading system messages' contents and the rest; a later system message cannot be expressed."""
    system: list[Message] = []
    rest = list(messages)
    while rest and rest[0].get("role") in ("system", "developer"):
        system.append(rest.pop(0))
    for index, message in enumerate(rest):
        if message.get("role") in ("system", "developer"):
            raise _fail("a system message after the conversation started cannot be expressed", f"/messages/{index}")
    texts = []
    for message in system:
        content = message.get("content")
        if isinstance(content, list):
            content = "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
        texts.append(str(content or ""))
    return texts, rest


def _drop_message_keys(message: Message, carried: frozenset[str], acc: _Row) -> None:
    for key in message:
        if key not in carried:
            acc.drop(f"messages[].{key}")


def _arguments(value: Any, where: str) -> Any:
    """Tool-call arguments as an object (OpenAI stores a JSON string)."""
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value) if value.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise _fail(f"tool-call arguments are not JSON ({exc})", where) from exc


# --- TRL -------------------------------------------------------------------------------------------------

_TRL_KEYS = frozenset({"role", "content", "tool_calls", "tool_call_id"})


def _trl_messages(messages: list[Message], acc: _Row, where: str) -> list[Message]:
    out: list[Message] = []
    for index, message in enumerate(messages):
        at = f"{where}/{index}"
        _drop_message_keys(message, _TRL_KEYS, acc)
        # OpenAI's developer message is its system message; chat templates know only system.
        role = message.get("role")
        item: Message = {"role": "system" if role == "developer" else role}
        if "content" in message:
            content = message["content"]
            item["content"] = (content if content is None or isinstance(content, str)
                               else _joined(_text_of(content, f"{at}/content", acc, None)))
        if message.get("tool_calls"):
            calls = []
            for number, call in enumerate(message["tool_calls"]):
                function = call.get("function", {}) if isinstance(call, dict) else {}
                entry: dict[str, Any] = {"type": "function", "function": {
                    "name": function.get("name"),
                    "arguments": _arguments(function.get("arguments"), f"{at}/tool_calls/{number}")}}
                if isinstance(call, dict) and "id" in call:
                    entry["id"] = call["id"]
                calls.append(entry)
            item["tool_calls"] = calls
        if "tool_call_id" in message:
            item["tool_call_id"] = message["tool_call_id"]
        out.append(item)
    return out


def _to_trl(record: dict[str, Any], preference: bool, acc: _Row) -> dict[str, Any]:
    if preference:
        out: dict[str, Any] = {
            "prompt": _trl_messages(record["input"]["messages"], acc, "/prompt"),
            "chosen": _trl_messages(record["preferred_output"], acc, "/chosen"),
            "rejected": _trl_messages(record["non_preferred_output"], acc, "/rejected")}
        tools = record.get("tools")
    else:
        out = {"messages": _trl_messages(record["messages"], acc, "/messages")}
        tools = record.get("tools")
    if tools:
        out["tools"] = tools
    return out


def validate_trl(row: Mapping[str, Any]) -> list[str]:
    """Problems of a TRL row: conversational ``messages`` or ``prompt``/``chosen``/``rejected`` lists whose
    first item has a ``role`` (what ``trl.data_utils.is_conversational`` looks for)."""
    keys = ("messages",) if "messages" in row else ("prompt", "chosen", "rejected")
    problems = []
    for key in keys:
        value = row.get(key)
        if not isinstance(value, list) or not value:
            problems.append(f"{key} must be a non-empty list of messages")
            continue
        for index, message in enumerate(value):
            if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant", "tool"):
                problems.append(f"{key}[{index}] needs a role of system, user, assistant or tool")
            elif not isinstance(message.get("content"), str | None):
                problems.append(f"{key}[{index}].content must be a string")
    return problems


# --- Vertex AI Gemini ------------------------------------------------------------------------------------

def _gcs_image(url: str, where: str) -> dict[str, Any] | None:
    fmt = _IMAGE_FORMATS.get(url.rsplit(".", 1)[-1].lower())
    if not url.startswith("gs://") or fmt is None:
        return None
    return {"fileData": {"mimeType": _MIME[fmt], "fileUri": url}}


def _function_response(content: Any) -> dict[str, Any]:
    """A tool message's content as the object ``functionResponse.response`` must be."""
    if isinstance(content, str):
        try:
            parsed = orjson.loads(content)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    return {"content": content}


def _to_vertex(record: dict[str, Any], acc: _Row) -> dict[str, Any]:
    system, messages = _split_system(record["messages"])
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for index, message in enumerate(messages):
        at = f"/messages/{index}"
        role = message.get("role")
        _drop_message_keys(message, frozenset({"role", "content", "tool_calls", "tool_call_id"}), acc)
        if role == "tool":
            name = names.get(str(message.get("tool_call_id")))
            if name is None:
                raise _fail("a tool result whose call is not in the row cannot name its function", at)
            turn, parts = "user", [{"functionResponse": {"name": name,
                                                         "response": _function_response(message.get("content"))}}]
        elif role in ("user", "assistant"):
            turn = "user" if role == "user" else "model"
            parts = _text_of(message.get("content"), f"{at}/content", acc, _gcs_image)
            for number, call in enumerate(message.get("tool_calls") or []):
                function = call.get("function", {})
                names[str(call.get("id"))] = str(function.get("name"))
                parts.append({"functionCall": {"name": function.get("name"), "args": _arguments(
                    function.get("arguments"), f"{at}/tool_calls/{number}")}})
        else:
            raise _fail(f"role {role!r} has no Gemini counterpart", f"{at}/role")
        # Gemini contents alternate: tool results and a following user turn share one user content.
        if contents and contents[-1]["role"] == turn:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": turn, "parts": parts})
    if not contents or contents[-1]["role"] != "model":
        raise _fail("Gemini tuning rows end with a model turn; this one does not (a prompt-only or RFT row?)",
                    "/messages")
    out: dict[str, Any] = {}
    if system:
        out["systemInstruction"] = {"parts": [{"text": text} for text in system]}
    out["contents"] = contents
    if record.get("tools"):
        declarations = []
        for tool in record["tools"]:
            function = dict(tool.get("function", {}))
            for key in list(function):
                if key not in ("name", "description", "parameters"):
                    acc.drop(f"tools[].function.{key}")
                    del function[key]
            declarations.append(function)
        out["tools"] = [{"functionDeclarations": declarations}]
    return out


def validate_vertex(row: Mapping[str, Any]) -> list[str]:
    """Problems of a Gemini tuning row: ``contents`` of user/model turns with parts, ending with ``model``."""
    problems = []
    contents = row.get("contents")
    if not isinstance(contents, list) or not contents:
        return ["contents must be a non-empty list"]
    for index, turn in enumerate(contents):
        if not isinstance(turn, dict) or turn.get("role") not in ("user", "model"):
            problems.append(f"contents[{index}].role must be user or model")
        elif not turn.get("parts"):
            problems.append(f"contents[{index}] has no parts")
        elif not all(isinstance(p, dict) and len(p) == 1 and next(iter(p)) in
                     ("text", "fileData", "functionCall", "functionResponse") for p in turn["parts"]):
            problems.append(f"contents[{index}].parts must each hold one of text, fileData, functionCall, "
                            "functionResponse")
    if isinstance(contents[-1], dict) and contents[-1].get("role") != "model":
        problems.append("the last turn must be the model's")
    return problems


# --- Bedrock ---------------------------------------------------------------------------------------------

def _s3_image(url: str, where: str) -> dict[str, Any] | None:
    fmt = _IMAGE_FORMATS.get(url.rsplit(".", 1)[-1].lower())
    if not url.startswith("s3://") or fmt is None:
        return None
    return {"image": {"format": fmt, "source": {"s3Location": {"uri": url}}}}


def _bedrock_turns(messages: list[Message], acc: _Row, target: str, image: Callable[[str, str], Any] | None
                   ) -> list[tuple[str, list[dict[str, Any]]]]:
    """(role, content blocks) per message; tool use, other roles and a wrong first/last turn are rejected."""
    turns = []
    for index, message in enumerate(messages):
        at = f"/messages/{index}"
        role = message.get("role")
        if role == "tool" or message.get("tool_calls"):
            raise _fail(f"{target} rows carry no tool calls or tool results", at)
        if role not in ("user", "assistant"):
            raise _fail(f"role {role!r} has no {target} counterpart", f"{at}/role")
        _drop_message_keys(message, frozenset({"role", "content"}), acc)
        turns.append((str(role), _text_of(message.get("content"), f"{at}/content", acc, image)))
    if not turns or turns[0][0] != "user" or turns[-1][0] != "assistant":
        raise _fail(f"{target} needs the first turn from the user and the last from the assistant", "/messages")
    return turns


def _drop_tools(record: dict[str, Any], acc: _Row) -> None:
    if record.get("tools"):
        acc.drop("tools", len(record["tools"]))


def _to_nova(record: dict[str, Any], acc: _Row) -> dict[str, Any]:
    _drop_tools(record, acc)
    system, messages = _split_system(record["messages"])
    turns = _bedrock_turns(messages, acc, "bedrock-nova", _s3_image)
    out: dict[str, Any] = {"schemaVersion": NOVA_SCHEMA}
    if system:
        out["system"] = [{"text": text} for text in system]
    out["messages"] = [{"role": role, "content": blocks} for role, blocks in turns]
    return out


def nova_reserved_words(row: Mapping[str, Any]) -> list[Reason]:
    """A reason per text block of a Nova row holding one of Nova's reserved words."""
    reasons = []
    blocks = [(f"/system/{i}/text", b.get("text")) for i, b in enumerate(row.get("system", []))]
    for m, message in enumerate(row.get("messages", [])):
        blocks += [(f"/messages/{m}/content/{i}/text", b.get("text")) for i, b in enumerate(message["content"])]
    for pointer, text in blocks:
        found = [word for word in NOVA_RESERVED if isinstance(text, str) and word in text]
        if found:
            words = ", ".join(map(repr, found))
            reasons.append(Reason(NOVA_RESERVED_WORD, f"text holds Nova's reserved word(s) {words}: Bedrock fails "
                                  "the job; rephrase them", pointer))
    return reasons


def validate_nova(row: Mapping[str, Any]) -> list[str]:
    """Problems of a ``bedrock-conversation-2024`` row."""
    problems = []
    if row.get("schemaVersion") != NOVA_SCHEMA:
        problems.append(f"schemaVersion must be {NOVA_SCHEMA}")
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        return [*problems, "messages must be a non-empty list"]
    for index, message in enumerate(messages):
        if message.get("role") not in ("user", "assistant"):
            problems.append(f"messages[{index}].role must be user or assistant")
        blocks = message.get("content")
        if not isinstance(blocks, list) or not blocks or not all(
                isinstance(b, dict) and len(b) == 1 and next(iter(b)) in ("text", "image", "video") for b in blocks):
            problems.append(f"messages[{index}].content must be a non-empty list of text, image or video blocks")
    if messages[0].get("role") != "user" or messages[-1].get("role") != "assistant":
        problems.append("the first turn must be the user's and the last the assistant's")
    return problems


def _to_haiku(record: dict[str, Any], acc: _Row) -> dict[str, Any]:
    _drop_tools(record, acc)
    system, messages = _split_system(record["messages"])
    turns = _bedrock_turns(messages, acc, "bedrock-haiku", None)
    for index in range(1, len(turns)):
        if turns[index][0] == turns[index - 1][0]:
            raise _fail(f"bedrock-haiku needs user and assistant turns to alternate; two {turns[index][0]} "
                        "turns follow each other", f"/messages/{index}")
    out: dict[str, Any] = {}
    if system:
        out["system"] = "\n\n".join(system)
    out["messages"] = [{"role": role, "content": _joined(blocks)} for role, blocks in turns]
    return out


def validate_haiku(row: Mapping[str, Any]) -> list[str]:
    """Problems of a Claude 3 Haiku (Bedrock) row: no extra keys, string contents, alternating roles."""
    problems = [f"extraneous key {key}" for key in row if key not in ("system", "messages")]
    if "system" in row and not isinstance(row["system"], str):
        problems.append("system must be a string")
    messages = row.get("messages")
    if not isinstance(messages, list) or len(messages) < 2:
        return [*problems, "messages must hold at least 2 messages"]
    for index, message in enumerate(messages):
        expected = "user" if index % 2 == 0 else "assistant"
        if set(message) != {"role", "content"} or message.get("role") != expected:
            problems.append(f"messages[{index}] must be {{role: {expected}, content}}")
        elif not isinstance(message["content"], str):
            problems.append(f"messages[{index}].content must be a string")
    if messages[-1].get("role") != "assistant":
        problems.append("the last message must be the assistant's")
    return problems


_VALIDATORS: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "trl": validate_trl, "vertex": validate_vertex, "bedrock-nova": validate_nova, "bedrock-haiku": validate_haiku,
}


def write_row(row: Mapping[str, Any], source: str, options: ConvertOptions) -> tuple[dict[str, Any], Counter[str]]:
    """One row in ``options.to`` (a name of :data:`OUTPUT_TARGETS`) and the fields it could not carry.

    Raises :class:`Unconvertible` for rows the target cannot express.
    """
    acc = _Row()
    preference = options.to == "trl" and _is_preference(source, options)
    _count_extra_keys(row, source, options, preference, acc)
    record = convert_row(row, source, replace(options, to="dpo" if preference else "chat"))
    if preference:
        given = row.get("input")
        tools = given.get("tools") if source == "dpo" and isinstance(given, dict) else None
        if tools:
            record["tools"] = tools
    if source == "chat" and "parallel_tool_calls" in row:
        acc.drop("parallel_tool_calls")
    _check_record(record)
    if options.to == "trl":
        out = _to_trl(record, preference, acc)
    elif options.to == "vertex":
        out = _to_vertex(record, acc)
    elif options.to == "bedrock-nova":
        out = _to_nova(record, acc)
    else:
        out = _to_haiku(record, acc)
    return out, acc.dropped


def convert_file_to(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    options: ConvertOptions,
    *,
    rejects_out: str | os.PathLike[str] | None = None,
    container: str | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ConvertResult:
    """Convert ``input_path`` into ``output_path`` in ``options.to`` (one of :data:`OUTPUT_TARGETS`), atomically.

    Every input line goes to the output or the rejects file (OUTPUT stem + ``.rejects.jsonl``). Fields
    the target cannot carry are counted in ``accounting.extra["dropped_fields"]`` (``{field: {"values",
    "rows"}}``) and listed as notes; with ``options.strict`` such rows are rejected (``dropped-field``).
    ``progress`` is called with byte counts as rows are read.
    """
    if options.to not in OUTPUT_TARGETS:
        raise ConfigError(f"unknown --to {options.to!r}; use one of: {', '.join(OUTPUT_TARGETS)}")
    if options.kto == "pairs":
        raise ConfigError(f"--kto pairs writes OpenAI DPO pairs: use --to dpo, not --to {options.to}")
    source, outputs, container, accounting = prepare_conversion(input_path, output_path, options,
                                                                rejects_out=rejects_out, container=container,
                                                                force=force)
    validate = _VALIDATORS[options.to]
    values: Counter[str] = Counter()
    rows: Counter[str] = Counter()
    detected = source is None
    with atomic_outputs(outputs, [input_path]) as (out, rejects):
        for row in reporting_rows(iter_rows(input_path, container), progress):
            accounting.inputs += 1
            if row.blank:
                accounting.blank += 1
                continue
            reasons = list(row.problems)
            if row.value is not None and not reasons:
                try:
                    source = row_source(row.value, source)
                    refuse_kto_false(row.value, source, options)
                    record, dropped = write_row(row.value, source, options)
                except Unconvertible as exc:
                    reasons.append(exc.reason)
                else:
                    reasons.extend(Reason(INVALID_OUTPUT, f"{options.to} row: {problem}")
                                   for problem in validate(record))
                    if options.to == "bedrock-nova":
                        reasons.extend(nova_reserved_words(record))
                    if options.strict and dropped:
                        reasons.append(Reason(DROPPED_FIELD, f"{options.to} cannot carry: "
                                              + ", ".join(f"{name} x{n}" for name, n in sorted(dropped.items()))))
                    try:
                        data = record_bytes(record)
                    except ValueError as exc:
                        reasons.append(Reason(INVALID_OUTPUT, f"the converted row cannot be written ({exc})"))
                    if not reasons:
                        out.write_line(data)
                        accounting.count_output("output")
                        values.update(dropped)
                        rows.update(dropped.keys())
                        continue
            rejects.write_line(reject_bytes(reasons, row.raw, line=row.line, record=row.record))
            if all(r.code == KTO_FALSE for r in reasons):
                accounting.set_aside += 1  # what --kto drop asks for: not a failure of the run
            accounting.count_reject(r.code for r in reasons)
    accounting.extra = {
        "convert": {"container": container, "from": source, "detected": detected, "to": options.to},
        "dropped_fields": {name: {"values": values[name], "rows": rows[name]} for name in sorted(values)},
    }
    accounting.notes.extend(f"dropped {name}: {values[name]} value(s) in {rows[name]} row(s) ({options.to} "
                            "cannot carry it; --strict rejects such rows)" for name in sorted(values))
    return ConvertResult(accounting, container, source or "unknown", detected)
