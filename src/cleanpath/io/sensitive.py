"""Importer for sensitive sites: bases, embassies, ministries, plants (CSV or GeoJSON).

Accepted inputs:

* **CSV with the ``sensitive_sites`` columns** (see ``cleanpath schema``). ``sensitive_id`` may be
  left out or blank: it is then a stable slug of country and name (``de-ramstein-air-base``).
* **CSV shaped like the shipped installations list** (``name, country, lat, lon, branch,
  source_or_approx``): ``source_or_approx`` becomes ``source``; ``branch`` has no place in the
  model and is reported as an ignored column.
* **GeoJSON** (``.geojson``/``.json``, or any file whose text starts with ``{``): a
  FeatureCollection (or a single Feature) of Points, Polygons and MultiPolygons, holes allowed.
  A Point is a site with a radius (``properties.radius_m``, else the default). A (Multi)Polygon is
  stored as GeoJSON text in the ``geometry`` column; ``lat``/``lon`` are a point inside it (the
  centroid of the largest outer ring, or, when that falls outside as in a U-shaped area, the
  middle of the widest inside stretch of the centroid's parallel) and ``radius_m`` is the radius
  of the circle around that point that holds the whole area, for consumers that only read
  circles. Properties used: ``name``, ``sensitive_id``, ``kind``, ``country``, ``radius_m``,
  ``weight``, ``source``; a feature without ``properties.name`` uses its ``id``.

Defaults for what a row does not say: ``kind`` from ``--kind`` (default ``military``),
``radius_m`` from ``--radius-m`` (default 5000), ``country`` from ``--country``, ``source`` the
file's name. With ``--country``, rows of other countries are skipped (with a warning).

GeoJSON geometry is checked before anything is stored: unclosed rings, rings of fewer than four
positions, self-intersecting rings (a vectorised segment-pair test, no shapely), holes lying
outside their polygon, coordinates out of range (latitude 95), missing or unsupported geometry
and empty collections are reported as problems whose ``line`` is the feature number (1-based)
and whose reason starts with ``feature N``. The checks are planar in longitude/latitude, which
is sound for areas the size of a base; polygons across the antimeridian are not supported.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cleanpath.errors import MAX_PROBLEMS, Problem, ProblemCollector, ValidationError
from cleanpath.io.guard import InputFile, check_text, expand_paths, read_input
from cleanpath.io.registry import Imported, as_paths
from cleanpath.io.tables import read_csv_bytes
from cleanpath.model.schema import SENSITIVE_SITES
from cleanpath.model.validate import Source, coerce_table

DEFAULT_KIND = "military"
DEFAULT_RADIUS_M = 5000.0
#: Longest ring the self-intersection test accepts (it compares every pair of edges, in blocks).
MAX_RING_VERTICES = 20_000
#: Path of the shipped installations inside the package.
INSTALLATIONS_RESOURCE = ("sensitive", "us_military_installations.csv")

_EARTH_RADIUS_M = 6_371_008.8
#: Latin letters that Unicode does not decompose into a base letter and an accent.
_NO_DECOMPOSITION = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
                     "ı": "i", "ħ": "h"}
_GEOJSON_SUFFIXES = (".geojson", ".json", ".geojson.gz", ".json.gz")
#: Pairs of edges compared at once by the self-intersection test (bounds memory, ~100 MB).
_PAIR_BLOCK = 2_000_000


# --- helpers shared by both formats -------------------------------------------------------------

def slug(text: pd.Series) -> pd.Series:
    """Stable identifier from text: accents dropped, lower case, other runs of characters as ``-``.

    Vectorised with Arrow's Unicode kernels. Text with no Latin letters or digits at all (a name
    written only in kanji, say) gets ``h`` and the first 10 hex digits of its SHA-1 instead, so
    it still has a stable, distinct id.

    Examples
    --------
    >>> slug(pd.Series(["DE-Ramstein Air Base", "IT-Caserma Ederlé (Vicenza)"])).tolist()
    ['de-ramstein-air-base', 'it-caserma-ederle-vicenza']
    """
    arr = pa.array(text.to_numpy(dtype=object, na_value=None), pa.string(), from_pandas=True)
    arr = pc.fill_null(arr, "")
    s = pc.replace_substring_regex(pc.utf8_normalize(arr, form="NFKD"), r"\p{Mn}+", "")
    s = pc.utf8_lower(s)
    for letter, ascii_ in _NO_DECOMPOSITION.items():
        s = pc.replace_substring(s, letter, ascii_)
    s = pc.replace_substring_regex(s, r"[^a-z0-9]+", "-")
    s = pc.utf8_trim(s, characters="-")
    out = pd.Series(s.to_pylist(), index=text.index, dtype=object)
    hashed = (out == "") & (pd.Series(pc.utf8_trim_whitespace(arr).to_pylist(), index=text.index) != "")
    for i in np.flatnonzero(hashed.to_numpy()):  # only rows with no Latin text at all
        out.iat[i] = "h" + hashlib.sha1(str(arr[i]).encode("utf-8")).hexdigest()[:10]
    return out


def _text(s: pd.Series) -> pd.Series:
    """Stripped text with empty values as None (object dtype, vectorised)."""
    t = s.astype(pd.ArrowDtype(pa.string())).str.strip()
    keep = (t != "").to_numpy(dtype=bool, na_value=False)
    return t.astype(object).where(keep, None)


def _fill_defaults(df: pd.DataFrame, *, kind: str | None, radius_m: float | None,
                   country: str | None, source: str) -> pd.DataFrame:
    """Fill what rows leave blank and derive missing ids (all vectorised over rows)."""
    n = len(df)
    out = pd.DataFrame(index=df.index)
    for c in SENSITIVE_SITES.column_names:
        out[c] = _text(df[c]) if c in df.columns else pd.Series([None] * n, index=df.index, dtype=object)
    upper = out["country"].astype(pd.ArrowDtype(pa.string())).str.upper().astype(object)
    out["country"] = upper.where(out["country"].notna(), country)
    out["kind"] = out["kind"].where(out["kind"].notna(), kind or DEFAULT_KIND)
    out["radius_m"] = out["radius_m"].where(
        out["radius_m"].notna(), str(DEFAULT_RADIUS_M if radius_m is None else float(radius_m)))
    out["source"] = out["source"].where(out["source"].notna(), source)
    name = out["name"].fillna("")
    name_slug = slug(name)
    derived = (out["country"].fillna("").str.lower() + "-" + name_slug).where(out["country"].notna(), name_slug)
    derived = derived.where(name_slug != "", None)
    out["sensitive_id"] = out["sensitive_id"].where(out["sensitive_id"].notna(), derived)
    return out


def _keep_country(df: pd.DataFrame, country: str | None, label: str, warnings: list[str]) -> np.ndarray:
    """Rows to keep: all, or with ``country`` those of that country (blank ones were filled)."""
    if country is None:
        return np.arange(len(df))
    keep = (df["country"].fillna(country) == country).to_numpy()
    if not keep.all():
        warnings.append(f"{label}: {int((~keep).sum())} row(s) of other countries than {country} skipped")
    return np.flatnonzero(keep)


def _subset_source(src: Source, rows: np.ndarray) -> Source:
    return Source(src.file, lambda r: src.line_of(rows[np.asarray(r, dtype=np.int64)]),
                  header_line=src.header_line)


# --- CSV ----------------------------------------------------------------------------------------

def _read_csv(f: InputFile, *, kind, radius_m, country, warnings: list[str]
              ) -> tuple[pd.DataFrame, Source]:
    df, src = read_csv_bytes(f)
    if "source" not in df.columns and "source_or_approx" in df.columns:
        df = df.rename(columns={"source_or_approx": "source"})
    missing = [c for c in ("name", "lat", "lon") if c not in df.columns]
    if missing:
        raise ValidationError(Problem(
            f"missing column(s) {', '.join(missing)}; a sensitive-site CSV needs at least name, lat, "
            f"lon (columns: {', '.join(SENSITIVE_SITES.column_names)})", f.label, 1, missing[0]))
    if len(df) == 0:
        raise ValidationError(Problem("no rows: the file has only a header", f.label, 1))
    extra = [c for c in df.columns if c not in SENSITIVE_SITES.column_names]
    if extra:
        warnings.append(f"{f.label}: ignored column(s) not in the sensitive_sites schema: {', '.join(extra)}")
    out = _fill_defaults(df, kind=kind, radius_m=radius_m, country=country, source=Path(f.label).name)
    rows = _keep_country(out, country, f.label, warnings)
    return out.iloc[rows].reset_index(drop=True), _subset_source(src, rows)


# --- GeoJSON geometry ---------------------------------------------------------------------------

class _Bad(Exception):
    """A problem with one feature's geometry (reason, value)."""

    def __init__(self, reason: str, value: Any = None, column: str = "geometry"):
        super().__init__(reason)
        self.reason, self.value, self.column = reason, value, column


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _positions(coords: Any, where: str) -> np.ndarray:
    """A list of [lon, lat(, alt)] positions as an (n, 2) float array, range-checked."""
    if not isinstance(coords, list) or not coords:
        raise _Bad(f"{where}: expected a list of positions (longitude, latitude)", _short(coords))
    for k, p in enumerate(coords):
        if not (isinstance(p, list) and len(p) >= 2 and _is_number(p[0]) and _is_number(p[1])):
            raise _Bad(f"{where}, position {k + 1}: expected two numbers, longitude then latitude", _short(p))
    pts = np.array([p[:2] for p in coords], dtype=np.float64)
    _check_range(pts, where)
    return pts


