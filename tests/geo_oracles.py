"""Independent geometry oracles shared by the tests (brute force, other formulas, one point at a time).

Nothing here calls :mod:`cleanpath.geo`: distances go through 3-D chords instead of the
haversine, containment through textbook ray casting, and edge distances through dense sampling
of the lon/lat-straight edge refined by golden-section search (no great-circle arcs, no cross
products), so agreement is evidence, not a tautology.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
RADIUS_TOLERANCE_M = 1e-3


def _xyz(lat, lon):
    la, lo = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def chord_distance_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance via 3-D unit vectors (a different formula from the haversine)."""
    a = _xyz(np.asarray(lat1, float), np.asarray(lon1, float))
    b = _xyz(np.asarray(lat2, float), np.asarray(lon2, float))
    chord = np.linalg.norm(a - b, axis=-1)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.clip(chord / 2, 0, 1))


def brute_within(zlat, zlon, zr, lat, lon) -> np.ndarray:
    """Boolean matrix zones x points: distance <= radius + tolerance, by the chord formula."""
    d = chord_distance_m(zlat[:, None], zlon[:, None], lat[None, :], lon[None, :])
    return d <= zr[:, None] + RADIUS_TOLERANCE_M


def ray_cast(px: float, py: float, rings: list[list[list[float]]]) -> bool:
    """Textbook even-odd ray casting with a boundary check, one point at a time (small tests only)."""
    inside = False
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:]):
            cross = (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)
            if (abs(cross) < 1e-12 and min(x1, x2) - 1e-12 <= px <= max(x1, x2) + 1e-12
                    and min(y1, y2) - 1e-12 <= py <= max(y1, y2) + 1e-12):
                return True
            if (y1 > py) != (y2 > py) and px < x1 + (py - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def inside_polygons(lat, lon, polygons, *, shift_west: bool = False) -> np.ndarray:
    """Ray casting over (Multi)Polygon coordinates; ``shift_west`` reads longitudes < 0 as +360
    (for a polygon written across the antimeridian with positive longitudes past 180)."""
    out = []
    for y, x in zip(np.asarray(lat, float), np.asarray(lon, float)):
        qx = x + 360.0 if (shift_west and x < 0) else x
        out.append(any(ray_cast(qx, y, rings) for rings in polygons))
    return np.array(out, dtype=bool)


def edge_distance_m(lat, lon, polygons, *, samples: int = 2001) -> np.ndarray:
    """Distance from points to the rings of ``polygons`` (edges straight in lon/lat), brute force.

    Every edge is sampled at ``samples`` points; the best sample of each (point, edge) is refined
    by 60 golden-section steps on the edge parameter. Containment is not considered (callers
    set inside points to 0).
    """
    lat = np.asarray(lat, float)
    lon = np.asarray(lon, float)
    edges = np.array([[x1, y1, x2, y2] for rings in polygons for ring in rings
                      for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:])], dtype=float)
    p = _xyz(lat, lon)
    best = np.full(lat.size, np.inf)
    t = np.linspace(0.0, 1.0, samples)

    def dist(e, tt):  # points x samples
        q = _xyz(e[1] + tt * (e[3] - e[1]), e[0] + tt * (e[2] - e[0]))
        return 2 * EARTH_RADIUS_M * np.arcsin(np.clip(np.linalg.norm(p[:, None, :] - q[None], axis=-1) / 2, 0, 1))

    g = (np.sqrt(5) - 1) / 2
    for e in edges:
        d = dist(e, t)  # points x samples
        k = np.argmin(d, axis=1)
        lo = np.maximum(t[k] - 1.0 / (samples - 1), 0.0)
        hi = np.minimum(t[k] + 1.0 / (samples - 1), 1.0)
        for _ in range(60):
            a = hi - g * (hi - lo)
            b = lo + g * (hi - lo)
            qa = _xyz(e[1] + a * (e[3] - e[1]), e[0] + a * (e[2] - e[0]))
            qb = _xyz(e[1] + b * (e[3] - e[1]), e[0] + b * (e[2] - e[0]))
            fa = np.linalg.norm(p - qa, axis=-1)
            fb = np.linalg.norm(p - qb, axis=-1)
            left = fa < fb
            hi = np.where(left, b, hi)
            lo = np.where(left, lo, a)
        m = (lo + hi) / 2
        qm = _xyz(e[1] + m * (e[3] - e[1]), e[0] + m * (e[2] - e[0]))
        dm = 2 * EARTH_RADIUS_M * np.arcsin(np.clip(np.linalg.norm(p - qm, axis=-1) / 2, 0, 1))
        best = np.minimum(best, np.minimum(dm, d.min(axis=1)))
    return best


def scatter_around(rng, lat, lon, radius_m, n, destination):
    """n points around a centre at distances up to 2x the radius, in every direction."""
    return destination(np.full(n, lat), np.full(n, lon), rng.uniform(0, 360, n), rng.uniform(0, 2 * radius_m, n))


def _clip(ring: list[list[float]], keep_west: bool) -> list[list[float]]:
    """Sutherland-Hodgman clip of a ring (longitudes continuous, past 180) against lon <= 180
    (``keep_west``) or lon >= 180."""
    def inside(p):
        return p[0] <= 180.0 if keep_west else p[0] >= 180.0

    out: list[list[float]] = []
    pts = ring[:-1]
    for i, cur in enumerate(pts):
        prev = pts[i - 1]
        if inside(cur):
            if not inside(prev):
                t = (180.0 - prev[0]) / (cur[0] - prev[0])
                out.append([180.0, prev[1] + t * (cur[1] - prev[1])])
            out.append(list(cur))
        elif inside(prev):
            t = (180.0 - prev[0]) / (cur[0] - prev[0])
            out.append([180.0, prev[1] + t * (cur[1] - prev[1])])
    return out + [out[0]] if out else []


def cut_at_antimeridian(polygon: list[list[list[float]]]) -> dict:
    """A convex Polygon written with continuous longitudes (some past 180) as the RFC 7946
    MultiPolygon cut at 180: the west part up to 180, the east part from -180. Holes must lie on
    one side of the cut (a hole straddling it would have to become a notch)."""
    shell, holes = polygon[0], polygon[1:]
    west, east = _clip(shell, True), _clip(shell, False)
    east = [[x - 360.0, y] for x, y in east]
    parts = [[west], [east]]
    for h in holes:
        if all(x <= 180.0 for x, _y in h):
            parts[0].append(h)
        else:
            parts[1].append([[x - 360.0, y] for x, y in h])
    return {"type": "MultiPolygon", "coordinates": [p for p in parts if p[0]]}


def wrap(lon):
    """Longitudes into -180..180 (180 stays 180)."""
    lon = np.asarray(lon, float)
    return np.where(lon > 180.0, lon - 360.0, lon)
