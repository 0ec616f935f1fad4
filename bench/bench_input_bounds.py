"""Input bombs and workspace verification: peak memory and time (issue 13, step 10).

Each bomb of the issue is built in a temporary directory and imported with ``cleanpath import``
in a child process that reports its own peak RSS; an address-space limit keeps a regression from
taking the machine. Then ``Workspace.verify`` (what ``check-workspace`` runs, and what runs once
before a connection's first write) is timed on synthetic workspaces.

Usage::

    .venv/bin/python -u bench/bench_input_bounds.py [--elements 200000,1000000]
"""

from __future__ import annotations

import argparse
import gzip
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from _measure import machine  # noqa: E402

_WRAPPER = """
import atexit, resource, sys
atexit.register(lambda: sys.stderr.write(
    "\\nPEAK_RSS_KB=%d\\n" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
from cleanpath.cli.main import main
sys.argv = ["cleanpath"] + sys.argv[1:]
main()
"""


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))


def run(tmp: Path, *args: str) -> tuple[int, float, float, str]:
    """(exit code, peak RSS MiB, wall s, first line of the error)."""
    wrapper = tmp / "_wrap.py"
    wrapper.write_text(_WRAPPER)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, str(wrapper), "-w", str(tmp / "ws.duckdb"), *args],
                       capture_output=True, text=True, timeout=900, preexec_fn=_limit)
    wall = time.perf_counter() - t
    m = re.search(r"PEAK_RSS_KB=(\d+)", p.stderr)
    peak = int(m.group(1)) / 1024 if m else float("nan")
    # The problem line names the file (progress lines do not).
    msg = next((ln.strip() for ln in p.stderr.splitlines() if str(tmp) in ln), "")
    msg = msg.replace(str(tmp) + "/", "")
    return p.returncode, peak, wall, msg[:140]


def bombs(tmp: Path) -> list[tuple[str, list[str]]]:
    out = []
    d = tmp / "parquet"
    d.mkdir()
    col = pa.DictionaryArray.from_arrays(pa.array(np.zeros(150_000_000, dtype=np.int32)), pa.array(["x"]))
    pq.write_table(pa.table({"site_id": col}), d / "sites.parquet", compression="zstd", row_group_size=1 << 26)
    out.append((f"Parquet, 150 M rows of 'x' ({(d / 'sites.parquet').stat().st_size:,} B)",
                ["import", "tables", str(d / "sites.parquet")]))
    d = tmp / "parquet_long"
    d.mkdir()
    col = pa.DictionaryArray.from_arrays(pa.array(np.zeros(2_000_000, dtype=np.int32)), pa.array(["y" * 1000]))
    pq.write_table(pa.table({"site_id": col}), d / "sites.parquet", compression="zstd")
    out.append((f"Parquet, 2 M rows of one 1000-char string ({(d / 'sites.parquet').stat().st_size:,} B)",
                ["import", "tables", str(d / "sites.parquet")]))
    d = tmp / "csv"
    d.mkdir()
    with (d / "sites.csv").open("wb") as f:
        for _ in range(200):
            f.write(b"x" * (1 << 20))
    out.append(("CSV, 200 MiB without a newline", ["import", "tables", str(d / "sites.csv")]))
    d = tmp / "rows"
    d.mkdir()
    (d / "sites.csv").write_bytes(b"site_id\n" + b"a\n" * 20_000_000)
    out.append(("CSV, 20 M one-letter rows (40 MB)", ["import", "tables", str(d / "sites.csv")]))
    d = tmp / "special"
    d.mkdir()
    (d / "sites.csv").symlink_to("/dev/zero")
    out.append(("symlink to /dev/zero", ["import", "tables", str(d / "sites.csv")]))
    import os
    os.mkfifo(d / "cells.csv")
    out.append(("FIFO", ["import", "opencellid", str(d / "cells.csv")]))
    body = b'{"bomFormat":"CycloneDX","specVersion":"1.5","components":[' + b"{}," * 60_000_000 + b"{}]}"
    (tmp / "bom.json").write_bytes(body)
    out.append(("CycloneDX JSON, 180 MB of '{},'", ["import", "cyclonedx", str(tmp / "bom.json")]))
    (tmp / "bom.json.gz").write_bytes(gzip.compress(body, 9))
    out.append(("the same, gzipped", ["import", "cyclonedx", str(tmp / "bom.json.gz")]))
    parts = ["graph [\n"]
    parts += [f"  node [\n    id {i}\n    label \"n{i}\"\n    Latitude 50.1\n    Longitude 8.2\n  ]\n"
              for i in range(400_000)]
    parts += [f"  edge [\n    source {i}\n    target {i + 1}\n  ]\n" for i in range(399_999)]
    (tmp / "net.gml").write_text("".join(parts) + "]\n")
    out.append((f"GML, 400 k nodes ({(tmp / 'net.gml').stat().st_size / 1e6:.0f} MB)",
                ["import", "topologyzoo", str(tmp / "net.gml")]))
    return out


def verify_cost(tmp: Path, elements: int) -> tuple[float, float, int]:
    from cleanpath.build.synthetic import synthetic_network
    from cleanpath.store.workspace import open_workspace

    path = tmp / f"verify{elements}.duckdb"
    with open_workspace(path) as ws:
        ws.write_network("main", synthetic_network(elements=elements, seed=1))
    size = path.stat().st_size
    times = []
    for _ in range(3):
        with open_workspace(path, read_only=True) as ws:  # a fresh connection: blocks come from disk
            t = time.perf_counter()
            checks = ws.verify()
            times.append(time.perf_counter() - t)
        assert all(c.ok for c in checks)
    rows = sum(c.rows for c in checks)
    return float(np.median(times)), size / 2**20, rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--elements", default="200000,1000000")
    args = ap.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        print("| input | exit | peak RSS MiB | wall s | message |")
        print("|---|---|---|---|---|")
        for name, argv in bombs(tmp):
            code, peak, wall, msg = run(tmp, *argv)
            print(f"| {name} | {code} | {peak:,.0f} | {wall:.1f} | {msg} |", flush=True)
        print()
        print("| elements | file MiB | rows read | verify s (median of 3, cold connection) |")
        print("|---|---|---|---|")
        for n in map(int, args.elements.split(",")):
            s, mib, rows = verify_cost(tmp, n)
            print(f"| {n:,} | {mib:,.0f} | {rows:,} | {s:.2f} |", flush=True)


if __name__ == "__main__":
    main()
