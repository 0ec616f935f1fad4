"""One self-contained HTML report over any set of question results, written for people.

Page one is an executive summary: one card per section with one figure and one sentence in plain
words (:mod:`cleanpath.report.summary`). Then the map (sites coloured by trusted and untrusted
vendors, country outlines, the sensitive sites named, the biggest cities, a scale bar), then one
section per result with human labels and units from the question registry, charts with axis
titles and tables cut to fit a page (a subset of columns, the first rows and how many more).

No external assets: styles are inline, the map and charts are inline SVG, nothing is fetched. The
file can be mailed or archived, opens anywhere offline and prints to A4 one section a page
(:mod:`cleanpath.report.pdf` prints it with headless chromium).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from cleanpath import __version__
from cleanpath.model.network import Network
from cleanpath.report.charts import bar_chart_svg, line_chart_svg
from cleanpath.report.format import fmt, label_of, short, site_label, unit_of
from cleanpath.report.summary import Card, card_for, heading_of
from cleanpath.result import Result
from cleanpath.suite import section_keys

__all__ = ["write_report", "section_html", "summary_html", "table_html", "map_svg", "bar_chart_svg",
           "line_chart_svg"]

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2733;background:#f4f5f7;
 line-height:1.4}
header{background:#14213d;color:#fff;padding:18px 28px}header h1{margin:0;font-size:24px;font-weight:650}
header p{margin:4px 0 0;opacity:.8;font-size:13px}
main{max-width:1040px;margin:0 auto;padding:12px 24px 48px}
section{background:#fff;border:1px solid #e1e4e8;border-radius:8px;margin:16px 0;padding:14px 22px}
h2{font-size:20px;margin:2px 0 2px}h3{font-size:14px;margin:16px 0 6px;color:#334}
p.lead{font-size:15px;margin:6px 0 10px}p.sub{color:#667;font-size:12.5px;margin:0 0 8px}
p.intro{font-size:14px;margin:10px 0}
.cards{display:grid;grid-template-columns:1fr 1fr;gap:6px}
.card{border:1px solid #e3e6ea;border-left:5px solid #8a94a0;border-radius:6px;padding:5px 10px;break-inside:avoid}
.card.bad{border-left-color:#c1121f}.card.good{border-left-color:#2a9d8f}
.card h3{margin:0 0 2px;font-size:13px;color:#445}.card h3 a{color:inherit;text-decoration:none}
.fig{font-size:22px;font-weight:700;line-height:1.15}.fig small{font-size:12px;font-weight:500;color:#556;margin-left:6px}
.card p{margin:2px 0 0;font-size:12px}
.bad .fig{color:#a4161a}.good .fig{color:#1f7a6f}
.tiles{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0 4px}
.tile{background:#f3f5f8;border-radius:6px;padding:5px 10px;min-width:120px}
.tile b{display:block;font-size:16px}.tile span{font-size:11.5px;color:#556}
table{border-collapse:collapse;font-size:12px;width:100%;margin:4px 0;table-layout:auto}
th,td{border-bottom:1px solid #eceef1;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.more{color:#6b7480;font-size:12px;margin:3px 0}.legend span{display:inline-block;margin-right:14px;font-size:12px}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px;vertical-align:-1px}
nav{margin:8px 0 0;font-size:12.5px}nav a{margin-right:14px;color:#cfd8e6;text-decoration:none;white-space:nowrap}nav a:hover{color:#fff;text-decoration:underline}
td.nw{white-space:nowrap}
details{font-size:12px;margin-top:10px}summary{cursor:pointer;color:#556}
dl.all{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0}dl.all dt{color:#667}dl.all dd{margin:0}
.key{columns:2;font-size:12px;margin:6px 0 0;padding-left:20px}
svg{max-width:100%;height:auto}
@page{size:A4;margin:12mm 11mm 13mm}
@media print{
 body{background:#fff;font-size:12px}main{max-width:none;padding:0}nav{display:none}
 header{padding:10px 14px;print-color-adjust:exact;-webkit-print-color-adjust:exact}
 section{border:0;border-radius:0;margin:0 0 6mm;padding:4px 2px}
 section#map,section#map+section{break-before:page}
 .head{break-inside:avoid}h3+svg,h3+table{break-before:avoid}
 .card,.tile,svg,header{print-color-adjust:exact;-webkit-print-color-adjust:exact}
 tr,.card,svg,.tiles{break-inside:avoid}h2,h3{break-after:avoid}
 details{display:none}
}
"""

