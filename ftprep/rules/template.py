"""FT410-FT419: a file against the chat template and the local trainer that will read it (``--target hf``).

:class:`TemplateChecks` is an observer the engine's pass feeds: it renders each chat row with the template of a
Hugging Face tokenizer folder (``--tokenizer DIR``) exactly as transformers' ``apply_chat_template`` does, keeps
the token length of every row it renders (``estimate`` reads them) and what it finds; ``check`` turns that into
findings after the pass (:meth:`TemplateChecks.findings`), with the trainer's length limit and habits
(:mod:`ftprep.data.trainers`).
"""

from __future__ import annotations

import contextlib
import json
from array import array
from collections.abc import Sequence
from typing import Any, Self

from ftprep.data.trainers import Trainer
from ftprep.formats.detect import CHAT
from ftprep.lint.context import Record, shifted
from ftprep.lint.finding import Finding, Severity, pointer
from ftprep.lint.registry import Rule, register
from ftprep.tokens.chat_template import TemplateError, render_chat
from ftprep.tokens.hf_tokenizer import HFTokenizer

_MAX_TEXT = 160


@register
class TemplateCannotRender(Rule):
    """What it does
    Flags a row the model's chat template refuses or fails on (`--target hf --tokenizer DIR`), with the template's
    own message: a message without `content`, roles the template wants to alternate, a system message where it
    takes none, content as a list of parts a text template cannot print.

    Why it matters
    transformers' `apply_chat_template` raises on the row, so the trainer stops (or the data pipeline drops the
    row) long after the job was started.

    Example
    `{"messages": [{"role": "assistant", "tool_calls": [...]}, ...]}` with a template that reads
    `message.content` unconditionally.

    Fix
    Give every message the field the template reads (often `"content": ""`), reorder or merge turns, or use a
    template that takes the row.
    """

    code = "FT410"
    name = "template-cannot-render"
    severity = Severity.ERROR


@register
class OverTrainerLength(Rule):
    """What it does
    Warns about a row whose chat-template tokens are over the trainer's maximum length (`--max-length`, default
    the trainer's: TRL and Unsloth 1024 and truncate, Axolotl 512 and drop the row, LLaMA-Factory 2048 and
    truncate).

    Why it matters
    The trainer does it silently: a truncated row loses its end (usually the answer it should learn), a dropped row
    is not trained at all.

    Example
    A 3,000-token conversation with TRL's default `max_length=1024`.

    Fix
    Raise the trainer's limit (`max_length`, `sequence_len`, `cutoff_len`) to cover the rows, or split them.
    """

    code = "FT411"
    name = "over-trainer-length"
    severity = Severity.WARNING


@register
class ArgumentsDoubleEncoded(Rule):
    """What it does
    Flags tool calls whose `arguments` are a JSON string (OpenAI's format) when the chat template serialises them
    with `tojson` (the string is encoded a second time) or iterates them as a mapping (the template raises).

    Why it matters
    With `tojson`, the model learns to write arguments as an escaped string inside a string, and its tool calls
    fail at inference; the training run gives no sign of it.

    Example
    `"arguments": "{\\"city\\": \\"Paris\\"}"` rendered by a template holding `tool_call.arguments | tojson`.

    Fix
    Parse `arguments` into an object before training (`json.loads`), as the Hugging Face chat format expects.
    """

    code = "FT412"
    name = "arguments-double-encoded"
    severity = Severity.WARNING


@register
class TemplateSpecialTokenText(Rule):
    """What it does
    Flags text that holds one of the tokenizer's special tokens (`<|im_start|>`, `<|eot_id|>`...), which the
    tokenizer turns into the control token itself: the open-model twin of FT402.

    Why it matters
    A literal control token in the data ends turns early or forges a role; Hugging Face tokenizers parse it unless
    told otherwise, so the model trains on a conversation the file does not show.

    Example
    A user message quoting `<|im_end|>` from a log, for a Qwen tokenizer.

    Fix
    Remove or escape the token text (for example `<\\|im_end\\|>`).
    """

    code = "FT413"
    name = "template-special-token-text"
    severity = Severity.ERROR


@register
class DroppedByTrainer(Rule):
    """What it does
    Warns about a row the trainer drops without an error: under `--trainer llamafactory`, rows whose user and
    assistant turns do not alternate (after an optional system message) or end on a user turn.

    Why it matters
    LLaMA-Factory logs "Dropped invalid example" and trains on the rest: whole datasets have been dropped this
    way without anyone noticing.

    Example
    `user, user, assistant` under `--trainer llamafactory`.

    Fix
    Merge consecutive turns of one role, or end each row with the assistant's answer.
    """

    code = "FT414"
    name = "dropped-by-trainer"
    severity = Severity.WARNING


