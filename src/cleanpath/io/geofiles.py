"""Sensitive sites from GIS files: GeoPackage, Shapefile (plain or zipped) and KML, through pyogrio.

Analysts keep bases, embassies and exclusion zones as map layers, not CSV. Each feature of every
layer becomes a ``sensitive_sites`` row exactly as a GeoJSON feature does in
:mod:`cleanpath.io.sensitive` (same properties, same defaults, same rules): a Point is a site with
a radius, a (Multi)Polygon an area checked by the package's one geometry validator
(:func:`cleanpath.geo.parse_area`: closed rings, no self-intersection, holes inside their shell,
coordinates in range, antimeridian and poles).

Reading goes through GDAL (pyogrio) from bytes already read by :func:`cleanpath.io.guard.read_input`
(regular files only, size limits; a zipped Shapefile's directory is checked for bombs first), so
a device, a FIFO or a huge file is refused before GDAL sees it. Geometries arrive as WKB and are
decoded here with numpy (no shapely). Attribute names are matched case-insensitively (KML's
``Name`` is ``name``).

Positions must be WGS84 longitude/latitude: a layer in another CRS (a German UTM
``EPSG:25832`` GeoPackage, say) is refused with the command that reprojects it, as reading
metres as degrees would be silently wrong.

Problems name the file and layer (``zones.gpkg:bases``), the feature (1-based, as ``line``, with a
reason starting ``feature N``) and the field.
"""

from __future__ import annotations

import io
import math
import struct
import warnings as _warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.io import guard
from cleanpath.io.guard import InputFile, read_input
from cleanpath.model.schema import SENSITIVE_SITES
from cleanpath.model.validate import Source, coerce_table

#: File names read by this module (lower case).
GEO_SUFFIXES = (".gpkg", ".shp", ".shp.zip", ".kml", ".kmz")
#: Files that belong to a Shapefile next to its ``.shp`` (skipped when a directory is imported).
SIDECAR_SUFFIXES = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd", ".shp.xml")
#: CRS names read as WGS84 longitude/latitude.
WGS84 = ("EPSG:4326", "OGC:CRS84", "EPSG:4979", "EPSG:4258")

_WKB_TYPES = {1: "Point", 2: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
              6: "MultiPolygon", 7: "GeometryCollection"}


def is_geofile(path: str | Path) -> bool:
    """True for the files this module reads (by name)."""
    name = str(path).lower()
    return name.endswith(GEO_SUFFIXES) or (name.endswith(".zip") and _zip_has_shp(Path(path)))


