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
                      "region": c.get("region", "R0"), **({"subscribers": c["subscribers"]} if "subscribers" in c else {})})
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


# --- the model at the edges: deadlines, funding, crews, diagnosis, binding limits ---------------

def _no_visit():
    from cleanpath.plan.costs import CostModel, load_costs

    base = load_costs()
    return CostModel(base.roles, base.generation_factor, 0.0)


def test_deadline_before_31_december_needs_the_year_before():
    net = net_with([{"vendor": "huawei", "cost": 10_000.0} for _ in range(3)])
    dl = pd.DataFrame({"element_id": ["c0-bb", "c1-bb", "c2-bb"],
                       "deadline": ["2029-06-30", "2029-12-31", "2026-12-31"]})
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=2027, horizon=5, budget=1e6, deadlines=dl,
                         objective="cost", gap=0.0)
    year = r.tables["schedule"].set_index("unit_id")["year"]
    # the cost objective defers work as long as each deadline allows (discounting)
    assert year["ran:c0"] == 2028        # gone by 30 June 2029: the work is in 2028
    assert year["ran:c1"] == 2029        # gone by the end of 2029: 2029 will do
    assert year["ran:c2"] == 2027        # already overdue: first year
    assert r.summary["overdue_at_start"] == 1
    assert (r.tables["years"]["elements_past_deadline"] == 0).all()


def test_budget_is_net_of_funding():
    net = net_with([{"vendor": "huawei", "cost": 100_000.0} for _ in range(4)]
                   + [{"vendor": "zte", "cost": 100_000.0} for _ in range(2)])
    common = dict(untrusted=UNTRUSTED, start_year=2027, horizon=1, budget=250_000, objective="risk",
                  costs=_no_visit(), gap=0.0)
    alone = plan_replacement(net, **common)
    assert alone.summary["units_replaced"] == 2
    # half of the Huawei removals reimbursed: four Huawei units cost 200k of our money, a ZTE 100k
    funded = plan_replacement(net, funding_share=0.5, funded_vendors=["huawei"], **common)
    years = funded.tables["years"]
    assert funded.summary["units_replaced"] == 4
    assert years["net_cost"].item() == pytest.approx(200_000) and years["cost"].item() == pytest.approx(400_000)
    assert funded.summary["funding_drawn"] == pytest.approx(200_000)
    sched = funded.tables["schedule"]
    assert set(sched.loc[sched["year"].notna(), "unit_id"]) == {f"ran:c{i}" for i in range(4)}


def test_crew_collision_is_diagnosed():
    cells = [{"vendor": "huawei", "cost": 1_000.0, "region": "A"} for _ in range(5)]
    net = net_with(cells)
    dl = pd.DataFrame({"element_id": [f"c{i}-bb" for i in range(5)], "deadline": "2028-12-31"})
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=2027, horizon=3, budget=1e9, crews=2,
                         deadlines=dl)
    s = r.summary
    assert s["status"] == "infeasible"
    assert "region A" in s["colliding_deadline"] and "end of 2028" in s["colliding_deadline"]
    assert s["extra_money_total"] is None and "crews" in s["note"]
    # 2 crews a year: 5 units take 3 years, one more than the 2 the deadline leaves
    assert s["extra_years_needed"] == 1


def test_least_extra_money_is_the_least():
    # yearly budgets do not carry over, so the least extra money depends on how the units split
    net = net_with([{"vendor": "huawei", "cost": c} for c in (30_000.0, 50_000.0, 70_000.0)])
    dl = pd.DataFrame({"element_id": ["c0-bb", "c1-bb", "c2-bb"], "deadline": "2028-12-31"})
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=2027, horizon=2, budget=[60_000, 60_000],
                         deadlines=dl, costs=_no_visit(), gap=0.0)
    # splits of {30, 50, 70} (thousands) into two years of 60: {30 | 50, 70} needs 60 more,
    # {50 | 30, 70} 40, {70 | 30, 50} 10 + 20 = 30: the least is 30
    assert r.summary["extra_money_total"] == pytest.approx(30_000)
    assert r.summary["colliding_deadline"].startswith("units due by the end of 2028 cost 150,000")


def test_binding_constraints_name_budget_and_deadline():
    net = net_with([{"vendor": "huawei", "cost": 100_000.0} for _ in range(4)])
    dl = pd.DataFrame({"element_id": ["c0-bb", "c1-bb"], "deadline": "2028-12-31"})
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=2027, horizon=3, budget=100_000,
                         deadlines=dl, costs=_no_visit(), objective="risk", explain=True, gap=0.0)
    names = r.summary["binding_constraints"]
    # one unit a year fits: every year's budget is exhausted, and the second deadline unit is
    # replaced in the deadline's own year
    assert {"budget 2027", "budget 2028", "budget 2029"} <= set(names)
    assert any(n.startswith("deadline 2028: ") for n in names)
    b = r.tables["binding"].set_index("constraint")
    assert b.loc["budget 2027", "used"] == pytest.approx(100_000) and b.loc["budget 2027", "slack"] == 0


