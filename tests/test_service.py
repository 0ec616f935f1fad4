"""The service model's fixpoint, its peeled forest, and sensitive-site coverage.

Checked against an independent oracle written with plain Python sets (and networkx for components)
on random networks, and on hand-built networks whose answers are known.
"""

from __future__ import annotations

import json
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cleanpath
from cleanpath.analysis.service import Coverage, Forest, ServiceIndex, gather_rows

# --- building networks by hand ---------------------------------------------------------------------

SITE_POS = {"s0": (50.0, 8.0), "s1": (50.01, 8.0), "s2": (50.3, 8.3), "s3": (51.0, 9.0), "dc": (50.5, 8.5)}


def make_net(elements, links, *, sites=None, sensitive=None, operators=None, demands=None, name="t"):
    """A validated network from compact specs.

    ``elements``: tuples (element_id, role, vendor[, site_id[, extra columns dict]]);
    ``links``: tuples (a, b, kind); ``sites``: tuples (site_id, operator_id, lat, lon[, subscribers]),
    default: the sites used by the elements at :data:`SITE_POS`, all of operator ``op``.
    """
    rows = []
    for e in elements:
        eid, role, vendor = e[:3]
        site = e[3] if len(e) > 3 else "s0"
        extra = e[4] if len(e) > 4 else {}
        rows.append({"element_id": eid, "site_id": site, "role": role, "vendor": vendor, **extra})
    el = pd.DataFrame(rows)
    if sites is None:
        used = sorted(set(el["site_id"]))
        sites = [(s, "op", *SITE_POS[s]) for s in used]
    st_rows = [{"site_id": s[0], "operator_id": s[1], "kind": "cell", "lat": s[2], "lon": s[3],
                "subscribers": s[4] if len(s) > 4 else 100} for s in sites]
    ops = sorted({s[1] for s in sites}) if operators is None else operators
    tables = {
        "operators": pd.DataFrame({"operator_id": ops, "name": ops, "country": "DE"}),
        "sites": pd.DataFrame(st_rows),
        "elements": el,
        "links": pd.DataFrame(list(links), columns=["a", "b", "kind"]) if links else
        pd.DataFrame({"a": [], "b": [], "kind": []}),
    }
    if sensitive is not None:
        tables["sensitive_sites"] = pd.DataFrame(
            [{"sensitive_id": s[0], "name": s[0], "kind": s[1], "lat": s[2], "lon": s[3],
              "radius_m": s[4] if len(s) > 4 else 5000.0} for s in sensitive])
    if demands is not None:
        tables["demands"] = pd.DataFrame(list(demands), columns=["a_site", "b_site", "volume"])
    return cleanpath.Network(tables, name=name)


# --- an independent oracle -------------------------------------------------------------------------

def oracle_serving(net, disabled=frozenset(), alive=None, management=False) -> set[str]:
    """The served set by the definition, with Python sets and networkx components.

    Management links are dependencies only with ``management`` (management is not forwarding).
    """
    el = net.elements
    ids = el["element_id"].tolist()
    ok = el["in_service"].fillna(True).astype(bool).tolist()
    up = {e for e, s in zip(ids, ok) if s and e not in disabled and (alive is None or e in alive)}
    gws = {e for e, r in zip(ids, el["role"]) if r in ("gateway.internet", "gateway.interconnect")}
    deps: dict[str, set[str]] = {}
    g = nx.Graph()
    for a, b, k in zip(net.links["a"], net.links["b"], net.links["kind"]):
        if k == "transport":
            g.add_edge(a, b)
        elif k != "management" or (management and a != b):
            deps.setdefault(a, set()).add(b)
    s = set(up)
    while True:
        s2 = {e for e in s if deps.get(e, set()) <= s}
        h = g.subgraph(s2).copy()
        h.add_nodes_from(s2)
        s3 = set().union(*[c for c in nx.connected_components(h) if c & gws]) if s2 else set()
        if s3 == s:
            return s
        s = s3


def haversine(lat1, lon1, lat2, lon2) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def random_net(seed: int, n: int = 20, *, deps: bool = True, ops: int = 1):
    """A random network: a few radios, routers, user-plane functions, gateways, AMFs and EMSs."""
    rng = np.random.default_rng(seed)
    roles = rng.choice(["ran.radio", "transport.router", "gateway.internet", "core.upf", "core.amf",
                        "mgmt.ems", "ran.baseband"], n, p=[.3, .3, .08, .1, .07, .07, .08])
    roles[0], roles[1], roles[2] = "ran.radio", "core.upf", "gateway.internet"
    sites = ["s0", "s1", "s2", "s3"]
    site_of = rng.choice(sites, n)
    el = [(f"e{i}", roles[i], str(rng.choice(["huawei", "ericsson", "nokia"], p=[.4, .4, .2])), str(site_of[i]),
           {"in_service": bool(rng.random() > .05), "unit_cost": float(rng.integers(1, 50))}) for i in range(n)]
    links = []
    for i in range(1, n):  # a random tree keeps most of the network connected
        links.append((f"e{i}", f"e{int(rng.integers(0, i))}", "transport"))
    for _ in range(int(n * rng.uniform(0, .6))):
        a, b = rng.integers(0, n, 2)
        links.append((f"e{a}", f"e{b}", "transport"))
    if deps:
        for _ in range(int(n * rng.uniform(0, .5))):
            a, b = rng.integers(0, n, 2)
            links.append((f"e{a}", f"e{b}", str(rng.choice(["control", "management", "anchor"]))))
    site_rows = [(s, f"op{k % ops}", *SITE_POS[s]) for k, s in enumerate(sites)]
    sensitive = [("x0", "military", 50.005, 8.0, 3000.0), ("x1", "diplomatic", 50.3, 8.3, 1000.0)]
    return make_net(el, links, sites=site_rows, sensitive=sensitive)


