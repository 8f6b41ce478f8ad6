"""The ``ftprep`` command line: a thin layer that parses options, calls the library, renders, exits.

Each command lives in its own module and is added to the group here. Exit codes: 0 success / no
errors, 1 errors found (or the job failed), 2 usage, configuration or I/O failure.
"""

from __future__ import annotations

import sys

import click

from ftprep import __version__
from ftprep.cli.common import EXIT_USAGE, run_guarded
from ftprep.cli.rule import rule_command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="ftprep")
def cli() -> None:
    """Validate, measure and prepare fine-tuning JSONL files before they reach the API."""


cli.add_command(rule_command)


def _add_optional_commands() -> None:
    """Commands added by their modules; each module exposes one click command or group."""
    from ftprep.cli.check import check_command
    from ftprep.cli.convert import convert_command
    from ftprep.cli.estimate import estimate_command
    from ftprep.cli.fix import fix_command
    from ftprep.cli.jobs import jobs_group
    from ftprep.cli.overlap import overlap_command
    from ftprep.cli.split import split_command
    from ftprep.cli.upload import upload_command

    cli.add_command(check_command)
    cli.add_command(estimate_command)
    cli.add_command(upload_command)
    cli.add_command(jobs_group)
    cli.add_command(overlap_command)
    cli.add_command(split_command)
    cli.add_command(convert_command)
    cli.add_command(fix_command)


_add_optional_commands()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script and of ``python -m ftprep``; returns the exit code."""
    code = run_guarded(cli, argv)
    return code if code is not None else EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