def _check_range(pts: np.ndarray, where: str) -> None:
    bad_lat = np.flatnonzero(np.abs(pts[:, 1]) > 90)
    if bad_lat.size:
        k = int(bad_lat[0])
        raise _Bad(f"{where}, position {k + 1}: latitude {pts[k, 1]:g} outside -90..90 "
                   "(GeoJSON positions put longitude first)", f"[{pts[k, 0]:g}, {pts[k, 1]:g}]")
    bad_lon = np.flatnonzero(np.abs(pts[:, 0]) > 180)
    if bad_lon.size:
        k = int(bad_lon[0])
        raise _Bad(f"{where}, position {k + 1}: longitude {pts[k, 0]:g} outside -180..180",
                   f"[{pts[k, 0]:g}, {pts[k, 1]:g}]")


def _short(v: Any) -> str:
    s = json.dumps(v) if not isinstance(v, str) else v
    return s if len(s) <= 80 else s[:77] + "..."


def _orient(ax, ay, bx, by, cx, cy) -> np.ndarray:
    """Twice the signed area of triangles abc (> 0: counter-clockwise)."""
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


def _between(a, b, c) -> np.ndarray:
    return (np.minimum(a, b) <= c) & (c <= np.maximum(a, b))


def self_intersection(ring: np.ndarray) -> tuple[float, float] | None:
    """Where a closed ring touches or crosses itself, or None if it is simple.

    Compares every pair of non-adjacent edges with orientation tests (vectorised, in blocks of
    :data:`_PAIR_BLOCK` pairs), and catches adjacent edges that fold back onto each other.

    Parameters
    ----------
    ring
        ``(n, 2)`` positions, first equal to last.

    Returns
    -------
    tuple or None
        A (lon, lat) on or near the first intersection found.
    """
    keep = np.concatenate(([True], np.any(ring[1:] != ring[:-1], axis=1)))
    pts = ring[keep]
    p, q = pts[:-1], pts[1:]
    n = len(p)
    if n < 3:
        return None
    d1 = q - p
    d2 = np.roll(d1, -1, axis=0)
    fold = (d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0] == 0) & ((d1 * d2).sum(axis=1) < 0)
    if fold.any():
        k = int(np.argmax(fold))
        return float(q[k, 0]), float(q[k, 1])
    block = max(1, _PAIR_BLOCK // n)
    j_all = np.arange(n)
    for start in range(0, n, block):
        i = np.arange(start, min(start + block, n))
        ii, jj = np.nonzero((j_all[None, :] >= i[:, None] + 2)
                            & ~((i[:, None] == 0) & (j_all[None, :] == n - 1)))
        ii = i[ii]
        if ii.size == 0:
            continue
        pix, piy, qix, qiy = p[ii, 0], p[ii, 1], q[ii, 0], q[ii, 1]
        pjx, pjy, qjx, qjy = p[jj, 0], p[jj, 1], q[jj, 0], q[jj, 1]
        o1 = _orient(pix, piy, qix, qiy, pjx, pjy)
        o2 = _orient(pix, piy, qix, qiy, qjx, qjy)
        o3 = _orient(pjx, pjy, qjx, qjy, pix, piy)
        o4 = _orient(pjx, pjy, qjx, qjy, qix, qiy)
        cross = (np.sign(o1) * np.sign(o2) < 0) & (np.sign(o3) * np.sign(o4) < 0)
        # An end point lying on the other edge: the edges touch (or overlap) there.
        ends = ((pjx, pjy, (o1 == 0) & _between(pix, qix, pjx) & _between(piy, qiy, pjy)),
                (qjx, qjy, (o2 == 0) & _between(pix, qix, qjx) & _between(piy, qiy, qjy)),
                (pix, piy, (o3 == 0) & _between(pjx, qjx, pix) & _between(pjy, qjy, piy)),
                (qix, qiy, (o4 == 0) & _between(pjx, qjx, qix) & _between(pjy, qjy, qiy)))
        touch = ends[0][2] | ends[1][2] | ends[2][2] | ends[3][2]
        hit = np.flatnonzero(cross | touch)
        if hit.size:
            k = int(hit[0])
            for ex, ey, on in ends:
                if on[k]:
                    return float(ex[k]), float(ey[k])
            t = o3[k] / (o3[k] - o4[k])
            return float(pix[k] + t * (qix[k] - pix[k])), float(piy[k] + t * (qiy[k] - piy[k]))
    return None


def points_in_ring(x: np.ndarray, y: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Even-odd test of points against a closed ring (vectorised over points and edges)."""
    x0, y0, x1, y1 = ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1]
    out = np.zeros(len(x), dtype=bool)
    step = max(1, _PAIR_BLOCK // max(len(x0), 1))
    for s in range(0, len(x), step):
        px, py = x[s:s + step, None], y[s:s + step, None]
        spans = (y0 > py) != (y1 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xint = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
        out[s:s + step] = (spans & (px < xint)).sum(axis=1) % 2 == 1
    return out


def _check_polygon(rings_json: Any, where: str) -> list[np.ndarray]:
    if not isinstance(rings_json, list) or not rings_json:
        raise _Bad(f"{where}: a polygon needs at least one ring", _short(rings_json))
    rings = []
    for r, ring_json in enumerate(rings_json):
        label = f"{where}, {'outer ring' if r == 0 else f'hole {r}'}"
        ring = _positions(ring_json, label)
        if len(ring) < 4:
            raise _Bad(f"{label}: a ring needs at least 4 positions (first repeated last), has {len(ring)}")
        if not np.array_equal(ring[0], ring[-1]):
            raise _Bad(f"{label}: ring is not closed (first position differs from last)",
                       f"{ring_json[0]} ... {ring_json[-1]}")
        if len(ring) > MAX_RING_VERTICES:
            raise _Bad(f"{label}: {len(ring):,} positions, more than the {MAX_RING_VERTICES:,} this check "
                       "handles; simplify the outline")
        if len(np.unique(ring[:-1], axis=0)) < 3:
            raise _Bad(f"{label}: ring has fewer than 3 distinct positions (no area)")
        hit = self_intersection(ring)
        if hit is not None:
            raise _Bad(f"{label}: ring intersects itself near lon {hit[0]:.6f}, lat {hit[1]:.6f}")
        if r > 0 and not points_in_ring(ring[:-1, 0], ring[:-1, 1], rings[0]).any():
            raise _Bad(f"{label}: hole lies outside its polygon's outer ring")
        rings.append(ring)
    return rings


def _ring_area_centroid(ring: np.ndarray, cos0: float) -> tuple[float, float, float]:
    """Area and centroid of a ring in a local equal-scale plane (x = lon * cos(lat0))."""
    # Relative to the first vertex: absolute degrees would cancel away most of the precision.
    x0, y0 = ring[0, 0], ring[0, 1]
    x, y = (ring[:, 0] - x0) * cos0, ring[:, 1] - y0
    cr = x[:-1] * y[1:] - x[1:] * y[:-1]
    a = cr.sum() / 2
    if a == 0:
        return 0.0, float(ring[:-1, 0].mean()), float(ring[:-1, 1].mean())
    cx = ((x[:-1] + x[1:]) * cr).sum() / (6 * a)
    cy = ((y[:-1] + y[1:]) * cr).sum() / (6 * a)
    return abs(a), float(x0 + cx / cos0), float(y0 + cy)


def _inside_polygon(x: float, y: float, rings: list[np.ndarray]) -> bool:
    px, py = np.array([x]), np.array([y])
    if not points_in_ring(px, py, rings[0])[0]:
        return False
    return not any(points_in_ring(px, py, h)[0] for h in rings[1:])


def representative_point(polygons: list[list[np.ndarray]]) -> tuple[float, float]:
    """A (lat, lon) inside the largest polygon: its outer ring's centroid if inside, else the
    middle of the widest inside stretch along the centroid's parallel."""
    lat0 = float(np.mean(np.concatenate([p[0][:, 1] for p in polygons])))
    cos0 = max(math.cos(math.radians(lat0)), 1e-6)
    best = max(polygons, key=lambda rings: _ring_area_centroid(rings[0], cos0)[0])
    _a, cx, cy = _ring_area_centroid(best[0], cos0)
    if _inside_polygon(cx, cy, best):
        return cy, cx
    edges = np.concatenate([np.column_stack((r[:-1], r[1:])) for r in best])  # x0 y0 x1 y1
    ys = np.unique(np.concatenate([r[:, 1] for r in best]))
    if np.isin(cy, ys):  # a parallel through a vertex makes the even-odd count ambiguous
        k = int(np.searchsorted(ys, cy))
        cy = (cy + ys[k + 1]) / 2 if k + 1 < len(ys) else (cy + ys[k - 1]) / 2
    x0, y0, x1, y1 = edges.T
    spans = (y0 > cy) != (y1 > cy)
    xs = np.sort(x0[spans] + (cy - y0[spans]) * (x1[spans] - x0[spans]) / (y1[spans] - y0[spans]))
    if len(xs) < 2:
        return cy, cx
    starts, ends = xs[0::2], xs[1::2]
    k = int(np.argmax(ends - starts[: len(ends)]))
    return cy, float((starts[k] + ends[k]) / 2)


def enclosing_radius_m(lat: float, lon: float, pts: np.ndarray) -> float:
    """Largest great-circle distance (metres) from (lat, lon) to any of ``pts`` ([lon, lat])."""
    la1, la2 = math.radians(lat), np.radians(pts[:, 1])
    dla, dlo = la2 - la1, np.radians(pts[:, 0] - lon)
    h = np.sin(dla / 2) ** 2 + math.cos(la1) * np.cos(la2) * np.sin(dlo / 2) ** 2
    return float(2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0, 1))).max())