def graph_cli():
    """The ``cleanpath`` group (outage and clean-path are registered questions)."""
    from cleanpath.cli.main import cli

    return cli


def served(net, mask) -> set[str]:
    return set(np.asarray(net.elements["element_id"])[mask])


# --- the fixpoint against the oracle -----------------------------------------------------------------

@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), n=st.integers(3, 40))
def test_fixpoint_matches_oracle(seed, n):
    net = random_net(seed, n)
    idx = ServiceIndex.of(net)
    assert served(net, idx.baseline()) == oracle_serving(net)
    for vendor in ("huawei", "ericsson"):
        mask = net.elements["vendor"].to_numpy(dtype=object) == vendor
        disabled = set(net.elements["element_id"][mask])
        assert served(net, idx.without(mask)) == oracle_serving(net, disabled)
        # the clean-path reading also needs managers, checked from the forwarding baseline
        alive = idx.baseline() & ~mask
        assert served(net, idx.fixpoint(alive, removed=np.flatnonzero(idx.baseline() & mask), management=True)) \
            == oracle_serving(net, disabled, alive=served(net, alive), management=True)


def test_dependencies_and_gateway_reach_by_hand():
    # radio -> router -> gateway; the router is managed by an EMS hanging off the gateway
    net = make_net([("r", "ran.radio", "nokia"), ("rt", "transport.router", "nokia"),
                    ("gw", "gateway.internet", "nokia"), ("ems", "mgmt.ems", "huawei"),
                    ("island", "transport.router", "nokia")],
                   [("r", "rt", "transport"), ("rt", "gw", "transport"), ("ems", "gw", "transport"),
                    ("rt", "ems", "management")])
    idx = ServiceIndex.of(net)
    assert served(net, idx.baseline()) == {"r", "rt", "gw", "ems"}  # the island reaches no gateway
    # management is not forwarding: switching off the EMS leaves the router and radio serving,
    # the router unmanaged
    huawei = net.elements["vendor"].to_numpy(dtype=object) == "huawei"
    after = idx.without(huawei)
    assert served(net, after) == {"r", "rt", "gw"}
    assert served(net, idx.unmanaged(after)) == {"rt"}
    # the clean-path reading needs the manager: the router goes, and the radio behind it
    assert served(net, idx.fixpoint(idx.baseline() & ~huawei, management=True)) == {"gw"}
    assert served(net, idx.management_reach(huawei)) == {"ems", "rt"}


def test_mutual_dependencies_serve_together():
    # a cycle of dependencies is no reason to fail (greatest fixpoint)
    net = make_net([("a", "core.amf", "nokia"), ("b", "core.smf", "nokia"), ("gw", "gateway.internet", "nokia")],
                   [("a", "gw", "transport"), ("b", "gw", "transport"), ("a", "b", "control"), ("b", "a", "control")])
    assert served(net, ServiceIndex.of(net).baseline()) == {"a", "b", "gw"}


def test_out_of_service_element_cuts_its_subtree():
    net = make_net([("r", "ran.radio", "nokia"), ("rt", "transport.router", "nokia", "s0", {"in_service": False}),
                    ("gw", "gateway.internet", "nokia")],
                   [("r", "rt", "transport"), ("rt", "gw", "transport")])
    assert served(net, ServiceIndex.of(net).baseline()) == {"gw"}


# --- the forest ----------------------------------------------------------------------------------------

def _graph(n, edges):
    a = np.array([e[0] for e in edges] + [e[1] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges] + [e[0] for e in edges], dtype=np.int64)
    return sp.csr_matrix((np.ones(a.size, dtype=np.int32), (a, b)), shape=(n, n))


