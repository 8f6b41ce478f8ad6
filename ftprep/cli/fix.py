"""``ftprep fix``: repair mechanical defects and set aside the lines that still have errors."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click

from ftprep.check import METHODS
from ftprep.cli.common import (
    config_options,
    input_size,
    load_cli_config,
    output_options,
    progress_bar,
    progress_enabled,
    show_summaries,
)
from ftprep.jsonl.reader import display_name, spooled_all
from ftprep.transform.fix import fix_file, fix_plan
from ftprep.transform.summary import Accounting


@click.command("fix")
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--output", "-o", "output_path", type=click.Path(dir_okay=False),
              help="Repaired file (never the input); one INPUT file only.")
@click.option("--output-dir", type=click.Path(file_okay=False),
              help="Write each repaired file here, under its input's name and its path inside the folder named.")
@click.option("--rejects", "rejects_out", type=click.Path(dir_okay=False),
              help="Lines that still have errors (default: OUTPUT.rejects.jsonl, written only if needed); with "
                   "--output only.")
@click.option("--dedupe", is_flag=True, help="Set aside records equal to an earlier one.")
@click.option("--model", "-m", help="Model whose rules decide what is an error (as in `ftprep check`).")
@click.option("--method", type=click.Choice(METHODS), help="Fine-tuning method (default: from the file's format).")
@output_options
@config_options
def fix_command(inputs: tuple[str, ...], output_path: str | None, output_dir: str | None, rejects_out: str | None,
                dedupe: bool, model: str | None, method: str | None, force: bool, output_format: str, quiet: bool,
                config_path: Path | None, isolated: bool) -> int:
    """Write a repaired copy of each INPUT (a file, - for stdin, or a folder: its *.jsonl and *.jsonl.gz): no
    BOM, LF endings, no blank lines, no null optional fields, compact JSON.

    Where copies go: --output names the one output of one INPUT file; --output-dir DIR writes each under its
    input's name (as .jsonl) and its path inside the folder named; with neither, each copy is written beside its
    input as NAME.fixed.jsonl. A folder's *.fixed.jsonl and *.rejects.jsonl files (outputs of an earlier run) are
    not fixed again. An input is never overwritten; existing outputs need --force.

    Lines that still have an error under `ftprep check`'s rules go to the rejects file (OUTPUT stem +
    .rejects.jsonl) with their finding codes, so the output has no line errors; file-level problems (too few
    examples) are listed as notes. Several inputs: one summary per file (json: {"version": 1, "files": [...]}).
    Exit 0 when every line was written (or set aside by --dedupe), 1 when some went to a rejects file,
    2 on usage or I/O failure.
    """
    config = load_cli_config(config_path, isolated)
    if output_path is not None and output_dir is not None:
        raise click.UsageError("give --output (one file) or --output-dir, not both")
    if output_path is not None:
        if len(inputs) != 1 or (inputs[0] != "-" and os.path.isdir(inputs[0])):
            raise click.UsageError("--output names one output: give one INPUT file, or use --output-dir (or "
                                   "neither: NAME.fixed.jsonl beside each input) for several files or a folder")
        plan: list[tuple[str, str | Path]] = [(inputs[0], output_path)]  # as given: '' is named in the error
    else:
        if rejects_out is not None:
            raise click.UsageError("--rejects goes with --output; each output's rejects are OUTPUT.rejects.jsonl")
        plan = list(fix_plan(inputs, output_dir=output_dir, exclude=config.exclude, root=config.root))
    summaries: list[Accounting] = []
    with contextlib.ExitStack() as stack:
        # Standard input or a pipe: read once into a temporary file (the fix reads its input twice).
        local = spooled_all([source for source, _ in plan], stack)
        label = "fixing" if len(plan) == 1 else f"fixing {len(plan)} files"
        # Two passes over each input: the check's, then the writing.
        with progress_bar(label, progress_enabled(quiet), 2 * input_size(*local)) as advance:
            for (source, output), path in zip(plan, local, strict=True):
                if output_dir is not None:
                    Path(output).parent.mkdir(parents=True, exist_ok=True)
                result = fix_file(str(path), output, rejects_out=rejects_out, dedupe=dedupe, model=model,
                                  method=method, config=config, force=force, progress=advance)
                if len(plan) > 1:
                    result.accounting.extra = {"input": display_name(source), **result.accounting.extra}
                summaries.append(result.accounting)
    return show_summaries(summaries, output_format, quiet)
