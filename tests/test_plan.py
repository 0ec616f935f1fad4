"""The replacement planner: brute-force optima on tiny instances, coupling rules, infeasibility."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import cleanpath
from cleanpath.plan.planner import plan_replacement, replacement_units

UNTRUSTED = {"huawei", "zte"}


def net_with(cells: list[dict], *, core_vendor: str = "ericsson", ems: bool = False) -> cleanpath.Network:
    """Cell sites, each with given radios/baseband vendors and an explicit cost per element."""
    sites = [{"site_id": "dc", "operator_id": "op", "kind": "core_dc", "lat": 50.0, "lon": 8.0, "region": "R0"}]
    elements = [{"element_id": "mme", "site_id": "dc", "role": "core.mme", "vendor": core_vendor,
                 "unit_cost": 1000.0}]
    links = []
    if ems:
        elements.append({"element_id": "ems", "site_id": "dc", "role": "mgmt.ems", "vendor": "huawei",
                         "unit_cost": 700.0})
    for i, c in enumerate(cells):
        sid = f"c{i}"
        sites.append({"site_id": sid, "operator_id": "op", "kind": "cell", "lat": 50 + i / 100, "lon": 8.0,
                      "region": c.get("region", "R0")})
        elements.append({"element_id": f"{sid}-bb", "site_id": sid, "role": "ran.baseband",
                         "vendor": c["vendor"], "generation": "4G", "unit_cost": c["cost"],
                         "installed_on": "2019-01-01"})
        elements.append({"element_id": f"{sid}-r5", "site_id": sid, "role": "ran.radio", "vendor": c["vendor"],
                         "generation": "5G-NSA", "unit_cost": 0.0})
        links.append({"a": f"{sid}-r5", "b": f"{sid}-bb", "kind": "anchor"})
        if ems:
            links.append({"a": f"{sid}-bb", "b": "ems", "kind": "management"})
    return cleanpath.Network({
        "operators": pd.DataFrame([{"operator_id": "op", "name": "Op", "country": "DE"}]),
        "sites": pd.DataFrame(sites), "elements": pd.DataFrame(elements), "links": pd.DataFrame(links)})


def test_units_follow_coupling_rules():
    net = net_with([{"vendor": "huawei", "cost": 100}, {"vendor": "ericsson", "cost": 100},
                    {"vendor": "zte", "cost": 300}], core_vendor="huawei", ems=True)
    u = replacement_units(net, untrusted=UNTRUSTED).set_index("unit_id")
    # one RAN unit per untrusted site (baseband + its anchored 5G radio), the core DC, the EMS
    assert sorted(u.index) == ["core:dc", "mgmt:ems", "ran:c0", "ran:c2"]
    assert u.loc["ran:c0", "elements"] == 2 and u.loc["ran:c0", "element_ids"] == ["c0-bb", "c0-r5"]
    # the EMS pays for re-homing the 3 basebands it manages
    from cleanpath.plan.planner import REHOME_COST
    from cleanpath.plan.costs import load_costs
    visit = load_costs().site_visit
    assert u.loc["mgmt:ems", "cost"] == pytest.approx(700 + 3 * REHOME_COST + visit)
    assert u.loc["ran:c2", "cost"] == pytest.approx(300 + visit)


def _brute_force(costs, weights, deadlines, budget, horizon, rate=0.05):
    """Enumerate every assignment of units to a year or 'never'; the balanced objective."""
    n = len(costs)
    disc = 1 / (1 + rate) ** np.arange(horizon)
    total_cost = sum(costs)
    total_exp = sum(weights) * horizon
    best = None
    for assign in itertools.product(range(-1, horizon), repeat=n):
        spend = np.zeros(horizon)
        ok = True
        obj = 0.0
        for u, y in enumerate(assign):
            if deadlines[u] is not None and deadlines[u] < horizon and not (0 <= y <= deadlines[u]):
                ok = False
                break
            if y >= 0:
                spend[y] += costs[u]
                obj += costs[u] * disc[y] / total_cost - weights[u] * (horizon - y) / total_exp
        if ok and (spend <= np.asarray(budget) + 1e-9).all() and (best is None or obj < best - 1e-12):
            best = obj
    return best


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_optimum_matches_brute_force(data):
    n = data.draw(st.integers(1, 4))
    horizon = data.draw(st.integers(1, 3))
    costs = [data.draw(st.sampled_from([10_000.0, 20_000.0, 50_000.0, 90_000.0])) for _ in range(n)]
    dls = [data.draw(st.sampled_from([None, 0, 1, 2])) for _ in range(n)]
    budget = [data.draw(st.sampled_from([0.0, 40_000.0, 80_000.0, 200_000.0])) for _ in range(horizon)]
    cells = [{"vendor": "huawei", "cost": c, "region": f"R{i}"} for i, c in enumerate(costs)]
    net = net_with(cells)
    deadlines = pd.DataFrame({"element_id": [f"c{i}-bb" for i, d in enumerate(dls) if d is not None],
                              "deadline": [f"{2030 + d}-12-31" for d in dls if d is not None]})
    from cleanpath.plan.costs import CostModel, load_costs
    base = load_costs()
    costs_model = CostModel(base.roles, base.generation_factor, 0.0)  # no site visit: costs are exact
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=2030, horizon=horizon, budget=budget,
                         deadlines=deadlines, costs=costs_model, gap=0.0, objective="balanced")
    units = replacement_units(net, untrusted=UNTRUSTED, costs=costs_model).set_index("unit_id")
    weights = [units.loc[f"ran:c{i}", "weight"] for i in range(n)]
    best = _brute_force(costs, weights, dls, budget, horizon)
    if best is None:
        assert r.summary["status"] == "infeasible"
        return
    assert r.summary["status"] == "Optimal"
    sched = r.tables["schedule"].set_index("unit_id")
    disc = 1 / 1.05 ** np.arange(horizon)
    obj = 0.0
    for i in range(n):
        y = sched.loc[f"ran:c{i}", "year"]
        if np.isfinite(y):
            y = int(y) - 2030
            obj += costs[i] * disc[y] / sum(costs) - weights[i] * (horizon - y) / (sum(weights) * horizon)
    assert obj == pytest.approx(best, abs=1e-9)


def test_deadlines_and_budget_are_respected():
    cells = [{"vendor": "huawei", "cost": 100_000.0} for _ in range(12)]
    net = net_with(cells)
    dl = pd.DataFrame({"element_id": [f"c{i}-bb" for i in range(12)], "deadline": "2028-12-31"})
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=2026, horizon=5, budget=600_000,
                         deadlines=dl, objective="cost")
    years = r.tables["years"]
    assert (years["net_cost"] <= years["budget"] + 1e-6).all()
    sched = r.tables["schedule"]
    assert (sched["year"] <= 2028).all() and sched["year"].notna().all()
    assert years.loc[years["year"] == 2028, "elements_past_deadline"].item() == 0


def test_cost_objective_defers_and_risk_objective_hurries():
    cells = [{"vendor": "huawei", "cost": 50_000.0} for _ in range(6)]
    net = net_with(cells)
    dl = pd.DataFrame({"element_id": [f"c{i}-bb" for i in range(6)], "deadline": "2029-12-31"})
    cheap = plan_replacement(net, untrusted=UNTRUSTED, start_year=2026, horizon=6, budget=1e6,
                             deadlines=dl, objective="cost").tables["schedule"]
    fast = plan_replacement(net, untrusted=UNTRUSTED, start_year=2026, horizon=6, budget=1e6,
                            deadlines=dl, objective="risk").tables["schedule"]
    assert (cheap["year"] == 2029).all()   # discounting: as late as the deadline allows
    assert (fast["year"] == 2026).all()    # exposure: as early as the money allows


def test_infeasible_request_names_the_collision_and_the_fix():
    cells = [{"vendor": "huawei", "cost": 100_000.0} for _ in range(10)]
    net = net_with(cells)
    dl = pd.DataFrame({"element_id": [f"c{i}-bb" for i in range(10)], "deadline": "2027-12-31"})
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=2026, horizon=4, budget=200_000,
                         deadlines=dl)
    s = r.summary
    assert s["status"] == "infeasible"
    assert "end of 2027" in s["colliding_deadline"]
    from cleanpath.plan.costs import load_costs
    need = 10 * (100_000 + load_costs().site_visit)
    assert s["extra_money_total"] == pytest.approx(need - 2 * 200_000, rel=1e-6)
    # 400k a year over the same span... with the same budget, how many more years?
    per_year = 200_000 // (100_000 + load_costs().site_visit)
    assert s["extra_years_needed"] == int(np.ceil(10 / per_year)) - 2


def test_crews_limit_per_region():
    cells = [{"vendor": "huawei", "cost": 10_000.0, "region": "A"} for _ in range(6)] + \
            [{"vendor": "huawei", "cost": 10_000.0, "region": "B"} for _ in range(2)]
    net = net_with(cells)
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=2026, horizon=4, budget=1e9, crews=2,
                         objective="risk", explain=True)
    sched = r.tables["schedule"]
    per = sched.groupby(["region", "year"]).size()
    assert per.max() <= 2 and per.loc["A"].tolist() == [2, 2, 2]
    assert any("crews A 2026" == c for c in r.summary["binding_constraints"])


def test_funding_reduces_the_net_cost():
    cells = [{"vendor": "huawei", "cost": 100_000.0} for _ in range(4)]
    net = net_with(cells)
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=2026, horizon=2, budget=1e9,
                         funding_share=0.395, funded_vendors=["huawei"], objective="risk")
    assert r.summary["funding_drawn"] == pytest.approx(0.395 * 4 * 100_000)


def test_bad_settings_are_clear():
    net = net_with([{"vendor": "huawei", "cost": 1.0}])
    with pytest.raises(cleanpath.ValidationError, match="objective"):
        plan_replacement(net, untrusted=UNTRUSTED, start_year=2026, horizon=2, budget=1, objective="cheap")
    with pytest.raises(cleanpath.ValidationError, match="3 yearly budgets"):
        plan_replacement(net, untrusted=UNTRUSTED, start_year=2026, horizon=2, budget=[1, 2, 3])


def test_incentive_hand_computed():
    import datetime as dt

    from cleanpath.plan.incentive import run_incentive
    from cleanpath.plan.costs import CostModel, load_costs

    base = load_costs()
    net = net_with([{"vendor": "huawei", "cost": 100_000.0}, {"vendor": "ericsson", "cost": 100_000.0}])
    # baseband installed 2019-01-01 costs 100k; its 5G radio costs 0. As of 2023-01-01 it is 4.0 years
    # into an 8-year life: half its value is stranded.
    r = run_incentive(net, as_of=dt.date(2023, 1, 1), premium=0.2, lifetime_years=8.0,
                      costs=CostModel(base.roles, base.generation_factor, 0.0))
    op = r.tables["operators"].set_index("operator_id").loc["op"]
    assert op["untrusted_elements"] == 2
    assert op["replacement_cost"] == pytest.approx(100_000)
    assert op["stranded_value"] == pytest.approx(100_000 * (1 - 1461 / 365.25 / 8), rel=1e-9)
    assert op["compliance_cost"] == pytest.approx(op["stranded_value"] + 20_000)
    assert op["break_even_subsidy_share"] == pytest.approx(op["compliance_cost"] / 100_000)
    # the FCC programme paid 39.5 % in 2023 for Huawei gear bought before mid-2020
    r = run_incentive(net, as_of=dt.date(2023, 1, 1), premium=0.2, programme="fcc-scrp",
                      costs=CostModel(base.roles, base.generation_factor, 0.0))
    assert r.summary["programme_share"] == pytest.approx(0.395, abs=5e-4)
    assert r.summary["programme_pays"] == pytest.approx(0.395 * 100_000, rel=1e-3)
