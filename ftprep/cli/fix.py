"""``ftprep fix``: repair mechanical defects and set aside the lines that still have errors."""

from __future__ import annotations

from pathlib import Path

import click

from ftprep.check import METHODS
from ftprep.cli.common import config_options, load_cli_config, output_options, show_summary
from ftprep.jsonl.reader import spooled
from ftprep.transform.fix import fix_file


@click.command("fix")
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--output", "-o", "output_path", type=click.Path(dir_okay=False), required=True,
              help="Repaired file (never the input).")
@click.option("--rejects", "rejects_out", type=click.Path(dir_okay=False),
              help="Lines that still have errors (default: OUTPUT.rejects.jsonl, written only if needed).")
@click.option("--dedupe", is_flag=True, help="Set aside records equal to an earlier one.")
@click.option("--model", "-m", help="Model whose rules decide what is an error (as in `ftprep check`).")
@click.option("--method", type=click.Choice(METHODS), help="Fine-tuning method (default: from the file's format).")
@output_options
@config_options
def fix_command(input_path: str, output_path: str, rejects_out: str | None, dedupe: bool, model: str | None,
                method: str | None, force: bool, output_format: str, quiet: bool, config_path: Path | None,
                isolated: bool) -> int:
    """Write a repaired copy of INPUT: no BOM, LF endings, no blank lines, compact JSON.

    Lines that still have an error under `ftprep check`'s rules go to the rejects file with their finding
    codes, so the output has no line errors; file-level problems (too few examples) are listed as notes.
    Exit 0 when every line was written (or set aside by --dedupe), 1 when some went to the rejects file,
    2 on usage or I/O failure.
    """
    config = load_cli_config(config_path, isolated)
    with spooled(input_path) as local:  # standard input or a pipe: read once into a temporary file
        result = fix_file(local, output_path, rejects_out=rejects_out, dedupe=dedupe, model=model, method=method,
                          config=config, force=force)
    return show_summary(result.accounting, output_format, quiet)