UNTRUSTED_COLOUR = "#d62828"
TRUSTED_COLOUR = "#2a9d8f"
UNKNOWN_COLOUR = "#9aa5b1"
SENSITIVE_COLOUR = "#f4a261"
LAND_COLOUR = "#e9ecef"

#: Columns a person does not read in a table (positions, long citations, internal ids); the
#: JSON and CSV exports keep them.
HIDDEN_COLUMNS = {"lat", "lon", "geometry", "finding_id", "citation", "fact", "notes", "example", "witness",
                  "vendor_name", "in_catalogue", "source", "weight", "crew_jobs"}
#: Columns dropped first, in this order, when a table has more than fit a page's width.
SECONDARY_COLUMNS = ("nearest_untrusted_id", "site_id", "remediation_optimal", "remediation_gap", "lower_bound", "region", "funded_cost", "near_sensitive", "remediation_units",
                     "remediation_optimal", "remediation_gap", "lower_bound", "unit_cost", "hq_country",
                     "days_to_deadline", "kind", "pack", "blocking", "confidence", "status", "in_force")
MAX_COLUMNS = 7
MAX_ROWS = 12
MAX_TABLES = 3
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- tables -----------------------------------------------------------------------------------------

def _columns(df: pd.DataFrame, max_columns: int, declared=None) -> list[str]:
    cols = [c for c in df.columns if c not in HIDDEN_COLUMNS and not str(c).endswith(("_lat", "_lon"))]
    if "name" in cols and "sensitive_id" in cols:  # the name says it; the id is in the export
        cols.remove("sensitive_id")
        cols.insert(0, cols.pop(cols.index("name")))
    # the registry declares the measures that matter (costs, distances, with their units)
    measures = {c for c, (_label, unit) in (declared or {}).items() if unit}
    for c in SECONDARY_COLUMNS:
        if len(cols) <= max_columns:
            break
        if c in cols and cols.index(c) > 0 and c not in measures:  # never the key column
            cols.remove(c)
    if len(cols) > max_columns:
        # text that explains (reason, message) and the declared measures stay; then in order
        keep = set(cols[:1]) | {c for c in cols if c in measures or c in ("reason", "message", "name")}
        for c in cols:
            if len(keep) >= max_columns:
                break
            keep.add(c)
        cols = [c for c in cols if c in keep]
    return cols


