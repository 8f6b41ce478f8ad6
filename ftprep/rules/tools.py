"""FT230-FT249: tool and function definitions and calls; FT320-FT339: the tool-call graph of an example.

Used for chat rows (supervised and reinforcement) and, through the same functions, for DPO inputs and
outputs. Parameter schemas are compiled once per distinct schema (keyed by its canonical JSON), so a file
whose every row repeats the same tool list validates each schema once.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from ftprep.formats.detect import CHAT
from ftprep.lint.context import Record, RecordContext, record_check
from ftprep.lint.finding import Severity, json_text, pointer
from ftprep.lint.registry import Rule, register
from ftprep.rules.facts import TOOLS, chat_facts
from ftprep.rules.schema import NAME_RE
from ftprep.rules.simple_schema import SimpleSchema, simple_schema

if TYPE_CHECKING:  # jsonschema is imported when the first parameters schema is compiled (start-up time)
    from jsonschema.protocols import Validator

Where = tuple[str | int, ...]
TOOL_KEYS = frozenset({"type", "function"})
FUNCTION_KEYS = frozenset({"name", "description", "parameters", "strict"})
CALL_KEYS = frozenset({"id", "type", "function"})
CALLED_FUNCTION_KEYS = frozenset({"name", "arguments"})
_MESSAGE_LIMIT = 160
_VERDICTS_MAX = 4096


@register
class InvalidToolDefinition(Rule):
    """What it does
    Flags a `tools` or `functions` value that is not a non-empty array, a tool that is not
    `{"type": "function", "function": {...}}`, and unknown keys or wrong types in a function definition
    (`description` must be a string, `strict` a boolean).

    Why it matters
    The API rejects the whole file at the first malformed tool; definitions copied from other SDKs
    (`{"name": ..., "input_schema": ...}`, a bare function without the `type`/`function` wrapper) look right.

    Example
    `"tools": [{"name": "get_weather", "parameters": {...}}]` (missing the wrapper)

    Fix
    Wrap each function: `{"type": "function", "function": {"name": "get_weather", "description": "...",
    "parameters": {...}}}`.
    """

    code = "FT230"
    name = "invalid-tool-definition"
    severity = Severity.ERROR


@register
class InvalidToolName(Rule):
    """What it does
    Flags a tool or function definition whose `name` is missing or is not 1-64 letters, digits,
    underscores or hyphens.

    Why it matters
    The API validates function names with `^[a-zA-Z0-9_-]{1,64}$`; dots and spaces (`weather.get`,
    `Get Weather`) are rejected.

    Example
    `{"type": "function", "function": {"name": "weather.get"}}`

    Fix
    Rename the function (`weather_get`) in the definition and in every call of it.
    """

    code = "FT231"
    name = "invalid-tool-name"
    severity = Severity.ERROR


@register
class DuplicateToolName(Rule):
    """What it does
    Flags a tool or function defined twice in the same example.

    Why it matters
    Names identify the function a call goes to; two definitions of one name are rejected.

    Example
    `"tools": [{"type": "function", "function": {"name": "search"}}, {"type": "function", "function":
    {"name": "search"}}]`

    Fix
    Keep one definition, or give the second function its own name.
    """

    code = "FT232"
    name = "duplicate-tool-name"
    severity = Severity.ERROR


@register
class InvalidParametersSchema(Rule):
    """What it does
    Flags a function `parameters` value that is not an object, is not a valid JSON Schema (checked with the
    `jsonschema` library against the schema's declared dialect, 2020-12 by default), or whose top-level
    `type` is not `object`.

    Why it matters
    The API compiles every parameters schema; an invalid one (`"type": "str"`, `"required": "city"`) fails
    the upload or the job.

    Example
    `"parameters": {"type": "object", "properties": {"city": {"type": "str"}}}`

    Fix
    Use JSON Schema types (string, number, integer, boolean, array, object, null), `required` as an array,
    and an object at the top level.
    """

    code = "FT233"
    name = "invalid-parameters-schema"
    severity = Severity.ERROR


@register
class ToolsAndFunctions(Rule):
    """What it does
    Flags an example that has both `tools` and the legacy `functions`.

    Why it matters
    The two are alternatives; the API rejects examples that mix them.

    Example
    `{"messages": [...], "tools": [...], "functions": [...]}`

    Fix
    Move the functions into `tools` (each as `{"type": "function", "function": {...}}`) and use
    `tool_calls` in the assistant messages.
    """

    code = "FT234"
    name = "tools-and-functions"
    severity = Severity.ERROR


@register
class InvalidParallelToolCalls(Rule):
    """What it does
    Flags a `parallel_tool_calls` value that is not `true` or `false`.

    Why it matters
    The API takes a boolean; strings such as `"false"` are rejected.

    Example
    `{"messages": [...], "tools": [...], "parallel_tool_calls": "false"}`

    Fix
    Write `"parallel_tool_calls": false` (no quotes), or drop the key.
    """

    code = "FT235"
    name = "invalid-parallel-tool-calls"
    severity = Severity.ERROR


@register
class InvalidToolCall(Rule):
    """What it does
    Flags an assistant `tool_calls` value that is not a non-empty array, and a call without a string `id`,
    without `"type": "function"`, without a `function` object with a string `name` and `arguments`, or with
    unknown keys. The legacy `function_call` (`{"name", "arguments"}`) is checked the same way.

    Why it matters
    The API rejects the example; exports from agent frameworks often flatten the call
    (`{"name": ..., "arguments": ...}` directly in `tool_calls`).

    Example
    `"tool_calls": [{"name": "get_weather", "arguments": "{}"}]`

    Fix
    Write each call as `{"id": "call_1", "type": "function", "function": {"name": "get_weather",
    "arguments": "{\\"city\\": \\"Paris\\"}"}}`.
    """

    code = "FT236"
    name = "invalid-tool-call"
    severity = Severity.ERROR


@register
class ArgumentsNotString(Rule):
    """What it does
    Flags a call whose `function.arguments` is a JSON object (or any other non-string) instead of a string
    holding JSON.

    Why it matters
    This is the most common tool-calling mistake: the API wants the arguments serialised, exactly as the
    model writes them, and rejects an object.

    Example
    `"function": {"name": "get_weather", "arguments": {"city": "Paris"}}`

    Fix
    Serialise the arguments: `"arguments": "{\\"city\\": \\"Paris\\"}"` (`json.dumps(args)`).
    """

    code = "FT237"
    name = "arguments-not-string"
    severity = Severity.ERROR


@register
class InvalidArgumentsJson(Rule):
    """What it does
    Flags a call whose `arguments` string is not valid JSON, or is JSON but not an object.

    Why it matters
    The model learns to write exactly these characters; broken JSON teaches it to emit calls that no
    program can parse.

    Example
    `"arguments": "{city: Paris}"` or `"arguments": "Paris"`

    Fix
    Write the arguments with a JSON library: `json.dumps({"city": "Paris"})`.
    """

    code = "FT238"
    name = "invalid-arguments-json"
    severity = Severity.ERROR


@register
class ArgumentsSchemaMismatch(Rule):
    """What it does
    Flags a call whose arguments do not validate against the `parameters` schema of the tool it calls
    (a missing required argument, a wrong type, a value outside an enum).

    Why it matters
    The model learns to make calls the tool would refuse; at inference those calls fail.

    Example
    Tool `takeoff` requires `{"altitude": integer}`; the call has `"arguments": "{\\"altitude\\": \\"high\\"}"`.

    Fix
    Correct the arguments, or the schema if the arguments are what the tool really takes.
    """

    code = "FT239"
    name = "arguments-schema-mismatch"
    severity = Severity.WARNING


@register
class UndeclaredTool(Rule):
    """What it does
    Flags a tool call (or legacy function call) whose function name is not defined in the example's
    `tools` (or `functions`).

    Why it matters
    The model learns to call a function it was never shown, so at inference it invents calls to tools that
    do not exist; usually a tool list was dropped or a function renamed.

    Example
    `"tools": [{"type": "function", "function": {"name": "search"}}]` and a call of `"lookup"`.

    Fix
    Add the function's definition to `tools`, or correct the name in the call.
    """

    code = "FT240"
    name = "undeclared-tool"
    severity = Severity.WARNING


@register
class DuplicateToolCallId(Rule):
    """What it does
    Flags a tool-call `id` used by more than one call in the same example.

    Why it matters
    Tool messages name the call they answer by its id; with two calls of one id the answers cannot be
    matched and the API rejects the example.

    Example
    Two calls in one assistant message, both with `"id": "call_1"`.

    Fix
    Give every call of the example its own id (`call_1`, `call_2`, ...) and update the tool messages.
    """

    code = "FT320"
    name = "duplicate-tool-call-id"
    severity = Severity.ERROR


@register
class UnansweredToolCall(Rule):
    """What it does
    Flags a tool call that no `tool` message answers (by `tool_call_id`) before the next assistant
    message. A call in the last message of the example needs no answer: it is the training target.

    Why it matters
    The API requires every call in the conversation history to be followed by its result; a missing
    result also teaches the model to go on without the tool's answer.

    Example
    assistant calls `get_weather` (id `call_1`), then another assistant message follows with no tool
    message between.

    Fix
    Add `{"role": "tool", "tool_call_id": "call_1", "content": "..."}` after the call.
    """

    code = "FT321"
    name = "unanswered-tool-call"
    severity = Severity.ERROR


@register
class ToolCallAnsweredTwice(Rule):
    """What it does
    Flags a second `tool` (or legacy `function`) message answering a call that was already answered.

    Why it matters
    Each call has exactly one result; a duplicate usually comes from a merge of two traces and the API
    rejects it.

    Example
    Two `{"role": "tool", "tool_call_id": "call_1", ...}` messages after one call.

    Fix
    Keep one result per call (merge the two contents if both matter).
    """

    code = "FT322"
    name = "tool-call-answered-twice"
    severity = Severity.ERROR


@register
class OrphanToolMessage(Rule):
    """What it does
    Flags a `tool` message without a `tool_call_id`, or whose id matches no call of the assistant message
    before it; and a legacy `function` message with no `function_call` before it.

    Why it matters
    A tool result must answer a call; an orphan result is rejected by the API and, in the training data,
    shows a tool speaking on its own.

    Example
    `{"role": "tool", "tool_call_id": "call_9", "content": "..."}` when the assistant made only `call_1`.

    Fix
    Correct the `tool_call_id` to the id of the call it answers, or remove the message.
    """

    code = "FT323"
    name = "orphan-tool-message"
    severity = Severity.ERROR


@dataclass(frozen=True, slots=True)
class CompiledSchema:
    """A parameters schema compiled once: its validator, or why it is invalid.

    ``verdicts`` caches the validation message (None: valid) per arguments string: datasets repeat the
    same calls, and validation is the costliest step of the tool checks. A flat object schema (most tools)
    has ``simple``, its fast acceptance test, and its jsonschema validator is built the first time a call
    needs it (``schema`` is kept for that), so a dataset whose calls all pass never imports jsonschema.
    """

    validator: Validator | None
    error: str | None
    error_path: tuple[str | int, ...] = ()
    verdicts: dict[str, str | None] = field(default_factory=dict, compare=False, hash=False)
    simple: SimpleSchema | None = field(default=None, compare=False, hash=False)
    schema: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    _built: list[Validator] = field(default_factory=list, compare=False, hash=False)

    def check(self, arguments: str, parsed: Any) -> str | None:
        """Why ``parsed`` (the JSON of ``arguments``) does not match the schema, or None."""
        if self.simple is not None and self.simple.accepts(parsed):
            return None
        if arguments in self.verdicts:
            return self.verdicts[arguments]
        from jsonschema.exceptions import best_match

        validator = self._validator()
        error = best_match(validator.iter_errors(parsed)) if validator is not None else None
        verdict = None
        if error is not None:
            at = "/".join(str(p) for p in error.absolute_path)
            verdict = (f" at {at}" if at else "") + f": {_short(error.message)}"
        if len(self.verdicts) >= _VERDICTS_MAX:
            self.verdicts.clear()
        self.verdicts[arguments] = verdict
        return verdict

    def _validator(self) -> Validator | None:
        if self.validator is not None or self.schema is None:
            return self.validator
        if not self._built:
            from jsonschema import Draft202012Validator

            self._built.append(Draft202012Validator(self.schema))
        return self._built[0]


def canonical_json(value: Any) -> bytes:
    """Key-sorted JSON bytes of a value (the cache key of a schema)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        # Integers beyond 64 bits are valid JSON that orjson cannot write.
        return json.dumps(value, sort_keys=True).encode()


@lru_cache(maxsize=4096)
def compile_schema(canonical: bytes) -> CompiledSchema:
    """Check and compile a parameters schema given as canonical JSON (cached: identical tools compile once)."""
    try:
        schema = orjson.loads(canonical)
    except orjson.JSONDecodeError:
        schema = json.loads(canonical)
    simple = simple_schema(schema)
    if simple is not None:
        # Valid by construction (a flat object schema the 2020-12 meta-schema accepts): no jsonschema yet.
        return CompiledSchema(None, None, simple=simple, schema=schema)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    with warnings.catch_warnings():
        # An unknown "$schema" falls back to 2020-12 with a DeprecationWarning; the fallback is what we want.
        warnings.simplefilter("ignore", DeprecationWarning)
        cls = validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        return CompiledSchema(None, _short(exc.message), tuple(exc.absolute_path))
    if schema.get("type", "object") != "object":
        return CompiledSchema(None, f"top-level type is {json_text(schema['type'])}; parameters must be an "
                              "object schema", ("type",))
    return CompiledSchema(cls(schema), None)


def _short(text: str) -> str:
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number",
            float: "number"}.get(type(value), type(value).__name__)


