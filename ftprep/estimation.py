"""``estimate``: what a fine-tuning job on a file will train and cost, exactly and offline.

Records come from the engine's one pass (:func:`ftprep.engine.scan_file`), the same pass ``check`` runs,
with a :class:`~ftprep.tokens.stats.TokenCollector` as observer; the cost is then a pure function of the
collected statistics and the model table.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from ftprep.config import Config
from ftprep.cost import (
    VALIDATION_NOTE,
    CheckVerdict,
    Distribution,
    EstimateResult,
    FileEstimate,
    PriceInfo,
    cost_usd,
    epochs_auto,
    method_notes,
    trained_tokens,
)
from ftprep.data.models import ModelInfo, ModelTable, Price, price_overrides
from ftprep.data.targets import DEFAULT_TARGET, Target, load_target
from ftprep.data.typed import build
from ftprep.engine import FileScan, ScanOptions, scan_file
from ftprep.errors import ConfigError, InputError
from ftprep.jsonl.discover import expand_paths
from ftprep.jsonl.records import as_paths
from ftprep.lint.context import RecordObserver
from ftprep.lint.finding import Finding, Severity
from ftprep.rules.dataset import DuplicateLine
from ftprep.rules.lifecycle import lifecycle_findings
from ftprep.tokens.accounting import PIECE
from ftprep.tokens.counter import counting_for, get_counter
from ftprep.tokens.encoding import ENCODING_NAMES
from ftprep.tokens.stats import TokenCollector, histogram_of, summarise

Progress = Callable[[int], None]
# Epochs of a local trainer when none is given: transformers' TrainingArguments.num_train_epochs default, which
# TRL and Unsloth inherit (other trainers set their own: pass --n-epochs).
TRAINER_EPOCHS = 3
# The tokenizer an estimate falls back to for a model whose own tokenizer ftprep cannot load offline.
ESTIMATE_ENCODING = "o200k_base"


def _feed(path: str, method: str | None, model: str | None, observers: Sequence[RecordObserver],
          progress: Progress | None) -> FileScan:
    """One pass over ``path`` feeding ``observers`` (the engine's pass; no rules are reported). Raises
    :class:`InputError` when the pass stopped because the file is not JSONL: no estimate describes it."""
    scan = scan_file(path, ScanOptions(enabled=frozenset(), model=model, method=method), observers,
                     progress=progress)
    if scan.not_jsonl:
        raise InputError(f"{scan.path}: {scan.not_jsonl}; pass a JSONL file (`ftprep check` lists the lines)")
    return scan


# Error findings an estimate carries as examples of why the job would be rejected.
VERDICT_EXAMPLES = 5
# Line findings of each rule the verdict's pass keeps per byte range (the others are only counted): at least
# VERDICT_EXAMPLES, so the first errors in line order are among them; a file with millions of errors keeps
# its memory bounded (559,250 findings took about 170 MB in a 1 GB file).
VERDICT_KEEP = 100
# Findings counted but not kept: rule code, severity (the target's), how many.
Omitted = list[tuple[str, Severity, int]]


def _checked(path: str, job_target: Target, model: str, method: str | None, tokens: TokenCollector,
             today: dt.date | None, progress: Progress | None, config: Config | None, *,
             validation: bool) -> tuple[FileScan, list[Finding], Omitted]:
    """The check's pass over ``path`` (the rules of ``ftprep check`` with ``config``'s selection, less the
    duplicate search) feeding ``tokens``: the file's scan and its findings.

    Duplicates are warnings, which do not decide whether the job runs, and finding them was about two thirds
    of what a verdict added to an estimate (57 MB, 100,000 chat rows, 2 busy CPUs: 10.1 s with every rule,
    8.0 s without the duplicate rules)."""
    from ftprep.check import DUPLICATE_CODES, check_files  # the check layer sits beside this one

    result = check_files([path], model=model, method=method, target=job_target, observers=lambda _: [tokens],
                         today=today, progress=progress, min_examples=1 if validation else None, config=config,
                         ignore=[*sorted(DUPLICATE_CODES), DuplicateLine.code], keep_findings=VERDICT_KEEP)
    scan = result.files[0]
    if scan.not_jsonl:
        raise InputError(f"{scan.path}: {scan.not_jsonl}; pass a JSONL file (`ftprep check` lists the lines)")
    # The target's severities are applied to the counted findings too (check_files).
    omitted = [(code, tally.severity, tally.count) for code, tally in sorted(scan.omitted.items())]
    return scan, result.findings, omitted


def verdict_of(findings: Sequence[Finding], omitted: Sequence[tuple[str, Severity, int]] = ()) -> CheckVerdict:
    """The check's verdict on the findings of the files an estimate priced (and those only counted)."""
    errors = [f for f in findings if f.severity is Severity.ERROR]
    by_rule: dict[str, int] = {}
    for finding in errors:
        by_rule[finding.code] = by_rule.get(finding.code, 0) + 1
    warnings = sum(1 for f in findings if f.severity is Severity.WARNING)
    more_errors = 0
    for code, severity, count in omitted:
        if severity is Severity.ERROR:
            by_rule[code] = by_rule.get(code, 0) + count
            more_errors += count
        elif severity is Severity.WARNING:
            warnings += count
    return CheckVerdict(errors=len(errors) + more_errors, warnings=warnings,
                        by_rule=dict(sorted(by_rule.items(), key=lambda item: (-item[1], item[0]))),
                        first=[f.to_dict() for f in errors[:VERDICT_EXAMPLES]])


