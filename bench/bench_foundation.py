"""Benchmark of cleanpath's foundation: import, load, graph build, against pandas + networkx.

Run from the repository root::

    /work/main/.venv/bin/python bench/bench_foundation.py [--elements 1000000] [--repeat 3]

Stages, each in a fresh Python process so that one stage's memory cannot hide another's peak:

``generate``
    Write a structured synthetic network (:mod:`cleanpath.build.synthetic`) as CSV files.
    Not a target; reported for context.
``ingest``
    ``cleanpath.ingest(ws, "tables", [dir], snapshot="bench")`` into a new workspace: read the
    CSV files, validate everything (types, vocabularies, keys, references), store in DuckDB.
    Target: at most 15 s and 2 GB peak RSS for 1 M elements and 1.5 M links.
``load_graph``
    ``open_workspace(...).network("bench")`` and ``Network.graph()`` (sparse element graph).
    Target: at most 3 s.
``baseline``
    What a user would otherwise write: ``pandas.read_csv`` of the same files and a
    ``networkx.Graph`` of the elements and links (no validation, no attributes: the cheapest
    reasonable version).
``connectivity``
    One "switch off a vendor" connectivity pass: transport components without Huawei elements,
    with ``ElementGraph.components`` and with networkx on the baseline graph.

Times are wall-clock seconds of the stage's own work (after imports); ``process`` is the whole
child process including Python start-up and imports; ``cpu`` is the stage's user + system CPU time
(all threads), which other load on the machine barely changes, and the 1-minute load average
before each stage is recorded too. Peak RSS is the child's ``VmHWM``. This is a measurement,
never a timed unit test: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _measure  # bench/_measure.py: scripts run from bench/ have it on sys.path
from _measure import peak_rss_mb

#: Targets for 1 M elements: ingest seconds and peak RSS (MiB), load + graph seconds.
INGEST_SECONDS, INGEST_RSS_MB, LOAD_GRAPH_SECONDS = 15.0, 2048.0, 3.0
STAGES = ("ingest", "load_graph", "baseline", "connectivity")


# --- measuring ------------------------------------------------------------------------------------

def machine() -> dict:
    return _measure.machine(("numpy", "pandas", "pyarrow", "duckdb", "scipy", "networkx"))


def stage_generate(args) -> dict:
    from cleanpath.build.synthetic import synthetic_network, write_csv

    t = time.perf_counter()
    tables = synthetic_network(elements=args.elements, links_per_element=args.links_per_element,
                               seed=args.seed)
    made = time.perf_counter() - t
    write_csv(tables, args.data)
    size = sum(p.stat().st_size for p in Path(args.data).glob("*.csv"))
    return {"seconds": time.perf_counter() - t, "build_seconds": made,
            "rows": {k: len(v) for k, v in tables.items()}, "csv_mb": size / 2**20}


def stage_ingest(args) -> dict:
    import cleanpath

    ws_path = Path(args.workspace)
    for p in (ws_path, ws_path.with_name(ws_path.name + ".wal")):
        p.unlink(missing_ok=True)
    steps: list[tuple[str, float]] = []
    t = time.perf_counter()
    with cleanpath.open_workspace(ws_path) as ws:
        report = cleanpath.ingest(ws, "tables", [args.data], snapshot="bench",
                                  on_step=lambda s: steps.append((s, time.perf_counter() - t)))
    seconds = time.perf_counter() - t
    # Per-phase times from the progress callback: reading, validating, writing.
    marks = {name: at for name, at in steps}
    phases = {
        "read": marks.get("validating", seconds) - marks.get("reading tables", 0.0),
        "validate": marks.get("writing", seconds) - marks.get("validating", 0.0),
        "write": seconds - marks.get("writing", seconds),
    }
    return {"seconds": seconds, "phases": phases, "rows": report.totals,
            "workspace_mb": ws_path.stat().st_size / 2**20}


def stage_load_graph(args) -> dict:
    import cleanpath

    t = time.perf_counter()
    ws = cleanpath.open_workspace(args.workspace, read_only=True)
    net = ws.network("bench")
    loaded = time.perf_counter() - t
    g = net.graph()
    seconds = time.perf_counter() - t
    nnz = {k: int(m.nnz) for k, m in g.adjacency.items()}
    ws.close()
    return {"seconds": seconds, "phases": {"load": loaded, "graph": seconds - loaded},
            "elements": g.n, "nnz": nnz}


def stage_baseline(args) -> dict:
    import networkx as nx
    import pandas as pd

    t = time.perf_counter()
    frames = {p.stem: pd.read_csv(p) for p in sorted(Path(args.data).glob("*.csv"))}
    read = time.perf_counter() - t
    el, links = frames["elements"], frames["links"]
    g = nx.Graph()
    g.add_nodes_from(el["element_id"])
    g.add_edges_from(zip(links["a"], links["b"]))
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "phases": {"read_csv": read, "networkx": seconds - read},
            "nodes": g.number_of_nodes(), "edges": g.number_of_edges()}


def stage_connectivity(args) -> dict:
    import networkx as nx

    import cleanpath

    from scipy.sparse.csgraph import connected_components  # noqa: F401  (import outside the timing)

    net = cleanpath.open_workspace(args.workspace, read_only=True).network("bench")
    g = net.graph()
    t = time.perf_counter()
    keep = ~g.vendor_mask(["huawei"])
    count, _labels = g.components(keep)
    cp = time.perf_counter() - t
    # The same question in networkx, on a graph of the transport links.
    el = net.elements[["element_id", "vendor"]].astype(object)
    links = net.links[net.links["kind"] == "transport"][["a", "b"]].astype(object)
    G = nx.Graph()
    G.add_nodes_from(el["element_id"])
    G.add_edges_from(zip(links["a"], links["b"]))
    t = time.perf_counter()
    kept = el.loc[el["vendor"] != "huawei", "element_id"]
    nx_count = nx.number_connected_components(G.subgraph(kept))
    nxs = time.perf_counter() - t
    removed = int((~keep).sum())
    # Components among kept elements plus one per removed element (counted by scipy as isolated).
    assert count - removed == nx_count, (count, removed, nx_count)
    return {"seconds": cp, "networkx_seconds": nxs, "components": nx_count, "removed": removed,
            "ratio": nxs / cp if cp else None}


STAGE_FUNCS = {"generate": stage_generate, "ingest": stage_ingest, "load_graph": stage_load_graph,
               "baseline": stage_baseline, "connectivity": stage_connectivity}


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(args) -> None:
    # Import everything a stage may need first, so neither wall nor CPU time counts imports.
    import networkx  # noqa: F401
    import pandas  # noqa: F401
    import scipy.sparse.csgraph  # noqa: F401

    import cleanpath  # noqa: F401
    import cleanpath.build.synthetic  # noqa: F401
    import cleanpath.io.tables  # noqa: F401

    load = os.getloadavg()[0]
    cpu = _cpu_seconds()
    out = STAGE_FUNCS[args.stage](args)
    # CPU time of the whole stage function (all threads); unlike wall time it barely moves when
    # other processes compete for the cores, so it tells a slow run from a busy machine.
    out["cpu_seconds"] = _cpu_seconds() - cpu
    out["peak_rss_mb"] = peak_rss_mb()
    out["load_before"] = load
    print("RESULT " + json.dumps(out))


# --- the driver ------------------------------------------------------------------------------------

def run_stage(stage: str, args, common: list[str]) -> dict:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--stage", stage, *common],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"stage {stage} failed (exit {proc.returncode})")
    line = next(ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith("RESULT "))
    out = json.loads(line[len("RESULT "):])
    out["process_seconds"] = wall
    return out


def summarise(runs: list[dict]) -> dict:
    """Median seconds and the largest peak over the repeats; the run closest to the median for the rest."""
    secs = [r["seconds"] for r in runs]
    med = statistics.median(secs)
    rep = min(runs, key=lambda r: abs(r["seconds"] - med))
    out = dict(rep)
    out.update(seconds=med, seconds_min=min(secs), seconds_max=max(secs),
               peak_rss_mb=max(r["peak_rss_mb"] for r in runs),
               process_seconds=statistics.median(r["process_seconds"] for r in runs), repeats=len(runs),
               cpu_seconds=statistics.median(r["cpu_seconds"] for r in runs),
               load_max=max(r["load_before"] for r in runs))
    if "networkx_seconds" in rep:
        out["networkx_seconds"] = statistics.median(r["networkx_seconds"] for r in runs)
        out["ratio"] = out["networkx_seconds"] / med if med else None
    return out


def markdown(res: dict, info: dict, args, command: str) -> str:
    n = args.elements
    ing, lg, base = res["ingest"], res["load_graph"], res["baseline"]
    lines = [
        f"Command: `{command}`",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB RAM; Python "
        f"{info['python']}, numpy {info['numpy']}, pandas {info['pandas']}, pyarrow {info['pyarrow']}, "
        f"duckdb {info['duckdb']}, scipy {info['scipy']}, networkx {info['networkx']}.",
        "",
        f"Network: {n:,} elements, {res['generate']['rows']['links']:,} links, "
        f"{res['generate']['rows']['sites']:,} sites ({res['generate']['csv_mb']:.0f} MB of CSV); "
        f"median of {ing['repeats']} runs, each stage in a fresh process; highest 1-minute load "
        f"average seen before a stage: {max(r['load_max'] for r in res.values() if 'load_max' in r):.1f}.",
        "",
        "| stage | seconds (median) | min .. max | CPU seconds | process incl. start-up | peak RSS | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def row(name: str, r: dict, target: str, met: str) -> str:
        return (f"| {name} | {r['seconds']:.2f} | {r['seconds_min']:.2f} .. {r['seconds_max']:.2f} | "
                f"{r['cpu_seconds']:.2f} | {r['process_seconds']:.2f} | {r['peak_rss_mb']:,.0f} MB | "
                f"{target} | {met} |")

    ok_ing = ing["seconds"] <= INGEST_SECONDS and ing["peak_rss_mb"] <= INGEST_RSS_MB
    ok_lg = lg["seconds"] <= LOAD_GRAPH_SECONDS
    lines.append(row("a. import CSV -> workspace (`ingest`)", ing, "<= 15 s, <= 2 GB",
                     "yes" if ok_ing else "**no**"))
    lines.append(row("b. load snapshot + `Network.graph()`", lg, "<= 3 s", "yes" if ok_lg else "**no**"))
    lines.append(row("c. baseline: `pandas.read_csv` + `networkx.Graph`", base, "", ""))
    if "connectivity" in res:
        c = res["connectivity"]
        lines.append(f"| d. one connectivity pass without Huawei: cleanpath | {c['seconds']:.3f} | "
                     f"{c['seconds_min']:.3f} .. {c['seconds_max']:.3f} | | | | | |")
        lines.append(f"| d. the same pass in networkx | {c['networkx_seconds']:.2f} | | | | "
                     f"{c['peak_rss_mb']:,.0f} MB (both) | | |")
    lines += [
        "",
        "Phases (median run): "
        f"ingest = read {ing['phases']['read']:.2f} s + validate {ing['phases']['validate']:.2f} s + "
        f"write {ing['phases']['write']:.2f} s; load {lg['phases']['load']:.2f} s + graph "
        f"{lg['phases']['graph']:.2f} s; baseline = read_csv {base['phases']['read_csv']:.2f} s + "
        f"networkx {base['phases']['networkx']:.2f} s.",
        "",
        "Ratios (baseline / cleanpath; above 1 means cleanpath is faster or smaller):",
        "",
        f"- every later session: baseline {base['seconds']:.2f} s vs load + graph {lg['seconds']:.2f} s: "
        f"**{base['seconds'] / lg['seconds']:.1f}x**, and cleanpath's tables are validated and typed;",
        f"- first import: baseline {base['seconds']:.2f} s vs ingest {ing['seconds']:.2f} s: "
        f"{base['seconds'] / ing['seconds']:.2f}x (the import also validates every value, key and "
        f"reference and stores the snapshot);",
        f"- peak memory: baseline {base['peak_rss_mb']:,.0f} MB vs load + graph "
        f"{lg['peak_rss_mb']:,.0f} MB ({base['peak_rss_mb'] / lg['peak_rss_mb']:.1f}x).",
    ]
    if "connectivity" in res:
        c = res["connectivity"]
        lines.append(f"- one connectivity pass: networkx {c['networkx_seconds']:.2f} s vs "
                     f"{c['seconds']:.3f} s: **{c['ratio']:.1f}x**.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--elements", type=int, default=1_000_000)
    p.add_argument("--links-per-element", type=float, default=1.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3, help="runs per stage (median reported)")
    p.add_argument("--workdir", type=Path, default=None, help="where data and workspace go (default: a temp dir)")
    p.add_argument("--no-connectivity", action="store_true", help="skip the networkx connectivity stage")
    p.add_argument("--markdown", type=Path, default=None, help="also write the Markdown summary here")
    p.add_argument("--json", type=Path, default=None, help="also write raw results as JSON here")
    # Internal: run one stage in this process.
    p.add_argument("--stage", choices=sorted(STAGE_FUNCS), help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--workspace", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.stage:
        child(args)
        return 0

    command = "python bench/bench_foundation.py " + " ".join(argv if argv is not None else sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="cleanpath-bench-", dir=args.workdir) as tmp:
        data, ws = Path(tmp) / "data", Path(tmp) / "bench.duckdb"
        common = ["--elements", str(args.elements), "--links-per-element", str(args.links_per_element),
                  "--seed", str(args.seed), "--data", str(data), "--workspace", str(ws)]
        info = machine()
        print(f"machine: {info}", flush=True)
        res = {"generate": run_stage("generate", args, common)}
        print(f"generate: {res['generate']['seconds']:.2f} s, rows {res['generate']['rows']}", flush=True)
        stages = [s for s in STAGES if not (s == "connectivity" and args.no_connectivity)]
        runs: dict[str, list[dict]] = {s: [] for s in stages}
        for i in range(args.repeat):
            for s in stages:
                r = run_stage(s, args, common)
                runs[s].append(r)
                print(f"run {i + 1} {s}: {r['seconds']:.3f} s (cpu {r['cpu_seconds']:.2f} s, load "
                      f"{r['load_before']:.1f}), peak {r['peak_rss_mb']:.0f} MB"
                      + (f", networkx {r['networkx_seconds']:.2f} s" if "networkx_seconds" in r else ""),
                      flush=True)
        for s in stages:
            res[s] = summarise(runs[s])
    text = markdown(res, info, args, command)
    print()
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": res, "runs": runs}, indent=2))
    met = (res["ingest"]["seconds"] <= INGEST_SECONDS and res["ingest"]["peak_rss_mb"] <= INGEST_RSS_MB
           and res["load_graph"]["seconds"] <= LOAD_GRAPH_SECONDS)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