def _zip_has_shp(p: Path) -> bool:
    try:
        with zipfile.ZipFile(p) as z:
            return any(n.lower().endswith(".shp") for n in z.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def is_sidecar(path: Path, files: list[Path]) -> bool:
    """A Shapefile's companion (``.dbf``, ``.shx``...) whose ``.shp`` is among ``files``."""
    name = path.name.lower()
    for suf in SIDECAR_SUFFIXES:
        if name.endswith(suf):
            stem = path.name[: -len(suf)]
            return any(q.parent == path.parent and q.name.lower() == (stem + ".shp").lower() for q in files)
    return False


# --- WKB ------------------------------------------------------------------------------------------

class _WkbError(ValueError):
    pass


def _wkb(buf: bytes, pos: int) -> tuple[dict, int]:
    """Decode one WKB (ISO or EWKB, 2-4 dimensions) geometry at ``pos``; returns it as GeoJSON."""
    if pos + 5 > len(buf):
        raise _WkbError("truncated WKB")
    order = "<" if buf[pos] == 1 else ">"
    (code,) = struct.unpack_from(order + "I", buf, pos + 1)
    pos += 5
    has_z = bool(code & 0x80000000)
    has_m = bool(code & 0x40000000)
    if code & 0x20000000:  # EWKB SRID
        pos += 4
    code &= 0x0FFFFFFF
    base, iso = code % 1000, code // 1000
    has_z |= iso in (1, 3)
    has_m |= iso in (2, 3)
    dims = 2 + has_z + has_m
    gtype = _WKB_TYPES.get(base)
    if gtype is None:
        return {"type": f"WKB type {code}"}, len(buf)  # curves, TINs...: refused by name
    dt = np.dtype(order + "f8")

    def points(pos: int) -> tuple[list, int]:
        (n,) = struct.unpack_from(order + "I", buf, pos)
        pos += 4
        end = pos + n * dims * 8
        if end > len(buf):
            raise _WkbError("truncated WKB")
        xy = np.frombuffer(buf, dt, n * dims, pos).reshape(n, dims)[:, :2]
        return xy.tolist(), end

    if gtype == "Point":
        xy = np.frombuffer(buf, dt, dims, pos)[:2]
        pos += dims * 8
        return {"type": "Point", "coordinates": xy.tolist()}, pos
    if gtype == "LineString":
        coords, pos = points(pos)
        return {"type": gtype, "coordinates": coords}, pos
    if gtype == "Polygon":
        (nr,) = struct.unpack_from(order + "I", buf, pos)
        pos += 4
        rings = []
        for _ in range(nr):  # rings of one polygon: a handful
            ring, pos = points(pos)
            rings.append(ring)
        return {"type": gtype, "coordinates": rings}, pos
    (n,) = struct.unpack_from(order + "I", buf, pos)
    pos += 4
    parts = []
    for _ in range(n):
        part, pos = _wkb(buf, pos)
        parts.append(part)
    if gtype == "GeometryCollection":
        return {"type": gtype, "geometries": parts}, pos
    return {"type": gtype, "coordinates": [p.get("coordinates") for p in parts]}, pos


def wkb_to_geojson(data: bytes | None) -> dict | None:
    """A GeoJSON geometry object from WKB (None for a missing geometry).

    Points, polygons and their multi forms keep their coordinates (Z and M dropped); other
    types come back with their name so the caller can refuse them by name.
    """
    if data is None:
        return None
    try:
        geom, _ = _wkb(bytes(data), 0)
    except (_WkbError, struct.error) as e:
        raise _WkbError(f"unreadable geometry ({e})") from None
    if geom["type"] == "Point" and not all(map(math.isfinite, geom["coordinates"])):
        return None  # an empty point (NaN coordinates)
    return geom


# --- reading ----------------------------------------------------------------------------------------

def _bytes_of(path: Path) -> tuple[InputFile, str]:
    """The bytes GDAL reads (guarded) and the driver's view of them.

    A ``.shp`` needs its ``.shx`` and ``.dbf`` next to it: the set is packed into an in-memory zip
    (each member read through the guard), which GDAL reads as a zipped Shapefile.
    """
    name = path.name.lower()
    if name.endswith(".shp"):
        buf = io.BytesIO()
        budget = guard.MAX_INPUT_BYTES
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            stem = path.name[:-4]
            found = {q.name.lower(): q for q in path.parent.iterdir() if q.name.lower().startswith(stem.lower() + ".")}
            for suf in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                q = found.get((stem + suf).lower())
                if q is None:
                    if suf in (".shx", ".dbf"):
                        raise ValidationError(Problem(f"the Shapefile's {suf} file is missing next to it "
                                                      f"(a Shapefile is .shp + .shx + .dbf; zip them together)",
                                                      str(path)))
                    continue
                f = read_input(q, limit=budget)
                budget -= len(f.data)
                z.writestr(stem + suf, f.data)
        return InputFile(str(path), buf.getvalue()), "shapefile"
    if name.endswith(".kmz"):
        # a KMZ is a zip that GDAL inflates itself: refuse bombs first, as for any archive
        for _member in guard.zip_members(path):
            pass
    elif name.endswith(".zip"):
        # Checked for bombs (declared sizes, ratio, real sizes) by reading it through the guard.
        for _member in guard.zip_members(path):
            pass
        return read_input(path), "shapefile"
    return read_input(path), "kml" if name.endswith((".kml", ".kmz")) else "gis"


def _layers(f: InputFile) -> list[tuple[str, str | None]]:
    """(name, geometry type) of every layer; the type is None for a table without geometry."""
    import pyogrio
    from pyogrio.errors import DataSourceError

    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's notes about in-memory names
            return [(str(n), t) for n, t in pyogrio.list_layers(io.BytesIO(f.data))]
    except DataSourceError as e:
        raise ValidationError(Problem(f"not a readable GeoPackage, Shapefile or KML file ({e})", f.label)) from None


def _prop_text(v: Any) -> Any:
    """An attribute as the GeoJSON reader would see it (NaN and NaT are missing)."""
    if v is None:
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (np.datetime64,)) or str(v) == "NaT":
        return None
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _read_layer(f: InputFile, layer: str, label: str, kind, radius_m, country,
                problems: ProblemCollector, warnings: list[str]) -> tuple[pd.DataFrame, np.ndarray] | None:
    import pyogrio.raw
    from pyogrio.errors import CRSError, DataLayerError, DataSourceError, FeatureError, FieldError
    from pyogrio.errors import GeometryError as OgrGeometryError

    from cleanpath.io.sensitive import _Bad, _feature_row

    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore", RuntimeWarning)
            meta, _fids, geoms, fields = pyogrio.raw.read(io.BytesIO(f.data), layer=layer)
    except (DataSourceError, DataLayerError, FeatureError, FieldError, OgrGeometryError, CRSError) as e:
        problems.add(f"cannot read the layer ({e})", file=label)
        return None
    crs = meta.get("crs")
    if crs is None:
        warnings.append(f"{label}: the layer declares no CRS; positions read as WGS84 longitude/latitude")
    elif str(crs).upper() not in WGS84:
        problems.add(f"the layer's positions are in {crs}, not WGS84 longitude/latitude; reproject it first "
                     f"(ogr2ogr -t_srs EPSG:4326 out{Path(f.label).suffix} {Path(f.label).name})",
                     file=label, column="crs", value=str(crs))
        return None
    names = [str(n) for n in meta["fields"]]
    lower = {}
    for j, n in enumerate(names):
        lower.setdefault(n.strip().lower(), j)  # the first of two fields differing only by case
    wanted = {c: lower[c] for c in SENSITIVE_SITES.column_names if c in lower and c != "geometry"}
    unused = [n for n in names if n.strip().lower() not in wanted
              and n.strip().lower() not in ("id", "description", "timestamp", "begin", "end", "altitudemode",
                                             "tessellate", "extrude", "visibility", "draworder", "icon")]
    if unused:
        warnings.append(f"{label}: ignored field(s) not in the sensitive_sites schema: {', '.join(unused[:20])}")
    n = len(geoms)
    if n == 0:
        problems.add("the layer has no features", file=label)
        return None
    cols = {c: fields[j] for c, j in wanted.items()}
    rows = []
    for i in range(n):  # one feature per sensitive site: thousands at most
        props = {c: _prop_text(v[i]) for c, v in cols.items()}
        try:
            geom = wkb_to_geojson(geoms[i])
        except ValueError as e:
            problems.add(f"feature {i + 1}: {e}", file=label, line=i + 1, column="geometry")
            continue
        try:
            rows.append(_feature_row({"type": "Feature", "properties": props, "geometry": geom}, i + 1))
        except _Bad as bad:
            problems.add(bad.reason, file=label, line=i + 1, column=bad.column, value=bad.value)
            if problems.full:
                break
    if len(rows) != n:
        return None
    return pd.DataFrame(rows, columns=SENSITIVE_SITES.column_names, dtype=object), np.arange(1, n + 1)


