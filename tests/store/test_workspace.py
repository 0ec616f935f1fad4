"""The DuckDB workspace: snapshots, atomic imports, migrations, and surviving a real SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import cleanpath
from cleanpath.errors import SnapshotNotFound, ValidationError, WorkspaceError
from cleanpath.store.workspace import SCHEMA_VERSION
from oracles import small_tables



def test_write_and_read_back(workspace):
    net = cleanpath.Network(small_tables(), name="main")
    workspace.write_network("main", net)
    workspace._networks.clear()  # force a real read from DuckDB
    back = workspace.network("main")
    for t in cleanpath.TABLES:
        pd.testing.assert_frame_equal(getattr(back, t), getattr(net, t), check_dtype=True)
    assert back.elements["vendor"].tolist() == ["huawei"] * 3 + ["ericsson"]


def test_snapshot_registry(workspace):
    workspace.write_network("a", cleanpath.Network(small_tables()))
    workspace.write_network("b", cleanpath.Network(small_tables(n_cells=5)))
    assert workspace.snapshot_names() == ["a", "b"]
    assert {s.name: s.counts["elements"] for s in workspace.snapshots()} == {"a": 4, "b": 6}
    workspace.copy_snapshot("b", "c")
    assert len(workspace.network("c").elements) == 6
    workspace.delete_snapshot("a")
    assert workspace.snapshot_names() == ["b", "c"]
    with pytest.raises(SnapshotNotFound, match="no snapshot 'a'.*has b, c"):
        workspace.network("a")
    with pytest.raises(ValidationError, match="invalid snapshot name"):
        workspace.write_network("bad name!", cleanpath.Network(small_tables()))


def test_replacing_a_snapshot_drops_the_old_storage(workspace):
    workspace.write_network("main", cleanpath.Network(small_tables()))
    workspace.write_network("main", cleanpath.Network(small_tables(n_cells=7)))
    schemas = {r[0] for r in workspace.con.execute(
        "SELECT schema_name FROM information_schema.schemata").fetchall()}
    storage = [s for s in schemas if s.startswith("s") and s[1:].isdigit()]
    assert len(storage) == 1
    assert len(workspace.network("main").elements) == 8


def test_import_merges_then_replace(workspace, tmp_path):
    from cleanpath.io.tables import write_tables

    write_tables(cleanpath.Network(small_tables()).tables(), tmp_path / "one", fmt="csv")
    write_tables(cleanpath.Network(small_tables(prefix="x-")).tables(), tmp_path / "two", fmt="csv")
    cleanpath.ingest(workspace, "tables", [tmp_path / "one"])
    rep = cleanpath.ingest(workspace, "tables", [tmp_path / "two"])
    assert rep.totals["elements"] == 8 and rep.added["elements"] == 4
    rep = cleanpath.ingest(workspace, "tables", [tmp_path / "two"], replace=True)
    assert rep.totals["elements"] == 4


def test_new_rows_may_refer_to_existing_ones(workspace, tmp_path):
    cleanpath.ingest(workspace, "tables", [_write(tmp_path / "base", small_tables())])
    extra = {"elements": pd.DataFrame({"element_id": ["new"], "site_id": ["c0"],
                                       "role": ["transport.router"], "vendor": ["Cisco"]}),
             "links": pd.DataFrame({"a": ["r0"], "b": ["new"], "kind": ["transport"]})}
    rep = cleanpath.ingest(workspace, "tables", [_write(tmp_path / "extra", extra)])
    assert rep.totals["links"] == 4


def _write(path: Path, tables) -> Path:
    path.mkdir(parents=True)
    for name, df in tables.items():
        df.to_csv(path / f"{name}.csv", index=False)
    return path


def test_failed_import_changes_nothing(workspace, tmp_path):
    cleanpath.ingest(workspace, "tables", [_write(tmp_path / "good", small_tables())])
    before = workspace.network("main").elements.copy()
    bad = small_tables(prefix="y-")
    bad["links"].loc[0, "b"] = "nowhere"  # dangling reference
    with pytest.raises(ValidationError) as e:
        cleanpath.ingest(workspace, "tables", [_write(tmp_path / "bad", bad)])
    p = e.value.problems[0]
    assert (Path(p.file).name, p.line, p.column, p.value) == ("links.csv", 2, "b", "nowhere")
    assert "missing element" in p.reason
    with pytest.raises(ValidationError):
        cleanpath.ingest(workspace, "tables", [_write(tmp_path / "bad2", bad)], snapshot="other")
    assert workspace.snapshot_names() == ["main"]
    workspace._networks.clear()
    pd.testing.assert_frame_equal(workspace.network("main").elements, before)


def test_fresh_workspace_has_current_schema_version(tmp_path):
    with cleanpath.open_workspace(tmp_path / "w.duckdb") as ws:
        assert ws.schema_version() == SCHEMA_VERSION


def test_plain_duckdb_file_is_migrated(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE unrelated (x INT)")
    con.close()
    with cleanpath.open_workspace(path) as ws:
        assert ws.schema_version() == SCHEMA_VERSION
        assert ws.snapshot_names() == []


def test_newer_workspace_is_refused(tmp_path):
    path = tmp_path / "new.duckdb"
    with cleanpath.open_workspace(path) as ws:
        ws.con.execute("UPDATE cleanpath_meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(WorkspaceError, match="version 999.*Upgrade cleanpath"):
        cleanpath.open_workspace(path)


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(WorkspaceError, match="not a cleanpath workspace|cannot open"):
        cleanpath.open_workspace(path)


def test_read_only_missing_file(tmp_path):
    with pytest.raises(WorkspaceError, match="no workspace at"):
        cleanpath.open_workspace(tmp_path / "absent.duckdb", read_only=True)


def test_second_writer_gets_a_clear_error(tmp_path):
    path = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import cleanpath, sys, time
            ws = cleanpath.open_workspace({str(path)!r})
            print("open", flush=True)
            time.sleep(30)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(WorkspaceError, match="in use by another process"):
            cleanpath.open_workspace(path)
    finally:
        holder.kill()
        holder.wait()


KILLER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[4])
    import cleanpath
    from oracles import small_tables
    ws = cleanpath.open_workspace(sys.argv[1])
    net = cleanpath.Network(small_tables(prefix="k-", n_cells=int(sys.argv[2])), name="victim")
    def stored(table):
        print("stored", table, flush=True)
        if sys.argv[3] == "pause" and table == "elements":
            time.sleep(60)   # the parent kills us here, mid-transaction
    ws.write_network("victim", net, on_table=stored)
    print("committed", flush=True)
""")


