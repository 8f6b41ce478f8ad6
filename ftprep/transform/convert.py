"""Convert other fine-tuning formats into OpenAI chat, completions or DPO records.

Source formats (``--from``; detected from the first usable row when omitted):

``chat``                 OpenAI chat rows; legacy ``functions``/``function_call``/``function`` messages become
                         ``tools``/``tool_calls``/``tool`` messages; a top-level ``system`` (Bedrock,
                         Anthropic style, text or ``[{"text": ...}]``) becomes a system message and
                         Bedrock ``[{"text": ...}]`` contents become strings;
``completions``          ``prompt``/``completion``;
``alpaca``               ``instruction``/``input``/``output`` (+ optional ``system`` and ``history``);
``sharegpt``             ``conversations`` of ``from``/``value`` turns (human, gpt, system, function_call,
                         observation) and an optional ``tools`` list (or JSON string of one);
``sharegpt-preference``  ShareGPT ``conversations`` plus ``chosen``/``rejected`` turns;
``preference``           ``prompt``/``chosen``/``rejected`` (TRL style: strings or message lists);
``dpo``                  OpenAI DPO rows;
``map``                  any rows, with ``--map FIELD=POINTER`` naming where each target field is.

Each converted row is checked with the real rules (:class:`RecordChecker`); a row with errors, or one
that cannot be converted, goes to the rejects file with its finding codes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ftprep.errors import ConfigError
from ftprep.formats.detect import CHAT, COMPLETION, PREFERENCE, detect_format
from ftprep.jsonl.reader import metered
from ftprep.jsonl.writer import AtomicOutput, atomic_outputs, record_bytes
from ftprep.rules.nulls import NULL_FIELDS, strip_nulls
from ftprep.rules.schema import InvalidContent, UnrecognizedRecord
from ftprep.transform.pointer import MISSING, parse_pointer, resolve
from ftprep.transform.recheck import RecordChecker
from ftprep.transform.sources import SourceRow, detect_container, iter_rows
from ftprep.transform.split import output_with_rejects
from ftprep.transform.summary import Accounting, Reason, reject_bytes

TARGETS = {"chat": CHAT, "completions": COMPLETION, "dpo": PREFERENCE}
SOURCES = ("chat", "completions", "alpaca", "sharegpt", "sharegpt-preference", "preference", "dpo", "map")
MAP_FIELDS = {
    "chat": ("system", "user", "assistant"),
    "completions": ("prompt", "completion"),
    "dpo": ("system", "user", "chosen", "rejected"),
}
_MAP_SYNONYMS = {"prompt": "user", "completion": "assistant", "question": "user", "answer": "assistant"}
_DEFAULT_MODEL = {"chat": "gpt-4o-mini", "completions": "babbage-002", "dpo": "gpt-4o-mini"}
_METHOD = {"chat": "supervised", "completions": "supervised", "dpo": "dpo"}
_SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                   "system": "system", "function_call": "function_call", "observation": "observation",
                   "tool": "observation", "function": "observation"}

Message = dict[str, Any]
Progress = Callable[[int], None]
# The top-level keys each source's conversion reads: any other column of a row is not carried to the output,
# and is counted (or, with --strict, makes the row a reject). `--from map` reads what its pointers name.
CARRIED = {
    "chat": frozenset({"messages", "tools", "functions", "parallel_tool_calls"}),
    "sharegpt": frozenset({"conversations", "system", "tools"}),
    "alpaca": frozenset({"instruction", "input", "output", "system", "history"}),
    "completions": frozenset({"prompt", "completion"}),
    "dpo": frozenset({"input", "preferred_output", "non_preferred_output"}),
    "preference": frozenset({"prompt", "chosen", "rejected", "system"}),
    "sharegpt-preference": frozenset({"conversations", "chosen", "rejected", "system"}),
}
KTO_CHOICES = ("drop", "keep", "pairs")
# The reject reasons of convert's own choices (not findings of a rule).
KTO_FALSE = "kto-label-false"
KTO_UNPAIRED = "kto-unpaired"
NOT_KTO = "not-kto"
NOT_CARRIED = "not-carried"


class Unconvertible(Exception):
    """A row that cannot be converted: the finding code, the reason and where in the row."""

    def __init__(self, message: str, pointer: str | None = None, code: str = UnrecognizedRecord.code) -> None:
        super().__init__(message)
        self.reason = Reason(code, message, pointer)


@dataclass(frozen=True, slots=True)
class ConvertOptions:
    """What to convert to: target, source (None: detect), system prompt to add, field map."""

    to: str
    source: str | None = None
    system: str | None = None
    field_map: tuple[tuple[str, str], ...] = ()
    # Reject rows with fields the target cannot carry (targets of ftprep.transform.outputs) instead of
    # counting what was dropped.
    strict: bool = False
    # KTO rows (a boolean `label` beside a prompt and a completion): "drop" sets the label=false ones aside
    # (a bad answer is not a supervised target); "keep" converts every row and counts the dropped labels;
    # "pairs" (with to="dpo") pairs label=true and label=false rows of the same prompt (convert_kto_pairs).
    kto: str = "drop"


@dataclass(slots=True)
class ConvertResult:
    """What a conversion did: the detected container and source format, and the line accounting."""

    accounting: Accounting
    container: str
    source: str
    detected: bool


def reporting_rows(rows: Iterable[SourceRow], progress: Progress | None) -> Iterator[SourceRow]:
    """``rows`` as they are, calling ``progress`` with the bytes each took (its text and a newline), about once
    per megabyte and at the end."""
    return metered(rows, lambda row: len(row.raw) + 1, progress)


def detect_source(row: Mapping[str, Any]) -> str | None:
    """The source format of one row, or None when no known format fits."""
    if "conversations" in row:
        return "sharegpt-preference" if "chosen" in row and "rejected" in row else "sharegpt"
    kind = detect_format(dict(row))
    if kind == CHAT:
        return "chat"
    if kind == PREFERENCE:
        return "dpo"
    if "instruction" in row and "output" in row:
        return "alpaca"
    if "prompt" in row and "chosen" in row and "rejected" in row:
        return "preference"
    if kind == COMPLETION:
        return "completions"
    return None


def parse_field_map(items: Sequence[str], to: str) -> tuple[tuple[str, str], ...]:
    """``["user=/question", ...]`` -> ``(("user", "/question"), ...)``, validated for the target."""
    pairs = []
    allowed = MAP_FIELDS[to]
    for item in items:
        field, sep, path = item.partition("=")
        field = field.strip()
        if not sep or not path:
            raise ConfigError(f"--map {item!r}: write FIELD=POINTER, e.g. --map user=/question")
        if to == "completions":
            field = {"user": "prompt", "assistant": "completion"}.get(field, field)
        elif field not in allowed:
            field = _MAP_SYNONYMS.get(field, field)
        if field not in allowed:
            raise ConfigError(f"--map {item!r}: target {to} takes fields {', '.join(allowed)}")
        parse_pointer(path)
        pairs.append((field, path))
    return tuple(pairs)


def _text(value: Any, where: str) -> str:
    """A text field as a string: numbers and booleans are written out, anything else is unconvertible."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise Unconvertible(f"{where} must be text, not {type(value).__name__}", where, InvalidContent.code)


