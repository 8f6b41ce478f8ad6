"""What every command shares: exit codes, error rendering, the guarded runner, shared options."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import orjson

from ftprep.config import Config, load_config
from ftprep.errors import FtprepError
from ftprep.extras import missing_extra

if TYPE_CHECKING:  # the commands that write files import it (start-up time of the others)
    from ftprep.transform.summary import Accounting

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
# Set to 1 to see the traceback of an internal error (for a bug report) instead of the one-line message.
DEBUG_ENV = "FTPREP_DEBUG"

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> click.exceptions.Exit:
    """Print ``ftprep: error: message`` on stderr and return the exit-2 exception to raise."""
    click.echo(f"ftprep: error: {message}", err=True)
    return click.exceptions.Exit(EXIT_USAGE)


def run_guarded(command: click.Command, argv: list[str] | None) -> int:
    """Run a click command standalone-free: every failure becomes one clear line on stderr and exit 2.

    Library errors (:class:`FtprepError`) and operating-system errors (full disk, symlink loop, missing
    folder) are the tool's environment; any other exception is a bug in ftprep, reported as an internal
    error (the traceback only with ``FTPREP_DEBUG=1``). Never exit 1, which means "findings in the data".
    """
    try:
        result = command.main(args=argv, prog_name="ftprep", standalone_mode=False)
    except FtprepError as exc:
        click.echo(f"ftprep: error: {exc}", err=True)
        return EXIT_USAGE
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except click.exceptions.Abort:
        click.echo("ftprep: aborted", err=True)
        return 130
    except BrokenPipeError:
        # A closed pipe (`ftprep ... | head`) is not an error of ours; silence the interpreter's report.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        _report(f"ftprep: error: {os_error_message(exc)}")
        return EXIT_USAGE
    except ImportError as exc:
        # A package of an extra that is not installed (a feature's require() says which; this catches the
        # imports without one): the install hint, not an internal error.
        missing = missing_extra(exc, feature=_command_name(argv))
        _report(f"ftprep: error: {missing}" if missing is not None else internal_error_message(exc))
        return EXIT_USAGE
    except Exception as exc:  # the one guard: a bug must not print a traceback or exit 1
        _report(internal_error_message(exc))
        return EXIT_USAGE
    return int(result) if isinstance(result, int) else EXIT_OK


def _command_name(argv: list[str] | None) -> str:
    """``ftprep jobs`` for the command line being run."""
    args = sys.argv[1:] if argv is None else argv
    return f"ftprep {args[0]}" if args and not args[0].startswith("-") else "this command"


def os_error_message(exc: OSError) -> str:
    """``path: reason`` for an operating-system error (``[Errno 28] No space left on device`` -> the reason)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    paths = [str(name) for name in (exc.filename, exc.filename2) if name is not None]
    where = " -> ".join(repr(p) if p == "" else p for p in paths)
    return f"{where}: {reason}" if where else reason


def internal_error_message(exc: BaseException) -> str:
    """The one line an unexpected exception becomes (its type and message, flattened to one line)."""
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:300] + "..."
    return (f"ftprep: internal error: {type(exc).__name__}: {text}; please report it with the command "
            f"that caused it (set {DEBUG_ENV}=1 to see the traceback)")


def _report(line: str) -> None:
    """Print the line on stderr; with FTPREP_DEBUG=1 the traceback of the exception being handled first."""
    if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        traceback.print_exc(file=sys.stderr)
    with contextlib.suppress(OSError, ValueError):  # stderr itself may be gone: the exit code still tells
        click.echo(line, err=True)


def quiet_option(func: F) -> F:
    """``--quiet``: no progress bar and no summary chatter on stderr."""
    return click.option("--quiet", "-q", is_flag=True, help="No progress bar or chatter on stderr.")(func)


def progress_enabled(quiet: bool) -> bool:
    """Progress bars show on an interactive stderr only: not when piped, under pre-commit, or --quiet."""
    if quiet or os.environ.get("PRE_COMMIT") or os.environ.get("CI"):
        return False
    return sys.stderr.isatty()


def config_options(func: F) -> F:
    """``--config PATH`` and ``--isolated``."""
    func = click.option("--isolated", is_flag=True, help="Ignore all configuration files.")(func)
    return click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                        help="Use this ftprep.toml / pyproject.toml instead of searching.")(func)


def load_cli_config(config_path: Path | None, isolated: bool) -> Config:
    """The configuration for this run (closest file from the working directory)."""
    return load_config(explicit=config_path, isolated=isolated)


def split_selectors(values: tuple[str, ...]) -> list[str]:
    """``--select FT1,FT2 --select FT3`` -> ``["FT1", "FT2", "FT3"]``."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def input_size(*paths: str | None) -> int:
    """Bytes the inputs hold on disk (0 for stdin, pipes and gzip files, whose size is not known in
    advance). Only regular files are opened: reading a pipe here would take bytes the check needs."""
    total = 0
    for path in paths:
        if path is None or path == "-":
            continue
        with contextlib.suppress(OSError):
            if not os.path.isfile(path):
                continue
            with open(path, "rb") as handle:
                if handle.read(2) != b"\x1f\x8b":
                    total += os.path.getsize(path)
    return total


@contextlib.contextmanager
def progress_bar(label: str, enabled: bool, total: int) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on stderr fed with byte counts, or None when progress is off."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn(label), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total or None)
        yield lambda n: bar.advance(task, n)


OUTPUT_FORMATS = ("text", "json")


def output_options(func: F) -> F:
    """``--force``, ``--output-format text|json`` and ``--quiet``: the commands that write files."""
    func = click.option("--quiet", "-q", is_flag=True, help="No summary on stderr (text format).")(func)
    func = click.option("--output-format", "-f", type=click.Choice(OUTPUT_FORMATS), default="text",
                        show_default=True, help="text: summary on stderr; json: summary as JSON on stdout.")(func)
    return click.option("--force", is_flag=True, help="Overwrite existing output files.")(func)


def show_summaries(summaries: list[Accounting], output_format: str, quiet: bool) -> int:
    """:func:`show_summary` of one input, or of several (each summary in turn; JSON: ``{"version": 1, "files":
    [...]}``, each item the summary of one input). Exit 1 when any input lost lines to its rejects file."""
    if len(summaries) == 1:
        return show_summary(summaries[0], output_format, quiet)
    if output_format == "json":
        data = {"version": 1, "files": [accounting.to_dict() for accounting in summaries]}
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode("utf-8"))
    elif not quiet:
        for accounting in summaries:
            click.echo(f"{accounting.extra.get('input', '')}:\n{accounting.render()}", err=True, nl=False)
    return EXIT_FINDINGS if any(a.rejected > a.set_aside for a in summaries) else EXIT_OK


def show_summary(accounting: Accounting, output_format: str, quiet: bool) -> int:
    """The summary of split, convert and fix: JSON on stdout, or text on stderr unless quiet. Returns the
    exit code: 1 when lines went to the rejects file other than those set aside on request (``fix
    --dedupe``): a CI step must not lose rows silently; else 0."""
    if output_format == "json":
        click.echo(orjson.dumps(accounting.to_dict(), option=orjson.OPT_INDENT_2).decode("utf-8"))
    elif not quiet:
        click.echo(accounting.render(), err=True, nl=False)
    return EXIT_FINDINGS if accounting.rejected > accounting.set_aside else EXIT_OK