def _file_estimate(path: str, role: str, scan: FileScan, tokens: TokenCollector, info: ModelInfo | None,
                   n_epochs: int | None, tier: str | None = None) -> FileEstimate:
    ordered = sorted(tokens.totals)  # sorted once, for the percentiles and the histogram
    summary = summarise(ordered)
    price = info.tier_price(tier) if info is not None else None
    trained = trained_tokens(tokens.billing_tokens, n_epochs) if n_epochs is not None else None
    return FileEstimate(
        path=path, role=role, kind=scan.kind, examples=tokens.examples, total_tokens=tokens.total_tokens,
        billing_tokens=tokens.billing_tokens, trainable_tokens=tokens.trainable, over_limit=tokens.over_limit,
        truncated_tokens=tokens.truncated_tokens, zero_trainable=tokens.zero_trainable,
        images_estimated=tokens.images_estimated, roles=dict(tokens.roles),
        distribution=Distribution(**asdict(summary), histogram=histogram_of(ordered)),
        n_epochs=n_epochs, trained_tokens=trained,
        cost_usd=cost_usd(trained, price) if trained is not None else None,
        price=PriceInfo.of(price), over_limit_lines=list(tokens.over_limit_lines),
        note=VALIDATION_NOTE if role == "validation" else "",
    )


def _resolve(model: str | None, encoding: str | None, table: ModelTable,
             prices: Mapping[str, float]) -> tuple[ModelInfo | None, str]:
    if prices:
        entries = price_overrides(prices)
        table = ModelTable({**table.models, **{
            info.name: replace(info, price=build(Price, entries[name]["price"]), prices={})
            for name in entries if (info := _lookup(table, name)) is not None}})
        unknown = [name for name in entries if _lookup(table, name) is None]
        if unknown:
            table.resolve(unknown[0])  # raises, listing the known models
    if encoding is not None and encoding not in ENCODING_NAMES:
        raise ConfigError(f"--encoding {encoding!r}: use one of {', '.join(ENCODING_NAMES)}")
    if model is None:
        if encoding is None:
            raise ConfigError("no model given; pass --model (e.g. gpt-4o-mini) or --encoding o200k_base")
        return None, encoding
    try:
        info = table.resolve(model)
    except ConfigError:
        if encoding is None:
            raise
        return None, encoding  # unknown model, but the user named the tokenizer: count without model data
    if encoding is None and counting_for(info.encoding)[0] == "estimate":
        return info, ESTIMATE_ENCODING
    return info, encoding or info.encoding


def _lookup(table: ModelTable, name: str) -> ModelInfo | None:
    try:
        return table.resolve(name)
    except ConfigError:
        return None