# --- GeoJSON features ---------------------------------------------------------------------------

def _geometry(geom: Any, n: int) -> tuple[float, float, str | None, float | None]:
    """(lat, lon, geometry text, enclosing radius) of a feature's geometry, or raise _Bad."""
    where = f"feature {n}"
    if geom is None:
        raise _Bad(f"{where}: no geometry (geometry is null or missing)")
    if not isinstance(geom, dict):
        raise _Bad(f"{where}: geometry must be an object", _short(geom))
    gtype = geom.get("type")
    coords = geom.get("coordinates")
    if gtype == "Point":
        if not (isinstance(coords, list) and len(coords) >= 2 and _is_number(coords[0]) and _is_number(coords[1])):
            raise _Bad(f"{where}: Point coordinates must be two numbers, longitude then latitude", _short(coords))
        _check_range(np.array([coords[:2]], dtype=np.float64), f"{where}, Point")
        return float(coords[1]), float(coords[0]), None, None
    if gtype == "Polygon":
        polygons = [_check_polygon(coords, f"{where}, Polygon")]
    elif gtype == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise _Bad(f"{where}: MultiPolygon needs at least one polygon", _short(coords))
        polygons = [_check_polygon(c, f"{where}, polygon {k + 1}") for k, c in enumerate(coords)]
    else:
        raise _Bad(f"{where}: geometry type {gtype!r} is not supported; use Point, Polygon or MultiPolygon",
                   gtype)
    lat, lon = representative_point(polygons)
    outer = np.concatenate([p[0] for p in polygons])
    text = json.dumps({"type": gtype, "coordinates": coords}, separators=(",", ":"))
    return lat, lon, text, math.ceil(enclosing_radius_m(lat, lon, outer))


