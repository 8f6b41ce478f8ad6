"""Plain-text view of an estimate: a compact table per file, the cost line with its source, a histogram."""

from __future__ import annotations

from ftprep.cost import EstimateResult, FileEstimate, PriceInfo
from ftprep.textsafe import escape_controls

BAR_WIDTH = 40


def money(value: float | None) -> str:
    """USD with cents (more digits below one cent)."""
    if value is None:
        return "n/a"
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def price_line(price: PriceInfo) -> str:
    """The price with unit, source and date."""
    if price.value is None:
        return f"unknown ({price.note})"
    unit = "per 1M training tokens" if price.unit == "usd_per_1m_tokens" else "per training hour"
    as_of = f", as of {price.as_of}" if price.as_of else ""
    return f"${price.value:g} {unit} (source: {price.source}{as_of})"


def verdict_line(result: EstimateResult) -> str | None:
    """``check: ok`` or ``check: FAILS ...``: what ``ftprep check`` says of the files (None: not checked)."""
    verdict = result.verdict
    if verdict is None:
        return None
    if verdict.passes:
        return f"check: ok ({verdict.warnings:,} warning(s))"
    rules = ", ".join(f"{code} x{count:,}" for code, count in list(verdict.by_rule.items())[:6])
    more = ", ..." if len(verdict.by_rule) > 6 else ""
    return (f"check: FAILS - {verdict.errors:,} error(s) ({rules}{more}); the service would reject this job: "
            f"`ftprep check {escape_controls(result.train.path)}` lists them")


def cost_words(result: EstimateResult) -> str:
    """``$1.23``, or ``$1.23 - would be rejected: 5 errors`` when the check fails, or ``nothing to price``
    for a file without records."""
    if result.examples == 0:
        return "nothing to price: the file holds no records"
    text = money(result.cost_usd)
    if result.verdict is not None and not result.verdict.passes:
        text += f" - would be rejected: {result.verdict.errors:,} error{'s' if result.verdict.errors != 1 else ''}"
    return text


def histogram_lines(file: FileEstimate) -> list[str]:
    """Token-length histogram as text bars."""
    bins = file.distribution.histogram
    peak = max((c for _, _, c in bins), default=0)
    width = max((len(f"{lo:,}-{hi:,}") for lo, hi, _ in bins), default=0)
    lines = []
    for lo, hi, count in bins:
        bar = "#" * (round(count / peak * BAR_WIDTH) if peak else 0)
        lines.append(f"  {f'{lo:,}-{hi:,}':>{width}} | {bar} {count}")
    return lines


def file_table(file: FileEstimate, limit: int | None) -> list[str]:
    """Rows for one file."""
    d = file.distribution
    rows = [
        ("examples", f"{file.examples:,}"),
        ("total tokens", f"{file.total_tokens:,}"),
        ("billing tokens", f"{file.billing_tokens:,} (per epoch, examples capped at the limit)"),
        ("trainable tokens", f"{file.trainable_tokens:,} (assistant, weight 1)"),
        ("tokens / example", f"mean {d.mean:,.1f}  median {d.median:,.1f}  p5 {d.p5:,.1f}  p95 {d.p95:,.1f}  "
                             f"max {d.max:,}"),
        ("over the limit", f"{file.over_limit:,}" + (f" of {limit:,} tokens; {file.truncated_tokens:,} tokens cut"
                                                      if limit else " (no limit known)")),
    ]
    if file.zero_trainable:
        rows.append(("zero trainable", f"{file.zero_trainable:,} example(s)"))
    if file.images_estimated:
        rows.append(("estimated images", f"{file.images_estimated:,} example(s) with remote images"))
    if file.trained_tokens is not None:
        rows += [("epochs", f"{file.n_epochs}"), ("trained tokens", f"{file.trained_tokens:,}"),
                 ("cost", money(file.cost_usd))]
    width = max(len(k) for k, _ in rows)
    return [f"  {k:<{width}}  {v}" for k, v in rows]


def render(result: EstimateResult) -> str:
    """The estimate as text for a terminal."""
    counted = {"estimate": f"{result.encoding}, ESTIMATED tokens",
               "tokenizer": f"{result.encoding} tokenizer"}.get(result.counting, result.encoding)
    out = [f"ftprep estimate: {result.model or '(no model)'} on {result.target} ({counted}), method {result.method}"]
    verdict = verdict_line(result)
    if verdict is not None:
        out.append(verdict)
    for file in result.files:
        out += ["", f"{file.role}: {escape_controls(file.path)} ({file.kind or 'no records'})",
                *file_table(file, result.limit)]
        if file.note:
            out.append(f"  note: {escape_controls(file.note)}")
    out += ["", "cost",
            f"  {result.trained_tokens:,} trained tokens = {result.n_epochs} epoch(s)"
            f"{' (auto)' if result.n_epochs_auto else ''} x {result.billing_tokens:,} billing tokens",
            f"  price{f' ({result.tier} tier)' if result.tier else ''}: {price_line(result.price)}",
            f"  estimated cost: {cost_words(result)}"]
    others = {tier: cost for tier, cost in result.tier_costs.items() if tier != result.tier}
    if others:
        out.append("  other tiers: " + ", ".join(f"{tier} {money(cost)}" for tier, cost in others.items()))
    out += ["", "tokens per example (training file)", *histogram_lines(result.train)]
    if result.notes or result.findings:
        out.append("")
    out += [f"note: {escape_controls(n)}" for n in result.notes]
    out += [f"warning {f['code']} {f['name']}: {escape_controls(f['message'])}" for f in result.findings]
    return "\n".join(out) + "\n"
