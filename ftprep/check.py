"""``check_files``: the library entry point behind ``ftprep check`` (and the upload gate)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from ftprep.config import Config
from ftprep.data.models import ModelInfo, load_models
from ftprep.engine import FileScan, ScanOptions, emit_repeated_lines, scan_file
from ftprep.errors import ConfigError
from ftprep.formats.detect import CHAT, COMPLETION, PREFERENCE
from ftprep.jsonl.reader import display_name, original_path, source_kind
from ftprep.lint.context import RecordContext, RecordObserver
from ftprep.lint.finding import Finding, Severity
from ftprep.lint.registry import select_codes
from ftprep.overlap.compare import DigestCollector, PromptKeys, find_duplicates, find_file_repeats, find_overlap
from ftprep.overlap.near import DEFAULT_THRESHOLD
from ftprep.rules.compat import JobFacts, compat_findings
from ftprep.rules.dataset import MIN_EXAMPLES
from ftprep.rules.lifecycle import lifecycle_findings
from ftprep.rules.overlap import DUPLICATE_RULES, duplicate_findings, overlap_findings
from ftprep.rules.tokens import use_model_table

DEFAULT_MODEL = "gpt-4o-mini"
DUPLICATE_CODES = frozenset(rule.code for rule in DUPLICATE_RULES.values())
METHODS = ("supervised", "dpo", "reinforcement")
METHOD_NAMES = {"supervised": "supervised", "dpo": "DPO", "reinforcement": "reinforcement"}


@dataclass(slots=True)
class CheckResult:
    """The outcome of checking one or more files: per-file scans and every finding, in file/line order."""

    files: list[FileScan] = field(default_factory=list)
    model: str = DEFAULT_MODEL
    extra_findings: list[Finding] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        """All findings of all files, file-level ones first within each file."""
        found = [f for scan in self.files for f in scan.findings] + self.extra_findings
        return sorted(found, key=Finding.sort_key)

    def count(self, severity: Severity) -> int:
        """Number of findings of one severity."""
        return sum(1 for f in self.findings if f.severity is severity)

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


def check_files(
    paths: Sequence[str],
    *,
    validation: str | None = None,
    model: str | None = None,
    method: str | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    config: Config | None = None,
    observers: Callable[[str], Sequence[RecordObserver]] | None = None,
    min_examples: int = MIN_EXAMPLES,
    today: dt.date | None = None,
    grader: str | None = None,
    strict_overlap: bool = False,
    within_near: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Callable[[int], None] | None = None,
) -> CheckResult:
    """Check training files (and a validation file) against the format the API enforces.

    ``model``/``method``/``select``/``ignore`` default to the configuration's values. ``observers`` makes
    the observers to feed for a path (the same pass collects token counts or digests); ``min_examples``
    is the training file's minimum (a validation file needs one); ``today`` dates the model lifecycle
    warnings (default: today); ``grader`` is a reinforcement grader JSON file whose ``{{item.X}}`` keys
    every row must have. Duplicates inside each file are found in the same pass (near-duplicates, which
    keep a MinHash signature per example, only with ``within_near``); with a ``validation`` file each
    training file is compared with it for leaks (errors instead of warnings with ``strict_overlap``;
    ``threshold`` is the near-duplicate Jaccard similarity); ``progress`` is called with byte counts as the
    files are read. Raises
    :class:`ConfigError` for an unknown model, method or rule selector or a bad grader file and
    :class:`InputError` for an unreadable file.
    """
    config = config or Config()
    model_name = model or config.model or DEFAULT_MODEL
    method = method or config.method
    if validation is not None and source_kind(validation) == "stream":
        raise ConfigError(f"{display_name(validation)}: the overlap check reads the validation file more than once; "
                          "pass a file, or copy the pipe first (jsonl.reader.spooled; the command line does)")
    if method is not None and method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; use one of: {', '.join(METHODS)}")
    table = load_models(config.models)
    info = table.resolve(model_name)
    use_model_table(table)  # the token rules look the job's model up by name, user-defined ones included
    result = CheckResult(model=info.name)
    job_grader = None
    if grader:
        from ftprep.grader import load_grader  # only reinforcement checks with a grader file need it

        job_grader = load_grader(grader)
    base_select = list(select or config.select)
    base_ignore = list(ignore) + list(config.ignore)
    for path in [*paths, *([validation] if validation else [])]:
        enabled = select_codes(base_select, base_ignore + config.ignored_for(original_path(path)))
        options = ScanOptions(
            enabled=enabled, model=info.name, method=method,
            expected_kinds=expected_kinds(info, method),
            model_label=f"a {METHOD_NAMES[method]} job on {model_name}" if method else model_name,
            min_examples=min_examples if path != validation else 1,
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
        scan = scan_file(path, options, feed + ([digests] if digests is not None else []), progress=progress)
        # File-level findings go into the file's own list, so that its verdict counts them.
        _add(scan, compat_findings(info, method, scan, enabled=enabled, facts=facts, models=table))
        if isinstance(digests, PromptKeys):
            duplicates, repeats = find_file_repeats(path, digests)
            _add(scan, duplicate_findings(scan.path, duplicates, enabled=enabled))
            context = RecordContext(path=scan.path, enabled=enabled)
            emit_repeated_lines(context, repeats)
            _add(scan, context.findings)
        elif digests is not None:
            _add(scan, duplicate_findings(scan.path, find_duplicates(digests), enabled=enabled))
        result.files.append(scan)
    if paths:
        enabled = select_codes(base_select, base_ignore + config.ignored_for(original_path(paths[0])))
        first = result.files[0]
        _add(first, lifecycle_findings(info.name, first.path, today or dt.date.today(), table=table, enabled=enabled))
    if validation:
        valid_scan = result.files[-1]
        enabled = select_codes(base_select, base_ignore + config.ignored_for(original_path(validation)))
        for train_path in paths:
            report = find_overlap(train_path, validation, threshold=threshold)
            _add(valid_scan, overlap_findings(display_name(train_path), valid_scan.path, report, strict=strict_overlap,
                                              enabled=enabled))
    return result


def _add(scan: FileScan, findings: Sequence[Finding]) -> None:
    """Merge findings into a file's sorted list."""
    if findings:
        scan.findings = sorted([*scan.findings, *findings], key=Finding.sort_key)
