"""``ftprep estimate``: exact tokens, trained_tokens and cost of a fine-tuning job, offline."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import click

from ftprep.cli.common import (
    EXIT_OK,
    config_options,
    input_size,
    load_cli_config,
    progress_bar,
    progress_enabled,
    quiet_option,
)
from ftprep.cost import EstimateResult
from ftprep.estimate import estimate
from ftprep.jsonl.reader import spooled
from ftprep.jsonl.writer import write_file_atomic
from ftprep.report import estimate_html, estimate_json, estimate_markdown, estimate_text

ESTIMATE_REPORTERS: dict[str, Callable[[EstimateResult], str]] = {
    "text": estimate_text.render,
    "json": estimate_json.render,
    "markdown": estimate_markdown.render,
    "html": estimate_html.render,
}
METHODS = ("supervised", "dpo", "reinforcement")
DEFAULT_MODEL = "gpt-4o-mini"


def _epochs(value: str) -> int | Literal["auto"]:
    if value == "auto":
        return "auto"
    try:
        number = int(value)
    except ValueError:
        raise click.BadParameter("use a whole number >= 1 or 'auto'", param_hint="--n-epochs") from None
    if number < 1:
        raise click.BadParameter("use a whole number >= 1 or 'auto'", param_hint="--n-epochs")
    return number


def _prices(values: tuple[str, ...]) -> dict[str, float]:
    prices: dict[str, float] = {}
    for item in values:
        model, sep, usd = item.partition("=")
        try:
            prices[model.strip()] = float(usd)
            if not sep or not model.strip() or prices[model.strip()] < 0:
                raise ValueError
        except ValueError:
            raise click.BadParameter(f"{item!r}: use MODEL=USD, e.g. gpt-4o-mini=3.0",
                                     param_hint="--price") from None
    return prices


@click.command("estimate")
@click.argument("train", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--validation", type=click.Path(dir_okay=False), help="Validation file (tokens reported apart).")
@click.option("--model", "-m", help=f"Target model or alias (default: {DEFAULT_MODEL}, or [tool.ftprep] model).")
@click.option("--method", type=click.Choice(METHODS), help="Fine-tuning method (default: from the file's format).")
@click.option("--n-epochs", "n_epochs", default="auto", show_default=True, metavar="N|auto",
              help="Epochs; auto follows the service's default rule.")
@click.option("--price", "price", multiple=True, metavar="MODEL=USD",
              help="Training price per 1M tokens for MODEL (overrides the table); repeatable.")
@click.option("--encoding", type=click.Choice(["o200k_base", "cl100k_base"]),
              help="Tokenizer to count with when the model is not in the table.")
@click.option("--output-format", "-f", type=click.Choice(sorted(ESTIMATE_REPORTERS)), default="text",
              show_default=True)
@click.option("--report", "report", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report (in --output-format) to this file, atomically.")
@quiet_option
@config_options
def estimate_command(train: str, validation: str | None, model: str | None, method: str | None, n_epochs: str,
                     price: tuple[str, ...], encoding: str | None, output_format: str, report: Path | None,
                     quiet: bool, config_path: Path | None, isolated: bool) -> int:
    """Count the exact tokens of TRAIN (JSONL, .gz or -) and estimate trained_tokens and cost.

    Counts with the model's real tokenizer (offline), applies the per-example limit, picks epochs as
    the service does (or --n-epochs), and prices the job with a sourced, dated price.
    """
    epochs = _epochs(n_epochs)
    prices = _prices(price)
    config = load_cli_config(config_path, isolated)
    with contextlib.ExitStack() as inputs:
        # Standard input and pipes are read once, into temporary files, then counted like files.
        local_train = inputs.enter_context(spooled(train))
        local_validation = None if validation is None else inputs.enter_context(spooled(validation))
        with progress_bar("counting tokens", progress_enabled(quiet),
                          input_size(local_train, local_validation)) as advance:
            result = estimate(
                local_train, validation=local_validation,
                model=model or config.model or (None if encoding else DEFAULT_MODEL),
                method=method or config.method, n_epochs=epochs,
                prices={**config.prices, **prices}, encoding=encoding, models=config.models, progress=advance,
            )
    rendered = ESTIMATE_REPORTERS[output_format](result)
    if report is not None:
        write_file_atomic(report, rendered.encode(), inputs=[p for p in (train, validation) if p])
        if not quiet:
            click.echo(f"ftprep: report written to {report}", err=True)
    else:
        click.echo(rendered, nl=False)
    return EXIT_OK