def table_html(df: pd.DataFrame, *, limit: int = MAX_ROWS, columns: Mapping[str, tuple[str, str | None]] | None = None,
               max_columns: int = MAX_COLUMNS, names: Mapping[str, str] | None = None) -> str:
    """An HTML table that fits a page: at most ``max_columns`` columns (positions and long
    citations left out), the first ``limit`` rows, values in their units, long text cut.

    Parameters
    ----------
    df
        The table.
    limit
        Rows shown; a line below says how many more there are.
    columns
        The registry's labels and units of columns (:class:`cleanpath.registry.TableSpec`).
    max_columns
        Columns shown; a line below says how many were left out.
    names
        Sensitive sites' names by id: a ``sensitive_id`` column shows the (short) name.
    """
    if len(df) == 0:
        return "<p class='more'>None.</p>"
    cols = _columns(df, max_columns, columns)
    units = {c: unit_of(c, columns) for c in cols}
    numeric = {c for c in cols if pd.api.types.is_numeric_dtype(df[c].dtype)
               and not pd.api.types.is_bool_dtype(df[c].dtype)}
    head = "".join(f"<th class='num'>{html.escape(label_of(c, columns))}</th>" if c in numeric
                   else f"<th>{html.escape(label_of(c, columns))}</th>" for c in cols)
    rows = []
    for rec in df[cols].head(limit).astype(object).itertuples(index=False, name=None):
        cells = []
        for c, v in zip(cols, rec):
            text = fmt(v, units[c])
            if c == "sensitive_id" and names and text in names:
                text = _site_name(names[text])
            elif c == "name":
                text = _site_name(text) if len(text) > 36 else text
            if c in numeric:
                cells.append(f"<td class='num'>{html.escape(text)}</td>")
            else:
                cut = short(text, 56)
                title = f" title='{html.escape(text, quote=True)}'" if cut != text else ""
                nowrap = " class='nw'" if _DATE.fullmatch(text) else ""
                cells.append(f"<td{title}{nowrap}>{html.escape(cut)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    notes = []
    if len(df) > limit:
        notes.append(f"{limit} of {len(df):,} rows shown; {len(df) - limit:,} more in the export")
    hidden = [c for c in df.columns if c not in cols]
    if hidden:
        notes.append(f"{len(hidden)} more column{'s' if len(hidden) > 1 else ''} in the export "
                     f"({', '.join(label_of(c, columns, with_unit=False).lower() for c in hidden[:4])}"
                     f"{', …' if len(hidden) > 4 else ''})")
    more = f"<p class='more'>{html.escape('. '.join(notes))}.</p>" if notes else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


# --- the map ------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _land() -> list[tuple[str, list[np.ndarray]]]:
    """Natural Earth 1:50m country outlines (shipped with the dashboard), as (name, rings)."""
    try:
        path = resources.files("cleanpath").joinpath("service/static/vendor/world-atlas/countries-50m.geojson")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, OSError, ValueError):  # an install without the dashboard assets: no outlines
        return []
    out = []
    for f in data.get("features", []):
        g = f.get("geometry") or {}
        polys = g.get("coordinates", []) if g.get("type") == "MultiPolygon" else [g.get("coordinates", [])]
        rings = [np.asarray(ring, dtype=float) for poly in polys for ring in poly if len(ring) >= 3]
        out.append((str((f.get("properties") or {}).get("name", "")), rings))
    return out


def _cities(countries: Iterable[str], lat0, lat1, lon0, lon1, k: int = 8):
    """The biggest cities (GeoNames) of ``countries`` inside the box: (name, lat, lon, population)."""
    from cleanpath.build.geography import load_places
    from cleanpath.errors import ValidationError

    rows = []
    for c in sorted(set(countries)):
        try:
            p = load_places(c)
        except (ValidationError, KeyError, ValueError, OSError):  # a country GeoNames lacks: no labels
            continue
        own = np.flatnonzero((p.city == np.arange(len(p))) & (p.lat >= lat0) & (p.lat <= lat1)
                             & (p.lon >= lon0) & (p.lon <= lon1))[: k * 4]
        rows += [(str(p.name[i]), float(p.lat[i]), float(p.lon[i]), float(p.population[i])) for i in own]
    return sorted(rows, key=lambda r: -r[3])


def _nice_km(target_km: float) -> float:
    mag = 10 ** math.floor(math.log10(max(target_km, 1e-3)))
    return max(m * mag for m in (1, 2, 5) if m * mag <= target_km) if target_km >= mag else mag


def _site_name(name: str) -> str:
    return site_label(name)