def read_geofile(path: str | Path, *, kind=None, radius_m=None, country=None,
                 warnings: list[str] | None = None) -> tuple[pd.DataFrame, Source]:
    """Read every layer of a GeoPackage, Shapefile (``.shp``, ``.shp.zip``, ``.zip``) or KML file.

    Parameters
    ----------
    path
        The file (a ``.shp`` with its ``.shx`` and ``.dbf`` next to it).
    kind, radius_m, country
        Defaults for what features do not say (see :func:`cleanpath.io.sensitive.import_sensitive`).
    warnings
        Receives notes (ignored fields, a layer without CRS, skipped countries).

    Returns
    -------
    (DataFrame, Source)
        Typed ``sensitive_sites`` rows; the source maps rows to ``file:layer`` and feature numbers.

    Raises
    ------
    ValidationError
        Every problem (up to 100), each naming file and layer, feature (as line) and field.
    """
    from cleanpath.io.sensitive import _fill_defaults, _keep_country

    warnings = warnings if warnings is not None else []
    p = Path(path)
    f, how = _bytes_of(p)
    listed = _layers(f)
    # attribute-only tables (a GeoPackage may hold some) have no sites to give
    layers = [name for name, gtype in listed if gtype is not None]
    skipped = [name for name, gtype in listed if gtype is None]
    if skipped:
        warnings.append(f"{f.label}: layer(s) without geometry skipped: {', '.join(skipped)}")
    if not layers:
        raise ValidationError(Problem("the file has no layer with geometry", f.label))
    problems = ProblemCollector(f.label)
    frames, labels, lines = [], [], []
    for layer in layers:
        # a Shapefile is one layer named after the file: the file says it all
        label = f.label if how == "shapefile" and len(layers) == 1 else f"{f.label}:{layer}"
        got = _read_layer(f, layer, label, kind, radius_m, country, problems, warnings)
        if got is None:
            continue
        raw, feature_no = got
        out = _fill_defaults(raw, kind=kind, radius_m=radius_m, country=country, source=p.name)
        keep = _keep_country(out, country, label, warnings)
        frames.append(out.iloc[keep].reset_index(drop=True))
        labels += [label] * len(keep)
        lines.append(feature_no[keep])
    problems.raise_if_any()
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SENSITIVE_SITES.column_names)
    line_arr = np.concatenate(lines) if lines else np.empty(0, np.int64)
    label_arr = np.asarray(labels, dtype=object)
    src = Source(f.label, lambda r: line_arr[np.asarray(r, dtype=np.int64)],
                 file_of=lambda r: label_arr[np.asarray(r, dtype=np.int64)].tolist())
    typed_problems = ProblemCollector(f.label)
    typed = coerce_table(SENSITIVE_SITES, table, src, typed_problems)
    if typed_problems:
        typed_problems.problems = sorted(
            (Problem(pr.reason if pr.reason.startswith("feature ") else f"feature {pr.line}: {pr.reason}",
                     pr.file, pr.line, pr.column, pr.value) for pr in typed_problems.problems),
            key=lambda pr: (pr.file or "", pr.line or 0))
        typed_problems.raise_if_any()
    return typed, src
