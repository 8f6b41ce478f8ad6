"""``check_targets``: one dataset checked for several services at once (``ftprep check --target all``).

Each target is checked with its own rule parameters, severities and model (``--model`` where the target offers
it, else the target's default model); the result is a matrix of target x model, passes or fails, counts, and
the rules that block it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ftprep.check import CheckResult, check_files, expected_kinds, resolve_target
from ftprep.config import Config
from ftprep.data.models import ModelInfo
from ftprep.data.targets import ALL_TARGETS, Target, target_names
from ftprep.errors import ConfigError
from ftprep.lint.finding import Severity
from ftprep.rules.compat import MethodNotSupported, VisionNotSupported
from ftprep.rules.job import FormatModelMismatch

# Findings that say the model, not the data, is wrong for the file.
JOB_FIT_CODES = frozenset({FormatModelMismatch.code, MethodNotSupported.code, VisionNotSupported.code})


@dataclass(slots=True)
class TargetRow:
    """One target's verdict on the files: ``result`` is None when the target does not offer ``--model``."""

    target: Target
    model: str
    result: CheckResult | None = None
    skipped: str = ""
    # Why the model is not the target's default (the default does not take this file's method or format).
    note: str = ""
    # Set when no model of the target (in ftprep's table) takes the file's method, format or images.
    no_model: str = ""

    @property
    def passes(self) -> bool:
        """No errors (a skipped target does not pass)."""
        return self.result is not None and self.result.errors == 0

    @property
    def status(self) -> str:
        """passes, fails, no-model (no model of the target takes the file's job) or skipped (--model not offered)."""
        if self.result is None:
            return "skipped"
        if self.passes:
            return "passes"
        return "no-model" if self.no_model else "fails"

    def blocking(self) -> list[tuple[str, str, int]]:
        """The rules with errors, as (code, name, count), most frequent first."""
        if self.result is None:
            return []
        counts = Counter((f.code, f.name) for f in self.result.findings if f.severity is Severity.ERROR)
        return [(code, name, n) for (code, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    def counts(self) -> dict[str, int]:
        """Errors, warnings and info findings."""
        if self.result is None:
            return {"errors": 0, "warnings": 0, "info": 0}
        findings = self.result.findings
        return {"errors": self.result.errors, "warnings": self.result.warnings,
                "info": len(findings) - self.result.errors - self.result.warnings}

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the JSON report."""
        data: dict[str, Any] = {"target": self.target.name, "title": self.target.title, "model": self.model,
                                "status": self.status,
                                **self.counts(),
                                "blocking": [{"code": c, "name": n, "count": k} for c, n, k in self.blocking()]}
        if self.note or self.no_model:
            data["note"] = self.note or self.no_model
        if self.result is None:
            data["reason"] = self.skipped
        else:
            data["files"] = [{"path": s.path, "format": s.kind, "method": s.method, "examples": s.examples,
                              "errors": s.errors, "warnings": s.warnings} for s in self.result.files]
        return data


@dataclass(slots=True)
class TargetMatrix:
    """Every target's row, in the order asked."""

    rows: list[TargetRow] = field(default_factory=list)

    @property
    def errors(self) -> int:
        """Targets that fail (skipped ones do not count)."""
        return sum(1 for row in self.rows if row.result is not None and not row.passes)


def expand_targets(spec: str | Sequence[str], config: Config) -> list[str]:
    """``all``, one name or a comma-separated list (or a sequence of them) as target names, in order."""
    parts = [spec] if isinstance(spec, str) else list(spec)
    names: list[str] = []
    for part in parts:
        for name in (n.strip() for n in part.split(",")):
            if not name:
                continue
            expanded_names = ([n for n in target_names(config.targets) if resolve_target(n, config).in_all]
                              if name == ALL_TARGETS else [name])
            for expanded in expanded_names:
                if expanded not in names:
                    names.append(expanded)
    if not names:
        raise ConfigError("no target named; use --target openai, azure, together, fireworks or all")
    return names


def check_targets(paths: Sequence[str], targets: str | Sequence[str] = ALL_TARGETS, *, model: str | None = None,
                  config: Config | None = None, **options: Any) -> TargetMatrix:
    """Check ``paths`` for each target (``all``, a comma-separated list, or names) and collect the matrix.

    ``model`` is used on each target that offers it; the others are skipped with the reason (a target whose
    models do not include it cannot take the job). ``options`` are :func:`ftprep.check.check_files`'s.
    """
    config = config or Config()
    matrix = TargetMatrix()
    progress: Callable[[int], None] | None = options.pop("progress", None)
    for name in expand_targets(targets, config):
        target = resolve_target(name, config)
        if model is not None:
            try:
                info = target.models.resolve(model)
            except ConfigError:
                matrix.rows.append(TargetRow(target, model, skipped=f"{target.name} does not offer {model!r}"))
                continue
            chosen = info.name
        else:
            chosen = None
        result = check_files(paths, model=chosen, target=target, config=config, progress=progress, **options)
        progress = None  # the bar follows the first pass; the others read the same bytes again
        note = no_model = ""
        if model is None and result.files and any(f.code in JOB_FIT_CODES for f in result.findings):
            better = fitting_model(target, result, options.get("method"), options.get("today"))
            if better is not None:
                note = f"{result.model} does not take this file; {better.name} does"
                result = check_files(paths, model=better.name, target=target, config=config, **options)
            else:
                scan = result.files[0]
                no_model = (f"no {target.name} model in ftprep's table takes a {options.get('method') or scan.method}"
                            f" job on this file ({scan.kind or 'unknown'} format) that is still open to new jobs")
        matrix.rows.append(TargetRow(target, result.model, result, note=note, no_model=no_model))
    return matrix


def fitting_model(target: Target, result: CheckResult, method: str | None,
                  today: dt.date | None) -> ModelInfo | None:
    """A model of ``target`` that takes the checked file's format, method and images, still open to new jobs
    (the first in the target's table), or None."""
    scan = result.files[0]
    wanted = method or scan.method
    vision = any(f.code == VisionNotSupported.code for f in result.findings)
    day = today or dt.date.today()
    for info in target.models.models.values():
        cutoff = info.job_creation_cutoff.date
        if wanted not in info.methods or (cutoff is not None and cutoff < day):
            continue
        if scan.kind is not None and not expected_kinds(info, wanted) & {scan.kind}:
            continue
        if vision and not info.vision:
            continue
        return info
    return None