def estimate(train: str | os.PathLike[str] | Iterable[Mapping[str, Any]] | Any, *,
             validation: str | os.PathLike[str] | None = None, model: str | None = None, method: str | None = None,
             n_epochs: int | Literal["auto"] = "auto", prices: Mapping[str, float] | None = None,
             encoding: str | None = None, models: Mapping[str, Mapping[str, Any]] | None = None,
             today: dt.date | None = None, progress: Progress | None = None,
             target: str | Target | None = None, tier: str | None = None,
             targets: Mapping[str, Mapping[str, Any]] | None = None, verdict: bool = True,
             config: Config | None = None) -> EstimateResult:
    """Estimate tokens, trained_tokens and cost of a job on ``train`` (and ``validation``).

    ``target`` is the service (default ``openai``; ``targets`` the user's ``[tool.ftprep.targets]``) whose
    model table, limits and prices apply; ``tier`` its training tier to price (Azure: ``global``,
    ``standard``, ``datazone``, ``developer``; default the model's first). ``model`` is a name or alias from the
    target's model table (default: the target's default model; plus ``models``, user entries in the same shape);
    ``prices`` maps model names to USD per 1M tokens (``--price``); ``encoding`` counts with that tokenizer
    when the model is unknown. A model whose tokenizer ftprep cannot load offline is counted with o200k_base and
    the result says it is an estimate. ``n_epochs`` is a number or ``"auto"`` (the service's default rule).
    ``progress`` is called with byte counts as the files are read. With ``verdict`` (and a model of the table)
    the pass runs every rule of ``ftprep check`` and the result carries its verdict: a job the service would
    reject is priced all the same, and says so (``config``: the configuration whose rule selection applies).
    ``train`` is a path (or a folder holding one JSONL file), or records in memory as :func:`check_files` takes
    them (an iterable of dicts, a polars DataFrame, a ``datasets.Dataset``), reported as ``<records>``.
    Raises :class:`ConfigError` for an unknown target, model (listing the known ones) or tier, or several training
    files, and :class:`~ftprep.errors.InputError` for unreadable files.
    """
    # One file (a folder holding exactly one), or records in memory written to a temporary file named <records>.
    with as_paths(train) as given:
        paths = expand_paths(given, config.exclude if config else (), config.root if config else None)
        if len(paths) != 1:
            raise ConfigError(f"estimate prices one training file; {len(paths)} given"
                              + (f" ({', '.join(paths[:5])}{' ...' if len(paths) > 5 else ''})" if paths else "")
                              + ": pass one, or call estimate once per file")
        (path,) = paths
        return _estimate_path(path, validation=validation, model=model, method=method, n_epochs=n_epochs,
                              prices=prices, encoding=encoding, models=models, today=today, progress=progress,
                              target=target, tier=tier, targets=targets, verdict=verdict, config=config)