def _prop(props: dict, name: str) -> str | None:
    v = props.get(name)
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    return v if isinstance(v, str) else json.dumps(v) if isinstance(v, (dict, list)) else str(v)


def _feature_row(feat: Any, n: int) -> dict[str, Any]:
    if not isinstance(feat, dict) or feat.get("type") != "Feature":
        raise _Bad(f"feature {n}: not a GeoJSON Feature object", _short(feat), column="type")
    props = feat.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise _Bad(f"feature {n}: properties must be an object", _short(props), column="properties")
    lat, lon, text, radius = _geometry(feat.get("geometry", None), n)
    name = _prop(props, "name") or (None if feat.get("id") is None else str(feat["id"]))
    if name is None:
        raise _Bad(f"feature {n}: no name (set properties.name or the feature id)", column="name")
    row = {c: _prop(props, c) for c in SENSITIVE_SITES.column_names}
    row.update(name=name, lat=repr(lat), lon=repr(lon), geometry=text)
    if row["radius_m"] is None and radius is not None:
        row["radius_m"] = str(radius)
    if row["sensitive_id"] is None and feat.get("id") is not None:
        row["sensitive_id"] = str(feat["id"])
    return row


def _read_geojson(f: InputFile, *, kind, radius_m, country, warnings: list[str]
                  ) -> tuple[pd.DataFrame, Source]:
    check_text(f, what="GeoJSON")
    try:
        doc = json.loads(f.data.decode("utf-8-sig"))
    except json.JSONDecodeError as e:
        raise ValidationError(Problem(f"not valid JSON: {e.msg}", f.label, e.lineno, e.colno)) from None
    except RecursionError:
        raise ValidationError(Problem("JSON nested too deeply", f.label)) from None
    gtype = doc.get("type") if isinstance(doc, dict) else None
    if gtype == "Feature":
        features = [doc]
    elif gtype == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise ValidationError(Problem("FeatureCollection has no 'features' list", f.label, 1, "features"))
        if not features:
            raise ValidationError(Problem("FeatureCollection has no features", f.label, 1, "features"))
    else:
        raise ValidationError(Problem(
            f"expected a GeoJSON FeatureCollection or Feature, found {gtype or type(doc).__name__!r}",
            f.label, 1, "type"))
    problems = ProblemCollector(f.label)
    rows = []
    for n, feat in enumerate(features, 1):
        try:
            rows.append(_feature_row(feat, n))
        except _Bad as bad:
            problems.add(bad.reason, line=n, column=bad.column, value=bad.value)
            if problems.full:
                problems.truncated = problems.truncated or n < len(features)
                break
    problems.raise_if_any()
    raw = pd.DataFrame(rows, columns=SENSITIVE_SITES.column_names, dtype=object)
    out = _fill_defaults(raw, kind=kind, radius_m=radius_m, country=country, source=Path(f.label).name)
    keep = _keep_country(out, country, f.label, warnings)
    return out.iloc[keep].reset_index(drop=True), Source(f.label, lambda r: keep[np.asarray(r)] + 1)


