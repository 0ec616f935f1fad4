"""The outage question (fail and kill; intercept is in test_threat_modes.py): hand-built networks
with known answers, Monte Carlo against exact enumeration, executors, bad input, and the command
line."""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
from click.testing import CliRunner

import cleanpath
from cleanpath.analysis.outage import lost_area_geojson, process_map, run_outage
from cleanpath.io.lists import read_element_list
from oracles import graph_cli, make_net, oracle_serving, two_operators


def test_vendor_outage_by_hand():
    res = run_outage(two_operators(), vendors="HUAWEI")  # any spelling resolves
    s = res.summary
    # Huawei: h1, mme, ems, hC. bbA is homed on the Huawei MME and hangs off h1: A is lost. C is
    # lost behind hC. The EMS manages e1, which keeps forwarding (unmanaged): B keeps service.
    lost = {"h1", "mme", "ems", "hC", "bbA", "rA", "rC"}
    assert s["lost_elements"] == len(lost)
    assert s["lost_sites"] == 2 and s["lost_subscribers"] == 150
    assert s["unmanaged_elements"] == 1
    assert res.tables["unmanaged"].to_dict("records") == [{"domain": "transport", "vendor": "ericsson", "elements": 1}]
    assert s["sensitive_without_service"] == ["base"]
    assert s["lost_by_domain"] == {"ran": 3, "transport": 2, "core": 1, "mgmt": 1}
    by_op = res.tables["by_operator"].set_index("operator_id")
    assert by_op.loc["op1", "lost_subscribers"] == 100 and by_op.loc["op2", "lost_subscribers"] == 50
    assert by_op.loc["op2", "lost_elements"] == 2 and by_op.loc["op1", "unmanaged_elements"] == 1
    lost_sites = res.tables["lost_sites"]
    assert sorted(lost_sites["site_id"]) == ["cA", "cC"]
    gj = lost_area_geojson(lost_sites)
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == 2
    a = next(f for f in gj["features"] if f["properties"]["site_id"] == "cA")
    assert a["geometry"]["coordinates"] == [8.0, 50.0]
    sens = res.tables["sensitive"].iloc[0]
    assert sorted(sens["operators_before"]) == ["op1", "op2"] and sens["operators_after"] == []
    # the old name of the mode still works and says what it is read as
    old = run_outage(two_operators(), vendors="huawei", mode="disable")
    assert old.params["mode"] == "fail" and old.params["mode_requested"] == "disable"
    assert "read as 'fail'" in old.summary["notes"][0]
    assert old.summary["lost_elements"] == s["lost_elements"]


def test_outage_matches_oracle_for_every_vendor():
    net = two_operators()
    for v in ("ericsson", "nokia", "huawei"):
        res = run_outage(net, vendors=v)
        off = set(net.elements.loc[net.elements["vendor"] == v, "element_id"])
        assert res.summary["lost_elements"] == len(oracle_serving(net) - oracle_serving(net, off))


def test_element_and_region_scenarios():
    net = two_operators()
    assert run_outage(net, elements=["hC"]).summary["lost_elements"] == 2  # hC and rC
    # region by name
    net.sites["region"] = pd.Series(["north", "north", "south", "north", "south"], dtype=net.sites["region"].dtype)
    net.cache.clear()
    res = run_outage(net, region="South")
    assert res.summary["disabled_elements"] == 4 and res.summary["lost_sites"] == 2  # cC and dc2
    # region by circle: 500 m around cell A holds only its two elements (cell C is 715 m away)
    res = run_outage(net, region="50.0,8.0,0.5")
    assert res.summary["disabled_elements"] == 2 and res.tables["lost_sites"]["site_id"].tolist() == ["cA"]


def test_kill_by_hand():
    res = run_outage(two_operators(), vendors="huawei", mode="kill")
    s = res.summary
    # its own four elements plus e1, which its EMS manages
    assert s["killable_elements"] == 5 and s["killable_own"] == 4 and s["killable_through_management"] == 1
    k = res.tables["killable"].set_index(["domain", "vendor"])
    assert k.loc[("transport", "ericsson"), "through_management"] == 1
    # with e1 switched off too, B loses service: every site is lost
    assert s["lost_elements"] == 10 and s["lost_sites"] == 3 and s["lost_subscribers"] == 450
    off = {"h1", "mme", "ems", "hC", "e1"}
    assert s["lost_elements"] == len(oracle_serving(two_operators()) - oracle_serving(two_operators(), off))
    assert s["lost_elements"] >= run_outage(two_operators(), vendors="huawei").summary["lost_elements"]
    comp = run_outage(two_operators(), vendors="huawei", mode="compromise")
    assert comp.params["mode"] == "kill" and comp.summary["killable_elements"] == 5
    assert any("'compromise' is read as 'kill'" in n for n in comp.summary["notes"])


