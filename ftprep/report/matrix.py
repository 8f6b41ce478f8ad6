"""Views of a target matrix (``ftprep check --target all``): text, JSON (a top-level ``targets`` array), markdown."""

from __future__ import annotations

from collections.abc import Callable

from ftprep.matrix import TargetMatrix, TargetRow
from ftprep.textsafe import dumps_json, escape_controls

SCHEMA_VERSION = 1
MAX_BLOCKING = 4


def _blocking(row: TargetRow) -> str:
    if row.result is None:
        return row.skipped
    rules = row.blocking()
    shown = ", ".join(f"{code} {name} x{count}" for code, name, count in rules[:MAX_BLOCKING])
    more = f", +{len(rules) - MAX_BLOCKING} more" if len(rules) > MAX_BLOCKING else ""
    return (shown + more) or "-"


def _status(row: TargetRow) -> str:
    return {"fails": "FAILS", "no-model": "NO MODEL"}.get(row.status, row.status)


def render_text(matrix: TargetMatrix) -> str:
    """An aligned table: target, model, verdict, counts, blocking rules; then a one-line summary."""
    header = ("target", "model", "verdict", "errors", "warnings", "info", "blocked by")
    rows = [header]
    for row in matrix.rows:
        counts = row.counts()
        rows.append((row.target.name, row.model, _status(row), str(counts["errors"]), str(counts["warnings"]),
                     str(counts["info"]), _blocking(row)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(r[:-1], widths, strict=True)) + "  " + r[-1]
             for r in rows]
    lines += [f"{row.target.name}: {row.note or row.no_model}" for row in matrix.rows if row.note or row.no_model]
    passing = [row.target.name for row in matrix.rows if row.passes]
    lines.append(f"passes on {len(passing)} of {len(matrix.rows)} target(s)"
                 + (f": {', '.join(passing)}" if passing else "")
                 + "; `ftprep check FILE --target NAME` lists the findings for one")
    return escape_controls("\n".join(lines), keep_layout=True) + "\n"


def render_json(matrix: TargetMatrix) -> str:
    """``{"version": 1, "targets": [...], "summary": {...}}``."""
    data = {
        "version": SCHEMA_VERSION,
        "targets": [row.to_dict() for row in matrix.rows],
        "summary": {"targets": len(matrix.rows), "passes": sum(1 for r in matrix.rows if r.passes),
                    "fails": matrix.errors, "skipped": sum(1 for r in matrix.rows if r.result is None)},
    }
    return dumps_json(data, indent=True) + "\n"


def render_markdown(matrix: TargetMatrix) -> str:
    """A GitHub-flavoured markdown table (for a pull-request comment or a step summary)."""
    lines = ["| target | model | verdict | errors | warnings | info | blocked by |",
             "|---|---|---|---:|---:|---:|---|"]
    for row in matrix.rows:
        counts = row.counts()
        verdict = {"passes": "✅ passes", "fails": "❌ fails", "no-model": "❌ no model",
                   "skipped": "– skipped"}[row.status]
        lines.append(f"| {row.target.name} | `{row.model}` | {verdict} | {counts['errors']} | {counts['warnings']} | "
                     f"{counts['info']} | {_blocking(row).replace('|', '/')} |")
    return escape_controls("\n".join(lines), keep_layout=True) + "\n"


MATRIX_REPORTERS: dict[str, Callable[[TargetMatrix], str]] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
}