def map_svg(net: Network, *, untrusted: Iterable[str], width: int = 700, height: int | None = None,
            max_points: int = 20000, cities: int = 6) -> str:
    """Sites as dots (red: any untrusted element, green: none, grey: unknown vendors only),
    sensitive sites with their radius and name, country outlines, the biggest cities and a scale
    bar, in an equirectangular projection scaled by cos(latitude).

    Parameters
    ----------
    net
        The network.
    untrusted
        Vendor ids drawn as untrusted.
    width, height
        Size in pixels (height: from the area's shape, within 360 to 820).
    max_points
        Sites drawn at most (evenly thinned beyond).
    cities
        How many of the biggest cities to name.
    """
    sites = net.sites
    lat = sites["lat"].to_numpy(dtype=float, na_value=np.nan)
    lon = sites["lon"].to_numpy(dtype=float, na_value=np.nan)
    sens = net.sensitive_sites
    s_lat = sens["lat"].to_numpy(dtype=float, na_value=np.nan)
    s_lon = sens["lon"].to_numpy(dtype=float, na_value=np.nan)
    all_lat = np.concatenate([lat, s_lat])
    all_lon = np.concatenate([lon, s_lon])
    ok = np.isfinite(all_lat) & np.isfinite(all_lon)
    if not ok.any():
        return "<p class='more'>No coordinates to map.</p>"
    lat0, lat1 = float(np.min(all_lat[ok])), float(np.max(all_lat[ok]))
    lon0, lon1 = float(np.min(all_lon[ok])), float(np.max(all_lon[ok]))
    pad_lat = max((lat1 - lat0) * 0.06, 0.05)
    pad_lon = max((lon1 - lon0) * 0.06, 0.05)
    lat0, lat1, lon0, lon1 = lat0 - pad_lat, lat1 + pad_lat, lon0 - pad_lon, lon1 + pad_lon
    k = math.cos(math.radians((lat0 + lat1) / 2))
    span_x = max((lon1 - lon0) * k, 1e-6)
    span_y = max(lat1 - lat0, 1e-6)
    if height is None:
        height = int(min(820, max(360, width * span_y / span_x)))
    scale = min(width / span_x, height / span_y)
    ox = (width - span_x * scale) / 2
    oy = (height - span_y * scale) / 2

    def xy(la, lo):
        return ox + (np.asarray(lo) - lon0) * k * scale, oy + (lat1 - np.asarray(la)) * scale

    parts = []
    # land: outlines of the countries the box touches
    for _name, rings in _land():
        for ring in rings:
            if (ring[:, 0].max() < lon0 - 5 or ring[:, 0].min() > lon1 + 5
                    or ring[:, 1].max() < lat0 - 5 or ring[:, 1].min() > lat1 + 5):
                continue
            x, y = xy(ring[:, 1], ring[:, 0])
            d = "M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y)) + "Z"
            parts.append(f"<path d='{d}' fill='{LAND_COLOUR}' stroke='#b9c0c8' stroke-width='0.8'/>")

    el = net.elements
    bad = el["vendor"].isin(list(untrusted)).to_numpy(dtype=bool, na_value=False)
    unknown = (el["vendor"] == "unknown").to_numpy(dtype=bool, na_value=False)
    site_pos = pd.Index(sites["site_id"].to_numpy(dtype=object)).get_indexer(el["site_id"].to_numpy(dtype=object))
    n = len(sites)
    has_bad = np.bincount(site_pos[bad], minlength=n) > 0
    all_unknown = np.bincount(site_pos[~unknown], minlength=n) == 0
    cls = np.where(has_bad, 2, np.where(all_unknown, 0, 1))
    idx = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if len(idx) > max_points:  # thin evenly
        idx = idx[np.linspace(0, len(idx) - 1, max_points).astype(int)]
    x, y = xy(lat[idx], lon[idx])
    r = 1.5 if len(idx) > 2000 else 2.4
    # one path per colour, each dot a zero-length round-capped segment: small files at any size
    for c, colour in ((0, UNKNOWN_COLOUR), (1, TRUSTED_COLOUR), (2, UNTRUSTED_COLOUR)):
        m = cls[idx] == c
        if m.any():
            d = "".join(f"M{a:.1f} {b:.1f}h0" for a, b in zip(x[m], y[m]))
            parts.append(f"<path d='{d}' stroke='{colour}' stroke-width='{2 * r}' stroke-linecap='round' fill='none'/>")

    boxes: list[tuple[float, float, float, float]] = []

    def free(bx) -> bool:
        x0, y0, x1, y1 = bx
        if x0 < 2 or y0 < 2 or x1 > width - 2 or y1 > height - 30:
            return False
        return all(x1 < a or x0 > c or y1 < b or y0 > d for a, b, c, d in boxes)

    def place(tx, ty, text, size, r0=0.0):
        """A label right, left, above or below a point; None where none is free."""
        w, h = 0.58 * size * len(text), size
        for dx, dy, anchor in ((r0 + 4, size / 3, "start"), (-r0 - 4, size / 3, "end"),
                               (0, -r0 - 4, "middle"), (0, r0 + size + 2, "middle")):
            x0 = tx + dx - (w if anchor == "end" else w / 2 if anchor == "middle" else 0)
            bx = (x0, ty + dy - h, x0 + w, ty + dy + 2)
            if free(bx):
                boxes.append(bx)
                return tx + dx, ty + dy, anchor
        return None

    # sensitive sites: rings, then names (a number where the name does not fit; the key lists all)
    radius = sens["radius_m"].to_numpy(dtype=float, na_value=5000.0) if len(sens) else np.array([])
    names = sens["name"].astype(object).tolist() if len(sens) else []
    key = []
    for i, (la, lo, rad, name) in enumerate(zip(s_lat, s_lon, radius, names), start=1):
        if not (np.isfinite(la) and np.isfinite(lo)):
            continue
        cx, cy = xy(la, lo)
        rpx = max(rad / 111_320 * scale, 3.0)
        parts.append(f"<circle cx='{cx:.1f}' cy='{cy:.1f}' r='{rpx:.1f}' fill='{SENSITIVE_COLOUR}' fill-opacity='.3' "
                     f"stroke='#c8701e' stroke-width='1.2'><title>{html.escape(str(name))}</title></circle>")
        boxes.append((cx - rpx, cy - rpx, cx + rpx, cy + rpx))
        key.append((i, str(name), float(cx), float(cy), rpx))
    labels = []
    for i, name, cx, cy, rpx in key:
        shown = f"{i} {_site_name(name)}"
        spot = place(cx, cy, shown, 10.5, rpx)
        if spot is None:
            shown = str(i)
            spot = place(cx, cy, shown, 10.5, rpx)
        if spot is not None:
            tx, ty, anchor = spot
            labels.append(f"<text x='{tx:.1f}' y='{ty:.1f}' text-anchor='{anchor}' font-size='10.5' "
                          f"font-weight='600' fill='#7a3e00' stroke='#fff' stroke-width='3' paint-order='stroke'>"
                          f"{html.escape(shown)}</text>")
    # the biggest cities, spread out
    countries = set(net.operators["country"].dropna().astype(str)) if len(net.operators) else set()
    placed = 0
    for name, la, lo, _pop in _cities(countries, lat0, lat1, lon0, lon1):
        if placed >= cities:
            break
        cx, cy = xy(la, lo)
        cx, cy = float(cx), float(cy)
        spot = place(cx, cy, name, 12, 3)
        if spot is None:
            continue
        tx, ty, anchor = spot
        labels.append(f"<rect x='{cx - 3:.1f}' y='{cy - 3:.1f}' width='6' height='6' fill='#1d2733'/>"
                      f"<text x='{tx:.1f}' y='{ty:.1f}' text-anchor='{anchor}' font-size='12' fill='#1d2733' "
                      f"stroke='#fff' stroke-width='3' paint-order='stroke'>{html.escape(name)}</text>")
        placed += 1
    parts += labels
    # scale bar: a round distance near a fifth of the width
    km_per_px = 111.32 / scale
    km = _nice_km(width / 5 * km_per_px)
    bar = km / km_per_px
    bx, by = 14, height - 16
    parts.append(f"<rect x='{bx - 6}' y='{by - 18}' width='{bar + 60:.0f}' height='26' fill='#fff' fill-opacity='.8' rx='3'/>"
                 f"<path d='M{bx} {by - 5}v5h{bar:.1f}v-5' fill='none' stroke='#1d2733' stroke-width='1.5'/>"
                 f"<text x='{bx + bar + 6:.1f}' y='{by + 1}' font-size='11' fill='#1d2733'>{fmt(km)} km</text>")
    legend = (f"<div class='legend'><span><i class='dot' style='background:{UNTRUSTED_COLOUR}'></i>site with untrusted "
              f"equipment ({int(has_bad.sum()):,})</span><span><i class='dot' style='background:{TRUSTED_COLOUR}'></i>"
              f"trusted only ({int((cls == 1).sum()):,})</span>"
              + (f"<span><i class='dot' style='background:{UNKNOWN_COLOUR}'></i>vendor unknown "
                 f"({int((cls == 0).sum()):,})</span>" if (cls == 0).any() else "")
              + f"<span><i class='dot' style='background:{SENSITIVE_COLOUR}'></i>sensitive site and its radius</span>"
              "<span>■ city</span></div>")
    svg = (f"<svg class='map' width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
           f"font-family='system-ui,Segoe UI,Roboto,sans-serif' xmlns='http://www.w3.org/2000/svg' "
           f"style='background:#dbe7f1;border-radius:6px'>{''.join(parts)}</svg>")
    key_html = ("<ol class='key'>" + "".join(f"<li>{html.escape(name)}</li>" for _i, name, *_ in key) + "</ol>"
                if key else "")
    return legend + svg + key_html


