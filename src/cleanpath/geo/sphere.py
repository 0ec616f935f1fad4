"""Distances and bounding boxes on the sphere.

Every distance in cleanpath is a great-circle distance on a sphere of the IUGG mean Earth radius,
computed with the haversine formula, which stays accurate for the short distances that matter here
(metres to kilometres) where the spherical law of cosines loses digits. Nothing is ever measured in
planar degrees. The sphere is within 0.5 % of the WGS84 ellipsoid everywhere, which is far below the
uncertainty of crowd-sourced cell positions.

The same formula is written twice, once for numpy (:func:`haversine_m`) and once as DuckDB SQL
(:func:`haversine_terms_sql`).
"""

from __future__ import annotations

import math

import numpy as np

#: IUGG mean Earth radius R1 (metres).
EARTH_RADIUS_M = 6_371_008.8
#: Half the circumference: no two points on the sphere are farther apart.
MAX_DISTANCE_M = math.pi * EARTH_RADIUS_M
#: Degrees to radians, written out so numpy and SQL multiply by the very same double.
DEG = 0.017453292519943295
#: A point counts as within a radius when its distance is at most radius + this (1 mm). Inclusive,
#: with a tolerance far below any position's precision, so a point placed "exactly on the circle"
#: by one formula is not lost to the last bit of another.
RADIUS_TOLERANCE_M = 1e-3