# Declared functions of one example: name -> compiled parameters (None: no or invalid parameters).
Declared = dict[str, CompiledSchema | None]


# Declared functions of `tools` lists that had no finding, by (rule selection, base, the list's JSON): most
# datasets repeat one list in every example, which is then checked once. Bounded in entries and in the bytes
# of JSON kept (a file whose every example declares other tools must not grow it without end).
_CLEAN_TOOLS: dict[tuple[frozenset[str], Where, bytes], Declared] = {}
_CLEAN_TOOLS_BYTES = [0]
_CLEAN_TOOLS_MAX_BYTES = 4 * 1024 * 1024


def check_definitions(holder: Mapping[str, Any], ctx: RecordContext, base: Where = ()) -> Declared | None:
    """Check ``tools``, ``functions`` and ``parallel_tool_calls`` of ``holder`` (a chat record or a DPO input).

    Returns the declared functions by name (not to be changed: it may be shared between examples), or
    None when the example declares none.
    """
    tools = holder.get("tools")
    if tools is None or "functions" in holder or not isinstance(holder.get("parallel_tool_calls", False), bool):
        return _check_definitions(holder, ctx, base)
    try:
        key = (ctx.enabled, base, orjson.dumps(tools))
    except (orjson.JSONEncodeError, TypeError):
        return _check_definitions(holder, ctx, base)
    declared = _CLEAN_TOOLS.get(key)
    if declared is None:
        found = ctx.emitted
        declared = _check_definitions(holder, ctx, base)
        if declared is not None and ctx.emitted == found:
            if len(_CLEAN_TOOLS) >= _VERDICTS_MAX or _CLEAN_TOOLS_BYTES[0] + len(key[2]) > _CLEAN_TOOLS_MAX_BYTES:
                _CLEAN_TOOLS.clear()
                _CLEAN_TOOLS_BYTES[0] = 0
            _CLEAN_TOOLS[key] = declared
            _CLEAN_TOOLS_BYTES[0] += len(key[2])
    return declared


