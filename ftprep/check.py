"""``check_files``: the library entry point behind ``ftprep check`` (and the upload gate)."""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ftprep.config import Config
from ftprep.data.models import ModelInfo, ModelTable
from ftprep.data.targets import DEFAULT_TARGET, Target, load_target
from ftprep.data.trainers import DEFAULT_TRAINER, Trainer, get_trainer
from ftprep.diagnose import apply_diagnosis
from ftprep.engine import FileScan, ScanOptions, emit_repeated_lines, scan_file
from ftprep.errors import ConfigError, did_you_mean
from ftprep.formats.detect import CHAT, COMPLETION, PREFERENCE
from ftprep.jsonl.discover import expand_paths
from ftprep.jsonl.reader import display_name, original_path, source_kind
from ftprep.jsonl.records import as_paths
from ftprep.lint.context import RecordContext, RecordObserver, omit
from ftprep.lint.finding import Finding, Severity
from ftprep.overlap.compare import DigestCollector, PromptKeys, find_duplicates
from ftprep.overlap.near import DEFAULT_THRESHOLD
from ftprep.overlap_pass import find_file_repeats, find_overlap
from ftprep.rules.catalog import get_rule, select_codes
from ftprep.rules.compat import JobFacts, compat_findings
from ftprep.rules.dataset import FileTooLarge, StorageQuotaExceeded
from ftprep.rules.lifecycle import lifecycle_findings
from ftprep.rules.overlap import DUPLICATE_RULES, duplicate_findings, overlap_findings
from ftprep.rules.template import TemplateChecks
from ftprep.rules.tokens import use_model_table

if TYPE_CHECKING:
    from ftprep.tokens.hf_tokenizer import HFTokenizer

DEFAULT_MODEL = "gpt-4o-mini"
HF_TARGET = "hf"
DUPLICATE_CODES = frozenset(rule.code for rule in DUPLICATE_RULES.values())
METHODS = ("supervised", "dpo", "reinforcement")
METHOD_NAMES = {"supervised": "supervised", "dpo": "DPO", "reinforcement": "reinforcement"}


@dataclass(slots=True)
class CheckResult:
    """The outcome of checking one or more files: per-file scans and every finding, in file/line order."""

    files: list[FileScan] = field(default_factory=list)
    model: str = DEFAULT_MODEL
    extra_findings: list[Finding] = field(default_factory=list)
    target: str = DEFAULT_TARGET

    @property
    def findings(self) -> list[Finding]:
        """All findings of all files, file-level ones first within each file."""
        found = [f for scan in self.files for f in scan.findings] + self.extra_findings
        return sorted(found, key=Finding.sort_key)

    @property
    def total(self) -> int:
        """Number of findings, those only counted (``keep_findings``) included."""
        return sum(scan.total for scan in self.files) + len(self.extra_findings)

    def count(self, severity: Severity) -> int:
        """Number of findings of one severity, those only counted (``keep_findings``) included."""
        return (sum(scan.count(severity) for scan in self.files)
                + sum(1 for f in self.extra_findings if f.severity is severity))

    @property
    def errors(self) -> int:
        """Number of errors (the exit code is 1 when this is not 0)."""
        return self.count(Severity.ERROR)

    @property
    def warnings(self) -> int:
        """Number of warnings."""
        return self.count(Severity.WARNING)


def expected_kinds(model: ModelInfo, method: str | None) -> frozenset[str]:
    """The record kinds a job with this model and method takes (method None: any the model takes)."""
    formats = set(model.formats)
    if method == "dpo":
        return frozenset({PREFERENCE})
    if method in ("supervised", "reinforcement"):
        return frozenset(formats & {CHAT, COMPLETION})
    return frozenset(formats)


def resolve_target(target: str | Target | None, config: Config) -> Target:
    """The target to check for: ``target`` (a name or a loaded one), else the configuration's, else OpenAI."""
    if isinstance(target, Target):
        return target
    return load_target(target or config.target or DEFAULT_TARGET, config.targets, config.models)


def resolve_job_model(job_target: Target, model: str | None, config: Config) -> ModelInfo:
    """The model a job on ``job_target`` trains: ``model``, else the configuration's when the target has it,
    else the target's default. An unknown ``--model`` is an error naming the target's models."""
    table: ModelTable = job_target.models
    if model:
        return _resolve_for(job_target, model)
    if config.model:
        try:
            return table.resolve(config.model)
        except ConfigError:
            if job_target.name == (config.target or DEFAULT_TARGET):
                raise
    return table.resolve(job_target.default_model)


def _resolve_for(job_target: Target, model: str) -> ModelInfo:
    try:
        return job_target.models.resolve(model)
    except ConfigError:
        raise ConfigError(
            f"unknown model {model!r} for target {job_target.name!r}"
            f"{did_you_mean(model, job_target.models.names()) or ';'} its models: "
            f"{', '.join(job_target.models.names())}. Add it under [tool.ftprep.targets.{job_target.name}.models]"
        ) from None


