"""Views of a cost comparison (``ftprep estimate --target all`` or several ``--model``): text, JSON, markdown."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ftprep.estimation import ComparedJob
from ftprep.report.estimate_text import money
from ftprep.report.options import plural
from ftprep.textsafe import dumps_json, escape_controls

Comparison = Sequence[ComparedJob]
HEADER = ("target", "model", "check", "tokens", "examples", "epochs", "trained tokens", "price /1M", "cost",
          "other tiers")


def _cells(job: ComparedJob) -> tuple[str, ...]:
    result = job.result
    if result is None:
        return (job.target, job.model, "-", "-", "-", "-", "-", "-", "skipped", job.skipped)
    price = result.price.value
    unit = "/h" if result.price.unit == "usd_per_hour" else ""
    tier = f" ({result.tier})" if result.tier else ""
    others = ", ".join(f"{t} {money(c)}" for t, c in result.tier_costs.items() if t != result.tier)
    verdict = result.verdict
    check = "-" if verdict is None else "ok" if verdict.passes else f"FAILS ({plural(verdict.errors, 'error')})"
    return (job.target, result.model or job.model, check,
            {"estimate": "ESTIMATED"}.get(result.counting, result.counting),
            f"{result.examples:,}", str(result.n_epochs), f"{result.trained_tokens:,}",
            f"${price:g}{unit}{tier}" if price is not None else "unknown",
            money(result.cost_usd) if result.cost_usd is not None else "unknown", others or "-")


def render_text(jobs: Comparison) -> str:
    """An aligned table, one row per target x model, then notes on what the figures mean."""
    rows = [HEADER, *(_cells(job) for job in jobs)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    if any(job.result is not None and job.result.counting == "tokenizer" for job in jobs):
        lines.append("tokenizer: the model's own tokenizer (offline); messages framed by OpenAI's formula, not the "
                     "model's chat template")
    if any(job.result is not None and not job.result.exact_tokens for job in jobs):
        lines.append("ESTIMATED: no offline tokenizer for that model (or its package is not installed); counted "
                     "with o200k_base")
    if any(job.result is not None and job.result.verdict is not None and not job.result.verdict.passes
           for job in jobs):
        lines.append("FAILS: the target would reject the job; `ftprep check --target T` lists the errors")
    if any(job.result is not None and job.result.cost_usd is None for job in jobs):
        lines.append("unknown: no dated, sourced price for that model (pass --price MODEL=USD)")
    return escape_controls("\n".join(lines), keep_layout=True) + "\n"


def render_json(jobs: Comparison) -> str:
    """``{"version": 1, "targets": [{"target", "model", "status", "estimate" | "reason"}]}``."""
    data = {"version": 1, "targets": [
        {"target": job.target, "model": job.model, "status": "skipped", "reason": job.skipped} if job.result is None
        else {"target": job.target, "model": job.result.model, "status": "estimated", "estimate": job.result.to_dict()}
        for job in jobs]}
    return dumps_json(data, indent=True) + "\n"


def render_markdown(jobs: Comparison) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in _cells(job)) + " |" for job in jobs]
    return escape_controls("\n".join(lines), keep_layout=True) + "\n"


COMPARISON_REPORTERS: dict[str, Callable[[Comparison], str]] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
}