def _check_definitions(holder: Mapping[str, Any], ctx: RecordContext, base: Where) -> Declared | None:
    if "parallel_tool_calls" in holder and not isinstance(holder["parallel_tool_calls"], bool):
        value = holder["parallel_tool_calls"]
        ctx.emit(InvalidParallelToolCalls, pointer(*base, "parallel_tool_calls"),
                 f"parallel_tool_calls must be a boolean, not {_type_name(value)} {json_text(value)}"[:_MESSAGE_LIMIT],
                 "write true or false without quotes, or drop the key")
    tools, functions = holder.get("tools"), holder.get("functions")
    if tools is None and functions is None:
        return None
    if tools is not None and functions is not None:
        ctx.emit(ToolsAndFunctions, pointer(*base, "functions"), "example has both `tools` and legacy `functions`",
                 "move the functions into `tools` and use `tool_calls`")
    declared: Declared = {}
    if tools is not None and _is_list(tools, "tools", ctx, base):
        for index, tool in enumerate(tools):
            where = (*base, "tools", index)
            if not isinstance(tool, dict):
                ctx.emit(InvalidToolDefinition, pointer(*where), f"tool is {_type_name(tool)}, not an object",
                         'write {"type": "function", "function": {"name": "..."}}')
                continue
            if "function" not in tool and "name" in tool:
                ctx.emit(InvalidToolDefinition, pointer(*where),
                         "tool is a bare function definition, without the type/function wrapper",
                         'wrap it: {"type": "function", "function": {...}}')
                continue
            function = _function_wrapper(tool, where, ctx, InvalidToolDefinition, "tool", TOOL_KEYS,
                                         "`type` and `function`", '{"name": "...", "parameters": {...}}')
            if function is not None:
                _define(function, (*where, "function"), declared, ctx)
    if functions is not None and _is_list(functions, "functions", ctx, base):
        for index, function in enumerate(functions):
            where = (*base, "functions", index)
            if not isinstance(function, dict):
                ctx.emit(InvalidToolDefinition, pointer(*where), f"function is {_type_name(function)}, not an object",
                         'write {"name": "...", "parameters": {...}}')
                continue
            _define(function, where, declared, ctx)
    return declared