# --- Monte Carlo ---------------------------------------------------------------------------------------

def chain_net():
    """gw - a - b - r1 and b - r2, plus a second gateway path gw2 - c - b: losing b cuts both radios."""
    els = [("gw", "gateway.internet", "nokia", "dc"), ("gw2", "gateway.internet", "nokia", "dc"),
           ("a", "transport.router", "nokia", "dc"), ("c", "transport.router", "nokia", "dc"),
           ("b", "transport.router", "nokia", "s1"), ("r1", "ran.radio", "nokia", "s0"),
           ("r2", "ran.radio", "nokia", "s1")]
    links = [("gw", "a", "transport"), ("a", "b", "transport"), ("gw2", "c", "transport"), ("c", "b", "transport"),
             ("b", "r1", "transport"), ("b", "r2", "transport")]
    return make_net(els, links, sensitive=[("x", "military", 50.0, 8.0, 500.0)])


def exact_expectation(net, scope: list[str], p: float):
    """E[lost elements], E[sensitive x without service] by enumerating every failure set."""
    base = oracle_serving(net)
    e_lost = e_sens = 0.0
    for k in range(len(scope) + 1):
        for fail in itertools.combinations(scope, k):
            pr = p ** k * (1 - p) ** (len(scope) - k)
            after = oracle_serving(net, set(fail))
            e_lost += pr * len(base - after)
            e_sens += pr * ("r1" not in after)  # only r1 covers x
    return e_lost, e_sens


def test_monte_carlo_agrees_with_enumeration():
    net = chain_net()
    p = 0.3
    exact_lost, exact_sens = exact_expectation(net, net.elements["element_id"].tolist(), p)
    res = run_outage(net, random_p=p, samples=4000, seed=7)
    s = res.summary
    lo, hi = s["lost_elements_ci95"]
    half = (hi - lo) / 2
    assert abs(s["lost_elements"] - exact_lost) < 2.5 * half  # a 99 % band around the estimate
    sens = res.tables["sensitive"].iloc[0]
    assert sens["ci95_low"] - 0.01 <= exact_sens <= sens["ci95_high"] + 0.01
    assert s["sensitive_without_service"] == ["x"]
    assert len(res.tables["samples"]) == 4000
    assert set(res.tables["distribution"]["metric"]) >= {"lost_elements", "lost_sites", "lost_subscribers"}


def test_monte_carlo_certain_failure_and_scope():
    net = chain_net()
    res = run_outage(net, random_p=1.0, samples=5)
    assert res.summary["lost_elements"] == 7 and res.summary["lost_elements_ci95"] == [7.0, 7.0]
    # random failures only among the routers: the gateways and radios never fail themselves
    res = run_outage(net, random_p=1.0, samples=3, elements=["a", "c"])
    assert res.summary["failed"] == 2 and res.summary["lost_elements"] == 5  # all but the two gateways
    assert res.summary["lost_elements"] == len(oracle_serving(net) - oracle_serving(net, {"a", "c"}))


def test_executors_give_the_same_samples_and_report_progress():
    net = chain_net()
    seen = []
    ref = run_outage(net, random_p=0.2, samples=60, seed=3, on_progress=lambda d, n: seen.append((d, n)))
    assert seen[-1] == (60, 60) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    with ThreadPoolExecutor(2) as ex:
        threaded = run_outage(net, random_p=0.2, samples=60, seed=3, executor=ex)
    pooled = run_outage(net, random_p=0.2, samples=60, seed=3, executor=process_map(2))
    mapped = run_outage(net, random_p=0.2, samples=60, seed=3, executor=map)
    for other in (threaded, pooled, mapped):
        pd.testing.assert_frame_equal(other.tables["samples"], ref.tables["samples"])
    assert run_outage(net, random_p=0.2, samples=60, seed=4).tables["samples"]["failed"].tolist() != \
        ref.tables["samples"]["failed"].tolist()


