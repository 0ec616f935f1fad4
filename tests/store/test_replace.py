"""Nothing is overwritten silently: import, generate and estimate against an existing snapshot."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from click.testing import CliRunner

import cleanpath
from cleanpath.cli.main import cli
from cleanpath.errors import ValidationError
from conftest import ROOT, TOPOLOGYZOO

DFN = TOPOLOGYZOO / "Dfn.gml"


def small_tables(prefix: str = "") -> dict[str, pd.DataFrame]:
    """Three radios homed on one MME (ids prefixed, so two calls give disjoint networks)."""
    ops = pd.DataFrame({"operator_id": [f"{prefix}op"], "name": ["Op"], "country": ["DE"]})
    sites = pd.DataFrame({"site_id": [f"{prefix}c{i}" for i in range(3)] + [f"{prefix}dc"],
                          "operator_id": f"{prefix}op", "kind": ["cell"] * 3 + ["core_dc"],
                          "lat": [50.0, 50.001, 50.002, 50.5], "lon": 8.0})
    elements = pd.DataFrame({"element_id": [f"{prefix}r{i}" for i in range(3)] + [f"{prefix}mme"],
                             "site_id": [f"{prefix}c{i}" for i in range(3)] + [f"{prefix}dc"],
                             "role": ["ran.radio"] * 3 + ["core.mme"],
                             "vendor": ["Huawei Technologies Co., Ltd."] * 3 + ["Ericsson AB"]})
    links = pd.DataFrame({"a": [f"{prefix}r{i}" for i in range(3)], "b": f"{prefix}mme", "kind": "control"})
    return {"operators": ops, "sites": sites, "elements": elements, "links": links}


def run(ws, *args):
    return CliRunner().invoke(cli, ["-w", str(ws), *args])


def write(path, tables):
    path.mkdir(parents=True)
    for name, df in tables.items():
        df.to_csv(path / f"{name}.csv", index=False)
    return path


def snapshot_tables(ws_path, name="main"):
    with cleanpath.open_workspace(ws_path, read_only=True) as ws:
        return {t: df.copy() for t, df in ws.network(name).tables().items()}


# --- the README's Python snippet, as written, twice --------------------------------------------

def test_readme_python_snippet_runs_twice(tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "cleanpath.ingest" in b)
    (tmp_path / "Dfn.gml").write_bytes(DFN.read_bytes())
    monkeypatch.chdir(tmp_path)
    env: dict = {}
    exec(compile(block + "\nws.close()\n", "README.md", "exec"), env)
    first = snapshot_tables(tmp_path / "cleanpath.duckdb")
    env = {}
    exec(compile(block + "\nws.close()\n", "README.md", "exec"), env)  # the second run succeeds
    second = snapshot_tables(tmp_path / "cleanpath.duckdb")
    for t in cleanpath.TABLES:  # ... and means "nothing new": the snapshot is unchanged
        pd.testing.assert_frame_equal(first[t], second[t])
    assert len(second["elements"]) == 58


def test_ingest_modes(tmp_path):
    with cleanpath.open_workspace(tmp_path / "w.duckdb") as ws:
        rep = cleanpath.ingest(ws, "topologyzoo", [DFN], country="DE", mode="new")
        assert rep.mode == "new" and rep.added["elements"] == 58
        with pytest.raises(ValidationError) as e:
            cleanpath.ingest(ws, "topologyzoo", [DFN], country="DE", mode="new")
        reason = e.value.problems[0].reason
        assert reason.startswith("snapshot 'main' exists (58 elements, written ")
        assert "mode='replace'" in reason and "mode='merge'" in reason
        rep = cleanpath.ingest(ws, "topologyzoo", [DFN], country="DE")  # default: merge
        assert rep.mode == "merge" and rep.added["elements"] == 0 and rep.skipped["elements"] == 58
        assert any("58 elements" in w and "identical to rows already in the snapshot" in w for w in rep.warnings)
        # changed rows are refused, nothing is written
        with pytest.raises(ValidationError) as e:
            cleanpath.ingest(ws, "topologyzoo", [DFN], country="DE", vendor="Huawei")
        assert len(e.value.problems) == 58 and "vendor: 'unknown' there, 'huawei' here" in e.value.problems[0].reason
        assert set(ws.network("main").elements["vendor"]) == {"unknown"}
        rep = cleanpath.ingest(ws, "topologyzoo", [DFN], country="DE", vendor="Huawei", mode="replace")
        assert rep.totals["elements"] == 58 and set(ws.network("main").elements["vendor"]) == {"huawei"}
        rep = cleanpath.ingest(ws, "topologyzoo", [DFN], country="DE", vendor="Huawei", replace=True)
        assert rep.mode == "replace" and rep.totals["elements"] == 58
        with pytest.raises(ValidationError, match="unknown import mode 'append'"):
            cleanpath.ingest(ws, "topologyzoo", [DFN], mode="append")
        with pytest.raises(ValidationError, match="contradicts"):
            cleanpath.ingest(ws, "topologyzoo", [DFN], mode="merge", replace=True)


def test_merge_adds_new_rows_and_skips_identical_links(tmp_path):
    """Half the rows new, half already there: the new ones are added, the rest skipped, in place."""
    a, b = small_tables(), small_tables(prefix="x-")
    both = {t: pd.concat([a[t], b[t]], ignore_index=True) for t in a}
    with cleanpath.open_workspace(tmp_path / "w.duckdb") as ws:
        cleanpath.ingest(ws, "tables", [write(tmp_path / "a", a)])
        before = {t: df.copy() for t, df in ws.network("main").tables().items()}
        rep = cleanpath.ingest(ws, "tables", [write(tmp_path / "both", both)])
        assert rep.added == {"operators": 1, "sites": 4, "elements": 4, "links": 3}
        assert rep.skipped == {"operators": 1, "sites": 4, "elements": 4, "links": 3}
        net = ws.network("main")
        for t in ("sites", "elements", "links"):  # the old rows stay first, as they were
            pd.testing.assert_frame_equal(getattr(net, t).iloc[:len(before[t])].reset_index(drop=True), before[t])
        assert net.elements["element_id"].is_unique and len(net.links) == 6


# --- the CLI -----------------------------------------------------------------------------------------

def test_cli_import_refuses_an_existing_snapshot(tmp_path):
    ws = tmp_path / "w.duckdb"
    assert run(ws, "import", "topologyzoo", str(DFN), "--country", "DE").exit_code == 0
    r = run(ws, "import", "topologyzoo", str(DFN), "--country", "DE")
    assert r.exit_code == 2
    assert "snapshot 'main' exists (58 elements, written" in r.stderr
    assert "use --replace to overwrite it, --merge to add these rows to it, or --snapshot NAME" in r.stderr
    r = run(ws, "import", "topologyzoo", str(DFN), "--country", "DE", "--format", "json")
    assert r.exit_code == 2 and json.loads(r.stdout)["problems"][0]["column"] == "snapshot"
    r = run(ws, "import", "topologyzoo", str(DFN), "--country", "DE", "--merge", "--format", "json")
    obj = json.loads(r.stdout)
    assert r.exit_code == 0 and obj["params"]["mode"] == "merge" and obj["summary"]["skipped"]["elements"] == 58
    r = run(ws, "import", "topologyzoo", str(DFN), "--vendor", "Huawei", "--replace", "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["summary"]["totals"]["elements"] == 58
    r = run(ws, "import", "topologyzoo", str(DFN), "--replace", "--merge")
    assert r.exit_code == 2 and "exclude each other" in r.output
    r = run(ws, "import", "topologyzoo", str(DFN), "--snapshot", "other")
    assert r.exit_code == 0
    with cleanpath.open_workspace(ws, read_only=True) as w:
        assert w.snapshot_names() == ["main", "other"]
        assert set(w.network("main").elements["vendor"]) == {"huawei"}


def test_cli_generate_refuses_before_building(tmp_path):
    ws = tmp_path / "w.duckdb"
    assert run(ws, "import", "topologyzoo", str(DFN), "--country", "DE").exit_code == 0
    before = snapshot_tables(ws)
    r = run(ws, "generate", "--country", "NZ", "--scale", "0.01")
    assert r.exit_code == 2
    assert "snapshot 'main' exists (58 elements" in r.stderr
    assert "use --replace to overwrite it or --snapshot NAME" in r.stderr
    after = snapshot_tables(ws)
    pd.testing.assert_frame_equal(before["elements"], after["elements"])  # the import is intact
    r = run(ws, "generate", "--country", "NZ", "--scale", "0.01", "--snapshot", "nz", "--format", "json")
    assert r.exit_code == 0, r.output
    r = run(ws, "generate", "--country", "NZ", "--scale", "0.01", "--snapshot", "nz", "--seed", "3")
    assert r.exit_code == 2 and "snapshot 'nz' exists" in r.stderr
    r = run(ws, "generate", "--country", "NZ", "--scale", "0.01", "--snapshot", "nz", "--seed", "3",
            "--replace", "--format", "json")
    assert r.exit_code == 0 and "--seed 3" in next(
        s.source for s in cleanpath.open_workspace(ws, read_only=True).snapshots() if s.name == "nz")


def test_cli_estimate_refuses_an_existing_snapshot(tmp_path):
    ws = tmp_path / "w.duckdb"
    assert run(ws, "import", "topologyzoo", str(DFN), "--country", "DE").exit_code == 0
    cells = tmp_path / "cells.csv"
    cells.write_text("radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n")
    r = run(ws, "estimate", "--opencellid", str(cells))
    assert r.exit_code == 2 and "snapshot 'main' exists (58 elements" in r.stderr
    assert "--replace" in r.stderr


def test_python_generate_refuses_an_existing_snapshot_unless_replace(tmp_path):
    from cleanpath.build.generate import run_generate
    from cleanpath.errors import ValidationError
    from cleanpath.store.workspace import open_workspace

    with open_workspace(tmp_path / "ws.duckdb") as ws:
        run_generate(ws, snapshot="nz", country="NZ", scale=0.002, seed=1)
        before = ws.network("nz").elements["element_id"].tolist()
        with pytest.raises(ValidationError, match="replace=True"):
            run_generate(ws, snapshot="nz", country="NZ", scale=0.004, seed=2)
        assert ws.network("nz").elements["element_id"].tolist() == before  # untouched
        run_generate(ws, snapshot="nz", country="NZ", scale=0.004, seed=2, replace=True)
        assert ws.network("nz").elements["element_id"].tolist() != before