# Relative and absolute slack added to bounding boxes so that rounding can never push a point
# that is within a radius out of the grid cells searched for it.
_BOX_SLACK_REL = 1e-9
_BOX_SLACK_DEG = 1e-9


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in metres between points given in degrees (broadcasts).

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        WGS84 latitudes and longitudes in degrees; any shapes numpy can broadcast.

    Returns
    -------
    numpy.ndarray
        Distances in metres, in ``[0, MAX_DISTANCE_M]``.

    Examples
    --------
    >>> round(float(haversine_m(0.0, 179.5, 0.0, -179.5)))  # across the antimeridian
    111195
    """
    lat1 = np.asarray(lat1, dtype="float64")
    lat2 = np.asarray(lat2, dtype="float64")
    h = haversine_h(lat1, np.asarray(lon1, dtype="float64"), lat2, np.asarray(lon2, dtype="float64"))
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


def unit_vectors(lat, lon) -> np.ndarray:
    """``(n, 3)`` unit vectors of points given in degrees (x towards 0°E, z towards the north pole)."""
    la = np.radians(np.asarray(lat, dtype="float64"))
    lo = np.radians(np.asarray(lon, dtype="float64"))
    c = np.cos(la)
    return np.column_stack((c * np.cos(lo), c * np.sin(lo), np.sin(la)))


def chord_of_distance(distance_m) -> np.ndarray:
    """Straight-line distance between unit vectors that lie ``distance_m`` apart on the sphere."""
    ang = np.minimum(np.asarray(distance_m, dtype="float64") / EARTH_RADIUS_M, math.pi)
    return 2.0 * np.sin(ang / 2.0)


def haversine_h(lat1, lon1, lat2, lon2) -> np.ndarray:
    """The haversine of the central angle, ``sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)``.

    Monotone in the distance, so comparing it with :func:`h_of_distance` of a radius decides
    "within" without the arcsine.
    """
    s1 = np.sin((lat2 - lat1) * (DEG / 2))
    s2 = np.sin((lon2 - lon1) * (DEG / 2))
    return s1 * s1 + np.cos(lat1 * DEG) * np.cos(lat2 * DEG) * (s2 * s2)


def h_of_distance(distance_m) -> np.ndarray:
    """The haversine value of a distance: ``sin²(d / 2R)``, 1 for distances beyond half the globe."""
    d = np.minimum(np.asarray(distance_m, dtype="float64"), MAX_DISTANCE_M)
    s = np.sin(d / (2.0 * EARTH_RADIUS_M))
    return np.where(d >= MAX_DISTANCE_M, 1.0, s * s)


def haversine_h_sql(lat1: str, lon1: str, lat2: str, lon2: str, coslat2: str | None = None) -> str:
    """DuckDB SQL for :func:`haversine_h` as one expression (for filters, where it is evaluated
    only on the rows that reach it)."""
    half = repr(DEG / 2)
    c2 = coslat2 or f"cos(({lat2}) * {DEG!r})"
    return (f"(pow(sin((({lat2}) - ({lat1})) * {half}), 2) + cos(({lat1}) * {DEG!r}) * {c2} * "
            f"pow(sin((({lon2}) - ({lon1})) * {half}), 2))")


def haversine_terms_sql(lat1: str, lon1: str, lat2: str, lon2: str, coslat2: str | None = None) -> str:
    """DuckDB SQL select-list items ``_a, _b, _c`` from which :data:`HAVERSINE_H_SQL` forms h.

    ``h = _a² + _c·_b²`` with ``_a = sin(Δφ/2)``, ``_b = sin(Δλ/2)``, ``_c = cos φ1 cos φ2``:
    each sine is evaluated once (DuckDB does not share repeated subexpressions in filters).

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        SQL expressions of latitudes and longitudes in degrees.
    coslat2
        Optional expression holding ``cos(lat2 * DEG)`` precomputed (saves a cosine per pair).
    """
    half = repr(DEG / 2)
    c2 = coslat2 or f"cos(({lat2}) * {DEG!r})"
    return (f"sin((({lat2}) - ({lat1})) * {half}) AS _a, sin((({lon2}) - ({lon1})) * {half}) AS _b, "
            f"cos(({lat1}) * {DEG!r}) * {c2} AS _c")


#: The haversine value from the columns :func:`haversine_terms_sql` selects.
HAVERSINE_H_SQL = "(_a * _a + _c * (_b * _b))"


def distance_of_h_sql(h: str) -> str:
    """DuckDB SQL turning a haversine value into metres."""
    return f"(2.0 * {EARTH_RADIUS_M!r} * asin(sqrt(least({h}, 1.0))))"


def destination(lat, lon, bearing_deg, distance_m) -> tuple[np.ndarray, np.ndarray]:
    """The point reached from ``(lat, lon)`` going ``distance_m`` along a great circle.

    Parameters
    ----------
    lat, lon
        Start in degrees.
    bearing_deg
        Initial bearing, degrees clockwise from north.
    distance_m
        Distance in metres.

    Returns
    -------
    lat, lon
        Degrees; longitudes wrapped into ``[-180, 180)``.
    """
    phi = np.radians(np.asarray(lat, dtype="float64"))
    lam = np.radians(np.asarray(lon, dtype="float64"))
    theta = np.radians(np.asarray(bearing_deg, dtype="float64"))
    delta = np.asarray(distance_m, dtype="float64") / EARTH_RADIUS_M
    sin_phi2 = np.sin(phi) * np.cos(delta) + np.cos(phi) * np.sin(delta) * np.cos(theta)
    phi2 = np.arcsin(np.clip(sin_phi2, -1.0, 1.0))
    lam2 = lam + np.arctan2(np.sin(theta) * np.sin(delta) * np.cos(phi),
                            np.cos(delta) - np.sin(phi) * sin_phi2)
    return np.degrees(phi2), (np.degrees(lam2) + 180.0) % 360.0 - 180.0


def cap_boxes(lat, lon, radius_m) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Latitude/longitude boxes that contain spherical caps (discs on the sphere).

    The longitude half-width of a cap of angular radius δ centred at latitude φ is
    ``asin(sin δ / cos φ)`` (exact on the sphere); a cap that reaches a pole spans every longitude.
    Boxes are widened by a hair so rounding never loses a point on the rim.

    Parameters
    ----------
    lat, lon
        Cap centres in degrees.
    radius_m
        Cap radii in metres.

    Returns
    -------
    lat_lo, lat_hi, lon_lo, lon_hi
        Degrees. Longitudes are *not* wrapped: ``lon_lo`` may be below -180 and ``lon_hi`` above
        180 for caps across the antimeridian; a width of 360 or more means every longitude.
    """
    lat = np.asarray(lat, dtype="float64")
    lon = np.asarray(lon, dtype="float64")
    delta = np.minimum(np.asarray(radius_m, dtype="float64") / EARTH_RADIUS_M, math.pi)
    delta = delta * (1 + _BOX_SLACK_REL) + 1e-12
    ddeg = np.degrees(delta) + _BOX_SLACK_DEG
    lat_lo = np.maximum(lat - ddeg, -90.0)
    lat_hi = np.minimum(lat + ddeg, 90.0)
    polar = (np.abs(lat) + ddeg >= 90.0) | (delta >= math.pi / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.sin(delta) / np.cos(np.radians(lat))
        half = np.degrees(np.arcsin(np.minimum(ratio, 1.0))) * (1 + _BOX_SLACK_REL) + _BOX_SLACK_DEG
    half = np.where(polar | ~np.isfinite(half) | (ratio >= 1.0), 180.0, half)
    return lat_lo, lat_hi, lon - half, lon + half


def expand_boxes(lat_lo, lat_hi, lon_lo, lon_hi, margin_m
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Boxes grown by ``margin_m`` on every side (a superset of every point within the margin)."""
    lat_lo, lat_hi = np.asarray(lat_lo, dtype="float64"), np.asarray(lat_hi, dtype="float64")
    lon_lo, lon_hi = np.asarray(lon_lo, dtype="float64"), np.asarray(lon_hi, dtype="float64")
    delta = np.minimum(np.asarray(margin_m, dtype="float64") / EARTH_RADIUS_M, math.pi)
    ddeg = np.degrees(delta) * (1 + _BOX_SLACK_REL) + _BOX_SLACK_DEG
    new_lo = np.maximum(lat_lo - ddeg, -90.0)
    new_hi = np.minimum(lat_hi + ddeg, 90.0)
    # The widest parallel of the grown box is the one nearest a pole.
    worst = np.maximum(np.abs(new_lo), np.abs(new_hi))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.sin(delta) / np.cos(np.radians(worst))
        half = np.degrees(np.arcsin(np.minimum(ratio, 1.0))) * (1 + _BOX_SLACK_REL) + _BOX_SLACK_DEG
    full = (worst >= 90.0) | (ratio >= 1.0) | ~np.isfinite(half) | (delta >= math.pi / 2)
    half = np.where(full, 360.0, half)
    return new_lo, new_hi, lon_lo - half, lon_hi + half
