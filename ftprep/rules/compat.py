"""FT610-FT629: the job against the model: does the model offer the method, and take images?

These are file-level facts, decided after the pass from the model table (:mod:`ftprep.data.models`) and
from :class:`JobFacts`, an observer the pass feeds (which examples hold images, which rows lack a grader
variable). ``check_files`` calls :func:`compat_findings` once per file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from ftprep.data.models import ModelInfo, ModelTable, default_models
from ftprep.formats.detect import CHAT, PREFERENCE
from ftprep.lint.context import Record, RecordContext
from ftprep.lint.finding import Finding, Severity
from ftprep.lint.registry import Rule, register
from ftprep.rules.job import FormatModelMismatch
from ftprep.rules.reinforcement import GraderVariables
from ftprep.rules.vision import has_images

if TYPE_CHECKING:
    from ftprep.engine import FileScan
    from ftprep.grader import Grader

METHOD_LABELS = {"supervised": "supervised fine-tuning", "dpo": "DPO", "reinforcement": "reinforcement fine-tuning"}


@register
class MethodNotSupported(Rule):
    """What it does
    Flags a job whose method the model does not offer: DPO only on the models that offer it (gpt-4o,
    gpt-4o-mini, gpt-4.1 family), reinforcement fine-tuning only on o4-mini, supervised not on o4-mini. The
    message names the models that would work. The method is `--method`, or the one the file's first record
    implies.

    Why it matters
    The file uploads fine, and the job is refused when it is created.

    Example
    `ftprep check prefs.jsonl --method dpo --model gpt-3.5-turbo`

    Fix
    Pick one of the models the message lists, or another method.
    """

    code = "FT610"
    name = "method-not-supported"
    severity = Severity.ERROR


@register
class VisionNotSupported(Rule):
    """What it does
    Flags a file with images when the model takes no image input (gpt-4o-mini, gpt-3.5-turbo, o4-mini...).
    One finding per file, with the number of examples that hold images and the first line.

    Why it matters
    Only vision-capable snapshots train on images; on the others the job fails or the images are dropped.

    Example
    `ftprep check charts.jsonl --model gpt-4o-mini` where rows hold `image_url` parts.

    Fix
    Use a vision model (gpt-4o-2024-08-06, gpt-4.1...), or remove the images.
    """

    code = "FT611"
    name = "vision-not-supported"
    severity = Severity.ERROR


class JobFacts:
    """Observer: what the job needs from the model (images), and grader variables missing per row."""

    def __init__(self, grader: Grader | None = None) -> None:
        self.grader = grader
        self.image_examples = 0
        self.first_image_line = 0
        self.variables = GraderVariables(grader.item_paths) if grader is not None else None

    def observe(self, line: int, kind: str, record: Record, raw: bytes) -> None:
        """Take one record: count it if it holds images, and note grader variables it lacks."""
        # Byte test first: almost no row of a text-only file contains the word, so the walk is rare. The
        # underscore (0x5F) is looked for first (memchr, several times cheaper than the word's search): most
        # rows hold none (no tool call, no image; 5-20% of the rows of the bench files have one). An integer
        # operand and find(): see engine.feed_line on `bytes in bytes`.
        if 0x5F in raw and raw.find(b"image_url") >= 0:
            messages = record.get("messages")
            if kind == PREFERENCE and isinstance(record.get("input"), dict):
                messages = record["input"].get("messages")
            if kind in (CHAT, PREFERENCE) and has_images(messages):
                self.image_examples += 1
                self.first_image_line = self.first_image_line or line
        if self.variables is not None:
            self.variables.observe(line, kind, record, raw)

    def shift_lines(self, offset: int) -> None:
        """Add ``offset`` to the line numbers (see :func:`ftprep.engine.relative_lines`)."""
        if self.first_image_line:
            self.first_image_line += offset
        if self.variables is not None:
            self.variables.shift_lines(offset)

    def merge(self, other: Self) -> None:
        """Fold in the observer of the following byte range."""
        if other.image_examples and not self.image_examples:
            self.first_image_line = other.first_image_line
        self.image_examples += other.image_examples
        if self.variables is not None and other.variables is not None:
            self.variables.merge(other.variables)


def _label(model: ModelInfo) -> str:
    return model.aliases[0] if model.aliases else model.name


def models_offering(table: ModelTable, method: str, *, kind: str | None = None, vision: bool = False) -> list[str]:
    """Names (alias if any) of the models that offer ``method`` (for records of ``kind``, with images if ``vision``)."""
    return sorted(_label(m) for m in table.models.values()
                  if method in m.methods and (kind is None or kind in m.formats) and (m.vision or not vision))


def compat_findings(info: ModelInfo, method: str | None, scan: FileScan, *, enabled: frozenset[str],
                    facts: JobFacts | None = None, models: ModelTable | None = None) -> list[Finding]:
    """File-level findings of the job against the model, and the per-row grader findings of ``facts``.

    ``method`` is the one given (None: the method the pass inferred, ``scan.method``). When the method was
    inferred and the format check already reported the file's format as one the model does not take,
    the method finding would repeat it and is left out.
    """
    table = models or default_models()
    ctx = RecordContext(path=scan.path, enabled=enabled, method=scan.method, model=info.name)
    effective = method or scan.method
    repeated = method is None and any(f.code == FormatModelMismatch.code for f in scan.findings)
    if effective not in info.methods and not repeated:
        offering = models_offering(table, effective, kind=scan.kind)
        other = f"pass --method {' or '.join(info.methods)}"
        ctx.emit(MethodNotSupported, None,
                 f"{_label(info)} does not offer {METHOD_LABELS.get(effective, effective)}"
                 + ("" if method else " (the method implied by the file's records)")
                 + (f"; models that do: {', '.join(offering)}" if offering else ""),
                 (f"{other}, or use --model {offering[0]}" if not method else
                  f"use --model {offering[0]}, or {other}") if offering else other, file_level=True)
    if facts is not None and facts.image_examples and not info.vision:
        offering = models_offering(table, effective, kind=scan.kind, vision=True)
        ctx.emit(VisionNotSupported, None,
                 f"{facts.image_examples} example(s) hold images (first at line {facts.first_image_line}), but "
                 f"{_label(info)} takes no image input"
                 + (f"; vision models for {METHOD_LABELS.get(effective, effective)}: {', '.join(offering)}"
                    if offering else ""),
                 f"use --model {offering[0]}" if offering else "remove the images", file_level=True)
    if facts is not None and facts.variables is not None and facts.grader is not None:
        facts.variables.emit(ctx, facts.grader.name)
    return ctx.findings
