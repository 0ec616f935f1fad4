"""``explain`` and the serving diagnosis of ``info`` and imports, against hand-built answers and a
plain-Python fixpoint (networkx) on random networks."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import cleanpath
from cleanpath.analysis import service as service_model
from cleanpath.analysis.explain import REASONS, run_explain, serving_diagnosis, serving_warnings
from cleanpath.analysis.info import run_info
from cleanpath.errors import ValidationError
from cleanpath.io.tables import write_tables
from conftest import TOPOLOGYZOO


def net_of(elements, links, *, sites=None, name="main") -> cleanpath.Network:
    """A one-operator network; each element sits on its own site unless ``sites`` says otherwise."""
    el = pd.DataFrame(elements, columns=["element_id", "role", "vendor", "generation", "in_service", "site_id"][
        :len(elements[0])])
    if "generation" not in el:
        el["generation"] = "none"
    if "in_service" not in el:
        el["in_service"] = True
    if "site_id" not in el:
        el["site_id"] = "s-" + el["element_id"]
    site_ids = list(dict.fromkeys(el["site_id"]))
    sites = pd.DataFrame({"site_id": site_ids, "operator_id": "op", "kind": "hub",
                          "lat": 50.0, "lon": 8.0}) if sites is None else sites
    ops = pd.DataFrame({"operator_id": ["op"], "name": ["Op"], "country": ["DE"]})
    ln = pd.DataFrame(links, columns=["a", "b", "kind"]) if links else pd.DataFrame(columns=["a", "b", "kind"])
    return cleanpath.Network({"operators": ops, "sites": sites, "elements": el, "links": ln}, name=name)


# --- the 10-element inventory: the MME has no transport link ------------------------------

TEN = [
    ("r1", "ran.radio", "huawei", "4G", True, "cell1"),
    ("bb1", "ran.baseband", "huawei", "4G", True, "cell1"),
    ("r2", "ran.radio", "ericsson", "4G", True, "cell2"),
    ("bb2", "ran.baseband", "ericsson", "4G", True, "cell2"),
    ("rt-hub", "transport.router", "cisco", "none", True, "hub"),
    ("rt-dc", "transport.router", "cisco", "none", True, "dc"),
    ("mme", "core.mme", "huawei", "none", True, "dc"),
    ("sgw", "core.sgw", "huawei", "none", True, "dc"),
    ("ems", "mgmt.ems", "huawei", "none", True, "dc"),
    ("inet", "gateway.internet", "juniper", "none", True, "gw"),
]
TEN_LINKS = [("r1", "bb1", "transport"), ("r2", "bb2", "transport"), ("bb1", "rt-hub", "transport"),
             ("bb2", "rt-hub", "transport"), ("rt-hub", "rt-dc", "transport"), ("rt-dc", "inet", "transport"),
             ("sgw", "rt-dc", "transport"), ("ems", "rt-dc", "transport"),
             ("r1", "mme", "control"), ("r2", "mme", "control"),
             ("bb1", "mme", "control"), ("bb2", "mme", "control"), ("bb1", "ems", "management")]


@pytest.fixture
def ten():
    return net_of(TEN, TEN_LINKS)


def test_ten_elements_four_serve_and_the_chain_names_the_mme(ten):
    serving = set(np.asarray(ten.graph().element_ids)[service_model.ServiceIndex.of(ten).baseline()])
    assert serving == {"rt-hub", "rt-dc", "sgw", "ems", "inet"}
    res = run_explain(ten, target="r1")
    assert res.summary["serves"] is False
    first, root = res.summary["first_broken"], res.summary["root_cause"]
    assert (first["requirement"], first["element_id"]) == ("control plane homed and serving", "mme")
    assert root["for_element"] == "mme" and root["requirement"] == "reaches gateway via transport"
    assert root["detail"] == "no transport link at all"
    chain = res.tables["chain"]
    assert list(chain.columns) == ["step", "depth", "for_element", "requirement", "element_id", "role", "ok",
                                   "blocking", "detail"]
    assert chain["step"].tolist() == list(range(1, len(chain) + 1))
    # r1's own requirements first (depth 0), then the MME's (depth 1)
    assert chain.loc[chain["depth"] == 1, "for_element"].unique().tolist() == ["mme"]
    mme_rows = chain[chain["for_element"] == "mme"]
    assert mme_rows["requirement"].tolist() == ["in service", "reaches gateway via transport"]
    assert mme_rows["ok"].tolist() == [True, False]


def test_ten_elements_info_and_import_warn_with_counts(ten, tmp_path):
    info = run_info(ten)
    s = info.summary
    # independent count: the radios and basebands depend on the MME, which cannot reach a gateway
    assert s["non_serving_elements"] == 5
    assert s["non_serving_by_reason"] == {"control plane not serving": 4, "no transport path to gateway": 1}
    assert any("4 elements cannot serve: control plane not serving" in w for w in s["warnings"])
    assert any("1 element cannot serve: no transport path to any gateway (e.g. mme" in w for w in s["warnings"])
    assert s["warnings"][0].startswith("5 of 10 elements do not serve")
    # the same sentences come back from an import, through the report the CLI prints
    d = tmp_path / "ten"
    write_tables(ten.tables(), d, fmt="csv")
    with cleanpath.open_workspace(tmp_path / "w.duckdb") as ws:
        rep = cleanpath.ingest(ws, "tables", [d], diagnose=serving_warnings)
    assert rep.diagnosis == s["warnings"] and all(w in rep.warnings for w in s["warnings"])


def test_healthy_element_serves_with_the_full_chain(ten):
    res = run_explain(ten, target="sgw")
    assert res.summary["serves"] is True and res.summary["first_broken"] is None
    assert res.summary["root_cause"] is None
    chain = res.tables["chain"]
    assert chain["ok"].all() and (chain["depth"] == 0).all()
    last = chain.iloc[-1]
    assert last["requirement"] == "reaches gateway via transport" and last["element_id"] == "inet"
    assert last["detail"] == "2 hop(s): sgw -> rt-dc -> inet"
    # a managed element shows its manager as a requirement
    ems_row = run_explain(ten, target="bb1").tables["chain"].query("requirement.str.startswith('managed-by')")
    assert ems_row["element_id"].tolist() == ["ems"] and ems_row["ok"].all()


def test_nsa_radio_whose_anchor_is_out_of_service():
    net = net_of([
        ("inet", "gateway.internet", "juniper", "none", True),
        ("rt", "transport.router", "cisco", "none", True),
        ("bb4", "ran.baseband", "huawei", "4G", False),
        ("bb5", "ran.baseband", "huawei", "5G-NSA", True),
        ("r5", "ran.radio", "huawei", "5G-NSA", True),
    ], [("inet", "rt", "transport"), ("rt", "bb4", "transport"), ("rt", "bb5", "transport"),
        ("bb5", "r5", "transport"), ("r5", "bb4", "anchor"), ("bb5", "bb4", "anchor")])
    res = run_explain(net, target="r5")
    first, root = res.summary["first_broken"], res.summary["root_cause"]
    assert res.summary["serves"] is False
    assert (first["requirement"], first["element_id"]) == ("5G-NSA anchor serving", "bb4")
    assert (root["for_element"], root["requirement"]) == ("bb4", "in service")
    assert "out of service" in root["detail"]
    chain = res.tables["chain"]
    # r5's transport path crosses bb5, which is down for the same anchor: listed, but not first
    tr = chain[(chain["for_element"] == "r5") & (chain["requirement"] == "reaches gateway via transport")]
    assert tr["ok"].tolist() == [False] and tr["element_id"].tolist() == ["bb5"]
    assert "r5 -> bb5 -> rt -> inet" in tr["detail"].iloc[0]
    diag = serving_diagnosis(net).set_index("reason")["elements"]
    assert diag["out of service"] == 1 and diag["anchor not serving"] == 2 and diag.sum() == 3


def test_site_explained_element_by_element(ten):
    res = run_explain(ten, target="cell2")
    s = res.summary
    assert s["kind"] == "site" and s["serves"] is False and (s["elements"], s["serving_elements"]) == (2, 0)
    assert s["root_cause"]["for_element"] == "mme"
    el = res.tables["elements"].set_index("element_id")
    assert el.loc["r2", "decides_site"] and not el.loc["bb2", "decides_site"]
    assert set(res.tables["chain"]["for_element"]) >= {"r2", "bb2", "mme"}
    assert run_explain(ten, target="dc").summary["serves"] is True  # a site without radios: any element


def test_unknown_target_is_a_validation_error_with_suggestions(ten):
    with pytest.raises(ValidationError) as e:
        run_explain(ten, target="mm")
    p = e.value.problems[0]
    assert p.value == "mm" and "did you mean 'mme'" in p.reason


def test_topology_zoo_without_gateway_warns_with_count(tmp_path):
    with cleanpath.open_workspace(tmp_path / "w.duckdb") as ws:
        rep = cleanpath.ingest(ws, "topologyzoo", [TOPOLOGYZOO / "DeutscheTelekom.gml"], country="DE",
                               diagnose=serving_warnings)
        net = ws.network("main")
        n = len(net.elements)
        assert n == 39
        assert any(w.startswith(f"{n} elements cannot serve: their operator has no gateway") for w in rep.diagnosis)
        assert run_info(net).summary["non_serving_by_reason"] == {"no gateway in operator": n}
        res = run_explain(net, target=str(net.elements["element_id"].iloc[0]))
        assert "has no gateway" in res.summary["first_broken"]["detail"]
        # Dfn has its interconnect gateways: nothing to warn about
        rep = cleanpath.ingest(ws, "topologyzoo", [TOPOLOGYZOO / "Dfn.gml"], snapshot="dfn", country="DE",
                               diagnose=serving_warnings)
        assert rep.diagnosis == [] and run_info(ws.network("dfn")).summary["warnings"] == []


def test_cli_explain_and_warnings_on_stderr(tmp_path, ten):
    from cleanpath.cli.main import cli

    d = tmp_path / "ten"
    write_tables(ten.tables(), d, fmt="csv")
    ws = str(tmp_path / "w.duckdb")
    r = CliRunner().invoke(cli, ["-w", ws, "import", "tables", str(d), "--format", "json"], catch_exceptions=False)
    assert r.exit_code == 0 and "cannot serve" in r.stderr
    json.loads(r.stdout)
    r = CliRunner().invoke(cli, ["-w", ws, "info", "--format", "json"], catch_exceptions=False)
    assert json.loads(r.stdout)["summary"]["non_serving_elements"] == 5
    r = CliRunner().invoke(cli, ["-w", ws, "explain", "r2", "--format", "json"], catch_exceptions=False)
    obj = json.loads(r.stdout)
    assert r.exit_code == 0 and obj["question"] == "explain" and obj["summary"]["root_cause"]["for_element"] == "mme"
    r = CliRunner().invoke(cli, ["-w", ws, "explain", "nosuch"])
    assert r.exit_code == 2 and "no element or site 'nosuch'" in r.stderr
    r = CliRunner().invoke(cli, ["-w", ws, "explain", "cell1", "--format", "csv", "--table", "elements"])
    assert r.exit_code == 0 and r.stdout.splitlines()[0].startswith("element_id,role,vendor")


# --- a plain-Python oracle on random networks ----------------------------------------------------

def oracle(net: cleanpath.Network):
    """Serving set (greatest fixpoint, networkx) and each non-serving element's first failed rule."""
    el = net.elements
    ids = el["element_id"].tolist()
    role = dict(zip(ids, el["role"]))
    alive = {e for e, s in zip(ids, el["in_service"]) if s}
    op = dict(zip(el["element_id"], el["site_id"].map(dict(zip(net.sites["site_id"], net.sites["operator_id"])))))
    kinds = service_model.DEPENDENCY_KINDS
    deps = {k: {e: set() for e in ids} for k in ("control", "anchor", "management")}
    t = nx.Graph()
    t.add_nodes_from(ids)
    for a, b, k in net.links[["a", "b", "kind"]].itertuples(index=False):
        if k == "transport":
            if a != b:
                t.add_edge(a, b)
        else:
            deps[k][a].add(b)
    gw = {e for e in ids if role[e].startswith("gateway.")}
    s = set(alive)
    while True:
        s2 = {e for e in s if all(deps[k][e] <= s for k in kinds)}
        reach = set()
        for comp in nx.connected_components(t.subgraph(s2)):
            if comp & gw:
                reach |= comp
        if reach == s:
            break
        s = reach
    comps = {e: frozenset(c) for c in nx.connected_components(t) for e in c}
    op_gw = {op[g] for g in gw}
    reasons = {}
    for e in ids:
        if e in s:
            continue
        names = {"control": "control plane not serving", "anchor": "anchor not serving",
                 "management": "management not serving"}
        if e not in alive:
            reasons[e] = "out of service"
        elif any(kind in kinds and not deps[kind][e] <= s for kind in ("control", "anchor", "management")):
            reasons[e] = next(names[k] for k in ("control", "anchor", "management")
                              if k in kinds and not deps[k][e] <= s)
        elif not (comps[e] & gw) and op[e] not in op_gw:
            reasons[e] = "no gateway in operator"
        elif not (comps[e] & gw):
            reasons[e] = "no transport path to gateway"
        else:
            reasons[e] = "transport path through elements that do not serve"
    return s, reasons


