"""``ftprep targets``: the services ftprep checks for, their models, and where each fact comes from."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from ftprep.cli.common import EXIT_OK, config_options, load_cli_config
from ftprep.data.targets import target_names
from ftprep.report.targets import describe_target, render_target


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
        click.echo(orjson.dumps({"version": 1, "targets": described}, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo("\n".join(render_target(data) for data in described), nl=False)
    return EXIT_OK
