"""``ftprep targets``: the services ftprep checks for, their models, and where each fact comes from."""

from __future__ import annotations

from pathlib import Path

import click

from ftprep.cli.common import EXIT_OK, config_options, load_cli_config
from ftprep.data.targets import target_names
from ftprep.report.targets import describe_target, render_target
from ftprep.textsafe import dumps_json, escape_controls


@click.command("targets")
@click.argument("names", nargs=-1)
@click.option("--output-format", "-f", type=click.Choice(["text", "json"]), default="text", show_default=True)
@config_options
def targets_command(names: tuple[str, ...], output_format: str, config_path: Path | None, isolated: bool) -> int:
    """List the targets (services), their rule parameters and models, each figure with its source and date.

    NAMES: the targets to show (default: all). A parameter no source gives is shown as unknown.
    """
    config = load_cli_config(config_path, isolated)
    described = [describe_target(name, config) for name in (names or target_names(config.targets))]
    if output_format == "json":
        click.echo(dumps_json({"version": 1, "targets": described}, indent=True))
    else:
        click.echo(escape_controls("\n".join(render_target(data) for data in described), keep_layout=True), nl=False)
    return EXIT_OK
