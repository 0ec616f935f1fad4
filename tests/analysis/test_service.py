"""The service model's fixpoint, its peeled forest, and sensitive-site coverage.

Checked against an independent oracle written with plain Python sets (and networkx for components)
on random networks, and on hand-built networks whose answers are known.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cleanpath
from cleanpath.analysis.service import Coverage, Forest, ServiceIndex, gather_rows
from oracles import haversine, make_net, oracle_serving, random_net

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
