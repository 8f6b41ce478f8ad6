"""Overlap reports as text, JSON and Markdown: views of :class:`ftprep.overlap.OverlapReport`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ftprep.overlap import OverlapReport
from ftprep.textsafe import dumps_json, escape_controls


def _similarity(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _share(report: OverlapReport) -> str:
    return f"{len(report.pairs)}/{report.validation_examples} validation examples ({report.leak_share:.1%})"


def render_text(reports: Sequence[OverlapReport], *, quiet: bool = False) -> str:
    """One block per pair of files: leaking lines, counts per kind, leak share and duplicate counts."""
    blocks = []
    for report in reports:
        valid, train = escape_controls(report.validation_path), escape_controls(report.train_path)
        lines = [f"{valid} vs {train}: {_share(report)} leak"]
        if not quiet:
            lines += [f"  {valid}:{p.validation_line}: {p.kind} of "
                      f"{train}:{p.train_line} (similarity {_similarity(p.similarity)})"
                      for p in report.pairs]
        counts = ", ".join(f"{kind} {count}" for kind, count in report.counts.items())
        lines.append(f"  by kind: {counts}")
        for path, dups in ((train, report.train_duplicates), (valid, report.validation_duplicates)):
            if dups:
                lines.append(f"  {path}: {len(dups)} line(s) duplicate an earlier line")
                if not quiet:
                    lines += [f"    {path}:{d.line}: {d.kind} of line {d.first_line}"
                              + (f" (similarity {_similarity(d.similarity)})" if d.kind == "near" else "")
                              for d in dups]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def render_json(reports: Sequence[OverlapReport], *, quiet: bool = False) -> str:
    """``{"version": 1, "pairs": [report.to_dict(), ...]}`` on one line (``quiet`` changes nothing)."""
    return dumps_json({"version": 1, "pairs": [r.to_dict() for r in reports]}) + "\n"


def render_markdown(reports: Sequence[OverlapReport], *, quiet: bool = False) -> str:
    """A Markdown section per pair: summary, a table of counts and (unless quiet) a table of pairs."""
    out = []
    for report in reports:
        valid, train = escape_controls(report.validation_path), escape_controls(report.train_path)
        out += [f"## `{valid}` vs `{train}`", "",
                f"Leak: {_share(report)}.", "", "| kind | validation lines |", "|---|---:|"]
        out += [f"| {kind} | {count} |" for kind, count in report.counts.items()]
        out.append("")
        if report.pairs and not quiet:
            out += ["| validation line | kind | training line | similarity |", "|---:|---|---:|---:|"]
            out += [f"| {p.validation_line} | {p.kind} | {p.train_line} | {_similarity(p.similarity)} |"
                    for p in report.pairs]
            out.append("")
        out.append(f"Duplicates within files: `{train}` {len(report.train_duplicates)}, "
                   f"`{valid}` {len(report.validation_duplicates)}.")
        out.append("")
    return "\n".join(out)


OVERLAP_REPORTERS: dict[str, Callable[..., str]] = {
    "text": render_text, "json": render_json, "markdown": render_markdown,
}
