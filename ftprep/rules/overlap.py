"""FT520-FT549: train/validation leakage and within-file duplicate records.

Emitted after the pass, from the digests :class:`ftprep.overlap.DigestCollector` kept: the engine calls
:func:`overlap_findings` for a ``--validation`` pair and :func:`duplicate_findings` for each file.

Strictness: ``--strict-overlap`` keeps the same codes and raises the leak findings' severity to error
(:func:`overlap_findings` with ``strict=True``). A separate error code per kind would split one problem
over two codes, so ``--ignore FT520`` or a baseline would stop matching when the flag is switched on.
"""

from __future__ import annotations

from collections.abc import Iterable

from ftprep.lint.finding import Finding, Severity
from ftprep.lint.registry import Rule, register
from ftprep.overlap.compare import (
    EXACT,
    NEAR,
    NORMALISED,
    SAME_PROMPT,
    DigestCollector,
    Duplicate,
    OverlapReport,
    find_duplicates,
)


@register
class ExactLeak(Rule):
    """What it does
    Flags a validation line whose record is also in the training file (same record after parsing: key
    order and JSON whitespace do not matter), naming the training line.

    Why it matters
    The API's guidance is that the same data must not be in both files: the validation loss then measures
    memorisation, not generalisation, and looks better than the model is. Severity is warning; with
    `--strict-overlap` it is an error.

    Example
    Validation line 3 is `{"messages": [...]}` and training line 17 is the same record with its keys in
    another order.

    Fix
    Remove the record from one of the files, or re-split with `ftprep split`.
    """

    code = "FT520"
    name = "validation-exact-leak"
    severity = Severity.WARNING


@register
class NormalisedLeak(Rule):
    """What it does
    Flags a validation line whose texts equal a training line's after normalisation (Unicode NFKC, case
    folding, punctuation to spaces, whitespace collapsed) although the records differ. Compared texts:
    message contents, text parts, tool-call names and arguments, image references; DPO rows compare on
    `input`, reinforcement rows on `messages`, completions on prompt and completion.

    Why it matters
    A copy that differs only in case, spacing or punctuation leaks just as much as an exact one. Severity
    is warning; with `--strict-overlap` it is an error.

    Example
    Training: `"What is the capital of France?"`; validation: `"what is the capital of france"`, same
    answer.

    Fix
    Remove the record from one of the files, or re-split with `ftprep split`.
    """

    code = "FT521"
    name = "validation-normalised-leak"
    severity = Severity.WARNING


@register
class NearLeak(Rule):
    """What it does
    Flags a validation line that is a near-duplicate of a training line: the estimated Jaccard similarity
    of their word 3-shingles (MinHash, 64 permutations, LSH candidates) reaches the threshold (0.8 by
    default), reported with the estimate. Shingles found in at least 5% of either file's records (a shared
    system prompt or instruction template) are left out, so records that share only a template are not
    near-duplicates.

    Why it matters
    A lightly edited copy of a training example still tests memory rather than generalisation. Severity
    is warning; with `--strict-overlap` it is an error.

    Example
    Training: "What are some creative ways to promote the Surface Laptop 3?"; validation: the same
    question about the Surface Laptop 4 with the same answer.

    Fix
    Remove or rewrite one of the two; raise `--threshold` if such pairs are intended.
    """

    code = "FT522"
    name = "validation-near-leak"
    severity = Severity.WARNING


@register
class SamePromptLeak(Rule):
    """What it does
    Flags a validation line whose prompt (the conversation up to the last assistant message, normalised;
    a completion's prompt) equals a training line's while the answer differs.

    Why it matters
    The validation loss then scores the model on a prompt it was trained on; when the answers contradict
    each other it is also a labelling bug. Severity is warning; with `--strict-overlap` it is an error.

    Example
    Training: user "Rate this review: great value" -> "positive"; validation: the same prompt -> "neutral".

    Fix
    Keep each prompt in one file only, and settle on one answer.
    """

    code = "FT523"
    name = "validation-same-prompt-leak"
    severity = Severity.WARNING


@register
class DuplicateRecord(Rule):
    """What it does
    Flags a line whose record equals an earlier line's record (after parsing: key order and JSON whitespace
    do not matter) although the bytes differ, naming the first occurrence. Byte-identical repeats are
    FT502's (duplicate-line) and are not reported again here.

    Why it matters
    A repeated example is trained on more often than the others and skews the model towards it.

    Example
    Line 8 is `{"prompt": "a", "completion": "b"}`, line 30 is `{"completion": "b", "prompt": "a"}`.

    Fix
    Drop the repeats (`ftprep fix --dedupe`).
    """

    code = "FT524"
    name = "duplicate-record"
    severity = Severity.WARNING