def _configured_validation(path: str, config: Config) -> bool:
    """Whether ``path`` is the validation file of a ``[tool.ftprep] pairs`` entry (held to a validation
    file's minimum of one example when checked alone, as the pre-commit hook checks each staged file)."""
    if not config.pairs:
        return False
    try:
        resolved = Path(original_path(path)).resolve()
    except (OSError, RuntimeError):  # a path that cannot be resolved (a symlink loop): not a configured one
        return False
    return any(Path(valid).resolve() == resolved for _, valid in config.resolved_pairs())


def check_files(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | Iterable[Mapping[str, Any]] | Any,
    *,
    validation: str | os.PathLike[str] | None = None,
    model: str | None = None,
    method: str | None = None,
    target: str | Target | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    config: Config | None = None,
    observers: Callable[[str], Sequence[RecordObserver]] | None = None,
    min_examples: int | None = None,
    today: dt.date | None = None,
    grader: str | None = None,
    strict_overlap: bool = False,
    within_near: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Callable[[int], None] | None = None,
    tokenizer: str | None = None,
    trainer: str | None = None,
    max_length: int | None = None,
    keep_findings: int = 0,
) -> CheckResult:
    """Check training files (and a validation file) against the format the target service enforces.

    ``target`` names the service (``openai``, the default, ``azure``, ``together``, ``fireworks`` or one of the
    configuration's); its rule parameters, severities and model table apply. ``model``/``method``/``target``/
    ``select``/``ignore`` default to the configuration's values. ``observers`` makes
    the observers to feed for a path (the same pass collects token counts or digests); ``min_examples``
    is the training file's minimum (default: the target's; a validation file needs one); ``today`` dates the
    model lifecycle warnings (default: today); ``grader`` is a reinforcement grader JSON file whose
    ``{{item.X}}`` keys every row must have. Duplicates inside each file are found in the same pass
    (near-duplicates, which keep a MinHash signature per example, only with ``within_near``); with a
    ``validation`` file each training file is compared with it for leaks (errors instead of warnings with
    ``strict_overlap``; ``threshold`` is the near-duplicate Jaccard similarity); ``progress`` is called with
    byte counts as the files are read. ``tokenizer`` is a Hugging Face tokenizer folder whose chat template every
    chat row is rendered with (FT410-FT413); ``trainer`` (``trl``, ``unsloth``, ``axolotl``, ``llamafactory``;
    default ``trl`` on the ``hf`` target) adds its habits (FT414, FT415) and its default ``max_length`` (FT411).
    ``keep_findings`` (0: all) keeps at most that many line findings of each rule per byte range of a file and
    counts the others in :attr:`FileScan.omitted`, for a caller that needs counts and examples, not every
    finding (memory stays bounded on a file with millions of errors).
    Raises
    :class:`ConfigError` for an unknown target, model, method or rule selector or a bad grader file and
    :class:`InputError` for an unreadable file.
    """
    # One path or several, or records in memory (dicts, a DataFrame, a Dataset): written to a temporary file
    # named <records>, removed at the return or when an exception unwinds.
    with as_paths(paths) as given:
        return _check_paths(given, validation=validation, model=model, method=method, target=target, select=select,
                            ignore=ignore, config=config, observers=observers, min_examples=min_examples,
                            today=today, grader=grader, strict_overlap=strict_overlap, within_near=within_near,
                            threshold=threshold, progress=progress, tokenizer=tokenizer, trainer=trainer,
                            max_length=max_length, keep_findings=keep_findings)