def _is_list(value: Any, key: str, ctx: RecordContext, base: Where) -> bool:
    if isinstance(value, list) and value:
        return True
    what = "an empty array" if value == [] else _type_name(value)
    ctx.emit(InvalidToolDefinition, pointer(*base, key), f"`{key}` must be a non-empty array, not {what}",
             f"list the definitions in an array, or drop `{key}`")
    return False


def _define(function: dict[str, Any], where: Where, declared: Declared, ctx: RecordContext) -> None:
    for key in function:
        if key not in FUNCTION_KEYS:
            ctx.emit(InvalidToolDefinition, pointer(*where, key), f"unknown key {key!r} in a function definition",
                     f"rename or remove it; allowed: {', '.join(sorted(FUNCTION_KEYS))}")
    for key, kind in (("description", str), ("strict", bool)):
        if key in function and function[key] is not None and not isinstance(function[key], kind):
            ctx.emit(InvalidToolDefinition, pointer(*where, key),
                     f"`{key}` must be a {'string' if kind is str else 'boolean'}, not {_type_name(function[key])}",
                     f"write `{key}` as a {'string' if kind is str else 'boolean'}")
    name = function.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        ctx.emit(InvalidToolName, pointer(*where, "name") if "name" in function else pointer(*where),
                 "function has no `name`" if "name" not in function
                 else f"function name {json_text(name)} is not 1-64 of [a-zA-Z0-9_-]"[:_MESSAGE_LIMIT],
                 "name the function with letters, digits, _ and - only")
        if not isinstance(name, str):
            return
    compiled = _parameters(function, where, ctx)
    if name in declared:
        ctx.emit(DuplicateToolName, pointer(*where, "name"), f"function {name!r} is defined twice",
                 "keep one definition or rename one of them")
        return
    declared[name] = compiled