def _estimate_path(train: str, *, validation: str | os.PathLike[str] | None, model: str | None,
                   method: str | None, n_epochs: int | Literal["auto"], prices: Mapping[str, float] | None,
                   encoding: str | None, models: Mapping[str, Mapping[str, Any]] | None, today: dt.date | None,
                   progress: Progress | None, target: str | Target | None, tier: str | None,
                   targets: Mapping[str, Mapping[str, Any]] | None, verdict: bool,
                   config: Config | None) -> EstimateResult:
    """:func:`estimate` of one training file."""
    validation = None if validation is None else os.fspath(validation)
    if n_epochs != "auto" and (not isinstance(n_epochs, int) or n_epochs < 1):
        raise ConfigError(f"--n-epochs {n_epochs!r}: use a whole number >= 1 or 'auto'")
    job_target = target if isinstance(target, Target) else load_target(target or DEFAULT_TARGET, targets, models)
    if model is None and encoding is None:
        model = job_target.default_model
    info, encoding_name = _resolve(model, encoding, job_target.models, prices or {})
    tier = _tier(info, tier, job_target)
    enc = get_counter(encoding_name)

    # With a model of the table the pass is the check's (every rule), so the estimate carries its verdict.
    checking = verdict and info is not None and model is not None
    found: list[Finding] = []
    omitted: Omitted = []
    train_tokens = TokenCollector(enc, info)
    if checking and model is not None:
        train_scan, train_found, train_omitted = _checked(train, job_target, model, method, train_tokens, today,
                                                          progress, config, validation=False)
        found += train_found
        omitted += train_omitted
    else:
        train_scan = _feed(train, method, model, [train_tokens], progress)
    train_tokens.finish()
    epochs = epochs_auto(train_tokens.examples) if n_epochs == "auto" else n_epochs
    method_used = method or train_scan.method
    files = [_file_estimate(train_scan.path, "train", train_scan, train_tokens, info, epochs, tier)]

    notes = method_notes(info, method_used, tier)
    if validation is not None:
        valid_tokens = TokenCollector(enc, info)
        if checking and model is not None:
            valid_scan, valid_found, valid_omitted = _checked(validation, job_target, model, method_used,
                                                              valid_tokens, today, progress, config, validation=True)
            found += valid_found
            omitted += valid_omitted
        else:
            valid_scan = _feed(validation, method_used, model, [valid_tokens], progress)
        valid_tokens.finish()
        files.append(_file_estimate(valid_scan.path, "validation", valid_scan, valid_tokens, info, None, tier))
        notes.append(VALIDATION_NOTE)
    if info is None:
        notes.append(f"model {model or '(none)'} is not in the model table: tokens counted with {encoding_name}; "
                     "no limit, no price")
    counting, why = ("exact", "") if info is None or encoding is not None else counting_for(info.encoding)
    exact = counting != "estimate"
    if counting == "estimate" and info is not None:
        notes.append(f"ESTIMATE: {why}; tokens are counted with {ESTIMATE_ENCODING}, and the model's own tokenizer "
                     "and chat template will give other counts")
    elif counting == "tokenizer" and info is not None:
        notes.append(f"tokens of the text are {info.name}'s own ({info.encoding} tokenizer, offline); the framing of "
                     "each message follows OpenAI's formula, not the model's chat template (exact framing: "
                     "--target hf with its tokenizer folder)")
    if n_epochs == "auto" and job_target.name != DEFAULT_TARGET and job_target.inherits != DEFAULT_TARGET:
        notes.append(f"epochs 'auto' follows OpenAI's rule; {job_target.name}'s default may differ: pass --n-epochs "
                     "with the value the job will use")
    cuts = train_tokens.accountant.forced_cuts + (valid_tokens.accountant.forced_cuts if validation is not None else 0)
    if cuts:
        notes.append(f"some texts hold runs of over {PIECE // 2:,} characters without a space or line break; they "
                     f"were counted in pieces cut inside such runs ({cuts:,} cut(s)), so the counts may differ from "
                     "the service's by about a token per cut (`ftprep check` names them: FT403)")
    images = sum(f.images_estimated for f in files)
    if images:
        notes.append(f"{images} example(s) hold remote images: their size is assumed to be 1024x1024 at high "
                     "detail, so their tokens are estimated")
    first = files[0]
    tier_costs: dict[str, float] = {}
    if info is not None and first.trained_tokens is not None:
        tier_costs = {name: cost for name, price in info.prices.items()
                      if (cost := cost_usd(first.trained_tokens, price)) is not None}
    budget = job_target.params.max_token_epochs
    if budget is not None and first.trained_tokens is not None and first.trained_tokens > budget:
        notes.append(f"{first.trained_tokens:,} trained tokens (tokens x epochs) is over {job_target.name}'s "
                     f"{budget:,} per job: the job is refused; lower --n-epochs or split the data")
    findings = [f.to_dict() for f in lifecycle_findings(model, first.path, today or dt.date.today(),
                                                         table=job_target.models)] if (
        info is not None and model is not None) else []
    return EstimateResult(
        model=info.name if info is not None else model, encoding=encoding_name, method=method_used,
        limit=info.max_tokens if info is not None else None, n_epochs=epochs, n_epochs_auto=n_epochs == "auto",
        examples=first.examples, total_tokens=first.total_tokens, billing_tokens=first.billing_tokens,
        trained_tokens=first.trained_tokens or 0, cost_usd=first.cost_usd, price=first.price, files=files,
        notes=notes, findings=findings, target=job_target.name, tier=tier, exact_tokens=exact,
        counting=counting, tier_costs=tier_costs, verdict=verdict_of(found, omitted) if checking else None,
    )


def _tier(info: ModelInfo | None, tier: str | None, job_target: Target) -> str | None:
    """The tier to price: the one asked (checked against the model's), else the model's first, else None."""
    if info is None or not info.prices:
        if tier is not None and info is not None:
            raise ConfigError(f"{info.name} on {job_target.name} has no prices per training tier; drop --tier")
        return None
    if tier is None:
        return None if info.price is not None else next(iter(info.prices))
    key = tier.lower()
    if key not in info.prices:
        raise ConfigError(f"--tier {tier!r}: {info.name} on {job_target.name} is priced for "
                          f"{', '.join(info.prices)}")
    return key


@dataclass(slots=True)
class ComparedJob:
    """One target x model of a comparison: its estimate, or why it was skipped."""

    target: str
    model: str
    result: EstimateResult | None = None
    skipped: str = ""


def compare_estimates(train: str, names: Sequence[str], job_models: Sequence[str] = (), *,
                      progress: Progress | None = None, **options: Any) -> list[ComparedJob]:
    """The estimate of a job on ``train`` for each target x model, side by side.

    ``job_models`` are tried on every target (a target that does not offer one is skipped with the reason); with
    none, each target's default model. ``options`` are :func:`estimate`'s (``targets`` and ``models``: the user's
    entries). Each target counts with its model's tokenizer, so token counts may differ between rows.
    """
    user_targets = options.pop("targets", None)
    jobs: list[ComparedJob] = []
    for name in names:
        job_target = load_target(name, user_targets, options.get("models"))
        for model in job_models or (job_target.default_model,):
            if _lookup(job_target.models, model) is None:
                jobs.append(ComparedJob(name, model, skipped=f"{name} does not offer {model!r}"))
                continue
            tier = options.get("tier")
            info = job_target.models.resolve(model)
            run = {**options, "tier": tier if tier and tier.lower() in info.prices else None}
            result = estimate(train, model=model, target=job_target, progress=progress, **run)
            progress = None  # the bar follows the first pass
            jobs.append(ComparedJob(name, model, result))
    return jobs


