"""Dataset configuration for Axolotl and LLaMA-Factory that reads an OpenAI chat file as it is.

:func:`survey_file` reads the file once for the features that decide the configuration (per-message
``weight``, tools, system messages, images, preference rows, turn order); :func:`trainer_config` builds the
snippet and the list of what the trainer cannot take. Sources (as of 2026-12):

- Axolotl ``type: chat_template`` options (``field_messages``, ``field_tools``, ``message_field_training``,
  ``roles``, ``roles_to_train``): ``axolotl/utils/schemas/datasets.py`` and
  https://docs.axolotl.ai/docs/config-reference.html
- LLaMA-Factory ``dataset_info.json``, ``formatting: openai`` and its tags: ``src/llamafactory/data/converter.py``
  (``OpenAIDatasetConverter``, commit 02e2fb34bf8a79330b080607872fe4565876d0e6) and ``data/README.md``
  ("OpenAI Format": ``formatting: sharegpt`` with the same tags, for versions without the openai converter),
  https://github.com/hiyouga/LLaMA-Factory
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ftprep.errors import ConfigError
from ftprep.jsonl.reader import iter_lines, reporting

TRAINERS = ("axolotl", "llamafactory")


@dataclass(slots=True)
class FileFeatures:
    """What an OpenAI chat (or DPO) file uses, counted in rows (``weights`` in messages)."""

    rows: int = 0
    unreadable: int = 0
    chat: int = 0
    preference: int = 0
    other: int = 0
    weights: int = 0
    zero_weights: int = 0
    tools: int = 0
    tool_calls: int = 0
    system: int = 0
    late_system: int = 0
    images: int = 0
    not_alternating: int = 0
    names: int = 0
    roles: set[str] = field(default_factory=set)


def _alternates(messages: list[Any]) -> bool:
    """LLaMA-Factory's order: after a leading system message, user (or tool results) in odd places,
    assistant in even ones, an even count; consecutive tool messages count as one."""
    roles = [m.get("role") for m in messages if isinstance(m, dict)]
    if roles and roles[0] == "system":
        roles = roles[1:]
    merged = [r for i, r in enumerate(roles) if not (r == "tool" and i and roles[i - 1] == "tool")]
    for index, role in enumerate(merged):
        expected = ("user", "tool") if index % 2 == 0 else ("assistant",)
        if role not in expected:
            return False
    return len(merged) % 2 == 0


def _observe_messages(features: FileFeatures, messages: list[Any], counted: set[str]) -> None:
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        features.roles.add(str(role))
        if "weight" in message:
            features.weights += 1
            features.zero_weights += message["weight"] == 0
        if message.get("tool_calls"):
            counted.add("tool_calls")
        if "name" in message:
            counted.add("names")
        if role in ("system", "developer"):
            counted.add("late_system" if index else "system")
        content = message.get("content")
        if isinstance(content, list) and any(isinstance(p, dict) and p.get("type") == "image_url" for p in content):
            counted.add("images")


def survey_file(path: str | os.PathLike[str], progress: Callable[[int], None] | None = None) -> FileFeatures:
    """Read ``path`` (JSONL) once and count the features the trainer configuration depends on (``progress``:
    called with byte counts as it is read)."""
    features = FileFeatures()
    for line in reporting(iter_lines(path), progress):
        if not line.data.strip():
            continue
        features.rows += 1
        try:
            row = orjson.loads(line.data)
        except orjson.JSONDecodeError:
            features.unreadable += 1
            continue
        if not isinstance(row, dict):
            features.unreadable += 1
            continue
        counted: set[str] = set()
        if isinstance(row.get("messages"), list):
            features.chat += 1
            messages = row["messages"]
            _observe_messages(features, messages, counted)
            if not _alternates(messages):
                features.not_alternating += 1
        elif isinstance(row.get("input"), dict) and "preferred_output" in row:
            features.preference += 1
            messages = row["input"].get("messages")
            if isinstance(messages, list):
                _observe_messages(features, messages, counted)
        else:
            features.other += 1
        if row.get("tools") or (isinstance(row.get("input"), dict) and row["input"].get("tools")):
            counted.add("tools")
        for name in counted:
            setattr(features, name, getattr(features, name) + 1)
    return features


def _axolotl(file_name: str, features: FileFeatures) -> tuple[dict[str, Any], list[str]]:
    dataset: dict[str, Any] = {
        "path": file_name, "ds_type": "json", "type": "chat_template", "field_messages": "messages",
        "message_property_mappings": {"role": "role", "content": "content"},
        "roles": {"system": ["system"], "user": ["user"], "assistant": ["assistant"]},
        "roles_to_train": ["assistant"],
    }
    cannot = []
    if features.tools or features.tool_calls:
        dataset["roles"]["tool"] = ["tool"]
        dataset["field_tools"] = "tools"
        cannot.append(f"{features.tool_calls} row(s) have tool calls whose arguments are JSON strings; chat "
                      "templates that apply tojson encode them twice (check with `ftprep check --target hf "
                      "--tokenizer DIR`, FT412)")
    if features.weights:
        # Axolotl reads a per-turn training flag; OpenAI's weight 0/1 is that flag.
        dataset["message_field_training"] = "weight"
    if features.images:
        cannot.append(f"{features.images} row(s) have image_url parts; chat_template reads images only with a "
                      "processor and its own content-part shape")
    if features.preference:
        cannot.append(f"{features.preference} OpenAI DPO row(s): Axolotl's DPO chat_template reads messages + "
                      "chosen + rejected; convert with `ftprep convert --to trl` first")
    return {"datasets": [dataset]}, cannot


def _llamafactory(file_name: str, name: str, features: FileFeatures) -> tuple[dict[str, Any], list[str]]:
    tags = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
            "system_tag": "system"}
    columns = {"messages": "messages"}
    if features.tools or features.tool_calls:
        tags["observation_tag"] = "tool"
        columns["tools"] = "tools"
    entry: dict[str, Any] = {"file_name": file_name, "formatting": "openai", "columns": columns, "tags": tags}
    cannot = []
    if features.weights:
        cannot.append(f"{features.weights} message weight(s) ({features.zero_weights} of them 0): LLaMA-Factory "
                      "has no per-message weight and trains on every assistant turn")
    if features.not_alternating:
        cannot.append(f"{features.not_alternating} row(s) do not alternate user/assistant turns (or have an odd "
                      "count): LLaMA-Factory drops them with a warning")
    if features.names:
        cannot.append(f"{features.names} row(s) have message names: LLaMA-Factory keeps only role and content")
    if features.late_system:
        cannot.append(f"{features.late_system} row(s) have a system message after the first turn: LLaMA-Factory "
                      "takes only a leading one")
    if features.images:
        cannot.append(f"{features.images} row(s) have image_url parts: LLaMA-Factory reads images from an "
                      "`images` column with <image> placeholders, not from content parts")
    if features.preference:
        cannot.append(f"{features.preference} OpenAI DPO row(s): LLaMA-Factory's ranking datasets need "
                      "chosen/rejected columns; convert with `ftprep convert --to trl` first")
    if features.chat and not features.tools:
        cannot.append("LLaMA-Factory's openai converter (commit 02e2fb3) appends 'detailed thinking off' to "
                      "the system prompt of rows without tools")
    cannot.append("LLaMA-Factory versions without formatting 'openai' read the file with formatting 'sharegpt' "
                  "and the same tags, but then miss tool calls")
    return {name: entry}, cannot


def trainer_config(path: str | os.PathLike[str], trainer: str, features: FileFeatures | None = None,
                   name: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """(configuration snippet, sentences about what the trainer cannot take) for ``path``.

    The snippet is Axolotl's ``datasets:`` section or a LLaMA-Factory ``dataset_info.json`` entry named
    ``name`` (default: the file's stem). Raises :class:`ConfigError` for an unknown trainer or a file
    with no chat rows.
    """
    if trainer not in TRAINERS:
        raise ConfigError(f"unknown --trainer {trainer!r}; use one of: {', '.join(TRAINERS)}")
    features = features or survey_file(path)
    if not features.chat and not features.preference:
        raise ConfigError(f"{path}: no OpenAI chat rows found; convert the file first (`ftprep convert "
                          "IN OUT --to chat`)")
    file_name = Path(path).name
    cannot = []
    if features.unreadable or features.other:
        cannot.append(f"{features.unreadable + features.other} row(s) are not OpenAI chat rows; run "
                      "`ftprep check` and fix them first")
    snippet, more = (_axolotl(file_name, features) if trainer == "axolotl"
                     else _llamafactory(file_name, name or Path(path).stem, features))
    return snippet, cannot + more


def _yaml_scalar(value: Any) -> str:
    # JSON strings are valid YAML scalars, so the snippet stays JSON-compatible YAML.
    return orjson.dumps(value).decode("utf-8")


def render_yaml(value: Any, indent: int = 0) -> str:
    """``value`` (dicts, lists, scalars) as block YAML whose scalars are JSON (parsed back by any YAML 1.2
    reader); lists of scalars are written inline as JSON arrays."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item and not _flat_list(item):
                lines.append(f"{pad}{key}:")
                lines.append(render_yaml(item, indent + 2))
            else:
                lines.append(f"{pad}{key}: {_yaml_scalar(item)}")
    else:
        for item in value:
            if isinstance(item, dict):
                body = render_yaml(item, indent + 2).splitlines()
                lines.append(f"{pad}- {body[0].lstrip()}")
                lines.extend(body[1:])
            else:
                lines.append(f"{pad}- {_yaml_scalar(item)}")
    return "\n".join(lines)


def _flat_list(value: Any) -> bool:
    return isinstance(value, list) and all(not isinstance(v, dict | list) for v in value)


def render_config(snippet: dict[str, Any], trainer: str) -> str:
    """The snippet as text: YAML for Axolotl, a JSON object (to merge into dataset_info.json) for LLaMA-Factory."""
    if trainer == "axolotl":
        return render_yaml(snippet) + "\n"
    return orjson.dumps(snippet, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"
