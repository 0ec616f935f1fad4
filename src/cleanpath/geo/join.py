"""The spatial join: which points lie in which zone, and which point is nearest each zone.

Measured fastest on this machine (bench/bench_exposure.py): a grid-key equi-join in plain DuckDB
SQL followed by the exact haversine test. Zones (circles and polygons) list the grid cells they
touch (numpy, a few thousand rows); points get one cell key each inside the query; DuckDB hashes
the small side and streams the points through it on every core, so the points may be an in-memory
Arrow table or Parquet files read in row groups, never wholly in memory. Polygon zones take the
same join to their bounding box, then :meth:`cleanpath.geo.geometry.Area.contains` on the
candidates.

Nothing here depends on DuckDB's spatial extension, which cannot be installed offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from typing import Sequence

import duckdb
import numpy as np
import pyarrow as pa

from cleanpath.errors import ProblemCollector
from cleanpath.geo.geometry import EDGE_EPS_DEG, Area
from cleanpath.geo.grid import CELLS_PER_RADIUS, Grid, choose_cell_m
from cleanpath.geo.sphere import (DEG, EARTH_RADIUS_M, HAVERSINE_H_SQL, MAX_DISTANCE_M,
                                  RADIUS_TOLERANCE_M, cap_boxes, distance_of_h_sql, h_of_distance,
                                  haversine_h, haversine_h_sql, haversine_terms_sql)

_names = count()


@dataclass(frozen=True)
class Zones:
    """Areas around sensitive sites: a circle around a point, or a GeoJSON (multi)polygon.

    Attributes
    ----------
    lat, lon
        Reference point of each zone (degrees). Nearest distances of circles are measured from
        it, of areas from the area's edge (0 inside).
    radius_m
        Circle radius (metres); ignored for zones with an area.
    areas
        Parsed polygon per zone, or None for a circle.
    """

    lat: np.ndarray
    lon: np.ndarray
    radius_m: np.ndarray
    areas: tuple[Area | None, ...]

    @classmethod
    def build(cls, lat, lon, radius_m, areas: Sequence[Area | None] | None = None, *,
              file: str | None = None, lines: Sequence[int] | None = None) -> "Zones":
        """Check and assemble zones.

        Raises
        ------
        ValidationError
            For latitudes outside -90..90, longitudes outside -180..180 and negative or missing
            radii of circle zones, naming the file, line and column.
        """
        lat = np.asarray(lat, dtype="float64")
        lon = np.asarray(lon, dtype="float64")
        rad = np.broadcast_to(np.asarray(radius_m, dtype="float64"), lat.shape).copy()
        areas = tuple(areas) if areas is not None else (None,) * lat.size
        is_area = np.array([a is not None for a in areas], dtype=bool)
        problems = ProblemCollector(file)
        where = np.arange(lat.size) + 1 if lines is None else np.asarray(lines)
        for col, bad, reason in (
            ("lat", ~(np.abs(lat) <= 90.0), "latitude must be a number in -90..90"),
            ("lon", ~(np.abs(lon) <= 180.0), "longitude must be a number in -180..180"),
            ("radius_m", ~is_area & ~((rad >= 0) & np.isfinite(rad)),
             "radius must be a non-negative number of metres"),
        ):
            vals = {"lat": lat, "lon": lon, "radius_m": rad}[col]
            for i in np.flatnonzero(bad)[:100]:
                problems.add(reason, line=int(where[i]), column=col, value=vals[i])
        problems.raise_if_any()
        rad[is_area] = np.nan
        return cls(lat, lon, rad, areas)

    def __len__(self) -> int:
        return int(self.lat.size)

    @property
    def is_area(self) -> np.ndarray:
        return np.array([a is not None for a in self.areas], dtype=bool)

    def subset(self, idx: np.ndarray) -> "Zones":
        idx = np.asarray(idx)
        return Zones(self.lat[idx], self.lon[idx], self.radius_m[idx], tuple(self.areas[i] for i in idx))

    def extents_m(self) -> np.ndarray:
        """Radius of circles; half the bounding-box diagonal of polygons (for sizing the grid)."""
        ext = self.radius_m.copy()
        for i in np.flatnonzero(self.is_area):
            lo, hi, wlo, whi = (v for v in self.areas[i].boxes())
            h = np.radians(hi.max() - lo.min()) * EARTH_RADIUS_M
            w = np.radians(whi.max() - wlo.min()) * EARTH_RADIUS_M * np.cos(np.radians(lo.min() / 2 + hi.max() / 2))
            ext[i] = 0.5 * float(np.hypot(h, w))
        return ext

    def boxes(self, margin_m: float = 0.0) -> tuple[np.ndarray, ...]:
        """Bounding boxes of every zone, grown by ``margin_m``.

        Returns
        -------
        owner, lat_lo, lat_hi, lon_lo, lon_hi
            A circle has one box (its cap's); a polygon one per part, plus a cap of radius
            ``margin_m`` around its reference point when a margin is asked for.
        """
        from cleanpath.geo.sphere import expand_boxes

        circ = np.flatnonzero(~self.is_area)
        parts = [(circ, *cap_boxes(self.lat[circ], self.lon[circ],
                                   self.radius_m[circ] + RADIUS_TOLERANCE_M + margin_m))]
        for i in np.flatnonzero(self.is_area):
            lo, hi, wlo, whi = self.areas[i].boxes()
            e = EDGE_EPS_DEG
            lo, hi, wlo, whi = lo - e, hi + e, wlo - e, whi + e
            if margin_m > 0:
                lo, hi, wlo, whi = expand_boxes(lo, hi, wlo, whi, margin_m)
                parts.append((np.array([i]), *cap_boxes(self.lat[i:i + 1], self.lon[i:i + 1], margin_m)))
            parts.append((np.full(lo.size, i), lo, hi, wlo, whi))
        return tuple(np.concatenate([p[k] for p in parts]) for k in range(5))


def connect(*, threads: int | None = None, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for spatial work.

    Parameters
    ----------
    threads
        Worker threads (default: every core). Executors running one task per core pass 1.
    memory_limit
        DuckDB's memory limit, e.g. ``"2GB"``; above it joins and aggregates spill to disk.
    """
    # No progress bar: DuckDB draws it on stdout, which belongs to the result (--format json).
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    con.execute("SET preserve_insertion_order = false")  # lets scans and joins stream in parallel
    return con


def fetch(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> pa.Table:
    """A query's result as an Arrow table."""
    rel = con.sql(query, params=params) if params else con.sql(query)
    out = (getattr(rel, "to_arrow_table", None) or rel.arrow)()  # the name differs across DuckDB versions
    return out if isinstance(out, pa.Table) else out.read_all()


def _inner_cells(zones: Zones, grid: Grid, owner: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Whether each (zone, cell) has the whole cell inside the zone's circle.

    The farthest point of a latitude/longitude cell from any point is one of its corners (along a
    meridian the distance has no interior maximum, along a parallel it grows with the longitude
    difference), so four corners within the radius put the whole cell within it. Points in such
    cells are counted without a distance test.
    """
    inner = np.zeros(key.size, dtype=bool)
    circ = ~zones.is_area[owner]
    if not circ.any():
        return inner
    band, col = key // grid.columns, key % grid.columns
    lat0, lon0 = band * grid.dlat - 90.0, col * grid.dlat - 180.0
    zl, zo = zones.lat[owner], zones.lon[owner]
    hmax = h_of_distance(np.nan_to_num(zones.radius_m[owner], nan=0.0))
    ok = circ.copy()
    for dl in (0.0, grid.dlat):
        for do in (0.0, grid.dlat):
            ok &= haversine_h(zl, zo, np.minimum(lat0 + dl, 90.0), lon0 + do) <= hmax
    inner[ok] = True
    return inner


def _zone_cells(zones: Zones, grid: Grid, owner: np.ndarray, key: np.ndarray, hmax: np.ndarray) -> pa.Table:
    """The build side of the join: one row per (cell, zone) with what the exact test needs."""
    lat = zones.lat[owner]
    table = pa.table({
        "key": key,
        "zone": owner.astype(np.int32),
        "zlat": lat,
        "zlon": zones.lon[owner],
        "zcos": np.cos(lat * DEG),
        "hmax": hmax[owner],
        "is_area": zones.is_area[owner],
        "inner": _inner_cells(zones, grid, owner, key),
    })
    if zones.is_area.any():
        # A polygon split in parts can list one cell twice; the join must see it once.
        order = np.lexsort((key, owner))
        k, o = key[order], owner[order]
        first = np.ones(k.size, dtype=bool)
        first[1:] = (k[1:] != k[:-1]) | (o[1:] != o[:-1])
        table = table.take(pa.array(order[first]))
    return table


class ZoneJoin:
    """Pairs (zone, point) with the point inside the zone, as a SQL relation over a DuckDB connection.

    Parameters
    ----------
    con
        The connection the point relation lives in.
    zones
        The zones.
    grid
        Grid to join on; default sized from the zones' extents.
    per_radius
        Grid cells per typical radius when ``grid`` is not given (see
        :data:`cleanpath.geo.grid.CELLS_PER_RADIUS`).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, zones: Zones, grid: Grid | None = None, *,
                 per_radius: float = CELLS_PER_RADIUS):
        self.con = con
        self.zones = zones
        self.grid = grid or Grid.for_cell(choose_cell_m(zones.extents_m(), per_radius))
        self.name = f"_zc{next(_names)}"
        owner, lat_lo, lat_hi, lon_lo, lon_hi = zones.boxes()
        box_owner, key = self.grid.cover_boxes(lat_lo, lat_hi, lon_lo, lon_hi)
        hmax = h_of_distance(np.nan_to_num(zones.radius_m, nan=0.0) + RADIUS_TOLERANCE_M)
        self.cells = _zone_cells(zones, self.grid, owner[box_owner], key, hmax)
        con.register(self.name, self.cells)

    def candidates_sql(self, points: str, columns: Sequence[str], *, areas: bool) -> str:
        """Point-zone pairs sharing a grid cell: circle zones already filtered exactly (columns
        ``zone`` and ``columns``), or the raw candidates of polygon zones (with ``h`` and
        ``dist_m``, the distance from the zone's reference point)."""
        cols = ", ".join(f"p.{c}" for c in columns)
        join = f"FROM ({points}) p JOIN {self.name} z ON {self.grid.key_sql('p.lat', 'p.lon')} = z.key"
        if areas:
            terms = haversine_terms_sql("p.lat", "p.lon", "z.zlat", "z.zlon", coslat2="z.zcos")
            return (f"SELECT zone, {distance_of_h_sql('h')} AS dist_m, * EXCLUDE (zone, _a, _b, _c) FROM ("
                    f"SELECT {HAVERSINE_H_SQL} AS h, * FROM (SELECT z.zone, {terms}, {cols} {join} WHERE z.is_area))")
        # Points in cells wholly inside the circle pass without a distance test: DuckDB evaluates
        # the right side of an OR in a filter only on the rows the left side did not pass, so
        # their sines are never computed.
        h = haversine_h_sql("p.lat", "p.lon", "z.zlat", "z.zlon", coslat2="z.zcos")
        return f"SELECT z.zone, {cols} {join} WHERE NOT z.is_area AND (z.inner OR {h} <= z.hmax)"

    def _area_pairs(self, points: str, cols: list[str]) -> str | None:
        """Register the polygon zones' pairs (candidates kept by :meth:`Area.contains`); their name."""
        if not self.zones.is_area.any():
            return None
        cand = fetch(self.con, self.candidates_sql(points, cols, areas=True))
        keep = np.zeros(cand.num_rows, dtype=bool)
        if cand.num_rows:
            zone = cand.column("zone").to_numpy()
            lat = cand.column("lat").to_numpy()
            lon = cand.column("lon").to_numpy()
            order = np.argsort(zone, kind="stable")
            bounds = np.flatnonzero(np.diff(zone[order])) + 1
            for idx in np.split(order, bounds):  # one polygon at a time; rows vectorised
                keep[idx] = self.zones.areas[int(zone[idx[0]])].contains(lat[idx], lon[idx])
        name = f"{self.name}_in"
        self.con.register(name, cand.filter(pa.array(keep)))
        return name

    def weighted_sql(self, points: str, keys: Sequence[str], weights: Sequence[str]) -> str:
        """Like :meth:`within_sql`, with the points of whole cells summed before they meet zones.

        A cell wholly inside a circle contributes the same points to every zone that covers it,
        so its points are summed once per cell (one pass over the points) and those sums join the
        zones, instead of one pair per (zone, point). Only cells the circle's rim crosses, and
        polygons, pair individual points with zones. In dense areas where many zones overlap this
        removes most of the per-pair work.

        Parameters
        ----------
        points
            SQL of the point relation, with ``lat``, ``lon``, ``keys`` and ``weights`` columns.
        keys
            Columns to keep apart (codes of vendor, operator...).
        weights
            Additive columns (counts, flags) to sum.

        Returns
        -------
        str
            SQL with ``zone``, ``keys`` and ``weights``; summing the weights by zone and keys
            gives what summing them over :meth:`within_sql` would.
        """
        k = ", ".join(keys)
        w = ", ".join(weights)
        sums = ", ".join(f"sum({c}) AS {c}" for c in weights)
        cells = self.cells
        inner = cells.filter(pa.compute.and_(cells.column("inner"), pa.compute.invert(cells.column("is_area"))))
        rim = cells.filter(pa.compute.invert(cells.column("inner")))
        names = {"in": f"{self.name}_inner", "rim": f"{self.name}_rim", "keys": f"{self.name}_ikeys"}
        self.con.register(names["in"], inner.select(["key", "zone"]))
        self.con.register(names["rim"], rim)
        self.con.register(names["keys"], pa.table({"key": np.unique(inner.column("key").to_numpy())}))
        key_expr = self.grid.key_sql("p.lat", "p.lon")
        h = haversine_h_sql("p.lat", "p.lon", "z.zlat", "z.zlon", coslat2="z.zcos")
        parts = [
            # Whole cells: sum the points of each cell once, then hand the sums to every zone.
            f"SELECT z.zone, {k}, {w} FROM (SELECT key, {k}, {sums} FROM (SELECT {key_expr} AS key, p.* "
            f"FROM ({points}) p) WHERE key IN (SELECT key FROM {names['keys']}) GROUP BY ALL) a "
            f"JOIN {names['in']} z USING (key)",
            # Rim cells: each point meets each zone and takes the distance test.
            f"SELECT z.zone, {', '.join('p.' + c for c in keys)}, {', '.join('p.' + c for c in weights)} "
            f"FROM ({points}) p JOIN {names['rim']} z ON {key_expr} = z.key "
            f"WHERE NOT z.is_area AND {h} <= z.hmax",
        ]
        area = self._area_pairs(points, list(dict.fromkeys(["lat", "lon", *keys, *weights])))
        if area is not None:
            parts.append(f"SELECT zone, {k}, {w} FROM {area}")
        return " UNION ALL ".join(parts)

    def within_sql(self, points: str, columns: Sequence[str]) -> str:
        """SQL of every (zone, point) pair with the point in the zone (inclusive boundaries).

        Parameters
        ----------
        points
            SQL of the point relation; it must have ``lat`` and ``lon`` columns (degrees).
        columns
            Point columns to carry into the pairs (``lat`` and ``lon`` must be among them if the
            caller needs them).

        Returns
        -------
        str
            SQL with columns ``zone`` (index into the zones) and ``columns``. When polygon zones
            exist their candidates are fetched, tested with :meth:`Area.contains` and registered,
            so the point relation is scanned twice.
        """
        cols = list(dict.fromkeys(["lat", "lon", *columns]))
        circles = self.candidates_sql(points, cols, areas=False)
        name = self._area_pairs(points, cols)
        return circles if name is None else f"{circles} UNION ALL SELECT zone, {', '.join(cols)} FROM {name}"


def distance_of_h(h) -> np.ndarray:
    """Metres from haversine values (the conversion every nearest distance goes through)."""
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(np.asarray(h, dtype="float64"), 1.0)))


