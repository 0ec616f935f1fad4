"""The three readings of a vendor threat (fail, kill, intercept), encrypted links, traffic from where
users are, and bounded random failures.

Oracles are independent of the vectorised code: the served set by plain sets and networkx
(:func:`test_service.oracle_serving`), management reach by a networkx search, intercept routes
walked hop by hop with ``networkx.shortest_path`` on tree networks (where the route is unique),
and hand-computed shares on hand-built networks.
"""

from __future__ import annotations

import time

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cleanpath
from cleanpath.analysis.outage import MODES, bernoulli_positions, run_outage
from cleanpath.analysis.threat import ALWAYS_READ_ROLES
from oracles import make_net, oracle_serving, random_net, two_operators

GW_ROLES = ("gateway.internet", "gateway.interconnect")


# --- fail and kill against brute force ------------------------------------------------------------------

def oracle_unmanaged(net, before: set[str], after: set[str]) -> set[str]:
    managers: dict[str, set[str]] = {}
    for a, b, k in zip(net.links["a"], net.links["b"], net.links["kind"]):
        if k == "management" and a != b:
            managers.setdefault(a, set()).add(b)
    return {e for e in after if managers.get(e, set()) & before and not managers.get(e, set()) & after}


def oracle_killable(net, hostile: set[str]) -> set[str]:
    g = nx.DiGraph()
    g.add_nodes_from(net.elements["element_id"])
    for a, b, k in zip(net.links["a"], net.links["b"], net.links["kind"]):
        if k == "management":
            g.add_edge(b, a)  # the manager reaches what it manages
    out = set(hostile)
    for h in hostile:
        out |= nx.descendants(g, h)
    ok = dict(zip(net.elements["element_id"], net.elements["in_service"].fillna(True).astype(bool)))
    return {e for e in out if ok[e]}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(4, 36), vendor=st.sampled_from(["huawei", "ericsson", "nokia"]))
def test_fail_and_kill_match_brute_force(seed, n, vendor):
    net = random_net(seed, n)
    own = set(net.elements.loc[net.elements["vendor"] == vendor, "element_id"])
    before = oracle_serving(net)
    after = oracle_serving(net, own)
    fail = run_outage(net, vendors=vendor, mode="fail").summary
    assert fail["lost_elements"] == len(before - after)
    assert fail["unmanaged_elements"] == len(oracle_unmanaged(net, before, after))
    kill_set = oracle_killable(net, own)
    killed = oracle_serving(net, kill_set)
    kill = run_outage(net, vendors=vendor, mode="kill").summary
    assert kill["killable_elements"] == len(kill_set)
    assert kill["lost_elements"] == len(before - killed)
    # what a hostile vendor can switch off holds its own gear, and costs at least its failure
    ok = set(net.elements.loc[net.elements["in_service"].fillna(True).astype(bool), "element_id"])
    assert kill["killable_elements"] >= len(own & ok)
    assert kill["lost_elements"] >= fail["lost_elements"]
    assert kill["lost_sites"] >= fail["lost_sites"] and kill["lost_subscribers"] >= fail["lost_subscribers"]


def test_lost_management_leaves_forwarding_alone():
    # radio - router - gateway; the router is managed by an EMS, which is managed by an OSS
    net = make_net([("r", "ran.radio", "nokia"), ("rt", "transport.router", "nokia"),
                    ("gw", "gateway.internet", "nokia", "dc"), ("ems", "mgmt.ems", "nokia", "dc"),
                    ("oss", "mgmt.oss", "amdocs", "dc"), ("ems2", "mgmt.ems", "ericsson", "dc")],
                   [("r", "rt", "transport"), ("rt", "gw", "transport"), ("ems", "gw", "transport"),
                    ("oss", "gw", "transport"), ("ems2", "gw", "transport"),
                    ("rt", "ems", "management"), ("r", "ems", "management"), ("r", "ems2", "management"),
                    ("ems", "oss", "management")])
    s = run_outage(net, vendors="amdocs", mode="fail").summary
    assert s["lost_elements"] == 1 and s["lost_sites"] == 0 and s["lost_subscribers"] == 0
    assert s["unmanaged_elements"] == 1  # the EMS; its elements still have it
    s = run_outage(net, elements=["ems"], mode="fail").summary
    # the router had only this EMS; the radio keeps its second (Ericsson) one: geo-redundancy counts
    assert s["lost_elements"] == 1 and s["unmanaged_elements"] == 1 and s["lost_sites"] == 0
    s = run_outage(net, vendors="amdocs", mode="kill").summary
    # the OSS reaches the EMS and through it the router and the radio
    assert s["killable_elements"] == 4 and s["lost_sites"] == 1