# --- sections -----------------------------------------------------------------------------------------

def _spec(r: Result):
    from cleanpath.registry import QUESTIONS

    return QUESTIONS.get(r.question) or QUESTIONS.get(r.question.split("-")[0])


def _tile(v, key: str) -> str:
    """A key figure for a tile: lists and mappings by their size (the names are in the tables)."""
    if isinstance(v, dict) and v and all(isinstance(x, (int, float)) for x in v.values()):
        lo, hi = min(v.values()), max(v.values())
        unit = unit_of(key)
        return fmt(lo, unit) if lo == hi else f"{fmt(lo, unit)} – {fmt(hi, unit)}"
    if isinstance(v, (list, tuple, dict)):
        return f"{len(v):,}"
    return short(fmt(v, unit_of(key)), 40)


def _params_line(r: Result) -> str:
    skip = {"snapshot", "untrusted_vendors", "vendor_vendors", "policies", "start_year", "lifetime_years"}
    parts = [f"{label_of(k, with_unit=False).lower()} {fmt(v, unit_of(k), max_items=4)}"
             for k, v in r.params.items() if v is not None and k not in skip and v != [] and v is not False]
    return "; ".join(parts)


def section_html(result: Result, *, charts: dict[str, str] | None = None, anchor: str | None = None,
                 title: str | None = None, card: Card | None = None, names: Mapping[str, str] | None = None) -> str:
    """One question's section: its human heading and sentence, its key figures, charts, tables
    (as many as fit: the registry's first three with rows) and, folded, every figure and parameter."""
    spec = _spec(result)
    anchor = anchor or result.question
    card = card or card_for(result, anchor, title or result.question, spec.headline if spec else ())
    body = [f"<section id='{html.escape(anchor)}'><div class='head'><h2>{html.escape(card.heading)}</h2>"]
    if spec is not None:
        body.append(f"<p class='sub'>{html.escape(spec.title)}</p>")
    body.append(f"<p class='lead'>{html.escape(card.sentence)}</p>")
    keys = [k for k in (spec.headline if spec and spec.headline else tuple(result.summary)[:4])
            if result.summary.get(k) is not None]
    if keys:
        body.append("<div class='tiles'>" + "".join(
            f"<div class='tile'><b>{html.escape(_tile(result.summary[k], k))}</b>"
            f"<span>{html.escape(label_of(k))}</span></div>" for k in keys) + "</div>")
    body.append("</div>")
    for ctitle, svg in (charts or {}).items():
        body.append(f"<h3>{html.escape(ctitle)}</h3>{svg}")
    declared = {t.name: t for t in spec.tables} if spec is not None else {}
    order = [n for n in declared if n in result.tables] + [n for n in result.tables if n not in declared]
    shown = [n for n in order if len(result.tables[n])][:MAX_TABLES] or order[:1]
    for name in shown:
        t = declared.get(name)
        label = t.label if t is not None else name.replace("_", " ").capitalize()
        body.append(f"<h3>{html.escape(label)}</h3>"
                    f"{table_html(result.tables[name], columns=t.columns if t is not None else None, names=names)}")
    rest = [declared[n].label if n in declared else n for n in order if n not in shown]
    if rest:
        body.append(f"<p class='more'>Also in the export: {html.escape('; '.join(rest))}.</p>")
    figures = "".join(f"<dt>{html.escape(label_of(k))}</dt><dd>{html.escape(fmt(v, unit_of(k), max_items=6))}</dd>"
                      for k, v in result.summary.items())
    params = _params_line(result)
    body.append(f"<details><summary>All figures and parameters</summary><dl class='all'>{figures}</dl>"
                + (f"<p class='more'>Asked with: {html.escape(params)}.</p>" if params else "") + "</details>")
    body.append("</section>")
    return "".join(body)


