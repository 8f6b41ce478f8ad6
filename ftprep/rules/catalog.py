"""The catalog of every rule: the look-ups that need every rule module loaded.

:mod:`ftprep.lint.registry` keeps :class:`~ftprep.lint.registry.Rule` and ``register`` only, so the rule
modules import it without it importing them; this module imports the :mod:`ftprep.rules` package (which
imports, hence registers, every rule) and answers questions about the whole set. Layers, imports pointing
down only (no cycle: tests/unit/test_layers.py)::

    cli/
    report/  transform/  upload/
    check  estimate  overlap_pass           overlap_pass: the overlap functions that read files
    engine (pipeline)  cost  grader
    rules/catalog                           all_rules, get_rule, select_codes, resolve_selectors
    rules/*
    lint/ (registry, context)  tokens/  overlap/ (hashing, normalize, near, compare)
    jsonl/  formats/  data/  config  errors  folders  parallel  lint/finding
"""

from __future__ import annotations

from collections.abc import Iterable

import ftprep.rules  # noqa: F401 - registers every rule
from ftprep.errors import ConfigError, did_you_mean
from ftprep.lint.registry import RULES, Rule, rule_by_name


def all_rules() -> list[type[Rule]]:
    """Every registered rule, by code."""
    return [RULES[c] for c in sorted(RULES)]


def get_rule(key: str) -> type[Rule]:
    """Look a rule up by code (``FT201``, any case) or by name (``unknown-message-key``)."""
    rule = RULES.get(key.upper()) or rule_by_name(key.lower())
    if rule is None:
        hint = did_you_mean(key, [*RULES, *(r.name for r in RULES.values())])
        raise ConfigError(f"unknown rule {key!r}{hint or ';'} `ftprep rule --all` lists the rules")
    return rule


def _matches(rule: type[Rule], selector: str) -> bool:
    selector = selector.strip()
    if selector.upper() == "ALL":
        return True
    if selector.upper().startswith("FT"):
        return rule.code.startswith(selector.upper())
    return rule.name == selector.lower()


def resolve_selectors(selectors: Iterable[str]) -> set[str]:
    """Codes matched by selectors (codes, code prefixes such as ``FT2``, names or ``ALL``).

    Raises :class:`ConfigError` for a selector that matches no rule, so typos do not pass silently.
    """
    rules = all_rules()
    codes: set[str] = set()
    for selector in selectors:
        matched = {r.code for r in rules if _matches(r, selector)}
        if not matched:
            hint = did_you_mean(selector.strip(), [*(r.code for r in rules), *(r.name for r in rules)])
            raise ConfigError(f"--select/--ignore {selector!r} matches no rule{hint or ';'} use a code (FT201), "
                              "a prefix (FT2) or a name")
        codes |= matched
    return codes


def select_codes(select: Iterable[str] = (), ignore: Iterable[str] = ()) -> frozenset[str]:
    """The set of enabled rule codes: ``select`` (default all) minus ``ignore``."""
    select = list(select)
    enabled = resolve_selectors(select) if select else {r.code for r in all_rules()}
    return frozenset(enabled - resolve_selectors(ignore))
