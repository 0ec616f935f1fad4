"""Rip-and-replace planning: which replacement units to swap in which year, at least cost and risk.

Units follow the field's coupling rules:

- a cell site's untrusted RAN is one unit (5G-NSA radios go with their 4G anchor, which is on the
  same site);
- a core data centre's untrusted core functions are one unit;
- an untrusted management system (EMS/OSS) is one unit that also pays to re-home every element it
  manages;
- the remaining untrusted equipment of a site (transport, security, gateways) is one unit.

Identical units (same kind, region, deadline year, risk and cost bucket) are aggregated into a
class with an integer count, so a national network of tens of thousands of sites becomes a model
of a few thousand integer variables. The mixed-integer programme (HiGHS) chooses how many units of
each class to replace each year so that every deadline is met, yearly budgets (net of funding) and
crews per region per year hold, and discounted cost plus weighted exposure-years is minimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from cleanpath.errors import ValidationError
from cleanpath.model.network import Network
from cleanpath.plan.costs import CostModel, load_costs
from cleanpath.plan.milp import INF, Model, solve
from cleanpath.result import Result

OBJECTIVES = ("cost", "risk", "balanced")
#: Criticality of a unit kind, per element (exposure weight): a core function or a management
#: system reaches far more users than a radio.
CRITICALITY = {"ran": 1.0, "transport": 2.0, "core": 20.0, "mgmt": 10.0}
#: Crew-jobs a unit takes (a site visit is one; a core DC swap ties up several crews).
CREW_JOBS = {"ran": 1, "transport": 1, "core": 6, "mgmt": 3}
#: Cost of re-homing one managed element to a new management system.
REHOME_COST = 500.0
#: Exposure weight multiplier for units within a sensitive site's radius.
NEAR_SENSITIVE = 3.0


@dataclass(frozen=True)
class PlanSettings:
    """What the user asked for."""

    start_year: int
    horizon: int
    budget: tuple[float, ...]
    crews: float | None = None
    funding_share: float = 0.0
    objective: str = "balanced"
    discount_rate: float = 0.05
    gap: float = 0.01
    time_limit: float = 60.0
    presolve: str = "on"


def _year_of_deadline(deadline: pd.Series, start_year: int) -> np.ndarray:
    """Last plan year (0-based) in which a unit may be replaced to meet its deadline.

    Work is counted as done at the end of its year, so a deadline before 31 December of year Y
    needs the work done in Y - 1. Deadlines already passed give 0 (do it first; reported overdue).
    NaN where there is no deadline.
    """
    d = pd.to_datetime(deadline, errors="coerce")
    year = d.dt.year.to_numpy(dtype=float)
    end_of_year = (d.dt.month == 12).to_numpy() & (d.dt.day == 31).to_numpy()
    last = np.where(end_of_year, year, year - 1) - start_year
    return np.where(np.isfinite(year), np.maximum(last, 0), np.nan)


def replacement_units(net: Network, *, untrusted: set[str], deadlines: pd.DataFrame | None = None,
                      costs: CostModel | None = None, funded_vendors: Sequence[str] = (),
                      funded_installed_by=None) -> pd.DataFrame:
    """Group the untrusted elements into replacement units.

    Parameters
    ----------
    net
        The network.
    untrusted
        Vendor ids whose equipment is to be replaced.
    deadlines
        ``element_id, deadline`` (a date): the date by which each element must be gone. Elements
        with a deadline are replaced whatever their vendor.
    costs
        The cost model (default: shipped defaults).
    funded_vendors
        Vendors whose removal a funding programme reimburses.
    funded_installed_by
        Only elements installed on or before this date are reimbursed (unknown dates count).

    Returns
    -------
    DataFrame
        One row per unit: unit_id, kind, site_id, operator_id, region, elements, element_ids,
        cost, deadline, weight, funded_cost, crew_jobs.
    """
    costs = costs or load_costs()
    el = net.elements
    bad = el["vendor"].isin(list(untrusted)).to_numpy(dtype=bool, na_value=False)
    if deadlines is not None and len(deadlines):
        bad = bad | el["element_id"].isin(deadlines["element_id"]).to_numpy(dtype=bool, na_value=False)
    if not bad.any():
        return pd.DataFrame(columns=["unit_id", "kind", "site_id", "operator_id", "region", "elements",
                                     "element_ids", "cost", "deadline", "weight", "funded_cost", "crew_jobs"])
    e = el.loc[bad, ["element_id", "site_id", "role", "vendor", "generation", "unit_cost",
                     "installed_on"]].copy()
    e["cost"] = costs.element_costs(e)
    domain = e["role"].str.replace(r"\..*$", "", regex=True).astype(object)
    kind = np.where(domain.isin(["ran", "core", "mgmt"]), domain, "transport")
    e["kind"] = kind
    e["unit_id"] = np.where(kind == "mgmt", "mgmt:" + e["element_id"].astype(object),
                            kind + ":" + e["site_id"].astype(object))
    # A management system's unit also pays for re-homing everything it manages.
    mgmt_links = net.links[net.links["kind"] == "management"]
    managed = mgmt_links.groupby("b").size()
    e["cost"] += np.where(kind == "mgmt", e["element_id"].map(managed).fillna(0).to_numpy(dtype=float)
                          * REHOME_COST, 0.0)
    if deadlines is not None and len(deadlines):
        dl = deadlines.groupby("element_id")["deadline"].min()
        e["deadline"] = pd.to_datetime(e["element_id"].map(dl), errors="coerce")
    else:
        e["deadline"] = pd.NaT
    e["funded"] = e["vendor"].isin(list(funded_vendors)).to_numpy(dtype=bool, na_value=False)
    if funded_installed_by is not None:
        inst = pd.to_datetime(e["installed_on"].astype(object), errors="coerce")
        e["funded"] &= ~(inst > pd.Timestamp(funded_installed_by)).to_numpy()
    e["funded_cost"] = np.where(e["funded"], e["cost"], 0.0)
    sites = net.sites.set_index("site_id")
    g = e.groupby("unit_id", sort=True)
    units = pd.DataFrame({
        "kind": g["kind"].first(),
        "site_id": g["site_id"].first(),
        "elements": g.size(),
        "element_ids": g["element_id"].agg(lambda s: s.astype(str).tolist()),
        "cost": g["cost"].sum() + costs.site_visit,
        "deadline": g["deadline"].min(),
        "funded_cost": g["funded_cost"].sum(),
    }).reset_index()
    units["operator_id"] = units["site_id"].map(sites["operator_id"]).astype(object)
    region = units["site_id"].map(sites["region"]).astype(object)
    units["region"] = region.where(region.notna(), units["operator_id"])
    weight = units["elements"].to_numpy(dtype=float) * units["kind"].map(CRITICALITY).to_numpy(dtype=float)
    near = _near_sensitive(net, units["site_id"])
    units["weight"] = weight * np.where(near, NEAR_SENSITIVE, 1.0)
    units["near_sensitive"] = near
    units["crew_jobs"] = units["kind"].map(CREW_JOBS).astype(int)
    return units


def _near_sensitive(net: Network, site_ids: pd.Series) -> np.ndarray:
    """Whether each site lies within the radius of some sensitive site (haversine)."""
    ss = net.sensitive_sites
    out = np.zeros(len(site_ids), dtype=bool)
    if len(ss) == 0 or len(site_ids) == 0:
        return out
    sites = net.sites.set_index("site_id")
    lat = np.radians(site_ids.map(sites["lat"]).to_numpy(dtype=float, na_value=np.nan))
    lon = np.radians(site_ids.map(sites["lon"]).to_numpy(dtype=float, na_value=np.nan))
    slat = np.radians(ss["lat"].to_numpy(dtype=float))
    slon = np.radians(ss["lon"].to_numpy(dtype=float))
    rad = ss["radius_m"].to_numpy(dtype=float, na_value=5000.0)
    for a in range(0, len(slat), 256):  # chunks of sensitive sites keep memory flat
        dlat = lat[:, None] - slat[None, a:a + 256]
        dlon = lon[:, None] - slon[None, a:a + 256]
        h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(slat[None, a:a + 256]) * np.sin(dlon / 2) ** 2
        d = 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))
        out |= (d <= rad[None, a:a + 256]).any(axis=1)
    return out


def unit_classes(units: pd.DataFrame, settings: PlanSettings) -> tuple[pd.DataFrame, np.ndarray]:
    """Aggregate identical units into classes.

    Units share a class when kind, region, deadline year, near-sensitive flag, element count and
    cost (rounded up to 2 significant digits) agree. A class's cost per unit is the largest in the
    class, so the budget the model sees is never below what the schedule really costs.

    Returns
    -------
    classes, class_of_unit
    """
    dl_year = _year_of_deadline(units["deadline"], settings.start_year)
    cost = units["cost"].to_numpy(dtype=float)
    mag = np.where(cost > 0, 10 ** (np.floor(np.log10(np.maximum(cost, 1))) - 1), 1)
    cost_bucket = np.ceil(cost / mag) * mag
    key = pd.DataFrame({
        "kind": units["kind"].to_numpy(), "region": units["region"].astype(str).to_numpy(),
        "dl": np.nan_to_num(dl_year, nan=-1).astype(int), "near": units["near_sensitive"].to_numpy(),
        "n": units["elements"].to_numpy(), "cb": cost_bucket,
    })
    codes, uniq = pd.factorize(pd.MultiIndex.from_frame(key))
    share = np.where(cost > 0, units["funded_cost"].to_numpy(dtype=float) / np.where(cost > 0, cost, 1), 0.0)
    cls = pd.DataFrame({
        "class": np.arange(len(uniq)),
        "kind": [u[0] for u in uniq], "region": [u[1] for u in uniq],
        "deadline_year": [u[2] if u[2] >= 0 else None for u in uniq],
        "near_sensitive": [u[3] for u in uniq],
        "count": np.bincount(codes, minlength=len(uniq)),
        "unit_cost": pd.Series(cost).groupby(codes).max().to_numpy(),
        "funded_share": pd.Series(share).groupby(codes).min().to_numpy(),
        "weight": pd.Series(units["weight"].to_numpy(dtype=float)).groupby(codes).mean().to_numpy(),
        "crew_jobs": pd.Series(units["crew_jobs"].to_numpy()).groupby(codes).max().to_numpy(),
    })
    return cls, codes


@dataclass
class _Built:
    model: Model
    x: np.ndarray            # (classes, years) column indices
    budget_rows: np.ndarray
    crew_rows: dict[str, np.ndarray]
    deadline_rows: np.ndarray
    deadline_class: np.ndarray
    extra_money: np.ndarray | None = None


def _build(cls: pd.DataFrame, s: PlanSettings, *, elastic_budget: bool = False,
           deadline_shift: int = 0) -> _Built:
    C, H = len(cls), s.horizon
    m = Model()
    years = np.arange(H)
    disc = 1.0 / (1.0 + s.discount_rate) ** years
    net_cost = cls["unit_cost"].to_numpy() * (1.0 - s.funding_share * cls["funded_share"].to_numpy())
    weight = cls["weight"].to_numpy()
    # Exposure-years avoided by replacing one unit in year y: it no longer counts for H - y years.
    exposure_saved = weight[:, None] * (H - years)[None, :]
    cost_term = net_cost[:, None] * disc[None, :]
    total_cost = max(float((cls["unit_cost"] * cls["count"]).sum()), 1.0)
    total_exposure = max(float((weight * cls["count"]).sum() * H), 1.0)
    if s.objective == "cost":
        obj = cost_term / total_cost - 1e-6 * exposure_saved / total_exposure
    elif s.objective == "risk":
        obj = 1e-6 * cost_term / total_cost - exposure_saved / total_exposure
    else:
        obj = cost_term / total_cost - exposure_saved / total_exposure
    if elastic_budget:  # diagnosis: the least extra money that meets every deadline, nothing else
        obj = np.zeros_like(obj)
    count = cls["count"].to_numpy(dtype=float)
    x = m.add_columns(obj.ravel(), 0.0, np.repeat(count, H), integer=True).reshape(C, H)
    # each unit is replaced at most once
    m.add_rows(np.repeat(np.arange(C), H), x.ravel(), np.ones(C * H), np.zeros(C), count,
               [f"units of class {c}" for c in range(C)])
    # deadlines: every unit of a class with a deadline inside the horizon is done by then
    dl = cls["deadline_year"].to_numpy(dtype=float) + deadline_shift
    has = np.isfinite(dl) & (dl < H)
    d_cls = np.flatnonzero(has)
    rows, cols = [], []
    for k, c in enumerate(d_cls):
        ys = np.arange(int(dl[c]) + 1)
        rows.append(np.full(len(ys), k))
        cols.append(x[c, ys])
    deadline_rows = m.add_rows(np.concatenate(rows) if rows else [], np.concatenate(cols) if cols else [],
                               np.ones(sum(len(r) for r in rows)), count[d_cls], count[d_cls],
                               [f"deadline of class {c}" for c in d_cls])
    # yearly budget, net of funding
    extra = None
    if elastic_budget:
        extra = m.add_columns(np.ones(H), 0.0, INF, integer=False)
    b_rows = np.repeat(years, C)
    b_cols = x.T.ravel()
    b_vals = np.tile(net_cost, H)
    if extra is not None:
        b_rows = np.concatenate([b_rows, years])
        b_cols = np.concatenate([b_cols, extra])
        b_vals = np.concatenate([b_vals, -np.ones(H)])
    budget_rows = m.add_rows(b_rows, b_cols, b_vals, np.full(H, -INF), np.asarray(s.budget, dtype=float),
                             [f"budget {s.start_year + y}" for y in years])
    crew_rows: dict[str, np.ndarray] = {}
    if s.crews is not None:
        jobs = cls["crew_jobs"].to_numpy(dtype=float)
        for region, idx in cls.groupby("region").indices.items():
            r = np.repeat(years, len(idx))
            c = x[idx].T.ravel()
            v = np.tile(jobs[idx], H)
            crew_rows[region] = m.add_rows(r, c, v, np.full(H, -INF), np.full(H, float(s.crews)),
                                           [f"crews {region} {s.start_year + y}" for y in years])
    return _Built(m, x, budget_rows, crew_rows, deadline_rows, d_cls, extra)


def _diagnose(cls: pd.DataFrame, s: PlanSettings) -> dict:
    """Why a plan is infeasible: the colliding deadline, the least extra money, the least extra time."""
    out: dict = {}
    dl = cls["deadline_year"].to_numpy(dtype=float)
    net_cost = cls["unit_cost"].to_numpy() * (1.0 - s.funding_share * cls["funded_share"].to_numpy())
    need = net_cost * cls["count"].to_numpy()
    cum_budget = np.cumsum(s.budget)
    for y in range(s.horizon):
        due = float(need[np.isfinite(dl) & (dl <= y)].sum())
        if due > cum_budget[y] + 1e-6:
            out["colliding_deadline"] = (f"units due by the end of {s.start_year + y} cost {due:,.0f} net of funding, "
                                         f"but the budget up to then is {cum_budget[y]:,.0f}")
            break
    elastic = solve(_build(cls, s, elastic_budget=True).model, gap=s.gap, time_limit=s.time_limit,
                    presolve=s.presolve)
    if elastic.feasible:
        b = _build(cls, s, elastic_budget=True)
        extra = elastic.values[b.extra_money]
        out["extra_money_total"] = float(np.round(extra.sum(), 2))
        out["extra_money_by_year"] = {str(s.start_year + y): float(round(v, 2)) for y, v in enumerate(extra) if v > 0.5}
    else:
        out["extra_money_total"] = None
        out["note"] = "more money alone does not help: the crews per region and year are the binding limit"
    for k in range(1, 11):
        s2 = PlanSettings(**{**s.__dict__, "horizon": s.horizon + k,
                             "budget": tuple(s.budget) + (s.budget[-1],) * k})
        trial = solve(_build(cls, s2, deadline_shift=k).model, gap=max(s.gap, 0.05),
                      time_limit=min(s.time_limit, 20), presolve=s.presolve)
        if trial.feasible:
            out["extra_years_needed"] = k
            break
    return out


def plan_replacement(net: Network, *, untrusted: set[str], start_year: int, horizon: int,
                     budget: float | Sequence[float], deadlines: pd.DataFrame | None = None,
                     crews: float | None = None, funding_share: float = 0.0,
                     funded_vendors: Sequence[str] = (), funded_installed_by=None,
                     objective: str = "balanced",
                     discount_rate: float = 0.05, costs: CostModel | None = None, gap: float = 0.01,
                     time_limit: float = 60.0, presolve: str = "on", explain: bool = False) -> Result:
    """A cost-optimal, deadline-meeting replacement schedule.

    Parameters
    ----------
    net
        The network.
    untrusted
        Vendor ids to remove.
    start_year, horizon
        First plan year and number of years.
    budget
        Money per year (one number for every year, or one per year), net of funding.
    deadlines
        ``element_id, deadline``: from the audit of the chosen policy packs.
    crews
        Crew-jobs per region per year (a cell-site unit takes one, a core DC six).
    funding_share
        Share of the cost of funded units a programme reimburses (e.g. 0.395 for the FCC in 2022).
    funded_vendors, funded_installed_by
        Vendors whose removal the programme funds, and the latest installation date it funds.
    objective
        ``cost`` (cheapest way to meet the deadlines), ``risk`` (fastest exposure reduction the money
        allows) or ``balanced`` (both, normalised).
    discount_rate
        Yearly discount rate applied to costs.
    gap, time_limit, presolve
        Solver settings.
    explain
        Add the binding constraints (and, from the LP relaxation, their shadow prices).

    Returns
    -------
    Result
        Tables ``schedule`` (one row per unit), ``years`` (cost, funding, units, residual exposure,
        elements past their deadline), ``binding``; the summary has totals, solver status and gap,
        and for an infeasible request the colliding deadline and the least extra money or time.
    """
    if objective not in OBJECTIVES:
        raise ValidationError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    if horizon < 1 or horizon > 50:
        raise ValidationError(f"horizon must be 1-50 years, got {horizon}")
    budgets = (float(budget),) * horizon if np.isscalar(budget) else tuple(float(b) for b in budget)
    if len(budgets) != horizon:
        raise ValidationError(f"{len(budgets)} yearly budgets given for a {horizon}-year horizon")
    if any(b < 0 for b in budgets):
        raise ValidationError("budgets must be non-negative")
    s = PlanSettings(start_year, horizon, budgets, crews, funding_share, objective, discount_rate, gap,
                     time_limit, presolve)
    units = replacement_units(net, untrusted=untrusted, deadlines=deadlines, costs=costs,
                              funded_vendors=funded_vendors, funded_installed_by=funded_installed_by)
    params = {"untrusted": sorted(untrusted), "start_year": start_year, "horizon": horizon,
              "budget": list(budgets), "crews": crews, "funding_share": funding_share,
              "objective": objective, "discount_rate": discount_rate}
    if units.empty:
        return Result("plan", net.name, params, {"status": "nothing to replace", "units": 0},
                      {"schedule": units, "years": pd.DataFrame(), "binding": pd.DataFrame()})
    cls, class_of_unit = unit_classes(units, s)
    built = _build(cls, s)
    sol = solve(built.model, gap=gap, time_limit=time_limit, presolve=presolve)
    summary = {"status": sol.status, "units": int(len(units)), "classes": int(len(cls)),
               "variables": int(built.model.n_cols), "solve_seconds": round(sol.seconds, 3),
               "gap": round(sol.gap, 5)}
    if not sol.feasible:
        summary["status"] = "infeasible" if "nfeasible" in sol.status else sol.status
        summary.update(_diagnose(cls, s))
        return Result("plan", net.name, params, summary,
                      {"schedule": units.assign(year=None), "years": pd.DataFrame(), "binding": pd.DataFrame()})
    counts = np.rint(sol.values[built.x]).astype(int)  # (classes, years)
    # Concrete units: within a class, the riskiest first, then the cheapest.
    order = np.lexsort((units["cost"].to_numpy(), -units["weight"].to_numpy(), class_of_unit))
    year = np.full(len(units), -1)
    pos_in_class = np.empty(len(units), dtype=int)
    sorted_cls = class_of_unit[order]
    first = np.searchsorted(sorted_cls, sorted_cls)
    pos_in_class[order] = np.arange(len(order)) - first
    cum = np.cumsum(counts, axis=1)
    for y in range(horizon - 1, -1, -1):
        year = np.where(pos_in_class < cum[class_of_unit, y], y, year)
    schedule = units.copy()
    schedule["year"] = np.where(year >= 0, year + start_year, np.nan)
    schedule["deadline"] = schedule["deadline"].dt.date
    years_tbl = _years_table(schedule, s, units)
    summary.update({
        "total_cost": float(schedule.loc[year >= 0, "cost"].sum()),
        "funding_drawn": float((schedule.loc[year >= 0, "funded_cost"] * funding_share).sum()),
        "units_replaced": int((year >= 0).sum()),
        "units_left": int((year < 0).sum()),
        "residual_exposure": float(schedule.loc[year < 0, "weight"].sum()),
        "overdue_at_start": int((_year_of_deadline(units["deadline"], start_year) == 0).sum()
                                if units["deadline"].notna().any() else 0),
    })
    binding = _binding(built, sol, s, cls) if explain else pd.DataFrame()
    if explain:
        summary["binding_constraints"] = binding["constraint"].tolist()[:20] if len(binding) else []
    return Result("plan", net.name, params, summary,
                  {"schedule": schedule.drop(columns=["element_ids"]).sort_values(["year", "unit_id"]),
                   "years": years_tbl, "binding": binding})


def _years_table(schedule: pd.DataFrame, s: PlanSettings, units: pd.DataFrame) -> pd.DataFrame:
    rows = []
    dl = pd.to_datetime(units["deadline"])
    for y in range(s.horizon):
        yr = s.start_year + y
        done_now = schedule["year"] == yr
        left = ~(schedule["year"] <= yr)
        end = pd.Timestamp(yr, 12, 31)
        late = left & (dl < end).to_numpy()
        rows.append({
            "year": yr,
            "units": int(done_now.sum()),
            "elements": int(schedule.loc[done_now, "elements"].sum()),
            "cost": float(schedule.loc[done_now, "cost"].sum()),
            "funding": float((schedule.loc[done_now, "funded_cost"] * s.funding_share).sum()),
            "net_cost": float((schedule.loc[done_now, "cost"]
                               - schedule.loc[done_now, "funded_cost"] * s.funding_share).sum()),
            "budget": s.budget[y],
            "untrusted_elements_left": int(schedule.loc[left, "elements"].sum()),
            "residual_exposure": float(schedule.loc[left, "weight"].sum()),
            "elements_past_deadline": int(schedule.loc[late, "elements"].sum()),
        })
    return pd.DataFrame(rows)


def _binding(built: _Built, sol, s: PlanSettings, cls: pd.DataFrame) -> pd.DataFrame:
    """Constraints at their limit in the solution, with LP shadow prices where available."""
    names = built.model.row_names
    hi = np.asarray(built.model.rows_hi)
    act = sol.row_activity
    rows = []
    lp = solve(built.model, lp_relaxation=True, time_limit=s.time_limit, presolve=s.presolve)
    duals = lp.row_duals if lp.row_duals is not None else np.zeros(len(names))
    # With whole units a limit binds when not even the smallest further unit would fit in its slack.
    cheapest = float(cls["unit_cost"].min()) * (1.0 - s.funding_share)
    fewest_jobs = float(cls["crew_jobs"].min())
    limits = [(r, cheapest) for r in built.budget_rows] + [
        (r, fewest_jobs) for rs in built.crew_rows.values() for r in rs]
    for r, unit in limits:
        slack = hi[r] - act[r]
        if slack < unit - 1e-9:
            rows.append({"constraint": names[r], "limit": float(hi[r]), "used": float(act[r]),
                         "slack": float(slack), "shadow_price": float(duals[r])})
    for k, r in enumerate(built.deadline_rows):
        c = built.deadline_class[k]
        dl = int(cls.loc[c, "deadline_year"])
        last = built.x[c, dl]
        if sol.values[last] > 0.5:  # work was still being done in the deadline's own year
            rows.append({"constraint": f"deadline {s.start_year + dl}: {int(cls.loc[c, 'count'])} "
                                       f"{cls.loc[c, 'kind']} unit(s) in {cls.loc[c, 'region']} (class {c})",
                         "limit": float(hi[r]), "used": float(act[r]), "slack": 0.0,
                         "shadow_price": float(duals[r])})
    df = pd.DataFrame(rows, columns=["constraint", "limit", "used", "slack", "shadow_price"])
    return df.sort_values("shadow_price", key=lambda v: -v.abs(), ignore_index=True) if len(df) else df


def compliance_curve(net: Network, schedule: pd.DataFrame, *, units: pd.DataFrame | None = None,
                     policies, start_year: int, horizon: int) -> pd.DataFrame:
    """Violations at the end of each plan year with the schedule applied, from the audit engine.

    Replaced elements are taken out of service from the end of their year, then the policy packs
    are audited as of 31 December.
    """
    from cleanpath.analysis.audit import audit_network

    done_year = schedule.set_index("unit_id")["year"]
    el_year = {}
    for uid, ids in zip(units["unit_id"], units["element_ids"]):
        y = done_year.get(uid)
        if y is not None and np.isfinite(y):
            for e in ids:
                el_year[e] = y
    year_of_el = net.elements["element_id"].map(el_year).to_numpy(dtype=float, na_value=np.nan)
    rows = []
    for y in range(start_year - 1, start_year + horizon):
        gone = year_of_el <= y
        tables = net.tables()
        el = tables["elements"].copy()
        el["in_service"] = pd.array(el["in_service"].fillna(True).to_numpy(dtype=bool) & ~gone,
                                    dtype=el["in_service"].dtype)
        tables["elements"] = el
        snap = Network(tables, name=net.name, validate=False)
        r = audit_network(snap, policies=policies, as_of=f"{y}-12-31")
        rows.append({"year": y, "as_of": f"{y}-12-31", "violations": r.summary.get("violations", 0),
                     "warnings": r.summary.get("warnings", 0), "elements_replaced": int(gone.sum())})
    return pd.DataFrame(rows)


def run_plan(net: Network, *, policies, start_year: int, horizon: int, budget, crews: float | None = None,
             programme: str | None = None, objective: str = "balanced", untrusted=None, costs=None,
             discount_rate: float = 0.05, gap: float = 0.01, time_limit: float = 60.0,
             presolve: str = "on", explain: bool = False, on_step=None) -> Result:
    """The ``plan`` question: deadlines from policy packs, optional funding, the schedule and its
    compliance curve (violations at the end of each year, from the audit engine).

    Parameters are those of :func:`plan_replacement`, plus ``policies`` (packs whose deadlines bind),
    ``programme`` (a funding programme id: its covered vendors' gear installed by its cut-off date is
    reimbursed at the programme's pro-rata factor as of 1 January of ``start_year``) and ``costs``
    (a cost YAML path).
    """
    import datetime as dt

    from cleanpath.analysis.audit import element_deadlines
    from cleanpath.model.vendors import default_untrusted

    step = on_step or (lambda _s: None)
    step("deadlines from the policy packs")
    deadlines = element_deadlines(net, policies=policies)
    vendors = set(untrusted) if untrusted else default_untrusted(net.catalogue)
    share, funded, cutoff = 0.0, (), None
    if programme:
        from cleanpath.plan.funding import load_programme, programme_factor

        prog = load_programme(programme)
        share = programme_factor(prog, as_of=dt.date(start_year, 1, 1))
        funded, cutoff = prog.covered_vendors, prog.obtained_on_or_before
    step("solving")
    cost_model = load_costs(costs) if costs else None
    result = plan_replacement(net, untrusted=vendors, start_year=start_year, horizon=horizon, budget=budget,
                              deadlines=deadlines, crews=crews, funding_share=share, funded_vendors=funded,
                              funded_installed_by=cutoff, objective=objective, discount_rate=discount_rate,
                              costs=cost_model, gap=gap, time_limit=time_limit, presolve=presolve,
                              explain=explain)
    result.params.update({"policies": policies, "programme": programme})
    result.summary["funding_share"] = share
    if result.tables["years"] is not None and len(result.tables["years"]):
        step("compliance curve")
        units = replacement_units(net, untrusted=vendors, deadlines=deadlines, costs=cost_model)
        curve = compliance_curve(net, result.tables["schedule"], units=units, policies=policies,
                                 start_year=start_year, horizon=horizon)
        result.tables["compliance"] = curve
        result.summary["violations_at_end"] = int(curve["violations"].iloc[-1])
    return result


__all__ = ["plan_replacement", "run_plan", "compliance_curve", "replacement_units", "unit_classes", "OBJECTIVES", "PlanSettings"]
