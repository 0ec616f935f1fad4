"""Benchmark: exact clean-path remediation (HiGHS) against the heuristic and a brute force.

Run ``python bench/bench_remediation.py [--scale 1.0] [--extra-sensitive 200] [--small 300]
[--milp-only-limit 60] [--out bench/results_remediation.md]``.

Two parts:

* **Full scale.** :func:`cleanpath.build.generate.generate_network` for ``DE`` with the shipped US
  installations plus ``--extra-sensitive`` made-up government points, as in ``bench_graph.py``.
  Timed: ``run_clean_path`` (every sensitive site x operator, exact remediation per pair and the
  shared fix), first call (index, search graph and costs built) and warm; the remediation alone
  (:func:`cleanpath.analysis.remediation.remediate`); the same with every pair sent through the MILP
  (``closures=False``: the general model, which the closure shortcut bypasses on tree-shaped
  networks). Reported: proved optimal or not, gaps, and the heuristic's fixes priced by the same
  replacement units (cost ratio heuristic / exact, per pair and for the shared fix; the old shared
  heuristic is ``clean_path._shared_fix``).
* **Small cases against brute force.** Random networks with dependencies (meshes from
  ``tests/test_service.random_net`` and trees from ``tests/test_remediation.random_tree_net``, at
  most 9 candidate units), each pair's fix and the shared fix enumerated over every subset of
  units (``tests/test_remediation.UnitBrute``). Reported: how often the exact answer equals the
  optimum, and the heuristic's ratio to it.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))


def heuristic_vs_exact(net, *, closures: bool = True, time_limit: float = 10.0) -> dict:
    """The heuristic's per-pair and shared fixes and the exact ones, priced by the same units."""
    from cleanpath.analysis import remediation as R
    from cleanpath.analysis.clean_path import CleanPathSolver, _answer_pairs, _shared_fix
    from cleanpath.policy.vendorset import resolve_untrusted

    solver = CleanPathSolver(net, resolve_untrusted(net, None), rows=np.arange(len(net.sensitive_sites)))
    pairs = solver.pairs()
    t = time.perf_counter()
    ans = _answer_pairs(solver, pairs)
    _, tab = _shared_fix(solver, pairs, ans.fix_sets, ans.lower)
    t_heur = time.perf_counter() - t
    c = time.process_time()
    a = R.remediate(solver, pairs, sorted(ans.fix_sets), heuristic=ans.fix_sets, heuristic_lower=ans.lower,
                    time_limit=time_limit, closures=closures)
    cpu = time.process_time() - c
    rem = a.rem
    ids = np.asarray(solver.idx.graph.element_ids, dtype=object)
    pos = np.flatnonzero(np.isin(ids, tab["element_id"].to_numpy(dtype=object)))
    u = rem.unit[pos]
    heur_shared = float(rem.unit_cost[np.unique(u[u >= 0])].sum())
    ratios = [a.heuristic_cost[i] / a.cost[i] for i in a.cost if i in a.heuristic_cost and a.cost[i] > 0]
    return {"pairs_fixed": len(a.cost), "by_closure": a.by_closure, "all_optimal": all(a.optimal.values()),
            "max_gap": max(a.gap.values(), default=0.0), "seconds": a.seconds, "cpu": cpu, "heuristic_seconds": t_heur,
            "shared_cost": a.shared.cost if a.shared else 0.0, "shared_optimal": bool(a.shared and a.shared.optimal),
            "shared_gap": a.shared.gap if a.shared else 0.0, "shared_source": a.shared.source if a.shared else "",
            "heuristic_shared_cost": heur_shared, "union_cost": a.heuristic_shared_cost,
            "ratio_max": max(ratios, default=1.0), "ratio_median": statistics.median(ratios) if ratios else 1.0,
            "costs": dict(a.cost)}