def test_risk_objective_prefers_the_riskier_units_when_money_is_short():
    # same cost; the site near a sensitive site weighs NEAR_SENSITIVE times more
    from cleanpath.plan.planner import NEAR_SENSITIVE

    net = net_with([{"vendor": "huawei", "cost": 100_000.0} for _ in range(3)])
    tables = net.tables()
    tables["sensitive_sites"] = pd.DataFrame([{"sensitive_id": "base", "name": "Base", "kind": "military",
                                               "lat": 50.02, "lon": 8.0, "radius_m": 500.0}])
    net = cleanpath.Network(tables)
    u = replacement_units(net, untrusted=UNTRUSTED).set_index("unit_id")
    assert u["near_sensitive"].to_dict() == {"ran:c0": False, "ran:c1": False, "ran:c2": True}
    assert u.loc["ran:c2", "weight"] == pytest.approx(NEAR_SENSITIVE * u.loc["ran:c0", "weight"])
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=2027, horizon=1, budget=150_000,
                         costs=_no_visit(), objective="risk")
    sched = r.tables["schedule"].set_index("unit_id")["year"]
    assert sched["ran:c2"] == 2027 and sched.drop("ran:c2").isna().all()


def test_nsa_radio_goes_with_its_untrusted_anchor():
    net = net_with([{"vendor": "huawei", "cost": 10.0}])
    tables = net.tables()
    el = tables["elements"].copy()
    # a trusted 5G-NSA radio anchored on the Huawei baseband of another site (a C-RAN hub)
    tables["sites"] = pd.concat([tables["sites"], pd.DataFrame([{"site_id": "c9", "operator_id": "op",
                                                                   "kind": "cell", "lat": 50.5, "lon": 8.0}])])
    tables["elements"] = pd.concat([el, pd.DataFrame([{"element_id": "c9-r5", "site_id": "c9",
                                                       "role": "ran.radio", "vendor": "nokia",
                                                       "generation": "5G-NSA", "unit_cost": 7.0}])])
    tables["links"] = pd.concat([tables["links"], pd.DataFrame([{"a": "c9-r5", "b": "c0-bb", "kind": "anchor"}])])
    net = cleanpath.Network(tables)
    u = replacement_units(net, untrusted=UNTRUSTED, costs=_no_visit()).set_index("unit_id")
    assert list(u.index) == ["ran:c0"]
    assert u.loc["ran:c0", "element_ids"] == ["c0-bb", "c0-r5", "c9-r5"]
    assert u.loc["ran:c0", "cost"] == pytest.approx(17.0)


def test_time_limit_without_a_schedule_is_not_called_infeasible():
    from cleanpath.plan.milp import Model, solve

    m = Model()
    x = m.add_columns([1.0, 1.0], 0.0, 1.0, integer=True)
    m.add_rows([0, 0], x, [1.0, 1.0], [3.0], [3.0], ["impossible"])
    sol = solve(m)
    assert sol.infeasible and not sol.feasible
    # stopped before any schedule was found: no diagnosis of a collision that may not exist
    net = net_with([{"vendor": "huawei", "cost": 1_000.0} for _ in range(4)])
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=2027, horizon=3, budget=1e6, time_limit=0.0)
    assert r.summary["status"] == "Time limit reached"
    assert "no schedule found" in r.summary["note"] and "colliding_deadline" not in r.summary
    assert r.tables["schedule"]["year"].isna().all()


# --- aggregation is harmless: the integer count model has the binary model's optimum ------------

def _objective_of(schedule: pd.DataFrame, *, start_year: int, horizon: int, objective: str,
                  funding_share: float, rate: float = 0.05) -> float:
    """The documented objective, recomputed from a schedule (shares of money and exposure-years)."""
    disc = 1 / (1 + rate) ** np.arange(horizon)
    total_cost = schedule["cost"].sum()
    total_exp = schedule["weight"].sum() * horizon
    done = schedule["year"].notna().to_numpy()
    y = (schedule["year"].to_numpy(dtype=float)[done] - start_year).astype(int)
    net = (schedule["cost"] - funding_share * schedule["funded_cost"]).to_numpy()[done]
    cost = float((net * disc[y]).sum()) / total_cost
    exposure = float((schedule["weight"].to_numpy()[done] * (horizon - y)).sum()) / total_exp
    k = {"cost": (1.0, 1e-6), "risk": (1e-6, 1.0), "balanced": (1.0, 1.0)}[objective]
    return k[0] * cost - k[1] * exposure