def test_forest_layout():
    # core: triangle 0-1-2 with gateway 0; tree 3-4-5 below 1, leaf 6 on 4; dead pair 7-8;
    # gateway 9 hanging off 2 by a single edge stays in the core; isolated 10 is dead
    edges = [(0, 1), (1, 2), (2, 0), (1, 3), (3, 4), (4, 5), (4, 6), (7, 8), (2, 9)]
    gw = np.zeros(11, dtype=bool)
    gw[[0, 9]] = True
    f = Forest.build(_graph(11, edges), gw)
    assert sorted(f.core.tolist()) == [0, 1, 2, 9]
    assert f.parent[3] == 1 and f.parent[4] == 3 and f.parent[5] == 4 and f.parent[6] == 4
    assert f.attach[5] == 1 and f.attach[7] == -1 and f.attach[10] == -1
    assert f.size[3] == 4 and f.size[4] == 3
    # the subtree of 4 is a contiguous interval holding exactly 4, 5, 6
    inside = {v for v in range(11) if f.peeled[v] and f.tin[4] <= f.tin[v] < f.tin[4] + f.size[4]}
    assert inside == {4, 5, 6}
    alive = np.ones(11, dtype=bool)
    alive[3] = False
    reach, _ = f.reach(alive, gw)
    assert sorted(np.flatnonzero(reach).tolist()) == [0, 1, 2, 9]
    alive[:] = True
    alive[[0, 2]] = False  # only gateway 9, now cut off from 1
    reach, _ = f.reach(alive, gw)
    assert sorted(np.flatnonzero(reach).tolist()) == [9]


def test_gather_rows():
    m = sp.csr_matrix(np.array([[0, 1, 1], [0, 0, 0], [1, 0, 1]]))
    cols, rows = gather_rows(m.indptr, m.indices, np.array([2, 1, 0]), with_rows=True)
    assert cols.tolist() == [0, 2, 1, 2] and rows.tolist() == [2, 2, 0, 0]


# --- coverage of sensitive sites ------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_coverage_matches_haversine(seed):
    rng = np.random.default_rng(seed)
    k = 40
    sites = [(f"c{i}", "op", float(50 + rng.normal(0, .05)), float(8 + rng.normal(0, .08))) for i in range(k)]
    el = [(f"r{i}", "ran.radio", "nokia", f"c{i}") for i in range(k)]
    sens = [(f"x{j}", "military", float(50 + rng.normal(0, .05)), float(8 + rng.normal(0, .08)),
             float(rng.uniform(500, 8000))) for j in range(5)]
    net = make_net(el, [], sites=sites, sensitive=sens)
    cov = Coverage.of(net)
    got = {(cov.ids[r], net.elements["element_id"].iloc[c]) for r, c in zip(cov.row, cov.col)}
    want = set()
    for sid, _, lat, lon, rad in sens:
        for (cid, _, clat, clon), (rid, *_rest) in zip(sites, el):
            d = haversine(lat, lon, clat, clon)
            if abs(d - rad) < 0.01:  # too close to call; both answers are right
                got.discard((sid, rid))
                continue
            if d <= rad:
                want.add((sid, rid))
    assert got == want


def test_polygon_coverage():
    square = {"type": "Polygon", "coordinates": [[[7.9, 49.9], [8.1, 49.9], [8.1, 50.1], [7.9, 50.1], [7.9, 49.9]],
                                                  [[7.99, 49.99], [8.01, 49.99], [8.01, 50.005], [7.99, 50.005],
                                                   [7.99, 49.99]]]}
    sites = [("in", "op", 50.05, 8.05), ("hole", "op", 50.0, 8.0), ("out", "op", 50.2, 8.0)]
    el = [("r-in", "ran.radio", "nokia", "in"), ("r-hole", "ran.radio", "nokia", "hole"),
          ("r-out", "ran.radio", "nokia", "out")]
    net = make_net(el, [], sites=sites, sensitive=[("x", "diplomatic", 50.0, 8.0, 1.0)])
    net.sensitive_sites["geometry"] = pd.Series([json.dumps(square)], dtype=net.sensitive_sites["geometry"].dtype)
    cov = Coverage.of(net)
    assert sorted(net.elements["element_id"].iloc[cov.col]) == ["r-in"]


def test_bad_polygon_is_reported_with_row():
    net = make_net([("r", "ran.radio", "nokia")], [], sensitive=[("x", "military", 50.0, 8.0)])
    net.sensitive_sites["geometry"] = pd.Series(['{"type": "Point", "coordinates": [8, 50]}'],
                                                dtype=net.sensitive_sites["geometry"].dtype)
    with pytest.raises(cleanpath.ValidationError) as e:
        Coverage.of(net)
    p = e.value.problems[0]
    assert p.column == "geometry" and p.line == 2 and "Polygon" in p.reason


def test_site_served_uses_radios():
    # a site serves while any radio serves, even if another element there does not
    net = make_net([("r1", "ran.radio", "nokia"), ("r2", "ran.radio", "huawei"), ("bb", "ran.baseband", "nokia"),
                    ("gw", "gateway.internet", "nokia", "dc")],
                   [("r1", "gw", "transport"), ("r2", "gw", "transport")])
    idx = ServiceIndex.of(net)
    site_ids = net.sites["site_id"].tolist()
    on = dict(zip(site_ids, idx.site_served(idx.baseline())))
    assert on == {"s0": True, "dc": True}
    off = dict(zip(site_ids, idx.site_served(idx.without(np.array([True, True, False, False])))))
    assert off == {"s0": False, "dc": True}
