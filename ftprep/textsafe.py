"""Text from the data made safe to print: control characters and lone surrogates shown as escapes.

A dataset is untrusted input. A JSON key such as ``"\\u001b[2J"`` echoed raw in a finding clears the
terminal; ``"\\u009b"`` (C1 CSI) does the same on terminals that honour 8-bit controls; a lone surrogate
(``"\\ud800"``) cannot even be encoded, so printing it crashes. Everything ftprep prints that came from a
file or from an API goes through :func:`escape_controls` (text formats) or :func:`dumps_json` (JSON
formats): both show such characters as ``\\uXXXX``, and both leave every other character as it is.

No imports beyond the standard library and orjson: the CLI's error path uses it too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import orjson

# C0 controls, DEL, C1 controls and UTF-16 surrogates (only lone ones reach a Python str).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROLS_KEEP_LAYOUT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# What may appear raw inside a JSON document ftprep wrote: orjson escapes C0 itself, but not DEL or C1.
_JSON_RAW_CONTROLS = re.compile("[\x7f-\x9f]")


_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT.get(char) or f"\\u{ord(char):04x}"


def escape_controls(text: str, *, keep_layout: bool = False) -> str:
    """``text`` with control characters and lone surrogates written as ``\\uXXXX``.

    Newline and tab are escaped too (a finding's message, pointer or path is one line); with
    ``keep_layout`` they are kept, for multi-line text such as an API's error message.
    """
    pattern = _CONTROLS_KEEP_LAYOUT if keep_layout else _CONTROLS
    return pattern.sub(_escape, text) if pattern.search(text) else text


def _without_surrogates(value: Any) -> Any:
    """``value`` with lone surrogates in every string (keys too) written as ``\\udXXX`` text."""
    if isinstance(value, str):
        return escape_surrogates(value)
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_surrogates(v) for v in value]
    return value


_SURROGATES = re.compile("[\ud800-\udfff]")


def escape_surrogates(text: str) -> str:
    """``text`` with lone surrogates (not representable in UTF-8) written as ``\\udXXX`` text."""
    return _SURROGATES.sub(_escape, text) if _SURROGATES.search(text) else text


def dumps_json(data: Any, *, indent: bool = False, default: Callable[[Any], Any] | None = None) -> str:
    """``data`` as JSON text that every strict parser reads and no terminal interprets.

    Lone surrogates cannot be written as UTF-8 (orjson refuses them, and a JSON ``\\ud800`` escape is
    rejected by strict parsers such as orjson's and serde's), so they become the visible text ``\\ud800``;
    DEL and C1 controls, which JSON allows raw, are written as ``\\u`` escapes (the same string for a
    parser, and nothing for a terminal to act on). Integers beyond 64 bits keep their digits.
    """
    try:
        text = orjson.dumps(data, default=default, option=orjson.OPT_INDENT_2 if indent else 0).decode()
    except orjson.JSONEncodeError:  # a lone surrogate, or an integer orjson cannot hold: the slow path
        text = json.dumps(_without_surrogates(data), ensure_ascii=False, default=default,
                          indent=2 if indent else None, separators=None if indent else (",", ":"))
    return _JSON_RAW_CONTROLS.sub(_escape, text) if _JSON_RAW_CONTROLS.search(text) else text