def _is_geojson(f: InputFile) -> bool:
    if f.label.lower().endswith(_GEOJSON_SUFFIXES):
        return True
    return f.data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


# --- the importer -------------------------------------------------------------------------------

def _read_one(f: InputFile, *, kind, radius_m, country, warnings: list[str]
              ) -> tuple[pd.DataFrame, Source]:
    """Read and type one file; problems name the file and line (the feature, for GeoJSON)."""
    geo = _is_geojson(f)
    reader = _read_geojson if geo else _read_csv
    raw, src = reader(f, kind=kind, radius_m=radius_m, country=country, warnings=warnings)
    problems = ProblemCollector(f.label)
    typed = coerce_table(SENSITIVE_SITES, raw, src, problems)
    if problems and geo:
        # Say which feature, as GeoJSON has no lines to point at.
        problems.problems = [Problem(p.reason if p.reason.startswith("feature ") else
                                     f"feature {p.line}: {p.reason}", p.file, p.line, p.column, p.value)
                             for p in problems.problems]
    problems.problems.sort(key=lambda p: p.line or 0)  # validation reports column by column
    problems.raise_if_any()
    return typed, src


def _check_options(kind, radius_m, country) -> str | None:
    from cleanpath.model.schema import SENSITIVE_KINDS

    problems = ProblemCollector()
    if kind is not None and kind not in SENSITIVE_KINDS:
        problems.add(f"unknown kind; allowed: {', '.join(SENSITIVE_KINDS)}", column="kind", value=kind)
    if radius_m is not None and not (isinstance(radius_m, (int, float)) and math.isfinite(radius_m)
                                     and radius_m >= 0):
        problems.add("radius must be a number of metres, at least 0", column="radius_m", value=radius_m)
    if country is not None:
        country = str(country).strip().upper()
        if len(country) != 2 or not country.isalpha():
            problems.add("country must be an ISO 3166-1 alpha-2 code such as DE", column="country",
                         value=country)
    problems.raise_if_any()
    return country