def nearest(con: duckdb.DuckDBPyConnection, points: str, lat: np.ndarray, lon: np.ndarray, *,
            start_m: float, max_m: float = MAX_DISTANCE_M, areas: Sequence[Area | None] | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nearest point to each location (or area), by widening searches.

    Locations with an area measure from the area's edge, 0 inside (:meth:`Area.distance_m`),
    not from their reference point; the rest from their point.

    Level k searches every point within ``start_m * 4**k`` of the still unresolved locations (same
    grid join, exact haversine); a location is resolved as soon as any point is found, since every
    closer point was a candidate too. Ties go to the smaller ``pid``.

    Parameters
    ----------
    con
        Connection holding the point relation.
    points
        SQL of the points, with ``pid`` (int64), ``lat``, ``lon``.
    lat, lon
        Locations (degrees).
    start_m
        Radius of the first search.
    max_m
        Give up beyond this distance (the point set may only be complete up to it).

    Returns
    -------
    h, pid, resolved
        Haversine value of the distance as DuckDB computed it (NaN where none was found within
        ``max_m``; metres are :func:`distance_of_h` of it), point id (-1 where none), and whether
        the location's answer is final.
    """
    n = lat.size
    best_h = np.full(n, np.nan)
    pid = np.full(n, -1, dtype=np.int64)
    todo = np.arange(n)
    if n and not con.execute(f"SELECT EXISTS (SELECT 1 FROM ({points}))").fetchall()[0][0]:
        todo = todo[:0]  # no points at all: nothing to search for
    if areas is not None and todo.size:
        is_area = np.array([a is not None for a in areas], dtype=bool)
        if is_area.any():
            _nearest_to_areas(con, points, np.flatnonzero(is_area), areas, best_h, pid,
                              start_m=start_m, max_m=max_m)
            todo = todo[~is_area]
    reach = max(float(start_m), 1.0)
    while todo.size:
        reach = min(reach, max_m, MAX_DISTANCE_M)
        grid = Grid.for_cell(reach / 2.0)
        owner, key = grid.cover_caps(lat[todo], lon[todo], np.full(todo.size, reach))
        zl = lat[todo][owner]
        cells = pa.table({"key": key, "zone": todo[owner].astype(np.int64), "zlat": zl,
                          "zlon": lon[todo][owner], "zcos": np.cos(zl * DEG)})
        name = f"_nn{next(_names)}"
        con.register(name, cells)
        terms = haversine_terms_sql("p.lat", "p.lon", "z.zlat", "z.zlon", coslat2="z.zcos")
        hmax = float(h_of_distance(reach))
        res = fetch(con, f"""
            SELECT zone, min(h) AS h, arg_min(pid, struct_pack(h := h, p := pid)) AS pid FROM (
                SELECT zone, pid, {HAVERSINE_H_SQL} AS h FROM (
                    SELECT z.zone, p.pid, {terms} FROM ({points}) p
                    JOIN {name} z ON {grid.key_sql('p.lat', 'p.lon')} = z.key)
                WHERE {HAVERSINE_H_SQL} <= {hmax!r})
            GROUP BY zone""")
        con.unregister(name)
        if res.num_rows:
            z = res.column("zone").to_numpy()
            hv = res.column("h").to_numpy()
            best_h[z] = hv
            pid[z] = res.column("pid").to_numpy()
        todo = todo[np.isnan(best_h[todo])]
        if reach >= max_m or reach >= MAX_DISTANCE_M:
            break
        reach *= 4.0
    resolved = ~np.isnan(best_h) | (max_m >= MAX_DISTANCE_M)
    return best_h, pid, resolved


def _nearest_to_areas(con: duckdb.DuckDBPyConnection, points: str, which: np.ndarray,
                      areas: Sequence[Area | None], best_h: np.ndarray, pid: np.ndarray, *,
                      start_m: float, max_m: float) -> None:
    """:func:`nearest` for locations that are areas: distance to the edge, 0 inside.

    Level k takes every point in the cap holding the area grown by ``reach`` (a superset of the
    points within ``reach`` of the area), measures each candidate's distance to the area exactly
    and keeps those within ``reach``; an area is resolved once any is found, since every closer
    point was a candidate too. Fills ``best_h`` (haversine value of the distance) and ``pid``.
    """
    caps = np.array([areas[i].cap() for i in which], dtype="float64").reshape(-1, 3)
    todo = np.arange(which.size)
    reach = max(float(start_m), 1.0)
    while todo.size:
        reach = min(reach, max_m, MAX_DISTANCE_M)
        # Cells no smaller than 1/64 of the widest cap searched, so a large area lists few cells.
        grid = Grid.for_cell(max(reach / 2.0, float((caps[todo, 2] + reach).max()) / 64.0))
        owner, key = grid.cover_caps(caps[todo, 0], caps[todo, 1], caps[todo, 2] + reach)
        name = f"_na{next(_names)}"
        con.register(name, pa.table({"key": key, "zone": todo[owner].astype(np.int64)}))
        res = fetch(con, f"SELECT DISTINCT z.zone, p.pid, p.lat, p.lon FROM ({points}) p "
                         f"JOIN {name} z ON {grid.key_sql('p.lat', 'p.lon')} = z.key")
        con.unregister(name)
        if res.num_rows:
            zone = res.column("zone").to_numpy()
            ppid = res.column("pid").to_numpy()
            plat, plon = res.column("lat").to_numpy(), res.column("lon").to_numpy()
            order = np.lexsort((ppid, zone))
            bounds = np.flatnonzero(np.diff(zone[order])) + 1
            for idx in np.split(order, bounds):  # one area at a time; its candidates vectorised
                z = int(zone[idx[0]])
                d = areas[which[z]].distance_m(plat[idx], plon[idx])
                ok = np.flatnonzero(d <= reach)
                if ok.size:
                    k = ok[np.argmin(d[ok])]  # idx is sorted by pid: ties go to the smaller pid
                    best_h[which[z]] = float(h_of_distance(d[k]))
                    pid[which[z]] = int(ppid[idx[k]])
        todo = todo[np.isnan(best_h[which[todo]])]
        if reach >= max_m or reach >= MAX_DISTANCE_M:
            break
        reach *= 4.0
