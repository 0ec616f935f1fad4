"""Benchmark: the audit of a 1 M-element network against every shipped policy pack.

Run ``python bench/bench_audit.py [--elements N] [--repeat R] [--out bench/results_audit.md]``.

The network comes from :func:`cleanpath.build.synthetic.synthetic_network` (eight operators); the
operators are spread over eight countries (DE, GB, US, CA, SE, AU, JP, FR) so that every national
pack has elements to judge, 5 % of the elements are marked as paid for by the US Universal Service
Fund, and the sensitive sites are the shipped US installations plus 200 made-up diplomatic and
government points in the same area. Timed, each from a fresh ``Network`` (no cached indexes):

* ``audit cold``: ``audit_network(net, policies="all", as_of=...)``, including the one-off
  column coding (the audit context) and the full findings table;
* ``audit warm``: the same network audited again at another date (masks cached);
* ``audit, all operators``: every rule applied to every operator (``jurisdiction=False``), the
  worst case for the number of findings;
* ``timeline 24 months``: ``audit_timeline`` over two years, counts only.

The ``clean_path`` rules call the clean-path engine (a graph question of its own, timed in its own
benchmark); the runs above leave it out, so that they measure the audit engine, and a last run
adds it (when it is installed) to show the cost of the whole audit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from cleanpath.analysis.audit import audit_network, audit_timeline
from cleanpath.model.network import Network
from cleanpath.model.schema import TABLES
from cleanpath.model.validate import arrow_frame
from cleanpath.policy.hooks import register_clean_path_engine

COUNTRIES = ["DE", "GB", "US", "CA", "SE", "AU", "JP", "FR"]
ROOT = Path(__file__).resolve().parents[1]


def build_tables(elements: int, seed: int = 1) -> dict[str, pd.DataFrame]:
    """Typed tables of the benchmark network."""
    from cleanpath.build.synthetic import synthetic_network

    t = synthetic_network(elements=elements, operators=len(COUNTRIES), seed=seed)
    ops = t["operators"].copy()
    ops["country"] = pd.array(COUNTRIES[: len(ops)], dtype=ops["country"].dtype)
    t["operators"] = ops
    rng = np.random.default_rng(seed)
    el = t["elements"].copy()
    usf = rng.random(len(el)) < 0.05
    el["funded_by"] = pd.Series(pd.arrays.ArrowExtensionArray(
        pa.array(np.where(usf, "USF", None).tolist(), type=pa.string())), index=el.index)
    t["elements"] = el
    inst = pd.read_csv(ROOT / "src" / "cleanpath" / "data" / "sensitive" / "us_military_installations.csv")
    sites = t["sites"]
    lat = sites["lat"].to_numpy(dtype="float64", na_value=np.nan)
    lon = sites["lon"].to_numpy(dtype="float64", na_value=np.nan)
    k = 200
    pick = rng.choice(len(sites), size=k, replace=False)
    extra = pd.DataFrame({
        "sensitive_id": [f"x{i}" for i in range(k)], "name": [f"point {i}" for i in range(k)],
        "kind": np.where(np.arange(k) % 2 == 0, "diplomatic", "government"),
        "lat": lat[pick] + rng.normal(0, 0.01, k), "lon": lon[pick] + rng.normal(0, 0.01, k),
        "radius_m": 3000.0})
    mil = pd.DataFrame({"sensitive_id": [f"m{i}" for i in range(len(inst))], "name": inst["name"],
                        "kind": "military", "lat": inst["lat"], "lon": inst["lon"], "radius_m": 5000.0})
    t["sensitive_sites"] = arrow_frame(TABLES["sensitive_sites"], {
        c: pd.concat([mil, extra], ignore_index=True)[c] for c in
        ("sensitive_id", "name", "kind", "lat", "lon", "radius_m")})
    return t


def timed(fn, repeat: int) -> tuple[list[float], object]:
    out, res = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        out.append(time.perf_counter() - t0)
    return out, res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elements", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    tables = build_tables(args.elements)
    build_s = time.perf_counter() - t0
    fresh = lambda: Network(tables, name="bench", validate=False)  # noqa: E731
    day = dt.date(2025, 6, 30)
    engine = register_clean_path_engine(None)  # measure the audit engine alone first

    cold, res = timed(lambda: audit_network(fresh(), policies="all", as_of=day), args.repeat)

    def warm_run():
        net = fresh()
        audit_network(net, policies="all", as_of=day)
        t1 = time.perf_counter()
        audit_network(net, policies="all", as_of=dt.date(2027, 1, 1))
        return time.perf_counter() - t1

    warm = [warm_run() for _ in range(args.repeat)]
    wide, res_wide = timed(lambda: audit_network(fresh(), policies="all", as_of=day, jurisdiction=False),
                           args.repeat)
    tl, res_tl = timed(lambda: audit_timeline(fresh(), policies="all", start="2024-01", end="2025-12"),
                       args.repeat)

    with_engine = None
    if engine is not None:
        register_clean_path_engine(engine)
        with_engine = timed(lambda: audit_network(fresh(), policies="all", as_of=day), 1)

    def fmt(xs: list[float]) -> str:
        return f"{min(xs):.2f} s (median {statistics.median(xs):.2f} s)"

    lines = [
        "# Audit benchmark",
        "",
        f"Command: `python bench/bench_audit.py --elements {args.elements} --repeat {args.repeat}`",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"pyarrow {pa.__version__}; {dt.date.today().isoformat()}.",
        "",
        f"Network: {len(tables['elements']):,} elements, {len(tables['sites']):,} sites, "
        f"{len(tables['links']):,} links, {len(tables['sensitive_sites'])} sensitive sites, "
        f"operators in {', '.join(COUNTRIES)} (built in {build_s:.1f} s, not timed below). "
        f"Policies: every shipped pack ({res.summary['rules']} rules).",
        "",
        "| run | time (best of %d) | findings |" % args.repeat,
        "|---|---|---|",
        f"| audit cold, as of {day} (incl. column coding and findings table) | {fmt(cold)} | "
        f"{res.summary['findings']:,} |",
        f"| audit warm, same network at another date | {fmt(warm)} | |",
        f"| audit, every rule on every operator (`--all-operators`) | {fmt(wide)} | "
        f"{res_wide.summary['findings']:,} |",
        f"| timeline, 24 months (counts per month and pack) | {fmt(tl)} | |",
    ]
    if with_engine is not None:
        lines.append(f"| audit cold with the clean-path engine ({len(tables['sensitive_sites'])} sensitive "
                     f"sites; once) | {with_engine[0][0]:.2f} s | {with_engine[1].summary['findings']:,} |")
    lines += [
        "",
        "Target: 1 M elements against all shipped packs in <= 3 s on a 2-core machine. "
        f"Load average while running: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
