"""The radius index: which points lie within a distance of centres, or inside / near an area.

One k-d tree over 3-D unit vectors serves every in-memory "within" question of the package (the
policy engine's ``near`` and ``inside`` scopes, the sensitive-site coverage behind clean-path and
outage, the outage region). The chord between two unit vectors grows monotonically with their
great-circle distance, so a ball query with the matching chord is exact on the sphere, with no
special case at the antimeridian or the poles; every candidate is then confirmed with the
haversine distance (inclusive, with :data:`~cleanpath.geo.sphere.RADIUS_TOLERANCE_M`), so a point
on the circle counts the same way here as in the exposure join. Areas are searched through the
cap that holds them (:meth:`cleanpath.geo.geometry.Area.cap`) and decided by
:meth:`~cleanpath.geo.geometry.Area.contains` or :meth:`~cleanpath.geo.geometry.Area.distance_m`.

The DuckDB grid join in :mod:`cleanpath.geo.join` answers the same questions for points that do
not fit in memory (world cell files); both use the same haversine and the same area tests.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.spatial import cKDTree

from cleanpath.geo.geometry import Area
from cleanpath.geo.sphere import RADIUS_TOLERANCE_M, chord_of_distance, haversine_m, unit_vectors

_EMPTY = np.empty(0, dtype=np.int64)


class PointIndex:
    """A k-d tree over points on the sphere.

    Parameters
    ----------
    lat, lon
        Point coordinates in degrees; NaN marks a point without a position (never near anything).
    """

    def __init__(self, lat, lon):
        self.lat = np.asarray(lat, dtype="float64").ravel()
        self.lon = np.asarray(lon, dtype="float64").ravel()
        self.valid = np.flatnonzero(np.isfinite(self.lat) & np.isfinite(self.lon))
        self.tree = cKDTree(unit_vectors(self.lat[self.valid], self.lon[self.valid])) \
            if self.valid.size else None

    def __len__(self) -> int:
        return int(self.lat.size)

    def _ball(self, lat: np.ndarray, lon: np.ndarray, radius_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidate (centre, point) pairs: a superset of the points within ``radius_m``."""
        if self.tree is None or lat.size == 0:
            return _EMPTY, _EMPTY
        # A hair of slack on the tree query; the exact test decides.
        cand = self.tree.query_ball_point(unit_vectors(lat, lon),
                                          chord_of_distance(radius_m) * (1 + 1e-9) + 1e-12,
                                          return_sorted=False)
        sizes = np.fromiter((len(c) for c in cand), dtype=np.int64, count=len(cand))
        if sizes.sum() == 0:
            return _EMPTY, _EMPTY
        pts = np.concatenate([np.asarray(c, dtype=np.int64) for c in cand if len(c)])
        return np.repeat(np.arange(len(cand)), sizes), self.valid[pts]

    def pairs(self, lat, lon, radius_m) -> tuple[np.ndarray, np.ndarray]:
        """Every (centre, point) with the point within ``radius_m`` of the centre (inclusive).

        Parameters
        ----------
        lat, lon
            Centres in degrees; centres with NaN coordinates or radius find nothing.
        radius_m
            Radius in metres, one for all or one per centre.

        Returns
        -------
        centre, point
            Index arrays (into the centres and into the indexed points).
        """
        lat = np.atleast_1d(np.asarray(lat, dtype="float64"))
        lon = np.atleast_1d(np.asarray(lon, dtype="float64"))
        r = np.broadcast_to(np.asarray(radius_m, dtype="float64"), lat.shape)
        ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon) & np.isfinite(r) & (r >= 0))
        reach = r[ok] + RADIUS_TOLERANCE_M
        centre, point = self._ball(lat[ok], lon[ok], reach)
        if centre.size == 0:
            return _EMPTY, _EMPTY
        d = haversine_m(self.lat[point], self.lon[point], lat[ok][centre], lon[ok][centre])
        keep = d <= reach[centre]
        return ok[centre[keep]], point[keep]

    def within(self, lat, lon, radius_m) -> np.ndarray:
        """Mask over the indexed points: within ``radius_m`` of any of the centres."""
        out = np.zeros(len(self), dtype=bool)
        out[self.pairs(lat, lon, radius_m)[1]] = True
        return out

    def near_area(self, area: Area, radius_m: float = 0.0) -> np.ndarray:
        """Indexed points inside ``area`` or within ``radius_m`` of its boundary (sorted indices)."""
        clat, clon, crad = area.cap()
        _c, cand = self._ball(np.array([clat]), np.array([clon]),
                              np.array([crad + max(float(radius_m), 0.0) + RADIUS_TOLERANCE_M]))
        if cand.size == 0:
            return _EMPTY
        if radius_m > 0:
            keep = area.distance_m(self.lat[cand], self.lon[cand]) <= radius_m + RADIUS_TOLERANCE_M
        else:
            keep = area.contains(self.lat[cand], self.lon[cand])
        return np.sort(cand[keep])

    def area_pairs(self, areas: Sequence[Area | None], radius_m: float | Sequence[float] = 0.0
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Every (area, point) with the point inside the area (or within ``radius_m`` of it).

        Areas that are None find nothing. One tree query and one vectorised test per area: areas
        are sensitive sites and policy zones, a few thousand at most.
        """
        rad = np.broadcast_to(np.asarray(radius_m, dtype="float64"), (len(areas),))
        rows, pts = [], []
        for k, a in enumerate(areas):
            if a is None:
                continue
            hit = self.near_area(a, float(rad[k]))
            rows.append(np.full(hit.size, k, dtype=np.int64))
            pts.append(hit)
        if not rows:
            return _EMPTY, _EMPTY
        return np.concatenate(rows), np.concatenate(pts)

    def in_areas(self, areas: Sequence[Area | None], radius_m: float | Sequence[float] = 0.0) -> np.ndarray:
        """Mask over the indexed points: inside (or within ``radius_m`` of) any of ``areas``."""
        out = np.zeros(len(self), dtype=bool)
        out[self.area_pairs(areas, radius_m)[1]] = True
        return out
