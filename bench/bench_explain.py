"""Benchmark: why elements do not serve (``serving_diagnosis``, ``info``'s warnings, ``explain``).

Run ``python bench/bench_explain.py [--scale 1.0] [--seed 0]``.

The network is :func:`cleanpath.build.generate.generate_network` for ``DE`` (about 0.9 M elements
at scale 1). To give the diagnosis something to find, the core MMEs of one data centre lose their
transport links, a tenth of one operator's gateways are marked out of service, and 1 % of the
cell-site basebands are marked out of service. Timed (wall and CPU seconds):

* ``service index``: ``net.graph()`` plus ``ServiceIndex.of(net).baseline()``, the one-off cost
  every graph question pays once per snapshot;
* ``diagnosis (cold)``: ``serving_diagnosis(net)`` building its index (components, reasons);
* ``diagnosis (warm)``: the same again, index cached;
* ``info``: ``run_info(net)`` with the diagnosis warm;
* ``explain element`` / ``explain site``: ``run_explain`` on a non-serving radio and on its site,
  first call (breadth-first trees to the gateways) and warm.

The diagnosis is checked on the way: an element has a reason exactly when it does not serve, and
for 500 random elements the chain's verdict equals the fixpoint's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from _measure import machine, peak_rss_mb  # noqa: E402


def timed(fn, repeat: int = 1):
    times, cpus, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(times), statistics.median(cpus), out


def damaged(scale: float, seed: int):
    from cleanpath.build.generate import generate_network
    from cleanpath.model.network import Network

    net = generate_network(country="DE", scale=scale, seed=seed)
    t = net.tables()
    el, links = t["elements"].copy(), t["links"]
    rng = np.random.default_rng(seed)
    mme = el.loc[el["role"] == "core.mme", ["element_id", "site_id"]]
    dc = mme["site_id"].iloc[0]
    lost = set(mme.loc[mme["site_id"] == dc, "element_id"])
    is_tr = (links["kind"] == "transport").to_numpy(dtype=bool)
    cut = is_tr & (links["a"].isin(lost) | links["b"].isin(lost)).to_numpy(dtype=bool)
    t["links"] = links[~cut].reset_index(drop=True)
    gw = np.flatnonzero(el["role"].str.startswith("gateway.").to_numpy(dtype=bool))
    bb = np.flatnonzero((el["role"] == "ran.baseband").to_numpy(dtype=bool))
    down = np.concatenate([rng.choice(gw, max(1, gw.size // 10), replace=False),
                           rng.choice(bb, max(1, bb.size // 100), replace=False)])
    ins = el["in_service"].to_numpy(dtype=bool, na_value=True)
    ins[down] = False
    el["in_service"] = pd.array(ins, dtype=el["in_service"].dtype)
    t["elements"] = el
    return Network(t, name="bench", validate=False)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from cleanpath.analysis.explain import ExplainIndex, run_explain, serving_diagnosis
    from cleanpath.analysis.info import run_info
    from cleanpath.analysis.service import ServiceIndex

    t0 = time.perf_counter()
    net = damaged(args.scale, args.seed)
    print(f"network: {len(net.elements):,} elements, {len(net.links):,} links "
          f"(built in {time.perf_counter() - t0:.1f} s)")
    rows = []
    w, c, _ = timed(lambda: ServiceIndex.of(net).baseline())
    rows.append(("service index (graph + fixpoint), one-off", w, c))
    w, c, diag = timed(lambda: serving_diagnosis(net))
    rows.append(("diagnosis (cold)", w, c))
    w, c, diag = timed(lambda: serving_diagnosis(net), repeat=5)
    rows.append(("diagnosis (warm, median of 5)", w, c))
    w, c, info = timed(lambda: run_info(net))
    rows.append(("info (diagnosis warm)", w, c))

    idx = ExplainIndex.of(net)
    serving = ServiceIndex.of(net).baseline()
    assert np.array_equal(idx.reason >= 0, ~serving), "a reason for exactly the non-serving elements"
    ids = net.graph().element_ids
    radios = np.flatnonzero((net.elements["role"] == "ran.radio").to_numpy(dtype=bool) & ~serving)
    target = str(ids[radios[0]]) if radios.size else str(ids[0])
    w, c, res = timed(lambda: run_explain(net, target=target))
    rows.append(("explain element (first: BFS trees)", w, c))
    w, c, res = timed(lambda: run_explain(net, target=target), repeat=5)
    rows.append(("explain element (warm, median of 5)", w, c))
    site = str(net.elements["site_id"].iloc[int(radios[0])]) if radios.size else str(net.sites["site_id"].iloc[0])
    w, c, _ = timed(lambda: run_explain(net, target=site), repeat=3)
    rows.append(("explain site (warm, median of 3)", w, c))

    rng = np.random.default_rng(1)
    sample = rng.choice(len(ids), min(500, len(ids)), replace=False)
    for e in sample:
        got = run_explain(net, target=str(ids[e])).summary["serves"]
        assert got == bool(serving[e]), ids[e]

    print("\n| step | wall s | CPU s |\n|---|---|---|")
    for name, w, c in rows:
        print(f"| {name} | {w:.3f} | {c:.3f} |")
    print(f"\nnon-serving by reason:\n{diag.to_string(index=False)}")
    print(f"\nexplain {target}: first broken = {res.summary['first_broken']}")
    print(f"peak RSS {peak_rss_mb():.0f} MiB; {machine()}")


if __name__ == "__main__":
    main()