def _parameters(function: dict[str, Any], where: Where, ctx: RecordContext) -> CompiledSchema | None:
    if function.get("parameters") is None:
        return None
    parameters = function["parameters"]
    here = (*where, "parameters")
    if not isinstance(parameters, dict):
        ctx.emit(InvalidParametersSchema, pointer(*here),
                 f"parameters must be a JSON Schema object, not {_type_name(parameters)}",
                 'write {"type": "object", "properties": {...}, "required": [...]}')
        return None
    compiled = compile_schema(canonical_json(parameters))
    if compiled.error is not None:
        ctx.emit(InvalidParametersSchema, pointer(*here, *compiled.error_path),
                 f"parameters is not a valid JSON Schema: {compiled.error}",
                 "fix the schema (JSON Schema types: string, number, integer, boolean, array, object, null)")
    return compiled


def check_calls(messages: list[Any], declared: Declared | None, ctx: RecordContext, base: Where) -> None:
    """Check the ``tool_calls`` and ``function_call`` of every assistant message in ``messages`` at ``base``."""
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        where = (*base, index)
        if "tool_calls" in message and message["tool_calls"] is not None:
            calls = message["tool_calls"]
            if not isinstance(calls, list) or not calls:
                what = "an empty array" if calls == [] else _type_name(calls)
                ctx.emit(InvalidToolCall, pointer(*where, "tool_calls"),
                         f"tool_calls must be a non-empty array, not {what}",
                         "list the calls in an array, or drop `tool_calls`")
            else:
                for number, call in enumerate(calls):
                    _check_tool_call(call, (*where, "tool_calls", number), declared, ctx)
        if "function_call" in message and message["function_call"] is not None:
            call = message["function_call"]
            here = (*where, "function_call")
            if not isinstance(call, dict):
                ctx.emit(InvalidToolCall, pointer(*here), f"function_call is {_type_name(call)}, not an object",
                         'write {"name": "...", "arguments": "{...}"}')
            else:
                _check_function(call, here, declared, ctx, legacy=True)


