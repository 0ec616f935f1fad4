"""Benchmark: full-scale Germany generated and stored.

Run from the repository root::

    /work/main/.venv/bin/python bench/bench_generate.py [--country DE] [--scale 1.0] [--repeat 3]
        [--out bench/results_generate.md]

Each repetition runs in a fresh Python process (so one run's memory cannot hide another's peak)
and measures, after imports:

``generate``
    ``generate_network(country=..., scale=..., seed=...)``: places from GeoNames, cell sites,
    vendor lots, transport, core, management, demands, and the validation every ``Network``
    gets (types, vocabularies, keys, references).
``store``
    ``ws.write_network("bench", net)`` into a new DuckDB workspace.
``total``
    Both. Target for full-scale Germany (about 80 thousand sites, about a million elements):
    at most 30 s, with peak RSS at most 3 GB (the process's VmHWM, imports included).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _measure  # bench/_measure.py: scripts run from bench/ have it on sys.path
from _measure import peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 30.0
TARGET_RSS_MB = 3 * 1024


def machine() -> dict:
    return _measure.machine(("numpy", "pandas", "pyarrow", "duckdb", "scipy"))


def one_run(country: str, scale: float, seed: int) -> dict:
    """One measured run, in this process."""
    import cleanpath
    from cleanpath.build.generate import generate_network

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        net = generate_network(country=country, scale=scale, seed=seed)
        t1 = time.perf_counter()
        with cleanpath.open_workspace(Path(tmp) / "ws.duckdb") as ws:
            ws.write_network("bench", net, source=f"bench_generate {country} {scale}")
        t2 = time.perf_counter()
        rep = net.cache["generate"]
        return {"generate": t1 - t0, "store": t2 - t1, "total": t2 - t0, "peak_rss_mb": peak_rss_mb(),
                "rows": {k: len(v) for k, v in net.tables().items() if len(v)},
                "achieved": rep.achieved, "targets": rep.targets}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--country", default="DE")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="Write a Markdown report here.")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one_run(args.country, args.scale, args.seed)))
        return
    runs = []
    for i in range(args.repeat):
        load = os.getloadavg()[0]
        t = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--child", "--country", args.country,
                              "--scale", str(args.scale), "--seed", str(args.seed + i)],
                             check=True, capture_output=True, text=True, cwd=ROOT)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        r["process"] = time.perf_counter() - t
        r["load"] = load
        runs.append(r)
        print(f"run {i + 1}: generate {r['generate']:.1f} s, store {r['store']:.1f} s, total "
              f"{r['total']:.1f} s (process {r['process']:.1f} s), peak RSS {r['peak_rss_mb']:,.0f} MiB",
              file=sys.stderr)
    med = {k: statistics.median(r[k] for r in runs) for k in ("generate", "store", "total", "process", "peak_rss_mb")}
    worst_total = max(r["total"] for r in runs)
    worst_rss = max(r["peak_rss_mb"] for r in runs)
    ok = worst_total <= TARGET_SECONDS and worst_rss <= TARGET_RSS_MB
    report = render(args, runs, med, worst_total, worst_rss, ok)
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")


def render(args, runs, med, worst_total, worst_rss, ok) -> str:
    m = machine()
    rows = runs[0]["rows"]
    lines = [
        "# Benchmark: generate and store a national network",
        "",
        f"Date: {dt.date.today().isoformat()}. Command (from the repository root):",
        "",
        "```",
        f".venv/bin/python bench/bench_generate.py --country {args.country} --scale {args.scale:g} "
        f"--repeat {args.repeat} --out bench/results_generate.md",
        "```",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}, numpy "
        f"{m['numpy']}, pandas {m['pandas']}, pyarrow {m['pyarrow']}, duckdb {m['duckdb']}, scipy {m['scipy']}.",
        "",
        f"Network: {args.country} at scale {args.scale:g}: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()) + ".",
        "",
        "Each run is a fresh process with a different seed; times are wall-clock seconds after imports,",
        "`process` is the whole child process including imports; peak RSS is the process's VmHWM;",
        "`load` is the machine's 1-minute load average when the run started (other work on the same",
        "two cores slows a run down).",
        "",
        "| run | seed | load | generate (s) | store (s) | total (s) | process (s) | peak RSS (MiB) | Chinese 4G / 5G (target) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(runs):
        lines.append(f"| {i + 1} | {args.seed + i} | {r['load']:.1f} | {r['generate']:.1f} | {r['store']:.1f} | {r['total']:.1f} | "
                     f"{r['process']:.1f} | {r['peak_rss_mb']:,.0f} | {r['achieved']['4G']:.1%} / "
                     f"{r['achieved']['5G']:.1%} ({r['targets']['4G']:.0%} / {r['targets']['5G']:.0%}) |")
    lines += [
        f"| median | | | {med['generate']:.1f} | {med['store']:.1f} | {med['total']:.1f} | {med['process']:.1f} | "
        f"{med['peak_rss_mb']:,.0f} | |",
        "",
        f"Target: generated and stored in at most {TARGET_SECONDS:.0f} s with peak RSS at most "
        f"{TARGET_RSS_MB:,} MiB. Worst run: {worst_total:.1f} s, {worst_rss:,.0f} MiB: "
        f"**{'met' if ok else 'NOT met'}**.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
