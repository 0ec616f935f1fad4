"""A global latitude/longitude grid whose integer cell keys turn "near" into an equi-join.

The grid has ``bands`` latitude bands of ``180 / bands`` degrees and twice as many longitude
columns of the same width. A point has exactly one key; an area (a cap around a site, a polygon's
bounding box) lists every cell it touches, with longitudes taken modulo 360 so areas across the
antimeridian wrap, and areas that reach a pole take the whole ring of cells. Joining points to areas
on the key yields a superset of the true pairs; the exact test on the sphere follows.

Cells are fixed in degrees, so they shrink in metres towards the poles; an area there simply lists
more cells (a 5 km cap at 80° latitude lists about 3 x 12). That keeps the point key a handful of
arithmetic operations, written identically in numpy and SQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cleanpath.geo.sphere import EARTH_RADIUS_M, cap_boxes

#: Finest grid used (metres per cell edge at the equator); finer cells only add join rows.
MIN_CELL_M = 50.0
#: Upper bound on bands, so keys stay far inside int64 (the coarsest grid has 3 bands of 60°).
MAX_BANDS = 3_600_000


@dataclass(frozen=True)
class Grid:
    """A grid of ``bands`` latitude bands and ``2 * bands`` longitude columns.

    Attributes
    ----------
    bands
        Number of latitude bands; cells are ``180 / bands`` degrees square.
    """

    bands: int

    @classmethod
    def for_cell(cls, cell_m: float) -> "Grid":
        """The grid whose cells are at least ``cell_m`` metres tall."""
        cell_m = max(float(cell_m), MIN_CELL_M)
        deg = math.degrees(cell_m / EARTH_RADIUS_M)
        return cls(int(min(max(math.floor(180.0 / deg), 3), MAX_BANDS)))

    @property
    def dlat(self) -> float:
        """Cell edge in degrees."""
        return 180.0 / self.bands

    @property
    def columns(self) -> int:
        """Longitude columns per band."""
        return 2 * self.bands

    @property
    def cell_m(self) -> float:
        """Cell height in metres."""
        return math.radians(self.dlat) * EARTH_RADIUS_M

    # -- points ------------------------------------------------------------------------------------
    def point_keys(self, lat, lon) -> np.ndarray:
        """The cell key of each point (int64); see :meth:`key_sql` for the same in SQL."""
        lat = np.asarray(lat, dtype="float64")
        lon = np.asarray(lon, dtype="float64")
        band = np.minimum(np.floor((lat + 90.0) / self.dlat), self.bands - 1).astype(np.int64)
        col = np.floor((lon + 180.0) / self.dlat).astype(np.int64) % self.columns
        return band * self.columns + col

    def key_sql(self, lat: str, lon: str) -> str:
        """DuckDB SQL computing :meth:`point_keys` from two column expressions."""
        d = repr(self.dlat)
        return (f"(least(floor((({lat}) + 90.0) / {d}), {self.bands - 1})::BIGINT * {self.columns}"
                f" + (floor((({lon}) + 180.0) / {d})::BIGINT % {self.columns}))")

    # -- areas -------------------------------------------------------------------------------------
    def cover_boxes(self, lat_lo, lat_hi, lon_lo, lon_hi) -> tuple[np.ndarray, np.ndarray]:
        """Every cell each box touches.

        Parameters
        ----------
        lat_lo, lat_hi
            Latitude bounds in degrees (clipped to the poles).
        lon_lo, lon_hi
            Longitude bounds in degrees, unwrapped: ``lon_lo`` may be below -180 or ``lon_hi``
            above 180; a width of 360 or more covers the whole ring.

        Returns
        -------
        owner, key
            For each listed cell, the index of its box and the cell key (no duplicates per box).
        """
        lat_lo = np.clip(np.asarray(lat_lo, dtype="float64"), -90.0, 90.0)
        lat_hi = np.clip(np.asarray(lat_hi, dtype="float64"), -90.0, 90.0)
        lon_lo = np.asarray(lon_lo, dtype="float64")
        lon_hi = np.asarray(lon_hi, dtype="float64")
        b0 = np.minimum(np.floor((lat_lo + 90.0) / self.dlat), self.bands - 1).astype(np.int64)
        b1 = np.minimum(np.floor((lat_hi + 90.0) / self.dlat), self.bands - 1).astype(np.int64)
        c0 = np.floor((lon_lo + 180.0) / self.dlat).astype(np.int64)
        c1 = np.floor((lon_hi + 180.0) / self.dlat).astype(np.int64)
        ncol = np.minimum(c1 - c0 + 1, self.columns)  # a full ring, not more
        c0 = np.where(ncol >= self.columns, 0, c0)
        nband = b1 - b0 + 1
        per_box = nband * ncol
        owner = np.repeat(np.arange(len(per_box)), per_box)
        k = np.arange(int(per_box.sum()), dtype=np.int64) - np.repeat(np.cumsum(per_box) - per_box, per_box)
        nc = ncol[owner]
        band = b0[owner] + k // nc
        col = (c0[owner] + k % nc) % self.columns
        return owner, band * self.columns + col

    def cover_caps(self, lat, lon, radius_m) -> tuple[np.ndarray, np.ndarray]:
        """Every cell each spherical cap touches (see :meth:`cover_boxes`)."""
        return self.cover_boxes(*cap_boxes(lat, lon, radius_m))


#: Cells per typical radius. Finer cells leave fewer candidates outside the circle and more
#: cells wholly inside it (whose points need no distance test), at the price of more join rows
#: and a slower build. Measured (bench/results_exposure.md): 4 beat 2 and 8 for points paired
#: one by one; 8 beat 4 and 16 when whole cells are summed first (:data:`CELLS_PER_RADIUS_DENSE`).
CELLS_PER_RADIUS = 4
CELLS_PER_RADIUS_DENSE = 8


def choose_cell_m(extent_m: np.ndarray, per_radius: float = CELLS_PER_RADIUS) -> float:
    """A cell size for areas of these extents (radius, or half the box diagonal).

    ``1 / per_radius`` of the typical extent; the largest areas must not list more than about
    260 x 260 cells each.
    """
    ext = np.asarray(extent_m, dtype="float64")
    ext = ext[np.isfinite(ext) & (ext > 0)]
    if ext.size == 0:
        return 1000.0
    return float(max(np.median(ext) / per_radius, ext.max() / 128.0, MIN_CELL_M))


def spatial_order(lat, lon, *, bits: int = 16) -> np.ndarray:
    """Z-order (Morton) codes of points, so that sorting by them keeps neighbours together.

    Used to cut a list of sites into spatially compact partitions.
    """
    lat = np.asarray(lat, dtype="float64")
    lon = np.asarray(lon, dtype="float64")
    scale = (1 << bits) - 1
    y = np.clip(((lat + 90.0) / 180.0 * scale).astype(np.int64), 0, scale)
    x = np.clip(((lon + 180.0) / 360.0 * scale).astype(np.int64), 0, scale)
    code = np.zeros(lat.shape, dtype=np.int64)
    for b in range(bits):  # bits, not elements: 16 vectorised steps
        code |= ((x >> b) & 1) << (2 * b)
        code |= ((y >> b) & 1) << (2 * b + 1)
    return code