def _check_feasible(schedule: pd.DataFrame, *, start_year, horizon, budget, crews, funding_share, deadlines):
    done = schedule[schedule["year"].notna()]
    net = done["cost"] - funding_share * done["funded_cost"]
    spend = net.groupby(done["year"]).sum()
    for y, v in spend.items():
        assert v <= budget[int(y) - start_year] + 1e-6
    if crews is not None:
        assert (done.groupby(["region", "year"])["crew_jobs"].sum() <= crews).all()
    for unit, last in deadlines.items():
        if last < horizon:
            y = schedule.set_index("unit_id").loc[unit, "year"]
            assert np.isfinite(y) and y - start_year <= last


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_aggregated_optimum_equals_the_binary_optimum(data):
    n = data.draw(st.integers(2, 9), label="units")
    horizon = data.draw(st.integers(1, 3), label="horizon")
    objective = data.draw(st.sampled_from(OBJECTIVES_ALL), label="objective")
    cells = [{"vendor": data.draw(st.sampled_from(["huawei", "zte"])),
              "cost": data.draw(st.sampled_from([10_000.0, 25_000.0])),
              "region": data.draw(st.sampled_from(["A", "B"]))} for _ in range(n)]
    dls = [data.draw(st.sampled_from([None, 0, 1, 2])) for _ in range(n)]
    budget = [data.draw(st.sampled_from([20_000.0, 45_000.0, 100_000.0])) for _ in range(horizon)]
    crews = data.draw(st.sampled_from([None, 1, 2]), label="crews")
    share = data.draw(st.sampled_from([0.0, 0.5]), label="funding share")
    net = net_with(cells)
    deadlines = pd.DataFrame({"element_id": [f"c{i}-bb" for i, d in enumerate(dls) if d is not None],
                              "deadline": [f"{2030 + d}-12-31" for d in dls if d is not None]})
    kw = dict(untrusted=UNTRUSTED, start_year=2030, horizon=horizon, budget=budget, deadlines=deadlines,
              crews=crews, funding_share=share, funded_vendors=["huawei"], costs=_no_visit(), gap=0.0,
              objective=objective)
    agg = plan_replacement(net, aggregate=True, **kw)
    naive = plan_replacement(net, aggregate=False, **kw)
    assert naive.summary["classes"] == n
    assert agg.summary["classes"] <= n
    assert (agg.summary["status"] == "infeasible") == (naive.summary["status"] == "infeasible")
    if agg.summary["status"] == "infeasible":
        assert agg.summary.get("extra_money_total") == pytest.approx(naive.summary.get("extra_money_total"))
        assert agg.summary.get("extra_years_needed") == naive.summary.get("extra_years_needed")
        return
    last = {f"ran:c{i}": d for i, d in enumerate(dls) if d is not None}
    values = []
    for r in (agg, naive):
        sched = r.tables["schedule"]
        _check_feasible(sched, start_year=2030, horizon=horizon, budget=budget, crews=crews,
                        funding_share=share, deadlines=last)
        values.append(_objective_of(sched, start_year=2030, horizon=horizon, objective=objective,
                                    funding_share=share))
    assert values[0] == pytest.approx(values[1], abs=1e-6)


OBJECTIVES_ALL = ("cost", "risk", "balanced")


# --- applying a schedule, and the compliance curve against a full audit of each year ------------

PACK = """\
pack: plan-test
title: Rules that exercise every path of the compliance curve
rules:
  - id: ran-out
    kind: remove_by
    title: Huawei out of the RAN
    vendors: {ids: [huawei]}
    scope: {domain: [ran]}
    deadline: 2028-12-31
    citation: &c {instrument: test, date: 2024-01-01, url: "https://example.org/test"}
  - id: ran-cap
    kind: cap
    title: Huawei at most 30 % of RAN sites
    vendors: {ids: [huawei]}
    scope: {domain: [ran]}
    measure: sites
    max_percent: 30
    deadline: 2027-06-30
    citation: *c
  - id: core-forbid
    kind: forbid
    title: No ZTE in the core
    vendors: {ids: [zte]}
    scope: {domain: [core]}
    from: 2029-01-01
    severity: warning
    citation: *c
  - id: no-new-ericsson
    kind: no_new
    title: No new Ericsson RAN (replacements get Ericsson)
    vendors: {ids: [ericsson]}
    scope: {domain: [ran]}
    installed_on_or_after: 2027-01-01
    severity: warning
    citation: *c
"""


def test_apply_schedule_replaces_in_place():
    from cleanpath.plan.apply import apply_schedule, element_replacement_year

    net = net_with([{"vendor": "huawei", "cost": 1.0}, {"vendor": "ericsson", "cost": 1.0},
                    {"vendor": "huawei", "cost": 1.0}])
    units = replacement_units(net, untrusted=UNTRUSTED)
    schedule = pd.DataFrame({"unit_id": ["ran:c0", "ran:c2"], "year": [2027.0, 2029.0]})
    year = element_replacement_year(net, schedule, units)
    assert dict(zip(net.elements["element_id"], year)) == pytest.approx(
        {"mme": np.nan, "c0-bb": 2027, "c0-r5": 2027, "c1-bb": np.nan, "c1-r5": np.nan, "c2-bb": 2029,
         "c2-r5": 2029}, nan_ok=True)
    after = apply_schedule(net, schedule, units, through_year=2028, untrusted=UNTRUSTED)
    el = after.elements.set_index("element_id")
    # the operator's usual trusted RAN vendor takes over, installed on 1 July of the year
    assert el.loc["c0-bb", "vendor"] == "ericsson" and el.loc["c0-r5", "vendor"] == "ericsson"
    assert str(el.loc["c0-bb", "installed_on"]) == "2027-07-01"
    assert el.loc["c2-bb", "vendor"] == "huawei" and str(el.loc["c2-bb", "installed_on"]) == "2019-01-01"
    assert (after.elements["element_id"] == net.elements["element_id"]).all()
    assert len(after.links) == len(net.links)


