"""HTML view of an estimate: one self-contained file that works offline.

Charts are drawn by plotly with its JavaScript inlined (no CDN) unless a CDN link is asked for: the
token-length histogram with the model's per-example limit drawn on it, and the per-role token shares of each
file; tables hold the per-file figures and the cost with its source. The page opens with the check's
verdict and ends with ftprep's version and the time it was made.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import TYPE_CHECKING, Literal

from ftprep import __version__
from ftprep.cost import EstimateResult, FileEstimate
from ftprep.extras import require
from ftprep.report.estimate_text import cost_words, price_line, verdict_line
from ftprep.textsafe import escape_controls

if TYPE_CHECKING:  # plotly (64 MB, the `html` extra; a quarter second to import): only when an HTML report is made
    import plotly.graph_objects as go

PlotlyMode = Literal["inline", "cdn"]
# The limit line is drawn when the longest example reaches a quarter of it (else the bars would be a sliver).
LIMIT_IN_VIEW = 4
PLOTLY_MODES: tuple[PlotlyMode, ...] = ("inline", "cdn")

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.note { color: #555; } .warning { color: #a15c00; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.verdict { padding: .6rem 1rem; border-radius: .3rem; }
.verdict.ok { background: #e6f4ea; } .verdict.fails { background: #fde7e7; font-weight: bold; }
footer { margin-top: 2rem; color: #777; font-size: .9rem; }
"""


def require_plotly() -> None:
    """Fail now (:class:`~ftprep.errors.MissingExtraError`) if plotly is not installed, not after the pass."""
    require("plotly.graph_objects", extra="html", feature="the HTML report (--output-format html)")


def _e(value: object) -> str:
    return html.escape(escape_controls(str(value)))


def _histogram(file: FileEstimate, limit: int | None) -> go.Figure:
    """Bars over a numeric token axis (one per bin, as wide as the bin), and the per-example ``limit`` as a
    dashed line: examples right of it are cut."""
    import plotly.graph_objects as go

    bins = file.distribution.histogram
    figure = go.Figure(go.Bar(x=[(lo + hi) / 2 for lo, hi, _ in bins], width=[max(hi - lo, 1) for lo, hi, _ in bins],
                              y=[c for _, _, c in bins], marker_color="#3b6ea8",
                              customdata=[f"{lo:,}-{hi:,}" for lo, hi, _ in bins],
                              hovertemplate="%{customdata} tokens: %{y} examples<extra></extra>"))
    title = f"Tokens per example: {file.role}"
    if limit and file.distribution.max * LIMIT_IN_VIEW >= limit:
        figure.add_vline(x=limit, line_dash="dash", line_color="#b00020",
                         annotation_text=f"limit {limit:,}", annotation_position="top left")
    elif limit:
        # A line far right of every bar would squeeze the bars into the left edge: the title says it instead.
        title += f" (limit {limit:,}, far above the longest)"
    figure.update_layout(title=title, xaxis_title="tokens", yaxis_title="examples",
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


def _verdict(result: EstimateResult) -> str:
    line = verdict_line(result)
    if line is None or result.verdict is None:
        return '<p class="verdict">Not checked: the model is not in the model table.</p>'
    status = "ok" if result.verdict.passes else "fails"
    items = []
    for finding in result.verdict.first:
        where = finding["path"] + (f":{finding['line']}" if finding["line"] else "")
        items.append(f"<li>{_e(finding['code'])} {_e(finding['name'])}: {_e(where)}: {_e(finding['message'])}</li>")
    examples = "".join(items)
    return f'<p class="verdict {status}">{_e(line)}</p>' + (f"<ul>{examples}</ul>" if examples else "")


def render(result: EstimateResult, *, plotly: PlotlyMode = "inline", generated: dt.datetime | None = None) -> str:
    """The estimate as a complete HTML document: offline with ``plotly="inline"`` (the default; plotly.js is
    in the page), or loading plotly.js from its CDN with ``"cdn"`` (a smaller file that needs the network).
    ``generated`` is the time printed at the foot (default: now, UTC)."""
    require_plotly()
    charts = []
    include_js: bool | str = True if plotly == "inline" else "cdn"
    for file in result.files:
        for figure in (_histogram(file, result.limit), _role_shares(file)):
            charts.append(figure.to_html(full_html=False, include_plotlyjs=include_js,
                                         config={"displaylogo": False, "responsive": False}))
            include_js = False  # plotly.js once per page
    cost = (
        "<table><tr><th>epochs</th><th>trained tokens</th><th>price</th><th>cost</th></tr>"
        f"<tr><td>{result.n_epochs}{' (auto)' if result.n_epochs_auto else ''}</td>"
        f"<td>{result.trained_tokens:,}</td><td>{_e(price_line(result.price))}</td>"
        f"<td><strong>{_e(cost_words(result))}</strong></td></tr></table>"
    )
    notes = "".join(f'<p class="note">Note: {_e(n)}</p>' for n in result.notes)
    warnings = "".join(f'<p class="warning">Warning {_e(f["code"])} ({_e(f["name"])}): {_e(f["message"])}</p>'
                       for f in result.findings)
    title = f"ftprep estimate: {result.model or '(no model)'}"
    made = (generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>{_verdict(result)}<p>Encoding {_e(result.encoding)}, method {_e(result.method)}, "
        f"limit {_e(f'{result.limit:,}' if result.limit else 'unknown')} tokens per example.</p>"
        f"<h2>Files</h2>{_file_rows(result)}<h2>Cost</h2>{cost}{notes}{warnings}"
        f"<h2>Charts</h2><div class=\"charts\">{''.join(charts)}</div>"
        f"<footer>Made by ftprep {_e(__version__)} on {_e(made)}.</footer></body></html>\n"
    )
