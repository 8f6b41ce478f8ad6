"""FT500-FT519: the file as a whole: size, duplicates, mixed formats. Emitted by the engine at the end."""

from __future__ import annotations

from ftprep.lint.finding import Severity
from ftprep.lint.registry import Rule, register

MIN_EXAMPLES = 10


@register
class TooFewExamples(Rule):
    """What it does
    Flags a training file with fewer examples than the target requires (OpenAI and Azure 10, Fireworks 3,
    Together 1).

    Why it matters
    The fine-tuning API requires at least 10 examples and fails the job otherwise (and recommends 50 to
    100 for a visible effect).

    Example
    A file with 5 valid chat examples, checked for OpenAI.

    Fix
    Add examples until there are at least the target's minimum.
    """

    code = "FT500"
    name = "too-few-examples"
    severity = Severity.ERROR


@register
class TooManyExamples(Rule):
    """What it does
    Flags a training file with more examples than the target service takes (Fireworks: 3,000,000).

    Why it matters
    The service rejects the dataset, often after the upload, with a message that does not say why.

    Example
    A file of 3,500,000 chat examples checked with `--target fireworks`.

    Fix
    Drop or deduplicate examples (`ftprep fix --dedupe`), or split the data over several jobs.
    """

    code = "FT504"
    name = "too-many-examples"
    severity = Severity.ERROR


@register
class FileTooLarge(Rule):
    """What it does
    Flags a file larger than the target service takes in one file (OpenAI 8 GB through the Uploads API, Azure
    512 MB through its API, Together 50.1 GiB; Fireworks 150 MB for a direct upload, a note since larger files
    go through its signed-URL upload).

    Why it matters
    The upload fails, late, after the bytes were sent.

    Example
    A 600 MB training file checked with `--target azure`.

    Fix
    Split the file (`ftprep split`), drop duplicates (`ftprep fix --dedupe`), or use the service's large-file path.
    """

    code = "FT505"
    name = "file-too-large"
    severity = Severity.ERROR


@register
class StorageQuotaExceeded(Rule):
    """What it does
    Warns when the training and validation files together are larger than the target's storage quota per
    resource or account (Azure OpenAI: 1 GB of files per resource).

    Why it matters
    Files already stored there count too: the upload is refused once the quota is reached.

    Example
    A 700 MB training file and a 400 MB validation file checked with `--target azure`.

    Fix
    Make the files smaller, or delete files the resource no longer needs (`files.list` / `files.delete`).
    """

    code = "FT506"
    name = "storage-quota-exceeded"
    severity = Severity.WARNING


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