def test_compliance_curve_equals_a_full_audit_of_every_year(tmp_path):
    from cleanpath.analysis.audit import audit_network
    from cleanpath.plan.apply import apply_schedule
    from cleanpath.plan.planner import compliance_curve

    pack = tmp_path / "plan-test.yaml"
    pack.write_text(PACK, encoding="utf-8")
    cells = [{"vendor": v, "cost": 10_000.0} for v in ["huawei"] * 5 + ["ericsson"] * 2 + ["zte"]]
    net = net_with(cells, core_vendor="zte")
    units = replacement_units(net, untrusted=UNTRUSTED)
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=2027, horizon=4, budget=30_000,
                         costs=_no_visit(), objective="risk")
    schedule = r.tables["schedule"]
    assert schedule["year"].nunique() == 3   # work spread over several years, some units left
    curve = compliance_curve(net, schedule, units=units, policies=str(pack), start_year=2027, horizon=4)
    assert curve["year"].tolist() == [2026, 2027, 2028, 2029, 2030]
    for row in curve.itertuples():
        snap = apply_schedule(net, schedule, units, through_year=row.year, untrusted=UNTRUSTED)
        ref = audit_network(snap, policies=str(pack), as_of=f"{row.year}-12-31").summary
        assert (row.violations, row.warnings, row.info) == (ref["violations"], ref["warnings"], ref["info"])
        assert row.elements_in_violation == ref["elements_in_violation"]
    # the replacements are Ericsson, installed after 2027-01-01: the no-new rule sees them
    assert curve["warnings"].iloc[-1] > 0


def test_compliance_curve_of_a_generated_network_with_clean_path_rules():
    from cleanpath.analysis.audit import audit_network
    from cleanpath.demo import build_example
    from cleanpath.model.vendors import default_untrusted
    from cleanpath.plan.apply import apply_schedule
    from cleanpath.plan.planner import run_plan

    net = build_example(scale=0.01, seed=7)
    packs = "de-2024,eu-toolbox,us-clean-path"
    units = replacement_units(net, untrusted=default_untrusted(net.catalogue))
    r = run_plan(net, policies=packs, start_year=2027, horizon=3, budget=units["cost"].sum() / 4,
                 objective="risk")
    curve = r.tables["compliance"]
    sched = r.tables["schedule"]
    assert curve["elements_replaced"].is_monotonic_increasing and curve["elements_replaced"].iloc[-1] > 0
    for row in curve.itertuples():
        snap = apply_schedule(net, sched, units, through_year=row.year,
                              untrusted=default_untrusted(net.catalogue))
        ref = audit_network(snap, policies=packs, as_of=f"{row.year}-12-31").summary
        assert (row.violations, row.warnings, row.info) == (ref["violations"], ref["warnings"], ref["info"])


def test_equipment_out_of_service_is_not_paid_for():
    net = net_with([{"vendor": "huawei", "cost": 100.0}, {"vendor": "huawei", "cost": 100.0}])
    tables = net.tables()
    el = tables["elements"].copy()
    el["in_service"] = ~el["element_id"].str.startswith("c1-")
    tables["elements"] = el
    u = replacement_units(cleanpath.Network(tables), untrusted=UNTRUSTED)
    assert u["unit_id"].tolist() == ["ran:c0"]


def test_funding_covers_only_gear_obtained_by_the_cutoff():
    net = net_with([{"vendor": "huawei", "cost": 100_000.0}, {"vendor": "zte", "cost": 50_000.0}])
    # basebands were installed on 2019-01-01; the 5G radios (cost 0) have no date, which counts
    kw = dict(untrusted=UNTRUSTED, funded_vendors=["huawei", "zte"], costs=_no_visit())
    before = replacement_units(net, funded_installed_by="2018-12-31", **kw).set_index("unit_id")
    after = replacement_units(net, funded_installed_by="2020-06-30", **kw).set_index("unit_id")
    assert before["funded_cost"].tolist() == [0.0, 0.0]
    assert after["funded_cost"].tolist() == [100_000.0, 50_000.0]
    r = plan_replacement(net, start_year=2027, horizon=1, budget=1e9, funding_share=0.395,
                         funded_installed_by="2020-06-30", objective="risk", **kw)
    assert r.summary["funding_drawn"] == pytest.approx(0.395 * 150_000)


