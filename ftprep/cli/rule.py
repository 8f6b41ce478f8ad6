"""``ftprep rule CODE`` / ``ftprep rule --all``: print rule documentation."""

from __future__ import annotations

import click

from ftprep.cli.common import EXIT_OK, fail
from ftprep.errors import ConfigError
from ftprep.lint.registry import Rule


def render_rule(rule: type[Rule]) -> str:
    """A rule's heading and documentation."""
    head = f"{rule.code} {rule.name} ({rule.severity.value})"
    return f"{head}\n{'=' * len(head)}\n\n{rule.doc()}\n"


@click.command("rule")
@click.argument("key", required=False)
@click.option("--all", "show_all", is_flag=True, help="Print every rule's documentation.")
@click.option("--list", "as_list", is_flag=True, help="One line per rule: code, name, severity, summary.")
def rule_command(key: str | None, show_all: bool, as_list: bool) -> int:
    """Explain a rule by code (FT204) or name (unknown-message-key)."""
    # Loading every rule module is for running the command, not for listing it in ``ftprep --help``.
    from ftprep.rules.catalog import all_rules, get_rule

    if as_list:
        for rule in all_rules():
            click.echo(f"{rule.code}  {rule.name:<32} {rule.severity.value:<8} {rule.summary()}")
        return EXIT_OK
    if show_all:
        click.echo("\n".join(render_rule(r) for r in all_rules()), nl=False)
        return EXIT_OK
    if not key:
        raise fail("name a rule (ftprep rule FT204) or pass --all")
    try:
        click.echo(render_rule(get_rule(key)), nl=False)
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    return EXIT_OK
