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
    all searched. One finding per missing key, up to 10 per row; the rest of a row's missing keys are
    counted in one more finding.

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


@register
class MissingGroundTruth(Rule):
    """What it does
    Flags a reinforcement row without a `ground_truth` key, for a target whose reinforcement rows carry one
    (Fireworks: `messages` plus `ground_truth` in the same row, read by the evaluator).

    Why it matters
    The evaluator scores each sampled answer against the row's `ground_truth`; without it the row cannot be
    scored and the dataset is rejected.

    Example
    `{"messages": [{"role": "user", "content": "2+2?"}]}` checked with `--target fireworks --method reinforcement`.

    Fix
    Add the expected answer: `{"messages": [...], "ground_truth": "4"}` (OpenAI-style rows keep it under
    another key, such as `reference_answer`: rename it).
    """

    code = "FT263"
    name = "missing-ground-truth"
    severity = Severity.ERROR


@record_check(CHAT, methods=("reinforcement",))
def check_reinforcement_row(record: Record, ctx: RecordContext) -> None:
    """Under the reinforcement method: no assistant message, and the last message is a user message."""
    if ctx.method != "reinforcement":
        return
    if ctx.target.reinforcement_rows == "ground_truth" and "ground_truth" not in record:
        ctx.emit(MissingGroundTruth, "", f"reinforcement row has no `ground_truth`, which {ctx.target.name} reads",
                 'add "ground_truth": "<the expected answer>" to the row')
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


# How many missing keys a row gets a finding each for, and how many of the grader's keys a fix lists.
LISTED_KEYS = 10


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
        """Emit :class:`GraderVariableMissing` per row and missing key, in line order: at most
        :data:`LISTED_KEYS` per row, then one finding for the rest, so that a grader reading thousands of
        keys gives findings in proportion to the rows, not to rows times keys."""
        order = {key: index for index, key in enumerate(self.keys)}
        by_line: dict[int, list[str]] = {}
        for key, lines in self.missing.items():
            for line in lines:
                by_line.setdefault(line, []).append(key)
        # Every finding's fix lists a few of the grader's keys, not all of them (its size stays bounded).
        present = ", ".join(repr(k) for k in self.keys[:LISTED_KEYS])
        if len(self.keys) > LISTED_KEYS:
            present += f" and {len(self.keys) - LISTED_KEYS} more"
        grader = f"the grader{' ' + repr(grader_name) if grader_name else ''}"
        for line in sorted(by_line):
            keys = sorted(by_line[line], key=order.__getitem__)
            for key in keys[:LISTED_KEYS]:
                ctx.at(line).emit(GraderVariableMissing, "", f"row has no {key!r}, which {grader} reads as "
                                  f"{{{{item.{key}}}}}", f"add {key!r} to the row (the grader reads: {present})")
            rest = keys[LISTED_KEYS:]
            if rest:
                ctx.at(line).emit(GraderVariableMissing, "", f"row also lacks {len(rest)} more keys {grader} "
                                  f"reads ({', '.join(repr(k) for k in rest[:3])}, ...)",
                                  "add every key the grader reads to the row")
