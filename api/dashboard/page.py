"""One self-contained HTML page from the section views: inline SVG charts, inline CSS.

Charts are rendered on the server by vl-convert (Vega-Lite's own renderer in an embedded
JavaScript engine): the page has no script, no font, image or style sheet to fetch, and its
Content-Security-Policy forbids loading anything, so it reads the same offline, in a mail
attachment or behind a proxy. Element ids inside each SVG are prefixed per chart, so the
charts' clip paths and gradients never collide in one document.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import altair as alt
import vl_convert

from api.dashboard.charts import Chart, FigureTable, SectionView
from api.dashboard.queries import Filters

CHART_CONFIG: dict[str, Any] = {
    "font": "Helvetica, Arial, sans-serif",
    "view": {"stroke": None},
    "axis": {
        "labelColor": "#444",
        "titleColor": "#444",
        "gridColor": "#eee",
        "domainColor": "#999",
    },
    "legend": {"labelColor": "#444", "titleColor": "#444"},
    "header": {"labelColor": "#222", "labelFontSize": 11},
    "title": {"color": "#222", "fontSize": 12, "anchor": "start"},
}
# Nothing may load: not a script, a font, an image or a frame. Styles are inline.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 Helvetica, Arial, sans-serif; color: #222; background: #f4f5f7; }
header.page { background: #1f2933; color: #fff; padding: 18px 28px 14px; }
header.page h1 { margin: 0 0 4px; font-size: 20px; font-weight: 600; }
header.page p { margin: 0; color: #cbd2d9; font-size: 13px; }
nav { margin-top: 10px; display: flex; flex-wrap: wrap; gap: 6px 14px; }
nav a { color: #9fb3c8; text-decoration: none; font-size: 13px; }
nav a:hover { color: #fff; }
main { max-width: 1240px; margin: 0 auto; padding: 18px 20px 40px; }
section.dashboard-section { background: #fff; border: 1px solid #e1e4e8; border-radius: 6px;
  padding: 16px 20px 18px; margin-bottom: 18px; }
section.dashboard-section h2 { margin: 0; font-size: 17px; }
p.lead { margin: 2px 0 12px; color: #52606d; }
p.source { margin: 0 0 12px; color: #7b8794; font-size: 12px; }
code { font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 0 32px; align-items: flex-start; }
.figure-tables { display: flex; flex-wrap: wrap; gap: 4px 32px; align-items: flex-start;
  border-top: 1px solid #eef0f2; padding-top: 10px; }
.figure-block { flex: 0 1 auto; max-width: 100%; }
figure.chart { margin: 0 0 14px; overflow-x: auto; }
figure.chart h3, .figure-tables h3 { margin: 0 0 6px; font-size: 13px; color: #323f4b; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { color: #7b8794; font-size: 12px; margin-top: 2px; }
table.figures { border-collapse: collapse; margin: 0 0 4px; font-size: 12px; }
table.figures th, table.figures td { padding: 3px 12px 3px 0; border-bottom: 1px solid #eef0f2;
  text-align: left; font-variant-numeric: tabular-nums; }
table.figures th { color: #52606d; font-weight: 600; }
table.figures .num { text-align: right; white-space: nowrap; }
.table-wrap { overflow-x: auto; margin-bottom: 14px; }
p.note { margin: 0 0 12px; color: #7b8794; font-size: 12px; }
.no-data { border: 1px dashed #cbd2d9; border-radius: 6px; background: #f9fafb; padding: 18px 20px;
  color: #52606d; }
.no-data strong { display: block; color: #323f4b; font-size: 15px; margin-bottom: 4px; }
footer { color: #7b8794; font-size: 12px; text-align: center; padding: 0 0 24px; }
"""

