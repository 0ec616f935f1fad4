"""Benchmark: what asking through the question registry costs over calling a question directly.

Run ``python bench/bench_registry.py [--scale 0.25] [--repeat 5]``.

Every face asks through :func:`cleanpath.registry.ask` (convert every parameter, resolve derived
defaults and vendor sets, record what was asked). This measures that path against a direct call of
the question function with the same, already-typed inputs, on a generated German network (warm
indexes: each question is asked once before timing), median of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import datetime as dt

from _measure import machine, median_seconds, peak_rss_mb

import cleanpath
from cleanpath.demo import build_example


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=float, default=0.25)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from cleanpath.analysis.audit import audit_network
    from cleanpath.analysis.clean_path import run_clean_path
    from cleanpath.analysis.exposure import run_exposure
    from cleanpath.analysis.outage import run_outage
    from cleanpath.model.vendors import default_untrusted

    net = build_example(scale=args.scale)
    day = dt.date(2026, 11, 21)
    bad = frozenset(default_untrusted(net.catalogue))
    cases = [
        ("outage (vendor, fail)", lambda: run_outage(net, vendors=["huawei"], mode="fail"),
         lambda: cleanpath.ask("outage", net, vendor="huawei")),
        ("audit (de-2024, eu-toolbox)", lambda: audit_network(net, policies=["de-2024", "eu-toolbox"], as_of=day),
         lambda: cleanpath.ask("audit", net, as_of=day)),
        ("clean-path", lambda: run_clean_path(net, untrusted=bad), lambda: cleanpath.ask("clean-path", net)),
        ("exposure", lambda: run_exposure(net, untrusted=bad), lambda: cleanpath.ask("exposure", net)),
    ]
    print(f"# registry overhead, DE at scale {args.scale} ({len(net.elements):,} elements), "
          f"{dt.date.today().isoformat()}")
    print(f"machine: {machine()}")
    print("| question | direct, s | through the registry, s | overhead |")
    print("|---|---:|---:|---:|")
    for name, direct, via in cases:
        d, r = median_seconds(direct, args.repeat, warm=True), median_seconds(via, args.repeat, warm=True)
        print(f"| {name} | {d:.3f} | {r:.3f} | {r - d:+.3f} s ({(r / d - 1) * 100:+.0f} %) |")
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
