"""``ftprep overlap``: training/validation leakage and within-file duplicates."""

from __future__ import annotations

import contextlib
from pathlib import Path

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
from ftprep.config import CONFIG_FILES
from ftprep.jsonl.reader import spooled_all
from ftprep.overlap import OVERLAP_KINDS, OverlapReport
from ftprep.overlap.compare import NEAR
from ftprep.overlap.near import DEFAULT_THRESHOLD
from ftprep.overlap_pass import find_overlap
from ftprep.report.overlap_text import OVERLAP_REPORTERS


@click.command("overlap")
@click.argument("files", nargs=-1, metavar="[TRAIN VALIDATION]", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=DEFAULT_THRESHOLD,
              show_default=True, help="Estimated Jaccard similarity from which two examples are near-duplicates.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(OVERLAP_KINDS),
              help="Only these overlap kinds (repeatable; default: all).")
@click.option("--within-near", is_flag=True,
              help="Also list near-duplicates inside each file (keeps a signature per example).")
@click.option("--from-config", is_flag=True,
              help="Check every [[tool.ftprep.pairs]] train/validation pair of the configuration; with FILES "
                   "(changed files, as pre-commit passes them), only the pairs they touch (all when a "
                   "configuration file is among them), and success when they touch none.")
@click.option("--output-format", "-f", type=click.Choice(sorted(OVERLAP_REPORTERS)), default="text",
              show_default=True)
@quiet_option
@config_options
def overlap_command(files: tuple[str, ...], threshold: float, kinds: tuple[str, ...],
                    within_near: bool, from_config: bool, output_format: str, quiet: bool,
                    config_path: Path | None, isolated: bool) -> int:
    """Find validation examples that leak from TRAIN into VALIDATION (exact, normalised, near, same prompt).

    Exit 0: no leak; 1: leaks found; 2: usage or I/O failure. Duplicates inside each file are listed but do
    not change the exit code (`ftprep check` reports them as findings).
    """
    if from_config:
        pairs = load_cli_config(config_path, isolated).resolved_pairs()
        if files:
            # A pre-commit run: the changed files decide which pairs to compare; none touched is a pass.
            pairs = touched_pairs(pairs, files)
            if not pairs:
                if not quiet:
                    click.echo("ftprep overlap: no configured train/validation pair among the changed files",
                               err=True)
                return EXIT_OK
        elif not pairs:
            raise fail("no [[tool.ftprep.pairs]] in the configuration; add train = ... validation = ... entries")
    elif len(files) == 2:
        pairs = [(files[0], files[1])]
    else:
        raise fail("give TRAIN and VALIDATION files, or --from-config")
    reports: list[OverlapReport] = []
    with contextlib.ExitStack() as stack:
        # A pipe is read once into a temporary file: the comparison reads each file more than once.
        local = [path for path in spooled_all([p for pair in pairs for p in pair], stack) if path is not None]
        # Each file is read once, twice with near-duplicates on (the template's pass first).
        passes = 2 if within_near or NEAR in (kinds or OVERLAP_KINDS) else 1
        with progress_bar("comparing", progress_enabled(quiet), passes * input_size(*local)) as advance:
            for local_train, local_valid in zip(local[::2], local[1::2], strict=True):
                reports.append(find_overlap(local_train, local_valid, threshold=threshold,
                                            kinds=kinds or OVERLAP_KINDS, within_near=within_near,
                                            progress=advance))
    click.echo(OVERLAP_REPORTERS[output_format](reports, quiet=quiet), nl=False)
    return EXIT_FINDINGS if any(r.pairs for r in reports) else EXIT_OK


def touched_pairs(pairs: list[tuple[str, str]], changed: tuple[str, ...]) -> list[tuple[str, str]]:
    """The ``pairs`` a change to ``changed`` files concerns: all when a configuration file changed, else those
    with a changed train or validation file."""
    if any(Path(path).name in CONFIG_FILES for path in changed):
        return pairs
    changed_paths = {Path(path).resolve() for path in changed}
    return [pair for pair in pairs if {Path(p).resolve() for p in pair} & changed_paths]