@register
class WeightIgnoredByTrainer(Rule):
    """What it does
    Warns, once per file, when rows set OpenAI's per-message `weight: 0` and the trainer ignores weights (TRL,
    Unsloth, LLaMA-Factory). Axolotl honours them when its dataset configuration sets
    `message_field_training: weight`, which ftprep cannot see: no warning for it.

    Why it matters
    The turns marked not to be trained are trained: the model learns the answers the file meant to leave out.

    Example
    An assistant turn with `"weight": 0` under `--trainer trl`.

    Fix
    Drop or rewrite those turns, or train with a trainer that honours the field (Axolotl with
    `message_field_training: weight`).
    """

    code = "FT415"
    name = "weight-ignored-by-trainer"
    severity = Severity.WARNING


class TemplateChecks:
    """Observer: each chat row rendered with the template, its token length kept; problems kept as
    ``(line, code, pointer, message, fix)``. Memory: 4 bytes per row plus the problems found."""

    def __init__(self, tokenizer: HFTokenizer, trainer: Trainer | None = None) -> None:
        if tokenizer.chat_template is None:
            from ftprep.errors import ConfigError

            raise ConfigError(f"{tokenizer.name}: the folder has no chat template (tokenizer_config.json "
                              "chat_template or chat_template.jinja); pass one that has")
        self.tokenizer = tokenizer
        self.trainer = trainer
        self.lengths: array[int] = array("I")
        self.length_lines: array[int] = array("I")
        self.problems: list[tuple[int, str, str | None, str, str]] = []
        self.weight_zero_lines: array[int] = array("I")
        self.specials = sorted((t for t in tokenizer.special_tokens if len(t) > 1), key=len, reverse=True)

    def observe(self, line: int, kind: str, record: Record, raw: bytes) -> None:
        """Render one chat row (other kinds are not the template's)."""
        if kind != CHAT:
            return
        messages = record.get("messages")
        if not isinstance(messages, list) or not messages:
            return  # the shape rules report it
        tools = record.get("tools")
        tools = tools if isinstance(tools, list) else None
        template = self.tokenizer.template_for(tools)
        if template is None:
            return
        self._special_text(line, messages)
        if self.trainer is not None:
            self._trainer_habits(line, messages)
        specials: dict[str, Any] = dict(self.tokenizer.named_special_tokens)
        strings = _string_arguments(messages)
        try:
            text = render_chat(template, messages, tools, **specials)
        except TemplateError as exc:
            if strings and self._renders_with_objects(template, messages, tools, specials):
                self._arguments(line, strings[0], "iterates them as a mapping and raises on the string")
            else:
                self.problems.append((line, TemplateCannotRender.code, "/messages",
                                      f"the chat template refuses this row: {_short(str(exc))}",
                                      "give every message what the template reads, or reorder the turns"))
            return
        for where, value in strings:
            # The string written as a JSON string literal ("{\"city\": ...}") means it was encoded a second time.
            if json.dumps(value, ensure_ascii=False) in text or json.dumps(value) in text:
                self._arguments(line, (where, value), "writes them as a JSON string inside the call (tojson)")
                break
        self.lengths.append(len(self.tokenizer.encode(text)))
        self.length_lines.append(line)

    def _renders_with_objects(self, template: str, messages: list[Any], tools: list[Any] | None,
                              specials: dict[str, Any]) -> bool:
        try:
            render_chat(template, _parsed_arguments(messages), tools, **specials)
        except TemplateError:
            return False
        return True

    def _arguments(self, line: int, found: tuple[str, str], what: str) -> None:
        self.problems.append((line, ArgumentsDoubleEncoded.code, found[0],
                              f"tool-call arguments are a JSON string and the chat template {what}",
                              "parse arguments into an object before training (json.loads)"))

    def _special_text(self, line: int, messages: Sequence[Any]) -> None:
        for index, message in enumerate(messages):
            content = message.get("content") if isinstance(message, dict) else None
            texts = [content] if isinstance(content, str) else [
                part.get("text") for part in content if isinstance(part, dict)] if isinstance(content, list) else []
            for text in texts:
                if not isinstance(text, str) or ("<" not in text and "[" not in text):
                    continue
                token = next((t for t in self.specials if t in text), None)
                if token is not None:
                    self.problems.append((line, TemplateSpecialTokenText.code, pointer("messages", index, "content"),
                                          f"text contains the tokenizer's special token {token}",
                                          f"remove or escape {token}"))
                    return

    def _trainer_habits(self, line: int, messages: Sequence[Any]) -> None:
        trainer = self.trainer
        if trainer is None:
            return
        roles = [m.get("role") for m in messages if isinstance(m, dict)]
        if not trainer.honours_weight and any(
                isinstance(m, dict) and m.get("role") == "assistant" and m.get("weight") == 0 for m in messages):
            self.weight_zero_lines.append(line)
        if trainer.requires_alternation:
            # LLaMA-Factory's openai formatting: a tool result is an observation in the user's slot, a tool call a
            # function_call in the assistant's; the slots must alternate user/assistant, ending with the assistant.
            turns = ["user" if r in ("user", "tool") else r for r in roles if r != "system"]
            alternates = all(r == ("user" if i % 2 == 0 else "assistant") for i, r in enumerate(turns))
            if not alternates or not turns or turns[-1] != "assistant":
                self.problems.append((line, DroppedByTrainer.code, "/messages",
                                      f"{trainer.name} drops this row: its turns ({', '.join(map(str, turns))}) do "
                                      "not alternate user/assistant and end with the assistant",
                                      "merge consecutive turns of one role and end with the answer"))

    def shift_lines(self, offset: int) -> None:
        """Add ``offset`` to every line number kept (see :func:`ftprep.engine.relative_lines`)."""
        self.length_lines = shifted(self.length_lines, offset)
        self.weight_zero_lines = shifted(self.weight_zero_lines, offset)
        self.problems = [(line + offset, *rest) for line, *rest in self.problems]  # type: ignore[misc]

    def merge(self, other: Self) -> None:
        """Fold in the observer of the following byte range."""
        self.lengths.extend(other.lengths)
        self.length_lines.extend(other.length_lines)
        self.weight_zero_lines.extend(other.weight_zero_lines)
        self.problems.extend(other.problems)

    def findings(self, path: str, max_length: int | None, enabled: frozenset[str]) -> list[Finding]:
        """The findings of the pass: the problems kept, rows over ``max_length`` and ignored weights."""
        found = [_finding(code, path, line, where, message, fix)
                 for line, code, where, message, fix in self.problems if code in enabled]
        if max_length is not None and OverTrainerLength.code in enabled:
            trainer = self.trainer
            fate = ("the trainer drops the row" if trainer is not None and trainer.over_length == "drops"
                    else "the trainer cuts the end off")
            for line, length in zip(self.length_lines, self.lengths, strict=True):
                if length > max_length:
                    found.append(_finding(OverTrainerLength.code, path, line, "",
                                          f"{length:,} template tokens, over the maximum length {max_length:,}: "
                                          f"{fate}", "raise the trainer's maximum length or split the row"))
        if self.weight_zero_lines and self.trainer is not None and WeightIgnoredByTrainer.code in enabled:
            first = self.weight_zero_lines[0]
            found.append(_finding(WeightIgnoredByTrainer.code, path, first, "/messages",
                                  f"{len(self.weight_zero_lines)} row(s) mark assistant turns weight 0; "
                                  f"{self.trainer.name}: {self.trainer.weight} ({self.trainer.weight_note})",
                                  "drop those turns, or use a trainer that honours weight"))
        return found


