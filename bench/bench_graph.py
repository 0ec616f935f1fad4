"""Benchmark: the graph questions (outage, Monte Carlo, clean path) on full-scale Germany.

Run ``python bench/bench_graph.py [--scale 1.0] [--samples 1000] [--extra-sensitive 200] [--no-nx]
[--out bench/results_graph.md]``.

The network is :func:`cleanpath.build.generate.generate_network` for ``DE`` (about 0.9 M elements
and 2.2 M links at scale 1), with the shipped US installations in Germany plus
``--extra-sensitive`` made-up government points at random cell sites as sensitive sites. Timed:

* ``index``: the element graph (``Network.graph()``), the service index (peeled forest, dependency
  matrices, baseline fixpoint) and sensitive-site coverage, once per snapshot;
* ``vendor outage``: ``run_outage(net, vendors="huawei")``, warm index, median of 5;
* ``kill`` and ``intercept``: the same in ``mode="kill"`` (management reach, then the outage) and
  ``mode="intercept"`` (traffic, subscriber, signalling shares and exposed keys); the three threat
  modes in detail are in ``bench/bench_threat.py``;
* ``clean path``: ``run_clean_path(net)`` for every sensitive site x operator, including witnesses,
  blocking elements, per-pair remediations with lower bounds and the shared fix; first call
  (builds the search graph and costs) and median of 3 warm calls;
* ``Monte Carlo``: 1,000 random-failure samples (each element fails with p = 0.001), in one
  process and with two worker processes.

The networkx baselines implement the same questions plainly (the same fixpoint definition with
``networkx.connected_components`` on subgraph views; the same three node-weighted multi-source
Dijkstra runs on the whole graph for remediation). Their answers are checked against cleanpath's,
which doubles as a correctness test at full scale.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


CPU: list[float] = []  # CPU seconds of the last timed() call (this process only)


def timed(fn, repeat: int = 1):
    """(median wall seconds, last result) of ``repeat`` calls; the median CPU time goes to CPU[0].

    The machine may be shared: CPU time is what the question itself costs, wall time what a user
    waits for on this machine at this load.
    """
    times, cpu, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    CPU[:] = [statistics.median(cpu)]
    return statistics.median(times), out


def build_network(scale: float, extra: int, seed: int = 0):
    import cleanpath
    from cleanpath.build.generate import generate_network

    net = generate_network(country="DE", scale=scale, seed=seed)
    inst = pd.read_csv(ROOT / "src" / "cleanpath" / "data" / "sensitive" / "us_military_installations.csv")
    inst = inst[inst["country"] == "DE"]
    rows = [{"sensitive_id": f"us-{i}", "name": n, "kind": "military", "country": "DE", "lat": la, "lon": lo,
             "radius_m": 5000.0} for i, (n, la, lo) in enumerate(zip(inst["name"], inst["lat"], inst["lon"]))]
    rng = np.random.default_rng(seed)
    cells = net.sites[net.sites["kind"] == "cell"]
    pick = rng.choice(len(cells), size=extra, replace=False)
    for j, k in enumerate(pick):
        rows.append({"sensitive_id": f"gov-{j}", "name": f"government site {j}", "kind": "government",
                     "country": "DE", "lat": float(cells["lat"].iloc[k]) + rng.normal(0, 0.01),
                     "lon": float(cells["lon"].iloc[k]) + rng.normal(0, 0.01), "radius_m": 3000.0})
    tables = net.tables()
    tables["sensitive_sites"] = pd.DataFrame(rows)
    return cleanpath.Network(tables, name="bench")


# --- plain networkx implementations of the same questions -------------------------------------------

class NxModel:
    """The service model with networkx and Python sets, as one would write it directly."""

    def __init__(self, net):
        import networkx as nx

        self.nx = nx
        el = net.elements
        self.ids = el["element_id"].to_numpy(dtype=object)
        self.role = dict(zip(self.ids, el["role"].to_numpy(dtype=object)))
        self.vendor = dict(zip(self.ids, el["vendor"].to_numpy(dtype=object)))
        self.site = dict(zip(self.ids, el["site_id"].to_numpy(dtype=object)))
        links = net.links
        kind = links["kind"].to_numpy(dtype=object)
        a = links["a"].to_numpy(dtype=object)
        b = links["b"].to_numpy(dtype=object)
        t = kind == "transport"
        self.g = nx.Graph()
        self.g.add_nodes_from(self.ids)
        self.g.add_edges_from(zip(a[t], b[t]))
        # forwarding depends on control and anchor links; the clean-path reading also on management
        self.deps: dict[str, list[str]] = {}
        self.deps_all: dict[str, list[str]] = {}
        for x, y, k in zip(a[~t], b[~t], kind[~t]):
            self.deps_all.setdefault(x, []).append(y)
            if k != "management":
                self.deps.setdefault(x, []).append(y)
        self.gws = {e for e, r in self.role.items() if r.startswith("gateway.")}
        self.up = {e for e, r in self.role.items() if r in ("core.upf", "core.sgw", "core.pgw")}
        ok = el["in_service"].to_numpy(dtype=bool, na_value=True)
        self.on = set(self.ids[ok])
        self.base = self.serving(self.on)

    def serving(self, alive: set, management: bool = False) -> set:
        deps = self.deps_all if management else self.deps
        s = set(alive)
        while True:
            s2 = {e for e in s if all(d in s for d in deps.get(e, ()))}
            s3 = set()
            for comp in self.nx.connected_components(self.g.subgraph(s2)):
                if not comp.isdisjoint(self.gws):
                    s3 |= comp
            if s3 == s:
                return s
            s = s3

    def outage(self, vendor: str) -> dict:
        after = self.serving({e for e in self.base if self.vendor[e] != vendor})
        lost = self.base - after
        radios_site: dict[str, int] = {}
        for e in self.base:
            if self.role[e] == "ran.radio":
                radios_site[self.site[e]] = radios_site.get(self.site[e], 0) + 1
        lost_radios: dict[str, int] = {}
        for e in lost:
            if self.role[e] == "ran.radio":
                lost_radios[self.site[e]] = lost_radios.get(self.site[e], 0) + 1
        lost_sites = sum(1 for s, k in lost_radios.items() if k == radios_site[s])
        return {"lost_elements": len(lost), "lost_sites": lost_sites}

    def clean_radios(self, untrusted: set) -> set:
        base = self.serving(self.on, management=True)
        world = self.serving({e for e in base if self.vendor[e] not in untrusted}, management=True)
        good = set()
        for comp in self.nx.connected_components(self.g.subgraph(world)):
            if not comp.isdisjoint(self.up):
                good |= {e for e in comp if self.role[e] == "ran.radio"}
        return good

    def remediation_search(self, untrusted: set, cost: dict) -> int:
        """The three node-weighted multi-source Dijkstra runs of the remediation, on the whole graph."""
        nx = self.nx
        h = self.g.subgraph(self.base).copy()
        w = {e: (cost[e] if self.vendor[e] in untrusted else 0.0) + 1e-6 for e in h}
        h.add_edges_from(("zU", u) for u in self.up if u in h)
        h.add_edges_from(("zG", g) for g in self.gws if g in h)
        w["zU"] = w["zG"] = 0.0
        d_u = nx.single_source_dijkstra_path_length(h, "zU", weight=lambda u, v, d: w[v])
        d_g = nx.single_source_dijkstra_path_length(h, "zG", weight=lambda u, v, d: w[v])
        s = {c: d_u[c] + d_g[c] - w[c] for c in h if c in d_u and c in d_g and not c.startswith("z")}
        h.add_edges_from(("zF", c) for c in s)
        w["zF"] = 0.0
        f = nx.single_source_dijkstra_path_length(h, "zF", weight=lambda u, v, d: s[v] if u == "zF" else w[v])
        return len(f)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--extra-sensitive", type=int, default=200)
    ap.add_argument("--no-nx", action="store_true", help="Skip the networkx baselines.")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    from cleanpath.analysis.clean_path import clean_path_status, replacement_costs, run_clean_path
    from cleanpath.analysis.outage import process_map, run_outage
    from cleanpath.analysis.service import Coverage, ServiceIndex
    from cleanpath.model.vendors import default_untrusted

    rows: list[tuple[str, float, float | None, str]] = []

    def note(what: str, secs: float, detail: str = "", *, cpu: bool = True) -> None:
        c = CPU[0] if cpu and CPU else None
        rows.append((what, secs, c, detail))
        print(f"{what:45s} {secs:9.3f} s  cpu {c if c is not None else float('nan'):8.3f} s  {detail}",
              file=sys.stderr, flush=True)

    load_start = os.getloadavg()[0]

    t_gen, net = timed(lambda: build_network(args.scale, args.extra_sensitive))
    note("generate network (not part of the questions)", t_gen, repr(net))

    t_graph, _ = timed(net.graph)
    note("element graph (Network.graph)", t_graph)
    t_index, idx = timed(lambda: ServiceIndex.of(net))
    note("service index (forest, dependencies)", t_index,
         f"core {idx.forest.core.size:,} of {idx.n:,} elements, {idx.forest.rounds} peeling rounds")
    t_base, base = timed(idx.baseline)
    note("baseline fixpoint", t_base, f"{int(base.sum()):,} serving")
    t_cov, cov = timed(lambda: Coverage.of(net))
    note("sensitive coverage", t_cov, f"{len(cov.ids)} sensitive sites, {cov.row.size:,} radio pairs")

    t_out, out = timed(lambda: run_outage(net, vendors="huawei"), repeat=5)
    s = out.summary
    note("vendor outage (huawei), warm", t_out,
         f"lost {s['lost_elements']:,} elements, {s['lost_sites']:,} sites, "
         f"{len(s['sensitive_without_service'])} sensitive sites")
    t_comp, comp = timed(lambda: run_outage(net, vendors="huawei", mode="kill"))
    c = comp.summary
    note("kill (huawei)", t_comp, f"killable {c['killable_elements']:,}, lost {c['lost_elements']:,} elements")
    t_int, itc = timed(lambda: run_outage(net, vendors="huawei", mode="intercept"))
    c = itc.summary
    note("intercept (huawei), first (routes built)", t_int,
         f"traffic {c['intercept_traffic_share']:.3f}, subscribers {c['intercept_subscriber_share']:.3f}")

    t_cold, cp = timed(lambda: run_clean_path(net))
    cs = cp.summary
    detail = (f"{cs['pairs']} pairs, {cs['clean_pairs']} clean, {cs['pairs_needing_fix']} fixed; shared fix "
              f"{cs['shared_fix_elements']} elements ${cs['shared_fix_cost']:,.0f} (bound x{cs['shared_fix_ratio_bound']:.2f})")
    note("clean path, all sites x operators, first", t_cold, detail)
    t_warm, cp = timed(lambda: run_clean_path(net), repeat=3)
    note("clean path, all sites x operators, warm", t_warm)
    untrusted = default_untrusted(net.catalogue)
    t_status, _ = timed(lambda: clean_path_status(net, untrusted=untrusted, blocking=False), repeat=3)
    note("clean-path status only (no paths, no fixes)", t_status)

    t_mc, mc = timed(lambda: run_outage(net, random_p=0.001, samples=args.samples, seed=1))
    note(f"Monte Carlo {args.samples} samples, 1 process", t_mc,
         f"lost elements {mc.summary['lost_elements']:,.0f} "
         f"[{mc.summary['lost_elements_ci95'][0]:,.0f}, {mc.summary['lost_elements_ci95'][1]:,.0f}]")
    t_mc2, mc2 = timed(lambda: run_outage(net, random_p=0.001, samples=args.samples, seed=1,
                                          executor=process_map(2)))
    assert mc2.tables["samples"].equals(mc.tables["samples"])
    note(f"Monte Carlo {args.samples} samples, 2 processes", t_mc2, "identical samples", cpu=False)

    if not args.no_nx:
        t_nx, model = timed(lambda: NxModel(net))
        note("networkx: graph + baseline", t_nx)
        t_nxo, nxo = timed(lambda: model.outage("huawei"))
        assert nxo["lost_elements"] == s["lost_elements"], (nxo, s["lost_elements"])
        assert nxo["lost_sites"] == s["lost_sites"], (nxo, s["lost_sites"])
        note("networkx: vendor outage", t_nxo, f"same answer; ratio x{t_nxo / t_out:.0f}")
        t_nxc, good = timed(lambda: model.clean_radios(untrusted))
        ids = np.asarray(idx.graph.element_ids, dtype=object)
        rad_op = idx.operators[idx.operator[cov.col]]
        want = pd.DataFrame({"sensitive_id": cov.ids[cov.row], "operator_id": rad_op,
                             "clean": [x in good for x in ids[cov.col]]})
        want = want.groupby(["sensitive_id", "operator_id"])["clean"].any()
        got = cp.tables["clean_path"].set_index(["sensitive_id", "operator_id"])["clean"]
        assert (got.reindex(want.index) == want).all()
        note("networkx: clean-path status only", t_nxc, f"same answer; ratio x{t_nxc / t_status:.0f} "
                                                        "against cleanpath's status")
        cost = dict(zip(ids, replacement_costs(net)))
        t_nxr, _ = timed(lambda: model.remediation_search(untrusted, cost))
        note("networkx: remediation search (3 Dijkstra)", t_nxr,
             f"ratio x{(t_nxc + t_nxr) / t_warm:.0f} (status + search against the full question)")
        rng = np.random.default_rng(0)
        base_ids = list(model.base)

        def nx_sample():
            fail = {base_ids[i] for i in np.flatnonzero(rng.random(len(base_ids)) < 0.001)}
            return len(model.base - model.serving(model.base - fail))

        k = 5
        t_nxs, _ = timed(nx_sample, repeat=k)
        note("networkx: one Monte Carlo sample", t_nxs,
             f"{args.samples} samples ~ {t_nxs * args.samples:,.0f} s; ratio x{t_nxs * args.samples / t_mc:.0f}")

    lines = ["# Graph questions benchmark", "",
             f"Date: 2026-11-21. Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}; load average {load_start:.1f} at the start and "
             f"{os.getloadavg()[0]:.1f} at the end (the machine is shared).", "",
             f"Command: `python bench/bench_graph.py --scale {args.scale} --samples {args.samples} "
             f"--extra-sensitive {args.extra_sensitive}`", "",
             "| step | wall s | CPU s | detail |", "|---|---:|---:|---|"]
    lines += [f"| {w} | {sec:.3f} | {'' if c is None else f'{c:.3f}'} | {d} |" for w, sec, c, d in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