def import_sensitive(paths, *, kind: str | None = None, radius_m: float | None = None,
                     country: str | None = None, **_ignored) -> Imported:
    """Import sensitive sites from CSV or GeoJSON files.

    Parameters
    ----------
    paths
        CSV files (``sensitive_sites`` columns, or the installations shape) and GeoJSON files,
        or directories of them.
    kind
        Kind for rows that do not say (default ``military``).
    radius_m
        Radius in metres for points that do not say (default 5000).
    country
        ISO 3166-1 alpha-2 code: rows that do not say are in this country; rows of other
        countries are skipped.

    Returns
    -------
    Imported
        The ``sensitive_sites`` table, typed.

    Raises
    ------
    ValidationError
        Every problem found (up to 100), with file and line (GeoJSON: the feature number).
    """
    country = _check_options(kind, radius_m, country)
    files = expand_paths(as_paths(paths))
    if not files:
        raise ValidationError("no input files given")
    problems = ProblemCollector()
    warnings: list[str] = []
    frames: list[pd.DataFrame] = []
    sources: list[Source] = []
    for p in files:
        try:
            df, src = _read_one(read_input(p), kind=kind, radius_m=radius_m, country=country,
                                warnings=warnings)
        except ValidationError as e:
            problems.extend(e.problems)
            problems.truncated |= e.truncated
            continue
        frames.append(df)
        sources.append(src)
    problems.raise_if_any()
    table = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    source = sources[0] if len(sources) == 1 else _combined_source(frames, sources)
    _check_ids_across(table, frames, sources)
    if len(table) == 0:
        raise ValidationError(Problem(f"no sensitive sites left after skipping other countries than {country}",
                                      ", ".join(map(str, files))))
    return Imported({"sensitive_sites": table}, {"sensitive_sites": source}, warnings)


