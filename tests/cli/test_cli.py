"""The command line: exit codes, the one-object JSON contract, CSV output, snapshots, export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import cleanpath
from cleanpath.cli.main import cli
from oracles import small_tables


@pytest.fixture
def net_dir(tmp_path) -> Path:
    d = tmp_path / "net"
    d.mkdir()
    for name, df in small_tables().items():
        df.to_csv(d / f"{name}.csv", index=False)
    return d


def run(ws: Path, *args: str):
    return CliRunner().invoke(cli, ["-w", str(ws), *args], catch_exceptions=False)


def test_import_info_json_contract(tmp_path, net_dir):
    ws = tmp_path / "ws.duckdb"
    r = run(ws, "import", "tables", str(net_dir), "--format", "json")
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj["question"] == "import" and obj["summary"]["totals"]["elements"] == 4
    r = run(ws, "info", "--format", "json")
    obj = json.loads(r.stdout)
    assert set(obj) == {"question", "snapshot", "params", "summary", "tables"}
    assert obj["question"] == "info" and obj["snapshot"] == "main"
    by_vendor = {row["vendor"]: row["elements"] for row in obj["tables"]["by_vendor"]}
    assert by_vendor == {"huawei": 3, "ericsson": 1}


def test_csv_output_selects_tables(tmp_path, net_dir):
    ws = tmp_path / "ws.duckdb"
    run(ws, "import", "tables", str(net_dir))
    r = run(ws, "info", "--format", "csv", "--table", "by_domain")
    assert r.stdout.splitlines()[0] == "domain,elements"
    assert sorted(r.stdout.splitlines()[1:]) == ["core,1", "ran,3"]
    r = run(ws, "info", "--format", "csv", "--table", "all")
    assert "# by_vendor" in r.stdout and "# by_domain" in r.stdout
    r = run(ws, "info", "--format", "csv", "--table", "nope")
    assert r.exit_code == 2 and "no table 'nope'" in r.output


def test_bad_input_exits_2_and_names_the_place(tmp_path, net_dir):
    ws = tmp_path / "ws.duckdb"
    (net_dir / "sites.csv").write_text("site_id,operator_id,kind,lat,lon\nc0,op,cell,95,8\n"
                                       "c1,op,cell,50,8\nc2,op,tower,50,8\ndc,op,core_dc,50,8\n")
    r = run(ws, "import", "tables", str(net_dir))
    assert r.exit_code == 2
    assert "sites.csv:2" in r.stderr and "'lat'" in r.stderr and "above the maximum 90" in r.stderr
    assert "sites.csv:4" in r.stderr and "'tower'" in r.stderr
    r = run(ws, "import", "tables", str(net_dir), "--format", "json")
    err = json.loads(r.stdout)
    assert r.exit_code == 2 and err["error"] == "validation"
    assert {(Path(p["file"]).name, p["line"], p["column"]) for p in err["problems"]} >= {
        ("sites.csv", 2, "lat"), ("sites.csv", 4, "kind")}


def test_missing_snapshot_and_workspace_exit_2(tmp_path, net_dir):
    ws = tmp_path / "ws.duckdb"
    r = run(ws, "info")
    assert r.exit_code == 2 and "no workspace at" in r.stderr
    run(ws, "import", "tables", str(net_dir))
    r = run(ws, "info", "--snapshot", "other")
    assert r.exit_code == 2 and "no snapshot 'other'" in r.stderr


def test_usage_error_exits_2(tmp_path):
    r = CliRunner().invoke(cli, ["import", "nosuchformat", "x"])
    assert r.exit_code == 2


def test_export_roundtrip_and_snapshot_commands(tmp_path, net_dir):
    ws = tmp_path / "ws.duckdb"
    run(ws, "import", "tables", str(net_dir))
    r = run(ws, "export", "--out", str(tmp_path / "exp.zip"), "--as", "csv")
    assert r.exit_code == 0
    r = run(ws, "import", "tables", str(tmp_path / "exp.zip"), "--snapshot", "copy")
    assert r.exit_code == 0, r.output
    with cleanpath.open_workspace(ws, read_only=True) as w:
        for t in cleanpath.TABLES:
            pd.testing.assert_frame_equal(getattr(w.network("main"), t), getattr(w.network("copy"), t))
    r = run(ws, "snapshots", "--format", "json")
    assert [s["name"] for s in json.loads(r.stdout)["tables"]["snapshots"]] == ["copy", "main"]
    assert run(ws, "snapshots", "copy", "main", "what-if").exit_code == 0
    assert run(ws, "snapshots", "delete", "copy").exit_code == 0
    r = run(ws, "snapshots", "--format", "csv")
    assert [l.split(",")[0] for l in r.stdout.splitlines()[1:]] == ["main", "what-if"]


def test_console_script_is_installed(tmp_path):
    exe = Path(sys.executable).parent / "cleanpath"
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"cleanpath, version {cleanpath.__version__}"


def test_schema_and_vendors_commands():
    r = CliRunner().invoke(cli, ["schema", "--format", "json"])
    cols = json.loads(r.stdout)["tables"]["columns"]
    assert {"table": "links", "column": "capacity_gbps"}.items() <= next(
        c for c in cols if c["column"] == "capacity_gbps").items()
    r = CliRunner().invoke(cli, ["vendors", "resolve", "HUAWEI TECHNOLOGIES CO., LTD.", "Acme"])
    assert r.stdout.splitlines() == ["HUAWEI TECHNOLOGIES CO., LTD.\thuawei", "Acme\tunknown (kept as given)"]


def test_wide_tables_show_whole_columns_and_say_what_they_leave_out(capsys):
    """A table wider than the screen keeps every shown figure whole (rich would squeeze all columns
    to nothing) and names the columns left out; nested summaries get a line per key."""
    from rich.console import Console

    from cleanpath.cli.output import _rich_table, render
    from cleanpath.result import Result

    cols = {f"metric_{i:02d}_median_share": [123456.0 + i, 0.5] for i in range(40)}
    df = pd.DataFrame({"country": ["DE", "KR"], **cols})
    con = Console(width=100, record=True, highlight=False)
    con.print(_rich_table("wide", df, limit=30, width=100))
    text = con.export_text()
    header = next(line for line in text.splitlines() if "country" in line)
    shown = [c for c in df.columns if c in header]
    assert 1 < len(shown) < len(df.columns)
    assert "123,456" in text  # a shown number is printed whole, not folded
    left = len(df.columns) - len(shown)
    assert f"{left} more columns ({df.columns[len(shown)]}" in " ".join(text.split())
    assert max(len(line) for line in text.splitlines()) <= 100

    r = Result(question="brief", snapshot=None, params={},
               summary={"per_country": {"DE": {"installations": 13, "share": [0.25, 0.5, 0.75]},
                                        "KR": {"installations": 3, "share": [0.0, 0.0, 0.0]}}},
               tables={})
    render(r, "table")
    out = capsys.readouterr().out
    assert "  per_country:\n    DE: installations=13; share=[0.25, 0.5, 0.75]\n    KR: installations=3;" in out
