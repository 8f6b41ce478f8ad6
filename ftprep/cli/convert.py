"""``ftprep convert``: bring Alpaca, ShareGPT, completions, preference and tabular data into OpenAI formats."""

from __future__ import annotations

import click

from ftprep.cli.common import input_size, output_options, progress_bar, progress_enabled, show_summary
from ftprep.jsonl.reader import spooled
from ftprep.transform.convert import KTO_CHOICES, SOURCES, TARGETS, ConvertOptions, convert_file, parse_field_map
from ftprep.transform.outputs import OUTPUT_TARGETS, convert_file_to
from ftprep.transform.sources import CONTAINERS, detect_container


@click.command("convert")
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, allow_dash=True))
@click.argument("output_path", metavar="OUTPUT", type=click.Path(dir_okay=False))
@click.option("--to", "to", type=click.Choice([*sorted(TARGETS), *OUTPUT_TARGETS]), required=True,
              help="Target format: OpenAI chat, completions or dpo; or trl, vertex (Gemini), bedrock-nova, "
                   "bedrock-haiku.")
@click.option("--from", "source", type=click.Choice(SOURCES), help="Source format (default: detected, printed).")
@click.option("--input-format", "container", type=click.Choice(CONTAINERS),
              help="How INPUT is stored (default: from its extension and first bytes).")
@click.option("--system", help="Add this system message to rows that have none.")
@click.option("--map", "field_map", multiple=True, metavar="FIELD=POINTER",
              help="Where a target field is in the row, e.g. --map user=/question --map assistant=/answer. "
                   "Fields: system, user, assistant (chat and the trl, vertex and bedrock targets); prompt, "
                   "completion; system, user, chosen, rejected (dpo).")
@click.option("--model", "-m",
              help="Model the output is checked for (default: gpt-4o-mini; babbage-002 for completions).")
@click.option("--rejects", "rejects_out", type=click.Path(dir_okay=False),
              help="Rows that cannot be converted (default: OUTPUT.rejects.jsonl, written only if needed).")
@click.option("--strict", is_flag=True,
              help="Reject rows with fields the target cannot carry (extra columns; for trl, vertex, bedrock-*: "
                   "weight, name, images, tools ...) instead of dropping them and counting them in the summary.")
@click.option("--kto", type=click.Choice(KTO_CHOICES), default="drop", show_default=True,
              help="KTO rows (a boolean `label`): drop sets label=false rows aside (a bad answer is no training "
                   "target); keep converts them all, without the label; pairs (--to dpo) writes one DPO pair per "
                   "label=true and label=false row of the same prompt (the prompt as chat messages, compared "
                   "exactly): per prompt the first true row with the first false row, the second with the second, "
                   "in input order, each pair where its later row is; 2 input lines make 1 output line, rows left "
                   "over go to the rejects file (kto-unpaired).")
@output_options
def convert_command(input_path: str, output_path: str, to: str, source: str | None, container: str | None,
                    system: str | None, field_map: tuple[str, ...], model: str | None, rejects_out: str | None,
                    strict: bool, kto: str, force: bool, output_format: str, quiet: bool) -> int:
    """Convert INPUT (JSONL, JSON, CSV, TSV, Parquet) into OUTPUT in the --to format (JSONL).

    Every converted row is checked with the rules of `ftprep check`; rows that cannot be converted or
    still have an error go to the rejects file with their finding codes. Exit 0 when every row was converted,
    1 when some went to the rejects file, 2 on usage or I/O failure.

    For trl, vertex, bedrock-nova and bedrock-haiku, every field the target cannot carry is counted in the
    summary (or, with --strict, its row rejected); rows the target cannot express are rejected with the reason.
    """
    if model is not None and to in OUTPUT_TARGETS:
        raise click.UsageError(f"--model applies to the OpenAI targets; --to {to} rows are checked against "
                               "the target format")
    options = ConvertOptions(to=to, source=source, system=system, strict=strict, kto=kto,
                             field_map=parse_field_map(field_map, "chat" if to in OUTPUT_TARGETS else to))
    with spooled(input_path) as local:  # standard input or a pipe: read once into a temporary file
        # Progress counts the rows' bytes: the file's size for JSONL (pairs read it twice); other containers
        # hold their rows in another form, so their bar counts without a total.
        jsonl = (container or detect_container(local)) == "jsonl"
        total = input_size(local) * (2 if kto == "pairs" else 1) if jsonl else 0
        with progress_bar("converting", progress_enabled(quiet), total) as advance:
            if to in OUTPUT_TARGETS:
                result = convert_file_to(local, output_path, options, rejects_out=rejects_out, container=container,
                                         force=force, progress=advance)
            else:
                result = convert_file(local, output_path, options, rejects_out=rejects_out, model=model,
                                      container=container, force=force, progress=advance)
    if result.detected and not quiet:
        click.echo(f"ftprep: detected --from {result.source} ({result.container} input)", err=True)
    return show_summary(result.accounting, output_format, quiet)