# --- intercept by hand ---------------------------------------------------------------------------------------

def test_intercept_by_hand():
    res = run_outage(two_operators(), vendors="huawei", mode="intercept")
    s = res.summary
    # demand from A (3) goes rA-bbA-h1-upf-gw: crosses Huawei; B's (1) goes rB-bbB-e1-upf-gw: does not
    assert s["intercept_traffic_share"] == pytest.approx(0.75)
    # subscribers: A (100) and C (50, behind Huawei hC) of 450
    assert s["intercept_subscriber_share"] == pytest.approx(150 / 450)
    # signalling: A's baseband is homed on the Huawei MME
    assert s["intercept_signalling_share"] == pytest.approx(100 / 450)
    assert s["keys_exposed_subscribers"] == 0  # no HSS or UDM at all
    op = res.tables["by_operator"].set_index("operator_id")
    assert op.loc["op1", "intercept_traffic_share"] == pytest.approx(0.75)
    assert op.loc["op2", "intercept_subscriber_share"] == pytest.approx(1.0)
    sens = res.tables["sensitive"].iloc[0]
    assert sens["traffic_share_readable"] == pytest.approx(1.0)  # rA and rC both cross Huawei
    assert sens["signalling_share_readable"] == pytest.approx(0.5)
    # nothing Ericsson-free is read by Nokia but op2's own traffic
    s = run_outage(two_operators(), vendors="nokia", mode="intercept").summary
    assert s["intercept_traffic_share"] == 0.0 and s["intercept_subscriber_share"] == pytest.approx(50 / 450)


def chain(vendors: dict[str, str], encrypted=(), hss_vendor="nokia"):
    """radio r - baseband bb - router t1 - router t2 - upf - gateway, one cell site of 1000
    subscribers; bb homed on an AMF homed on a UDM."""
    v = {"r": "nokia", "bb": "nokia", "t1": "nokia", "t2": "nokia", "upf": "nokia", "gw": "nokia",
         "amf": "nokia", **vendors}
    els = [("r", "ran.radio", v["r"], "s0"), ("bb", "ran.baseband", v["bb"], "s0"),
           ("t1", "transport.router", v["t1"], "s1"), ("t2", "transport.router", v["t2"], "s2"),
           ("upf", "core.upf", v["upf"], "dc"), ("gw", "gateway.internet", v["gw"], "dc"),
           ("amf", "core.amf", v["amf"], "dc"), ("udm", "core.udm", hss_vendor, "dc")]
    pairs = [("r", "bb"), ("bb", "t1"), ("t1", "t2"), ("t2", "upf"), ("upf", "gw"), ("amf", "upf"), ("udm", "upf")]
    links = pd.DataFrame([(a, b, "transport", (a, b) in encrypted) for a, b in pairs]
                         + [("bb", "amf", "control", False), ("amf", "udm", "control", False)],
                         columns=["a", "b", "kind", "encrypted"])
    sites = [("s0", "op", 50.0, 8.0, 1000), ("s1", "op", 50.01, 8.0, 0), ("s2", "op", 50.3, 8.3, 0),
             ("dc", "op", 50.5, 8.5, 0)]
    net = make_net(els, [], sites=sites)
    net.links = cleanpath.Network({**net.tables(), "links": links}).links
    net.cache.clear()
    return net


@pytest.mark.parametrize("hostile, encrypted, share", [
    ("t1", (), 1.0),
    ("t1", (("bb", "t1"), ("t1", "t2")), 0.0),  # both of its links encrypted: only ciphertext
    ("t1", (("bb", "t1"),), 1.0),               # one clear side is enough to read
    ("t2", (("t1", "t2"), ("t2", "upf")), 0.0),
    ("bb", (("r", "bb"), ("bb", "t1")), 1.0),   # the baseband always reads
    ("r", (("r", "bb"),), 1.0),                 # so does the radio
    ("upf", (("t2", "upf"), ("upf", "gw")), 1.0),  # and the user plane
    ("gw", (("upf", "gw"),), 1.0),
    ("amf", (), 0.0),                           # control plane: not on the user plane
])
def test_encrypted_links_remove_transport_from_the_intercept_set(hostile, encrypted, share):
    res = run_outage(chain({hostile: "huawei"}, encrypted), vendors="huawei", mode="intercept")
    assert res.summary["intercept_traffic_share"] == pytest.approx(share)
    assert res.summary["intercept_subscriber_share"] == pytest.approx(share)
    assert any("implied" in n for n in res.summary["notes"])  # no demands table: implied, and said