def _combined_source(frames: list[pd.DataFrame], sources: list[Source]) -> Source:
    """One Source over several files: lines are per file, the label names all of them."""
    offsets = np.cumsum([0] + [len(f) for f in frames])

    def line_of(rows) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        which = np.searchsorted(offsets, rows, side="right") - 1
        out = np.zeros(len(rows), dtype=np.int64)
        for k in np.unique(which):
            m = which == k
            out[m] = sources[k].line_of(rows[m] - offsets[k])
        return out

    return Source(" + ".join(s.file for s in sources), line_of)


def _check_ids_across(table: pd.DataFrame, frames: list[pd.DataFrame], sources: list[Source]) -> None:
    """A sensitive_id repeated in a later file is an error naming both places."""
    if len(frames) < 2:
        return
    ids = table["sensitive_id"]
    dup = ids.duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    offsets = np.cumsum([0] + [len(f) for f in frames])
    first = pd.Series(np.arange(len(ids)), index=ids.to_numpy()).groupby(level=0).first()
    problems = ProblemCollector()

    def where(row: int) -> tuple[Source, int]:
        k = int(np.searchsorted(offsets, row, side="right") - 1)
        return sources[k], int(sources[k].line_of(np.array([row - offsets[k]]))[0])

    for row in np.flatnonzero(dup)[:MAX_PROBLEMS]:
        src, line = where(int(row))
        fsrc, fline = where(int(first[ids.iat[row]]))
        problems.add(f"duplicate sensitive_id (first seen in {fsrc.file} at line {fline})", file=src.file,
                     line=line, column="sensitive_id", value=ids.iat[row])
    problems.raise_if_any()