@pytest.fixture
def killer_script(tmp_path):
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    return script


def _run_killer(script: Path, path: Path, n: int, mode: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(script), str(path), str(n), mode,
                             str(Path(__file__).resolve().parents[1])], **kw)


def _check_intact(path: Path, expect_victim: bool | None) -> None:
    with cleanpath.open_workspace(path) as ws:
        names = ws.snapshot_names()
        assert "keep" in names
        keep = ws.network("keep")
        assert len(keep.elements) == 4 and keep.elements["vendor"].tolist()[0] == "huawei"
        if expect_victim is not None:
            assert ("victim" in names) == expect_victim
        if "victim" in names:  # if it landed, it landed whole
            v = ws.network("victim")
            assert len(v.elements) == len(v.sites) == len(v.links) + 1


def test_sigkill_mid_import_leaves_earlier_snapshots_intact(tmp_path, killer_script):
    path = tmp_path / "k.duckdb"
    with cleanpath.open_workspace(path) as ws:
        ws.write_network("keep", cleanpath.Network(small_tables()))
    child = _run_killer(killer_script, path, 20000, "pause", stdout=subprocess.PIPE, text=True)
    try:
        for line in child.stdout:
            if line.strip() == "stored elements":
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    _check_intact(path, expect_victim=False)


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.5, 2.5])
def test_sigkill_at_arbitrary_moments(tmp_path, killer_script, delay):
    """Kill a real import at different moments: the workspace always opens, whole or nothing."""
    path = tmp_path / "k.duckdb"
    with cleanpath.open_workspace(path) as ws:
        ws.write_network("keep", cleanpath.Network(small_tables()))
    child = _run_killer(killer_script, path, 60000, "run", stdout=subprocess.DEVNULL)
    time.sleep(delay)
    child.kill()
    child.wait()
    _check_intact(path, expect_victim=None)


def test_problems_name_the_right_file_when_one_table_comes_from_several(tmp_path):
    """Two GML files in one import: a clash in the second is reported against the second file."""
    from conftest import TOPOLOGYZOO

    ws = cleanpath.open_workspace(tmp_path / "w.duckdb")
    # the same nodes with another vendor: a merge refuses to overwrite them
    cleanpath.ingest(ws, "topologyzoo", [TOPOLOGYZOO / "Dfn.gml"], country="DE", operator_id="dfn",
                     vendor="Huawei")
    with pytest.raises(ValidationError) as e:
        cleanpath.ingest(ws, "topologyzoo", [TOPOLOGYZOO / "Geant2012.gml", TOPOLOGYZOO / "Dfn.gml"])
    files = {Path(p.file).name for p in e.value.problems if "already in snapshot" in p.reason}
    assert files == {"Dfn.gml"}


def test_identical_operator_rows_are_shared_not_duplicates(workspace, tmp_path):
    """A second file of the same operator repeats its operator row: skipped with a note, not refused."""
    first = small_tables()
    second = small_tables(prefix="b-")
    second["operators"] = first["operators"].copy()
    for t in ("sites",):
        second[t]["operator_id"] = "op"
    cleanpath.ingest(workspace, "tables", [_write(tmp_path / "one", first)])
    rep = cleanpath.ingest(workspace, "tables", [_write(tmp_path / "two", second)])
    assert rep.totals["operators"] == 1 and rep.totals["sites"] == 8
    assert any("identical to rows already in the snapshot" in w for w in rep.warnings)
    changed = small_tables(prefix="c-")
    changed["operators"] = first["operators"].assign(name="Renamed")
    changed["sites"]["operator_id"] = "op"
    with pytest.raises(ValidationError, match="already in snapshot 'main' with other values"):
        cleanpath.ingest(workspace, "tables", [_write(tmp_path / "three", changed)])
