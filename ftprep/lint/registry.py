"""The rule registry: every rule is a class with a code, a kebab-case name, a severity and a docstring.

The docstring is the rule's documentation (What it does / Why it matters / Example / Fix) and is what
``ftprep rule CODE`` prints. Rules are registered by importing :mod:`ftprep.rules`; the look-ups over every
rule (``all_rules``, ``get_rule``, ``select_codes``, ``resolve_selectors``) are in :mod:`ftprep.rules.catalog`,
which sits above the rule modules, so that this module imports no rule (the rule modules import it).
"""

from __future__ import annotations

import inspect
import re
from typing import ClassVar, TypeVar

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


def rule_by_name(name: str) -> type[Rule] | None:
    """The registered rule named ``name`` (kebab-case), or None; :mod:`ftprep.rules.catalog` loads every rule."""
    return _BY_NAME.get(name)
