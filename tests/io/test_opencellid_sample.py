"""The shipped synthetic OpenCelliD sample: reproducible from its script, read by the real importer,
and good for the README's ``cleanpath estimate`` example end to end."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import cleanpath
from cleanpath.io.opencellid import import_opencellid

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = Path(cleanpath.__file__).parent / "data" / "examples" / "opencellid_synthetic_sample.csv.gz"


def _script():
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "scripts" / "make_opencellid_sample.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_sample_is_what_the_script_makes():
    assert _script().build() == SAMPLE.read_bytes()


def test_sample_reads_as_opencellid():
    with gzip.open(SAMPLE, "rt", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert 2_000 <= len(rows) <= 5_000
    assert {r["mcc"] for r in rows} == {"262"} and {r["net"] for r in rows} == {"1", "2", "3"}
    lat = [float(r["lat"]) for r in rows]
    lon = [float(r["lon"]) for r in rows]
    assert 49.0 < min(lat) and max(lat) < 49.9 and 7.2 < min(lon) and max(lon) < 8.4  # one city's region
    got = import_opencellid([SAMPLE])
    el = got.tables["elements"]
    # one baseband per site and generation: count (network, eNB) groups independently
    lte_sites = {(r["net"], int(r["cell"]) // 256) for r in rows if r["radio"] == "LTE"}
    gens = Counter(el.loc[el["role"] == "ran.baseband", "generation"])
    assert gens["4G"] == len(lte_sites)
    assert len(got.tables["operators"]) == 3


def test_readme_estimate_example_end_to_end(tmp_path):
    exe = Path(sys.executable).parent / "cleanpath"
    out = subprocess.run([str(exe), "-w", str(tmp_path / "ws.duckdb"), "estimate", "--opencellid", str(SAMPLE),
                          "-k", "20", "--format", "json"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["question"] == "estimate"
    fig = {(f["operator_id"], f["figure"]): f for f in doc["tables"]["figures"]}
    share = fig[("all", "chinese_subscribers")]
    assert 0 < share["p05"] <= share["median"] <= share["p95"] < 1
    with cleanpath.open_workspace(tmp_path / "ws.duckdb", read_only=True) as ws:
        assert len(ws.network("main").sites) == doc["summary"]["sites"]