def _json_text(value: Any, where: str = "") -> str:
    if isinstance(value, str):
        return value
    try:
        return record_bytes(value).decode("utf-8")
    except ValueError as exc:
        raise Unconvertible(f"the value cannot be written as JSON ({exc})", where or None) from exc


def _tools(value: Any) -> list[dict[str, Any]]:
    """A tools list from a list or a JSON string of function definitions (wrapped as type=function)."""
    if isinstance(value, str):
        if not value.strip():
            return []
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise Unconvertible(f"tools is a string but not JSON ({exc})", "/tools") from exc
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise Unconvertible("tools must be a list of function definitions", "/tools")
    return [t if t.get("type") == "function" and "function" in t else {"type": "function", "function": t}
            for t in value]


class _Calls:
    """Generates call ids (``call_1``, ``call_2`` ... per row) and pairs results with open calls."""

    def __init__(self) -> None:
        self.count = 0
        self.open: list[tuple[str, str]] = []

    def call(self, name: str, arguments: Any) -> dict[str, Any]:
        self.count += 1
        call_id = f"call_{self.count}"
        self.open.append((call_id, name))
        return {"id": call_id, "type": "function", "function": {"name": name, "arguments": _json_text(arguments)}}

    def answer(self, name: str | None, where: str) -> str:
        for index, (call_id, call_name) in enumerate(self.open):
            if name is None or call_name == name:
                del self.open[index]
                return call_id
        raise Unconvertible("a tool result with no tool call before it", where)


