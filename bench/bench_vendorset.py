"""Time the vendor-set parser and resolver on a large synthetic network.

Usage::

    /work/main/.venv/bin/python bench/bench_vendorset.py                 # 1 M elements
    /work/main/.venv/bin/python bench/bench_vendorset.py --elements 200000 --repeat 5

Reports, per setting, the median wall time of ``parse_vendor_set`` and of ``resolve_untrusted``
(first call on a fresh network, which finds the network's distinct vendor names, and later calls,
which reuse them), so the cost a question pays for reading its vendor set is visible next to the
question's own time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from _measure import machine, median_seconds, peak_rss_mb

import cleanpath
from cleanpath.build.synthetic import synthetic_network
from cleanpath.policy.vendorset import parse_vendor_set, resolve_untrusted

SETTINGS = ["default", "Huawei, zte", "Huawei Technologies Co., Ltd.; ZTE Corp", "us-clean-path",
            "us-fcc", "country:CN+RU", "only:ericsson+nokia"]


def _median(fn, repeat: int) -> float:
    return median_seconds(fn, repeat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elements", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    t0 = time.perf_counter()
    net = cleanpath.Network(synthetic_network(elements=a.elements), name="bench")
    print(f"network of {len(net.elements):,} elements built in {time.perf_counter() - t0:.1f} s")
    net.catalogue  # noqa: B018 - built once per network, not the resolver's cost
    t0 = time.perf_counter()
    resolve_untrusted(net, "huawei", as_of=dt.date(2025, 1, 1))
    first = time.perf_counter() - t0
    print(f"first resolve (distinct vendor names of the network): {first * 1e3:.1f} ms")
    print("| setting | parse (us) | resolve (ms) | vendors |")
    print("|---|---:|---:|---:|")
    for s in SETTINGS:
        p = _median(lambda: parse_vendor_set(s), a.repeat * 20)
        r = _median(lambda: resolve_untrusted(net, s, as_of=dt.date(2025, 1, 1)), a.repeat)
        n = len(resolve_untrusted(net, s, as_of=dt.date(2025, 1, 1)))
        print(f"| `{s}` | {p * 1e6:.0f} | {r * 1e3:.2f} | {n} |")
    m = machine()
    print(f"peak RSS {peak_rss_mb():.0f} MiB; {m.get('cpu')}, {m.get('cores')} cores; "
          f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
