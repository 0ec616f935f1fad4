"""What every benchmark records: peak memory of the process and the machine it ran on."""

from __future__ import annotations

import os
import platform
import resource
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (VmHWM; getrusage where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _proc_field(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine(packages: tuple[str, ...] = ("numpy", "pandas", "pyarrow", "duckdb", "scipy")) -> dict:
    """CPU model, cores, memory, Python and the versions of ``packages``."""
    mem = _proc_field("/proc/meminfo", "MemTotal")
    versions = {}
    for p in packages:
        try:
            versions[p] = version(p)
        except PackageNotFoundError:
            versions[p] = "missing"
    return {"cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "memory_gb": round(int(mem.split()[0]) / 2**20, 1) if mem else None,
            "python": platform.python_version(), "os": platform.platform(), **versions}


def median_seconds(fn, repeat: int, *, warm: bool = False) -> float:
    """Median wall seconds of ``repeat`` calls of ``fn`` (after one untimed call with ``warm``)."""
    import statistics
    import time

    if warm:
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
