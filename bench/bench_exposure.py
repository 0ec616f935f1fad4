"""Benchmarks of the exposure question and its spatial engine (results: bench/results_exposure.md).

Sections (all data synthetic and seeded, generated here, never stored in the repository):

``engine``
    10 M cells x 2,000 sensitive sites at 5 km, one country: the candidate spatial joins (grid-key
    join in DuckDB SQL, the same in numpy, scipy cKDTree on 3-D unit vectors, sklearn BallTree
    with the haversine metric, H3, shapely STRtree) and a geopandas ``sjoin`` baseline in a metric
    projection, each checked against the exact pair count; then the whole question.
``world``
    40 M cells in Parquet (OpenCelliD columns plus vendor) x 5,000 sensitive sites, end to end
    through the command line in a child process: wall time and peak RSS.
``dask``
    Speed-up of the Dask executor with 1, 2 and 4 local worker processes on the national data
    written as Parquet.

Usage::

    .venv/bin/python bench/bench_exposure.py engine world dask [--scale 0.1] [--data DIR]

geopandas, shapely, h3 and scikit-learn are needed only here (``pip install geopandas h3
scikit-learn``); candidates whose library is missing are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cleanpath.analysis.exposure import DEFAULT_BY, ExposureTask, TablePoints, run_task
from cleanpath.geo import Grid, ZoneJoin, Zones, connect
from cleanpath.geo.grid import spatial_order
from cleanpath.geo.join import fetch
from cleanpath.geo.sphere import DEG, EARTH_RADIUS_M, RADIUS_TOLERANCE_M, cap_boxes

RADIUS = 5000.0
VENDORS = np.array(["huawei", "ericsson", "nokia", "zte", "samsung"])
RADIOS = np.array(["GSM", "UMTS", "LTE", "NR"])
GENERATION = np.array(["2G", "3G", "4G", "5G-NSA"])
UNTRUSTED = {"huawei", "zte"}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    c0 = time.process_time()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0, time.process_time() - c0


# -- synthetic data --------------------------------------------------------------------------------

def towns(rng, n, lat_lo, lat_hi, lon_lo, lon_hi):
    """Town centres, uniform on the sphere inside a box, with Zipf-like sizes."""
    u = rng.uniform(np.sin(np.radians(lat_lo)), np.sin(np.radians(lat_hi)), n)
    lat = np.degrees(np.arcsin(u))
    lon = rng.uniform(lon_lo, lon_hi, n)
    w = 1.0 / np.arange(1, n + 1) ** 0.9
    return lat, lon, w / w.sum()


def scatter(rng, n, lat, lon, w, sigma_km):
    """n points around towns chosen by weight, Gaussian spread of sigma_km."""
    k = rng.choice(lat.size, n, p=w)
    s = rng.uniform(*sigma_km, lat.size)[k] / 111.2
    plat = np.clip(lat[k] + rng.normal(0, 1, n) * s, -90, 90)
    plon = lon[k] + rng.normal(0, 1, n) * s / np.maximum(np.cos(np.radians(plat)), 0.05)
    return plat, (plon + 180.0) % 360.0 - 180.0


def cells_table(rng, lat, lon) -> pa.Table:
    """OpenCelliD columns plus vendor for these positions."""
    n = lat.size
    net = rng.integers(1, 4, n).astype(np.int16)
    # Each operator buys from its own mix, as real operators do.
    mix = np.array([[0.45, 0.25, 0.20, 0.05, 0.05], [0.10, 0.50, 0.35, 0.03, 0.02], [0.30, 0.30, 0.30, 0.05, 0.05]])
    u = rng.random(n)
    vend = (u[:, None] > np.cumsum(mix, axis=1)[net - 1]).sum(axis=1)
    radio = rng.choice(4, n, p=[0.15, 0.15, 0.55, 0.15])
    return pa.table({
        "radio": pa.DictionaryArray.from_arrays(pa.array(radio.astype(np.int8)), pa.array(RADIOS)),
        "mcc": np.full(n, 262, dtype=np.int16), "net": net,
        "area": rng.integers(1, 60000, n).astype(np.int32), "cell": np.arange(n, dtype=np.int64),
        "unit": rng.integers(0, 504, n).astype(np.int16), "lon": lon, "lat": lat,
        "range": rng.integers(100, 20000, n).astype(np.int32), "samples": rng.integers(1, 500, n).astype(np.int32),
        "changeable": np.ones(n, dtype=np.int8), "created": np.full(n, 1_500_000_000, dtype=np.int64),
        "updated": np.full(n, 1_700_000_000, dtype=np.int64), "averageSignal": np.zeros(n, dtype=np.int16),
        "vendor": pa.DictionaryArray.from_arrays(pa.array(vend.astype(np.int8)), pa.array(VENDORS)),
    })


def national(scale: float, seed: int = 6, layout: str = "towns"):
    """10 M cells and 2,000 sites over a Germany-sized box (scaled).

    ``uniform``: cells and sites spread evenly (about 2,200 cells within 5 km of a site);
    ``towns``: 90 % of the cells around 4,000 towns of Zipf-like sizes and 60 % of the sites in
    towns too (about 15,000 cells within 5 km of a site: the dense case).
    """
    rng = np.random.default_rng(seed)
    n, m = int(10_000_000 * scale), max(int(2_000 * scale), 50)
    if layout == "uniform":
        lat, lon, _ = towns(rng, n, 47.3, 55.0, 5.9, 15.0)
        zlat, zlon, _ = towns(rng, m, 47.3, 55.0, 5.9, 15.0)
        return lat, lon, zlat, zlon, cells_table(rng, lat, lon)
    tl, to, tw = towns(rng, 4000, 47.3, 55.0, 5.9, 15.0)
    lat, lon = scatter(rng, int(n * 0.9), tl, to, tw, (2, 12))
    lat = np.concatenate([lat, rng.uniform(47.3, 55.0, n - lat.size)])
    lon = np.concatenate([lon, rng.uniform(5.9, 15.0, n - lon.size)])
    zlat, zlon = scatter(rng, int(m * 0.6), tl, to, tw, (3, 8))
    zlat = np.concatenate([zlat, rng.uniform(47.3, 55.0, m - zlat.size)])
    zlon = np.concatenate([zlon, rng.uniform(5.9, 15.0, m - zlon.size)])
    return lat, lon, zlat, zlon, cells_table(rng, lat, lon)


def table_points(cells: pa.Table) -> TablePoints:
    """The cells as the in-memory point relation the exposure question scans."""
    n = cells.num_rows
    vend = cells.column("vendor").combine_chunks()
    gen = cells.column("radio").combine_chunks()
    nu = np.isin(vend.indices.to_numpy(), [0, 3]).astype(np.int64)
    ones = np.ones(n, dtype=np.int64)
    table = pa.table({
        "pid": np.arange(n, dtype=np.int64), "lat": cells.column("lat"), "lon": cells.column("lon"),
        "site": np.arange(n, dtype=np.int64), "ven": vend.indices.cast(pa.int32()),
        "op": pa.compute.cast(cells.column("net"), pa.int32()), "gen": gen.indices.cast(pa.int32()),
        "n": ones, "nu": nu, "fs": ones, "fsv": ones, "fsg": ones,
        "ident": pa.compute.cast(cells.column("cell"), pa.string())})
    return TablePoints(table, tuple(VENDORS), ("0", "1", "2", "3"), tuple(GENERATION))


# -- candidate joins (each returns the number of (site, cell) pairs within the radius) -------------

def cand_duckdb(lat, lon, zlat, zlon):
    con = connect()
    pts = pa.Table.from_batches(pa.table({"lat": lat, "lon": lon}).to_batches(max_chunksize=1 << 17))
    con.register("pts", pts)
    join = ZoneJoin(con, Zones.build(zlat, zlon, np.full(zlat.size, RADIUS)))
    return int(fetch(con, f"SELECT count(*) AS n FROM ({join.within_sql('SELECT lat, lon FROM pts', [])})")
               .column("n")[0].as_py())


def _hav_h(lat1, lon1, lat2, lon2):
    a = np.sin((lat2 - lat1) * (DEG / 2))
    b = np.sin((lon2 - lon1) * (DEG / 2))
    return a * a + np.cos(lat1 * DEG) * np.cos(lat2 * DEG) * (b * b)


HMAX = float(np.sin((RADIUS + RADIUS_TOLERANCE_M) / (2 * EARTH_RADIUS_M)) ** 2)


def cand_numpy(lat, lon, zlat, zlon):
    grid = Grid.for_cell(RADIUS / 2)
    owner, key = grid.cover_boxes(*cap_boxes(zlat, zlon, np.full(zlat.size, RADIUS + RADIUS_TOLERANCE_M)))
    order = np.argsort(key, kind="stable")
    uk, start, cnt = np.unique(key[order], return_index=True, return_counts=True)
    zs = owner[order]
    pk = grid.point_keys(lat, lon)
    pos = np.minimum(np.searchsorted(uk, pk), uk.size - 1)
    hit = np.flatnonzero(uk[pos] == pk)
    c = cnt[pos[hit]]
    pi = np.repeat(hit, c)
    zi = zs[np.repeat(start[pos[hit]], c) + (np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c))]
    return int((_hav_h(lat[pi], lon[pi], zlat[zi], zlon[zi]) <= HMAX).sum())


def _xyz(lat, lon):
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def cand_ckdtree(lat, lon, zlat, zlon):
    from scipy.spatial import cKDTree

    tree = cKDTree(_xyz(lat, lon), balanced_tree=False, compact_nodes=False)
    chord = 2 * np.sin((RADIUS + RADIUS_TOLERANCE_M) / (2 * EARTH_RADIUS_M))  # exact: chord is monotone
    return int(sum(len(r) for r in tree.query_ball_point(_xyz(zlat, zlon), chord, workers=-1)))


def cand_balltree(lat, lon, zlat, zlon):
    from sklearn.neighbors import BallTree

    tree = BallTree(np.radians(np.column_stack([lat, lon])), metric="haversine")
    ind = tree.query_radius(np.radians(np.column_stack([zlat, zlon])), (RADIUS + RADIUS_TOLERANCE_M) / EARTH_RADIUS_M)
    return int(sum(len(i) for i in ind))


def cand_h3(lat, lon, zlat, zlon):
    import h3

    res = 7  # edge ~1.2 km; a 5 km disc is covered by grid_disk(k=5) of the centre cell
    cells = np.fromiter((h3.str_to_int(h3.latlng_to_cell(a, b, res)) for a, b in zip(lat, lon)),
                        dtype=np.uint64, count=lat.size)
    zc, zo = [], []
    for i, (a, b) in enumerate(zip(zlat, zlon)):  # 2,000 sites, not points
        ring = [h3.str_to_int(c) for c in h3.grid_disk(h3.latlng_to_cell(a, b, res), 5)]
        zc += ring
        zo += [i] * len(ring)
    zc, zo = np.array(zc, dtype=np.uint64), np.array(zo)
    order = np.argsort(zc)
    uk, start, cnt = np.unique(zc[order], return_index=True, return_counts=True)
    pos = np.minimum(np.searchsorted(uk, cells), uk.size - 1)
    hit = np.flatnonzero(uk[pos] == cells)
    c = cnt[pos[hit]]
    pi = np.repeat(hit, c)
    zi = zo[order][np.repeat(start[pos[hit]], c) + (np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c))]
    return int((_hav_h(lat[pi], lon[pi], zlat[zi], zlon[zi]) <= HMAX).sum())


def cand_strtree(lat, lon, zlat, zlon):
    import shapely

    pts = shapely.points(lon, lat)
    tree = shapely.STRtree(pts)
    lo, hi, wlo, whi = cap_boxes(zlat, zlon, np.full(zlat.size, RADIUS + RADIUS_TOLERANCE_M))
    boxes = shapely.box(wlo, lo, whi, hi)
    zi, pi = tree.query(boxes)
    return int((_hav_h(lat[pi], lon[pi], zlat[zi], zlon[zi]) <= HMAX).sum())


def baseline_geopandas(lat, lon, zlat, zlon):
    """What a GIS analyst would write: project to a metric CRS (LAEA Europe), buffer, sjoin."""
    import geopandas as gpd

    cells = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs("EPSG:3035")
    sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy(zlon, zlat), crs="EPSG:4326").to_crs("EPSG:3035")
    sites["geometry"] = sites.buffer(RADIUS, quad_segs=16)
    return int(len(gpd.sjoin(cells, sites, predicate="within", how="inner")))


CANDIDATES = {
    "duckdb grid-key join + haversine (cleanpath)": cand_duckdb,
    "numpy grid hashing + haversine": cand_numpy,
    "scipy cKDTree on 3-D unit vectors": cand_ckdtree,
    "sklearn BallTree (haversine)": cand_balltree,
    "H3 res 7 grid_disk + haversine": cand_h3,
    "shapely STRtree + haversine": cand_strtree,
    "geopandas sjoin, EPSG:3035 buffers (baseline)": baseline_geopandas,
}


def bench_engine(scale: float, only: list[str] | None, sub: float, layouts=("uniform", "towns")) -> list[dict]:
    rows = []
    for layout in layouts:
        lat, lon, zlat, zlon, cells = national(scale, layout=layout)
        log(f"engine ({layout}): {lat.size:,} cells x {zlat.size:,} sites at {RADIUS:g} m")
        exact = cand_duckdb(lat, lon, zlat, zlon)
        for name, fn in CANDIDATES.items():
            if only and not any(o in name for o in only):
                continue
            # The slowest candidates run on a subset and say so.
            n = lat.size if fn not in (cand_balltree, cand_h3) else int(lat.size * sub)
            try:
                count, wall, cpu = timed(fn, lat[:n], lon[:n], zlat, zlon)
            except ImportError as e:
                log(f"  {name}: skipped ({e})")
                continue
            ref = exact if n == lat.size else cand_duckdb(lat[:n], lon[:n], zlat, zlon)
            rows.append({"layout": layout, "candidate": name, "cells": n, "seconds": wall, "cpu_seconds": cpu,
                         "pairs": count, "exact_pairs": ref, "correct": count == ref})
            log(f"  {name}: {wall:.2f} s (cpu {cpu:.2f}) on {n:,}, pairs {count:,} vs exact {ref:,}")
        # The whole question on the same data: counts by vendor, operator and generation and the
        # nearest untrusted cell of every site (local executor, every core).
        src = table_points(cells)
        zones = Zones.build(zlat, zlon, np.full(zlat.size, RADIUS))
        task = ExposureTask(np.arange(zlat.size), zones, src, DEFAULT_BY, 2.1e7, RADIUS / 8)
        out, wall, cpu = timed(run_task, task)
        log(f"  whole question (run_task): {wall:.2f} s (cpu {cpu:.2f})")
        rows.append({"layout": layout, "candidate": "whole question: counts by vendor/operator/generation + nearest",
                     "cells": lat.size, "seconds": wall, "cpu_seconds": cpu, "pairs": None, "exact_pairs": exact,
                     "correct": int(out.counts["total"]["elements"].sum()) == exact})
    return rows


# -- world scale -----------------------------------------------------------------------------------

def world_data(data: Path, scale: float, files: int = 4, seed: int = 40) -> tuple[list[Path], Path]:
    """40 M cells worldwide in ``files`` Parquet files sorted by space (as exports sorted by
    country are), and 5,000 sensitive sites as CSV; reused when present."""
    n, m = int(40_000_000 * scale), max(int(5_000 * scale), 100)
    out = data / f"world_{n}"
    paths = [out / f"cells_{i}.parquet" for i in range(files)]
    sites = out / "sensitive.csv"
    if all(p.exists() for p in paths) and sites.exists():
        return paths, sites
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tl, to, tw = towns(rng, 30_000, -56, 72, -180, 180)
    lat, lon = scatter(rng, int(n * 0.97), tl, to, tw, (1, 15))
    lat = np.concatenate([lat, np.degrees(np.arcsin(rng.uniform(-1, 1, n - lat.size)))])
    lon = np.concatenate([lon, rng.uniform(-180, 180, n - lon.size)])
    order = np.argsort(spatial_order(lat, lon, bits=12), kind="stable")
    lat, lon = lat[order], lon[order]
    for i, r in enumerate(np.array_split(np.arange(n), files)):
        pq.write_table(cells_table(rng, lat[r], lon[r]), paths[i], row_group_size=1 << 18)
        log(f"  wrote {paths[i]} ({r.size:,} cells)")
    zlat, zlon = scatter(rng, int(m * 0.7), tl, to, tw, (2, 10))
    zlat = np.concatenate([zlat, np.degrees(np.arcsin(rng.uniform(-0.95, 0.95, m - zlat.size)))])
    zlon = np.concatenate([zlon, rng.uniform(-180, 180, m - zlon.size)])
    pd.DataFrame({"sensitive_id": [f"s{i:05d}" for i in range(m)], "name": [f"Site {i}" for i in range(m)],
                  "kind": rng.choice(["military", "diplomatic", "government"], m), "lat": zlat, "lon": zlon,
                  "radius_m": RADIUS}).to_csv(sites, index=False)
    return paths, sites


CLI = ("from cleanpath.cli.main import cli\nfrom cleanpath.cli import exposure\n"
       "'exposure' in cli.commands or exposure.register(cli)\ncli(prog_name='cleanpath')\n")


def run_cli(args: list[str], workspace: Path) -> dict:
    """The command line in a child process: wall time and the child's peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CLI, "-w", str(workspace), *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of children is the largest child so far: run this first in a fresh process.
    return {"seconds": wall, "cpu_seconds": cpu, "load_before": load, "peak_rss_mb": after.ru_maxrss / 1024,
            "stdout": proc.stdout}


