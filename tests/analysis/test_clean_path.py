"""The clean-path question: hand-built cases with known answers, and a brute force on random networks.

The brute force is independent of the engine: plain-Python service fixpoint, haversine coverage,
and enumeration of every subset of untrusted elements for the cheapest remediation.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cleanpath
from cleanpath.analysis.clean_path import clean_path_status, policy_engine, run_clean_path
from cleanpath.policy.vendorset import resolve_untrusted as resolve_trust
from oracles import C0, GW, REHOME, UP, Brute, graph_cli, make_net, random_net, skeleton

from cleanpath.model.costs import load_costs

def row_of(res, sid="base", op="op"):
    t = res.tables["clean_path"]
    return t[(t["sensitive_id"] == sid) & (t["operator_id"] == op)].iloc[0]


def test_all_trusted_is_clean_with_a_witness():
    res = run_clean_path(skeleton(), untrusted={"huawei"})
    row = row_of(res)
    assert row["clean"] and row["remediation"] == [] and row["remediation_cost"] == 0
    assert row["witness"] == ["r", "rt", "dcr", "upf", "gw"]
    assert row["blocking"] == []


def test_trusted_5g_radio_on_untrusted_4g_anchor_is_not_clean():
    # the trusted 5G-NSA radio r5 is anchored on a Huawei 4G baseband at another site (s3): replacing
    # that baseband's RAN unit takes r5 with it (a new 4G anchor does not drive another vendor's NSA)
    net = skeleton(extra=[("r5", "ran.radio", "ericsson", "s0", {"generation": "5G-NSA", "unit_cost": 15.0}),
                          ("bb4", "ran.baseband", "huawei", "s3", {"unit_cost": 40.0})],
                   links=[("r5", "rt", "transport"), ("bb4", "rt", "transport"), ("r5", "bb4", "anchor")],
                   radio_vendor="huawei")
    row = row_of(run_clean_path(net, untrusted={"huawei"}, costs=C0))
    assert not row["clean"]
    # two ways out: the Huawei 4G radio r's RAN unit (10), or the anchor's, with r5 (40 + 15)
    assert row["remediation"] == ["r"] and row["remediation_cost"] == 10.0
    assert row["remediation_units"] == ["ran:s0"] and row["blocking"] == ["r"]
    # make the 4G radio expensive: now the 5G radio's anchor unit is the cheaper way
    net.elements.loc[net.elements["element_id"] == "r", "unit_cost"] = 1000.0
    net.cache.clear()
    row = row_of(run_clean_path(net, untrusted={"huawei"}, costs=C0))
    assert not row["clean"] and sorted(row["remediation"]) == ["bb4", "r5"] and row["remediation_cost"] == 55.0
    assert row["remediation_units"] == ["ran:s3"] and row["blocking"] == ["bb4"]
    assert row["witness"][0] == "r5" and "bb4" in row["witness"]


def test_only_radio_anchored_on_untrusted_anchor():
    net = make_net([("r5", "ran.radio", "ericsson", "s0", {"generation": "5G-NSA", "unit_cost": 15.0}),
                    ("bb4", "ran.baseband", "huawei", "s0", {"unit_cost": 40.0}),
                    ("rt", "transport.router", "ericsson"), ("upf", "core.upf", "ericsson", "dc"),
                    ("gw", "gateway.internet", "ericsson", "dc")],
                   [("r5", "rt", "transport"), ("bb4", "rt", "transport"), ("rt", "upf", "transport"),
                    ("upf", "gw", "transport"), ("r5", "bb4", "anchor")],
                   sensitive=[("base", "military", 50.0, 8.0)])
    res = run_clean_path(net, untrusted={"huawei"}, costs=C0)
    row = row_of(res)
    # the site's RAN is one unit: the anchor and the NSA radio it drives
    assert not row["clean"] and row["blocking"] == ["bb4"] and sorted(row["remediation"]) == ["bb4", "r5"]
    assert row["remediation_cost"] == 55.0
    # without the anchor constraint the site would be clean: the service itself is fine
    assert res.summary["sites_without_clean_path"] == ["base"]


def test_untrusted_ems_managing_trusted_router_is_not_clean():
    row = row_of(run_clean_path(skeleton(ems_vendor="huawei"), untrusted={"huawei"}, costs=C0))
    assert not row["clean"]
    # a management system's unit also pays for re-homing what it manages (one router here)
    assert row["blocking"] == ["ems"] and row["remediation"] == ["ems"] and row["remediation_cost"] == 500.0 + REHOME
    assert row["lower_bound"] == pytest.approx(500.0 + REHOME) and row["remediation_optimal"]
    row = row_of(run_clean_path(skeleton(ems_vendor="nokia"), untrusted={"huawei"}))
    assert row["clean"] and "ems" in row["witness"]  # the management dependency is part of the witness


def test_control_plane_homed_on_untrusted_amf_is_not_clean():
    row = row_of(run_clean_path(skeleton(amf_vendor="huawei"), untrusted={"huawei"}, costs=C0))
    assert not row["clean"] and row["remediation"] == ["amf"] and row["remediation_cost"] == 700.0
    row = row_of(run_clean_path(skeleton(amf_vendor="ericsson"), untrusted={"huawei"}))
    assert row["clean"] and row["witness"][-1] == "amf"


def test_redundant_trusted_path_stays_clean_and_keeps_service():
    from cleanpath.analysis.outage import run_outage

    net = skeleton(rt_vendor="ericsson",
                   extra=[("agg1", "transport.router", "huawei", "s1", {"unit_cost": 5.0}),
                          ("agg2", "transport.router", "nokia", "s1", {"unit_cost": 5.0})],
                   links=[("rt", "agg1", "transport"), ("agg1", "dcr", "transport"),
                          ("rt", "agg2", "transport"), ("agg2", "dcr", "transport")])
    # remove the direct rt-dcr link so that traffic must use an aggregation router
    net.links = net.links[~((net.links["a"] == "rt") & (net.links["b"] == "dcr"))].reset_index(drop=True)
    net.cache.clear()
    row = row_of(run_clean_path(net, untrusted={"huawei"}))
    assert row["clean"] and "agg1" not in row["witness"] and "agg2" in row["witness"]
    out = run_outage(net, vendors="huawei")
    assert out.summary["sensitive_without_service"] == [] and out.summary["lost_elements"] == 1
    # with the trusted aggregation router gone too, the site is cut off
    out = run_outage(net, vendors="huawei,nokia")
    assert out.summary["sensitive_without_service"] == ["base"]


def test_remediation_counts_dragged_dependencies():
    # two routes: via h1 (cheap, but managed by an expensive Huawei EMS) or via h2 (dearer, no EMS)
    net = skeleton(extra=[("h1", "transport.router", "huawei", "s1", {"unit_cost": 10.0}),
                          ("h2", "transport.router", "huawei", "s2", {"unit_cost": 100.0}),
                          ("hems", "mgmt.ems", "huawei", "dc", {"unit_cost": 1000.0})],
                   links=[("rt", "h1", "transport"), ("h1", "dcr", "transport"), ("rt", "h2", "transport"),
                          ("h2", "dcr", "transport"), ("hems", "dcr", "transport"), ("h1", "hems", "management")])
    net.links = net.links[~((net.links["a"] == "rt") & (net.links["b"] == "dcr"))].reset_index(drop=True)
    net.cache.clear()
    row = row_of(run_clean_path(net, untrusted={"huawei"}, costs=C0))
    assert row["remediation"] == ["h2"] and row["remediation_cost"] == 100.0
    assert row["blocking"] == ["h2"]  # what the fix needs, not what the current route crosses


def test_no_coverage_and_unknown_inputs():
    net = skeleton()
    net.sensitive_sites.loc[0, "lat"] = 10.0  # far from every radio
    net.cache.clear()
    row = row_of(run_clean_path(net, untrusted={"huawei"}))
    assert not row["clean"] and row["reason"].startswith("no serving radio") and row["remediation"] == []
    with pytest.raises(cleanpath.ValidationError) as e:
        run_clean_path(net, sensitive=["nope"], untrusted={"huawei"})
    assert e.value.problems[0].value == "nope"
    with pytest.raises(cleanpath.ValidationError):
        run_clean_path(net, operator="nobody", untrusted={"huawei"})


def test_shared_fix_reuses_one_replacement():
    # site a: a short route via Huawei router ha (60) or a longer one via Huawei aggregation agg
    # (100); site b can only use agg. Alone: a takes ha, b takes agg (160 together). Shared:
    # once agg is replaced anyway, a can use it too, and ha is not needed.
    els = [("ra", "ran.radio", "ericsson", "s0", {"unit_cost": 1.0}),
           ("rb", "ran.radio", "ericsson", "s2", {"unit_cost": 1.0}),
           ("agg", "transport.router", "huawei", "s1", {"unit_cost": 100.0}),
           ("ha", "transport.router", "huawei", "s0", {"unit_cost": 60.0}),
           ("x", "transport.router", "ericsson", "s0"),
           ("upf", "core.upf", "ericsson", "dc"), ("gw", "gateway.internet", "ericsson", "dc")]
    lk = [("ra", "agg", "transport"), ("rb", "agg", "transport"), ("agg", "upf", "transport"),
          ("upf", "gw", "transport"), ("ra", "ha", "transport"), ("ha", "x", "transport"), ("x", "upf", "transport")]
    net = make_net(els, lk, sensitive=[("a", "military", 50.0, 8.0, 1000.0), ("b", "military", 50.3, 8.3, 1000.0)])
    res = run_clean_path(net, untrusted={"huawei"}, costs=C0)
    t = res.tables["clean_path"]
    assert t["remediation"].tolist() == [["ha"], ["agg"]] and t["remediation_cost"].tolist() == [60.0, 100.0]
    assert res.summary["remediation_total_independent"] == 160.0
    assert res.summary["shared_fix_union_cost"] == 160.0
    assert res.summary["shared_fix_cost"] == 100.0
    assert res.tables["shared_fix"]["element_id"].tolist() == ["agg"]
    assert res.summary["shared_fix_lower_bound"] == pytest.approx(100.0)
    assert res.summary["shared_fix_ratio_bound"] == pytest.approx(1.0) and res.summary["shared_fix_optimal"]


# --- random networks against the brute force --------------------------------------------------------------

def _check_against_brute(net, untrusted):
    """Status and witnesses against the brute force; remediations are valid fixes of their units.

    Fixes replace whole units (:mod:`cleanpath.analysis.units`), so the element-level optimum of
    the brute force is a lower bound here; that the unit-level cost is the optimum is checked
    against a brute force over units in ``test_remediation.py``.
    """
    res = run_clean_path(net, untrusted=frozenset(untrusted), costs=C0)
    br = Brute(net, set(untrusted))
    t = res.tables["clean_path"]
    assert len(t) == len(net.sensitive_sites) * len(net.operators)
    fixable = []
    for row in t.itertuples():
        radios_b = [r for r in br.radios(row.sensitive_id, row.operator_id) if r in br.base]
        assert row.clean == br.clean(row.sensitive_id, row.operator_id)
        if row.clean:
            w = row.witness
            assert w[0] in radios_b and not (set(w) & br.bad)
            assert any(br.role[x] in UP for x in w) and any(br.role[x] in GW for x in w)
            assert all(br.deps[x] <= set(w) for x in w)  # the witness carries its dependencies
            assert row.remediation == [] and row.remediation_cost == 0 and row.blocking == []
            continue
        if not radios_b:
            assert row.reason.startswith("no serving radio")
            continue
        best = br.cheapest([(row.sensitive_id, row.operator_id)])
        if np.isinf(best):
            assert row.reason.startswith("no path")
            continue
        fixable.append((row.sensitive_id, row.operator_id))
        assert br.clean(row.sensitive_id, row.operator_id, frozenset(row.remediation))  # the fix works
        assert best <= row.remediation_cost + 1e-6  # whole units cost at least the elements they must hold
        assert row.lower_bound <= row.remediation_cost + 1e-6 and row.remediation_optimal
        assert set(row.blocking) <= br.bad & set(row.remediation)
        assert row.witness and row.witness[0] in radios_b
    if fixable:
        fix = frozenset(res.tables["shared_fix"]["element_id"])
        assert all(br.clean(s, o, fix) for s, o in fixable)
        assert res.summary["shared_fix_cost"] <= res.summary["remediation_total_independent"] + 1e-6
    return res


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(5, 16))
def test_random_networks_without_dependencies(seed, n):
    _check_against_brute(random_net(seed, n, deps=False, ops=2), {"huawei"})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(5, 16))
def test_random_networks_with_dependencies(seed, n):
    _check_against_brute(random_net(seed, n, deps=True, ops=2), {"huawei"})


# --- the policy engine, trust settings and the command line -------------------------------------------------

def test_status_for_the_policy_engine():
    net = skeleton(ems_vendor="huawei")
    st_ = clean_path_status(net, untrusted={"huawei"}, kinds=["military"])
    assert st_[["sensitive_id", "operator_id", "covered", "clean"]].values.tolist() == [["base", "op", True, False]]
    assert st_["blocking"].tolist() == [["ems"]]
    assert clean_path_status(net, untrusted={"zte"})["clean"].tolist() == [True]


def test_policy_engine_respects_the_audit_date():
    # the only radio near the base was installed in 2023: before that the base had no service
    net = skeleton(extra=[], links=[])
    net.elements["installed_on"] = np.where(net.elements["element_id"] == "r", "2023-01-01", None)
    net = cleanpath.Network(net.tables())
    before = policy_engine(net, sensitive_ids=["base"], untrusted=frozenset({"huawei"}), as_of=dt.date(2022, 12, 31))
    after = policy_engine(net, sensitive_ids=["base"], untrusted=frozenset({"huawei"}), as_of=dt.date(2023, 1, 1))
    assert before[["covered", "clean"]].values.tolist() == [[False, False]]
    assert after[["covered", "clean"]].values.tolist() == [[True, True]]


def test_audit_uses_the_engine():
    from cleanpath.analysis.audit import audit_network

    res = audit_network(skeleton(ems_vendor="huawei"), policies="us-clean-path", as_of="2024-01-01")
    f = res.tables["findings"]
    hit = f[f["rule_id"].astype(str).str.endswith("military-clean-path")]
    assert len(hit) == 1
    assert hit["element_id"].iloc[0] == "ems" and "base" in hit["message"].iloc[0]
    ok = audit_network(skeleton(ems_vendor="nokia"), policies="us-clean-path", as_of="2024-01-01")
    g = ok.tables["findings"]
    assert not g["rule_id"].astype(str).str.endswith("military-clean-path").any()


def test_trust_settings():
    net = skeleton(extra=[("x", "transport.router", "Acme Widgets", "s1")], links=[("x", "rt", "transport")])
    assert resolve_trust(net, "huawei,ZTE Corp") == {"huawei", "zte"}
    assert "huawei" in resolve_trust(net, None) and "ericsson" not in resolve_trust(net, None)
    assert resolve_trust(net, "us-clean-path") == {"huawei", "zte"}
    assert {"huawei", "zte", "fiberhome"} <= resolve_trust(net, "country:CN")
    only = resolve_trust(net, "only:ericsson+nokia")
    assert "ericsson" not in only and "nokia" not in only and {"huawei", "Acme Widgets"} <= only
    assert resolve_trust(net, "Acme Widgets") == {"Acme Widgets"}
    with pytest.raises(cleanpath.ValidationError) as e:
        resolve_trust(net, "huawei,no-such-thing,country:XX")
    assert [p.value for p in e.value.problems] == ["no-such-thing", "country:XX"]


def test_cli_clean_path_json(tmp_path):
    cli = graph_cli()
    net = skeleton(ems_vendor="huawei")
    d = tmp_path / "net"
    d.mkdir()
    for name, df in net.tables().items():
        if len(df):
            df.to_csv(d / f"{name}.csv", index=False)
    ws = str(tmp_path / "ws.duckdb")
    r = CliRunner().invoke(cli, ["-w", ws, "import", "tables", str(d)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["-w", ws, "clean-path", "--trust", "huawei", "--format", "json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    obj = json.loads(r.stdout)
    assert obj["question"] == "clean-path"
    row = obj["tables"]["clean_path"][0]
    assert {k: row[k] for k in ("sensitive_id", "operator_id", "clean", "remediation", "remediation_cost")} == {
        "sensitive_id": "base", "operator_id": "op", "clean": False, "remediation": ["ems"],
        "remediation_cost": 500.0 + REHOME + load_costs().site_visit}  # the EMS's unit, one site visit
    r = CliRunner().invoke(cli, ["-w", ws, "clean-path", "--trust", "bogus-vendor", "--format", "json"])
    assert r.exit_code == 2 and json.loads(r.stdout)["problems"][0]["value"] == "bogus-vendor"
