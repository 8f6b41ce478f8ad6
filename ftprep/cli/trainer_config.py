"""``ftprep trainer-config``: the Axolotl or LLaMA-Factory dataset configuration that reads an OpenAI file as it is."""

from __future__ import annotations

from pathlib import Path

import click

from ftprep.cli.common import input_size, progress_bar, progress_enabled
from ftprep.errors import ConfigError
from ftprep.jsonl.writer import write_file_atomic
from ftprep.transform.trainer_config import TRAINERS, render_config, survey_file, trainer_config


@click.command("trainer-config")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--trainer", type=click.Choice(TRAINERS), required=True, help="The trainer that reads FILE.")
@click.option("--name", help="LLaMA-Factory dataset name (default: FILE's stem).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False),
              help="Write the snippet to this file (atomically) instead of stdout.")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; do not list what the trainer cannot take.")
def trainer_config_command(path: str, trainer: str, name: str | None, output: str | None, force: bool,
                           quiet: bool) -> int:
    """Print the dataset configuration with which TRAINER reads FILE (OpenAI chat JSONL) as it is.

    Axolotl: the `datasets:` section (YAML, type chat_template, message_field_training: weight when rows
    carry weights). LLaMA-Factory: a dataset_info.json entry (formatting openai with its tags). FILE is read
    once; what the trainer cannot take (weights, images, rows it drops ...) is listed on stderr.
    Exit 0, or 2 on usage or I/O failure.
    """
    if not Path(path).is_file():
        raise ConfigError(f"{path}: no such file")
    with progress_bar("reading", progress_enabled(quiet), input_size(path)) as advance:
        features = survey_file(path, progress=advance)
    snippet, cannot = trainer_config(path, trainer, name=name, features=features)
    text = render_config(snippet, trainer)
    if output is None:
        click.echo(text, nl=False)
    else:
        if Path(output).exists() and not force:
            raise ConfigError(f"{output} exists; pass --force to overwrite it")
        write_file_atomic(output, text.encode("utf-8"), inputs=[path])
    if not quiet:
        for sentence in cannot:
            click.echo(f"ftprep: {trainer}: {sentence}", err=True)
    return 0