def test_signalling_and_keys():
    s = run_outage(chain({"amf": "huawei"}), vendors="huawei", mode="intercept").summary
    assert s["intercept_signalling_share"] == 1.0 and s["keys_exposed_subscribers"] == 0
    s = run_outage(chain({}, hss_vendor="huawei"), vendors="huawei", mode="intercept").summary
    assert s["keys_exposed_subscribers"] == 1000 and s["intercept_traffic_share"] == 0.0
    s = run_outage(chain({"t1": "huawei"}), vendors="huawei", mode="intercept").summary
    assert s["intercept_signalling_share"] == 0.0 and s["keys_exposed_subscribers"] == 0


def test_encrypted_column_defaults_to_false_and_is_documented():
    from cleanpath.model.schema import TABLES, schema_markdown

    col = TABLES["links"].column("encrypted")
    assert col.dtype == "bool" and col.default is False
    assert "encrypted" in schema_markdown()
    assert not two_operators().links["encrypted"].to_numpy(dtype=bool, na_value=False).any()


# --- intercept against a hop-by-hop oracle on random trees -----------------------------------------------------

def random_tree_net(seed: int, n: int):
    """A random transport tree with one gateway (e0) and one user-plane function (e1), radios and
    basebands at four cell sites, random encrypted links, demands from every cell site."""
    rng = np.random.default_rng(seed)
    roles = rng.choice(["ran.radio", "ran.baseband", "transport.router", "transport.microwave"], n,
                       p=[.35, .15, .35, .15]).astype(object)
    roles[0], roles[1] = "gateway.internet", "core.upf"
    site = rng.choice(["s0", "s1", "s2", "s3"], n).astype(object)
    site[:2] = "dc"
    vendors = rng.choice(["huawei", "ericsson", "nokia"], n, p=[.3, .4, .3])
    els = [(f"e{i}", str(roles[i]), str(vendors[i]), str(site[i]),
            {"in_service": bool(rng.random() > .05) or i < 2}) for i in range(n)]
    rows = [(f"e{i}", f"e{int(rng.integers(0, i))}", "transport", bool(rng.random() < .4)) for i in range(1, n)]
    links = pd.DataFrame(rows, columns=["a", "b", "kind", "encrypted"])
    sites = [("s0", "op1", 50.0, 8.0, 100), ("s1", "op1", 50.01, 8.0, 300), ("s2", "op2", 50.3, 8.3, 50),
             ("s3", "op2", 51.0, 9.0, 0), ("dc", "op1", 50.5, 8.5, 0)]
    demands = [(s, "gateway", float(rng.uniform(0.5, 5))) for s in ("s0", "s1", "s2", "s3")]
    net = make_net(els, [], sites=sites, demands=demands,
                   sensitive=[("x", "military", 50.0, 8.0, 2000.0)])
    return cleanpath.Network({**net.tables(), "links": links})