def _sensitive_names(results: list[Result], network: Network | None) -> dict[str, str]:
    """Sensitive sites' names by id, from the network and from any result table that has both."""
    out: dict[str, str] = {}
    frames = [network.sensitive_sites] if network is not None else []
    frames += [t for r in results for t in r.tables.values() if "sensitive_id" in t and "name" in t]
    for f in frames:
        if len(f) and "sensitive_id" in f and "name" in f:
            ids, nm = f["sensitive_id"].astype(object), f["name"].astype(object)
            out.update({str(i): str(n) for i, n in zip(ids, nm) if isinstance(n, str) and n})
    return out


def summary_html(cards: list[Card], *, intro: str = "") -> str:
    """Page one: one card per section, each one figure and one sentence."""
    items = "".join(
        f"<div class='card {c.tone}'><h3><a href='#{html.escape(c.anchor)}'>{html.escape(c.heading)}</a></h3>"
        f"<div class='fig'>{html.escape(c.figure)}<small>{html.escape(c.figure_label)}</small></div>"
        f"<p>{html.escape(c.sentence)}</p></div>" for c in cards)
    lead = f"<p class='intro'>{html.escape(intro)}</p>" if intro else ""
    return f"<section id='summary'><h2>Summary</h2>{lead}<div class='cards'>{items}</div></section>"


