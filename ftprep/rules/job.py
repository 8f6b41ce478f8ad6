"""FT600-FT609: the file against the job: does the model take this format?"""

from __future__ import annotations

from ftprep.lint.finding import Severity
from ftprep.lint.registry import Rule, register


@register
class FormatModelMismatch(Rule):
    """What it does
    Flags a file whose format the chosen model and method do not take: chat for gpt-4o, gpt-4o-mini,
    gpt-4.1 and gpt-3.5-turbo; completions for babbage-002 and davinci-002; DPO rows for `--method dpo`;
    reinforcement rows for `--method reinforcement`.

    Why it matters
    The upload succeeds but the job fails after it was created, with one terse error.

    Example
    A `{"prompt", "completion"}` file checked with `--model gpt-4o-mini`.

    Fix
    Pick a model that takes the format (`--model davinci-002` for completions) or convert the file
    (`ftprep convert in.jsonl out.jsonl --to chat`).
    """

    code = "FT600"
    name = "format-model-mismatch"
    severity = Severity.ERROR
