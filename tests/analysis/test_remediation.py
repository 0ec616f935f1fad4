"""Exact clean-path remediation (MILP, HiGHS) against an independent brute force over replacement units.

The brute force knows nothing of the engine: its own grouping of untrusted equipment into units
(the field's coupling rules, written out plainly), its own service fixpoint (plain Python sets),
and enumeration of every subset of units.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import cleanpath
from cleanpath.analysis.clean_path import run_clean_path
from cleanpath.model.costs import CostModel, load_costs
from oracles import Brute, make_net, random_net, skeleton

VISIT = 7.0
REHOME = 500.0
#: A cost model with a small site visit, so unit costs stay close to the elements' own prices.
COSTS = CostModel(load_costs().roles, load_costs().generation_factor, VISIT)


class UnitBrute(Brute):
    """:class:`Brute` with replacement units: plain Python, one element at a time."""

    def __init__(self, net, untrusted):
        super().__init__(net, set(untrusted))
        links = list(zip(net.links["a"], net.links["b"], net.links["kind"]))
        anchor_of = {}
        for a, b, k in links:  # a radio anchored on an element being replaced goes with it
            if k == "anchor" and b in self.bad and b in self.on:
                anchor_of[a] = b
        managed = {}
        for a, b, k in links:
            if k == "management":
                managed[b] = managed.get(b, 0) + 1
        self.unit_of: dict[str, str] = {}
        cost: dict[str, float] = {}
        for e in self.ids:
            if e not in self.on or not (e in self.bad or e in anchor_of):
                continue
            domain = self.role[e].split(".")[0]
            domain = domain if domain in ("ran", "core", "mgmt") else "transport"
            if e in anchor_of:
                u = "ran:" + self.site[anchor_of[e]]
            elif domain == "mgmt":
                u = "mgmt:" + e
            else:
                u = f"{domain}:{self.site[e]}"
            extra = REHOME * managed.get(e, 0) if (domain == "mgmt" and e not in anchor_of) else 0.0
            self.unit_of[e] = u
            cost[u] = cost.get(u, VISIT) + self.cost[e] + extra
        self.unit_cost = cost
        self.members: dict[str, set[str]] = {}
        for e, u in self.unit_of.items():
            self.members.setdefault(u, set()).add(e)

    def units(self) -> list[str]:
        return sorted(self.unit_cost)

    def replaced(self, units) -> frozenset:
        return frozenset().union(*(self.members[u] for u in units)) if units else frozenset()

    def cheapest_units(self, pairs) -> float:
        """Cheapest set of units whose replacement makes every pair clean (inf if none)."""
        best = np.inf
        us = self.units()
        for k in range(len(us) + 1):
            for combo in itertools.combinations(us, k):
                c = sum(self.unit_cost[u] for u in combo)
                if c < best - 1e-9 and all(self.clean(s, o, self.replaced(combo)) for s, o in pairs):
                    best = c
        return best


def _check(net, untrusted=("huawei",), *, time_limit=30.0):
    res = run_clean_path(net, untrusted=frozenset(untrusted), costs=COSTS, time_limit=time_limit)
    br = UnitBrute(net, untrusted)
    t = res.tables["clean_path"]
    fixable = []
    for row in t.itertuples():
        if row.clean or not br.radios(row.sensitive_id, row.operator_id):
            continue
        if row.reason.startswith("no serving radio"):
            continue
        pair = (row.sensitive_id, row.operator_id)
        best = br.cheapest_units([pair])
        if np.isinf(best):
            assert row.reason.startswith("no path"), row
            continue
        fixable.append(pair)
        assert row.remediation_optimal and row.remediation_gap == 0.0
        assert row.remediation_cost == pytest.approx(best), (row, best)
        assert row.remediation_cost == pytest.approx(sum(br.unit_cost[u] for u in row.remediation_units))
        fix = br.replaced(row.remediation_units)
        assert set(row.remediation) == set(fix)
        assert br.clean(*pair, fix)
        # blocking is exactly the untrusted elements of the fix that are needed one by one: leaving
        # one of them untrusted breaks the fix, leaving any other replaced one untrusted does not
        for e in sorted(fix & br.bad):
            assert (e in row.blocking) == (not br.clean(*pair, fix - {e})), (row, e)
        assert set(row.blocking) <= fix & br.bad
        assert row.lower_bound <= row.remediation_cost + 1e-6
    if fixable:
        shared = set(res.tables["shared_fix"]["unit_id"])
        assert all(br.clean(s, o, br.replaced(shared)) for s, o in fixable)
        assert res.summary["shared_fix_optimal"]
        opt = br.cheapest_units(fixable)
        assert res.summary["shared_fix_cost"] == pytest.approx(opt)
        assert res.summary["shared_fix_lower_bound"] <= opt + 1e-6
    return res, fixable


# --- hand-built cases ---------------------------------------------------------------------------------

def test_a_site_ran_is_one_unit_and_nsa_goes_with_its_anchor():
    # a Huawei 4G radio and baseband at s0, a trusted 5G-NSA radio anchored on the baseband: the only
    # way out is the whole RAN unit of s0 (radio, baseband and the anchored NSA radio), one visit
    net = skeleton(radio_vendor="huawei",
                   extra=[("r5", "ran.radio", "ericsson", "s0", {"generation": "5G-NSA", "unit_cost": 15.0}),
                          ("bb4", "ran.baseband", "huawei", "s0", {"unit_cost": 40.0})],
                   links=[("r5", "rt", "transport"), ("bb4", "rt", "transport"), ("r5", "bb4", "anchor")])
    res = run_clean_path(net, untrusted={"huawei"}, costs=COSTS)
    row = res.tables["clean_path"].iloc[0]
    assert not row["clean"] and row["remediation_units"] == ["ran:s0"]
    assert sorted(row["remediation"]) == ["bb4", "r", "r5"]
    assert row["remediation_cost"] == pytest.approx(10 + 40 + 15 + VISIT)
    assert row["remediation_optimal"] and row["remediation_gap"] == 0
    # r alone opens a path (r5 needs bb4 too): either is needed on its own? no, each is replaceable
    # by the other route, so neither is blocking; only the unit as a whole is
    assert row["blocking"] == []
    _check(net)


def test_blocking_lists_only_what_the_fix_needs():
    # the Huawei EMS manages the router on the only route: replacing it is needed; the untrusted
    # radio elsewhere at the site is replaced with its RAN unit but is not needed
    net = skeleton(ems_vendor="huawei",
                   extra=[("rx", "ran.radio", "huawei", "s3", {"unit_cost": 5.0})],
                   links=[("rx", "dcr", "transport")])
    res, fixable = _check(net)
    row = res.tables["clean_path"].iloc[0]
    assert row["blocking"] == ["ems"] and row["remediation_units"] == ["mgmt:ems"]
    assert row["remediation_cost"] == pytest.approx(500 + REHOME * 1 + VISIT)


def two_sites():
    """Two sites, each with a private Huawei route (60 each) and a shared Huawei aggregation (100)."""
    els = [("ra", "ran.radio", "ericsson", "s0", {"unit_cost": 1.0}),
           ("rb", "ran.radio", "ericsson", "s2", {"unit_cost": 1.0}),
           ("agg", "transport.router", "huawei", "s1", {"unit_cost": 100.0 - VISIT}),
           ("ha", "transport.router", "huawei", "s0", {"unit_cost": 60.0 - VISIT}),
           ("hb", "transport.router", "huawei", "s2", {"unit_cost": 60.0 - VISIT}),
           ("x", "transport.router", "ericsson", "s3"),
           ("upf", "core.upf", "ericsson", "dc"), ("gw", "gateway.internet", "ericsson", "dc")]
    lk = [("ra", "agg", "transport"), ("rb", "agg", "transport"), ("agg", "x", "transport"),
          ("ra", "ha", "transport"), ("rb", "hb", "transport"), ("ha", "x", "transport"), ("hb", "x", "transport"),
          ("x", "upf", "transport"), ("upf", "gw", "transport")]
    return make_net(els, lk, sensitive=[("a", "military", 50.0, 8.0, 1000.0), ("b", "military", 50.3, 8.3, 1000.0)])


def test_shared_fix_finds_an_element_no_pair_picks_alone():
    # alone each pair takes its private route (60); together the aggregation (100) beats 120
    net = two_sites()
    res, fixable = _check(net)
    t = res.tables["clean_path"]
    assert t["remediation_cost"].tolist() == [pytest.approx(60.0), pytest.approx(60.0)]
    assert res.summary["shared_fix_cost"] == pytest.approx(100.0)
    assert list(res.tables["shared_fix"]["element_id"]) == ["agg"]
    assert res.summary["shared_fix_optimal"] and res.summary["shared_fix_union_cost"] == pytest.approx(120.0)


def test_tiny_time_limit_falls_back_to_the_heuristic():
    # the routes form cycles, so the pairs need the MILP; with no time at all the heuristic's fixes stay
    net = two_sites()
    res = run_clean_path(net, untrusted={"huawei"}, costs=COSTS, time_limit=0.0)
    br = UnitBrute(net, ["huawei"])
    for row in res.tables["clean_path"].itertuples():
        assert not row.clean and not row.remediation_optimal
        assert np.isfinite(row.remediation_cost) and 0 <= row.remediation_gap <= 1
        assert br.clean(row.sensitive_id, row.operator_id, br.replaced(row.remediation_units))  # the fallback works
    assert not res.summary["shared_fix_optimal"] and res.summary["shared_fix_source"] == "union of the per-pair fixes"
    # with time, the same question is proved optimal
    res = run_clean_path(net, untrusted={"huawei"}, costs=COSTS)
    assert res.tables["clean_path"]["remediation_optimal"].all() and res.summary["shared_fix_optimal"]


def test_bad_parameters_are_validation_errors():
    net = skeleton()
    for kw in ({"time_limit": -1}, {"time_limit": float("nan")}, {"gap": 1.5}, {"gap": "x"}):
        with pytest.raises(cleanpath.ValidationError):
            run_clean_path(net, untrusted={"huawei"}, **kw)


# --- random networks with dependencies against the brute force -------------------------------------------

def _cases(k: int, seed: int):
    """Seeded small random networks: (seed, elements)."""
    rng = np.random.default_rng(seed)
    for _ in range(k):
        yield int(rng.integers(0, 10**6)), int(rng.integers(5, 14))


def random_tree_net(seed: int, n: int):
    """Like ``test_service.random_net`` but the transport graph is a tree (cell sites hanging off a
    gateway), with random control, management and anchor dependencies: the closure case."""
    rng = np.random.default_rng(seed)
    roles = rng.choice(["ran.radio", "transport.router", "core.upf", "core.amf", "mgmt.ems", "ran.baseband"], n,
                       p=[.35, .3, .1, .08, .09, .08])
    roles[0], roles[1] = "gateway.internet", "core.upf"
    roles[2] = "ran.radio"
    sites = ["s0", "s1", "s2", "s3"]
    site_of = rng.choice(sites, n)
    el = [(f"e{i}", roles[i], str(rng.choice(["huawei", "ericsson", "nokia"], p=[.45, .4, .15])) if i else "nokia",
           str(site_of[i]), {"in_service": bool(rng.random() > .03), "unit_cost": float(rng.integers(1, 50))})
          for i in range(n)]
    links = [(f"e{i}", f"e{int(rng.integers(0, i))}", "transport") for i in range(1, n)]
    for _ in range(int(n * rng.uniform(0, .6))):
        a, b = rng.integers(0, n, 2)
        links.append((f"e{a}", f"e{b}", str(rng.choice(["control", "management", "anchor"]))))
    from oracles import SITE_POS

    site_rows = [(s, f"op{k % 2}", *SITE_POS[s]) for k, s in enumerate(sites)]
    sensitive = [("x0", "military", 50.005, 8.0, 3000.0), ("x1", "diplomatic", 50.3, 8.3, 1000.0)]
    return make_net(el, links, sites=site_rows, sensitive=sensitive)


def test_random_networks_milp_equals_brute_force():
    """Random meshes (cycles: the pairs need the MILP) with dependencies, two operators."""
    checked = fixed = 0
    for seed, n in _cases(130, 20261205):
        net = random_net(seed, n, deps=True, ops=2)
        if len(UnitBrute(net, ["huawei"]).units()) > 8:
            continue  # keep the enumeration small
        res, fixable = _check(net)
        checked += 1
        fixed += len(fixable)
    assert checked >= 100 and fixed >= 50, (checked, fixed)


def test_random_trees_closures_and_milp_equal_brute_force(monkeypatch):
    """Random trees with dependencies: solved by closures, and again with every pair sent to the MILP."""
    import functools

    import cleanpath.analysis.clean_path as cp
    from cleanpath.analysis import remediation

    nets = [random_tree_net(seed, n) for seed, n in _cases(70, 7)]
    nets = [net for net in nets if len(UnitBrute(net, ["huawei"]).units()) <= 8]
    by_closure = fixed = 0
    for net in nets:
        res, fixable = _check(net)
        by_closure += res.summary["remediation_pairs_by_closure"]
        fixed += len(fixable)
    assert by_closure >= 20 and fixed >= 20, (by_closure, fixed)
    monkeypatch.setattr(cp, "exact_remediation", functools.partial(remediation.exact_remediation, closures=False))
    for net in nets[:40]:
        res, _ = _check(net)
        assert res.summary["remediation_pairs_by_closure"] == 0


def test_costs_from_a_yaml_file_and_the_shared_table(tmp_path):
    f = tmp_path / "costs.yaml"
    f.write_text("site_visit: 0\n", encoding="utf-8")
    res = run_clean_path(skeleton(ems_vendor="huawei"), untrusted={"huawei"}, costs=str(f))
    row = res.tables["clean_path"].iloc[0]
    assert row["remediation_cost"] == pytest.approx(500 + REHOME)  # the EMS and re-homing its one router
    tab = res.tables["shared_fix"]
    assert tab[["element_id", "unit_id"]].values.tolist() == [["ems", "mgmt:ems"]]
    assert tab["cost"].sum() == pytest.approx(res.summary["shared_fix_cost"])
    with pytest.raises(cleanpath.ValidationError):
        run_clean_path(skeleton(), untrusted={"huawei"}, costs=str(tmp_path / "missing.yaml"))