def full_scale(args) -> list[str]:
    from bench_graph import build_network

    from cleanpath.analysis.clean_path import run_clean_path

    lines = []
    t = time.perf_counter()
    net = build_network(args.scale, args.extra_sensitive)
    lines.append(f"| generate DE at scale {args.scale} (not timed as part of the question) | "
                 f"{time.perf_counter() - t:.1f} | | {net!r} |")
    t, c = time.perf_counter(), time.process_time()
    res = run_clean_path(net, time_limit=args.time_limit)
    first, first_cpu = time.perf_counter() - t, time.process_time() - c
    s = res.summary
    lines.append(f"| run_clean_path, first call (element graph, service index, coverage, search graph, heuristic, "
                 f"exact remediation, shared fix) | {first:.2f} | {first_cpu:.2f} | "
                 f"{s['pairs']} pairs, {s['pairs_needing_fix']} fixed; "
                 f"all per-pair fixes proved optimal: "
                 f"{s['remediation_all_optimal']} (max gap {s['remediation_max_gap']:.4f}); shared fix "
                 f"{s['shared_fix_units']} units ${s['shared_fix_cost']:,.0f}, optimal {s['shared_fix_optimal']} "
                 f"(gap {s['shared_fix_gap']:.4f}, {s['shared_fix_source']}) |")
    t, c = time.perf_counter(), time.process_time()
    res = run_clean_path(net, time_limit=args.time_limit)
    warm, warm_cpu = time.perf_counter() - t, time.process_time() - c
    lines.append(f"| run_clean_path, warm | {warm:.2f} | {warm_cpu:.2f} | "
                 f"{res.summary['remediation_pairs_by_closure']} pairs by closures |")
    h = heuristic_vs_exact(net, time_limit=args.time_limit)
    lines.append(f"| exact remediation alone vs heuristic (default: closures + shared MILP) | {h['seconds']:.2f} | "
                 f"{h['cpu']:.2f} | "
                 f"heuristic (3 Dijkstra + shared refinement) {h['heuristic_seconds']:.2f} s; per-pair cost "
                 f"heuristic/exact median {h['ratio_median']:.3f}, max {h['ratio_max']:.3f}; shared: heuristic "
                 f"${h['heuristic_shared_cost']:,.0f}, union of exact per-pair ${h['union_cost']:,.0f}, exact "
                 f"${h['shared_cost']:,.0f} (ratio {h['heuristic_shared_cost'] / max(h['shared_cost'], 1):.3f}) |")
    m = heuristic_vs_exact(net, closures=False, time_limit=args.milp_only_limit)
    lines.append(f"| every pair through the MILP (closures=False, time limit {args.milp_only_limit:g} s) | "
                 f"{m['seconds']:.2f} | {m['cpu']:.2f} | all optimal {m['all_optimal']} "
                 f"(max gap {m['max_gap']:.4f}); shared "
                 f"${m['shared_cost']:,.0f} optimal {m['shared_optimal']} (gap {m['shared_gap']:.4f}, "
                 f"{m['shared_source']}); per-pair costs equal to the closures' in "
                 f"{sum(abs(m['costs'].get(i, -1) - c) <= 1e-6 * max(c, 1) for i, c in h['costs'].items())} of "
                 f"{len(h['costs'])} pairs |")
    return lines