def oracle_intercept(net, hostile: set[str]) -> tuple[float | None, dict[str, float]]:
    """The traffic share, walking each route hop by hop; and the share of each site's entries."""
    serving = oracle_serving(net)
    el = net.elements.set_index("element_id")
    g = nx.Graph()
    g.add_nodes_from(serving)
    enc: dict[frozenset, bool] = {}
    for a, b, e in zip(net.links["a"], net.links["b"], net.links["encrypted"]):
        if a in serving and b in serving and a != b:
            g.add_edge(a, b)
            key = frozenset((a, b))
            enc[key] = enc.get(key, True) and bool(e)

    def reads(path: list[str]) -> bool:
        for i, x in enumerate(path):
            if x not in hostile:
                continue
            if i == 0 or el.loc[x, "role"] in ALWAYS_READ_ROLES:
                return True
            sides = [frozenset((path[i - 1], x))] + ([frozenset((x, path[i + 1]))] if i + 1 < len(path) else [])
            if any(not enc[s] for s in sides):
                return True
        return False

    share: dict[str, float] = {}
    for s in ("s0", "s1", "s2", "s3"):
        at = [e for e in serving if el.loc[e, "site_id"] == s]
        entries = [e for e in at if el.loc[e, "role"] == "ran.radio"] or at
        flags = []
        for e in entries:
            if "e1" in serving and nx.has_path(g, e, "e1") and nx.has_path(g, "e1", "e0"):
                path = nx.shortest_path(g, e, "e1") + nx.shortest_path(g, "e1", "e0")[1:]
            elif "e0" in serving and nx.has_path(g, e, "e0"):
                path = nx.shortest_path(g, e, "e0")
            else:
                continue
            flags.append(reads(path))
        if flags:
            share[s] = sum(flags) / len(flags)
    vol = dict(zip(net.demands["a_site"], net.demands["volume"]))
    tot = sum(v for s, v in vol.items() if s in share)
    return (sum(v * share[s] for s, v in vol.items() if s in share) / tot if tot else None), share


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(3, 30), vendor=st.sampled_from(["huawei", "ericsson", "nokia"]))
def test_intercept_matches_hop_by_hop_oracle(seed, n, vendor):
    net = random_tree_net(seed, n)
    hostile = set(net.elements.loc[net.elements["vendor"] == vendor, "element_id"])
    want, per_site = oracle_intercept(net, hostile)
    s = run_outage(net, vendors=vendor, mode="intercept").summary
    if want is None:
        assert s["intercept_traffic_share"] is None
    else:
        assert s["intercept_traffic_share"] == pytest.approx(want)
    subs = {"s0": 100, "s1": 300, "s2": 50, "s3": 0}
    radio_sites = {x for x, r in zip(net.elements["site_id"], net.elements["role"]) if r == "ran.radio"}
    w = {x: subs[x] for x in per_site if x in radio_sites}
    if sum(w.values()):
        got = s["intercept_subscriber_share"]
        # only sites whose serving radios are entries count for subscribers
        served_radio_sites = {x for x in w if any(
            e in oracle_serving(net) for e, site, r in zip(net.elements["element_id"], net.elements["site_id"],
                                                          net.elements["role"]) if site == x and r == "ran.radio")}
        ww = {x: subs[x] for x in served_radio_sites}
        if sum(ww.values()):
            assert got == pytest.approx(sum(ww[x] * per_site[x] for x in ww) / sum(ww.values()))
    # a share is zero exactly when no route of a demand end crosses a reader
    crossing = any(per_site.get(x, 0) > 0 for x in ("s0", "s1", "s2", "s3") if x in per_site)
    if s["intercept_traffic_share"] is not None:
        assert (s["intercept_traffic_share"] > 0) == crossing


# --- traffic from where users are --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def de():
    from cleanpath.build.generate import generate_network

    return generate_network(country="DE", scale=0.02, seed=1)


def test_generated_demands_start_at_every_cell(de):
    d = de.demands
    sites = de.sites.set_index("site_id")
    cells = sites.index[(sites["kind"] == "cell") & (sites["subscribers"].fillna(0) > 0)]
    to_gw = d[d["b_site"] == "gateway"]
    assert set(to_gw["a_site"]) == set(cells)
    assert (sites.loc[to_gw["a_site"], "kind"] == "cell").all()
    # IMS demands go to a data centre of the cell's own operator that holds an IMS
    ims_dcs = set(de.elements.loc[de.elements["role"] == "core.ims", "site_id"])
    to_ims = d[d["b_site"].isin(ims_dcs)]
    assert set(to_ims["a_site"]) == set(cells)
    op_of = sites["operator_id"]
    assert (op_of.loc[to_ims["a_site"]].to_numpy() == op_of.loc[to_ims["b_site"]].to_numpy()).all()
    # volumes add up to subscribers x busy-hour traffic (the on-net share runs between hubs)
    total = float(sites.loc[cells, "subscribers"].sum()) * 0.15 / 1000
    assert float(d["volume"].sum()) == pytest.approx(total, rel=1e-3)


def test_demo_reproductions(de):
    """Huawei turned hostile reads and can switch off a lot; a lost OSS loses no site."""
    hw = run_outage(de, vendors="huawei", mode="intercept").summary
    assert 0.2 < hw["intercept_traffic_share"] < 0.9 and 0.2 < hw["intercept_subscriber_share"] < 0.9
    kill = run_outage(de, vendors="huawei", mode="kill").summary
    own = int((de.elements["vendor"] == "huawei").sum())
    assert kill["killable_elements"] >= own > 0
    oss = run_outage(de, vendors="amdocs", mode="fail").summary
    assert oss["lost_sites"] == 0 and oss["lost_subscribers"] == 0 and oss["unmanaged_elements"] > 0
    oss_kill = run_outage(de, vendors="amdocs", mode="kill").summary
    assert oss_kill["lost_sites"] > 0  # a hostile OSS reaches everything its EMSs manage


