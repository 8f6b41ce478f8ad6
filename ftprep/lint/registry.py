"""The rule registry: every rule is a class with a code, a kebab-case name, a severity and a docstring.

The docstring is the rule's documentation (What it does / Why it matters / Example / Fix) and is what
``ftprep rule CODE`` prints. Rules are registered by importing :mod:`ftprep.rules`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from typing import ClassVar, TypeVar

from ftprep.errors import ConfigError
from ftprep.lint.finding import Severity

CODE_RE = re.compile(r"^FT\d{3}$")
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
DOC_SECTIONS = ("What it does", "Why it matters", "Example", "Fix")


class Rule:
    """Base class of all rules; subclasses set the class variables and carry the documentation."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]

    @classmethod
    def doc(cls) -> str:
        """The rule's documentation, dedented."""
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        """The first sentence of the 'What it does' section."""
        text = cls.doc()
        match = re.search(r"What it does\s*\n-*\s*\n?(.+?)(?:\n\n|$)", text, re.S)
        body = (match.group(1) if match else text).strip().replace("\n", " ")
        return body.split(". ")[0].rstrip(".") + "."


RULES: dict[str, type[Rule]] = {}
_BY_NAME: dict[str, type[Rule]] = {}

R = TypeVar("R", bound=type[Rule])


def register(cls: R) -> R:
    """Class decorator: add a rule to the registry after checking its code, name and documentation."""
    if not CODE_RE.match(cls.code):
        raise ValueError(f"{cls.__name__}: rule code {cls.code!r} is not FT + 3 digits")
    if not NAME_RE.match(cls.name):
        raise ValueError(f"{cls.__name__}: rule name {cls.name!r} is not kebab-case")
    missing = [s for s in DOC_SECTIONS if s not in (cls.__doc__ or "")]
    if missing:
        raise ValueError(f"{cls.code}: docstring lacks section(s) {', '.join(missing)}")
    if cls.code in RULES or cls.name in _BY_NAME:
        raise ValueError(f"{cls.code} {cls.name}: registered twice")
    RULES[cls.code] = cls
    _BY_NAME[cls.name] = cls
    return cls


def all_rules() -> list[type[Rule]]:
    """Every registered rule, by code."""
    _load()
    return [RULES[c] for c in sorted(RULES)]


def get_rule(key: str) -> type[Rule]:
    """Look a rule up by code (``FT201``, any case) or by name (``unknown-message-key``)."""
    _load()
    rule = RULES.get(key.upper()) or _BY_NAME.get(key.lower())
    if rule is None:
        raise ConfigError(f"unknown rule {key!r}; `ftprep rule --all` lists the rules")
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
            raise ConfigError(
                f"--select/--ignore {selector!r} matches no rule; use a code (FT201), a prefix (FT2) or a name"
            )
        codes |= matched
    return codes


def select_codes(select: Iterable[str] = (), ignore: Iterable[str] = ()) -> frozenset[str]:
    """The set of enabled rule codes: ``select`` (default all) minus ``ignore``."""
    select = list(select)
    enabled = resolve_selectors(select) if select else {r.code for r in all_rules()}
    return frozenset(enabled - resolve_selectors(ignore))


def _load() -> None:
    """Import the rule modules so that they register (once)."""
    import ftprep.rules  # noqa: F401
