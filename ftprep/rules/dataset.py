"""FT500-FT519: the file as a whole: size, duplicates, mixed formats. Emitted by the engine at the end."""

from __future__ import annotations

from ftprep.lint.finding import Severity
from ftprep.lint.registry import Rule, register

MIN_EXAMPLES = 10


@register
class TooFewExamples(Rule):
    """What it does
    Flags a training file with fewer than 10 examples.

    Why it matters
    The fine-tuning API requires at least 10 examples and fails the job otherwise (and recommends 50 to
    100 for a visible effect).

    Example
    A file with 5 valid chat examples.

    Fix
    Add examples until there are at least 10.
    """

    code = "FT500"
    name = "too-few-examples"
    severity = Severity.ERROR


@register
class EmptyFile(Rule):
    """What it does
    Flags a file that is empty or holds only blank lines.

    Why it matters
    An empty upload fails, usually because an export step wrote nothing.

    Example
    A zero-byte `train.jsonl`.

    Fix
    Check the step that wrote the file.
    """

    code = "FT501"
    name = "empty-file"
    severity = Severity.ERROR


@register
class DuplicateLine(Rule):
    """What it does
    Flags a line that is byte-for-byte the same as an earlier line, naming the first occurrence.

    Why it matters
    Duplicates weigh some examples more than others and waste training tokens; across a train/validation
    split they make the validation loss meaningless.

    Example
    Line 40 repeats line 12 exactly.

    Fix
    Drop the repeats (`ftprep fix --dedupe`).
    """

    code = "FT502"
    name = "duplicate-line"
    severity = Severity.WARNING


@register
class MixedFormat(Rule):
    """What it does
    Flags a record in another format than most of the file (a completions line in a chat file, an SFT row
    in a DPO file).

    Why it matters
    A training file has one format, chosen by the model and method; the API rejects rows of another one.

    Example
    `{"prompt": "...", "completion": "..."}` in a file of `{"messages": [...]}` rows.

    Fix
    Convert the row (`ftprep convert`) or move it to its own file.
    """

    code = "FT503"
    name = "mixed-format"
    severity = Severity.ERROR
