"""FT630-FT639: the model's lifecycle: job-creation cut-off and shutdown dates, past or near.

These are file-level facts about the job, not about records: the engine (or the estimate command) calls
:func:`lifecycle_findings` once per file with today's date.
"""

from __future__ import annotations

import datetime as dt

from ftprep.data.models import DateFact, ModelInfo, ModelTable, default_models
from ftprep.errors import ConfigError
from ftprep.lint.finding import Finding, Severity
from ftprep.lint.registry import Rule, register

SOON_DAYS = 30


@register
class JobCutoffPassed(Rule):
    """What it does
    Flags a model whose job-creation cut-off date has passed (from the model table, with its source).

    Why it matters
    `jobs.create` refuses the model: the data is prepared for a job that cannot be started.

    Example
    `--model gpt-3.5-turbo-0613` (no new fine-tunes since 2024-06-13).

    Fix
    Pick a model that still takes new jobs (`ftprep estimate --model ...` lists the known ones on error).
    """

    code = "FT630"
    name = "job-cutoff-passed"
    severity = Severity.WARNING


@register
class JobCutoffSoon(Rule):
    """What it does
    Flags a model whose job-creation cut-off is within 30 days.

    Why it matters
    A job started after that date is refused; a long data-preparation cycle can miss the window.

    Example
    `--model gpt-4o-mini` when the self-serve fine-tuning cut-off is three weeks away.

    Fix
    Start the job before the date, or plan for another model.
    """

    code = "FT631"
    name = "job-cutoff-soon"
    severity = Severity.WARNING


@register
class ModelShutDown(Rule):
    """What it does
    Flags a model whose shutdown date has passed.

    Why it matters
    The model (and fine-tunes of it) no longer serve requests: training on it is wasted.

    Example
    `--model gpt-3.5-turbo-0613` (shut down 2024-06-13).

    Fix
    Move to the recommended replacement and re-estimate with its tokenizer and price.
    """

    code = "FT632"
    name = "model-shut-down"
    severity = Severity.WARNING


@register
class ModelShutdownSoon(Rule):
    """What it does
    Flags a model whose shutdown date is within 30 days.

    Why it matters
    A model fine-tuned now stops working at the base model's shutdown.

    Example
    `--model gpt-4o` two weeks before its announced shutdown.

    Fix
    Fine-tune a model with a later shutdown date.
    """

    code = "FT633"
    name = "model-shutdown-soon"
    severity = Severity.WARNING


def _finding(rule: type[Rule], path: str, model: ModelInfo, what: str, fact: DateFact, date: dt.date,
             today: dt.date, fix: str) -> Finding:
    days = (date - today).days
    when = f"on {date.isoformat()} ({-days} days ago)" if days < 0 else (
        "today" if days == 0 else f"on {date.isoformat()} (in {days} days)")
    source = fact.source + (f", as of {fact.as_of.isoformat()}" if fact.as_of else "")
    note = f"; {fact.note}" if fact.note else ""
    return Finding(code=rule.code, name=rule.name, severity=rule.severity, path=path, line=None, column=None,
                   pointer=None, message=f"{model.name}: {what} {when} (source: {source}{note})", fix=fix)


def lifecycle_findings(model_name: str, path: str, today: dt.date, *, table: ModelTable | None = None,
                       enabled: frozenset[str] | None = None) -> list[Finding]:
    """File-level warnings for ``model_name``: cut-off or shutdown past, or within 30 days of ``today``.

    Unknown models give no findings (the job rules report them). ``enabled`` filters by rule code.
    """
    try:
        model = (table or default_models()).resolve(model_name)
    except ConfigError:
        return []
    findings: list[Finding] = []
    checks = (
        (model.job_creation_cutoff, JobCutoffPassed, JobCutoffSoon, "new fine-tuning jobs end",
         "pick a model that still takes new jobs"),
        (model.shutdown, ModelShutDown, ModelShutdownSoon, "the model shuts down",
         "fine-tune a model with a later shutdown date"),
    )
    for fact, past, soon, what, fix in checks:
        if fact.date is None:
            continue
        days = (fact.date - today).days
        rule: type[Rule] | None = past if days < 0 else (soon if days <= SOON_DAYS else None)
        if rule is not None and (enabled is None or rule.code in enabled):
            findings.append(_finding(rule, path, model, what, fact, fact.date, today, fix))
    return findings
