"""``ftprep estimate``: exact tokens, trained_tokens and cost of a fine-tuning job, offline."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import click

from ftprep.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    config_options,
    fail,
    input_size,
    load_cli_config,
    progress_bar,
    progress_enabled,
    quiet_option,
)
from ftprep.cost import EstimateResult
from ftprep.data.targets import ALL_TARGETS, DEFAULT_TARGET
from ftprep.estimation import compare_estimates, estimate, estimate_template
from ftprep.jsonl.discover import expand_paths
from ftprep.jsonl.reader import display_name, spooled_all
from ftprep.jsonl.writer import write_file_atomic
from ftprep.matrix import expand_targets
from ftprep.report import estimate_html, estimate_json, estimate_markdown, estimate_text
from ftprep.report.estimate_compare import COMPARISON_REPORTERS

ESTIMATE_REPORTERS: dict[str, Callable[[EstimateResult], str]] = {
    "text": estimate_text.render,
    "json": estimate_json.render,
    "markdown": estimate_markdown.render,
    "html": estimate_html.render,
}
METHODS = ("supervised", "dpo", "reinforcement")


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
@click.argument("trains", metavar="TRAIN...", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--validation", type=click.Path(dir_okay=False), help="Validation file (tokens reported apart).")
@click.option("--model", "-m", "models", multiple=True,
              help="Model or alias (default: the target's default model, or [tool.ftprep] model); repeat to compare.")
@click.option("--target", "-t", "target",
              help="Service whose models and prices apply: openai (default), azure, together, fireworks; "
                   "'all' or a comma-separated list compares cost side by side.")
@click.option("--tier", help="Training tier to price (Azure: global, standard, datazone, developer).")
@click.option("--tokenizer", type=click.Path(file_okay=False),
              help="Hugging Face tokenizer folder: count each chat row as its chat template renders it (--target hf).")
@click.option("--trainer", type=click.Choice(["trl", "unsloth", "axolotl", "llamafactory"]),
              help="Local trainer whose default maximum length applies with --tokenizer (default trl).")
@click.option("--max-length", type=click.IntRange(min=1), help="The trainer's maximum length in tokens.")
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
@click.option("--plotly", "plotly", type=click.Choice(estimate_html.PLOTLY_MODES), default="inline",
              show_default=True,
              help="HTML: plotly.js inside the page (works offline) or loaded from its CDN (a smaller file).")
@quiet_option
@config_options
def estimate_command(trains: tuple[str, ...], validation: str | None, models: tuple[str, ...], target: str | None,
                     tier: str | None, tokenizer: str | None, trainer: str | None, max_length: int | None,
                     method: str | None, n_epochs: str,
                     price: tuple[str, ...], encoding: str | None, output_format: str, report: Path | None,
                     plotly: estimate_html.PlotlyMode, quiet: bool, config_path: Path | None, isolated: bool) -> int:
    """Count the exact tokens of TRAIN (JSONL, .gz, - for stdin, or folders: their *.jsonl and *.jsonl.gz) and
    estimate trained_tokens and cost.

    Counts with the model's real tokenizer (offline), applies the per-example limit, picks epochs as
    the service does (or --n-epochs), and prices the job with a sourced, dated price. The same pass runs
    the check: a job the service would reject is priced, and marked "would be rejected: N errors".
    Several files (or a folder) are priced one job per file: text and markdown print one report after another,
    json prints {"version": 1, "estimates": [...]} (one file: the estimate object itself); html and comparisons
    (several --model, --target all) take one file.
    Exit 0: priced (see the verdict); 1: a file holds no records; 2: usage, configuration or I/O failure.
    """
    if output_format == "html":
        estimate_html.require_plotly()
    epochs = _epochs(n_epochs)
    prices = _prices(price)
    config = load_cli_config(config_path, isolated)
    wanted = target or config.target
    if tokenizer is None and (trainer is not None or max_length is not None):
        raise fail("--trainer and --max-length need --tokenizer DIR (the chat template to measure)")
    if tokenizer is not None and wanted not in (None, "hf"):
        raise fail(f"--tokenizer measures a local trainer's chat template: use it with --target hf, not {wanted}")
    compare = len(models) > 1 or (wanted is not None and (wanted == ALL_TARGETS or "," in wanted))
    if compare and output_format not in COMPARISON_REPORTERS:
        raise fail(f"--output-format {output_format} shows one job; comparing, use one of "
                   f"{', '.join(sorted(COMPARISON_REPORTERS))}")
    files = expand_paths(trains, config.exclude, config.root)
    if len(files) > 1 and (compare or output_format == "html"):
        raise fail(f"{'a comparison' if compare else '--output-format html'} shows one training file; "
                   f"{len(files)} given ({_listed(files)}): pass one at a time")
    with contextlib.ExitStack() as inputs:
        # Standard input and pipes are read once, into temporary files, then counted like files.
        *local_trains, local_validation = spooled_all([*files, validation], inputs)
        trained = [path for path in local_trains if path is not None]
        options: dict[str, Any] = {"validation": local_validation, "method": method or config.method,
                                   "n_epochs": epochs, "prices": {**config.prices, **prices}, "encoding": encoding,
                                   "models": config.models, "targets": config.targets, "tier": tier}
        results: list[EstimateResult] = []
        label = "counting tokens" if len(trained) == 1 else f"counting tokens of {len(trained)} files"
        with progress_bar(label, progress_enabled(quiet),
                          input_size(*trained, *[local_validation] * len(trained))) as advance:
            for local_train in trained:
                if tokenizer is not None:
                    results.append(estimate_template(local_train, tokenizer, validation=local_validation,
                                                     method=method or config.method, trainer=trainer,
                                                     max_length=max_length, n_epochs=epochs, progress=advance))
                elif compare:
                    comparison = compare_estimates(local_train, expand_targets(wanted or DEFAULT_TARGET, config),
                                                   models, progress=advance, **options)
                    _emit(COMPARISON_REPORTERS[output_format](comparison), report, files, validation, quiet)
                    return EXIT_OK
                else:
                    model = models[0] if models else None
                    if model is None and config.model and (wanted or DEFAULT_TARGET) == (config.target
                                                                                         or DEFAULT_TARGET):
                        model = config.model
                    results.append(estimate(local_train, model=model, target=wanted, progress=advance,
                                            config=config, **options))
    if output_format == "html":
        rendered = estimate_html.render(results[0], plotly=plotly)
    elif len(results) > 1 and output_format == "json":
        rendered = estimate_json.render_many(results)
    else:
        rendered = "\n".join(ESTIMATE_REPORTERS[output_format](result) for result in results)
    _emit(rendered, report, files, validation, quiet)
    empty = [display_name(path) for path, result in zip(files, results, strict=True) if result.examples == 0]
    for name in empty:
        click.echo(f"ftprep: error: {name} holds no records: there is nothing to train on or price", err=True)
    return EXIT_FINDINGS if empty else EXIT_OK


def _listed(paths: list[str]) -> str:
    return ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def _emit(rendered: str, report: Path | None, trains: list[str], validation: str | None, quiet: bool) -> None:
    """Print the report, or write it atomically to ``report``."""
    if report is not None:
        write_file_atomic(report, rendered.encode(), inputs=[p for p in (*trains, validation) if p])
        if not quiet:
            click.echo(f"ftprep: report written to {report}", err=True)
    else:
        click.echo(rendered, nl=False)
