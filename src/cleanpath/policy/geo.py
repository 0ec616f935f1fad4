"""Geography for policy scopes: distances on the sphere and points in polygons, vectorised.

Distances are great-circle distances on a sphere of the Earth's mean radius (haversine). Candidate
pairs come from a k-d tree over 3-D unit vectors (the chord between two unit vectors grows
monotonically with their great-circle distance, so a ball query with the matching chord length is
exact on the sphere, with no trouble at the antimeridian or the poles); each candidate is then
confirmed with the haversine formula so that a point exactly on the radius counts the same way
as in an independent haversine check.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from cleanpath.geo.sphere import EARTH_RADIUS_M, haversine_m
from cleanpath.policy.language import Polygon


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """``(n, 3)`` unit vectors of points given in degrees."""
    la, lo = np.radians(lat), np.radians(lon)
    c = np.cos(la)
    return np.column_stack((c * np.cos(lo), c * np.sin(lo), np.sin(la)))


def _chord(radius_m: np.ndarray) -> np.ndarray:
    ang = np.minimum(np.asarray(radius_m, dtype="float64") / EARTH_RADIUS_M, np.pi)
    return 2.0 * np.sin(ang / 2.0)


class PointIndex:
    """A k-d tree over points on the sphere, for "which points lie within r of these centres".

    Parameters
    ----------
    lat, lon
        Point coordinates in degrees; NaN marks a point without a position (never near anything).
    """

    def __init__(self, lat: np.ndarray, lon: np.ndarray):
        self.lat = np.asarray(lat, dtype="float64")
        self.lon = np.asarray(lon, dtype="float64")
        self.valid = np.flatnonzero(np.isfinite(self.lat) & np.isfinite(self.lon))
        self.tree = cKDTree(unit_vectors(self.lat[self.valid], self.lon[self.valid])) \
            if self.valid.size else None

    def within(self, lat: np.ndarray, lon: np.ndarray, radius_m: np.ndarray | float) -> np.ndarray:
        """Mask over the indexed points: within ``radius_m`` of any of the centres (lat, lon)."""
        out = np.zeros(len(self.lat), dtype=bool)
        lat = np.atleast_1d(np.asarray(lat, dtype="float64"))
        lon = np.atleast_1d(np.asarray(lon, dtype="float64"))
        r = np.broadcast_to(np.asarray(radius_m, dtype="float64"), lat.shape)
        ok = np.isfinite(lat) & np.isfinite(lon) & np.isfinite(r) & (r >= 0)
        if self.tree is None or not ok.any():
            return out
        lat, lon, r = lat[ok], lon[ok], r[ok]
        # a hair of slack on the tree query, then the exact haversine test decides
        cand = self.tree.query_ball_point(unit_vectors(lat, lon), _chord(r) * (1 + 1e-9) + 1e-12,
                                          return_sorted=False)
        sizes = np.fromiter((len(c) for c in cand), dtype=np.int64, count=len(cand))
        if sizes.sum() == 0:
            return out
        pts = np.concatenate([np.asarray(c, dtype=np.int64) for c in cand if len(c)])
        centre = np.repeat(np.arange(len(cand)), sizes)
        idx = self.valid[pts]
        d = haversine_m(self.lat[idx], self.lon[idx], lat[centre], lon[centre])
        out[idx[d <= r[centre]]] = True
        return out


def points_in_polygons(lon: np.ndarray, lat: np.ndarray, polygons: tuple[Polygon, ...]) -> np.ndarray:
    """Mask of points inside any polygon (even-odd rule over all rings, so holes are excluded).

    Coordinates are treated as planar lon/lat, which is exact for the inside test of polygons
    that do not cross the antimeridian; the loop runs over polygon edges, each step vectorised
    over the points inside the polygon's bounding box.
    """
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    out = np.zeros(len(lon), dtype=bool)
    finite = np.isfinite(lon) & np.isfinite(lat)
    for poly in polygons:
        outer = np.asarray(poly[0])
        box = (finite & (lon >= outer[:, 0].min()) & (lon <= outer[:, 0].max())
               & (lat >= outer[:, 1].min()) & (lat <= outer[:, 1].max()))
        idx = np.flatnonzero(box & ~out)
        if idx.size == 0:
            continue
        x, y = lon[idx], lat[idx]
        inside = np.zeros(idx.size, dtype=bool)
        for ring in poly:
            r = np.asarray(ring)
            x1, y1 = r[:-1, 0], r[:-1, 1]
            x2, y2 = r[1:, 0], r[1:, 1]
            for k in range(len(x1)):
                # edges crossing the horizontal line through the point, to the point's right
                crosses = (y1[k] > y) != (y2[k] > y)
                if not crosses.any():
                    continue
                xi = x1[k] + (y - y1[k]) * (x2[k] - x1[k]) / np.where(y2[k] != y1[k], y2[k] - y1[k], 1.0)
                inside ^= crosses & (x < xi)
        out[idx[inside]] = True
    return out
