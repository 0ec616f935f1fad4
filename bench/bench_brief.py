"""The allies brief at scale: seven countries x K draws, local, processes or Dask.

::

    /work/main/.venv/bin/python bench/bench_brief.py --scale 0.02 --draws 2
    /work/main/.venv/bin/python bench/bench_brief.py --scale 0.05 --draws 2 --executor dask --workers 2
    /work/main/.venv/bin/python bench/bench_brief.py --scale 1 --draws 1 --countries DE --per-task

Reports the wall time, CPU time of this process and its children, the peak of the summed RSS of
this process and every descendant (sampled every 0.2 s with psutil, so Dask and pool workers are
counted), the CPU time of the whole process tree (``cpu_seconds_tree``, what the work costs
whatever else the machine runs) and the 1-minute load average before and after. With ``--per-task`` every (country, draw)
runs once in this process with its own timing, to extrapolate to K draws. Targets (issue 15):
seven countries at full scale with K=20 in at most 10 minutes on 2 cores, peak at most 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import machine  # noqa: E402


class TreeRss:
    """Peak of the summed RSS of this process and all its descendants, sampled in a thread."""

    def __init__(self, every: float = 0.2) -> None:
        self.every = every
        self.peak = 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        me = psutil.Process()
        total = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                total += p.memory_info().rss
                c = p.cpu_times()
                # a descendant's CPU time as last seen (workers exit before the end)
                self.cpu[p.pid] = c.user + c.system + getattr(c, "children_user", 0) + getattr(c, "children_system", 0)
            except psutil.Error:
                pass
        return total

    @property
    def cpu_seconds(self) -> float:
        """CPU time (user + system) of this process and every descendant seen."""
        return float(sum(self.cpu.values()))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.every)

    def __enter__(self) -> "TreeRss":
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._sample())


def cpu_seconds() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime


def main() -> int:
    from cleanpath.brief import DEFAULT_COUNTRIES, run_brief
    from cleanpath.brief.engine import _draw_seed, brief_draw
    from cleanpath.scale.executor import get_executor

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--countries", default=",".join(DEFAULT_COUNTRIES))
    ap.add_argument("--scale", type=float, default=0.02)
    ap.add_argument("--draws", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--executor", default="local", choices=("local", "processes", "dask"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--per-task", action="store_true", help="time every (country, draw) alone, in this process")
    ap.add_argument("--json", default=None, help="append the record to this JSON-lines file")
    a = ap.parse_args()
    countries = [c.strip().upper() for c in a.countries.split(",") if c.strip()]
    import datetime as dt

    as_of = dt.date(2026, 1, 1)
    rec = {"countries": countries, "scale": a.scale, "draws": a.draws, "executor": a.executor,
           "workers": a.workers, "load_before": os.getloadavg()[0], "machine": machine()}
    if a.per_task:
        tasks = []
        for c in countries:
            for d in range(a.draws):
                t0, c0 = time.perf_counter(), cpu_seconds()
                with TreeRss() as m:
                    out = brief_draw((c, d, _draw_seed(a.seed, c, d), None,
                                      {"scale": a.scale, "untrusted": None, "as_of": as_of, "aid_years": 5}))
                tasks.append({"country": c, "draw": d, "elements": out["elements"],
                              "seconds": round(time.perf_counter() - t0, 2),
                              "cpu_seconds": round(cpu_seconds() - c0, 2), "peak_rss_mb": round(m.peak / 2**20)})
                print(json.dumps(tasks[-1]), file=sys.stderr, flush=True)
        rec["tasks"] = tasks
        rec["total_task_seconds"] = round(sum(t["seconds"] for t in tasks), 1)
    else:
        ex = None
        t_start = time.perf_counter()
        with TreeRss() as m:
            if a.executor != "local":
                ex = get_executor(a.executor, workers=a.workers)
            t0, c0 = time.perf_counter(), cpu_seconds()
            r = run_brief(countries=countries, draws=a.draws, scale=a.scale, seed=a.seed, as_of=as_of,
                          executor=ex or "local",
                          on_progress=lambda i, n: print(f"{i}/{n} {time.perf_counter() - t0:.1f}s",
                                                         file=sys.stderr, flush=True))
            rec["seconds"] = round(time.perf_counter() - t0, 2)
            rec["cpu_seconds_this_process_and_pools"] = round(cpu_seconds() - c0, 2)
            if ex is not None:
                ex.close()
        rec["seconds_with_executor_start"] = round(time.perf_counter() - t_start, 2)
        rec["peak_tree_rss_mb"] = round(m.peak / 2**20)
        rec["cpu_seconds_tree"] = round(m.cpu_seconds, 1)
        rec["elements_per_draw"] = {c: int(r.tables["draws"].query("country == @c")["elements"].median())
                                    for c in countries}
    rec["load_after"] = os.getloadavg()[0]
    print(json.dumps(rec, indent=1))
    if a.json:
        with open(a.json, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