def small_cases(args) -> list[str]:
    import cleanpath.analysis.clean_path as cp
    from cleanpath.analysis import remediation as R
    from test_remediation import COSTS, UnitBrute, _cases, random_tree_net
    from test_service import random_net

    rows = {"checked": 0, "pairs": 0, "equal": 0, "shared_equal": 0, "multi": 0}
    ratios, shared_ratios, t_exact, t_brute = [], [], [], []
    gens = [(lambda s, n: random_net(s, n, deps=True, ops=2), args.small * 2 // 3, 11),
            (random_tree_net, args.small - args.small * 2 // 3, 12)]
    for gen, k, seed in gens:
        for s, n in _cases(k, seed):
            net = gen(s, n)
            br = UnitBrute(net, ["huawei"])
            if len(br.units()) > 9:
                continue
            rows["checked"] += 1
            t = time.perf_counter()
            solver = cp.CleanPathSolver(net, frozenset(["huawei"]), rows=np.arange(len(net.sensitive_sites)))
            pairs = solver.pairs()
            ans = cp._answer_pairs(solver, pairs)
            a = R.remediate(solver, pairs, sorted(ans.fix_sets), heuristic=ans.fix_sets, heuristic_lower=ans.lower,
                            costs=COSTS)
            t_exact.append(time.perf_counter() - t)
            t = time.perf_counter()
            fixable = []
            for i, c in a.cost.items():
                pair = (net.sensitive_sites["sensitive_id"].iloc[int(pairs.at[i, "row"])],
                        str(solver.idx.operators[int(pairs.at[i, "op"])]))
                best = br.cheapest_units([pair])
                rows["pairs"] += 1
                rows["equal"] += int(abs(best - c) <= 1e-6 * max(best, 1))
                if i in a.heuristic_cost and best > 0:
                    ratios.append(a.heuristic_cost[i] / best)
                fixable.append((pair, i))
            if len(fixable) >= 2:
                opt = br.cheapest_units([p for p, _ in fixable])
                rows["multi"] += 1
                rows["shared_equal"] += int(abs(opt - a.shared.cost) <= 1e-6 * max(opt, 1))
                _, tab = cp._shared_fix(solver, pairs, ans.fix_sets, ans.lower)
                hu = {br.unit_of[e] for e in tab["element_id"] if e in br.unit_of}
                if opt > 0:
                    shared_ratios.append(sum(br.unit_cost[u] for u in hu) / opt)
            t_brute.append(time.perf_counter() - t)
    q = lambda xs, f: f(xs) if xs else float("nan")  # noqa: E731
    return [
        f"| small random networks with dependencies (meshes and trees, <= 9 candidate units) | "
        f"{rows['checked']} networks, {rows['pairs']} fixable pairs |",
        f"| per-pair exact cost == brute-force optimum | {rows['equal']} of {rows['pairs']} |",
        f"| shared fix == brute-force optimum (networks with >= 2 fixable pairs) | "
        f"{rows['shared_equal']} of {rows['multi']} |",
        f"| heuristic per-pair fix / optimum (same units) | median {q(ratios, statistics.median):.3f}, "
        f"max {q(ratios, max):.3f}, > 1 in {sum(r > 1 + 1e-9 for r in ratios)} of {len(ratios)} |",
        f"| heuristic shared fix / optimum | median {q(shared_ratios, statistics.median):.3f}, "
        f"max {q(shared_ratios, max):.3f} over {len(shared_ratios)} networks |",
        f"| time per network: exact (heuristic + MILPs) / brute force | {q(t_exact, statistics.median) * 1e3:.1f} ms / "
        f"{q(t_brute, statistics.median) * 1e3:.1f} ms median |",
    ]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--extra-sensitive", type=int, default=200)
    p.add_argument("--time-limit", type=float, default=10.0)
    p.add_argument("--milp-only-limit", type=float, default=60.0)
    p.add_argument("--small", type=int, default=300)
    p.add_argument("--skip-full", action="store_true")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    load = os.getloadavg()[0]
    head = ["# Exact remediation benchmark", "",
            f"Date: {dt.date.today().isoformat()}. Machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}; load average {load:.1f} at the start.", "",
            "Command: `python bench/bench_remediation.py " + " ".join(sys.argv[1:]) + "`", ""]
    out = head
    if not args.skip_full:
        out += ["## Full scale", "", "| step | wall s | CPU s | detail |", "|---|---:|---:|---|"]
        out += full_scale(args) + [""]
    out += ["## Small cases against brute force", "", "| what | result |", "|---|---|"] + small_cases(args)
    out.append("")
    out.append(f"Load average at the end: {os.getloadavg()[0]:.1f}.")
    text = "\n".join(out)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