def test_plan_from_the_command_line_with_funding(tmp_path):
    from click.testing import CliRunner

    from cleanpath.cli.main import cli

    net = net_with([{"vendor": "huawei", "cost": 100_000.0, "region": r} for r in "AAB"])
    with cleanpath.open_workspace(tmp_path / "ws.duckdb") as ws:
        ws.write_network("main", net)
    out = CliRunner().invoke(cli, ["-w", str(tmp_path / "ws.duckdb"), "plan", "--policy", "de-2024",
                                   "--start", "2027", "--horizon", "2", "--budget", "400k", "--crews", "1",
                                   "--funding", "fcc-scrp", "--objective", "risk", "--explain",
                                   "--format", "json"])
    assert out.exit_code == 0, out.output
    import json

    r = json.loads(out.output)
    years = {row["year"]: row for row in r["tables"]["years"]}
    # one crew-job a year per region: region A gets one site a year, B one in the first year
    assert years[2027]["units"] == 2 and years[2028]["units"] == 1
    assert r["summary"]["funding_share"] > 0 and r["summary"]["funding_drawn"] > 0
    assert "crews A 2027" in r["summary"]["binding_constraints"]


# --- share caps: the plan meets them from their binding date, exactly as the audit measures -------

CAP_PACK = """\
pack: cap-test
title: A cap on Huawei's share of the RAN
rules:
  - id: ran-cap
    kind: cap
    title: Huawei at most {pct} % of the RAN ({measure})
    vendors: {{ids: [huawei]}}
    scope: {{domain: [ran]}}
    measure: {measure}
    max_percent: {pct}
    deadline: {deadline}
    citation: {{instrument: test, date: 2024-01-01, url: "https://example.org/test"}}
"""


def _cap_share(vendors: list[str], subs: list[float], left: np.ndarray, measure: str) -> float:
    """Huawei's share of the RAN by hand: each cell has a baseband and a radio of one vendor, and
    the sites replaced (``~left``) have none left."""
    hw = np.array([v == "huawei" for v in vendors]) & left
    if measure == "sites":
        return hw.sum() / len(vendors)
    if measure == "elements":
        return 2 * hw.sum() / (2 * len(vendors))
    w = np.asarray(subs, dtype=float)
    return (w * hw).sum() / w.sum()


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_cap_plan_is_the_brute_force_optimum(data, tmp_path_factory):
    """Cost-optimal plans under a share cap, against enumeration of every schedule."""
    from cleanpath.policy.loader import load_policy, rules_of

    n = data.draw(st.integers(2, 6), label="cells")
    vendors = data.draw(st.lists(st.sampled_from(["huawei", "huawei", "ericsson"]), min_size=n, max_size=n))
    costs = data.draw(st.lists(st.sampled_from([10_000.0, 20_000.0, 35_000.0]), min_size=n, max_size=n))
    subs = data.draw(st.lists(st.sampled_from([1000.0, 2500.0, 4000.0]), min_size=n, max_size=n))
    measure = data.draw(st.sampled_from(["sites", "elements", "subscribers"]), label="measure")
    pct = data.draw(st.sampled_from([0, 20, 35, 50]), label="cap")
    horizon = data.draw(st.integers(1, 3), label="horizon")
    cap_year = data.draw(st.integers(0, 3), label="cap year")     # the cap binds from 31 Dec of that year
    budget = data.draw(st.sampled_from([20_000.0, 40_000.0, 80_000.0]), label="budget")
    start = 2027
    pack = tmp_path_factory.mktemp("caps") / "cap-test.yaml"
    pack.write_text(CAP_PACK.format(pct=pct, measure=measure, deadline=f"{start + cap_year - 1}-12-31"))
    cells = [{"vendor": v, "cost": c, "subscribers": w} for v, c, w in zip(vendors, costs, subs)]
    net = net_with(cells)
    rules = rules_of([load_policy(str(pack))])
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=start, horizon=horizon, budget=budget,
                         costs=_no_visit(), objective="cost", gap=0.0, cap_rules=rules)
    # brute force over the Huawei sites: each replaced in some year or never
    hw = [i for i, v in enumerate(vendors) if v == "huawei"]
    best = None
    disc = 1 / 1.05 ** np.arange(horizon)
    total_cost = sum(costs[i] for i in hw)
    total_exp = sum(2.0 for _ in hw) * horizon
    y_cap = cap_year - 1 if cap_year >= 1 else 0          # work up to this 0-based year counts
    if not hw:
        assert r.summary["status"] == "nothing to replace"
        return
    for assign in itertools.product(range(-1, horizon), repeat=len(hw)):
        a = np.asarray(assign, dtype=np.int64)
        if any(np.bincount(a[a >= 0], weights=np.asarray([costs[i] for i in hw])[a >= 0],
                           minlength=horizon) > budget + 1e-9):
            continue
        if y_cap < horizon:
            left = np.ones(n, dtype=bool)
            left[[hw[k] for k in range(len(hw)) if 0 <= a[k] <= y_cap]] = False
            if _cap_share(vendors, subs, left, measure) * 100 > pct + 1e-9:
                continue
        done = a >= 0
        obj = sum(costs[hw[k]] * disc[a[k]] for k in range(len(hw)) if done[k]) / max(total_cost, 1) \
            - 1e-6 * sum(2.0 * (horizon - a[k]) for k in range(len(hw)) if done[k]) / max(total_exp, 1)
        if best is None or obj < best - 1e-12:
            best = obj
    if best is None:
        assert r.summary["status"] == "infeasible"
        return
    assert r.summary["status"] == "Optimal", r.summary
    got = _objective_of(r.tables["schedule"], start_year=start, horizon=horizon, objective="cost",
                        funding_share=0.0)
    assert got == pytest.approx(best, abs=1e-9)
    caps = r.tables["caps"]
    assert caps["meets_cap"].all()
    # and by hand: the sites the plan replaced by the cap's year bring the share under the cap
    if y_cap < horizon:
        sched = r.tables["schedule"].set_index("unit_id")["year"]
        left = np.ones(n, dtype=bool)
        for i in hw:
            y = sched.get(f"ran:c{i}", np.nan)
            if np.isfinite(y) and y - start <= y_cap:
                left[i] = False
        assert _cap_share(vendors, subs, left, measure) * 100 <= pct + 1e-9