def test_implied_demands_when_the_network_has_none():
    net = two_operators()
    net = cleanpath.Network({**net.tables(), "demands": net.demands.iloc[0:0]})
    s = run_outage(net, vendors="huawei", mode="intercept").summary
    assert s["demands"] == "implied" and any("implied" in n for n in s["notes"])
    # implied: every cell site by subscribers, so the traffic share is the subscriber share
    assert s["intercept_traffic_share"] == pytest.approx(150 / 450)


# --- modes and bad input -------------------------------------------------------------------------------------------

def test_modes_and_aliases():
    assert set(MODES) == {"fail", "kill", "intercept"} and all(MODES.values())
    with pytest.raises(cleanpath.ValidationError) as e:
        run_outage(two_operators(), vendors="huawei", mode="explode")
    assert e.value.problems[0].column == "--mode" and "fail" in e.value.problems[0].reason
    for mode in ("kill", "intercept", "compromise"):
        with pytest.raises(cleanpath.ValidationError) as e:
            run_outage(two_operators(), random_p=0.1, samples=5, mode=mode)
        assert any(p.column == "--mode" and "fail" in p.reason for p in e.value.problems)
    for scenario in ({"elements": ["h1", "hC"]}, {"region": "50.0,8.0,1"}):
        for mode in MODES:
            assert run_outage(two_operators(), mode=mode, **scenario).params["mode"] == mode


@pytest.mark.parametrize("p", [1e-300, 5e-324, 1e-19, 1e-10, 0.0, -0.1, 1.5, float("nan"), float("inf"), True, "0.1"])
def test_bad_probabilities_are_refused_fast(p):
    t = time.perf_counter()
    with pytest.raises(cleanpath.ValidationError) as e:
        run_outage(two_operators(), random_p=p, samples=10)
    assert time.perf_counter() - t < 30  # a liveness bound (it used to loop for ever), not a speed test
    assert e.value.problems[0].column == "--random"


@pytest.mark.parametrize("n", [0, -1, 10_001, 2.5, True])
def test_bad_sample_counts_are_refused(n):
    with pytest.raises(cleanpath.ValidationError) as e:
        run_outage(two_operators(), random_p=0.1, samples=n)
    assert e.value.problems[0].column == "--samples"


def test_tiny_probabilities_terminate():
    rng = np.random.default_rng(0)
    for p in (1e-300, 5e-324, 1e-19, 1e-9):  # the draw itself is bounded whatever p is
        t = time.perf_counter()
        assert bernoulli_positions(rng, 10**6, p).size <= 2
        assert time.perf_counter() - t < 30  # liveness, not speed
    res = run_outage(two_operators(), random_p=1.0000001e-9, samples=10)
    assert res.summary["failed"] == 0.0 and res.summary["unmanaged_elements"] == 0.0


def test_bernoulli_positions_have_the_right_law():
    rng = np.random.default_rng(5)
    m, p, reps = 200, 0.01, 4000
    counts = np.zeros(m)
    sizes = []
    for _ in range(reps):
        pos = bernoulli_positions(rng, m, p)
        assert np.all(np.diff(pos) > 0) and (pos.size == 0 or (pos[0] >= 0 and pos[-1] < m))
        counts[pos] += 1
        sizes.append(pos.size)
    assert np.mean(sizes) == pytest.approx(m * p, rel=0.08)
    assert np.var(sizes) == pytest.approx(m * p * (1 - p), rel=0.15)
    # every position equally likely: a chi-square test at the 0.1 % level
    from scipy.stats import chisquare

    assert chisquare(counts).pvalue > 1e-3


# --- workspaces written before links.encrypted ---------------------------------------------------------------------

