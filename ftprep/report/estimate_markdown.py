"""Markdown view of an estimate, sized for a CI step summary (``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from ftprep.cost import EstimateResult
from ftprep.report.estimate_text import cost_words, price_line, verdict_line
from ftprep.textsafe import escape_controls


def _cell(text: str) -> str:
    return escape_controls(text).replace("|", "\\|")


def render(result: EstimateResult) -> str:
    """The estimate as GitHub-flavoured Markdown: a per-file table, the cost, notes and warnings."""
    out = [f"### ftprep estimate: `{result.model or '(no model)'}` ({result.encoding}, {result.method})", ""]
    verdict = verdict_line(result)
    if verdict is not None:
        out += [("**" if result.verdict is not None and not result.verdict.passes else "") + _cell(verdict)
                + ("**" if result.verdict is not None and not result.verdict.passes else ""), ""]
    out += ["| file | role | examples | total tokens | billing tokens | mean | median | p95 | max | over limit |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for f in result.files:
        d = f.distribution
        out.append(f"| `{_cell(f.path)}` | {f.role} | {f.examples:,} | {f.total_tokens:,} | {f.billing_tokens:,} | "
                   f"{d.mean:,.1f} | {d.median:,.1f} | {d.p95:,.1f} | {d.max:,} | {f.over_limit:,} |")
    out += ["", "| epochs | trained tokens | price | cost |", "|--:|--:|---|--:|",
            f"| {result.n_epochs}{' (auto)' if result.n_epochs_auto else ''} | {result.trained_tokens:,} | "
            f"{_cell(price_line(result.price))} | **{_cell(cost_words(result))}** |"]
    if result.notes or result.findings:
        out.append("")
    out += [f"> **Note:** {_cell(n)}" + "  " for n in result.notes]
    out += [f"> **Warning {f['code']}** ({f['name']}): {_cell(f['message'])}" + "  " for f in result.findings]
    return "\n".join(out) + "\n"
