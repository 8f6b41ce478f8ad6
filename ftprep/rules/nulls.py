"""FT215: `null` in an optional field, the mark of a DataFrame round trip (Arrow, polars, pandas, `datasets`).

Those libraries store records as columns: a field absent from one row becomes `null` in that row when the
data is written back to JSON (`"weight": null`, `"tool_calls": null`, `{"type": null}` in a tool schema).
The engine strips such nulls before the other record checks run, so one round trip gives one finding per
line instead of one per field; ``ftprep fix`` and ``ftprep convert`` drop them the same way.
"""

from __future__ import annotations

from typing import Any

from ftprep.lint.finding import Severity, pointer
from ftprep.lint.registry import Rule, register

# Keys whose null is not "absent": required fields (their null is reported by the shape rules) and the
# values a JSON Schema may legitimately set to null.
KEEP_NULL = frozenset({"role", "content", "messages", "input", "preferred_output", "non_preferred_output",
                       "prompt", "completion", "default", "const", "examples"})
# Top-level keys that are optional in the fine-tuning formats; other top-level keys (a reinforcement row's
# grader fields) are the user's own and may be null on purpose.
OPTIONAL_TOP = frozenset({"weight", "tools", "functions", "parallel_tool_calls"})
# The parts of a record where a null can only be a filled-in absent field.
NESTED = ("messages", "input", "preferred_output", "non_preferred_output", "tools", "functions")
# How many pointers a message names before "+N more".
SHOWN = 3


@register
class NullOptionalField(Rule):
    """What it does
    Flags `null` in an optional field: a message's `weight`, `tool_calls`, `name` or `tool_call_id`, a
    top-level `weight` or `tools`, a key of a tool's JSON Schema (`{"type": null}`), an unused key of a
    content part. One finding per line names every such field.

    Why it matters
    Data that went through Arrow, polars, pandas or Hugging Face `datasets` comes back with every field of
    every row: one that a row did not have is written as `null`. The API takes an absent field but rejects
    `null` (`"weight": null` is not 0 or 1, `"tool_calls": null` is not an array), so every line fails.

    Example
    `{"messages": [{"role": "user", "content": "hi", "tool_calls": null, "weight": null},
    {"role": "assistant", "content": "hello", "tool_calls": null, "weight": null}]}`

    Fix
    `ftprep fix in.jsonl -o out.jsonl` drops the nulls (and `ftprep convert` does too). When writing from a
    DataFrame, drop nulls per row, e.g. `[{k: v for k, v in row.items() if v is not None} for row in rows]`.
    """

    code = "FT215"
    name = "null-optional-field"
    severity = Severity.ERROR


# A null kept wherever it stands: `"content": null` (an assistant message with tool calls), as orjson and
# json.dumps write it; the key's opening quote escaped (`\\"content":`) is no key of its own.
_KEPT_CONTENT = (b'"content":', b'"content": ')
_ESCAPED_CONTENT = (b'\\"content":', b'\\"content": ')


def may_hold_nulls(data: bytes) -> bool:
    """Whether the JSON line ``data`` may hold a null :func:`strip_nulls` removes (False: it holds none).

    Every `null` of the line is looked at; when each is the value of a `content` key (kept at any depth,
    see :data:`KEEP_NULL`), there is nothing to strip. Inside a JSON string the quotes around `content`
    would be escaped, so a match is a key (or the end of one after an escaped quote, which sends the line to
    the walk). A search in C is much cheaper than walking the record: tool-call datasets hold
    `"content": null` on most lines. Each null is looked at where it stands (one search per null, one for a
    line without any), not by counting the word and both spellings of the key over the whole line."""
    found = data.find(b"null")
    while found >= 0:
        if not data.endswith(_KEPT_CONTENT, 0, found) or data.endswith(_ESCAPED_CONTENT, 0, found):
            return True
        found = data.find(b"null", found + 4)
    return False


def strip_nulls(record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``record`` without the nulls of its optional fields, and the JSON pointers of those removed.

    The record is returned unchanged (the same object) when it has none; otherwise the containers on the
    way to a null are copied, so the caller's record is never modified.
    """
    removed: list[str] = []
    result: dict[str, Any] | None = None
    for key, value in record.items():
        if value is None and key in OPTIONAL_TOP:
            removed.append(pointer(key))
            new: Any = _DROP
        elif key in NESTED and isinstance(value, (dict, list)):
            new = _strip(value, (key,), removed)
        else:
            continue
        if new is not value:
            if result is None:
                result = dict(record)
            if new is _DROP:
                del result[key]
            else:
                result[key] = new
    return (record if result is None else result), removed


_DROP: Any = object()


def _strip(value: Any, where: tuple[str | int, ...], removed: list[str]) -> Any:
    """``value`` with its droppable nulls removed (a copy only where something changed)."""
    if isinstance(value, dict):
        copy: dict[str, Any] | None = None
        for key, item in value.items():
            if item is None and key not in KEEP_NULL:
                removed.append(pointer(*where, key))
                if copy is None:
                    copy = dict(value)
                del copy[key]
            elif isinstance(item, (dict, list)):
                new = _strip(item, (*where, key), removed)
                if new is not item:
                    if copy is None:
                        copy = dict(value)
                    copy[key] = new
        return value if copy is None else copy
    if isinstance(value, list):
        items: list[Any] | None = None
        for index, item in enumerate(value):
            if isinstance(item, (dict, list)):
                new = _strip(item, (*where, index), removed)
                if new is not item:
                    if items is None:
                        items = list(value)
                    items[index] = new
        return value if items is None else items
    return value


def describe(removed: list[str]) -> str:
    """The finding's message for the pointers ``removed`` (a few named, the rest counted)."""
    shown = ", ".join(removed[:SHOWN]) + (f" (+{len(removed) - SHOWN} more)" if len(removed) > SHOWN else "")
    fields = "field is" if len(removed) == 1 else "fields are"
    return (f"{len(removed)} optional {fields} null ({shown}): a DataFrame round trip (Arrow, polars, pandas, "
            "datasets) writes absent fields as null")


# How summaries of `fix` and `convert` name the fields they drop.
NULL_FIELDS = f"null ({NullOptionalField.code})"
FIX = "run `ftprep fix in.jsonl -o out.jsonl`, which drops null optional fields"