def _function_call(value: Any, calls: _Calls, where: str) -> list[dict[str, Any]]:
    """ShareGPT ``function_call`` value (JSON text of {name, arguments} or a list of them) -> tool_calls."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise Unconvertible(f"function_call value is not JSON ({exc})", where) from exc
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise Unconvertible("function_call must be an object with a name", where)
        out.append(calls.call(item["name"], item.get("arguments", {})))
    return out


def _with_system(messages: list[Message], system: str | None) -> list[Message]:
    if system is not None and not any(m.get("role") == "system" for m in messages):
        return [{"role": "system", "content": system}, *messages]
    return messages


def sharegpt_messages(turns: Any, where: str = "/conversations") -> list[Message]:
    """ShareGPT turns -> chat messages (function_call -> assistant tool_calls, observation -> tool)."""
    if not isinstance(turns, list):
        raise Unconvertible("conversations must be a list of turns", where)
    calls = _Calls()
    messages: list[Message] = []
    for index, turn in enumerate(turns):
        at = f"{where}/{index}"
        if not isinstance(turn, dict):
            raise Unconvertible("a turn must be an object with from and value", at)
        role = _SHAREGPT_ROLES.get(str(turn.get("from", turn.get("role", ""))))
        value = turn.get("value", turn.get("content"))
        if role is None:
            raise Unconvertible(f"unknown turn role {turn.get('from')!r}", f"{at}/from")
        if role == "function_call":
            messages.append({"role": "assistant", "tool_calls": _function_call(value, calls, f"{at}/value")})
        elif role == "observation":
            messages.append({"role": "tool", "tool_call_id": calls.answer(None, at),
                             "content": _json_text(value)})
        else:
            messages.append({"role": role, "content": _text(value, f"{at}/value")})
    return messages


def _bedrock_content(content: Any, where: str) -> Any:
    """Bedrock ``[{"text": ...}]`` content -> one string; OpenAI content is kept as it is."""
    if isinstance(content, list) and content and all(isinstance(p, dict) and "type" not in p for p in content):
        if not all(set(p) == {"text"} for p in content):
            raise Unconvertible("only text parts of Bedrock content can be converted", where)
        return "\n".join(_text(p["text"], where) for p in content)
    return content


def chat_messages(row: Mapping[str, Any]) -> tuple[list[Message], list[dict[str, Any]] | None]:
    """An OpenAI/Bedrock chat row's messages and tools, legacy function calling rewritten as tools."""
    messages = row.get("messages")
    if not isinstance(messages, list):
        raise Unconvertible("messages must be a list", "/messages")
    calls = _Calls()
    out: list[Message] = []
    system = row.get("system")
    if system is not None:
        out.append({"role": "system", "content": _text(_bedrock_content(system, "/system"), "/system")})
    for index, message in enumerate(messages):
        at = f"/messages/{index}"
        if not isinstance(message, dict):
            raise Unconvertible("a message must be an object", at)
        message = dict(message)
        if "content" in message:
            message["content"] = _bedrock_content(message["content"], f"{at}/content")
        legacy = message.pop("function_call", None)
        if isinstance(legacy, dict):
            if not isinstance(message.setdefault("tool_calls", []), list):
                raise Unconvertible("tool_calls must be a list", f"{at}/tool_calls")
            message["tool_calls"].append(
                calls.call(str(legacy.get("name", "")), legacy.get("arguments", "{}")))
            if message.get("content") is None:
                message.pop("content", None)
        elif isinstance(message.get("tool_calls"), list):  # any other value is left to the schema rules
            for call in message["tool_calls"]:
                if isinstance(call, dict):
                    function = call.get("function")
                    name = function.get("name") if isinstance(function, dict) else None
                    calls.open.append((str(call.get("id", "")), str(name)))
        if message.get("role") == "function":
            message = {"role": "tool", "tool_call_id": calls.answer(message.get("name"), at),
                       "content": _json_text(message.get("content", ""))}
        out.append(message)
    tools = row.get("tools")
    if tools is None and row.get("functions") is not None:
        tools = row["functions"]
    return out, (_tools(tools) if tools is not None else None)


