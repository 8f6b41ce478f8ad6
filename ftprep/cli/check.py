"""``ftprep check``: the pre-flight validator."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import click

from ftprep.check import METHODS, CheckResult, check_files
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
    split_selectors,
)
from ftprep.config import Config
from ftprep.data.targets import ALL_TARGETS
from ftprep.jsonl.discover import expand_paths
from ftprep.jsonl.reader import spooled_all
from ftprep.matrix import check_targets
from ftprep.report import CHECK_REPORTERS, CHECK_WRITERS, TEXT_MAX_FINDINGS, ReportOptions, findings_to_keep
from ftprep.report.github import step_summary
from ftprep.report.matrix import MATRIX_REPORTERS
from ftprep.report.options import DEFAULT_MAX_FINDINGS, SARIF_MAX_PER_RULE

MATRIX_ONLY_FORMATS = ("markdown",)
FAIL_ON = ("error", "warning")


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--validation", type=click.Path(dir_okay=False), help="Validation file; also checked for overlap.")
@click.option("--model", "-m", help="Model to train (default: the target's default, or [tool.ftprep] model).")
@click.option("--method", type=click.Choice(METHODS), help="Fine-tuning method (default: from the file's format).")
@click.option("--target", "-t", "target",
              help="Service: openai (default), azure, together, fireworks, a [tool.ftprep.targets] name; "
                   "'all' or a comma-separated list prints a target matrix.")
@click.option("--tokenizer", type=click.Path(file_okay=False),
              help="Hugging Face tokenizer folder: render every chat row with its chat template (--target hf).")
@click.option("--trainer", type=click.Choice(["trl", "unsloth", "axolotl", "llamafactory"]),
              help="Local trainer whose defaults apply with --tokenizer (default on --target hf: trl).")
@click.option("--max-length", type=click.IntRange(min=1), help="The trainer's maximum length in tokens.")
@click.option("--output-format", "-f", type=click.Choice(sorted({*CHECK_REPORTERS, *MATRIX_ONLY_FORMATS})),
              default="text", show_default=True, help="markdown: with --target all (or a list) only.")
@click.option("--select", multiple=True,
              help="Only these rules: codes, prefixes (FT2) or names; repeat or comma-separate.")
@click.option("--ignore", multiple=True, help="Skip these rules: codes, prefixes or names.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when errors are found.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="error", show_default=True,
              help="Exit 1 on errors only, or on warnings too.")
@click.option("--max-findings", type=click.IntRange(min=0), metavar="N",
              help=f"Findings to list, each rule getting its share; 0: all (default: {TEXT_MAX_FINDINGS} for text, "
                   f"all for json/jsonl; for sarif a cap per rule, {SARIF_MAX_PER_RULE} by default).")
@click.option("--statistics", is_flag=True, help="Text: totals per rule instead of the findings.")
@click.option("--grader", type=click.Path(dir_okay=False),
              help="Reinforcement grader JSON: every {{item.X}} it reads must be a key of every row.")
@click.option("--strict-overlap", is_flag=True, help="Validation examples that leak from training are errors.")
@click.option("--within-near", is_flag=True,
              help="Also report near-duplicates inside each file (keeps a MinHash signature per example).")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=0.8, show_default=True,
              help="Estimated Jaccard similarity from which two examples are near-duplicates.")
@quiet_option
@config_options
def check_command(files: tuple[str, ...], validation: str | None, model: str | None, method: str | None,
                  target: str | None, tokenizer: str | None, trainer: str | None, max_length: int | None,
                  output_format: str, select: tuple[str, ...], ignore: tuple[str, ...],
                  exit_zero: bool, fail_on: str, max_findings: int | None, statistics: bool,
                  grader: str | None, strict_overlap: bool, within_near: bool, threshold: float,
                  quiet: bool, config_path: Path | None, isolated: bool) -> int:
    """Check FILES (JSONL, .gz, - for stdin, or folders: their *.jsonl and *.jsonl.gz) against the format the
    fine-tuning service enforces.

    Every problem is reported at once with file, line, JSON pointer, rule code and fix. With --target all (or
    a list), one verdict per service: a matrix of target x model, the counts and the rules that block it.
    Exit 0: no errors (on every target named); 1: errors found; 2: usage, configuration or I/O failure.
    """
    config: Config = load_cli_config(config_path, isolated)
    with contextlib.ExitStack() as inputs:
        # Standard input and pipes are read once, into temporary files (the check reads a file more than once).
        *local, local_validation = spooled_all([*expand_paths(files, config.exclude, config.root), validation],
                                               inputs)
        paths = [path for path in local if path is not None]
        options: dict[str, Any] = {"validation": local_validation, "method": method,
                                   "select": split_selectors(select), "ignore": split_selectors(ignore),
                                   "config": config, "grader": grader, "strict_overlap": strict_overlap,
                                   "within_near": within_near, "threshold": threshold}
        wanted = target or config.target
        if wanted is not None and (wanted == ALL_TARGETS or "," in wanted):
            if output_format not in MATRIX_REPORTERS:
                raise fail(f"--output-format {output_format} shows one target; with --target {wanted} use one of "
                           f"{', '.join(sorted(MATRIX_REPORTERS))}")
            with progress_bar("checking", progress_enabled(quiet), input_size(*paths, local_validation)) as advance:
                matrix = check_targets(paths, wanted, model=model, progress=advance, **options)
            click.echo(MATRIX_REPORTERS[output_format](matrix), nl=False)
            return EXIT_FINDINGS if matrix.errors and not exit_zero else EXIT_OK
        if output_format in MATRIX_ONLY_FORMATS:
            raise fail(f"--output-format {output_format} is for a target matrix: add --target all")
        if max_findings is None:
            max_findings = DEFAULT_MAX_FINDINGS.get(output_format)
        report_options = ReportOptions(max_findings=max_findings or None, statistics=statistics)
        with progress_bar("checking", progress_enabled(quiet), input_size(*paths, local_validation)) as advance:
            result = check_files(paths, model=model, target=target, progress=advance, tokenizer=tokenizer,
                                 trainer=trainer, max_length=max_length,
                                 keep_findings=findings_to_keep(output_format, report_options), **options)
    if output_format in CHECK_WRITERS:
        CHECK_WRITERS[output_format](result, report_options, lambda text: click.echo(text, nl=False))
    else:
        click.echo(CHECK_REPORTERS[output_format](result, report_options), nl=False)
    if output_format == "github":
        _write_step_summary(result)
    failing = result.errors + (result.warnings if fail_on == "warning" else 0)
    return EXIT_FINDINGS if failing and not exit_zero else EXIT_OK


def _write_step_summary(result: CheckResult) -> None:
    """Append the per-rule table to the file GitHub Actions names in ``$GITHUB_STEP_SUMMARY``, if any."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(step_summary(result))
    except OSError as exc:
        click.echo(f"ftprep: warning: cannot write the step summary to {target}: {exc}", err=True)