def write_report(out: str | Path, *, results: list[Result], network: Network | None = None,
                 untrusted: Iterable[str] = (), title: str = "cleanpath report",
                 charts: dict[str, dict[str, str]] | None = None, intro: str = "") -> Path:
    """Write a self-contained HTML report: the summary, the map, then a section per result.

    Parameters
    ----------
    out
        The HTML file to write.
    results
        Question results, one section each, in order.
    network
        If given, a map of its sites and sensitive sites follows the summary.
    untrusted
        Vendor ids drawn as untrusted on the map.
    title
        Page title.
    charts
        Inline SVG charts per section (:func:`cleanpath.suite.section_keys` anchors):
        ``{anchor: {title: svg}}`` (:func:`cleanpath.report.charts.charts_for`).
    intro
        A paragraph of text (escaped) at the head of the summary.

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
    cards = []
    for r, (anchor, heading) in zip(results, keys):
        spec = _spec(r)
        cards.append(card_for(r, anchor, heading, spec.headline if spec is not None else ()))
    nav = " ".join(f"<a href='#{html.escape(a)}'>{html.escape(heading_of(r, t))}</a>"
                  for r, (a, t) in zip(results, keys))
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{_CSS}</style></head><body>",
             f"<header><h1>{html.escape(title)}</h1><p>cleanpath {__version__} · generated {now}"
             + (f" · snapshot {html.escape(network.name)}" if network is not None and network.name else "")
             + f"</p><nav>{nav}</nav></header><main>"]
    parts.append(summary_html(cards, intro=intro))
    if network is not None:
        parts.append(f"<section id='map'><h2>Map</h2><p class='sub'>Every site of the network, coloured by "
                     f"whether it holds untrusted equipment; the sensitive sites with the radius they are "
                     f"checked within.</p>{map_svg(network, untrusted=untrusted)}</section>")
    names = _sensitive_names(results, network)
    for r, (anchor, heading), card in zip(results, keys, cards):
        parts.append(section_html(r, charts=charts.get(anchor), anchor=anchor, title=heading, card=card,
                                  names=names))
    parts.append("</main></body></html>")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("".join(parts), encoding="utf-8")
    tmp.replace(out)
    return out