def _alpaca_messages(row: Mapping[str, Any]) -> list[Message]:
    messages: list[Message] = []
    if row.get("system"):
        messages.append({"role": "system", "content": _text(row["system"], "/system")})
    history = row.get("history") or []
    if not isinstance(history, list):
        raise Unconvertible("history must be a list of [prompt, answer] pairs", "/history")
    for index, pair in enumerate(history):
        if not isinstance(pair, list) or len(pair) != 2:
            raise Unconvertible("history must be a list of [prompt, answer] pairs", f"/history/{index}")
        messages += [{"role": "user", "content": _text(pair[0], f"/history/{index}/0")},
                     {"role": "assistant", "content": _text(pair[1], f"/history/{index}/1")}]
    instruction = _text(row.get("instruction", ""), "/instruction")
    extra = row.get("input")
    prompt = instruction if not extra else f"{instruction}\n\n{_text(extra, '/input')}"
    messages += [{"role": "user", "content": prompt},
                 {"role": "assistant", "content": _text(row.get("output"), "/output")}]
    return messages


def _as_turns(value: Any, where: str) -> list[Message]:
    """A preference side or prompt: a string (one message), one turn/message, or a list of them."""
    if isinstance(value, str):
        return [{"role": "assistant", "content": value}]
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        turns = [v if "role" in v else {"from": v.get("from"), "value": v.get("value")} for v in value]
        return [t if "role" in t else sharegpt_messages([t], where)[0] for t in turns]
    raise Unconvertible("expected text, a message or a list of messages", where)


