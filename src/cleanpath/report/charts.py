"""Inline SVG charts for the report, one small set per question."""

from __future__ import annotations

import html

import pandas as pd

from cleanpath.report.html import bar_chart_svg
from cleanpath.result import Result
from cleanpath.suite import section_keys


def line_chart_svg(x: list, series: dict[str, list[float]], *, width: int = 560, height: int = 220) -> str:
    """A line chart with one line per series, shared x axis labels."""
    if not x or not series:
        return ""
    colours = ["#d62828", "#457b9d", "#2a9d8f", "#f4a261", "#6d597a"]
    vmax = max(max(v) for v in series.values()) or 1.0
    left, bottom, top = 50, 30, 10
    w, h = width - left - 10, height - bottom - top
    step = w / max(len(x) - 1, 1)
    parts = [f"<line x1='{left}' y1='{top + h}' x2='{left + w}' y2='{top + h}' stroke='#999'/>",
             f"<text x='{left - 4}' y='{top + 8}' text-anchor='end' font-size='10'>{vmax:,.0f}</text>",
             f"<text x='{left - 4}' y='{top + h}' text-anchor='end' font-size='10'>0</text>"]
    for i, lab in enumerate(x):
        parts.append(f"<text x='{left + i * step:.1f}' y='{top + h + 14}' text-anchor='middle' "
                     f"font-size='10'>{html.escape(str(lab))}</text>")
    for k, (name, vals) in enumerate(series.items()):
        pts = " ".join(f"{left + i * step:.1f},{top + h - h * v / vmax:.1f}" for i, v in enumerate(vals))
        c = colours[k % len(colours)]
        parts.append(f"<polyline points='{pts}' fill='none' stroke='{c}' stroke-width='2'/>")
        parts.append(f"<text x='{left + 8 + 120 * k}' y='{height - 2}' font-size='11' fill='{c}'>"
                     f"{html.escape(name)}</text>")
    return f"<svg width='{width}' height='{height}' xmlns='http://www.w3.org/2000/svg'>{''.join(parts)}</svg>"


def _bars(df: pd.DataFrame, label: str, value: str, *, top: int = 15, colour: str = "#457b9d") -> str:
    if df is None or len(df) == 0 or label not in df or value not in df:
        return ""
    d = df.sort_values(value, ascending=False).head(top)
    return bar_chart_svg(d[label].astype(str).tolist(), d[value].astype(float).tolist(), colour=colour)


def charts_for(results: list[Result]) -> dict[str, dict[str, str]]:
    """Charts per report section (see :func:`cleanpath.report.html.section_keys`), as the registry
    declares them (:class:`cleanpath.registry.ChartSpec`)."""
    from cleanpath.registry import QUESTIONS

    out: dict[str, dict[str, str]] = {}
    for r, (anchor, _title) in zip(results, section_keys(results)):
        spec = QUESTIONS.get(r.question) or QUESTIONS.get(r.question.split("-")[0])
        c: dict[str, str] = {}
        for chart in spec.charts if spec is not None else ():
            df = chart.frame(r)
            if df is None:
                continue
            if chart.kind == "bar" and chart.x == "year":
                c[chart.title] = bar_chart_svg(df[chart.x].astype(str).tolist(), df[chart.y[0]].astype(float).tolist(),
                                               colour=chart.colour)
            elif chart.kind == "bar":
                c[chart.title] = _bars(df, chart.x, chart.y[0], colour=chart.colour)
            else:
                c[chart.title] = line_chart_svg(df[chart.x].tolist(),
                                                {y.replace("_", " "): df[y].astype(float).tolist() for y in chart.y})
        out[anchor] = {k: v for k, v in c.items() if v}
    return out