# --- the shipped installations ------------------------------------------------------------------

@lru_cache(maxsize=1)
def _installations() -> pd.DataFrame:
    ref = resources.files("cleanpath.data").joinpath(*INSTALLATIONS_RESOURCE)
    f = InputFile("cleanpath/data/" + "/".join(INSTALLATIONS_RESOURCE), ref.read_bytes())
    df, _src = _read_one(f, kind=None, radius_m=None, country=None, warnings=[])
    return df


def shipped_installations(country: str | None = None) -> pd.DataFrame:
    """The US military installations shipped with cleanpath, as a ``sensitive_sites`` table.

    36 installations in DE, IT, JP, KR and AU (see ``cleanpath/data/sensitive/PROVENANCE.md``);
    each row's ``source`` says where its position comes from (an OurAirports runway or navaid, or
    "approx" where only public knowledge places it within a kilometre or two). Kind is
    ``military`` and the radius 5000 m.

    Parameters
    ----------
    country
        ISO 3166-1 alpha-2 code to keep only that country's installations.

    Returns
    -------
    DataFrame
        Typed ``sensitive_sites`` rows (a copy; change it freely).
    """
    df = _installations()
    if country is not None:
        df = df[(df["country"] == str(country).strip().upper()).to_numpy(dtype=bool, na_value=False)]
    return df.reset_index(drop=True).copy()