def _check_tool_call(call: Any, where: Where, declared: Declared | None, ctx: RecordContext) -> None:
    if not isinstance(call, dict):
        ctx.emit(InvalidToolCall, pointer(*where), f"tool call is {_type_name(call)}, not an object",
                 'write {"id": "call_1", "type": "function", "function": {"name": "...", "arguments": "{}"}}')
        return
    if "function" not in call and "name" in call:
        ctx.emit(InvalidToolCall, pointer(*where), "tool call is flattened: `name` is not inside `function`",
                 'write {"id": "...", "type": "function", "function": {"name": "...", "arguments": "..."}}')
        return
    if not isinstance(call.get("id"), str) or not call["id"]:
        ctx.emit(InvalidToolCall, pointer(*where, "id") if "id" in call else pointer(*where),
                 "tool call has no string `id`", 'add "id": "call_1" (and the same tool_call_id on its result)')
    function = _function_wrapper(call, where, ctx, InvalidToolCall, "tool call", CALL_KEYS,
                                 "`id`, `type` and `function`", '{"name": "...", "arguments": "{}"}')
    if function is not None:
        _check_function(function, (*where, "function"), declared, ctx, legacy=False)


def _function_wrapper(item: dict[str, Any], where: Where, ctx: RecordContext, rule: type[Rule], noun: str,
                      allowed: frozenset[str], allowed_text: str, function_example: str) -> dict[str, Any] | None:
    """The `{"type": "function", "function": {...}}` wrapper shared by tools and tool calls: unknown keys,
    the type, and the inner function object, which is returned when it is an object."""
    for key in item:
        if key not in allowed:
            ctx.emit(rule, pointer(*where, key), f"unknown key {key!r} in a {noun}",
                     f"a {noun} has only {allowed_text}")
    if item.get("type") != "function":
        ctx.emit(rule, pointer(*where, "type") if "type" in item else pointer(*where),
                 f"{noun} type is {json_text(item.get('type'))}, not 'function'", 'set "type": "function"')
    function = item.get("function")
    if isinstance(function, dict):
        return function
    ctx.emit(rule, pointer(*where, "function") if "function" in item else pointer(*where),
             f"{noun} has no `function` object", f'add "function": {function_example}')
    return None


def _check_function(function: dict[str, Any], where: Where, declared: Declared | None, ctx: RecordContext,
                    *, legacy: bool) -> None:
    for key in function:
        if key not in CALLED_FUNCTION_KEYS:
            ctx.emit(InvalidToolCall, pointer(*where, key), f"unknown key {key!r} in a called function",
                     "a called function has only `name` and `arguments`")
    name = function.get("name")
    if not isinstance(name, str) or not name:
        ctx.emit(InvalidToolCall, pointer(*where, "name") if "name" in function else pointer(*where),
                 "called function has no string `name`", "add the name of the function called")
        name = None
    if "arguments" not in function:
        ctx.emit(InvalidToolCall, pointer(*where), "called function has no `arguments`",
                 'add "arguments": "{}" (a JSON string)')
        return
    arguments = function["arguments"]
    if not isinstance(arguments, str):
        ctx.emit(ArgumentsNotString, pointer(*where, "arguments"),
                 f"arguments is {_type_name(arguments)}, not a string of JSON",
                 "serialise the arguments: json.dumps(arguments)")
        return
    try:
        parsed = orjson.loads(arguments)
    except orjson.JSONDecodeError as exc:
        ctx.emit(InvalidArgumentsJson, pointer(*where, "arguments"), f"arguments is not valid JSON: {_short(str(exc))}",
                 "write the arguments with json.dumps")
        return
    if not isinstance(parsed, dict):
        ctx.emit(InvalidArgumentsJson, pointer(*where, "arguments"),
                 f"arguments is JSON {_type_name(parsed)}, not an object",
                 'wrap the value in an object: {"name": value}')
        return
    if name is None:
        return
    kind = "function" if legacy else "tool"
    if declared is None or name not in declared:
        where_declared = "`functions`" if legacy else "`tools`"
        ctx.emit(UndeclaredTool, pointer(*where, "name"),
                 f"{kind} {name!r} is called but " + (f"not defined in {where_declared}" if declared is not None
                                                      else "the example defines no tools"),
                 f"add the definition of {name!r} to {where_declared} or correct the name")
        return
    compiled = declared[name]
    if compiled is None or compiled.error is not None:
        return
    problem = compiled.check(arguments, parsed)
    if problem is not None:
        ctx.emit(ArgumentsSchemaMismatch, pointer(*where, "arguments"),
                 f"arguments of {name!r} do not match its parameters{problem}",
                 "correct the arguments, or the schema if it is the schema that is wrong")