def bench_world(data: Path, scale: float) -> dict:
    paths, sites = world_data(data, scale)
    n = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    m = len(pd.read_csv(sites))
    log(f"world: {n:,} cells in {len(paths)} Parquet files x {m:,} sites")
    with tempfile.TemporaryDirectory() as tmp:
        res = run_cli(["exposure", "--cells", ",".join(map(str, paths)), "--sensitive", str(sites), "--radius", "5km",
                       "--format", "json"], Path(tmp) / "ws.duckdb")
    obj = json.loads(res["stdout"])
    ex = pd.DataFrame(obj["tables"]["exposure"])
    out = {"cells": n, "sites": m, "seconds": res["seconds"], "cpu_seconds": res["cpu_seconds"],
           "load_before": res["load_before"], "peak_rss_mb": res["peak_rss_mb"],
           "inner_seconds": obj["summary"]["seconds"], "pairs": int(ex.elements_within.sum()),
           "with_untrusted_within": obj["summary"]["with_untrusted_within"],
           "nearest_found": int(ex.nearest_untrusted_m.notna().sum())}
    # Spot check: 10 sites counted by brute force over every cell (3-D chord distances).
    rng = np.random.default_rng(1)
    sites_df = pd.read_csv(sites)
    pick = rng.choice(len(sites_df), 10, replace=False)
    xyz = []
    for p in paths:
        t = pq.read_table(p, columns=["lat", "lon"])
        xyz.append(_xyz(t.column("lat").to_numpy(), t.column("lon").to_numpy()))
    xyz = np.concatenate(xyz)
    chord = 2 * np.sin((RADIUS + RADIUS_TOLERANCE_M) / (2 * EARTH_RADIUS_M))
    got = ex.set_index("sensitive_id").elements_within
    ok = 0
    for i in pick:
        c = _xyz(np.array([sites_df.lat[i]]), np.array([sites_df.lon[i]]))[0]
        ok += int((np.linalg.norm(xyz - c, axis=1) <= chord).sum() == got[sites_df.sensitive_id[i]])
    out["spot_checked_sites_equal"] = f"{ok}/10"
    log(f"  {out}")
    return out