def estimate_template(train: str, tokenizer: str, *, validation: str | None = None, method: str | None = None,
                      trainer: str | None = None, max_length: int | None = None,
                      n_epochs: int | Literal["auto"] = "auto", progress: Progress | None = None) -> EstimateResult:
    """Tokens of ``train`` (and ``validation``) as a local trainer sees them: each chat row rendered with the chat
    template of the Hugging Face tokenizer folder ``tokenizer`` and tokenized, exactly as transformers'
    ``len(apply_chat_template(messages, tools=tools, tokenize=True))``.

    ``trainer`` (default ``trl``) gives the default ``max_length`` and whether longer rows are truncated or dropped;
    rows the template cannot render are not counted (``ftprep check --target hf`` reports them). There is no price:
    the job runs on your hardware. ``n_epochs`` "auto" is the trainer's usual 3 (TRL's ``num_train_epochs``).
    """
    from ftprep.data.trainers import DEFAULT_TRAINER, get_trainer
    from ftprep.rules.template import TemplateChecks
    from ftprep.tokens.hf_tokenizer import load_hf_tokenizer

    chosen = get_trainer(trainer or DEFAULT_TRAINER)
    limit = max_length if max_length is not None else chosen.max_length.value
    folder = load_hf_tokenizer(tokenizer)
    epochs = TRAINER_EPOCHS if n_epochs == "auto" else n_epochs
    files: list[FileEstimate] = []
    method_used = method or "supervised"
    notes = [f"tokens: the chat template of {tokenizer}, rendered and tokenized as transformers' apply_chat_template",
             f"{chosen.title}: rows over {limit:,} tokens are {'dropped' if chosen.over_length == 'drops' else 'cut'}"
             f" (max length {'given' if max_length is not None else 'by default'}; {chosen.max_length.source})"]
    for path, role in ((train, "train"), *(((validation, "validation"),) if validation else ())):
        checks = TemplateChecks(folder, chosen)
        scan = _feed(path, method_used, None, [checks], progress)
        if role == "train":
            method_used = method or scan.method
        lengths = list(checks.lengths)
        over = [n for n in lengths if limit is not None and n > limit]
        if chosen.over_length == "drops":
            kept = [n for n in lengths if limit is None or n <= limit]
            billing, truncated = sum(kept), sum(over)
        else:
            billing = sum(min(n, limit) if limit is not None else n for n in lengths)
            truncated = sum(lengths) - billing
        failed = sum(1 for problem in checks.problems if problem[1] == "FT410")
        summary = summarise(lengths)
        trained = billing * epochs if role == "train" else None
        files.append(FileEstimate(
            path=scan.path, role=role, kind=scan.kind, examples=len(lengths), total_tokens=sum(lengths),
            billing_tokens=billing, trainable_tokens=billing, over_limit=len(over), truncated_tokens=truncated,
            zero_trainable=0, images_estimated=0, roles={},
            distribution=Distribution(**asdict(summary), histogram=histogram_of(lengths)),
            n_epochs=epochs if role == "train" else None, trained_tokens=trained, cost_usd=None,
            price=PriceInfo(None, None, None, None, "a local trainer: no price"),
            over_limit_lines=[line for line, n in zip(checks.length_lines, lengths, strict=True)
                              if limit is not None and n > limit][:100],
            note=(f"{failed} row(s) the chat template cannot render are not counted: ftprep check --target hf "
                  f"--tokenizer {tokenizer} shows why") if failed else ""))
    if n_epochs == "auto":
        notes.append(f"epochs: {TRAINER_EPOCHS}, transformers' num_train_epochs default (TRL, Unsloth); "
                     "pass --n-epochs for your setting")
    first = files[0]
    return EstimateResult(
        model=folder.name, encoding="chat template", method=method_used, limit=limit, n_epochs=epochs,
        n_epochs_auto=n_epochs == "auto", examples=first.examples, total_tokens=first.total_tokens,
        billing_tokens=first.billing_tokens, trained_tokens=first.trained_tokens or 0, cost_usd=None,
        price=first.price, files=files, notes=notes, target="hf", counting="template", exact_tokens=True)
