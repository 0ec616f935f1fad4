"""Inline SVG charts for the report, as the registry declares them (:class:`cleanpath.registry.ChartSpec`).

Every chart has axis titles and tick values in the unit of what it plots (US dollars, percent,
counts); years on an axis are printed as years (2027, never "2,027"). Charts are plain SVG with
no script, so the report stays one self-contained file and prints as it shows.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from cleanpath.report.format import USD, YEAR, fmt, label_of, short, site_label, unit_of
from cleanpath.result import Result
from cleanpath.suite import section_keys

FONT = "font-family='system-ui,Segoe UI,Roboto,sans-serif'"
AXIS = "#8a94a0"
GRID = "#e6e9ee"
SERIES = ["#c1121f", "#1d6fa5", "#2a9d8f", "#e76f51", "#6d597a"]


def nice_ticks(vmax: float, n: int = 4) -> list[float]:
    """0 and round steps (1, 2, 2.5 or 5 times a power of ten) up to at least ``vmax``."""
    if not np.isfinite(vmax) or vmax <= 0:
        return [0.0, 1.0]
    raw = vmax / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    k = int(math.ceil(vmax / step - 1e-9))
    return [i * step for i in range(k + 1)]


def _tick(v: float, unit: str | None) -> str:
    if unit == USD:
        return fmt(v, USD).replace(".0 ", " ")
    return fmt(v, unit)


def _e(text) -> str:
    return html.escape(str(text))


def bar_chart_svg(labels: list[str], values: list[float], *, width: int = 640, colour: str = "#1d6fa5",
                  unit: str | None = None, value_title: str = "", label_title: str = "") -> str:
    """Horizontal bars, one per label, with a value axis (ticks and title) under them.

    Parameters
    ----------
    labels, values
        One bar each (labels are shortened to fit; the full text is the bar's tooltip).
    unit
        The values' unit (:func:`cleanpath.report.format.unit_of`): ticks and bar ends are
        written in it.
    value_title, label_title
        Axis titles: what the bars measure (under the axis) and what the labels are (above them).
    """
    if not values:
        return ""
    vals = [float(v) if v is not None and np.isfinite(float(v)) else 0.0 for v in values]
    shown = [short(str(lab), 30) for lab in labels]
    row = 20
    label_w = min(230, 14 + 6.4 * max(len(s) for s in shown))
    top, bottom = 20 if label_title else 6, 42
    plot_w = width - label_w - 70
    h = top + row * len(vals) + bottom
    ticks = nice_ticks(max(vals))
    vmax = ticks[-1]
    parts = []
    for t in ticks:
        x = label_w + plot_w * t / vmax
        parts.append(f"<line x1='{x:.1f}' y1='{top}' x2='{x:.1f}' y2='{top + row * len(vals)}' stroke='{GRID}'/>"
                     f"<text x='{x:.1f}' y='{top + row * len(vals) + 14}' text-anchor='middle' font-size='10' "
                     f"fill='#556'>{_e(_tick(t, unit))}</text>")
    for i, (lab, full, v) in enumerate(zip(shown, labels, vals)):
        y = top + row * i
        w = plot_w * v / vmax
        parts.append(f"<text x='{label_w - 6:.0f}' y='{y + 14}' text-anchor='end' font-size='11'>{_e(lab)}</text>"
                     f"<rect x='{label_w:.0f}' y='{y + 3}' width='{max(w, 0.5):.1f}' height='14' fill='{colour}'>"
                     f"<title>{_e(full)}: {_e(fmt(v, unit))}</title></rect>"
                     f"<text x='{label_w + 4 + w:.1f}' y='{y + 14}' font-size='10.5' fill='#333'>{_e(fmt(v, unit))}</text>")
    parts.append(f"<line x1='{label_w}' y1='{top}' x2='{label_w}' y2='{top + row * len(vals)}' stroke='{AXIS}'/>")
    if value_title:
        parts.append(f"<text x='{label_w + plot_w / 2:.0f}' y='{h - 6}' text-anchor='middle' font-size='11' "
                     f"font-weight='600' fill='#445'>{_e(value_title)}</text>")
    if label_title:
        parts.append(f"<text x='{label_w - 6:.0f}' y='12' text-anchor='end' font-size='11' font-weight='600' "
                     f"fill='#445'>{_e(label_title)}</text>")
    return (f"<svg class='chart' width='{width}' height='{h:.0f}' viewBox='0 0 {width} {h:.0f}' {FONT} "
            f"xmlns='http://www.w3.org/2000/svg' role='img'>{''.join(parts)}</svg>")


def column_chart_svg(x: list, values: list[float], *, width: int = 640, height: int = 240,
                     colour: str = "#1d6fa5", unit: str | None = None, x_title: str = "",
                     y_title: str = "") -> str:
    """Vertical bars over an ordered axis (years), with y ticks in ``unit`` and axis titles."""
    if not values:
        return ""
    vals = [float(v) if v is not None and np.isfinite(float(v)) else 0.0 for v in values]
    left, right, top, bottom = 70, 12, 12, 46
    pw, ph = width - left - right, height - top - bottom
    ticks = nice_ticks(max(vals))
    vmax = ticks[-1]
    slot = pw / len(vals)
    parts = []
    for t in ticks:
        y = top + ph - ph * t / vmax
        parts.append(f"<line x1='{left}' y1='{y:.1f}' x2='{left + pw}' y2='{y:.1f}' stroke='{GRID}'/>"
                     f"<text x='{left - 6}' y='{y + 3.5:.1f}' text-anchor='end' font-size='10' fill='#556'>"
                     f"{_e(_tick(t, unit))}</text>")
    for i, (lab, v) in enumerate(zip(x, vals)):
        bh = ph * v / vmax
        cx = left + slot * (i + 0.5)
        bw = min(slot * 0.7, 60)
        parts.append(f"<rect x='{cx - bw / 2:.1f}' y='{top + ph - bh:.1f}' width='{bw:.1f}' height='{max(bh, 0.5):.1f}' "
                     f"fill='{colour}'><title>{_e(fmt(lab, YEAR))}: {_e(fmt(v, unit))}</title></rect>"
                     f"<text x='{cx:.1f}' y='{top + ph + 14}' text-anchor='middle' font-size='10.5'>"
                     f"{_e(fmt(lab, YEAR))}</text>")
    parts.append(f"<line x1='{left}' y1='{top + ph}' x2='{left + pw}' y2='{top + ph}' stroke='{AXIS}'/>")
    parts.append(_axis_titles(left, top, pw, ph, height, x_title, y_title))
    return (f"<svg class='chart' width='{width}' height='{height}' viewBox='0 0 {width} {height}' {FONT} "
            f"xmlns='http://www.w3.org/2000/svg' role='img'>{''.join(parts)}</svg>")


def _axis_titles(left, top, pw, ph, height, x_title, y_title) -> str:
    out = ""
    if x_title:
        out += (f"<text x='{left + pw / 2:.0f}' y='{height - 6}' text-anchor='middle' font-size='11' "
                f"font-weight='600' fill='#445'>{_e(x_title)}</text>")
    if y_title:
        out += (f"<text transform='translate(13 {top + ph / 2:.0f}) rotate(-90)' text-anchor='middle' "
                f"font-size='11' font-weight='600' fill='#445'>{_e(y_title)}</text>")
    return out


def line_chart_svg(x: list, series: dict[str, list[float]], *, width: int = 640, height: int = 250,
                   unit: str | None = None, x_title: str = "", y_title: str = "") -> str:
    """One line per series over a shared x axis, with y ticks, axis titles and a legend."""
    if not x or not series:
        return ""
    clean = {k: [float(v) if v is not None and np.isfinite(float(v)) else 0.0 for v in vals]
             for k, vals in series.items()}
    left, right, top, bottom = 70, 12, 26, 46
    pw, ph = width - left - right, height - top - bottom
    ticks = nice_ticks(max(max(v) for v in clean.values()))
    vmax = ticks[-1]
    step = pw / max(len(x) - 1, 1)
    parts = []
    for t in ticks:
        y = top + ph - ph * t / vmax
        parts.append(f"<line x1='{left}' y1='{y:.1f}' x2='{left + pw}' y2='{y:.1f}' stroke='{GRID}'/>"
                     f"<text x='{left - 6}' y='{y + 3.5:.1f}' text-anchor='end' font-size='10' fill='#556'>"
                     f"{_e(_tick(t, unit))}</text>")
    every = max(1, int(math.ceil(len(x) / 12)))
    for i, lab in enumerate(x):
        if i % every == 0:
            parts.append(f"<text x='{left + i * step:.1f}' y='{top + ph + 14}' text-anchor='middle' "
                         f"font-size='10.5'>{_e(fmt(lab, YEAR))}</text>")
    parts.append(f"<line x1='{left}' y1='{top + ph}' x2='{left + pw}' y2='{top + ph}' stroke='{AXIS}'/>")
    lx = left
    for k, (name, vals) in enumerate(clean.items()):
        c = SERIES[k % len(SERIES)]
        pts = " ".join(f"{left + i * step:.1f},{top + ph - ph * v / vmax:.1f}" for i, v in enumerate(vals))
        parts.append(f"<polyline points='{pts}' fill='none' stroke='{c}' stroke-width='2.2'/>")
        parts.append("".join(f"<circle cx='{left + i * step:.1f}' cy='{top + ph - ph * v / vmax:.1f}' r='2.6' "
                             f"fill='{c}'><title>{_e(name)}, {_e(fmt(x[i], YEAR))}: {_e(fmt(v, unit))}</title>"
                             f"</circle>" for i, v in enumerate(vals)))
        parts.append(f"<rect x='{lx}' y='6' width='14' height='3' fill='{c}'/>"
                     f"<text x='{lx + 18}' y='11' font-size='11'>{_e(name)}</text>")
        lx += 30 + 6.5 * len(name)
    parts.append(_axis_titles(left, top, pw, ph, height, x_title, y_title))
    return (f"<svg class='chart' width='{width}' height='{height}' viewBox='0 0 {width} {height}' {FONT} "
            f"xmlns='http://www.w3.org/2000/svg' role='img'>{''.join(parts)}</svg>")


def _labels(df: pd.DataFrame, x: str) -> list[str]:
    # identifiers read better as names where the table has them (sensitive sites)
    if x.endswith("_id") and "name" in df:
        names = df["name"].astype(object)
        return [site_label(n) if isinstance(n, str) and n else str(i) for n, i in zip(names, df[x].astype(object))]
    return [fmt(v) for v in df[x].astype(object)]


def chart_svg(chart, df: pd.DataFrame, *, top: int = 12) -> str:
    """One declared chart (:class:`cleanpath.registry.ChartSpec`) of a frame, with axis titles."""
    y = chart.y[0]
    unit = unit_of(y)
    if chart.kind == "bar" and chart.x == "year":
        return column_chart_svg(df[chart.x].tolist(), df[y].astype(float).tolist(), colour=chart.colour,
                                unit=unit, x_title="Year", y_title=label_of(y) + (" (USD)" if unit == USD else ""))
    if chart.kind == "bar":
        d = df.sort_values(y, ascending=False, kind="stable").head(top)
        more = len(df) - len(d)
        svg = bar_chart_svg(_labels(d, chart.x), d[y].astype(float).tolist(), colour=chart.colour, unit=unit,
                            value_title=label_of(y) + (" (USD)" if unit == USD else ""),
                            label_title=label_of(chart.x, with_unit=False))
        return svg + (f"<p class='more'>The {top} largest of {len(df):,}; {more:,} more in the export.</p>"
                      if more > 0 else "")
    units = {unit_of(c) for c in chart.y}
    unit = units.pop() if len(units) == 1 else None
    y_title = (label_of(chart.y[0]) if len(chart.y) == 1 else
               ("US dollars" if unit == USD else "Count" if unit is None else label_of(chart.y[0])))
    return line_chart_svg(df[chart.x].tolist(), {label_of(c): df[c].astype(float).tolist() for c in chart.y},
                          unit=unit, x_title=label_of(chart.x, with_unit=False), y_title=y_title)


def charts_for(results: list[Result]) -> dict[str, dict[str, str]]:
    """Charts per report section (:func:`cleanpath.suite.section_keys` anchors), as the registry
    declares them: ``{anchor: {title: svg}}``."""
    from cleanpath.registry import QUESTIONS

    out: dict[str, dict[str, str]] = {}
    for r, (anchor, _title) in zip(results, section_keys(results)):
        spec = QUESTIONS.get(r.question) or QUESTIONS.get(r.question.split("-")[0])
        c: dict[str, str] = {}
        for chart in spec.charts if spec is not None else ():
            df = chart.frame(r)
            if df is None:
                continue
            svg = chart_svg(chart, df)
            if svg:
                c[chart.title] = svg
        out[anchor] = c
    return out