def bench_dask(data: Path, scale: float, workers=(1, 2, 4)) -> list[dict]:
    from cleanpath.analysis.exposure import run_exposure
    from cleanpath.scale import get_executor

    lat, lon, zlat, zlon, cells = national(scale)
    out = data / f"national_{lat.size}.parquet"
    if not out.exists():
        order = np.argsort(spatial_order(lat, lon, bits=12), kind="stable")
        pq.write_table(cells.take(pa.array(order)), out, row_group_size=1 << 17)
    sens = pd.DataFrame({"sensitive_id": [f"s{i}" for i in range(zlat.size)], "name": "s", "kind": "military",
                         "lat": zlat, "lon": zlon, "radius_m": RADIUS, "geometry": None})
    rows = []
    local, wall, cpu = timed(run_exposure, None, sensitive=sens, cells=[out])
    rows.append({"executor": "local (DuckDB, 2 threads)", "workers": 1, "seconds": wall, "startup": 0.0,
                 "task_seconds_total": local.summary["task_seconds_total"]})
    log(f"dask: local {wall:.2f} s (task {local.summary['task_seconds_total']:.2f} s)")
    for w in workers:
        ex, start, _ = timed(get_executor, "dask", workers=w)
        try:
            res, wall, _ = timed(run_exposure, None, sensitive=sens, cells=[out], executor=ex)
        finally:
            ex.close()
        same = all(res.tables[k].equals(local.tables[k]) for k in local.tables)
        rows.append({"executor": "dask LocalCluster", "workers": w, "seconds": wall, "startup": start, "same": same,
                     "tasks": res.summary["tasks"], "task_seconds_total": res.summary["task_seconds_total"],
                     "slowest_task_seconds": res.summary["slowest_task_seconds"],
                     "nearest_searched_globally": res.summary["nearest_searched_globally"]})
        log(f"  dask {w} workers: {wall:.2f} s (+{start:.1f} s cluster start), same tables: {same}, "
            f"{res.summary['tasks']} tasks, {res.summary['task_seconds_total']:.2f} task-s, slowest "
            f"{res.summary['slowest_task_seconds']:.2f} s, {res.summary['nearest_searched_globally']} global")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sections", nargs="*", default=["engine", "world", "dask"])
    ap.add_argument("--scale", type=float, default=1.0, help="Multiply every size (0.1 for a quick run).")
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "cleanpath-bench",
                    help="Where generated Parquet files are kept between runs.")
    ap.add_argument("--only", nargs="*", default=None, help="Engine candidates whose name contains these words.")
    ap.add_argument("--subset", type=float, default=0.2,
                    help="Share of the cells given to the slow candidates (BallTree, H3).")
    args = ap.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    report = {"date": time.strftime("%Y-%m-%d"), "load_average": os.getloadavg(), "cores": os.cpu_count()}
    if "engine" in args.sections:
        report["engine"] = bench_engine(args.scale, args.only, args.subset)
    if "world" in args.sections:
        report["world"] = bench_world(args.data, args.scale)
    if "dask" in args.sections:
        report["dask"] = bench_dask(args.data, args.scale)
    report["load_average_after"] = os.getloadavg()
    print(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
