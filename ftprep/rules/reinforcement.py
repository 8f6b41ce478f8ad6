"""FT260-FT269: reinforcement fine-tuning rows: a prompt ending with a user turn, and the grader's variables.

Under ``--method reinforcement`` the chat walker accepts the ``developer`` role and extra top-level keys
(grader variables). The grader variables a ``--grader`` file reads are checked against every row by
:class:`GraderVariables`, an observer fed by the engine's pass (see :mod:`ftprep.rules.compat`).
"""

from __future__ import annotations

from array import array
from typing import Self

from ftprep.formats.detect import CHAT
from ftprep.lint.context import Record, RecordContext, record_check, shifted
from ftprep.lint.finding import Severity, pointer
from ftprep.lint.registry import Rule, register

MAX_LISTED_KEYS = 10


@register
class RftLastMessageNotUser(Rule):
    """What it does
    Flags a reinforcement fine-tuning row whose last message is not a user message.

    Why it matters
    In RFT the model writes the answer during training; the prompt must end with the user turn it answers.
    A row ending with a developer, system or tool message is rejected.

    Example
    `{"messages": [{"role": "user", "content": "Solve..."}, {"role": "developer", "content": "Be brief."}]}`

    Fix
    Put instructions first (developer or system message) and end the messages with the user turn.
    """

    code = "FT260"
    name = "rft-last-message-not-user"
    severity = Severity.ERROR


@register
class RftAssistantMessage(Rule):
    """What it does
    Flags a reinforcement fine-tuning row that contains an assistant message.

    Why it matters
    RFT rows hold only the prompt: the model samples answers and the grader scores them. An answer in the
    row is usually a supervised file passed with `--method reinforcement`; the reference answer belongs in
    a grader variable.

    Example
    `{"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}`

    Fix
    Drop the assistant message and move the answer into a top-level key the grader reads:
    `{"messages": [{"role": "user", "content": "2+2?"}], "reference_answer": "4"}`.
    """

    code = "FT261"
    name = "rft-assistant-message"
    severity = Severity.ERROR


@register
class GraderVariableMissing(Rule):
    """What it does
    With `--grader FILE`, flags a row that lacks a key the grader reads as `{{item.<key>}}` (or as
    `item["<key>"]` in a python grader). Multi graders, model-grader input templates and python source are
    all searched.

    Why it matters
    The job fails, or scores every sample of the row as wrong, when the grader reads a variable the row
    does not have; this is found only after the job started.

    Example
    A string_check grader with `"reference": "{{item.reference_answer}}"` and a row
    `{"messages": [{"role": "user", "content": "..."}]}`.

    Fix
    Add the key to every row (`"reference_answer": "B"`), or correct the template in the grader.
    """

    code = "FT262"
    name = "grader-variable-missing"
    severity = Severity.ERROR


@record_check(CHAT, methods=("reinforcement",))
def check_reinforcement_row(record: Record, ctx: RecordContext) -> None:
    """Under the reinforcement method: no assistant message, and the last message is a user message."""
    if ctx.method != "reinforcement":
        return
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        return  # reported by the schema rules
    for index, message in enumerate(messages):
        if isinstance(message, dict) and message.get("role") == "assistant":
            ctx.emit(RftAssistantMessage, pointer("messages", index),
                     "assistant message in a reinforcement row: the model writes the answer during training",
                     "drop it and put the reference answer in a top-level key the grader reads")
            break
    last = messages[-1]
    if isinstance(last, dict) and last.get("role") not in ("user", "assistant"):
        role = last.get("role")
        ctx.emit(RftLastMessageNotUser, pointer("messages", len(messages) - 1),
                 f"reinforcement row ends with a {role} message, not a user message" if isinstance(role, str)
                 else "reinforcement row does not end with a user message",
                 "end the messages with the user turn the model answers")


class GraderVariables:
    """Observer: the rows (lines) that lack each key the grader reads.

    Memory is one 4-byte line number per missing key per row.
    """

    def __init__(self, paths: tuple[tuple[str, ...], ...]) -> None:
        self.paths = paths
        self.keys = tuple(".".join(path) for path in paths)
        self.missing: dict[str, array[int]] = {key: array("I") for key in self.keys}

    def observe(self, line: int, kind: str, record: Record, raw: bytes) -> None:
        """Note the keys (key paths: ``{{item.a.b}}`` reads the key b of the object a) this row lacks."""
        for path, key in zip(self.paths, self.keys, strict=True):
            value: object = record
            for step in path:
                if not isinstance(value, dict) or step not in value:
                    self.missing[key].append(line)
                    break
                value = value[step]

    def shift_lines(self, offset: int) -> None:
        """Add ``offset`` to the line numbers (see :func:`ftprep.engine.relative_lines`)."""
        for key, lines in self.missing.items():
            self.missing[key] = shifted(lines, offset)

    def merge(self, other: Self) -> None:
        """Fold in the observer of the following byte range."""
        for key, lines in other.missing.items():
            self.missing.setdefault(key, array("I")).extend(lines)

    def emit(self, ctx: RecordContext, grader_name: str) -> None:
        """Emit one :class:`GraderVariableMissing` per row and missing key, in line order."""
        by_line = sorted((line, key) for key, lines in self.missing.items() for line in lines)
        # The fix names the grader's keys up to a few: listing thousands in every finding made the findings'
        # memory grow with rows x keys x keys (6.6 GB for a grader of 4,000 keys).
        listed = ", ".join(repr(k) for k in self.keys[:MAX_LISTED_KEYS])
        more = len(self.keys) - MAX_LISTED_KEYS
        present = f"the grader reads: {listed}" if more <= 0 else (
            f"the grader reads {len(self.keys):,} keys: {listed} and {more:,} more")
        for line, key in by_line:
            ctx.at(line).emit(GraderVariableMissing, "",
                              f"row has no {key!r}, which the grader{' ' + repr(grader_name) if grader_name else ''}"
                              f" reads as {{{{item.{key}}}}}",
                              f"add {key!r} to the row ({present})")