def test_uk_tsa_plan_meets_the_access_cap_and_ends_without_violations():
    from cleanpath.analysis.audit import audit_network
    from cleanpath.build.generate import generate_network
    from cleanpath.model.vendors import default_untrusted
    from cleanpath.plan.apply import apply_schedule
    from cleanpath.plan.planner import run_plan

    net = generate_network(country="GB", scale=0.02, seed=3)
    # the cheapest plan does only what the rules demand: the cap must be among them
    r = run_plan(net, policies="uk-tsa", start_year=2024, horizon=5, budget=1e12, objective="cost")
    assert r.summary["status"] == "Optimal"
    caps = r.tables["caps"]
    assert len(caps) and (caps["share_before"] > 35).any() and caps["meets_cap"].all()
    assert r.summary["violations_at_end"] == 0
    # the audit of the after-network agrees, on its own
    untrusted = default_untrusted(net.catalogue)
    units = replacement_units(net, untrusted=untrusted, deadlines=None)
    after = apply_schedule(net, r.tables["schedule"], _units_of(r, net, untrusted), through_year=2028,
                           untrusted=untrusted)
    audit = audit_network(after, policies="uk-tsa", as_of="2028-12-31")
    assert audit.summary["violations"] == 0
    assert len(units)  # there was something to do


def _units_of(result, net, untrusted):
    """The plan's units with their element ids (the schedule table drops them)."""
    from cleanpath.analysis.audit import element_deadlines
    from cleanpath.plan.caps import funding_deadlines
    from cleanpath.policy.loader import load_policies, rules_of

    pol = result.params["policies"]
    d = element_deadlines(net, policies=pol)
    f = funding_deadlines(net, rules_of(load_policies(pol, catalogue=net.catalogue)))
    if len(f):
        d = pd.concat([d[["element_id", "deadline"]], f], ignore_index=True)
    return replacement_units(net, untrusted=untrusted, deadlines=d)


def test_de_2024_plan_ends_without_violations():
    from cleanpath.analysis.audit import audit_network
    from cleanpath.build.generate import generate_network
    from cleanpath.model.vendors import default_untrusted
    from cleanpath.plan.apply import apply_schedule
    from cleanpath.plan.planner import run_plan

    net = generate_network(country="DE", scale=0.01, seed=5)
    r = run_plan(net, policies="de-2024", start_year=2026, horizon=5, budget=1e12, objective="cost")
    assert r.summary["status"] == "Optimal" and r.summary["violations_at_end"] == 0
    untrusted = default_untrusted(net.catalogue)
    after = apply_schedule(net, r.tables["schedule"], _units_of(r, net, untrusted), through_year=2030,
                           untrusted=untrusted)
    assert audit_network(after, policies="de-2024", as_of="2030-12-31").summary["violations"] == 0


def test_rules_the_plan_cannot_encode_are_listed():
    from cleanpath.plan.planner import run_plan

    net = net_with([{"vendor": "huawei", "cost": 10_000.0}, {"vendor": "ericsson", "cost": 10_000.0}])
    r = run_plan(net, policies="us-clean-path,eu-toolbox", start_year=2027, horizon=2, budget=1e9)
    un = r.tables["unencoded_rules"]
    assert set(un.columns) == {"pack", "rule_id", "kind", "severity", "reason"}
    cp = un[(un["kind"] == "clean_path") & (un["severity"] == "violation")]
    assert len(cp) and cp["reason"].str.contains("clean-path").all()
    advice = un[un["severity"] != "violation"]
    assert advice["reason"].str.contains("not a legal duty").all()
    assert r.summary["unencoded_rules"] == len(un)


def test_a_cap_on_equipment_the_plan_may_not_touch_is_infeasible_and_says_why(tmp_path):
    from cleanpath.policy.loader import load_policy, rules_of

    pack = tmp_path / "cap-test.yaml"
    pack.write_text(CAP_PACK.format(pct=10, measure="sites", deadline="2027-12-31"))
    # the cap is on Huawei, but the plan may only replace ZTE: nothing can lower the share
    net = net_with([{"vendor": "huawei", "cost": 1.0}, {"vendor": "zte", "cost": 1.0}])
    r = plan_replacement(net, untrusted={"zte"}, start_year=2027, horizon=2, budget=1e9,
                         cap_rules=rules_of([load_policy(str(pack))]))
    assert r.summary["status"] == "infeasible"
    assert "cap cap-test/ran-cap op" in r.summary["unreachable_cap"]