def _string_arguments(messages: Sequence[Any]) -> list[tuple[str, str]]:
    """(pointer, value) of every tool call whose arguments are a string."""
    found = []
    for index, message in enumerate(messages):
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        for number, call in enumerate(calls if isinstance(calls, list) else ()):
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                found.append((pointer("messages", index, "tool_calls", number, "function", "arguments"),
                              function["arguments"]))
    return found


def _parsed_arguments(messages: list[Any]) -> list[Any]:
    """The messages with string arguments parsed into objects where they are JSON (copies; the row is unchanged)."""
    out = []
    for message in messages:
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        if not isinstance(calls, list):
            out.append(message)
            continue
        new_calls = []
        for call in calls:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                with contextlib.suppress(ValueError):
                    function = {**function, "arguments": json.loads(function["arguments"])}
                call = {**call, "function": function}
            new_calls.append(call)
        out.append({**message, "tool_calls": new_calls})
    return out


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT - 3] + "..."


def _finding(code: str, path: str, line: int, where: str | None, message: str, fix: str) -> Finding:
    rule = {r.code: r for r in (TemplateCannotRender, OverTrainerLength, ArgumentsDoubleEncoded,
                                 TemplateSpecialTokenText, DroppedByTrainer, WeightIgnoredByTrainer)}[code]
    return Finding(code=code, name=rule.name, severity=rule.severity, path=path, line=line, column=None,
                   pointer=where, message=message, fix=fix)