ROLE_POOL = ["ran.radio", "ran.baseband", "transport.router", "core.mme", "core.upf", "mgmt.ems",
             "gateway.internet"]


@st.composite
def random_net(draw):
    n = draw(st.integers(2, 14))
    roles = draw(st.lists(st.sampled_from(ROLE_POOL), min_size=n, max_size=n))
    alive = draw(st.lists(st.booleans(), min_size=n, max_size=n)) if draw(st.booleans()) else [True] * n
    two_ops = draw(st.booleans())
    ids = [f"e{i}" for i in range(n)]
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                      st.sampled_from(["transport", "transport", "control", "anchor", "management"]))
    links = draw(st.lists(pairs, max_size=3 * n))
    els = [(ids[i], roles[i], "huawei", "none", alive[i], f"s{i}") for i in range(n)]
    sites = pd.DataFrame({"site_id": [f"s{i}" for i in range(n)],
                          "operator_id": [("op2" if two_ops and i % 2 else "op") for i in range(n)],
                          "kind": "hub", "lat": 50.0, "lon": 8.0})
    net = net_of(els, [(ids[a], ids[b], k) for a, b, k in links], sites=sites) if not two_ops else None
    if two_ops:
        ops = pd.DataFrame({"operator_id": ["op", "op2"], "name": ["A", "B"], "country": ["DE", "DE"]})
        el = pd.DataFrame(els, columns=["element_id", "role", "vendor", "generation", "in_service", "site_id"])
        ln = pd.DataFrame([(ids[a], ids[b], k) for a, b, k in links], columns=["a", "b", "kind"])
        net = cleanpath.Network({"operators": ops, "sites": sites, "elements": el, "links": ln})
    return net


