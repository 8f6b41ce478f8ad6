"""``ftprep split``: a leak-free, group-aware, optionally stratified train/validation split."""

from __future__ import annotations

import click

from ftprep.cli.common import fail, input_size, output_options, progress_bar, progress_enabled, show_summary
from ftprep.jsonl.reader import source_kind, spooled
from ftprep.overlap.near import DEFAULT_THRESHOLD
from ftprep.transform.split import GROUP_BY, output_stem, split_file


@click.command("split")
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--valid-ratio", type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
              help="Share of examples for validation (e.g. 0.1).")
@click.option("--valid-count", type=click.IntRange(min=1), help="Number of examples for validation.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the keyed hash that orders groups.")
@click.option("--group-by", type=click.Choice(GROUP_BY), default="prompt", show_default=True,
              help="What keeps records together: same record, same normalised text, same prompt, or "
                   "near-duplicate (each includes the ones before).")
@click.option("--stratify-by", metavar="JSON_POINTER",
              help="Keep the share of each value at this pointer (e.g. /messages/-1/content).")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=DEFAULT_THRESHOLD,
              show_default=True, help="Near-duplicate similarity for --group-by near.")
@click.option("--train-out", type=click.Path(dir_okay=False), help="Training output (default: INPUT.train.jsonl).")
@click.option("--valid-out", type=click.Path(dir_okay=False), help="Validation output (default: INPUT.valid.jsonl).")
@click.option("--rejects", "rejects_out", type=click.Path(dir_okay=False),
              help="Lines that are not JSON objects (default: INPUT.rejects.jsonl, written only if needed).")
@output_options
def split_command(input_path: str, valid_ratio: float | None, valid_count: int | None, seed: int, group_by: str,
                  stratify_by: str | None, threshold: float, train_out: str | None, valid_out: str | None,
                  rejects_out: str | None, force: bool, output_format: str, quiet: bool) -> int:
    """Split INPUT into training and validation files that share no duplicate, prompt or near-duplicate.

    Membership is decided by a keyed hash of each group's content, so it depends on the seed and not on
    the input order. Every line lands in exactly one output or the rejects file. Exit 0 when every line
    went to an output, 1 when some went to the rejects file, 2 on usage or I/O failure.
    """
    if source_kind(input_path) == "stream":
        # Outputs are named after the input by default: a pipe's name (-, /dev/fd/63) names no folder.
        if train_out is None or valid_out is None:
            raise fail(f"{input_path}: reading a pipe, split needs --train-out and --valid-out")
        rejects_out = rejects_out or f"{output_stem(train_out)}.rejects.jsonl"
    # Standard input or a pipe: read once into a temporary file. Two passes over it: grouping, then writing.
    with (spooled(input_path) as local,
          progress_bar("splitting", progress_enabled(quiet), 2 * input_size(local)) as advance):
        result = split_file(local, valid_ratio=valid_ratio, valid_count=valid_count, seed=seed,
                            group_by=group_by, stratify_by=stratify_by, train_out=train_out, valid_out=valid_out,
                            rejects_out=rejects_out, force=force, threshold=threshold, progress=advance)
    return show_summary(result.accounting, output_format, quiet)
