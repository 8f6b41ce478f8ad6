"""``estimate``: what a fine-tuning job on a file will train and cost, exactly and offline.

Records come from the engine's one pass (:func:`ftprep.engine.scan_file`), the same pass ``check`` runs,
with a :class:`~ftprep.tokens.stats.TokenCollector` as observer; the cost is then a pure function of the
collected statistics and the model table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any, Literal

from ftprep.cost import (
    VALIDATION_NOTE,
    Distribution,
    EstimateResult,
    FileEstimate,
    PriceInfo,
    cost_usd,
    epochs_auto,
    method_notes,
    trained_tokens,
)
from ftprep.data.models import ModelInfo, load_models, price_overrides
from ftprep.engine import FileScan, ScanOptions, scan_file
from ftprep.errors import ConfigError, InputError
from ftprep.lint.context import RecordObserver
from ftprep.rules.lifecycle import lifecycle_findings
from ftprep.tokens.accounting import PIECE
from ftprep.tokens.encoding import ENCODING_NAMES, get_encoding
from ftprep.tokens.stats import TokenCollector

Progress = Callable[[int], None]


def _feed(path: str, method: str | None, model: str | None, observers: Sequence[RecordObserver],
          progress: Progress | None) -> FileScan:
    """One pass over ``path`` feeding ``observers`` (the engine's pass; no rules are reported). Raises
    :class:`InputError` when the pass stopped because the file is not JSONL: no estimate describes it."""
    scan = scan_file(path, ScanOptions(enabled=frozenset(), model=model, method=method), observers,
                     progress=progress)
    if scan.not_jsonl:
        raise InputError(f"{scan.path}: {scan.not_jsonl}; pass a JSONL file (`ftprep check` lists the lines)")
    return scan


def _file_estimate(path: str, role: str, scan: FileScan, tokens: TokenCollector, info: ModelInfo | None,
                   n_epochs: int | None) -> FileEstimate:
    summary = tokens.summary()
    price = info.price if info is not None else None
    trained = trained_tokens(tokens.billing_tokens, n_epochs) if n_epochs is not None else None
    return FileEstimate(
        path=path, role=role, kind=scan.kind, examples=tokens.examples, total_tokens=tokens.total_tokens,
        billing_tokens=tokens.billing_tokens, trainable_tokens=tokens.trainable, over_limit=tokens.over_limit,
        truncated_tokens=tokens.truncated_tokens, zero_trainable=tokens.zero_trainable,
        images_estimated=tokens.images_estimated, roles=dict(tokens.roles),
        distribution=Distribution(**asdict(summary), histogram=tokens.histogram()),
        n_epochs=n_epochs, trained_tokens=trained,
        cost_usd=cost_usd(trained, price) if trained is not None else None,
        price=PriceInfo.of(price), over_limit_lines=list(tokens.over_limit_lines),
        note=VALIDATION_NOTE if role == "validation" else "",
    )


def _resolve(model: str | None, encoding: str | None,
             models: Mapping[str, Mapping[str, Any]], prices: Mapping[str, float]) -> tuple[ModelInfo | None, str]:
    entries: dict[str, dict[str, Any]] = {name: dict(entry) for name, entry in models.items()}
    for name, entry in price_overrides(prices).items():
        entries[name] = {**entries.get(name, {}), **entry}
    table = load_models(entries)
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
    return info, encoding or info.encoding


def estimate(train: str, *, validation: str | None = None, model: str | None = None, method: str | None = None,
             n_epochs: int | Literal["auto"] = "auto", prices: Mapping[str, float] | None = None,
             encoding: str | None = None, models: Mapping[str, Mapping[str, Any]] | None = None,
             today: dt.date | None = None, progress: Progress | None = None) -> EstimateResult:
    """Estimate tokens, trained_tokens and cost of a job on ``train`` (and ``validation``).

    ``model`` is a name or alias from the model table (plus ``models``, user entries in the same shape);
    ``prices`` maps model names to USD per 1M tokens (``--price``); ``encoding`` counts with that tokenizer
    when the model is unknown. ``n_epochs`` is a number or ``"auto"`` (the service's default rule).
    ``progress`` is called with byte counts as the files are read. Raises :class:`ConfigError` for an
    unknown model (listing the known ones) and :class:`~ftprep.errors.InputError` for unreadable files.
    """
    if n_epochs != "auto" and (not isinstance(n_epochs, int) or n_epochs < 1):
        raise ConfigError(f"--n-epochs {n_epochs!r}: use a whole number >= 1 or 'auto'")
    info, encoding_name = _resolve(model, encoding, models or {}, prices or {})
    enc = get_encoding(encoding_name)

    train_tokens = TokenCollector(enc, info)
    train_scan = _feed(train, method, model, [train_tokens], progress)
    train_tokens.finish()
    epochs = epochs_auto(train_tokens.examples) if n_epochs == "auto" else n_epochs
    method_used = method or train_scan.method
    files = [_file_estimate(train_scan.path, "train", train_scan, train_tokens, info, epochs)]

    notes = method_notes(info, method_used)
    if validation is not None:
        valid_tokens = TokenCollector(enc, info)
        valid_scan = _feed(validation, method_used, model, [valid_tokens], progress)
        valid_tokens.finish()
        files.append(_file_estimate(valid_scan.path, "validation", valid_scan, valid_tokens, info, None))
        notes.append(VALIDATION_NOTE)
    if info is None:
        notes.append(f"model {model or '(none)'} is not in the model table: tokens counted with {encoding_name}; "
                     "no limit, no price")
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
    findings = [f.to_dict() for f in lifecycle_findings(model, first.path, today or dt.date.today())] if (
        info is not None and model is not None) else []
    return EstimateResult(
        model=info.name if info is not None else model, encoding=encoding_name, method=method_used,
        limit=info.max_tokens if info is not None else None, n_epochs=epochs, n_epochs_auto=n_epochs == "auto",
        examples=first.examples, total_tokens=first.total_tokens, billing_tokens=first.billing_tokens,
        trained_tokens=first.trained_tokens or 0, cost_usd=first.cost_usd, price=first.price, files=files,
        notes=notes, findings=findings,
    )
