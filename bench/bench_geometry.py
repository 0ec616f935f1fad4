"""cleanpath.geo against spherical libraries: speed and exactness (results: docs/benchmarks.md).

Candidates
----------
``cleanpath.geo``
    numpy point-in-polygon (crossing numbers over latitude slabs, rings unwrapped across the
    antimeridian) and distance to the edge (edges cut into great-circle pieces, cross-track
    distance), alone and behind the package's k-d tree radius index (``PointIndex.near_area``).
``spherely`` (S2 through a vectorised numpy API)
    ``contains`` of prepared polygons over all points, and over the same k-d tree candidates;
    ``distance``.
``s2geometry`` (Google's S2, SWIG bindings)
    one Python call per point (``S2Polygon.Contains`` / ``GetDistance``): measured on the k-d tree
    candidates only, since 10^8 Python calls would take hours.

Sections
--------
``speed``
    1 M points (half clustered round the polygons, half uniform on the sphere) x 100 polygons
    (24-vertex stars 3-15 km across; 10 across the antimeridian, 10 beyond 80°N); distance to
    the edge for 10 k points near 10 of them.
``exact``
    Convex quadrilaterals (ordinary, across the antimeridian, near the pole) and points placed
    1e-8..1e-3 degrees either side of their edges. Two oracles: exact rational ray casting in
    longitude/latitude (RFC 7946: edges are straight in lon/lat, the reading of cleanpath and
    of the exposure docs), and the geodesic reading (edges are great circles, S2's reading),
    decided by the sign of det(a, b, p) in extended precision (numpy longdouble). Distances:
    cleanpath against a sampled lon/lat edge (tests/geo_oracles.py), the libraries against the
    cross-track distance to the great-circle edge in longdouble.

Usage::

    .venv/bin/python bench/bench_geometry.py speed exact [--points 1000000] [--polygons 100]

spherely and s2geometry are needed only here (``pip install spherely s2geometry``); a missing one
is skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _measure import machine, peak_rss_mb  # noqa: E402
from cleanpath.geo import PointIndex, destination, parse_area  # noqa: E402
from cleanpath.geo.sphere import EARTH_RADIUS_M  # noqa: E402

try:
    import spherely
except ImportError:  # pragma: no cover - optional
    spherely = None
try:
    import s2geometry as s2
except ImportError:  # pragma: no cover - optional
    s2 = None


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


def wrap(lon):
    return (np.asarray(lon, dtype="float64") + 180.0) % 360.0 - 180.0


# --- data -------------------------------------------------------------------------------------------

def star_polygons(rng, n: int) -> list[list[list[float]]]:
    """n counter-clockwise 24-vertex stars (3-15 km), 10 % across 180 and 10 % beyond 80°N."""
    out = []
    for k in range(n):
        if k % 10 == 0:
            clat, clon = rng.uniform(-60, 60), 179.99
        elif k % 10 == 1:
            clat, clon = rng.uniform(80, 84), rng.uniform(-180, 180)
        else:
            clat, clon = rng.uniform(-60, 60), rng.uniform(-180, 180)
        bearings = np.linspace(0, 360, 24, endpoint=False)[::-1]  # clockwise bearings: CCW ring
        radius = rng.uniform(3000, 15000) * rng.uniform(0.5, 1.0, 24)
        la, lo = destination(np.full(24, clat), np.full(24, clon), bearings, radius)
        ring = [[float(x), float(y)] for x, y in zip(wrap(lo), la)]
        out.append(ring + [ring[0]])
    return out


def points_round(rng, polys, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Half the points within 30 km of a polygon's first vertex, half uniform on the sphere."""
    half = n // 2
    which = rng.integers(0, len(polys), half)
    c = np.array([p[0] for p in polys])[which]
    la, lo = destination(c[:, 1], c[:, 0], rng.uniform(0, 360, half), rng.uniform(0, 30_000, half))
    z = rng.uniform(-1, 1, n - half)
    return np.r_[la, np.degrees(np.arcsin(z))], wrap(np.r_[lo, rng.uniform(-180, 180, n - half)])


# --- speed ------------------------------------------------------------------------------------------

