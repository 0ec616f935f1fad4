"""GeoJSON areas: the package's one validator, point-in-polygon and distance to the edge.

Every "inside" in cleanpath goes through :func:`parse_area` and :class:`Area`: sensitive sites
at import (CSV ``geometry`` cells, GeoJSON files, interchange tables), the policy ``inside`` and
``near`` scopes, the sensitive-site coverage behind clean-path and outage, the outage region and
the exposure join. Measured against spherely and s2geometry in ``bench/bench_geometry.py``
(docs/benchmarks.md): exact in the lon/lat reading GeoJSON prescribes, and faster.

Semantics follow RFC 7946: positions are ``[lon, lat]`` in WGS84 degrees and an edge between two
positions is a straight line in longitude/latitude. A polygon is its first ring (the shell) minus
the others (holes); a MultiPolygon is the union of its polygons. Boundaries belong to the area
(points on an edge or a vertex are inside), matching the inclusive radius rule.

Two things RFC 7946 asks producers to avoid are still accepted, because real files contain them:

* rings that cross the antimeridian without being cut (``[179, ..], [-179, ..]``): a jump of more
  than 180 degrees between consecutive vertices is read as the short way across, and points are
  compared modulo 360 (an edge from exactly -180 to exactly 180 is the edge of a cut ring running
  round the globe along a parallel, as in a polar cap, and is kept as written);
* either winding order;
* rings that go once round a pole without being cut: they hold that pole (the one on the ring's
  side of the equator), closed through it along the seam meridian.

:meth:`Area.distance_m` is the great-circle distance to the nearest point of any ring, 0 inside:
edges are followed to :data:`DENSIFY_TOL_M` by great-circle pieces, each measured exactly.

What is refused, with the reason: WKT, invalid JSON, a type other than Polygon / MultiPolygon (a Feature
is unwrapped), empty coordinates, positions that are not two numbers, latitudes outside -90..90,
longitudes outside -180..180, rings with fewer than four positions, unclosed rings, rings enclosing
no area, self-intersecting rings (edges that cross, overlap, fold back, or touch away from their
shared vertex: bow-ties, figure eights, spikes), holes that cross their shell or lie outside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from cleanpath.errors import ProblemCollector
from cleanpath.geo.sphere import EARTH_RADIUS_M, unit_vectors

#: Points within this many degrees of an edge (about 0.1 mm) are on the boundary.
EDGE_EPS_DEG = 1e-9
#: Distances to edges follow the lon/lat-straight edge to within this many metres (see
#: :meth:`Area.distance_m`): edges are cut into great-circle pieces that stray no farther.
DENSIFY_TOL_M = 0.05
#: Most pieces one edge is cut into (an edge hugging a pole would otherwise ask for millions).
_MAX_PIECES = 1 << 17
#: Words that start a WKT text: recognised so the error can say what to give instead.
_WKT_WORDS = ("POLYGON", "MULTIPOLYGON", "POINT", "MULTIPOINT", "LINESTRING", "MULTILINESTRING",
              "GEOMETRYCOLLECTION", "SRID=")
#: Largest number of (point, edge) or (edge, edge) pairs held in memory at once.
_PAIR_CHUNK = 2_000_000


class GeometryError(ValueError):
    """One reason a GeoJSON text is not a usable area (see :func:`parse_areas` for collecting)."""

    def __init__(self, reason: str, value: Any = None):
        super().__init__(reason)
        self.reason = reason
        self.value = value


@dataclass(frozen=True)
class Area:
    """A (Multi)Polygon ready for point-in-polygon tests.

    Attributes
    ----------
    geojson
        The geometry as given (a Polygon or MultiPolygon object).
    x1, y1, x2, y2
        Every edge of every ring, longitudes unwrapped per polygon.
    part
        Index of the polygon (of a MultiPolygon) each edge belongs to.
    part_lo, part_hi
        Longitude range of each polygon; a polygon across the antimeridian may extend past ±180.
    lat_lo, lat_hi
        Latitude range of the whole area.
    """

    geojson: dict
    x1: np.ndarray
    y1: np.ndarray
    x2: np.ndarray
    y2: np.ndarray
    part: np.ndarray
    part_lo: np.ndarray
    part_hi: np.ndarray
    lat_lo: float
    lat_hi: float
    rings: tuple = field(default=(), repr=False, compare=False)
    _slabs: tuple = field(default=(), repr=False, compare=False)
    _arcs: tuple = field(default=(), repr=False, compare=False)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def parts(self) -> int:
        return int(self.part_lo.size)

    def distance_m(self, lat, lon) -> np.ndarray:
        """Great-circle distance in metres from each point to the area: 0 inside or on the boundary.

        Outside, the distance to the nearest point of any ring. Edges are straight in
        longitude/latitude (RFC 7946); for the distance each edge is cut into pieces short enough
        that the great-circle arc between a piece's ends strays at most :data:`DENSIFY_TOL_M` from
        the lon/lat line, and the distance to an arc is exact on the sphere (cross-track distance
        when the foot falls on the arc, else the nearer end). Vectorised over (point, piece) pairs
        in bounded chunks.

        Parameters
        ----------
        lat, lon
            Degrees, 1-D arrays of equal length (NaN gives NaN).

        Returns
        -------
        numpy.ndarray
            Metres, one per point.
        """
        lat = np.asarray(lat, dtype="float64").ravel()
        lon = np.asarray(lon, dtype="float64").ravel()
        out = np.full(lat.size, np.nan)
        ok = np.isfinite(lat) & np.isfinite(lon)
        if not ok.any():
            return out
        inside = np.zeros(lat.size, dtype=bool)
        inside[ok] = self.contains(lat[ok], lon[ok])
        out[inside] = 0.0
        todo = np.flatnonzero(ok & ~inside)
        if todo.size:
            out[todo] = arc_distance_m(unit_vectors(lat[todo], lon[todo]), *self._arcs,
                                       tree=self._arc_tree())
        return out

    def _arc_tree(self):
        """k-d tree over the arcs' midpoints and the longest half-arc (built on first use)."""
        tree = self._cache.get("arcs")
        if tree is None:
            from scipy.spatial import cKDTree

            a, b = self._arcs[0], self._arcs[1]
            mid = a + b
            mid /= np.linalg.norm(mid, axis=1)[:, None]
            half = float(np.arctan2(np.linalg.norm(np.cross(a, b), axis=1), np.einsum("ij,ij->i", a, b)).max()) / 2
            tree = self._cache["arcs"] = (cKDTree(mid), half)
        return tree

    def cap(self) -> tuple[float, float, float]:
        """A spherical cap holding the whole area: centre lat, lon (degrees) and radius (metres).

        The centre is the normalised mean of the boundary's unit vectors, the radius the largest
        distance from it to the (densified) boundary, grown by a hair. An area whose boundary does
        not fit in a hemisphere around that centre (or that holds a pole it does not surround) gets
        the whole sphere, so the cap is always a superset.
        """
        a = self._arcs[0]
        m = a.mean(axis=0)
        norm = float(np.linalg.norm(m))
        if norm < 1e-9:
            return 0.0, 0.0, float(np.pi * EARTH_RADIUS_M)
        c = m / norm
        ang = float(np.arccos(np.clip(a @ c, -1.0, 1.0)).max())
        lat = float(np.degrees(np.arcsin(np.clip(c[2], -1.0, 1.0))))
        lon = float(np.degrees(np.arctan2(c[1], c[0])))
        reaches_pole = (self.lat_hi >= 90.0) or (self.lat_lo <= -90.0)
        if ang >= np.pi / 2 or reaches_pole:
            return lat, lon, float(np.pi * EARTH_RADIUS_M)
        return lat, lon, float(ang * EARTH_RADIUS_M * (1 + 1e-9) + 1.0)

    def representative_point(self) -> tuple[float, float]:
        """A (lat, lon) inside the area (for consumers that only read points).

        The centroid of the largest polygon's shell in a local equal-scale plane when it lies
        inside the area, else the middle of the widest inside stretch of the centroid's parallel
        (a U-shaped area). Longitudes are wrapped into -180..180.
        """
        shells = [rings[0] for rings in self.rings]
        lat0 = float(np.mean(np.concatenate([s[:, 1] for s in shells])))
        cos0 = max(float(np.cos(np.radians(lat0))), 1e-6)
        areas = [_ring_area_centroid(s, cos0) for s in shells]
        k = int(np.argmax([a[0] for a in areas]))
        _a, cx, cy = areas[k]
        if self.contains([cy], [_wrap(cx)])[0]:
            return cy, _wrap(cx)
        rings = self.rings[k]
        ys = np.unique(np.concatenate([r[:, 1] for r in rings]))
        if np.isin(cy, ys):  # a parallel through a vertex makes the crossing count ambiguous
            j = int(np.searchsorted(ys, cy))
            cy = (cy + ys[j + 1]) / 2 if j + 1 < len(ys) else (cy + ys[j - 1]) / 2
        x0 = np.concatenate([r[:-1, 0] for r in rings]); y0 = np.concatenate([r[:-1, 1] for r in rings])
        x1 = np.concatenate([r[1:, 0] for r in rings]); y1 = np.concatenate([r[1:, 1] for r in rings])
        spans = (y0 > cy) != (y1 > cy)
        xs = np.sort(x0[spans] + (cy - y0[spans]) * (x1[spans] - x0[spans]) / (y1[spans] - y0[spans]))
        if len(xs) < 2:
            return cy, _wrap(cx)
        starts, ends = xs[0::2], xs[1::2]
        j = int(np.argmax(ends - starts[: len(ends)]))
        return float(cy), _wrap(float((starts[j] + ends[j]) / 2))

    def enclosing_radius_m(self, lat: float, lon: float) -> float:
        """Largest distance (metres) from (lat, lon) to the area's densified boundary."""
        a = self._arcs[0]
        c = unit_vectors(np.array([lat]), np.array([lon]))[0]
        return float(np.arccos(np.clip(a @ c, -1.0, 1.0)).max() * EARTH_RADIUS_M)

    def boxes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One bounding box per polygon: lat_lo, lat_hi, lon_lo, lon_hi (lon unwrapped)."""
        lo = np.full(self.parts, np.inf)
        hi = np.full(self.parts, -np.inf)
        np.minimum.at(lo, self.part, np.minimum(self.y1, self.y2))
        np.maximum.at(hi, self.part, np.maximum(self.y1, self.y2))
        return lo, hi, self.part_lo.copy(), self.part_hi.copy()

    def contains(self, lat, lon) -> np.ndarray:
        """Whether each point lies in the area or on its boundary.

        Crossing-number test per polygon (shell and holes together, so holes subtract), any
        polygon of a MultiPolygon, plus an on-edge test for the boundary. Edges are bucketed into
        latitude slabs so each point meets only the edges that span its latitude.

        Parameters
        ----------
        lat, lon
            Degrees, 1-D arrays of equal length.

        Returns
        -------
        numpy.ndarray
            Boolean, one per point.
        """
        lat = np.asarray(lat, dtype="float64").ravel()
        lon = np.asarray(lon, dtype="float64").ravel()
        n = lat.size
        out = np.zeros(n, dtype=bool)
        if n == 0:
            return out
        y0, h, start, edges = self._slabs
        nslab = start.size - 1
        cand = np.flatnonzero((lat >= self.lat_lo - EDGE_EPS_DEG) & (lat <= self.lat_hi + EDGE_EPS_DEG))
        if cand.size == 0:
            return out
        # Longitude ranges of the parts (unwrapped, so compared modulo 360): most points of a
        # latitude band lie east or west of a small area and need no edge at all.
        x = lon[cand]
        near = np.zeros(cand.size, dtype=bool)
        for lo_, hi_ in zip(self.part_lo, self.part_hi):  # parts of a MultiPolygon: a handful
            near |= np.mod(x - (lo_ - EDGE_EPS_DEG), 360.0) <= (hi_ - lo_) + 2 * EDGE_EPS_DEG
        cand = cand[near]
        if cand.size == 0:
            return out
        slab = np.clip(np.floor((lat[cand] - y0) / h), 0, nslab - 1).astype(np.int64)
        counts = start[slab + 1] - start[slab]
        # Process points in chunks so the exploded (point, edge) pairs stay bounded.
        csum = np.cumsum(counts)
        lo = 0
        while lo < cand.size:
            base = csum[lo - 1] if lo else 0
            hi = int(np.searchsorted(csum, base + _PAIR_CHUNK, side="right"))
            hi = max(hi, lo + 1)
            sel = slice(lo, hi)
            out[cand[sel]] = self._contains_chunk(lat[cand[sel]], lon[cand[sel]], slab[sel], counts[sel],
                                                  start, edges)
            lo = hi
        return out

    def _contains_chunk(self, py, px, slab, counts, start, edges) -> np.ndarray:
        m = py.size
        total = int(counts.sum())
        if total == 0:
            return np.zeros(m, dtype=bool)
        pi = np.repeat(np.arange(m), counts)
        offs = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        ei = edges[np.repeat(start[slab], counts) + offs]
        x1, y1, x2, y2 = self.x1[ei], self.y1[ei], self.x2[ei], self.y2[ei]
        part = self.part[ei]
        qy = py[pi]
        qx = px[pi]
        # Polygons that extend past ±180 see the point modulo 360, inside their own range.
        plo = self.part_lo[part]
        wrapped = (plo < -180.0) | (self.part_hi[part] > 180.0)
        qx = np.where(wrapped, plo + np.mod(qx - plo, 360.0), qx)
        with np.errstate(invalid="ignore", divide="ignore"):
            spans = (y1 > qy) != (y2 > qy)
            xcross = x1 + (qy - y1) * (x2 - x1) / (y2 - y1)
            crossing = spans & (qx < xcross)
        dx, dy = x2 - x1, y2 - y1
        cross = dx * (qy - y1) - dy * (qx - x1)
        length = np.hypot(dx, dy)
        on = ((np.abs(cross) <= EDGE_EPS_DEG * np.maximum(length, 1e-300))
              & (qx >= np.minimum(x1, x2) - EDGE_EPS_DEG) & (qx <= np.maximum(x1, x2) + EDGE_EPS_DEG)
              & (qy >= np.minimum(y1, y2) - EDGE_EPS_DEG) & (qy <= np.maximum(y1, y2) + EDGE_EPS_DEG))
        # Odd crossings of one polygon's rings (shell and holes) = inside that polygon.
        key = pi[crossing] * self.parts + part[crossing]
        uk, cnt = np.unique(key, return_counts=True)
        inside = np.zeros(m, dtype=bool)
        inside[uk[cnt % 2 == 1] // self.parts] = True
        inside[pi[on]] = True
        return inside


def _wrap(x: float) -> float:
    return float(((x + 180.0) % 360.0) - 180.0)


def _pair_angle(p, a, b, n, na, bn) -> np.ndarray:
    """Angle (radians) from unit vectors ``p`` to the arcs a->b, row by row, in well-conditioned
    forms: the cross-track angle ``asin |p . n|`` when the foot of the perpendicular falls on the
    arc (``p . na >= 0`` and ``p . bn >= 0``), else ``atan2(|p x e|, p . e)`` to the nearer end."""
    s = np.einsum("ij,ij->i", p, n)
    on = (np.einsum("ij,ij->i", p, na) >= 0.0) & (np.einsum("ij,ij->i", p, bn) >= 0.0)
    da = np.arctan2(np.linalg.norm(np.cross(p, a), axis=1), np.einsum("ij,ij->i", p, a))
    db = np.arctan2(np.linalg.norm(np.cross(p, b), axis=1), np.einsum("ij,ij->i", p, b))
    return np.where(on, np.arcsin(np.minimum(np.abs(s), 1.0)), np.minimum(da, db))


#: Above this many (point, arc) pairs the distance search prunes arcs with a k-d tree.
_BRUTE_PAIRS = 4_000_000


def arc_distance_m(p: np.ndarray, a: np.ndarray, b: np.ndarray, n: np.ndarray, na: np.ndarray,
                   bn: np.ndarray, *, tree=None) -> np.ndarray:
    """Distance in metres from each unit vector ``p`` to the nearest of the great-circle arcs a->b.

    Small problems: a coarse pass with matrix products picks each point's nearest arc (dot
    products with the arcs' normals ``n`` give the cross-track sine exactly; ``na = n x a`` and
    ``bn = b x n`` tell whether the foot of the perpendicular falls on the arc) and the chosen arc
    is measured again in well-conditioned forms (:func:`_pair_angle`).

    Large problems (many points near an outline of many edges): a k-d tree over the arcs'
    midpoints gives each point an upper bound (its 8 nearest arcs, measured exactly); an arc can
    only be nearer if its midpoint lies within that bound plus the longest half-arc, so only those
    arcs are measured. Exact either way.

    Parameters
    ----------
    p
        ``(k, 3)`` unit vectors.
    a, b, n, na, bn
        ``(m, 3)`` arc ends, unit normals ``a x b / |a x b|``, and the two side vectors.
    tree
        Optional ``(cKDTree over arc midpoints, longest half-arc in radians)`` for the pruned search.

    Returns
    -------
    numpy.ndarray
        Metres, one per point.
    """
    k, m = p.shape[0], a.shape[0]
    if tree is not None and k * m > _BRUTE_PAIRS and m > 64:
        kd, half = tree
        _d, near = kd.query(p, k=min(8, m))
        near = near.reshape(k, -1)
        rows = np.repeat(np.arange(k), near.shape[1])
        cols = near.ravel()
        bound = np.full(k, np.inf)
        np.minimum.at(bound, rows, _pair_angle(p[rows], a[cols], b[cols], n[cols], na[cols], bn[cols]))
        reach = 2.0 * np.sin(np.minimum(bound + half, np.pi) / 2.0) * (1 + 1e-9) + 1e-12
        best = bound.copy()
        cand = kd.query_ball_point(p, reach, return_sorted=False)
        sizes = np.fromiter((len(c) for c in cand), dtype=np.int64, count=k)
        rows = np.repeat(np.arange(k), sizes)
        cols = np.concatenate([np.asarray(c, dtype=np.int64) for c in cand]) if sizes.sum() else rows
        for lo in range(0, rows.size, _PAIR_CHUNK):  # candidate pairs in bounded chunks
            r, c = rows[lo:lo + _PAIR_CHUNK], cols[lo:lo + _PAIR_CHUNK]
            np.minimum.at(best, r, _pair_angle(p[r], a[c], b[c], n[c], na[c], bn[c]))
        return best * EARTH_RADIUS_M
    best = np.empty(k, dtype=np.int64)
    chunk = max(1, _PAIR_CHUNK // max(m, 1))
    for lo in range(0, k, chunk):  # chunks of points: (chunk x m) matrices stay bounded
        q = p[lo:lo + chunk]
        s = q @ n.T
        on = ((q @ na.T) >= 0.0) & ((q @ bn.T) >= 0.0)
        end = np.maximum(q @ a.T, q @ b.T)  # cosine of the nearer end's angle
        cos_or_foot = np.where(on, np.sqrt(np.maximum(1.0 - s * s, 0.0)), end)
        best[lo:lo + chunk] = np.argmax(cos_or_foot, axis=1)
    return _pair_angle(p, a[best], b[best], n[best], na[best], bn[best]) * EARTH_RADIUS_M


def _dense_arcs(x1, y1, x2, y2) -> tuple[np.ndarray, ...]:
    """Edges straight in lon/lat cut into great-circle pieces within :data:`DENSIFY_TOL_M`.

    A lon/lat-straight piece of angular length θ at latitude φ bows away from the great circle
    through its ends by at most about ``R θ² tan φ / 8``; pieces are kept short enough for that to
    stay under the tolerance (meridians need one piece). Zero-length pieces are dropped.
    """
    # Length of the lon/lat path (not of the chord between its ends: an edge along a parallel
    # from -180 to 180 has both ends at one point), bounded above on the widest parallel it meets.
    widest = np.cos(np.radians(np.minimum(np.abs(y1), np.abs(y2)) * ((y1 > 0) == (y2 > 0))))
    theta = np.hypot(np.radians(y2 - y1), np.radians(x2 - x1) * widest)
    phi = np.radians(np.minimum(np.maximum(np.abs(y1), np.abs(y2)), 89.99))
    along_meridian = x1 == x2
    with np.errstate(divide="ignore"):
        piece = np.sqrt(8.0 * DENSIFY_TOL_M / (EARTH_RADIUS_M * np.tan(phi)))
    piece = np.minimum(np.where(np.isfinite(piece), piece, np.radians(1.0)), np.radians(1.0))
    # Meridians are great circles (no bow), but every piece stays under half a degree so a k-d
    # tree over piece midpoints can prune (arc_distance_m).
    piece = np.where(along_meridian, np.radians(0.5), np.minimum(piece, np.radians(0.5)))
    pieces = np.clip(np.ceil(theta / piece), 1, _MAX_PIECES).astype(np.int64)
    e = np.repeat(np.arange(x1.size), pieces)
    t0 = (np.arange(int(pieces.sum())) - np.repeat(np.cumsum(pieces) - pieces, pieces)) / pieces[e]
    t1 = t0 + 1.0 / pieces[e]
    ax, ay = x1[e] + t0 * (x2[e] - x1[e]), y1[e] + t0 * (y2[e] - y1[e])
    bx, by = x1[e] + t1 * (x2[e] - x1[e]), y1[e] + t1 * (y2[e] - y1[e])
    a, b = unit_vectors(ay, ax), unit_vectors(by, bx)
    cr = np.cross(a, b)
    norm = np.linalg.norm(cr, axis=1)
    keep = norm > 1e-15  # pieces along a pole's "edge" or between repeated vertices have no length
    a, b, cr, norm = a[keep], b[keep], cr[keep], norm[keep]
    n = cr / norm[:, None]
    return a, b, n, np.cross(n, a), np.cross(b, n)


def _ring_area_centroid(ring: np.ndarray, cos0: float) -> tuple[float, float, float]:
    """Area and centroid (lon, lat) of a ring in a local equal-scale plane (x = lon * cos(lat0))."""
    # Relative to the first vertex: absolute degrees would cancel away most of the precision.
    x0, y0 = ring[0, 0], ring[0, 1]
    x, y = (ring[:, 0] - x0) * cos0, ring[:, 1] - y0
    cr = x[:-1] * y[1:] - x[1:] * y[:-1]
    a = cr.sum() / 2
    if a == 0:
        return 0.0, float(ring[:-1, 0].mean()), float(ring[:-1, 1].mean())
    cx = ((x[:-1] + x[1:]) * cr).sum() / (6 * a)
    cy = ((y[:-1] + y[1:]) * cr).sum() / (6 * a)
    return abs(float(a)), float(x0 + cx / cos0), float(y0 + cy)


# -- parsing ---------------------------------------------------------------------------------------

def _ring_array(ring: Any, where: str) -> np.ndarray:
    if not isinstance(ring, list) or not ring:
        raise GeometryError(f"{where} is empty or not a list of positions")
    for pos in ring:
        if (not isinstance(pos, list) or len(pos) < 2
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in pos[:2])):
            raise GeometryError(f"{where}: every position must be [lon, lat] numbers", pos)
    arr = np.array([p[:2] for p in ring], dtype="float64")
    if not np.isfinite(arr).all():
        raise GeometryError(f"{where}: coordinates must be finite numbers")
    bad_lat = np.flatnonzero(np.abs(arr[:, 1]) > 90.0)
    if bad_lat.size:
        raise GeometryError(f"{where}: latitude {arr[bad_lat[0], 1]:g} outside -90..90 "
                            "(positions are [lon, lat])", ring[bad_lat[0]])
    bad_lon = np.flatnonzero(np.abs(arr[:, 0]) > 180.0)
    if bad_lon.size:
        raise GeometryError(f"{where}: longitude {arr[bad_lon[0], 0]:g} outside -180..180", ring[bad_lon[0]])
    if len(arr) < 4:
        raise GeometryError(f"{where} has {len(arr)} positions; a ring needs at least 4 (closed)")
    if not np.array_equal(arr[0], arr[-1]):
        raise GeometryError(f"{where} is not closed: its last position must repeat the first",
                            ring[-1])
    return arr


def _unwrap(arr: np.ndarray, where: str) -> np.ndarray:
    """Read a ring that jumps across the antimeridian the short way round."""
    x = arr[:, 0]
    dx = np.diff(x)
    jump = np.abs(dx) > 180.0
    if not jump.any():
        return arr
    # An edge from exactly -180 to exactly 180 runs along a parallel round the whole globe: the
    # ring is cut at the antimeridian (RFC 7946, e.g. a polar cap): keep it as written.
    round_globe = (np.abs(x[:-1]) == 180.0) & (np.abs(x[1:]) == 180.0) & (np.abs(dx) == 360.0)
    if round_globe.any():
        return arr
    # Whole turns added so far, as integers: the unwrapped ring closes exactly or not at all.
    turns = np.concatenate(([0.0], -np.cumsum(np.round(dx / 360.0))))
    ux = x + 360.0 * turns
    if turns[-1] != 0:
        # The ring goes once round a pole: it encloses the cap on the side of that pole. Close it
        # through the pole (along the seam meridian, which lies inside the area) so the planar
        # reading holds it; the pole is the one on the ring's side of the equator.
        y = arr[:, 1]
        mean = float(y.mean())
        if abs(turns[-1]) != 1 or mean == 0.0 or (y.min() < 0.0 < y.max()):
            raise GeometryError(f"{where} winds around a pole but crosses the equator, so which pole "
                                "it holds is ambiguous; cut it at the antimeridian (RFC 7946 3.1.9)")
        pole = 90.0 if mean > 0 else -90.0
        closed = np.column_stack([np.r_[ux, ux[-1], ux[0], ux[0]], np.r_[y, pole, pole, y[0]]])
        return closed
    return np.column_stack([ux, arr[:, 1]])


def _ring_area2(arr: np.ndarray) -> float:
    x, y = arr[:, 0], arr[:, 1]
    return float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def _orient(ax, ay, bx, by, cx, cy):
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


def _between(a, b, c):
    """c lies within the closed interval spanned by a and b."""
    return (c >= np.minimum(a, b)) & (c <= np.maximum(a, b))


def _first_bad_pair(x1, y1, x2, y2, ring, idx, ring_len) -> tuple[int, int] | None:
    """The first pair of edges that cross, overlap, or (same ring, not neighbours) touch.

    Edges are sorted by their west end so each edge is only compared with those whose longitude
    range overlaps it (a sweep), in bounded chunks.
    """
    n = x1.size
    xlo, xhi = np.minimum(x1, x2), np.maximum(x1, x2)
    order = np.argsort(xlo, kind="stable")
    slo = xlo[order]
    reach = np.searchsorted(slo, xhi[order], side="right")  # sorted j < reach overlap in x
    counts = np.maximum(reach - np.arange(n) - 1, 0)
    csum = np.cumsum(counts)
    lo = 0
    while lo < n:
        base = csum[lo - 1] if lo else 0
        hi = max(int(np.searchsorted(csum, base + _PAIR_CHUNK, side="right")), lo + 1)
        c = counts[lo:hi]
        ii = np.repeat(np.arange(lo, hi), c)
        jj = ii + 1 + (np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c))
        a, b = order[ii], order[jj]
        keep = (np.maximum(np.minimum(y1[a], y2[a]), np.minimum(y1[b], y2[b]))
                <= np.minimum(np.maximum(y1[a], y2[a]), np.maximum(y1[b], y2[b])))
        a, b = a[keep], b[keep]
        same = ring[a] == ring[b]
        gap = np.abs(idx[a] - idx[b])
        adjacent = same & ((gap == 1) | (gap == ring_len[a] - 1))
        d1 = _orient(x1[a], y1[a], x2[a], y2[a], x1[b], y1[b])
        d2 = _orient(x1[a], y1[a], x2[a], y2[a], x2[b], y2[b])
        d3 = _orient(x1[b], y1[b], x2[b], y2[b], x1[a], y1[a])
        d4 = _orient(x1[b], y1[b], x2[b], y2[b], x2[a], y2[a])
        proper = (d1 * d2 < 0) & (d3 * d4 < 0)
        collinear = (d1 == 0) & (d2 == 0)
        # Collinear edges overlap when they share more than one point.
        use_x = np.abs(x2[a] - x1[a]) >= np.abs(y2[a] - y1[a])
        pa1 = np.where(use_x, x1[a], y1[a]); pa2 = np.where(use_x, x2[a], y2[a])
        pb1 = np.where(use_x, x1[b], y1[b]); pb2 = np.where(use_x, x2[b], y2[b])
        overlap = collinear & (np.minimum(np.maximum(pa1, pa2), np.maximum(pb1, pb2))
                               > np.maximum(np.minimum(pa1, pa2), np.minimum(pb1, pb2)))
        touch = (((d1 == 0) & _between(x1[a], x2[a], x1[b]) & _between(y1[a], y2[a], y1[b]))
                 | ((d2 == 0) & _between(x1[a], x2[a], x2[b]) & _between(y1[a], y2[a], y2[b]))
                 | ((d3 == 0) & _between(x1[b], x2[b], x1[a]) & _between(y1[b], y2[b], y1[a]))
                 | ((d4 == 0) & _between(x1[b], x2[b], x2[a]) & _between(y1[b], y2[b], y2[a])))
        # Adjacent edges share one vertex; sharing more means the ring folds back on itself (a spike).
        bad = (proper | overlap | (touch & same & ~adjacent))
        hit = np.flatnonzero(bad)
        if hit.size:
            return int(a[hit[0]]), int(b[hit[0]])
        lo = hi
    return None


def _meeting_point(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2) -> tuple[float, float]:
    """Where two edges meet (their lines' intersection; a shared point when they are parallel)."""
    den = (ax2 - ax1) * (by2 - by1) - (ay2 - ay1) * (bx2 - bx1)
    if den == 0:
        for x, y in ((bx1, by1), (bx2, by2)):
            if _orient(ax1, ay1, ax2, ay2, x, y) == 0 and _between(ax1, ax2, x) and _between(ay1, ay2, y):
                return float(x), float(y)
        return float(ax1), float(ay1)
    t = ((bx1 - ax1) * (by2 - by1) - (by1 - ay1) * (bx2 - bx1)) / den
    return float(ax1 + t * (ax2 - ax1)), float(ay1 + t * (ay2 - ay1))


def _check_polygon(rings: list[np.ndarray], where: str) -> None:
    x1 = np.concatenate([r[:-1, 0] for r in rings]); y1 = np.concatenate([r[:-1, 1] for r in rings])
    x2 = np.concatenate([r[1:, 0] for r in rings]); y2 = np.concatenate([r[1:, 1] for r in rings])
    ring = np.concatenate([np.full(len(r) - 1, k) for k, r in enumerate(rings)])
    idx = np.concatenate([np.arange(len(r) - 1) for r in rings])
    ring_len = np.concatenate([np.full(len(r) - 1, len(r) - 1) for r in rings])
    pair = _first_bad_pair(x1, y1, x2, y2, ring, idx, ring_len)
    if pair is not None:
        a, b = pair
        what = ("crosses itself" if ring[a] == ring[b]
                else f"has hole {max(ring[a], ring[b])} crossing ring {min(ring[a], ring[b]) + 1}")
        px, py = _meeting_point(x1[a], y1[a], x2[a], y2[a], x1[b], y1[b], x2[b], y2[b])
        lon = float(((px + 180.0) % 360.0) - 180.0)
        raise GeometryError(f"{where} {what} (self-intersecting) at lon {lon:.7g}, lat {py:.7g}",
                            f"edge [{x1[a]:g}, {y1[a]:g}]-[{x2[a]:g}, {y2[a]:g}] and "
                            f"[{x1[b]:g}, {y1[b]:g}]-[{x2[b]:g}, {y2[b]:g}]")
    # After the crossing test, so a bow-tie (whose signed areas cancel) is called what it is.
    for k, r in enumerate(rings):
        if _ring_area2(r) == 0.0:
            raise GeometryError(f"{where} ring {k + 1} encloses no area")
    if len(rings) > 1:
        shell = _build_area({"type": "Polygon"}, [[rings[0]]])
        for k, hole in enumerate(rings[1:], start=1):
            if not shell.contains(hole[:, 1], hole[:, 0]).all():
                raise GeometryError(f"{where} hole {k} lies (partly) outside its shell")


def _align(rings: list[np.ndarray]) -> list[np.ndarray]:
    """Shift holes by ±360 so they sit in the same longitude range as an unwrapped shell."""
    shell_mid = rings[0][:, 0].mean()
    out = [rings[0]]
    for r in rings[1:]:
        k = np.round((shell_mid - r[:, 0].mean()) / 360.0)
        out.append(r if k == 0 else np.column_stack([r[:, 0] + 360.0 * k, r[:, 1]]))
    return out


def _build_area(geojson: dict, polygons: list[list[np.ndarray]]) -> Area:
    x1, y1, x2, y2, part = [], [], [], [], []
    lo, hi = [], []
    for p, rings in enumerate(polygons):
        for r in rings:
            x1.append(r[:-1, 0]); y1.append(r[:-1, 1]); x2.append(r[1:, 0]); y2.append(r[1:, 1])
            part.append(np.full(len(r) - 1, p, dtype=np.int64))
        lo.append(min(r[:, 0].min() for r in rings)); hi.append(max(r[:, 0].max() for r in rings))
    ax1, ay1, ax2, ay2 = (np.concatenate(v) for v in (x1, y1, x2, y2))
    apart = np.concatenate(part)
    ylo, yhi = float(min(ay1.min(), ay2.min())), float(max(ay1.max(), ay2.max()))
    nslab = int(max(1, min(4096, ax1.size // 2)))
    h = max((yhi - ylo) / nslab, 1e-12)
    # Every slab an edge spans (widened by the boundary tolerance) lists that edge.
    s0 = np.clip(np.floor((np.minimum(ay1, ay2) - EDGE_EPS_DEG - ylo) / h), 0, nslab - 1).astype(np.int64)
    s1 = np.clip(np.floor((np.maximum(ay1, ay2) + EDGE_EPS_DEG - ylo) / h), 0, nslab - 1).astype(np.int64)
    span = s1 - s0 + 1
    e = np.repeat(np.arange(ax1.size), span)
    s = s0[e] + (np.arange(int(span.sum())) - np.repeat(np.cumsum(span) - span, span))
    order = np.argsort(s, kind="stable")
    start = np.concatenate(([0], np.cumsum(np.bincount(s, minlength=nslab))))
    return Area(geojson, ax1, ay1, ax2, ay2, apart, np.array(lo), np.array(hi), ylo, yhi,
                rings=tuple(tuple(r) for r in polygons), _slabs=(ylo, h, start, e[order]),
                _arcs=_dense_arcs(ax1, ay1, ax2, ay2))


def parse_area(text: str | dict) -> Area:
    """Parse and check one GeoJSON Polygon or MultiPolygon.

    Parameters
    ----------
    text
        GeoJSON text (or an already decoded object); a Feature is unwrapped.

    Returns
    -------
    Area

    Raises
    ------
    GeometryError
        With the reason the geometry cannot be used.
    """
    if isinstance(text, str):
        if not text.strip():
            raise GeometryError("empty GeoJSON text")
        head = text.lstrip().upper()
        if head.startswith(_WKT_WORDS):
            raise GeometryError("this is WKT, not GeoJSON; give the area as GeoJSON, e.g. "
                                '{"type": "Polygon", "coordinates": [[[lon, lat], ...]]}', text)
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise GeometryError(f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}",
                                text) from None
    else:
        obj = text
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        obj = obj.get("geometry")
    if not isinstance(obj, dict) or "type" not in obj:
        raise GeometryError("not a GeoJSON geometry object (no 'type')", obj)
    kind = obj["type"]
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryError(f"GeoJSON type {kind!r} is not an area; expected Polygon or MultiPolygon",
                            kind)
    coords = obj.get("coordinates")
    if not isinstance(coords, list) or not coords:
        raise GeometryError(f"empty {kind}: it has no coordinates")
    polys = [coords] if kind == "Polygon" else coords
    parsed: list[list[np.ndarray]] = []
    for p, poly in enumerate(polys, start=1):
        where = "polygon" if kind == "Polygon" else f"polygon {p}"
        if not isinstance(poly, list) or not poly:
            raise GeometryError(f"{where} is empty")
        rings = [_unwrap(_ring_array(r, f"{where} ring {k}"), f"{where} ring {k}")
                 for k, r in enumerate(poly, start=1)]
        rings = _align(rings)
        _check_polygon(rings, where)
        parsed.append(rings)
    return _build_area(obj, parsed)


def parse_areas(texts: Sequence[Any], *, file: str | None = None, lines: Sequence[int] | None = None,
                column: str = "geometry") -> list[Area | None]:
    """Parse a column of GeoJSON texts, collecting every problem (up to 100).

    Parameters
    ----------
    texts
        GeoJSON texts; None / NaN / missing entries mean "no area" and give None.
    file, lines, column
        Where the texts came from, for the problems (``lines[i]`` is the line or row of text i).

    Raises
    ------
    ValidationError
        Naming file, line, column, a short form of the value, and the reason.
    """
    problems = ProblemCollector(file)
    out: list[Area | None] = []
    for i, t in enumerate(texts):  # one geometry per sensitive site: thousands at most
        if t is None or (not isinstance(t, (str, dict)) and pd.isna(t)) or (isinstance(t, str) and not t.strip()):
            out.append(None)  # no geometry: the site's radius applies
            continue
        try:
            out.append(parse_area(t if isinstance(t, (str, dict)) else str(t)))
        except GeometryError as e:
            val = e.value if e.value is not None else t
            problems.add(e.reason, line=None if lines is None else int(lines[i]), column=column,
                         value=json.dumps(val) if not isinstance(val, str) else val)
            out.append(None)
    problems.raise_if_any()
    return out
