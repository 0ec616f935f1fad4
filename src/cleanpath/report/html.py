"""One self-contained HTML report over any set of question results.

No external assets: styles are inline, the map is an inline SVG of site positions (trusted vs
untrusted vendors, sensitive sites with their radius), charts are inline SVG. The file can be mailed
or archived and opens anywhere, offline.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from cleanpath import __version__
from cleanpath.model.network import Network
from cleanpath.result import Result, jsonable
from cleanpath.suite import section_keys

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
header{background:#14213d;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.8;font-size:13px}
main{max-width:1200px;margin:0 auto;padding:16px 28px 48px}section{overflow-x:auto}
section{background:#fff;border:1px solid #e1e4e8;border-radius:8px;margin:18px 0;padding:14px 20px}
h2{font-size:18px;margin:4px 0 10px;text-transform:capitalize}h3{font-size:14px;margin:14px 0 6px;color:#445}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;font-size:13px;margin:0}
dl.summary dt{color:#667;font-weight:600}dl.summary dd{margin:0}
table{border-collapse:collapse;font-size:12px;width:100%;margin:4px 0}
th,td{border-bottom:1px solid #eceef1;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.more{color:#778;font-size:12px}.legend span{display:inline-block;margin-right:14px;font-size:12px}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px;vertical-align:-1px}
nav a{margin-right:12px;font-size:13px}.params{font-size:12px;color:#667}
"""

UNTRUSTED_COLOUR = "#d62828"
TRUSTED_COLOUR = "#2a9d8f"
UNKNOWN_COLOUR = "#9aa5b1"
SENSITIVE_COLOUR = "#f4a261"


def _fmt(v) -> str:
    v = jsonable(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v.is_integer() or abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:,.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v[:12]) + (f" … (+{len(v) - 12})" if len(v) > 12 else "")
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_fmt(x)}" for k, x in list(v.items())[:12]) + (" …" if len(v) > 12 else "")
    return str(v)


def table_html(df: pd.DataFrame, *, limit: int = 40) -> str:
    """An HTML table of the first ``limit`` rows."""
    numeric = {c for c in df.columns
               if pd.api.types.is_numeric_dtype(df[c].dtype) and not pd.api.types.is_bool_dtype(df[c].dtype)}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for rec in df.head(limit).astype(object).itertuples(index=False, name=None):
        cells = "".join(f"<td class='num'>{html.escape(_fmt(v))}</td>" if c in numeric
                        else f"<td>{html.escape(_fmt(v))}</td>" for c, v in zip(df.columns, rec))
        rows.append(f"<tr>{cells}</tr>")
    more = f"<p class='more'>{limit} of {len(df):,} rows shown.</p>" if len(df) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def bar_chart_svg(labels: list[str], values: list[float], *, width: int = 640, colour: str = "#457b9d",
                  unit: str = "") -> str:
    """A horizontal bar chart as inline SVG (the label column widens to fit the longest label)."""
    if not values:
        return ""
    h = 18 * len(values) + 10
    vmax = max(max(values), 1e-12)
    label_w = min(320, 12 + 6.5 * max(len(str(lab)) for lab in labels))
    bar_w = width - label_w - 80
    bars = []
    for i, (lab, v) in enumerate(zip(labels, values)):
        w = bar_w * v / vmax
        y = 5 + 18 * i
        bars.append(f"<text x='{label_w - 5:.0f}' y='{y + 12}' text-anchor='end' font-size='11'>{html.escape(str(lab))}</text>"
                    f"<rect x='{label_w:.0f}' y='{y + 2}' width='{w:.1f}' height='13' fill='{colour}'/>"
                    f"<text x='{label_w + 5 + w:.1f}' y='{y + 12}' font-size='11'>{html.escape(_fmt(v))}{unit}</text>")
    return f"<svg width='{width}' height='{h}' xmlns='http://www.w3.org/2000/svg'>{''.join(bars)}</svg>"