_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(url\(#|href="#)([^")]+)')
_NAMESPACES = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')
_NUMBER = re.compile(r"^(—|[-+]?[\d,]+(\.\d+)?(%| h| [A-Z]{3})?( / [\d,]+)?)$")


def chart_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec with the page's look."""
    spec: dict[str, Any] = chart.to_dict()
    spec["config"] = {**CHART_CONFIG, **spec.get("config", {})}
    spec.setdefault("background", "white")
    return spec


def chart_svg(chart: alt.TopLevelMixin, prefix: str, label: str) -> str:
    """The chart as an inline `<svg>` element: ids prefixed, no namespace URLs, labelled."""
    svg = vl_convert.vegalite_to_svg(chart_spec(chart))
    svg = svg[svg.index("<svg") :]
    svg = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = _REFERENCE.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
    svg = _NAMESPACES.sub("", svg, count=3)
    return svg.replace("<svg", f'<svg role="img" aria-label="{html.escape(label)}"', 1)


def chart_png(chart: alt.TopLevelMixin, scale: float = 1.0) -> bytes:
    return bytes(vl_convert.vegalite_to_png(chart_spec(chart), scale=scale))


def _numeric_columns(table: FigureTable) -> list[bool]:
    return [
        bool(table.rows) and all(_NUMBER.match(row[i]) for row in table.rows)
        for i in range(len(table.headers))
    ]


def _cell(tag: str, text: str, numeric: bool) -> str:
    css = ' class="num"' if numeric else ""
    return f"<{tag}{css}>{html.escape(text)}</{tag}>"


def _figure_table(table: FigureTable) -> str:
    numeric = _numeric_columns(table)
    head = "".join(_cell("th", h, n) for h, n in zip(table.headers, numeric, strict=True))
    body = "".join(
        "<tr>" + "".join(_cell("td", c, n) for c, n in zip(row, numeric, strict=True)) + "</tr>"
        for row in table.rows
    )
    if not table.rows:
        body = f'<tr><td colspan="{len(table.headers)}">none</td></tr>'
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return (
        f'<div class="figure-block"><h3>{html.escape(table.title)}</h3><div class="table-wrap">'
        f'<table class="figures" data-figures="{html.escape(table.key)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}</div>"
    )


def _chart_figure(chart: Chart, prefix: str) -> str:
    caption = f"<figcaption>{html.escape(chart.caption)}</figcaption>" if chart.caption else ""
    return (
        f'<figure class="chart" data-chart="{html.escape(chart.key)}">'
        f"<h3>{html.escape(chart.title)}</h3>{chart_svg(chart.chart, prefix, chart.title)}"
        f"{caption}</figure>"
    )


def section_html(view: SectionView, number: int) -> str:
    marts = ", ".join(f"<code>marts.{html.escape(m)}</code>" for m in view.marts)
    parts = [
        f'<section class="dashboard-section" id="{view.key}" data-section="{view.key}" '
        f'data-status="{view.status.value}">',
        f"<h2>{html.escape(view.title)}</h2>",
        f'<p class="lead">{html.escape(view.lead)}</p>',
        f'<p class="source">From {marts}.</p>',
    ]
    if view.message and not view.charts and not view.figures:
        title = "No data yet" if view.message.startswith("No data yet") else "Nothing to show"
        parts.append(
            f'<div class="no-data" data-no-data="{view.key}"><strong>{title}</strong>'
            f"{html.escape(view.message)}</div>"
        )
    else:
        charts = "".join(
            _chart_figure(chart, f"s{number}c{index}") for index, chart in enumerate(view.charts)
        )
        figures = "".join(_figure_table(table) for table in view.figures)
        message = f'<p class="note">{html.escape(view.message)}</p>' if view.message else ""
        parts.append(
            f'<div class="charts">{charts}</div>{message}<div class="figure-tables">{figures}</div>'
        )
    parts.append("</section>")
    return "\n".join(parts)


def render_page(
    views: Sequence[SectionView], filters: Filters, generated_at: datetime, source: str = ""
) -> str:
    """The whole dashboard as one HTML document."""
    nav = "".join(f'<a href="#{v.key}">{html.escape(v.title)}</a>' for v in views)
    sections = "\n".join(section_html(view, number) for number, view in enumerate(views))
    origin = f" from {html.escape(source)}" if source else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ACD Warehouse dashboard</title>
<style>{STYLE}</style>
</head>
<body>
<header class="page">
<h1>ACD Warehouse dashboard</h1>
<p>{html.escape(filters.describe())} · built {generated_at:%Y-%m-%d %H:%M} UTC{origin}, from the marts only</p>
<nav>{nav}</nav>
</header>
<main>
{sections}
</main>
<footer>Every figure comes from the dbt marts; money is shown per currency, never added across currencies.</footer>
</body>
</html>
"""


# The live page's sign-in: the same policy, plus posting its one form back to this server.
SIGN_IN_POLICY = f"{CONTENT_SECURITY_POLICY}; form-action 'self'"


def render_sign_in(message: str) -> str:
    """The page `/dashboard` answers without a valid read key: a form for one, and no data."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{SIGN_IN_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ACD Warehouse dashboard: sign in</title>
<style>{STYLE}</style>
</head>
<body>
<header class="page"><h1>ACD Warehouse dashboard</h1><p>{html.escape(message)}</p></header>
<main>
<form method="post" action="/dashboard">
<label>Read API key <input type="password" name="key" autocomplete="off" required></label>
<button type="submit">Open the dashboard</button>
</form>
</main>
</body>
</html>
"""
