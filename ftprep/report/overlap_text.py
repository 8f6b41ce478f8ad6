"""Overlap reports as text, JSON and Markdown: views of :class:`ftprep.overlap.OverlapReport`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import orjson

from ftprep.overlap import OverlapReport


def _similarity(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _share(report: OverlapReport) -> str:
    return f"{len(report.pairs)}/{report.validation_examples} validation examples ({report.leak_share:.1%})"


def render_text(reports: Sequence[OverlapReport], *, quiet: bool = False) -> str:
    """One block per pair of files: leaking lines, counts per kind, leak share and duplicate counts."""
    blocks = []
    for report in reports:
        lines = [f"{report.validation_path} vs {report.train_path}: {_share(report)} leak"]
        if not quiet:
            lines += [f"  {report.validation_path}:{p.validation_line}: {p.kind} of "
                      f"{report.train_path}:{p.train_line} (similarity {_similarity(p.similarity)})"
                      for p in report.pairs]
        counts = ", ".join(f"{kind} {count}" for kind, count in report.counts.items())
        lines.append(f"  by kind: {counts}")
        for path, dups in ((report.train_path, report.train_duplicates),
                           (report.validation_path, report.validation_duplicates)):
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
    return orjson.dumps({"version": 1, "pairs": [r.to_dict() for r in reports]}).decode() + "\n"


def render_markdown(reports: Sequence[OverlapReport], *, quiet: bool = False) -> str:
    """A Markdown section per pair: summary, a table of counts and (unless quiet) a table of pairs."""
    out = []
    for report in reports:
        out += [f"## `{report.validation_path}` vs `{report.train_path}`", "",
                f"Leak: {_share(report)}.", "", "| kind | validation lines |", "|---|---:|"]
        out += [f"| {kind} | {count} |" for kind, count in report.counts.items()]
        out.append("")
        if report.pairs and not quiet:
            out += ["| validation line | kind | training line | similarity |", "|---:|---|---:|---:|"]
            out += [f"| {p.validation_line} | {p.kind} | {p.train_line} | {_similarity(p.similarity)} |"
                    for p in report.pairs]
            out.append("")
        out.append(f"Duplicates within files: `{report.train_path}` {len(report.train_duplicates)}, "
                   f"`{report.validation_path}` {len(report.validation_duplicates)}.")
        out.append("")
    return "\n".join(out)


OVERLAP_REPORTERS: dict[str, Callable[..., str]] = {
    "text": render_text, "json": render_json, "markdown": render_markdown,
}
