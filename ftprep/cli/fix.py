"""``ftprep fix``: repair mechanical defects and set aside the lines that still have errors."""

from __future__ import annotations

from pathlib import Path

import click

from ftprep.check import METHODS
from ftprep.cli.common import config_options, load_cli_config
from ftprep.cli.split import OUTPUT_FORMATS, show_summary
from ftprep.transform.fix import fix_file


@click.command("fix")
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False))
@click.option("--output", "-o", "output_path", type=click.Path(dir_okay=False), required=True,
              help="Repaired file (never the input).")
@click.option("--rejects", "rejects_out", type=click.Path(dir_okay=False),
              help="Lines that still have errors (default: OUTPUT.rejects.jsonl, written only if needed).")
@click.option("--dedupe", is_flag=True, help="Set aside records equal to an earlier one.")
@click.option("--model", "-m", help="Model whose rules decide what is an error (as in `ftprep check`).")
@click.option("--method", type=click.Choice(METHODS), help="Fine-tuning method (default: from the file's format).")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.option("--output-format", "-f", type=click.Choice(OUTPUT_FORMATS), default="text", show_default=True,
              help="text: summary on stderr; json: summary as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No summary on stderr (text format).")
@config_options
def fix_command(input_path: str, output_path: str, rejects_out: str | None, dedupe: bool, model: str | None,
                method: str | None, force: bool, output_format: str, quiet: bool, config_path: Path | None,
                isolated: bool) -> int:
    """Write a repaired copy of INPUT: no BOM, LF endings, no blank lines, compact JSON.

    Lines that still have an error under `ftprep check`'s rules go to the rejects file with their finding
    codes, so the output has no line errors; file-level problems (too few examples) are listed as notes.
    Exit 0 on success, 2 on usage or I/O failure.
    """
    config = load_cli_config(config_path, isolated)
    result = fix_file(input_path, output_path, rejects_out=rejects_out, dedupe=dedupe, model=model, method=method,
                      config=config, force=force)
    show_summary(result.accounting, output_format, quiet)
    return 0
