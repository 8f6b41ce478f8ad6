"""FT1xx: JSON syntax. Emitted by the engine from the strict parser's problems."""

from __future__ import annotations

from ftprep.lint.finding import Severity
from ftprep.lint.registry import Rule, register


@register
class InvalidJson(Rule):
    """What it does
    Flags a line that is not valid JSON, with the column where parsing failed.

    Why it matters
    JSONL means one complete JSON value per line. Pretty-printed objects spread over several lines, a
    trailing comma or a raw newline inside a string make the upload fail.

    Example
    `{"messages": [{"role": "user", "content": "hi"},]}` (trailing comma), or a line holding only `{`.

    Fix
    Write each record on one line with a JSON library (`json.dumps(record)` per line); never build JSON
    by string concatenation.
    """

    code = "FT101"
    name = "invalid-json"
    severity = Severity.ERROR


@register
class NotAnObject(Rule):
    """What it does
    Flags a line that is valid JSON but not an object (an array, string, number, true/false or null).

    Why it matters
    Each training example must be a JSON object; a whole dataset written as one JSON array is the usual
    cause.

    Example
    `[{"messages": [...]}, {"messages": [...]}]` on one line.

    Fix
    Write one object per line; `ftprep convert` turns a JSON array file into JSONL.
    """

    code = "FT102"
    name = "not-an-object"
    severity = Severity.ERROR


@register
class NonFiniteNumber(Rule):
    """What it does
    Flags `NaN`, `Infinity` and `-Infinity` literals, with a pointer to the value.

    Why it matters
    They are JavaScript, not JSON. Python's `json.dumps` writes them by default (allow_nan=True), and
    strict parsers, the API's included, reject the line.

    Example
    `{"prompt": "x", "completion": "y", "score": NaN}`

    Fix
    Replace them with null or a number, or dump with `json.dumps(obj, allow_nan=False)` to catch them.
    """

    code = "FT103"
    name = "non-finite-number"
    severity = Severity.ERROR


@register
class DuplicateKey(Rule):
    """What it does
    Flags a key that appears twice in the same JSON object, with a pointer to the key.

    Why it matters
    JSON parsers disagree on duplicates: most keep the last value silently, so what you reviewed is
    not what trains. A duplicated `content` usually means a merge or templating bug.

    Example
    `{"role": "user", "content": "a", "content": "b"}`

    Fix
    Keep one of the values; build records as dictionaries and serialise them with a JSON library.
    """

    code = "FT104"
    name = "duplicate-key"
    severity = Severity.ERROR