def map_svg(net: Network, *, untrusted: Iterable[str], width: int = 560, height: int = 640,
            max_points: int = 20000) -> str:
    """Sites as dots (red: any untrusted element, green: none, grey: unknown vendors only) and
    sensitive sites with their radius, in an equirectangular projection scaled by cos(latitude)."""
    sites = net.sites
    lat = sites["lat"].to_numpy(dtype=float, na_value=np.nan)
    lon = sites["lon"].to_numpy(dtype=float, na_value=np.nan)
    s_lat = net.sensitive_sites["lat"].to_numpy(dtype=float, na_value=np.nan)
    s_lon = net.sensitive_sites["lon"].to_numpy(dtype=float, na_value=np.nan)
    all_lat = np.concatenate([lat, s_lat])
    all_lon = np.concatenate([lon, s_lon])
    ok = np.isfinite(all_lat) & np.isfinite(all_lon)
    if not ok.any():
        return "<p class='more'>No coordinates to map.</p>"
    lat0, lat1 = np.nanmin(all_lat[ok]), np.nanmax(all_lat[ok])
    lon0, lon1 = np.nanmin(all_lon[ok]), np.nanmax(all_lon[ok])
    k = math.cos(math.radians((lat0 + lat1) / 2))
    span_x = max((lon1 - lon0) * k, 1e-6)
    span_y = max(lat1 - lat0, 1e-6)
    scale = min((width - 20) / span_x, (height - 20) / span_y)

    def xy(la, lo):
        return 10 + (lo - lon0) * k * scale, 10 + (lat1 - la) * scale

    el = net.elements
    bad = el["vendor"].isin(list(untrusted)).to_numpy(dtype=bool, na_value=False)
    unknown = (el["vendor"] == "unknown").to_numpy(dtype=bool, na_value=False)
    site_pos = pd.Index(sites["site_id"].to_numpy(dtype=object)).get_indexer(el["site_id"].to_numpy(dtype=object))
    n = len(sites)
    has_bad = np.bincount(site_pos[bad], minlength=n) > 0
    all_unknown = np.bincount(site_pos[~unknown], minlength=n) == 0
    colour = np.where(has_bad, UNTRUSTED_COLOUR, np.where(all_unknown, UNKNOWN_COLOUR, TRUSTED_COLOUR))
    idx = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if len(idx) > max_points:  # thin evenly, keeping every untrusted site's colour share
        idx = idx[np.linspace(0, len(idx) - 1, max_points).astype(int)]
    x, y = xy(lat[idx], lon[idx])
    r = 1.4 if len(idx) > 2000 else 2.5
    dots = "".join(f"<circle cx='{a:.1f}' cy='{b:.1f}' r='{r}' fill='{c}'/>" for a, b, c in zip(x, y, colour[idx]))
    rings = []
    radius = net.sensitive_sites["radius_m"].to_numpy(dtype=float, na_value=5000.0)
    names = net.sensitive_sites["name"].astype(object).tolist()
    for la, lo, rad, name in zip(s_lat, s_lon, radius, names):
        if not (np.isfinite(la) and np.isfinite(lo)):
            continue
        cx, cy = xy(la, lo)
        rpx = max(rad / 111_320 * scale, 2.5)
        rings.append(f"<circle cx='{cx:.1f}' cy='{cy:.1f}' r='{rpx:.1f}' fill='{SENSITIVE_COLOUR}' "
                     f"fill-opacity='.25' stroke='{SENSITIVE_COLOUR}'><title>{html.escape(str(name))}</title></circle>")
    legend = (f"<div class='legend'><span><i class='dot' style='background:{UNTRUSTED_COLOUR}'></i>site with untrusted "
              f"equipment</span><span><i class='dot' style='background:{TRUSTED_COLOUR}'></i>trusted only</span>"
              f"<span><i class='dot' style='background:{UNKNOWN_COLOUR}'></i>vendor unknown</span>"
              f"<span><i class='dot' style='background:{SENSITIVE_COLOUR}'></i>sensitive site and radius</span></div>")
    return (legend + f"<svg width='{width}' height='{height}' xmlns='http://www.w3.org/2000/svg' "
            f"style='background:#eef3f8;border-radius:6px'>{dots}{''.join(rings)}</svg>")


def section_html(result: Result, *, charts: dict[str, str] | None = None, anchor: str | None = None,
                 title: str | None = None) -> str:
    """One question's section: summary, parameters, optional charts and its tables."""
    heading = html.escape(title or result.question)
    anchor = html.escape(anchor or result.question)
    summary = "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(_fmt(v))}</dd>"
                      for k, v in result.summary.items())
    params = ", ".join(f"{k}={_fmt(v)}" for k, v in result.params.items())
    body = [f"<section id='{anchor}'><h2>{heading}</h2>"]
    if params:
        body.append(f"<p class='params'>parameters: {html.escape(params)}</p>")
    body.append(f"<dl class='summary'>{summary}</dl>")
    for title, svg in (charts or {}).items():
        body.append(f"<h3>{html.escape(title)}</h3>{svg}")
    for name, df in result.tables.items():
        body.append(f"<h3>{html.escape(name)}</h3>{table_html(df)}")
    body.append("</section>")
    return "".join(body)


def write_report(out: str | Path, *, results: list[Result], network: Network | None = None,
                 untrusted: Iterable[str] = (), title: str = "cleanpath report",
                 charts: dict[str, dict[str, str]] | None = None, intro: str = "") -> Path:
    """Write a self-contained HTML report.

    Parameters
    ----------
    out
        The HTML file to write.
    results
        Question results, one section each, in order.
    network
        If given, a map of its sites and sensitive sites heads the report.
    untrusted
        Vendor ids drawn as untrusted on the map.
    title
        Page title.
    charts
        Extra inline SVG charts per section (:func:`section_keys`' anchors): ``{anchor: {title: svg}}``.
    intro
        A paragraph of HTML-escaped text under the title.

    Returns
    -------
    Path
        The file written.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    charts = charts or {}
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    keys = section_keys(results)
    nav = "".join(f"<a href='#{html.escape(a)}'>{html.escape(t)}</a>" for a, t in keys)
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{_CSS}</style></head><body>",
             f"<header><h1>{html.escape(title)}</h1><p>cleanpath {__version__} · generated {now}"
             + (f" · snapshot {html.escape(network.name)}" if network is not None else "") + "</p></header><main>"]
    if intro:
        parts.append(f"<p>{html.escape(intro)}</p>")
    parts.append(f"<nav>{nav}</nav>")
    if network is not None:
        parts.append(f"<section id='map'><h2>map</h2>{map_svg(network, untrusted=untrusted)}</section>")
    for r, (anchor, heading) in zip(results, keys):
        parts.append(section_html(r, charts=charts.get(anchor), anchor=anchor, title=heading))
    parts.append("</main></body></html>")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("".join(parts), encoding="utf-8")
    tmp.replace(out)
    return out
