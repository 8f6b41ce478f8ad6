"""ftprep's import graph has no cycle, every module imports on its own, and the rules import no layer above them.

The graph is built statically with :mod:`ast` from every module under ``ftprep/`` and counts *every* import
statement: module level and inside functions, relative imports resolved, ``from ftprep.x import y`` counting
as an import of ``ftprep.x.y`` when ``y`` is a submodule, and package ``__init__`` re-exports. Importing
``ftprep.a.b`` runs ``ftprep/a/__init__.py`` first, so it also counts as importing the package ``ftprep.a``
(except from inside that package, which is imported before any of its modules run). Imports under
``if TYPE_CHECKING:`` are ignored: they never run. Imports by name through ``importlib`` (the lazy exports of
``ftprep/__init__.py`` and ``ftprep/upload/__init__.py``, the CLI's lazy commands) are not statements and not
counted; they only ever point down from a package to its own modules or from the CLI to a command.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "ftprep"
# Layers that ftprep/rules/* must never reach, directly or through other modules (DESIGN.md, Layers).
ABOVE_RULES = ("ftprep.engine", "ftprep.cli", "ftprep.check", "ftprep.upload")
# ``python -m ftprep`` runs the command line when imported.
NOT_IMPORTABLE = {"ftprep.__main__"}

Graph = dict[str, set[str]]


def module_files(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of ``package`` (a folder with ``__init__.py``)."""
    modules: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module name imported anywhere in ``tree`` (relative imports resolved; ``from a import b`` gives
    ``a`` and ``a.b``, the caller keeps the names that are modules). ``if TYPE_CHECKING:`` bodies are skipped."""
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))
    return names


def import_graph(package: Path) -> Graph:
    """Module -> the package's modules it imports (see the module docstring for what counts)."""
    files = module_files(package)
    graph: Graph = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: set[str] = set()
        for name in imported_names(tree, module, path.name == "__init__.py"):
            parts = name.split(".")
            for end in range(1, len(parts) + 1):
                target = ".".join(parts[:end])
                # An enclosing package of ``module`` is already imported when ``module`` runs.
                if end < len(parts) and (module == target or module.startswith(target + ".")):
                    continue
                if target in files and target != module:
                    edges.add(target)
        graph[module] = edges
    return graph


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected component of more than one module."""
    return [_cycle_in(graph, component) for component in components(graph)]


def components(graph: Mapping[str, Iterable[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative so that deep graphs
    need no recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def _cycle_in(graph: Mapping[str, Iterable[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (by name), found breadth-first."""
    start = min(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child in component and child not in previous and child != start:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {sorted(component)}")


def reachable(graph: Mapping[str, Iterable[str]], start: str) -> set[str]:
    """Every module that importing ``start`` imports, directly or not."""
    seen: set[str] = set()
    pending = [start]
    while pending:
        for child in graph[pending.pop()]:
            if child not in seen:
                seen.add(child)
                pending.append(child)
    return seen


# Run in a fresh interpreter: one forked child per module, so each module is imported with no other ftprep
# module loaded (one interpreter per module would take about 0.2 s each). The parent imports the other
# libraries first (those that import, a failed import is not kept), so that each child imports ftprep alone.
_IMPORT_EACH = textwrap.dedent("""
    import importlib, os, sys, traceback
    sys.path.insert(0, sys.argv[1])
    for library in sys.argv[2].split(","):
        try:
            importlib.import_module(library)
        except Exception:
            pass
    for name in sys.argv[3:]:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                importlib.import_module(name)
            except BaseException:
                sys.stderr.write(f"--- import {name}\\n" + traceback.format_exc())
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0:
            print(name, flush=True)
""")


def import_failures(root: Path, modules: Iterable[str], libraries: Iterable[str] = ()) -> tuple[list[str], str]:
    """The modules that fail to import on their own from ``root``, and the tracebacks; ``libraries`` are
    imported beforehand (a speed-up only)."""
    done = subprocess.run([sys.executable, "-c", _IMPORT_EACH, str(root), ",".join(libraries), *modules],
                          capture_output=True, text=True, timeout=120, cwd=root, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split(), done.stderr


fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="each module is imported in a forked child")


def test_import_graph_has_no_cycle() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 80 and "ftprep.lint.finding" in graph["ftprep.engine"], "the graph lost modules or edges"
    found = components(graph)
    assert not found, "import cycles (imports must point down the layers of DESIGN.md):\n" + "\n".join(
        f"{' -> '.join(_cycle_in(graph, c))}  (one of the cycles among {len(c)} modules: {', '.join(sorted(c))})"
        for c in found)


def test_rules_import_no_layer_above_them() -> None:
    graph = import_graph(PACKAGE)
    rule_modules = [m for m in graph if m == "ftprep.rules" or m.startswith("ftprep.rules.")]
    assert len(rule_modules) > 10
    offending = {
        module: sorted(m for m in reachable(graph, module) if m.startswith(ABOVE_RULES))
        for module in rule_modules
    }
    assert not {m: above for m, above in offending.items() if above}


@fork
def test_every_module_imports_on_its_own() -> None:
    modules = sorted(set(module_files(PACKAGE)) - NOT_IMPORTABLE)
    libraries = set()
    for module, path in module_files(PACKAGE).items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        libraries |= {n.partition(".")[0] for n in imported_names(tree, module, path.name == "__init__.py")}
    failed, tracebacks = import_failures(REPO, modules, sorted(libraries - {"ftprep", "__future__"}))
    assert not failed, f"modules that fail to import in a fresh interpreter: {failed}\n{tracebacks}"


# The checks themselves, on a small package with known defects: they can fail.

def _write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root / "pkg"


def test_graph_counts_function_level_relative_and_submodule_imports(tmp_path: Path) -> None:
    package = _write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/low.py": "def late():\n    from pkg.high import thing\n    return thing\n",
        "pkg/high.py": "from . import low\nthing = 1\n",
        "pkg/sub/__init__.py": "from pkg.sub.a import A\n",
        "pkg/sub/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import user\nA = 1\n",
        "pkg/sub/b.py": "from ..high import thing\n",
        "pkg/user.py": "from pkg.sub.a import A\n",
    })
    graph = import_graph(package)
    assert graph["pkg.low"] == {"pkg.high"}  # inside a function
    assert graph["pkg.high"] == {"pkg", "pkg.low"}  # ``from . import low``: the package and its submodule
    assert graph["pkg.sub"] == {"pkg.sub.a"}  # a package re-export
    assert graph["pkg.sub.a"] == set()  # TYPE_CHECKING ignored; its own package is not an edge
    assert graph["pkg.sub.b"] == {"pkg.high"}  # ``..high`` from pkg.sub
    assert graph["pkg.user"] == {"pkg.sub", "pkg.sub.a"}  # importing pkg.sub.a runs pkg/sub/__init__.py
    assert cycles(graph) == [["pkg.high", "pkg.low", "pkg.high"]]
    assert reachable(graph, "pkg.sub.b") == {"pkg", "pkg.high", "pkg.low"}


def test_cycles_names_each_cycle_once() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"f"}, "f": {"e"}, "g": {"g"}}
    assert sorted(cycles(graph)) == [["a", "b", "c", "a"], ["e", "f", "e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@fork
def test_import_failures_are_reported(tmp_path: Path) -> None:
    _write_package(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/good.py": "X = 1\n",
        "pkg/first.py": "from pkg.second import B\nA = 1\n",
        "pkg/second.py": "from pkg.first import A\nB = 1\n",
    })
    failed, tracebacks = import_failures(tmp_path, ["pkg.good", "pkg.first", "pkg.second"])
    # A cycle of module-level imports fails whichever module is imported first.
    assert failed == ["pkg.first", "pkg.second"]
    assert "cannot import name" in tracebacks
