"""Benchmark: the three threat modes (fail, kill, intercept) on full-scale Germany.

Run ``python bench/bench_threat.py [--scale 1.0] [--samples 100] [--repeat 5] [--out FILE]``.

The network is :func:`cleanpath.build.generate.generate_network` for ``DE`` (about 82 k sites,
0.9 M elements at scale 1) with the shipped US installations in Germany as sensitive sites.
Timed, each with a warm index (the element graph, service index, coverage and, for intercept,
the user-plane routes are built once per snapshot and timed separately):

* ``fail``, ``kill``, ``intercept`` for Huawei (median of ``--repeat`` runs);
* ``fail`` and ``kill`` for the OSS vendor Amdocs (the management-is-not-forwarding reproduction);
* the Berlin region (``52.5,13.4,30``) in ``fail`` mode;
* Monte Carlo: ``--samples`` samples at p = 0.001, and the refusal of p = 1e-300 (which used to
  loop forever).

Prints one line per step to stderr and, with ``--out``, writes a Markdown table.
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

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, repeat: int = 1):
    """(median wall seconds, median CPU seconds, last result) of ``repeat`` calls."""
    wall, cpu, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    import cleanpath
    from cleanpath.analysis.outage import run_outage
    from cleanpath.analysis.service import Coverage, ServiceIndex
    from cleanpath.analysis.threat import Routes
    from cleanpath.build.generate import generate_network

    rows: list[tuple[str, float, float, str]] = []

    def note(what: str, wall: float, cpu: float, detail: str = "") -> None:
        rows.append((what, wall, cpu, detail))
        print(f"{what:42s} {wall:8.3f} s  cpu {cpu:8.3f} s  {detail}", file=sys.stderr, flush=True)

    load = os.getloadavg()[0]
    w, c, net = timed(lambda: generate_network(country="DE", scale=args.scale, seed=0))
    inst = pd.read_csv(ROOT / "src" / "cleanpath" / "data" / "sensitive" / "us_military_installations.csv")
    inst = inst[inst["country"] == "DE"].reset_index(drop=True)
    sens = pd.DataFrame({"sensitive_id": [f"us-{i}" for i in range(len(inst))], "name": inst["name"],
                         "kind": "military", "country": "DE", "lat": inst["lat"], "lon": inst["lon"],
                         "radius_m": 5000.0})
    net = cleanpath.Network({**net.tables(), "sensitive_sites": sens}, name="bench")
    note("generate DE (not part of the questions)", w, c, repr(net))
    w, c, _ = timed(net.graph)
    note("element graph", w, c)
    w, c, idx = timed(lambda: ServiceIndex.of(net))
    note("service index", w, c)
    w, c, base = timed(idx.baseline)
    note("baseline fixpoint", w, c, f"{int(base.sum()):,} serving")
    w, c, _ = timed(lambda: Coverage.of(net))
    note("sensitive coverage", w, c)
    w, c, _ = timed(lambda: Routes.of(net))
    note("user-plane routes (intercept, once)", w, c)

    for vendor, mode in (("huawei", "fail"), ("huawei", "kill"), ("huawei", "intercept"),
                         ("amdocs", "fail"), ("amdocs", "kill")):
        w, c, r = timed(lambda: run_outage(net, vendors=vendor, mode=mode), repeat=args.repeat)
        s = r.summary
        if mode == "intercept":
            detail = (f"traffic {s['intercept_traffic_share']:.3f}, subscribers {s['intercept_subscriber_share']:.3f}, "
                      f"signalling {s['intercept_signalling_share']:.3f}, keys {s['keys_exposed_subscribers']:,}")
        else:
            detail = (f"lost {s['lost_elements']:,} elements, {s['lost_sites']:,} sites, "
                      f"{s['lost_subscribers']:,} subscribers; unmanaged {s['unmanaged_elements']:,}"
                      + (f"; killable {s['killable_elements']:,}" if mode == "kill" else ""))
        note(f"{mode} ({vendor}), warm, median of {args.repeat}", w, c, detail)
    w, c, r = timed(lambda: run_outage(net, region="52.5,13.4,30", mode="fail"))
    s = r.summary
    note("fail (Berlin region, 30 km)", w, c, f"lost {s['lost_sites']:,} sites; unmanaged {s['unmanaged_elements']:,}")
    w, c, r = timed(lambda: run_outage(net, random_p=0.001, samples=args.samples, seed=1))
    note(f"Monte Carlo {args.samples} samples, p = 0.001", w, c,
         f"lost elements {r.summary['lost_elements']:,.0f}, unmanaged {r.summary['unmanaged_elements']:,.0f}")

    def refused():
        try:
            run_outage(net, random_p=1e-300, samples=10)
        except cleanpath.ValidationError as e:
            return e.problems[0].reason
        return "accepted"

    w, c, why = timed(refused)
    note("random p = 1e-300 (refused)", w, c, why)

    if args.out:
        lines = [f"Run {dt.date.today().isoformat()} on {platform.processor() or platform.machine()}, "
                 f"{os.cpu_count()} cores, load {load:.1f} at start; "
                 f"`python bench/bench_threat.py --scale {args.scale} --samples {args.samples} "
                 f"--repeat {args.repeat}`", "", "| step | wall s | cpu s | detail |", "|---|---|---|---|"]
        lines += [f"| {a} | {b:.3f} | {cc:.3f} | {d} |" for a, b, cc, d in rows]
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