def test_a_site_split_over_units_counts_as_not_removable(tmp_path):
    """A site whose flagged equipment is in two units leaves a sites-measured cap only when both go;
    the plan treats it as staying (stricter than the rule) and says how many such sites there are."""
    from cleanpath.plan.caps import cap_requirements
    from cleanpath.policy.loader import load_policy, rules_of

    pack = tmp_path / "cap-test.yaml"
    pack.write_text(CAP_PACK.format(pct=10, measure="sites", deadline="2027-12-31").replace(
        "{domain: [ran]}", "{domain: [ran, transport]}"))
    net = net_with([{"vendor": "huawei", "cost": 1.0}, {"vendor": "ericsson", "cost": 1.0}])
    tables = net.tables()
    tables["elements"] = pd.concat([tables["elements"], pd.DataFrame([
        {"element_id": "c0-rt", "site_id": "c0", "role": "transport.router", "vendor": "huawei", "unit_cost": 5.0}])],
        ignore_index=True)
    net = cleanpath.Network(tables)
    units = replacement_units(net, untrusted=UNTRUSTED)
    req, _ = cap_requirements(net, rules_of([load_policy(str(pack))]), units, start_year=2027, horizon=3)
    assert int(req.table["sites_not_removable"].sum()) == 1
    assert req.contrib.sum() == 0