@register
class NormalisedDuplicate(Rule):
    """What it does
    Flags a line whose texts equal an earlier line's after normalisation (NFKC, case folding, punctuation
    to spaces, whitespace collapsed) although the records differ, naming the first occurrence. DPO and
    reinforcement rows compare on their prompt: with other outputs or reference values they are reported
    as same-prompt-different-answer (FT527, info) instead, since several preference pairs per prompt are
    common practice.

    Why it matters
    Near-verbatim repeats weigh some examples more than others and waste training tokens.

    Example
    Line 4: "Hello, world!" -> "Hi."; line 9: "hello world" -> "hi".

    Fix
    Keep one of them.
    """

    code = "FT525"
    name = "normalised-duplicate"
    severity = Severity.WARNING


@register
class NearDuplicate(Rule):
    """What it does
    Flags a line that is a near-duplicate of an earlier line of the same file (estimated Jaccard similarity
    of word 3-shingles at or above the threshold, template shingles left out), naming the most similar
    earlier line. Only `ftprep overlap --within-near` (or an engine run with in-file near search on) looks
    for them, because it keeps a signature per record.

    Why it matters
    Clusters of near-identical examples reduce the effective size of the data set.

    Example
    Two product questions that differ in one word and have the same answer.

    Fix
    Keep the variants only if they teach something different.
    """

    code = "FT526"
    name = "near-duplicate"
    severity = Severity.INFO


@register
class SamePromptDifferentAnswer(Rule):
    """What it does
    Flags a line whose prompt (normalised conversation up to the last assistant message; a completion's
    prompt) equals an earlier line's while the answer differs, naming the earlier line.

    Why it matters
    The model is taught two answers to one question: fine for deliberately varied answers, a labelling bug
    when they contradict each other.

    Example
    Line 2: "Is 7 prime?" -> "Yes"; line 40: "Is 7 prime?" -> "No".

    Fix
    Check the answers and keep the right one, unless the variation is intended.
    """

    code = "FT527"
    name = "same-prompt-different-answer"
    severity = Severity.INFO


LEAK_RULES: dict[str, type[Rule]] = {EXACT: ExactLeak, NORMALISED: NormalisedLeak, NEAR: NearLeak,
                                     SAME_PROMPT: SamePromptLeak}
DUPLICATE_RULES: dict[str, type[Rule]] = {EXACT: DuplicateRecord, NORMALISED: NormalisedDuplicate,
                                          NEAR: NearDuplicate, SAME_PROMPT: SamePromptDifferentAnswer}
_KIND_TEXT = {EXACT: "the same record as", NORMALISED: "the same text (normalised) as",
              NEAR: "a near-duplicate of", SAME_PROMPT: "the same prompt with another answer as"}


def _finding(rule: type[Rule], path: str, line: int, message: str, fix: str,
             severity: Severity | None = None) -> Finding:
    return Finding(code=rule.code, name=rule.name, severity=severity or rule.severity, path=path, line=line,
                   column=None, pointer=None, message=message, fix=fix)


def _similarity(value: float | None) -> str:
    return f" (similarity {value:.2f})" if value is not None and value < 1.0 else ""


def overlap_findings(train_path: str, valid_path: str, report: OverlapReport, *, strict: bool = False,
                     enabled: Iterable[str] | None = None) -> list[Finding]:
    """One finding per leaking validation line, at that line of ``valid_path``, naming the training line.

    ``strict`` raises the severity to error (``--strict-overlap``); ``enabled`` (rule codes) filters.
    """
    codes = None if enabled is None else frozenset(enabled)
    findings = []
    for pair in report.pairs:
        rule = LEAK_RULES[pair.kind]
        if codes is not None and rule.code not in codes:
            continue
        message = (f"validation example is {_KIND_TEXT[pair.kind]} training example at {train_path}:"
                   f"{pair.train_line}{_similarity(pair.similarity)}")
        fix = f"remove it from {valid_path} or from {train_path} (line {pair.train_line}), or re-split"
        findings.append(_finding(rule, valid_path, pair.validation_line, message, fix,
                                 Severity.ERROR if strict else None))
    return findings


def duplicate_findings(path: str, collector: DigestCollector | Iterable[Duplicate], *,
                       enabled: Iterable[str] | None = None) -> list[Finding]:
    """One finding per within-file duplicate of ``path``, naming the first occurrence.

    Takes the file's collector (its duplicates are computed here) or duplicates already computed
    (``OverlapReport.train_duplicates``); ``enabled`` (rule codes) filters.
    """
    codes = None if enabled is None else frozenset(enabled)
    duplicates = find_duplicates(collector) if isinstance(collector, DigestCollector) else collector
    findings = []
    for dup in duplicates:
        rule = DUPLICATE_RULES[dup.kind]
        if codes is not None and rule.code not in codes:
            continue
        message = f"example is {_KIND_TEXT[dup.kind]} line {dup.first_line}{_similarity(dup.similarity)}"
        fix = (f"keep one of lines {dup.first_line} and {dup.line}" if dup.kind != SAME_PROMPT
               else f"check which answer is right (line {dup.first_line} or {dup.line})")
        findings.append(_finding(rule, path, dup.line, message, fix))
    return findings