def check_call_graph(messages: list[Any], ctx: RecordContext, base: Where) -> None:
    """Ids unique; every call answered once before the next assistant message; no tool message without a call.

    Calls of the example's last message need no answer: they are what the example trains.
    """
    seen: set[str] = set()
    window: dict[str, Where] = {}  # calls of the last assistant message: id -> where the call is
    answered: dict[str, int] = {}
    legacy: Where | None = None  # the last assistant message's function_call, until answered
    legacy_answered = False
    last = len(messages) - 1
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role == "assistant":
            if window or legacy is not None:
                _close(window, answered, legacy, legacy_answered, ctx)
                window, answered, legacy_answered = {}, {}, False
            where = (*base, index)
            legacy = (*where, "function_call") if isinstance(message.get("function_call"), dict) else None
            if index == last:
                legacy = None
            calls = message.get("tool_calls")
            if not calls or not isinstance(calls, list):
                continue
            for number, call in enumerate(calls):
                call_id = call.get("id") if isinstance(call, dict) else None
                if not isinstance(call_id, str):
                    continue
                if call_id in seen:
                    ctx.emit(DuplicateToolCallId, pointer(*where, "tool_calls", number, "id"),
                             f"tool call id {call_id!r} is used by an earlier call of this example",
                             "give every call its own id and update the tool messages")
                    if call_id in window:
                        continue  # twice in one message: the tool message cannot tell the calls apart
                    # Reused from an earlier turn: the tool messages after this one still answer it (FT320
                    # reports the reuse once; an orphan finding on the answer would be a knock-on).
                seen.add(call_id)
                if index < last:
                    window[call_id] = (*where, "tool_calls", number)
        elif role == "tool":
            where = (*base, index)
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str):
                ctx.emit(OrphanToolMessage, pointer(*where, "tool_call_id") if "tool_call_id" in message
                         else pointer(*where), "tool message has no string `tool_call_id`",
                         "add the id of the call this message answers")
            elif call_id in answered:
                ctx.emit(ToolCallAnsweredTwice, pointer(*where),
                         f"call {call_id!r} was already answered by message {answered[call_id]}",
                         "keep one result per call")
            elif call_id in window:
                answered[call_id] = index
            else:
                ctx.emit(OrphanToolMessage, pointer(*where, "tool_call_id"),
                         f"no call with id {call_id!r} in the assistant message before this tool message",
                         "use the id of the call this message answers, or remove the message")
        elif role == "function":
            where = (*base, index)
            if legacy is None:
                ctx.emit(OrphanToolMessage, pointer(*where),
                         "function message without a function_call in the assistant message before it",
                         "add the function_call it answers, or remove the message")
            elif legacy_answered:
                ctx.emit(ToolCallAnsweredTwice, pointer(*where), "the function call was already answered",
                         "keep one result per call")
            else:
                legacy_answered = True
    if window or legacy is not None:
        _close(window, answered, legacy, legacy_answered, ctx)


def _close(window: dict[str, Where], answered: dict[str, int], legacy: Where | None, legacy_answered: bool,
           ctx: RecordContext) -> None:
    for call_id, where in window.items():
        if call_id not in answered:
            ctx.emit(UnansweredToolCall, pointer(*where),
                     f"tool call {call_id!r} has no tool message answering it before the next assistant message",
                     f'add {{"role": "tool", "tool_call_id": "{call_id}", "content": "..."}} after the call')
    if legacy is not None and not legacy_answered:
        ctx.emit(UnansweredToolCall, pointer(*legacy),
                 "function call has no function message answering it before the next assistant message",
                 'add {"role": "function", "name": "...", "content": "..."} after the call')


@record_check(CHAT, facts=TOOLS)
def check_chat_tools(record: Record, ctx: RecordContext) -> None:
    """Tool definitions, calls and the call graph of a chat record."""
    if not chat_facts(record, ctx) & TOOLS:
        return
    declared = check_definitions(record, ctx)
    messages = record.get("messages")
    if isinstance(messages, list):
        check_calls(messages, declared, ctx, ("messages",))
        check_call_graph(messages, ctx, ("messages",))