def speed(args) -> dict:
    rng = np.random.default_rng(1)
    polys = star_polygons(rng, args.polygons)
    lat, lon = points_round(rng, polys, args.points)
    res: dict = {"points": int(lat.size), "polygons": len(polys)}
    areas, t = timed(lambda: [parse_area({"type": "Polygon", "coordinates": [r]}) for r in polys])
    res["cleanpath_parse_s"] = round(t, 3)
    counts, t = timed(lambda: [int(a.contains(lat, lon).sum()) for a in areas])
    res["cleanpath_contains_s"] = round(t, 3)
    res["inside_pairs"] = int(sum(counts))
    log(f"cleanpath contains: {t:.2f} s, {sum(counts)} pairs")
    idx, tb = timed(PointIndex, lat, lon)
    hits, tq = timed(lambda: [idx.near_area(a) for a in areas])
    assert sum(h.size for h in hits) == sum(counts)
    res["cleanpath_index_build_s"] = round(tb, 3)
    res["cleanpath_index_query_s"] = round(tq, 3)
    cand = [idx._ball(*(np.array([v]) for v in a.cap()[:2]), np.array([a.cap()[2]]))[1] for a in areas]
    res["index_candidates"] = int(sum(c.size for c in cand))
    log(f"cleanpath index: build {tb:.2f} s, 100 queries {tq:.2f} s")
    if spherely is not None:
        sp_polys, t = timed(lambda: [spherely.create_polygon([tuple(p) for p in r[:-1]]) for r in polys])
        for p in sp_polys:
            spherely.prepare(p)
        res["spherely_build_s"] = round(t, 3)
        pts, t = timed(spherely.points, lon, lat)
        res["spherely_points_s"] = round(t, 3)
        got, t = timed(lambda: [int(spherely.contains(p, pts).sum()) for p in sp_polys])
        res["spherely_contains_all_s"] = round(t, 3)
        res["spherely_inside_pairs"] = int(sum(got))
        res["spherely_polygons_differing"] = int(sum(a != b for a, b in zip(got, counts)))
        log(f"spherely contains (all points): {t:.2f} s, {sum(got)} pairs")
        got2, t = timed(lambda: [int(spherely.contains(p, pts[c]).sum()) for p, c in zip(sp_polys, cand)])
        res["spherely_contains_candidates_s"] = round(t, 3)
        log(f"spherely contains (k-d tree candidates): {t:.2f} s")
    if s2 is not None:
        loops = []
        for r in polys:
            loop = s2.S2Loop([s2.S2LatLng.FromDegrees(y, x).ToPoint() for x, y in r[:-1]])
            loop.Normalize()
            loops.append(s2.S2Polygon(loop))
        sub = [c[:2000] for c in cand]  # Python calls: a sample of the candidates
        calls = int(sum(c.size for c in sub))

        def run_s2():
            n = 0
            for poly, c in zip(loops, sub):
                for i in c:
                    n += poly.Contains(s2.S2LatLng.FromDegrees(float(lat[i]), float(lon[i])).ToPoint())
            return n
        _n, t = timed(run_s2)
        res["s2_calls"] = calls
        res["s2_contains_per_point_us"] = round(t / calls * 1e6, 2)
        res["s2_contains_candidates_extrapolated_s"] = round(t / calls * res["index_candidates"], 2)
        res["s2_contains_all_extrapolated_s"] = round(t / calls * lat.size * len(polys), 0)
        log(f"s2geometry: {t / calls * 1e6:.2f} us per point")
    # distance to the edge: 10 polygons x 1,000 points within 20 km of their first vertex
    dsel = list(range(0, len(polys), max(1, len(polys) // 10)))[:10]
    dpts = []
    for k in dsel:
        v = polys[k][0]
        la, lo = destination(np.full(1000, v[1]), np.full(1000, v[0]), rng.uniform(0, 360, 1000),
                             rng.uniform(0, 20_000, 1000))
        dpts.append((la, wrap(lo)))
    d_ours, t = timed(lambda: [areas[k].distance_m(la, lo) for k, (la, lo) in zip(dsel, dpts)])
    res["distance_points"] = 10 * 1000
    res["cleanpath_distance_s"] = round(t, 3)
    log(f"cleanpath distance: {t:.3f} s")
    if spherely is not None:
        d_sp, t = timed(lambda: [spherely.distance(sp_polys[k], spherely.points(lo, la)) for k, (la, lo)
                                 in zip(dsel, dpts)])
        res["spherely_distance_s"] = round(t, 3)
        # spherely returns metres on its own sphere radius
        diff = np.concatenate([np.abs(np.asarray(b) / spherely.EARTH_RADIUS_METERS * EARTH_RADIUS_M - a)
                               for a, b in zip(d_ours, d_sp)])
        res["distance_cleanpath_vs_spherely_max_m"] = round(float(diff.max()), 3)
        res["distance_cleanpath_vs_spherely_median_m"] = round(float(np.median(diff)), 4)
        log(f"spherely distance: {t:.3f} s")
    if s2 is not None:
        def run_s2d():
            out = []
            for k, (la, lo) in zip(dsel, dpts):
                poly = loops[k]
                out.append([poly.GetDistance(s2.S2LatLng.FromDegrees(float(y), float(x)).ToPoint()).radians()
                            for y, x in zip(la, lo)])
            return out
        _d, t = timed(run_s2d)
        res["s2_distance_s"] = round(t, 3)
    res["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return res


# --- exactness --------------------------------------------------------------------------------------

def quads(rng) -> list[list[list[float]]]:
    """Convex CCW quadrilaterals with continuous longitudes (some past 180)."""
    out = []
    for kind, n in (("plain", 8), ("antimeridian", 8), ("polar", 4)):
        for _ in range(n):
            if kind == "plain":
                x0, y0 = rng.uniform(-170, 160), rng.uniform(-60, 58)
            elif kind == "antimeridian":
                x0, y0 = rng.uniform(179.0, 179.9), rng.uniform(-60, 58)
            else:
                x0, y0 = rng.uniform(-170, 160), rng.uniform(84, 87)
            w, h = rng.uniform(0.2, 1.5), rng.uniform(0.1, 1.0)
            j = rng.uniform(-0.03, 0.03, 8)
            ring = [[x0 + j[0], y0 + j[1]], [x0 + w + j[2], y0 + j[3]], [x0 + w + j[4], y0 + h + j[5]],
                    [x0 + j[6], y0 + h + j[7]]]
            out.append((kind, ring + [ring[0]]))
    return out


def near_edge_points(rng, ring, per_edge: int = 40):
    """Points 1e-8..1e-3 degrees either side of each lon/lat edge, plus random ones."""
    xs, ys = [], []
    for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:]):
        t = rng.uniform(0.05, 0.95, per_edge)
        off = 10.0 ** rng.uniform(-8, -3, per_edge) * rng.choice([-1, 1], per_edge)
        nx, ny = -(y2 - y1), (x2 - x1)
        norm = np.hypot(nx, ny)
        xs.append(x1 + t * (x2 - x1) + off * nx / norm)
        ys.append(y1 + t * (y2 - y1) + off * ny / norm)
    allx = np.array([p[0] for p in ring])
    ally = np.array([p[1] for p in ring])
    xs.append(rng.uniform(allx.min() - 0.2, allx.max() + 0.2, 40))
    ys.append(np.clip(rng.uniform(ally.min() - 0.2, ally.max() + 0.2, 40), -90, 90))
    return np.concatenate(ys), np.concatenate(xs)


def lonlat_oracle(lat, lon, ring) -> np.ndarray:
    """Exact even-odd ray casting with rational arithmetic (edges straight in lon/lat)."""
    edges = [(Fraction(x1), Fraction(y1), Fraction(x2), Fraction(y2))
             for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:])]
    out = []
    for y, x in zip(lat, lon):
        px, py, inside = Fraction(float(x)), Fraction(float(y)), False
        for x1, y1, x2, y2 in edges:
            if (y1 > py) != (y2 > py) and px < x1 + (py - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        out.append(inside)
    return np.array(out)


def _xyz_ld(lat, lon):
    la = np.radians(np.asarray(lat, dtype=np.longdouble))
    lo = np.radians(np.asarray(lon, dtype=np.longdouble))
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def geodesic_oracle(lat, lon, ring) -> tuple[np.ndarray, np.ndarray]:
    """Inside a convex CCW geodesic polygon (left of every edge) and the distance to its boundary
    (cross-track or to the nearer end), in extended precision."""
    v = _xyz_ld([p[1] for p in ring], [p[0] for p in ring])
    p = _xyz_ld(lat, lon)
    inside = np.ones(len(lat), dtype=bool)
    best = np.full(len(lat), np.inf, dtype=np.longdouble)
    for a, b in zip(v[:-1], v[1:]):
        n = np.cross(a, b)
        n = n / np.sqrt((n * n).sum())
        s = p @ n
        inside &= s > 0
        on = ((p @ np.cross(n, a)) >= 0) & ((p @ np.cross(b, n)) >= 0)

        def ang(q):
            c = np.cross(p, q)
            return np.arctan2(np.sqrt((c * c).sum(axis=1)), p @ q)
        d = np.where(on, np.arcsin(np.abs(s)), np.minimum(ang(a), ang(b)))
        best = np.minimum(best, d)
    return inside, np.where(inside, 0, best * EARTH_RADIUS_M).astype("float64")


def exact(args) -> dict:
    from geo_oracles import edge_distance_m

    rng = np.random.default_rng(7)
    tally: dict = {}

    def add(key, n):
        tally[key] = tally.get(key, 0) + int(n)
    err_ours, err_sp, bow = [], [], []
    for kind, ring in quads(rng):
        lat, lon = near_edge_points(rng, ring)
        wring = [[float(wrap(x)), y] for x, y in ring]
        area = parse_area({"type": "Polygon", "coordinates": [wring]})
        ours = area.contains(lat, wrap(lon))
        ll = lonlat_oracle(lat, lon, ring)
        geo, gdist = geodesic_oracle(lat, lon, ring)
        add("points", lat.size)
        add(f"points_{kind}", lat.size)
        add("cleanpath_vs_lonlat_oracle_wrong", (ours != ll).sum())
        add("cleanpath_vs_geodesic_oracle_differ", (ours != geo).sum())
        add("lonlat_vs_geodesic_oracles_differ", (ll != geo).sum())
        add(f"lonlat_vs_geodesic_oracles_differ_{kind}", (ll != geo).sum())
        d = area.distance_m(lat, wrap(lon))
        ref = np.where(ll, 0.0, edge_distance_m(lat, lon, [[ring]]))
        err_ours.append(np.abs(d - ref))
        bow.append(np.abs(gdist - ref))
        if spherely is not None:
            poly = spherely.create_polygon([tuple(p) for p in wring[:-1]])
            pts = spherely.points(wrap(lon), lat)
            sp = np.asarray(spherely.contains(poly, pts)) | np.asarray(spherely.touches(poly, pts))
            add("spherely_vs_geodesic_oracle_wrong", (sp != geo).sum())
            add("spherely_vs_lonlat_oracle_differ", (sp != ll).sum())
            sd = np.asarray(spherely.distance(poly, pts)) / spherely.EARTH_RADIUS_METERS * EARTH_RADIUS_M
            err_sp.append(np.abs(sd - gdist))
        if s2 is not None:
            loop = s2.S2Loop([s2.S2LatLng.FromDegrees(y, x).ToPoint() for x, y in wring[:-1]])
            loop.Normalize()
            poly2 = s2.S2Polygon(loop)
            s2in = np.array([poly2.Contains(s2.S2LatLng.FromDegrees(float(y), float(x)).ToPoint())
                             for y, x in zip(lat, wrap(lon))])
            add("s2_vs_geodesic_oracle_wrong", (s2in != geo).sum())
    out = dict(tally)
    e = np.concatenate(err_ours)
    out["cleanpath_distance_vs_lonlat_oracle_max_m"] = round(float(e.max()), 4)
    b = np.concatenate(bow)
    out["geodesic_vs_lonlat_edge_distance_max_m"] = round(float(b.max()), 2)
    if err_sp:
        s = np.concatenate(err_sp)
        out["spherely_distance_vs_geodesic_oracle_max_m"] = round(float(s.max()), 4)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sections", nargs="*", default=["speed", "exact"], choices=["speed", "exact"])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--polygons", type=int, default=100)
    args = ap.parse_args(argv)
    out = {"machine": machine(("numpy", "scipy", "spherely", "s2geometry")),
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    for s in args.sections:
        out[s] = {"speed": speed, "exact": exact}[s](args)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