# --- bad input -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, column", [
    ({}, "scenario"),
    ({"vendors": "huawei", "region": "x"}, "scenario"),
    ({"vendors": "nosuchvendor"}, "--vendor"),
    ({"elements": ["rA", "zzz"]}, "element_id"),
    ({"region": "atlantis"}, "--region"),
    ({"region": "95,8,10"}, "--region"),
    ({"random_p": 1.5}, "--random"),
    ({"random_p": 0.1, "mode": "compromise"}, "--mode"),
    ({"vendors": "huawei", "samples": 10}, "--samples"),
    ({"vendors": "huawei", "mode": "explode"}, "--mode"),
])
def test_bad_scenarios(kwargs, column):
    with pytest.raises(cleanpath.ValidationError) as e:
        run_outage(two_operators(), **kwargs)
    assert column in [p.column for p in e.value.problems]


def test_element_file_reports_lines(tmp_path):
    f = tmp_path / "ids.txt"
    f.write_text("# failed in the storm\nrA\n\nnope\nhC\n", encoding="utf-8")
    ids, lines, label = read_element_list(f)
    assert ids == ["rA", "nope", "hC"] and lines == [2, 4, 5]
    with pytest.raises(cleanpath.ValidationError) as e:
        run_outage(two_operators(), elements=ids, element_lines=lines, elements_source=label)
    p = e.value.problems[0]
    assert (p.file, p.line, p.value) == (label, 4, "nope")
    c = tmp_path / "ids.csv"
    c.write_text("element_id,note\nrA,x\n,missing\n", encoding="utf-8")
    with pytest.raises(cleanpath.ValidationError) as e:
        read_element_list(c)
    assert e.value.problems[0].line == 3
    (tmp_path / "bin").write_bytes(b"\x00\x01")
    with pytest.raises(cleanpath.ValidationError):
        read_element_list(tmp_path / "bin")


# --- the command line ------------------------------------------------------------------------------------

@pytest.fixture
def ws(tmp_path):
    cli = graph_cli()
    d = tmp_path / "net"
    d.mkdir()
    for name, df in two_operators().tables().items():
        if len(df):
            df.to_csv(d / f"{name}.csv", index=False)
    path = str(tmp_path / "ws.duckdb")
    r = CliRunner().invoke(cli, ["-w", path, "import", "tables", str(d)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return cli, path


def test_cli_outage_json_contract(ws, tmp_path):
    cli, path = ws
    out = tmp_path / "lost.geojson"
    r = CliRunner().invoke(cli, ["-w", path, "outage", "--vendor", "huawei", "--geojson", str(out),
                                 "--format", "json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj["question"] == "outage"
    assert {"lost_elements", "lost_sites", "lost_subscribers", "sensitive_without_service"} <= set(obj["summary"])
    assert obj["summary"]["sensitive_without_service"] == ["base"]
    assert len(json.loads(out.read_text())["features"]) == 2


def test_cli_outage_random_and_bad_file(ws, tmp_path):
    cli, path = ws
    r = CliRunner().invoke(cli, ["-w", path, "outage", "--random", "0.1", "--samples", "30", "--format", "json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["summary"]["samples"] == 30
    f = tmp_path / "ids.txt"
    f.write_text("rA\nghost\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["-w", path, "outage", "--elements", str(f), "--format", "json"])
    assert r.exit_code == 2
    prob = json.loads(r.stdout)["problems"][0]
    assert prob["line"] == 2 and prob["value"] == "ghost"


def test_cli_threat_modes_and_tiny_probabilities(ws):
    cli, path = ws
    r = CliRunner().invoke(cli, ["-w", path, "outage", "--vendor", "huawei", "--mode", "intercept", "--format", "json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)["summary"]
    assert s["intercept_traffic_share"] == pytest.approx(0.75)
    assert {"intercept_subscriber_share", "intercept_signalling_share", "keys_exposed_subscribers"} <= set(s)
    r = CliRunner().invoke(cli, ["-w", path, "outage", "--vendor", "huawei", "--mode", "kill", "--format", "json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["summary"]["killable_elements"] == 5
    for p in ("1e-300", "1e-19", "5e-324"):  # used to loop forever or raise IndexError
        r = CliRunner().invoke(cli, ["-w", path, "outage", "--random", p, "--samples", "10", "--format", "json"])
        assert r.exit_code == 2, r.output
