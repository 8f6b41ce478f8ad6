"""HTML view of an estimate: one self-contained file that works offline.

Charts are drawn by plotly with its JavaScript inlined (no CDN): the token-length histogram and the
per-role token shares of each file; tables hold the per-file figures and the cost with its source.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # plotly takes ~25 MB and a quarter second to import: only when an HTML report is made
    import plotly.graph_objects as go

from ftprep.cost import EstimateResult, FileEstimate
from ftprep.report.estimate_text import money, price_line
from ftprep.textsafe import escape_controls

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.note { color: #555; } .warning { color: #a15c00; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
"""


def _e(value: object) -> str:
    return html.escape(escape_controls(str(value)))


def _histogram(file: FileEstimate) -> go.Figure:
    import plotly.graph_objects as go

    bins = file.distribution.histogram
    figure = go.Figure(go.Bar(x=[f"{lo:,}-{hi:,}" for lo, hi, _ in bins], y=[c for _, _, c in bins],
                              marker_color="#3b6ea8"))
    figure.update_layout(title=f"Tokens per example: {file.role}", xaxis_title="tokens", yaxis_title="examples",
                         width=620, height=380, margin={"t": 50, "b": 60, "l": 50, "r": 20})
    return figure


def _role_shares(file: FileEstimate) -> go.Figure:
    import plotly.graph_objects as go

    roles = {role: n for role, n in file.roles.items() if n}
    figure = go.Figure(go.Pie(labels=list(roles), values=list(roles.values()), hole=0.4, sort=False))
    figure.update_layout(title=f"Token share by role: {file.role}", width=420, height=380,
                         margin={"t": 50, "b": 20, "l": 20, "r": 20})
    return figure


def _file_rows(result: EstimateResult) -> str:
    rows = []
    for f in result.files:
        d = f.distribution
        rows.append("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in (
            f.path, f.role, f"{f.examples:,}", f"{f.total_tokens:,}", f"{f.billing_tokens:,}",
            f"{f.trainable_tokens:,}", f"{d.mean:,.1f}", f"{d.median:,.1f}", f"{d.p5:,.1f}", f"{d.p95:,.1f}",
            f"{d.max:,}", f"{f.over_limit:,}")) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("file", "role", "examples", "total tokens", "billing tokens",
                                             "trainable", "mean", "median", "p5", "p95", "max", "over limit"))
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def render(result: EstimateResult) -> str:
    """The estimate as a complete, offline HTML document."""
    charts = []
    include_js: bool = True
    for file in result.files:
        for figure in (_histogram(file), _role_shares(file)):
            charts.append(figure.to_html(full_html=False, include_plotlyjs=include_js,
                                         config={"displaylogo": False, "responsive": False}))
            include_js = False  # plotly.js once per page
    cost = (
        "<table><tr><th>epochs</th><th>trained tokens</th><th>price</th><th>cost</th></tr>"
        f"<tr><td>{result.n_epochs}{' (auto)' if result.n_epochs_auto else ''}</td>"
        f"<td>{result.trained_tokens:,}</td><td>{_e(price_line(result.price))}</td>"
        f"<td><strong>{_e(money(result.cost_usd))}</strong></td></tr></table>"
    )
    notes = "".join(f'<p class="note">Note: {_e(n)}</p>' for n in result.notes)
    warnings = "".join(f'<p class="warning">Warning {_e(f["code"])} ({_e(f["name"])}): {_e(f["message"])}</p>'
                       for f in result.findings)
    title = f"ftprep estimate: {result.model or '(no model)'}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1><p>Encoding {_e(result.encoding)}, method {_e(result.method)}, "
        f"limit {_e(f'{result.limit:,}' if result.limit else 'unknown')} tokens per example.</p>"
        f"<h2>Files</h2>{_file_rows(result)}<h2>Cost</h2>{cost}{notes}{warnings}"
        f"<h2>Charts</h2><div class=\"charts\">{''.join(charts)}</div></body></html>\n"
    )