def _check_paths(
    given: list[str | os.PathLike[str]],
    *,
    validation: str | os.PathLike[str] | None,
    model: str | None,
    method: str | None,
    target: str | Target | None,
    select: Sequence[str],
    ignore: Sequence[str],
    config: Config | None,
    observers: Callable[[str], Sequence[RecordObserver]] | None,
    min_examples: int | None,
    today: dt.date | None,
    grader: str | None,
    strict_overlap: bool,
    within_near: bool,
    threshold: float,
    progress: Callable[[int], None] | None,
    tokenizer: str | None,
    trainer: str | None,
    max_length: int | None,
    keep_findings: int,
) -> CheckResult:
    """:func:`check_files` on paths (records in memory already written to a file)."""
    config = config or Config()
    method = method or config.method
    # A folder stands for the JSONL files under it.
    paths = expand_paths(given, config.exclude, config.root)
    validation = None if validation is None else os.fspath(validation)
    if validation is not None and source_kind(validation) == "stream":
        raise ConfigError(f"{display_name(validation)}: the overlap check reads the validation file more than once; "
                          "pass a file, or copy the pipe first (jsonl.reader.spooled; the command line does)")
    if method is not None and method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; use one of: {', '.join(METHODS)}")
    job_target = resolve_target(target, config)
    table = job_target.models
    info = resolve_job_model(job_target, model, config)
    model_name = model or (info.aliases[0] if info.aliases else info.name)
    params = job_target.params
    use_model_table(table)  # the token rules look the job's model up by name, user-defined ones included
    result = CheckResult(model=info.name, target=job_target.name)
    job_grader = None
    if grader:
        from ftprep.grader import load_grader  # only reinforcement checks with a grader file need it

        job_grader = load_grader(grader)
    base_select = list(select or config.select)
    base_ignore = list(ignore) + list(config.ignore)
    switched_off = [code for code, level in job_target.severity.items() if level == "off"]
    template = TemplatePlan.of(job_target, tokenizer, trainer, max_length)
    training_minimum = min_examples if min_examples is not None else params.min_examples

    def enabled_for(path: str) -> frozenset[str]:
        return select_codes(base_select, base_ignore + switched_off + config.ignored_for(original_path(path)))

    for path in [*paths, *([validation] if validation else [])]:
        enabled = enabled_for(path)
        options = ScanOptions(
            enabled=enabled, model=info.name, method=method,
            expected_kinds=expected_kinds(info, method),
            model_label=f"a {METHOD_NAMES[method]} job on {model_name}" if method else model_name,
            min_examples=1 if path == validation or _configured_validation(path, config) else training_minimum,
            max_examples=params.max_examples, target=params, keep_findings=keep_findings,
        )
        facts = JobFacts(job_grader)
        # Duplicates need a digest of every record's normalised text: only when a duplicate rule is on. A
        # file that can be read again keeps prompt digests only and digests in full the lines sharing one.
        digests: DigestCollector | PromptKeys | None = None
        if enabled & DUPLICATE_CODES:
            digests = (DigestCollector(within_near=within_near, threshold=threshold)
                       if within_near or source_kind(path) == "stream"  # a pipe is read once
                       else PromptKeys())
        if isinstance(digests, PromptKeys):
            # Repeated lines are looked for among the lines the second step reads (see ScanOptions).
            options = replace(options, line_digests=False)
        feed: list[RecordObserver] = [*(observers(path) if observers else ()), facts]
        template_checks = template.observer() if template is not None else None
        if template_checks is not None:
            feed.append(template_checks)
        scan = scan_file(path, options, feed + ([digests] if digests is not None else []), progress=progress)
        # File-level findings go into the file's own list, so that its verdict counts them.
        _add(scan, compat_findings(info, method, scan, enabled=enabled, facts=facts, models=table))
        _add(scan, size_findings(scan.path, path, job_target, enabled))
        if template is not None and template_checks is not None:
            _add(scan, template_checks.findings(scan.path, template.max_length, enabled), keep_findings)
        if isinstance(digests, PromptKeys):
            duplicates, repeats = find_file_repeats(path, digests)
            _add(scan, duplicate_findings(scan.path, duplicates, enabled=enabled), keep_findings)
            context = RecordContext(path=scan.path, enabled=enabled, target=params)
            emit_repeated_lines(context, repeats)
            _add(scan, context.findings, keep_findings)
        elif digests is not None:
            _add(scan, duplicate_findings(scan.path, find_duplicates(digests), enabled=enabled), keep_findings)
        # The file as a whole (a JSON array, Alpaca rows ...): one finding, and the line findings cut.
        apply_diagnosis(path, scan, enabled=enabled, method_given=method is not None,
                        reinforcement_model=_reinforcement_model(table))
        result.files.append(scan)
    if paths:
        enabled = enabled_for(paths[0])
        first = result.files[0]
        _add(first, lifecycle_findings(info.name, first.path, today or dt.date.today(), table=table, enabled=enabled))
        _add(first, quota_findings(first.path, [*paths, *([validation] if validation else [])], job_target,
                                   enabled))
    if validation:
        valid_scan = result.files[-1]
        enabled = enabled_for(validation)
        for train_path in paths:
            report = find_overlap(train_path, validation, threshold=threshold)
            _add(valid_scan, overlap_findings(display_name(train_path), valid_scan.path, report, strict=strict_overlap,
                                              enabled=enabled), keep_findings)
    _apply_severities(result, job_target)
    return result


