"""ElementGraph: hand-built networks with known answers, and networkx as an independent oracle."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import cleanpath
from cleanpath.build.synthetic import synthetic_network
from cleanpath.model.graph import ElementGraph
from cleanpath.model.schema import DOMAINS, LINK_KINDS, ROLES

# id, site, role, vendor (as an inventory spells it), generation, in service
ELEMENTS = [
    ("r1", "c1", "ran.radio", "Huawei Technologies Co., Ltd.", "4G", True),
    ("bb1", "c1", "ran.baseband", "HUAWEI", "4G", True),
    ("rt1", "c1", "transport.router", "Cisco", "none", True),
    ("r2", "c2", "ran.radio", "ZTE", "5G-NSA", True),
    ("bb2", "c2", "ran.baseband", "zte", "4G", True),
    ("rt2", "c2", "transport.router", "huawei", "none", True),
    ("hr", "h1", "transport.router", "Ericsson AB", "none", True),
    ("gw", "g1", "gateway.internet", "Juniper Networks, Inc.", "none", True),
    ("mme", "dc", "core.mme", "Nokia", "4G", True),
    ("ems", "dc", "mgmt.ems", "Huawei", "none", True),
    ("lone", "c1", "ran.radio", "Acme Radio", "4G", False),
]
LINKS = [
    ("r1", "bb1", "transport"), ("bb1", "rt1", "transport"), ("rt1", "hr", "transport"),
    ("hr", "rt1", "transport"),  # a parallel link, written the other way round
    ("r2", "bb2", "transport"), ("bb2", "rt2", "transport"), ("rt2", "hr", "transport"),
    ("hr", "gw", "transport"), ("mme", "hr", "transport"), ("ems", "hr", "transport"),
    ("bb1", "mme", "control"), ("bb2", "mme", "control"),
    ("bb1", "ems", "management"), ("rt2", "ems", "management"),
    ("r2", "bb2", "anchor"),
]
SITES = ["g1", "dc", "h1", "c1", "c2"]  # not in element order, on purpose
IDS = [e[0] for e in ELEMENTS]
P = {e: i for i, e in enumerate(IDS)}


def hand_tables() -> dict[str, pd.DataFrame]:
    el = pd.DataFrame(ELEMENTS, columns=["element_id", "site_id", "role", "vendor", "generation",
                                         "in_service"])
    return {
        "operators": pd.DataFrame({"operator_id": ["op"], "name": ["Op"], "country": ["DE"]}),
        "sites": pd.DataFrame({"site_id": SITES, "operator_id": "op",
                               "kind": ["gateway", "core_dc", "hub", "cell", "cell"]}),
        "elements": el,
        "links": pd.DataFrame(LINKS, columns=["a", "b", "kind"]),
    }


@pytest.fixture(scope="module")
def hand() -> cleanpath.Network:
    return cleanpath.Network(hand_tables(), name="hand")


def dense(g: ElementGraph, kind: str) -> np.ndarray:
    return g.adjacency[kind].toarray()


def partition(labels: np.ndarray, ids) -> set[frozenset]:
    """Components as sets of ids, from labels (-1 = not kept)."""
    ids = np.asarray(ids, dtype=object)
    return {frozenset(ids[labels == lab]) for lab in np.unique(labels[labels >= 0])}


# --- hand-built: known answers ----------------------------------------------------------------------

def test_known_adjacency(hand):
    g = hand.graph()
    assert g.n == len(ELEMENTS) and list(g.element_ids) == IDS
    expected = np.zeros((g.n, g.n), dtype=int)
    for a, b in [("r1", "bb1"), ("bb1", "rt1"), ("r2", "bb2"), ("bb2", "rt2"), ("rt2", "hr"),
                 ("hr", "gw"), ("mme", "hr"), ("ems", "hr")]:
        expected[P[a], P[b]] = expected[P[b], P[a]] = 1
    expected[P["rt1"], P["hr"]] = expected[P["hr"], P["rt1"]] = 2  # two parallel links
    assert (dense(g, "transport") == expected).all()
    control = np.zeros_like(expected)
    control[P["bb1"], P["mme"]] = control[P["bb2"], P["mme"]] = 1  # dependent -> depended on
    assert (dense(g, "control") == control).all()
    mgmt = np.zeros_like(expected)
    mgmt[P["bb1"], P["ems"]] = mgmt[P["rt2"], P["ems"]] = 1
    assert (dense(g, "management") == mgmt).all()
    anchor = np.zeros_like(expected)
    anchor[P["r2"], P["bb2"]] = 1
    assert (dense(g, "anchor") == anchor).all()
    for m in g.adjacency.values():
        assert m.has_canonical_format  # sorted, no duplicate entries


def test_link_arrays_follow_the_links_table(hand):
    g = hand.graph()
    assert g.link_a.tolist() == [P[a] for a, _b, _k in LINKS]
    assert g.link_b.tolist() == [P[b] for _a, b, _k in LINKS]
    assert g.link_kind.tolist() == [LINK_KINDS.index(k) for _a, _b, k in LINKS]


def test_codes_sites_and_service(hand):
    g = hand.graph()
    assert [SITES[s] for s in g.site] == [e[1] for e in ELEMENTS]
    assert [ROLES[r] for r in g.role] == [e[2] for e in ELEMENTS]
    assert [DOMAINS[d] for d in g.domain] == [e[2].split(".")[0] for e in ELEMENTS]
    assert g.in_service.tolist() == [e[5] for e in ELEMENTS]
    # Vendor spellings were resolved to catalogue ids on the way in; unknown ones kept verbatim.
    assert g.vendors[g.vendor_codes].tolist() == [
        "huawei", "huawei", "cisco", "zte", "zte", "huawei", "ericsson", "juniper", "nokia", "huawei",
        "Acme Radio"]
    # Distinct vendors in order of first appearance, like pandas.factorize.
    assert g.vendors.tolist() == ["huawei", "cisco", "zte", "ericsson", "juniper", "nokia", "Acme Radio"]


def test_positions(hand):
    g = hand.graph()
    assert g.positions(["gw", "r1", "nope", "gw"]).tolist() == [P["gw"], P["r1"], -1, P["gw"]]
    assert g.positions([]).tolist() == []
    assert g.positions(iter(["lone"])).tolist() == [P["lone"]]
    assert g.positions([3, None, "hr"]).tolist() == [-1, -1, P["hr"]]


def test_vendor_mask(hand):
    g = hand.graph()
    hw = g.vendor_mask(["huawei"])
    assert set(np.asarray(IDS)[hw]) == {"r1", "bb1", "rt2", "ems"}
    assert set(np.asarray(IDS)[g.vendor_mask({"huawei", "zte"})]) == {"r1", "bb1", "rt2", "ems", "r2", "bb2"}
    assert np.asarray(IDS)[g.vendor_mask(["Acme Radio"])].tolist() == ["lone"]
    assert not g.vendor_mask([]).any()
    assert not g.vendor_mask(["nobody", "HUAWEI"]).any()  # ids, not spellings
    assert g.vendor_mask(["cisco"]).dtype == bool and len(g.vendor_mask(["cisco"])) == g.n


def test_components_after_removing_a_vendor(hand):
    g = hand.graph()
    count, labels = g.components()
    assert count == 2
    assert partition(labels, IDS) == {frozenset(IDS) - {"lone"}, frozenset({"lone"})}
    keep = ~g.vendor_mask(["huawei"])
    count, labels = g.components(keep)
    # Removed elements count as isolated nodes and are labelled -1.
    assert count == 3 + 4
    assert (labels[~keep] == -1).all()
    assert partition(labels, IDS) == {frozenset({"rt1", "hr", "gw", "mme"}), frozenset({"r2", "bb2"}),
                                      frozenset({"lone"})}
    # Removing the hub router splits the network at the hub.
    count, labels = g.components(np.asarray(IDS) != "hr")
    assert partition(labels, IDS) == {frozenset({"r1", "bb1", "rt1"}), frozenset({"r2", "bb2", "rt2"}),
                                      frozenset({"gw"}), frozenset({"mme"}), frozenset({"ems"}),
                                      frozenset({"lone"})}
    # Masks of any boolean-like type work.
    count2, labels2 = g.components((np.asarray(IDS) != "hr").astype(int))
    assert count2 == count and (labels2 == labels).all()


def test_graph_is_built_once_per_network(hand):
    assert hand.graph() is hand.graph()


def test_unvalidated_plain_frames_give_the_same_graph(hand):
    """Network(validate=False) keeps plain pandas columns; the graph must not care."""
    t = hand_tables()
    t["elements"]["vendor"] = hand.elements["vendor"].astype(object)
    raw = cleanpath.Network(t, validate=False)
    a, b = raw.graph(), hand.graph()
    assert list(a.element_ids) == list(b.element_ids)
    for f in ("site", "role", "domain", "vendor_codes", "in_service", "link_a", "link_b", "link_kind"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    for k in LINK_KINDS:
        assert (a.adjacency[k] != b.adjacency[k]).nnz == 0


def test_dangling_link_in_an_unvalidated_network_is_an_error():
    t = hand_tables()
    t["links"] = pd.concat([t["links"], pd.DataFrame({"a": ["r1"], "b": ["ghost"], "kind": ["transport"]})])
    with pytest.raises(ValueError, match="not among the network's elements"):
        cleanpath.Network(t, validate=False).graph()


# --- random networks against networkx --------------------------------------------------------------

def random_network(seed: int, n: int = 300, m: int = 450) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"e{i}" for i in rng.permutation(n)]  # ids not in sorted order
    vendors = rng.choice(["huawei", "zte", "ericsson", "nokia", "cisco"], size=n)
    roles = rng.choice(["ran.radio", "transport.router", "core.amf"], size=n)
    a = rng.integers(0, n, size=m)
    b = (a + rng.integers(1, n, size=m)) % n  # no self-loops
    kinds = rng.choice(LINK_KINDS, size=m, p=[0.7, 0.1, 0.1, 0.1])
    dup = rng.integers(0, m, size=m // 10)  # some parallel links
    a, b, kinds = np.r_[a, b[dup]], np.r_[b, a[dup]], np.r_[kinds, kinds[dup]]
    return {
        "operators": pd.DataFrame({"operator_id": ["op"], "name": ["Op"], "country": ["DE"]}),
        "sites": pd.DataFrame({"site_id": ["s"], "operator_id": ["op"], "kind": ["cell"]}),
        "elements": pd.DataFrame({"element_id": ids, "site_id": "s", "role": roles, "vendor": vendors}),
        "links": pd.DataFrame({"a": np.asarray(ids)[a], "b": np.asarray(ids)[b], "kind": kinds}),
    }


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_networks_match_networkx(seed):
    t = random_network(seed)
    net = cleanpath.Network(t)
    g = net.graph()
    ids = t["elements"]["element_id"].tolist()
    tr = t["links"][t["links"]["kind"] == "transport"]
    mg = nx.MultiGraph()
    mg.add_nodes_from(ids)
    mg.add_edges_from(zip(tr["a"], tr["b"]))
    oracle = nx.to_numpy_array(mg, nodelist=ids, weight=None)  # entries count parallel edges
    assert (g.adjacency["transport"].toarray() == oracle).all()
    for kind in ("control", "management", "anchor"):
        sub = t["links"][t["links"]["kind"] == kind]
        dg = nx.MultiDiGraph()
        dg.add_nodes_from(ids)
        dg.add_edges_from(zip(sub["a"], sub["b"]))
        assert (g.adjacency[kind].toarray() == nx.to_numpy_array(dg, nodelist=ids, weight=None)).all()
    rng = np.random.default_rng(seed + 100)
    for keep in (~g.vendor_mask(["huawei", "zte"]), rng.random(g.n) < 0.6, np.ones(g.n, dtype=bool)):
        count, labels = g.components(keep)
        kept = [i for i, k in zip(ids, keep) if k]
        expected = {frozenset(c) for c in nx.connected_components(nx.Graph(mg).subgraph(kept))}
        assert partition(labels, ids) == expected
        assert count == len(expected) + int((~keep).sum())


def test_synthetic_network_components_match_networkx():
    t = synthetic_network(elements=5_000, seed=8)
    net = cleanpath.Network(t)
    g = net.graph()
    count, _ = g.components()
    assert count == 3  # one transport network per operator
    el = t["elements"].astype(object)
    tr = t["links"][t["links"]["kind"] == "transport"].astype(object)
    G = nx.Graph()
    G.add_nodes_from(el["element_id"])
    G.add_edges_from(zip(tr["a"], tr["b"]))
    for vendor in ("huawei", "cisco"):
        keep = ~g.vendor_mask([vendor])
        assert (~keep).any()
        _count, labels = g.components(keep)
        kept = el.loc[el["vendor"] != vendor, "element_id"]
        expected = {frozenset(c) for c in nx.connected_components(G.subgraph(kept))}
        assert partition(labels, el["element_id"]) == expected


def test_empty_network():
    g = cleanpath.Network().graph()
    assert g.n == 0 and g.adjacency["transport"].shape == (0, 0)
    count, labels = g.components()
    assert count == 0 and len(labels) == 0
    assert g.positions(["x"]).tolist() == [-1]
    assert g.vendor_mask(["huawei"]).tolist() == []