def test_plan_json_on_stdout_parses_in_a_subprocess(tmp_path):
    """stdout carries the result only: HiGHS's banner and log must not reach it."""
    import json
    import subprocess
    import sys

    net = net_with([{"vendor": "huawei", "cost": 10_000.0}, {"vendor": "ericsson", "cost": 10_000.0}])
    with cleanpath.open_workspace(tmp_path / "ws.duckdb") as ws:
        ws.write_network("main", net)
    code = "import sys; from cleanpath.cli.main import cli; sys.exit(cli())"
    out = subprocess.run([sys.executable, "-c", code, "-w", str(tmp_path / "ws.duckdb"), "plan", "--policy",
                          "de-2024", "--start", "2027", "--horizon", "2", "--budget", "1m", "--format", "json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["question"] == "plan" and "HiGHS" not in out.stdout


def test_explain_names_a_binding_cap(tmp_path):
    from cleanpath.policy.loader import load_policy, rules_of

    pack = tmp_path / "cap-test.yaml"
    pack.write_text(CAP_PACK.format(pct=50, measure="sites", deadline="2027-12-31"))
    net = net_with([{"vendor": "huawei", "cost": 10_000.0} for _ in range(4)])
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=2027, horizon=2, budget=1e9, costs=_no_visit(),
                         objective="cost", explain=True, cap_rules=rules_of([load_policy(str(pack))]))
    # 4 Huawei sites of 4: at most 50 % by the end of 2027, so exactly 2 replaced in 2027 and no more
    assert r.tables["years"]["units"].tolist() == [2, 0]
    assert any(c.startswith("cap cap-test/ran-cap op by 2027") for c in r.summary["binding_constraints"])
    assert r.tables["caps"]["share_after_plan"].tolist() == [50.0]


def test_violations_left_at_the_end_come_only_from_unencoded_rules():
    """With clean-path rules (which a schedule over units cannot encode) some violations may stay;
    the plan lists those rules and counts their violations apart: the rest is zero."""
    from cleanpath.demo import build_example
    from cleanpath.plan.planner import run_plan

    net = build_example(scale=0.01, seed=7)
    r = run_plan(net, policies="de-2024,eu-toolbox,us-clean-path", start_year=2027, horizon=4, budget=1e12,
                 objective="cost")
    assert r.summary["status"] == "Optimal"
    un = r.tables["unencoded_rules"]
    assert (un["kind"] == "clean_path").any()
    assert r.summary["violations_at_end"] == r.summary["violations_at_end_from_unencoded_rules"]
    curve = r.tables["compliance"]
    assert (curve["violations_from_unencoded_rules"] <= curve["violations"]).all()


def test_nothing_to_replace_still_reports_caps_and_unencoded_rules(tmp_path):
    from cleanpath.plan.planner import run_plan

    net = net_with([{"vendor": "ericsson", "cost": 1.0}, {"vendor": "nokia", "cost": 1.0}])
    r = run_plan(net, policies="de-2024,us-clean-path", start_year=2027, horizon=2, budget=1e6)
    assert r.summary["status"] == "nothing to replace"
    assert "unencoded_rules" in r.tables and r.summary["unencoded_rules"] == len(r.tables["unencoded_rules"])
    pack = tmp_path / "cap-test.yaml"
    pack.write_text(CAP_PACK.format(pct=10, measure="sites", deadline="2027-12-31").replace("[huawei]", "[ericsson]"))
    r = run_plan(net, policies=str(pack), start_year=2027, horizon=2, budget=1e6, untrusted=["huawei"])
    assert r.summary["status"] == "infeasible" and "unreachable_cap" in r.summary


def test_verbose_solver_log_goes_to_stderr_only():
    """HiGHS's banner and log never reach stdout; with verbose they go to stderr."""
    import subprocess
    import sys

    code = """
import cleanpath, pandas as pd
from cleanpath.plan.planner import run_plan
net = cleanpath.Network({
    "operators": pd.DataFrame([{"operator_id": "op", "name": "Op", "country": "DE"}]),
    "sites": pd.DataFrame([{"site_id": "c0", "operator_id": "op", "kind": "cell", "lat": 50.0, "lon": 8.0}]),
    "elements": pd.DataFrame([{"element_id": "bb", "site_id": "c0", "role": "ran.baseband", "vendor": "huawei",
                               "generation": "4G", "unit_cost": 1000.0}])})
r = run_plan(net, policies="de-2024", start_year=2027, horizon=2, budget=1e6, verbose=%s)
print("RESULT", r.summary["status"])
"""
    for verbose in (False, True):
        out = subprocess.run([sys.executable, "-c", code % verbose], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip().splitlines() == ["RESULT Optimal"]
        assert ("HiGHS" in out.stderr) == verbose


def test_a_cap_holds_in_every_later_year_too(tmp_path):
    """Equipment installed after the cap binds (dated in the future) counts from its date: the
    share must hold at the end of each plan year, not only the first."""
    from cleanpath.policy.loader import load_policy, rules_of

    pack = tmp_path / "cap-test.yaml"
    pack.write_text(CAP_PACK.format(pct=50, measure="sites", deadline="2026-12-31"))
    net = net_with([{"vendor": "huawei", "cost": 10_000.0}, {"vendor": "huawei", "cost": 10_000.0},
                    {"vendor": "huawei", "cost": 10_000.0}, {"vendor": "ericsson", "cost": 10_000.0}])
    t = net.tables()
    el = t["elements"].copy()
    future = el["site_id"].isin(["c1", "c2"]).to_numpy()
    el["installed_on"] = pd.to_datetime(el["installed_on"].astype(object)).dt.date.astype(object)
    el.loc[future, "installed_on"] = pd.Timestamp("2028-03-01").date()
    el.loc[~future & el["installed_on"].isna().to_numpy(), "installed_on"] = pd.Timestamp("2019-01-01").date()
    t["elements"] = el
    net = cleanpath.Network(t)
    r = plan_replacement(net, untrusted=UNTRUSTED, start_year=2027, horizon=3, budget=1e9, costs=_no_visit(),
                         objective="cost", cap_rules=rules_of([load_policy(str(pack))]))
    caps = r.tables["caps"]
    # 2027: c0 Huawei of c0, c3 present: 50 %, fine; 2028: c0, c1, c2 Huawei of four: one must go
    assert caps["holds_from_year"].tolist() == [2027, 2028]
    assert caps["must_remove"].tolist() == [0.0, 1.0] and caps["meets_cap"].all()
    assert r.tables["years"]["units"].sum() == 1


def test_funding_rules_become_deadlines():
    """us-fcc/usf-support (a funding rule, violation) is a breach from 2020-01-03: the plan replaces
    USF-funded ZTE gear installed since then first, and the end of the plan has no violation."""
    from cleanpath.plan.planner import run_plan

    net = cleanpath.Network({
        "operators": pd.DataFrame([{"operator_id": "us", "name": "US Op", "country": "US"}]),
        "sites": pd.DataFrame([{"site_id": f"s{i}", "operator_id": "us", "kind": "cell", "lat": 40.0 + i / 10,
                                "lon": -100.0} for i in range(3)]),
        "elements": pd.DataFrame([
            {"element_id": "funded", "site_id": "s0", "role": "ran.baseband", "vendor": "zte", "generation": "4G",
             "installed_on": "2021-05-01", "funded_by": "USF", "unit_cost": 1000.0},
            {"element_id": "old", "site_id": "s1", "role": "ran.baseband", "vendor": "zte", "generation": "4G",
             "installed_on": "2018-05-01", "funded_by": "USF", "unit_cost": 1000.0},
            {"element_id": "clean", "site_id": "s2", "role": "ran.baseband", "vendor": "nokia", "generation": "4G",
             "installed_on": "2021-05-01", "funded_by": "USF", "unit_cost": 1000.0}])})
    r = run_plan(net, policies="us-fcc", start_year=2027, horizon=2, budget=1e9, objective="cost",
                 untrusted=["huawei", "zte"])
    sched = r.tables["schedule"].set_index("unit_id")
    assert sched.loc["ran:s0", "year"] == 2027                 # due before the plan starts: first year
    assert str(sched.loc["ran:s0", "deadline"]) == "2020-01-02"
    assert pd.isna(sched.loc["ran:s1", "deadline"])            # installed before the rule: no duty
    assert r.summary["violations_at_end"] == 0