@dataclass(frozen=True, slots=True)
class TemplatePlan:
    """What the chat-template checks need: the tokenizer folder, the trainer and the length limit."""

    tokenizer: HFTokenizer
    trainer: Trainer | None
    max_length: int | None

    @classmethod
    def of(cls, job_target: Target, tokenizer: str | None, trainer: str | None,
           max_length: int | None) -> TemplatePlan | None:
        """The plan for these options (None: no tokenizer folder, nothing to render)."""
        if (trainer is not None or max_length is not None) and tokenizer is None:
            raise ConfigError("--trainer and --max-length need --tokenizer DIR (the chat template to measure)")
        if tokenizer is None:
            return None
        from ftprep.tokens.hf_tokenizer import load_hf_tokenizer

        if trainer is None and job_target.name == HF_TARGET:
            trainer = DEFAULT_TRAINER
        chosen = get_trainer(trainer) if trainer is not None else None
        limit = max_length if max_length is not None else chosen.max_length.value if chosen is not None else None
        return cls(load_hf_tokenizer(tokenizer), chosen, limit)

    def observer(self) -> TemplateChecks:
        """A fresh observer for one file."""
        return TemplateChecks(self.tokenizer, self.trainer)


def _reinforcement_model(table: ModelTable) -> str | None:
    """A model of the table that offers reinforcement fine-tuning (named in FT012's command)."""
    return next((name for name in table.names() if "reinforcement" in table.resolve(name).methods), None)


def _file_size(path: str) -> int | None:
    """Bytes of a regular file on disk (None: standard input, a pipe, or not a regular file)."""
    if path == "-":
        return None
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def size_findings(shown: str, path: str, job_target: Target, enabled: frozenset[str]) -> list[Finding]:
    """FT505: the file is larger than the target takes in one file."""
    limit = job_target.params.max_file_bytes
    size = _file_size(path)
    if limit is None or size is None or size <= limit or FileTooLarge.code not in enabled:
        return []
    fact = job_target.fact("max_file_bytes")
    note = f" ({fact.note})" if fact is not None and fact.note else ""
    return [Finding(code=FileTooLarge.code, name=FileTooLarge.name, severity=FileTooLarge.severity, path=shown,
                    line=None, column=None, pointer=None,
                    message=f"file is {_size(size)}; {job_target.name} takes at most {_size(limit)} per file{note}",
                    fix="split the file (ftprep split) or drop duplicates (ftprep fix --dedupe)")]


def quota_findings(shown: str, paths: Sequence[str], job_target: Target, enabled: frozenset[str]) -> list[Finding]:
    """FT506: the files together are larger than the target's storage quota."""
    limit = job_target.params.max_total_bytes
    sizes = [size for size in map(_file_size, paths) if size is not None]
    total = sum(sizes)
    if limit is None or total <= limit or StorageQuotaExceeded.code not in enabled:
        return []
    fact = job_target.fact("max_total_bytes")
    note = f" ({fact.note})" if fact is not None and fact.note else ""
    return [Finding(code=StorageQuotaExceeded.code, name=StorageQuotaExceeded.name,
                    severity=StorageQuotaExceeded.severity, path=shown, line=None, column=None, pointer=None,
                    message=f"the {len(sizes)} file(s) hold {_size(total)}; {job_target.name}'s storage quota is "
                            f"{_size(limit)}{note}",
                    fix="make the files smaller, or delete stored files the account no longer needs")]


def _size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size} bytes"


def severity_levels(job_target: Target) -> dict[str, Severity]:
    """The severities the target sets, per rule code (a rule it switches to warning or info)."""
    return {get_rule(key).code: Severity(level) for key, level in job_target.severity.items() if level != "off"}


def _apply_severities(result: CheckResult, job_target: Target) -> None:
    """The target's severities: a rule it switches to warning or info (``off`` rules were never enabled)."""
    levels = severity_levels(job_target)
    if not levels:
        return
    for scan in result.files:
        scan.findings = [replace(f, severity=levels[f.code]) if f.code in levels else f for f in scan.findings]
        for code, tally in scan.omitted.items():
            tally.severity = levels.get(code, tally.severity)
    result.extra_findings = [replace(f, severity=levels[f.code]) if f.code in levels else f
                             for f in result.extra_findings]


def _add(scan: FileScan, findings: Sequence[Finding], keep: int = 0) -> None:
    """Merge findings into a file's sorted list; with ``keep``, a rule's line findings past the first
    ``keep`` of the file are only counted (:attr:`FileScan.omitted`), as the pass counts them."""
    if not findings:
        return
    added = findings
    if keep:
        added = sorted(findings, key=Finding.sort_key)  # the first of each rule by line are the ones kept
        kept = Counter(f.code for f in scan.findings if f.line is not None)
        listed = []
        for finding in added:
            if finding.line is None or kept[finding.code] < keep:
                kept[finding.code] += finding.line is not None
                listed.append(finding)
                continue
            omit(scan.omitted, finding.code, finding.name, finding.severity, finding.line, finding.fix)
        added = listed
    scan.findings = sorted([*scan.findings, *added], key=Finding.sort_key)
