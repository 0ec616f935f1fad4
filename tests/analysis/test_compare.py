"""Comparing two snapshots: element changes and how the findings changed."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from click.testing import CliRunner

import cleanpath
from cleanpath.analysis.compare import compare_snapshots
from oracles import E, graph_cli as _cli, make_network

BEFORE = [
    E("core1", "gb-dc", "core.mme", "huawei"),           # swapped to Ericsson: re-vendored
    E("core2", "gb-dc", "core.sgw", "huawei"),           # removed
    E("r1", "gb-cell", "ran.radio", "nokia", "4G"),      # unchanged
    E("d1", "de-dc", "core.amf", "huawei"),              # unchanged (finding stays)
]
AFTER = [
    E("core1", "gb-dc", "core.mme", "Ericsson AB"),
    E("r1", "gb-cell", "ran.radio", "nokia", "4G"),
    E("d1", "de-dc", "core.amf", "huawei"),
    E("new5g", "gb-cell", "ran.radio", "huawei", "5G-SA", installed_on="2024-02-01"),  # added
]


@pytest.fixture
def nets():
    return make_network(BEFORE, name="before"), make_network(AFTER, name="after")


def test_element_changes(nets):
    r = compare_snapshots(*nets)
    ch = r.tables["changes"].set_index("element_id")
    assert dict(ch["change"]) == {"core1": "revendored", "core2": "removed", "new5g": "added"}
    assert (ch.loc["core1", "vendor_a"], ch.loc["core1", "vendor_b"]) == ("huawei", "ericsson")
    assert ch.loc["core2", "operator_id"] == "op-gb" and ch.loc["core2", "domain"] == "core"
    assert r.summary["added"] == 1 and r.summary["removed"] == 1 and r.summary["revendored"] == 1
    by = r.tables["by_domain_operator"].set_index(["domain", "operator_id"])
    assert by.loc[("core", "op-gb")].to_dict() == {"elements_a": 2, "elements_b": 1, "added": 0, "removed": 1,
                                                  "revendored": 1}
    assert by.loc[("ran", "op-gb")].to_dict() == {"elements_a": 1, "elements_b": 2, "added": 1, "removed": 0,
                                                 "revendored": 0}
    v = r.tables["by_vendor"].set_index("vendor")["delta"]
    assert v["huawei"] == -1 and v["ericsson"] == 1 and v["nokia"] == 0
    assert "findings" not in r.tables


def test_findings_new_resolved_unchanged(nets):
    r = compare_snapshots(*nets, policies="uk-tsa,de-2024", as_of=dt.date(2024, 8, 1))
    f = r.tables["findings"].set_index("finding_id")
    status = dict(f["status"])
    assert status["uk-tsa/core/core1"] == "resolved"
    assert status["uk-tsa/core/core2"] == "resolved"
    assert status["uk-tsa/no-new-5g/new5g"] == "new"
    assert status["uk-tsa/remove-5g/new5g"] == "new"
    assert status["uk-tsa/access-cap/op-gb"] == "new"  # the one RAN site of op-gb is now Huawei
    assert status["de-2024/core-5g/d1"] == "unchanged"
    assert f.loc["uk-tsa/core/core1", "severity_a"] == "violation" and pd.isna(f.loc["uk-tsa/core/core1", "severity_b"])
    assert r.summary["findings_resolved"] == 2 and r.summary["findings_unchanged"] == 1
    assert r.summary["findings_new"] == 3 and len(f) == 6
    by_rule = r.tables["findings_by_rule"].set_index(["pack", "rule_id"])
    assert by_rule.loc[("uk-tsa", "core"), "resolved"] == 2
    json.dumps(r.to_dict(), default=str)


def test_identical_snapshots_have_no_changes(nets):
    r = compare_snapshots(nets[0], nets[0], policies="uk-tsa", as_of=dt.date(2024, 6, 1))
    assert len(r.tables["changes"]) == 0
    assert set(r.tables["findings"]["status"]) == {"unchanged"}


def test_cli_compare(tmp_path, nets):
    path = tmp_path / "ws.duckdb"
    with cleanpath.open_workspace(path) as ws:
        ws.write_network("before", nets[0])
        ws.write_network("after", nets[1])
    r = CliRunner().invoke(_cli(), ["-w", str(path), "compare", "before", "after", "-p", "uk-tsa",
                                    "--as-of", "2024-06-01", "--format", "json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj["question"] == "compare" and obj["summary"]["revendored"] == 1
    assert {row["status"] for row in obj["tables"]["findings"]} == {"new", "resolved"}
    r = CliRunner().invoke(_cli(), ["-w", str(path), "compare", "before", "nope"])
    assert r.exit_code == 2