@settings(max_examples=120, deadline=None)
@given(random_net())
def test_explain_and_diagnosis_agree_with_a_plain_fixpoint(net):
    serving, reasons = oracle(net)
    ids = net.elements["element_id"].tolist()
    assert set(np.asarray(ids)[service_model.ServiceIndex.of(net).baseline()]) == serving
    diag = serving_diagnosis(net).set_index("reason")["elements"]
    want = pd.Series(reasons, dtype=object).value_counts()
    assert {r: int(diag[r]) for r in REASONS if diag[r]} == {r: int(c) for r, c in want.items()}
    for e in ids:
        res = run_explain(net, target=e)
        assert res.summary["serves"] == (e in serving)
        assert (res.summary["first_broken"] is None) == (e in serving)
        chain = res.tables["chain"]
        own = chain[chain["depth"] == 0]
        # serving <=> every blocking requirement of the element itself holds
        assert bool((own["ok"] | ~own["blocking"]).all()) == (e in serving)


def test_a_lost_manager_is_shown_but_does_not_stop_forwarding():
    """Management is not forwarding: a baseband whose EMS cannot serve still serves, unmanaged."""
    net = net_of([
        ("inet", "gateway.internet", "juniper", "none", True),
        ("rt", "transport.router", "cisco", "none", True),
        ("bb", "ran.baseband", "huawei", "4G", True),
        ("ems", "mgmt.ems", "huawei", "none", True),
    ], [("inet", "rt", "transport"), ("rt", "bb", "transport"), ("bb", "ems", "management")])
    assert "management" not in service_model.DEPENDENCY_KINDS
    res = run_explain(net, target="bb")
    assert res.summary["serves"] is True and res.summary["first_broken"] is None
    m = res.tables["chain"].query("requirement.str.startswith('managed-by')").iloc[0]
    assert (m["element_id"], m["ok"], m["blocking"]) == ("ems", False, False)
    assert "unmanaged" in m["detail"]
    diag = serving_diagnosis(net).set_index("reason")
    assert diag["elements"].to_dict() == {r: (1 if r == "no transport path to gateway" else 0) for r in REASONS}
    assert diag.loc["no transport path to gateway", "example"] == "ems"