def _dpo_prompt(row: Mapping[str, Any]) -> list[Message]:
    """The prompt messages of an OpenAI DPO row (``input.messages``), each an object."""
    given = row.get("input")
    messages = given.get("messages") if isinstance(given, dict) else None
    if not isinstance(messages, list):
        raise Unconvertible("input.messages must be a list", "/input/messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise Unconvertible("a message must be an object", f"/input/messages/{index}")
    return list(messages)


def _mapped(row: Mapping[str, Any], field_map: Sequence[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, path in field_map:
        found = resolve(row, parse_pointer(path))
        if found is MISSING or found is None:
            raise Unconvertible(f"--map {name}={path}: the row has no value there", path)
        values[name] = _text(found, path)
    return values


def _source_conversation(source: str, row: Mapping[str, Any], options: ConvertOptions
                         ) -> tuple[list[Message], list[dict[str, Any]] | None]:
    """Messages (and tools) of a row in a supervised source format."""
    if source == "chat":
        return chat_messages(row)
    if source == "sharegpt":
        messages = sharegpt_messages(row.get("conversations"))
        if isinstance(row.get("system"), str) and row["system"]:
            messages = [{"role": "system", "content": row["system"]}, *messages]
        tools = _tools(row["tools"]) if row.get("tools") else None
        return messages, tools
    if source == "alpaca":
        return _alpaca_messages(row), None
    if source == "completions":
        return [{"role": "user", "content": _text(row.get("prompt"), "/prompt")},
                {"role": "assistant", "content": _text(row.get("completion"), "/completion")}], None
    if source == "dpo":
        return [*_dpo_prompt(row), *_as_turns(row.get("preferred_output"), "/preferred_output")], None
    if source == "map":
        values = _mapped(row, options.field_map)
        messages = [{"role": "system", "content": values["system"]}] if "system" in values else []
        user = values.get("user", values.get("prompt"))
        answer = values.get("assistant", values.get("completion"))
        if user is None or answer is None:
            raise Unconvertible("--map needs a user (prompt) and an assistant (completion) field")
        return [*messages, {"role": "user", "content": user}, {"role": "assistant", "content": answer}], None
    raise Unconvertible(f"{source} rows cannot be converted to this target")


def _to_chat(source: str, row: Mapping[str, Any], options: ConvertOptions) -> dict[str, Any]:
    if source in ("sharegpt-preference", "preference"):
        prompt, chosen, _ = _preference_parts(source, row, options)
        messages, tools = [*prompt, *chosen], None
    else:
        messages, tools = _source_conversation(source, row, options)
    record: dict[str, Any] = {"messages": _with_system(messages, options.system)}
    if tools:
        record["tools"] = tools
    if source == "chat" and "parallel_tool_calls" in row:
        record["parallel_tool_calls"] = row["parallel_tool_calls"]
    return record


def _to_completions(source: str, row: Mapping[str, Any], options: ConvertOptions) -> dict[str, Any]:
    if source == "completions":
        return {"prompt": _text(row.get("prompt"), "/prompt"),
                "completion": _text(row.get("completion"), "/completion")}
    if source == "map":
        values = _mapped(row, options.field_map)
        if "prompt" not in values or "completion" not in values:
            raise Unconvertible("--map needs prompt and completion fields for --to completions")
        return {"prompt": values["prompt"], "completion": values["completion"]}
    messages, _ = _source_conversation(source, row, options)
    texts = [m for m in messages if m.get("role") != "system"]
    if len(texts) != 2 or texts[0].get("role") != "user" or texts[1].get("role") != "assistant":
        raise Unconvertible("only single-turn rows (one user and one assistant message) fit completions")
    given = next((m for m in messages if m.get("role") == "system"), None)
    system = options.system if given is None else _text(given.get("content"), "/system")
    prompt = _text(texts[0].get("content"), "/prompt")
    return {"prompt": f"{system}\n\n{prompt}" if system else prompt,
            "completion": _text(texts[1].get("content"), "/completion")}


def _preference_parts(source: str, row: Mapping[str, Any], options: ConvertOptions
                      ) -> tuple[list[Message], list[Message], list[Message]]:
    """(prompt messages, preferred output, non-preferred output) of a preference row."""
    if source == "sharegpt-preference":
        prompt = sharegpt_messages(row.get("conversations"))
        if isinstance(row.get("system"), str) and row["system"]:
            prompt = [{"role": "system", "content": row["system"]}, *prompt]
        return prompt, _as_turns(row.get("chosen"), "/chosen"), _as_turns(row.get("rejected"), "/rejected")
    if source == "preference":
        given = row.get("prompt")
        prompt = ([{"role": "user", "content": given}] if isinstance(given, str)
                  else _as_turns(given, "/prompt"))
        return prompt, _as_turns(row.get("chosen"), "/chosen"), _as_turns(row.get("rejected"), "/rejected")
    if source == "dpo":
        return (_dpo_prompt(row), _as_turns(row.get("preferred_output"), "/preferred_output"),
                _as_turns(row.get("non_preferred_output"), "/non_preferred_output"))
    if source == "map":
        values = _mapped(row, options.field_map)
        missing = [f for f in ("user", "chosen", "rejected") if f not in values]
        if missing:
            raise Unconvertible(f"--map needs {', '.join(missing)} for --to dpo")
        prompt = [{"role": "system", "content": values["system"]}] if "system" in values else []
        return ([*prompt, {"role": "user", "content": values["user"]}],
                [{"role": "assistant", "content": values["chosen"]}],
                [{"role": "assistant", "content": values["rejected"]}])
    hint = " (KTO rows: --kto pairs pairs them by prompt)" if isinstance(row.get("label"), bool) else ""
    raise Unconvertible(f"{source} rows hold no preferred/non-preferred pair; DPO needs one{hint}")


def _to_dpo(source: str, row: Mapping[str, Any], options: ConvertOptions) -> dict[str, Any]:
    prompt, chosen, rejected = _preference_parts(source, row, options)
    return {"input": {"messages": _with_system(prompt, options.system)},
            "preferred_output": chosen, "non_preferred_output": rejected}


_CONVERTERS: dict[str, Callable[[str, Mapping[str, Any], ConvertOptions], dict[str, Any]]] = {
    "chat": _to_chat, "completions": _to_completions, "dpo": _to_dpo,
}


def refuse_kto_false(row: Mapping[str, Any], source: str, options: ConvertOptions) -> bool:
    """Whether ``row`` is a KTO row (a boolean ``label`` beside a supervised example); raises
    :class:`Unconvertible` (``kto-label-false``) for a label=false row under ``--kto drop``: a bad answer
    must not become a supervised target."""
    kto = isinstance(row.get("label"), bool) and source in ("chat", "completions")
    if kto and row["label"] is False and options.kto == "drop":
        raise Unconvertible("KTO row with label=false: a bad answer, not a training target "
                            "(--kto keep converts it anyway)", "/label", KTO_FALSE)
    return kto


def convert_row(row: Mapping[str, Any], source: str, options: ConvertOptions) -> dict[str, Any]:
    """Convert one row from ``source`` to ``options.to``; raises :class:`Unconvertible`."""
    return _CONVERTERS[options.to](source, row, options)


def row_source(row: Mapping[str, Any], source: str | None) -> str:
    """The source format of a conversion: ``source`` when known (given, or detected from an earlier row), else
    detected from ``row``; :class:`Unconvertible` when the row is in no known format."""
    found = source or detect_source(row)
    if found is None:
        keys = ", ".join(list(row)[:6]) or "no keys"
        raise Unconvertible(f"row is in no known format (keys: {keys}); pass --from or --map", "")
    return found


def prepare_conversion(input_path: str | os.PathLike[str], output_path: str | os.PathLike[str],
                       options: ConvertOptions, *, rejects_out: str | os.PathLike[str] | None, container: str | None,
                       force: bool) -> tuple[str | None, list[AtomicOutput], str, Accounting]:
    """What every conversion starts with: the source format (None: detect it from the first row), the output and
    rejects files (OUTPUT stem + ``.rejects.jsonl`` unless named), the input container and the accounting.
    Raises :class:`ConfigError` for a bad ``--from``, ``--map`` or input."""
    source = options.source or ("map" if options.field_map else None)
    if source is not None and source not in SOURCES:
        raise ConfigError(f"unknown --from {source!r}; use one of: {', '.join(SOURCES)}")
    if source == "map" and not options.field_map:
        raise ConfigError("--from map needs --map FIELD=POINTER options")
    if str(input_path) == "-":
        raise ConfigError("convert needs an input file path, not '-'")
    outputs = output_with_rejects(output_path, rejects_out, force=force)
    container = container or detect_container(input_path)
    accounting = Accounting(unit="line" if container == "jsonl" else "row")
    accounting.output("output", str(outputs[0].path))
    accounting.paths["rejects"] = str(outputs[1].path)
    return source, outputs, container, accounting


def convert_file(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    options: ConvertOptions,
    *,
    rejects_out: str | os.PathLike[str] | None = None,
    model: str | None = None,
    container: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> ConvertResult:
    """Convert ``input_path`` into ``output_path`` (JSONL in the target format), atomically.

    Rows that cannot be converted, or whose converted record has an error under ``ftprep check``'s rules
    (for ``model``, default gpt-4o-mini, or babbage-002 for completions), go to the rejects file
    (OUTPUT stem + ``.rejects.jsonl`` by default, only created when needed). Raises :class:`ConfigError`
    for bad options or outputs and :class:`InputError` for unreadable input. The targets trl, vertex,
    bedrock-nova and bedrock-haiku are written by :func:`ftprep.transform.outputs.convert_file_to`.

    ``options.kto == "pairs"`` (with ``to="dpo"``) reads KTO rows (a prompt and a completion, or chat messages
    ending with the answer, beside a boolean ``label``) and writes one DPO record per pair of rows whose prompts
    are equal (the prompt as chat messages, tools included, compared by a 128-bit digest of its canonical JSON):
    for each prompt, its first label=true row pairs with its first label=false row, the second with the second,
    and so on, in input order; a pair is written where its later row is. Two input lines make one output record
    (the accounting says so); rows left over go to the rejects file (``kto-unpaired``, set aside: exit 0), and
    rows that are not KTO rows too (``not-kto``). ``progress`` is called with byte counts as rows are read (twice
    for pairs).
    """
    if options.to not in TARGETS:
        raise ConfigError(f"unknown --to {options.to!r}; use one of: {', '.join(TARGETS)}")
    if options.kto == "pairs" and options.to != "dpo":
        raise ConfigError(f"--kto pairs writes DPO pairs: use --to dpo, not --to {options.to}")
    source, outputs, container, accounting = prepare_conversion(input_path, output_path, options,
                                                                rejects_out=rejects_out, container=container,
                                                                force=force)
    checker = RecordChecker(model or _DEFAULT_MODEL[options.to], _METHOD[options.to])
    detected = source is None
    if options.kto == "pairs":
        source = _convert_kto_pairs(input_path, outputs, container, accounting, checker, source, options, progress)
    else:
        source = _convert_rows(input_path, outputs, container, accounting, checker, source, options, progress)
    accounting.extra = {"convert": {"container": container, "from": source, "detected": detected,
                                    "to": options.to}}
    return ConvertResult(accounting, container, source or "unknown", detected)


def _convert_rows(input_path: str | os.PathLike[str], outputs: list[AtomicOutput], container: str,
                  accounting: Accounting, checker: RecordChecker, source: str | None, options: ConvertOptions,
                  progress: Progress | None) -> str | None:
    """Convert row by row (see :func:`convert_file`); returns the source format (None: no row had one)."""
    target_kind = TARGETS[options.to]
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
                    # A DataFrame round trip's nulls (FT215) are absent fields: dropped, and counted.
                    value, removed = strip_nulls(row.value)
                    kto = refuse_kto_false(value, source, options)
                    lost = [key for key in value if key not in CARRIED[source] and not (kto and key == "label"
                            and options.kto == "drop")] if source in CARRIED else []
                    if lost and options.strict:
                        raise Unconvertible(f"--strict: {', '.join(map(repr, lost))} cannot be carried to "
                                            f"{options.to}", "", NOT_CARRIED)
                    record, also = strip_nulls(convert_row(value, source, options))
                    dropped = len(removed) + len(also)
                except Unconvertible as exc:
                    reasons.append(exc.reason)
                else:
                    try:
                        data = record_bytes(record)
                    except ValueError as exc:
                        reasons.append(Reason(InvalidContent.code, f"the converted row cannot be written ({exc})"))
                        data = b""
                    else:
                        reasons.extend(Reason.of(f) for f in checker.errors(data))
                    if not reasons and detect_format(record) != target_kind:
                        reasons.append(Reason(UnrecognizedRecord.code, f"converted row is not {options.to}"))
                    if not reasons:
                        out.write_line(data)
                        accounting.count_output("output")
                        if dropped:
                            accounting.drop(NULL_FIELDS, dropped)
                        for key in lost:
                            accounting.drop(key)
                        continue
            rejects.write_line(reject_bytes(reasons, row.raw, line=row.line, record=row.record))
            accounting.count_reject(r.code for r in reasons)
            if all(r.code == KTO_FALSE for r in reasons):
                accounting.set_aside += 1  # what --kto drop asks for: not a failure of the run
    return source


@dataclass(frozen=True, slots=True)
class KtoRow:
    """A KTO row read for pairing: the DPO input its prompt makes, its completion, its label, and what it loses."""

    given: dict[str, Any]
    completion: list[Message]
    label: bool
    nulls: int
    lost: tuple[str, ...]

    def key(self) -> bytes:
        """The prompt's identity: a 128-bit BLAKE2 digest of its canonical JSON (the same for equal prompts)."""
        try:
            text = orjson.dumps(self.given, option=orjson.OPT_SORT_KEYS)
        except (TypeError, ValueError) as exc:
            raise Unconvertible(f"the prompt cannot be written as JSON ({exc})", "") from exc
        return hashlib.blake2b(text, digest_size=16).digest()


def kto_row(row: dict[str, Any], source: str, options: ConvertOptions) -> KtoRow:
    """A KTO row (a chat row ending with the answer, or prompt/completion, beside a boolean ``label``) with its
    prompt as chat messages (``--system`` applied); raises :class:`Unconvertible` for any other row."""
    value, removed = strip_nulls(row)
    label = value.get("label")
    if not isinstance(label, bool) or source not in ("chat", "completions"):
        raise Unconvertible("--kto pairs reads KTO rows: a prompt and a completion (or chat messages ending with "
                            "the answer) beside a true/false label", "/label" if "label" in value else "", NOT_KTO)
    lost = tuple(key for key in value if key not in CARRIED[source] and key != "label")
    if lost and options.strict:
        raise Unconvertible(f"--strict: {', '.join(map(repr, lost))} cannot be carried to dpo", "", NOT_CARRIED)
    tools = None
    if source == "chat":
        messages, tools = chat_messages(value)
        if not messages or messages[-1].get("role") != "assistant":
            raise Unconvertible("a KTO chat row must end with the assistant's answer", "/messages")
        prompt, completion = messages[:-1], messages[-1:]
    else:
        given = value.get("prompt")
        prompt = [{"role": "user", "content": given}] if isinstance(given, str) else _as_turns(given, "/prompt")
        answer = value.get("completion")
        completion = (_as_turns(answer, "/completion") if isinstance(answer, list | dict)
                      else [{"role": "assistant", "content": _text(answer, "/completion")}])
    dpo_input: dict[str, Any] = {"messages": _with_system(prompt, options.system)}
    if tools:
        dpo_input["tools"] = tools
    return KtoRow(dpo_input, completion, label, len(removed), lost)


@dataclass(slots=True)
class _PairPlan:
    """Which row pairs with which (row numbers count every input row from 0), and the rows left over with the
    counts of their prompt's labels."""

    partner: dict[int, int] = field(default_factory=dict)
    left_over: dict[int, tuple[int, int]] = field(default_factory=dict)


def _plan_pairs(input_path: str | os.PathLike[str], container: str, source: str | None,
                options: ConvertOptions, progress: Progress | None) -> _PairPlan:
    """The first pass of ``--kto pairs``: group rows by prompt digest (row numbers only, never the rows) and pair
    the n-th label=true row of each prompt with its n-th label=false row, in input order."""
    groups: dict[bytes, tuple[list[int], list[int]]] = {}
    for index, row in enumerate(reporting_rows(iter_rows(input_path, container), progress)):
        if row.value is None or row.problems:
            continue
        try:
            source = row_source(row.value, source)  # as the second pass detects it, row by row
            read = kto_row(row.value, source, options)
            key = read.key()
        except Unconvertible:
            continue  # the second pass rejects it with the reason
        groups.setdefault(key, ([], []))[0 if read.label else 1].append(index)
    plan = _PairPlan()
    for trues, falses in groups.values():
        for good, bad in zip(trues, falses, strict=False):
            plan.partner[good] = bad
            plan.partner[bad] = good
        for index in trues[len(falses):] + falses[len(trues):]:
            plan.left_over[index] = (len(trues), len(falses))
    return plan


def _convert_kto_pairs(input_path: str | os.PathLike[str], outputs: list[AtomicOutput], container: str,
                       accounting: Accounting, checker: RecordChecker, source: str | None, options: ConvertOptions,
                       progress: Progress | None) -> str | None:
    """``--kto pairs``: one DPO record per label=true/label=false pair of rows with the same prompt (see
    :func:`convert_file`); returns the source format (None: no row had one).

    Two passes: the first keeps a 16-byte digest and the row numbers per prompt; the second writes each pair when
    its later row is read, holding the earlier row of each pair not yet complete (its completion and bytes).
    """
    plan = _plan_pairs(input_path, container, source, options, progress)
    accounting.output("output", accounting.paths["output"], per_record=2)
    waiting: dict[int, tuple[KtoRow, SourceRow]] = {}
    with atomic_outputs(outputs, [input_path]) as (out, rejects):

        def reject(row: SourceRow, reasons: list[Reason]) -> None:
            rejects.write_line(reject_bytes(reasons, row.raw, line=row.line, record=row.record))
            accounting.count_reject(r.code for r in reasons)
            if all(r.code == KTO_UNPAIRED for r in reasons):
                accounting.set_aside += 1  # what --kto pairs asks for: not a failure of the run

        for index, row in enumerate(reporting_rows(iter_rows(input_path, container), progress)):
            accounting.inputs += 1
            if row.blank:
                accounting.blank += 1
                continue
            if row.value is None or row.problems:
                reject(row, list(row.problems))
                continue
            try:
                source = row_source(row.value, source)
                read = kto_row(row.value, source, options)
                other = plan.partner.get(index)
                if other is None:
                    trues, falses = plan.left_over[index]
                    raise Unconvertible(
                        f"label={str(read.label).lower()} row left without a pair: its prompt has {trues} label=true "
                        f"and {falses} label=false row(s), paired in input order", "/label", KTO_UNPAIRED)
            except Unconvertible as exc:
                reject(row, [exc.reason])
                continue
            if other > index:
                waiting[index] = (read, row)
                continue
            first, first_row = waiting.pop(other)
            good, bad = (first, read) if first.label else (read, first)
            record, _ = strip_nulls({"input": read.given, "preferred_output": good.completion,
                                     "non_preferred_output": bad.completion})
            try:
                data = record_bytes(record)
            except ValueError as exc:
                reasons = [Reason(InvalidContent.code, f"the DPO pair cannot be written ({exc})")]
            else:
                reasons = [Reason.of(f) for f in checker.errors(data)]
            if reasons:
                where = [f"line {r.line}" if r.line is not None else f"record {r.record}" for r in (first_row, row)]
                pair = Reason(reasons[0].code, f"the DPO pair of {where[0]} and {where[1]} has errors", None)
                for rejected in (first_row, row):
                    reject(rejected, [pair, *reasons])
                continue
            out.write_line(data)
            accounting.count_output("output")
            for member in (first, read):
                if member.nulls:
                    accounting.drop(NULL_FIELDS, member.nulls)
                for key in member.lost:
                    accounting.drop(key)
    return source
