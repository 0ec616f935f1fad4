"""``cleanpath plan --save-after NAME`` stores the network after the plan, so ``compare`` has a pair."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from cleanpath.cli.main import cli
from cleanpath.demo import build_example
from cleanpath.store.workspace import open_workspace


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("save") / "ws.duckdb"
    with open_workspace(path) as ws:
        ws.write_network("main", build_example(scale=0.003))
    return path


def run(path, *args):
    return CliRunner().invoke(cli, ["-w", str(path), *args], catch_exceptions=False)


def test_save_after_stores_exactly_the_scheduled_replacements(ws_path):
    r = run(ws_path, "plan", "--horizon", "2", "--start", "2027", "--budget", "1bn", "--save-after", "after",
            "--format", "json")
    assert r.exit_code == 0, r.output
    plan = json.loads(r.stdout)
    scheduled = pd.DataFrame(plan["tables"]["schedule"])
    replaced = int(scheduled.loc[scheduled["year"].notna(), "elements"].apply(
        lambda v: len(v) if isinstance(v, list) else int(v)).sum())
    with open_workspace(ws_path, read_only=True) as ws:
        assert {s.name for s in ws.snapshots()} == {"main", "after"}
        before, after = ws.network("main"), ws.network("after")
    changed = (before.elements["vendor"].astype(str).to_numpy() != after.elements["vendor"].astype(str).to_numpy())
    assert int(changed.sum()) == replaced > 0
    # the replacements are trusted vendors
    untrusted = set(plan["params"]["untrusted_vendors"])
    assert not set(after.elements.loc[changed, "vendor"].astype(str)) & untrusted
    c = run(ws_path, "compare", "main", "after", "--format", "json")
    assert json.loads(c.stdout)["summary"]["revendored"] == replaced


def test_save_after_refuses_an_existing_snapshot_before_solving(ws_path):
    r = run(ws_path, "plan", "--horizon", "2", "--save-after", "main", "--format", "json")
    assert r.exit_code == 2
    out = json.loads(r.stdout)  # one JSON object: the error, no result before it
    assert out["problems"][0]["column"] == "--save-after" and out["problems"][0]["value"] == "main"
