"""Benchmark of imports over REST: the dashboard's preview (dry run) and import of a mapped CSV.

Run from the repository root::

    /work/main/.venv/bin/python bench/bench_import_api.py [--rows 1000000]

The German OSS-style flat export of bench_mapped.py (``;``, decimal comma, ``dd.mm.yyyy`` dates,
vendor legal names, one row per element with its site repeated) is written with ``--rows`` rows
and uploaded with its mapping to a real ``cleanpath serve`` (a subprocess on a loopback port, a
fresh workspace) as the dashboard sends it: ``POST /api/snapshots/bench/import`` with
``format=mapped``, first ``dry_run=true`` (the preview), then the import. Each request's wall
time is measured at the client; the server process's CPU time and its peak RSS (VmHWM) around
each request are read from /proc. ``ingest`` called directly on the same files (bench_mapped.py's
numbers) is the baseline: the difference is what the service adds (multipart spooling, copying
the uploads, the preview's operator and vendor counts, JSON).

This is a measurement, never a timed unit test.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_mapped import MAPPING, write_csv  # noqa: E402

_LAUNCH = "import sys; from cleanpath.cli.main import cli; cli(sys.argv[1:], prog_name='cleanpath')"


def _proc(pid: int) -> dict:
    """The server's CPU seconds (user + system) and peak RSS in MiB, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / tick
    peak = next(int(line.split()[1]) / 1024 for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if line.startswith("VmHWM:"))
    return {"cpu": cpu, "peak_mb": peak}


def main() -> None:
    import httpx

    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    from _measure import machine

    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        csv_path = d / "export.csv"
        write_csv(csv_path, args.rows)
        mapping = MAPPING.replace("FILE", csv_path.name).encode()
        ws = d / "ws.duckdb"
        import cleanpath
        from cleanpath.service.tokens import TokenStore

        with cleanpath.open_workspace(ws) as w:
            token = TokenStore(w.con).create(role="admin", name="bench").token
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-c", _LAUNCH, "serve", "-w", str(ws), "--port", str(port),
                                   "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(url + "/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            print(f"# {args.rows:,} CSV rows ({csv_path.stat().st_size / 1e6:.0f} MB); load average "
                  f"{os.getloadavg()[0]:.1f}; {json.dumps(machine())}")
            for label, dry in (("preview (dry run)", True), ("import", False)):
                before = _proc(server.pid)
                t0 = time.perf_counter()
                with csv_path.open("rb") as f:
                    r = httpx.post(f"{url}/api/snapshots/bench/import", headers={"Authorization": f"Bearer {token}"},
                                   data={"format": "mapped", "dry_run": str(dry).lower()},
                                   files=[("files", (csv_path.name, f, "text/csv")),
                                          ("mapping", ("map.yaml", mapping, "application/yaml"))], timeout=3600)
                wall = time.perf_counter() - t0
                after = _proc(server.pid)
                s = r.json().get("summary", r.json())
                print(json.dumps({"request": label, "status": r.status_code, "seconds": round(wall, 2),
                                  "server_cpu": round(after["cpu"] - before["cpu"], 2),
                                  "server_peak_mb": round(after["peak_mb"]), "response_kb": round(len(r.content) / 1024),
                                  "added": s.get("added"), "vendors": s.get("vendors")}))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
