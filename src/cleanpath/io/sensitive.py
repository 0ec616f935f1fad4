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

Geometry is checked before anything is stored, in both formats, by the package's one validator
(:func:`cleanpath.geo.parse_area`): unclosed rings, rings of fewer than four positions,
self-intersecting rings (bow-ties), holes lying outside their polygon, coordinates out of range
(latitude 95), WKT or other text that is not GeoJSON, missing or unsupported geometry and empty
collections are problems naming the file, the line (GeoJSON: the feature number, 1-based, with a
reason starting ``feature N``), the column and the value. Rings that cross the antimeridian
without being cut are read the short way across, and rings round a pole hold that pole. A CSV
``geometry`` cell holds GeoJSON text; a row with one and no ``lat``/``lon`` gets a point inside.
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
from cleanpath.geo.geometry import Area, GeometryError, parse_area, parse_areas
from cleanpath.io.guard import (InputFile, check_text, check_tree_size, expand_paths,
                                 json_tree_estimate, read_input)
from cleanpath.io.registry import Imported, as_paths
from cleanpath.io.tables import read_csv_bytes
from cleanpath.model.schema import SENSITIVE_SITES
from cleanpath.model.validate import Source, coerce_table

DEFAULT_KIND = "military"
DEFAULT_RADIUS_M = 5000.0
#: Path of the shipped installations inside the package.
INSTALLATIONS_RESOURCE = ("sensitive", "us_military_installations.csv")

#: Latin letters that Unicode does not decompose into a base letter and an accent.
_NO_DECOMPOSITION = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
                     "ı": "i", "ħ": "h"}
_GEOJSON_SUFFIXES = (".geojson", ".json", ".geojson.gz", ".json.gz")


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
    sub = _subset_source(src, rows)
    return _check_geometry_column(out.iloc[rows].reset_index(drop=True), sub, f.label), sub


# --- geometry (one validator: cleanpath.geo) --------------------------------------------------

class _Bad(Exception):
    """A problem with one feature (reason, value, column)."""

    def __init__(self, reason: str, value: Any = None, column: str = "geometry"):
        super().__init__(reason)
        self.reason, self.value, self.column = reason, value, column


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _short(v: Any) -> str:
    s = json.dumps(v) if not isinstance(v, str) else v
    return s if len(s) <= 80 else s[:77] + "..."


def area_point_and_radius(area: Area) -> tuple[float, float, float]:
    """(lat, lon, radius_m) for consumers that only read circles: a point inside the area
    (:meth:`Area.representative_point`) and the radius round it that holds the whole area."""
    lat, lon = area.representative_point()
    return lat, lon, float(math.ceil(area.enclosing_radius_m(lat, lon)))


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
        if abs(coords[1]) > 90:
            raise _Bad(f"{where}, Point: latitude {coords[1]:g} outside -90..90 (GeoJSON positions put "
                       "longitude first)", _short(coords))
        if abs(coords[0]) > 180:
            raise _Bad(f"{where}, Point: longitude {coords[0]:g} outside -180..180", _short(coords))
        return float(coords[1]), float(coords[0]), None, None
    if gtype not in ("Polygon", "MultiPolygon"):
        raise _Bad(f"{where}: geometry type {gtype!r} is not supported; use Point, Polygon or MultiPolygon",
                   gtype)
    # The package's one validator (closed rings, ranges, no self-intersection, holes inside
    # shells; rings across the antimeridian read the short way, rings round a pole closed there).
    try:
        area = parse_area({"type": gtype, "coordinates": coords})
    except GeometryError as e:
        raise _Bad(f"{where}: {e.reason}", _short(e.value if e.value is not None else coords)) from None
    lat, lon, radius = area_point_and_radius(area)
    text = json.dumps({"type": gtype, "coordinates": coords}, separators=(",", ":"))
    return lat, lon, text, radius


def _check_geometry_column(out: pd.DataFrame, src: Source, label: str) -> pd.DataFrame:
    """Validate a CSV's ``geometry`` texts (GeoJSON only) and fill blank positions from them.

    Every bad text is a problem naming file, line, column ``geometry``, the value and the
    reason; nothing is stored. A row with an area and no ``lat``/``lon`` gets a point inside the
    area (the area replaces the radius wherever it is used).
    """
    texts = out["geometry"].astype(object).where(out["geometry"].notna(), None).tolist()
    if not any(t is not None for t in texts):
        return out
    areas = parse_areas(texts, file=label, lines=src.line_of(np.arange(len(out))), column="geometry")
    out = out.copy()
    for i, area in enumerate(areas):  # one row per sensitive site with an area: thousands at most
        if area is None:
            continue
        lat, lon = area.representative_point()
        if out["lat"].iat[i] is None or out["lon"].iat[i] is None:
            out.iat[i, out.columns.get_loc("lat")] = repr(lat)
            out.iat[i, out.columns.get_loc("lon")] = repr(lon)
    return out


# --- GeoJSON features ---------------------------------------------------------------------------

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
    check_tree_size(f, json_tree_estimate(f.data), what="GeoJSON")
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
        CSV files (``sensitive_sites`` columns, or the installations shape), GeoJSON files,
        GeoPackage, Shapefile (``.shp`` with its companions, or zipped) and KML/KMZ files (read by
        :mod:`cleanpath.io.geofiles`), or directories of them.
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
    from cleanpath.io import geofiles  # GeoPackage, Shapefile, KML (pyogrio)

    files = [p for p in files if not geofiles.is_sidecar(p, files)]
    for p in files:
        try:
            if geofiles.is_geofile(p):
                df, src = geofiles.read_geofile(p, kind=kind, radius_m=radius_m, country=country,
                                                warnings=warnings)
            else:
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