def test_old_workspace_loads_and_migrates(tmp_path):
    from cleanpath.store.workspace import SCHEMA_VERSION

    path = tmp_path / "old.duckdb"
    with cleanpath.open_workspace(path) as ws:
        ws.write_network("main", two_operators())
        storage = ws.con.execute("SELECT storage FROM snapshots WHERE name = 'main'").fetchall()[0][0]
        # make it look like a version-1 workspace: no encrypted column
        ws.con.execute(f'ALTER TABLE "{storage}".links DROP COLUMN encrypted')
        ws.con.execute("UPDATE cleanpath_meta SET value = '1' WHERE key = 'schema_version'")
    with cleanpath.open_workspace(path, read_only=True) as ws:  # readable without migrating
        assert ws.schema_version() == 1
        net = ws.network("main")
        assert not net.links["encrypted"].to_numpy(dtype=bool).any()
        assert run_outage(net, vendors="huawei", mode="intercept").summary["intercept_traffic_share"] == \
            pytest.approx(0.75)
    with cleanpath.open_workspace(path) as ws:  # opened for writing: migrated
        assert ws.schema_version() == SCHEMA_VERSION == 2
        cols = [r[0] for r in ws.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = 'links'",
            [storage]).fetchall()]
        assert "encrypted" in cols
        assert ws.network("main").links["encrypted"].tolist() == [False] * len(two_operators().links)


def test_no_radios_no_demands_says_so():
    net = make_net([("a", "transport.router", "huawei"), ("gw", "gateway.internet", "nokia", "dc")],
                   [("a", "gw", "transport")])
    s = run_outage(net, vendors="huawei", mode="intercept").summary
    assert s["intercept_traffic_share"] is None and s["intercept_subscriber_share"] is None
    assert any("no serving radio" in n for n in s["notes"])


def oracle_homed(net, readers: set[str]) -> set[str]:
    """Serving radios whose control chain (the radio, a baseband or controller next to it, then
    control and anchor links transitively) reaches one of ``readers``."""
    serving = oracle_serving(net)
    role = dict(zip(net.elements["element_id"], net.elements["role"]))
    dep = nx.DiGraph()
    dep.add_nodes_from(role)
    nbr: dict[str, set[str]] = {e: set() for e in role}
    for a, b, k in zip(net.links["a"], net.links["b"], net.links["kind"]):
        if k in ("control", "anchor"):
            dep.add_edge(a, b)
        elif k == "transport" and a != b:
            nbr[a].add(b)
            nbr[b].add(a)
    out = set()
    for r in serving:
        if role[r] != "ran.radio":
            continue
        starts = {r} | {x for x in nbr[r] if role[x] in ("ran.baseband", "ran.controller")}
        reach = set(starts)
        for s in starts:
            reach |= nx.descendants(dep, s)
        if reach & readers:
            out.add(r)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(4, 36), vendor=st.sampled_from(["huawei", "ericsson", "nokia"]))
def test_signalling_share_and_zero_shares_on_random_networks(seed, n, vendor):
    from cleanpath.analysis.threat import SIGNALLING_ROLES

    net = random_net(seed, n)
    el = net.elements
    hostile = set(el.loc[el["vendor"] == vendor, "element_id"])
    role = dict(zip(el["element_id"], el["role"]))
    site = dict(zip(el["element_id"], el["site_id"]))
    homed = oracle_homed(net, {e for e in hostile if role[e] in SIGNALLING_ROLES})
    serving = oracle_serving(net)
    radios = [e for e in serving if role[e] == "ran.radio"]
    res = run_outage(net, vendors=vendor, mode="intercept")
    s = res.summary
    # every site has 100 subscribers: the share is the mean over sites of the share of their radios
    per_site: dict[str, list[bool]] = {}
    for r in radios:
        per_site.setdefault(site[r], []).append(r in homed)
    if per_site:
        want = sum(sum(v) / len(v) for v in per_site.values()) / len(per_site)
        assert s["intercept_signalling_share"] == pytest.approx(want)
    else:
        assert s["intercept_signalling_share"] is None
    # zero exactly when nothing hostile is reachable: a hostile serving radio is always read, and
    # nothing can be read where no hostile element shares a transport component with a radio
    g = nx.Graph()
    g.add_nodes_from(serving)
    g.add_edges_from((a, b) for a, b, k in zip(net.links["a"], net.links["b"], net.links["kind"])
                     if k == "transport" and a in serving and b in serving)
    near = set().union(*[nx.node_connected_component(g, r) for r in radios]) if radios else set()
    share = s["intercept_subscriber_share"]
    if share is not None:
        if any(r in hostile for r in radios):
            assert share > 0
        if not (near & hostile):
            assert share == 0 and s["intercept_traffic_share"] in (0.0, None)
