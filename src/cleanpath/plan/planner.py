"""Rip-and-replace planning: which replacement units to swap in which year, at least cost and risk.

Units follow the field's coupling rules:

- a cell site's untrusted RAN is one unit (5G-NSA radios go with their 4G anchor, which is on the
  same site);
- a core data centre's untrusted core functions are one unit;
- an untrusted management system (EMS/OSS) is one unit that also pays to re-home every element it
  manages;
- the remaining untrusted equipment of a site (transport, security, gateways) is one unit.

Identical units (same kind, region, deadline year, cost, funding, risk weight, crew-jobs and share-cap
contributions) are aggregated into a class with an integer count, so a national network of tens of
thousands of sites becomes a model of a few thousand integer variables with exactly the optimum of
the binary model. The mixed-integer programme (HiGHS) chooses how many units of each class to
replace each year so that every deadline is met, every share cap of the packs holds per operator
from its binding date (:mod:`cleanpath.plan.caps`), yearly budgets (net of funding) and crews per
region per year hold, and discounted cost plus weighted exposure-years is minimal. Rules a schedule
cannot encode (clean-path rules, advice) are listed in the result's ``unencoded_rules`` table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from cleanpath.errors import ValidationError
from cleanpath.model.network import Network
from cleanpath.model.schema import SENSITIVE_KINDS
from cleanpath.plan.caps import (CAP_COLUMNS, UNENCODED_COLUMNS, CapRequirements, cap_requirements,
                                 funding_deadlines, unencoded_rules)
from cleanpath.analysis.units import REHOME_COST, group_units  # noqa: F401 (REHOME_COST: kept for callers)
from cleanpath.analysis.units import index_in as _index_in
from cleanpath.analysis.units import anchored_on as _anchored_on  # noqa: F401 (moved; kept for callers)
from cleanpath.model.costs import CostModel, load_costs
from cleanpath.plan.milp import INF, Model, Solution, solve
from cleanpath.result import Result

OBJECTIVES = ("cost", "risk", "balanced")
#: Criticality of a unit kind, per element (exposure weight): a core function or a management
#: system reaches far more users than a radio.
CRITICALITY = {"ran": 1.0, "transport": 2.0, "core": 20.0, "mgmt": 10.0}
#: Crew-jobs a unit takes (a site visit is one; a core DC swap ties up several crews).
CREW_JOBS = {"ran": 1, "transport": 1, "core": 6, "mgmt": 3}
#: Exposure weight multiplier for units within a sensitive site's radius.
NEAR_SENSITIVE = 3.0
#: HiGHS presolve settings, and the default. Off: on these models HiGHS's presolve costs more than
#: it saves, badly so once costs vary and few units are identical (bench/results_plan.md).
PRESOLVE = ("on", "off", "choose")
DEFAULT_PRESOLVE = "off"
#: Columns of :func:`replacement_units`.
UNIT_COLUMNS = ["unit_id", "kind", "site_id", "elements", "element_ids", "cost", "deadline", "funded_cost",
                "operator_id", "region", "weight", "near_sensitive", "crew_jobs"]


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
    presolve: str = DEFAULT_PRESOLVE
    verbose: bool = False


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
    """Group the untrusted elements in service into replacement units.

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
        One row per unit, sorted by unit_id: unit_id, kind, site_id, elements, element_ids (an
        Arrow list column), cost, deadline, funded_cost, operator_id, region, weight,
        near_sensitive, crew_jobs.

    Notes
    -----
    A 5G-NSA radio anchored (``anchor`` link, radio as ``a``) on an element being replaced goes
    with its anchor's unit even when its own vendor is trusted: a new vendor's 4G anchor does not
    drive another vendor's NSA radio.
    """
    costs = costs or load_costs()
    el = net.elements
    # equipment out of service carries nothing and no rule judges it: nothing to pay for
    live = el["in_service"].to_numpy(dtype=bool, na_value=True)
    bad = el["vendor"].isin(list(untrusted)).to_numpy(dtype=bool, na_value=False)
    has_deadlines = deadlines is not None and len(deadlines) > 0
    if has_deadlines:
        bad = bad | el["element_id"].isin(deadlines["element_id"]).to_numpy(dtype=bool, na_value=False)
    bad = bad & live
    grouping = group_units(net, bad, alive=live, costs=costs)
    if grouping is None:
        return pd.DataFrame(columns=UNIT_COLUMNS)
    g = grouping
    pos, e, cost, kind, home, eid = g.pos, g.frame, g.cost, g.kind, g.home, g.eid
    if has_deadlines:
        dl = pd.to_datetime(deadlines["deadline"].astype(object), errors="coerce")
        first = dl.groupby(deadlines["element_id"].astype(str).to_numpy()).min()
        deadline = pd.to_datetime(pd.Series(eid).map(first), errors="coerce").to_numpy()
    else:
        deadline = np.full(len(e), np.datetime64("NaT"), dtype="datetime64[ns]")
    funded = e["vendor"].isin(list(funded_vendors)).to_numpy(dtype=bool, na_value=False)
    if funded_installed_by is not None:
        inst = pd.to_datetime(e["installed_on"].astype(object), errors="coerce")
        funded = funded & ~(inst > pd.Timestamp(funded_installed_by)).to_numpy(dtype=bool)
    # the grouping sorted the elements by unit once: units in unit_id order, elements in table order
    uniq, order, starts, size, first_el = g.uniq, g.order, g.starts, g.size, g.first_el
    codes_s = g.codes[order]
    offsets = pa.array(np.r_[starts, len(codes_s)].astype(np.int32), type=pa.int32())
    element_ids = pa.ListArray.from_arrays(offsets, pa.array(eid[order], type=pa.string()))
    dl_unit = pd.Series(deadline[order]).groupby(codes_s).min().to_numpy()
    units = pd.DataFrame({
        "unit_id": uniq.astype(object),
        "kind": kind[first_el],
        "site_id": home[first_el],
        "elements": size,
        "element_ids": pd.arrays.ArrowExtensionArray(element_ids),
        "cost": np.add.reduceat(cost[order], starts) + costs.site_visit,
        "deadline": pd.to_datetime(dl_unit),
        "funded_cost": np.add.reduceat(np.where(funded, cost, 0.0)[order], starts),
    })
    sites = net.sites
    site_pos = _index_in(units["site_id"], sites["site_id"])
    ok = site_pos >= 0
    op = np.full(len(units), None, dtype=object)
    op[ok] = sites["operator_id"].astype(object).to_numpy()[site_pos[ok]]
    region = np.full(len(units), None, dtype=object)
    region[ok] = sites["region"].astype(object).to_numpy()[site_pos[ok]]
    region = np.where(pd.isna(region), op, region)
    units["operator_id"] = op
    units["region"] = region
    near_el = _near_sensitive_elements(net)
    near = np.zeros(len(units), dtype=bool)
    if near_el is not None:
        near = np.logical_or.reduceat(near_el[pos][order], starts)
    weight = size * pd.Series(units["kind"]).map(CRITICALITY).to_numpy(dtype=float)
    units["weight"] = weight * np.where(near, NEAR_SENSITIVE, 1.0)
    units["near_sensitive"] = near
    units["crew_jobs"] = units["kind"].map(CREW_JOBS).astype(int)
    return units


def _near_sensitive_elements(net: Network) -> np.ndarray | None:
    """Elements at sites near some sensitive site, as the audit engine sees it (own radius or
    polygon), or None when the network has no sensitive sites.

    The audit context is cached on the network, so its k-d tree over the sites serves the audit,
    the deadlines and this test alike: O((sites + sensitive sites) log sites), not their product.
    """
    if len(net.sensitive_sites) == 0:
        return None
    from cleanpath.policy.engine import AuditContext
    from cleanpath.policy.language import ScopeNear

    return AuditContext.of(net).scope_mask(ScopeNear(kinds=tuple(SENSITIVE_KINDS)))


def unit_classes(units: pd.DataFrame, settings: PlanSettings, *, aggregate: bool = True,
                 cap_contrib: np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Aggregate identical units into classes.

    Units share a class when everything the model knows of them agrees: kind, region, last year
    for the work (from the deadline), cost, funded cost, exposure weight (element count, kind and
    nearness to a sensitive site) and crew-jobs. Swapping two units of a class changes neither the
    objective nor any row, so the integer count model has exactly the optimum of the model with
    one binary per unit and year (tests/test_plan.py checks this); it is just smaller, because a
    national network has tens of thousands of sites but only a few hundred distinct kinds of them
    per region.

    Parameters
    ----------
    units
        From :func:`replacement_units`.
    settings
        The plan's settings (for the start year).
    aggregate
        False gives one class per unit (the naive binary model, for benchmarks and tests).
    cap_contrib
        ``(units, K)``: what each unit removes from each share-cap requirement
        (:class:`cleanpath.plan.caps.CapRequirements`). Part of the class key, so that units of a
        class stay interchangeable for the cap rows too; the classes get columns ``cap_0`` ...

    Returns
    -------
    classes, class_of_unit
        ``classes`` has class, kind, region, deadline_year (0-based, None without a deadline),
        near_sensitive, count, unit_cost, funded_share, weight, crew_jobs (and the cap columns);
        ``class_of_unit`` the class of each row of ``units``.
    """
    dl_year = _year_of_deadline(units["deadline"], settings.start_year)
    cost = units["cost"].to_numpy(dtype=float)
    funded = units["funded_cost"].to_numpy(dtype=float)
    key = pd.DataFrame({
        "kind": units["kind"].astype(str).to_numpy(), "region": units["region"].astype(str).to_numpy(),
        "dl": np.nan_to_num(dl_year, nan=-1).astype(np.int64), "cost": cost, "funded": funded,
        "weight": units["weight"].to_numpy(dtype=float), "jobs": units["crew_jobs"].to_numpy(dtype=np.int64),
        "near": units["near_sensitive"].to_numpy(dtype=bool),
    })
    n_caps = 0 if cap_contrib is None else int(cap_contrib.shape[1])
    for k in range(n_caps):
        key[f"cap_{k}"] = np.asarray(cap_contrib[:, k], dtype=float)
    if aggregate:
        codes = key.groupby(list(key.columns), sort=True).ngroup().to_numpy(dtype=np.int64)
    else:
        codes = np.arange(len(units), dtype=np.int64)
    _, first = np.unique(codes, return_index=True)      # first unit of each class (codes are 0..n-1)
    n = len(first)
    rep = key.iloc[first]
    share = np.divide(funded, cost, out=np.zeros_like(cost), where=cost > 0)
    dl = rep["dl"].to_numpy()
    cls = pd.DataFrame({
        "class": np.arange(n),
        "kind": rep["kind"].to_numpy(dtype=object), "region": rep["region"].to_numpy(dtype=object),
        "deadline_year": pd.array(np.where(dl >= 0, dl, 0), dtype="Int64"),
        "near_sensitive": rep["near"].to_numpy(),
        "count": np.bincount(codes, minlength=n),
        "unit_cost": cost[first],
        "funded_share": share[first],
        "weight": rep["weight"].to_numpy(),
        "crew_jobs": rep["jobs"].to_numpy(),
    })
    for k in range(n_caps):
        cls[f"cap_{k}"] = rep[f"cap_{k}"].to_numpy(dtype=float)
    cls.loc[dl < 0, "deadline_year"] = pd.NA
    return cls, codes


@dataclass
class _Built:
    model: Model
    x: np.ndarray            # (classes, years) column indices
    budget_rows: np.ndarray
    crew_rows: dict[str, np.ndarray]
    deadline_rows: np.ndarray
    deadline_class: np.ndarray
    net_cost: np.ndarray     # per unit of each class, net of funding
    extra_money: np.ndarray | None = None
    cap_rows: np.ndarray | None = None


def _net_cost(cls: pd.DataFrame, s: PlanSettings) -> np.ndarray:
    return cls["unit_cost"].to_numpy(dtype=float) * (1.0 - s.funding_share * cls["funded_share"].to_numpy(dtype=float))


def _deadline_years(cls: pd.DataFrame) -> np.ndarray:
    return cls["deadline_year"].to_numpy(dtype=float, na_value=np.nan)


def _objective(cls: pd.DataFrame, s: PlanSettings, net_cost: np.ndarray) -> np.ndarray:
    """(classes, years) objective coefficients of replacing one unit of a class in a year.

    Costs are discounted and net of funding; exposure is the weight times the years the unit no
    longer counts (H - y, the year of the work excluded). Both are normalised by their totals so
    that ``balanced`` weighs a share of the money against a share of the exposure-years; ``cost``
    and ``risk`` keep the other term at 1e-6 as a tie-break.

    The whole objective is then multiplied by the number of units, so that a typical unit's
    coefficient is about 1. HiGHS's optimality tolerances are absolute (1e-7): with per-unit
    coefficients of 1e-6, as plain shares give on a national network, it declared a schedule
    2 % worse than the best one optimal (measured, bench/results_plan.md).
    """
    H = s.horizon
    years = np.arange(H)
    disc = 1.0 / (1.0 + s.discount_rate) ** years
    weight = cls["weight"].to_numpy(dtype=float)
    count = cls["count"].to_numpy(dtype=float)
    exposure_saved = weight[:, None] * (H - years)[None, :]
    cost_term = net_cost[:, None] * disc[None, :]
    total_cost = max(float((cls["unit_cost"].to_numpy(dtype=float) * count).sum()), 1.0)
    total_exposure = max(float((weight * count).sum() * H), 1.0)
    scale = max(float(count.sum()), 1.0)
    if s.objective == "cost":
        return scale * (cost_term / total_cost - 1e-6 * exposure_saved / total_exposure)
    if s.objective == "risk":
        return scale * (1e-6 * cost_term / total_cost - exposure_saved / total_exposure)
    return scale * (cost_term / total_cost - exposure_saved / total_exposure)


def _build(cls: pd.DataFrame, s: PlanSettings, *, mode: str = "plan", deadline_shift: int = 0,
           caps: CapRequirements | None = None) -> _Built:
    """The MILP: x[c, y] = units of class c replaced in year y.

    ``mode`` is ``plan`` (the user's objective), ``extra_money`` (an elastic, unpriced budget whose
    use is minimised: the least extra money that meets every deadline) or ``feasible`` (no
    objective: does any schedule exist, for the least-extra-time search). ``caps`` adds one row per
    share-cap requirement: the units of each class replaced up to the cap's year, weighted by the
    class's ``cap_k`` contribution, remove at least what the cap needs (shifted like the deadlines).
    """
    C, H = len(cls), s.horizon
    m = Model()
    years = np.arange(H)
    net_cost = _net_cost(cls, s)
    obj = _objective(cls, s, net_cost) if mode == "plan" else np.zeros((C, H))
    count = cls["count"].to_numpy(dtype=float)
    x = m.add_columns(obj.ravel(), 0.0, np.repeat(count, H), integer=True).reshape(C, H)
    # each unit is replaced at most once
    m.add_rows(np.repeat(np.arange(C), H), x.ravel(), np.ones(C * H), np.zeros(C), count,
               [f"units of class {c}" for c in range(C)])
    # deadlines: every unit of a class whose last year falls inside the horizon is done by then
    dl = _deadline_years(cls) + deadline_shift
    d_cls = np.flatnonzero(np.isfinite(dl) & (dl < H))
    allowed = years[None, :] <= dl[d_cls, None]           # (deadline classes, years)
    k, yy = np.nonzero(allowed)
    deadline_rows = m.add_rows(k, x[d_cls[k], yy], np.ones(len(k)), count[d_cls], count[d_cls],
                               [f"deadline of class {c}" for c in d_cls])
    # yearly budget, net of funding
    extra = m.add_columns(np.ones(H), 0.0, INF, integer=False) if mode == "extra_money" else None
    b_rows, b_cols, b_vals = np.repeat(years, C), x.T.ravel(), np.tile(net_cost, H)
    if extra is not None:
        b_rows = np.concatenate([b_rows, years])
        b_cols = np.concatenate([b_cols, extra])
        b_vals = np.concatenate([b_vals, -np.ones(H)])
    budget_rows = m.add_rows(b_rows, b_cols, b_vals, np.full(H, -INF), np.asarray(s.budget, dtype=float),
                             [f"budget {s.start_year + y}" for y in years])
    # crew-jobs per region and year
    crew_rows: dict[str, np.ndarray] = {}
    if s.crews is not None and C:
        jobs = cls["crew_jobs"].to_numpy(dtype=float)
        rcode, regions = pd.factorize(cls["region"].astype(str), sort=True)
        R = len(regions)
        rows = m.add_rows((rcode[:, None] * H + years[None, :]).ravel(), x.ravel(), np.repeat(jobs, H),
                          np.full(R * H, -INF), np.full(R * H, float(s.crews)),
                          [f"crews {r} {s.start_year + y}" for r in regions for y in years])
        crew_rows = {r: rows[i * H:(i + 1) * H] for i, r in enumerate(regions)}
    cap_rows = None
    if caps is not None and caps.k:
        # the cap holds after the work of years 0..Y: every year up to Y counts for every class
        cy = np.minimum(caps.year + deadline_shift, H - 1)
        contrib = np.stack([cls[f"cap_{k}"].to_numpy(dtype=float) for k in range(caps.k)], axis=1)  # (C, K)
        kk, cc = np.nonzero(contrib.T > 0)
        upto = years[None, :] <= cy[kk, None]                  # (entries, years)
        e, yy = np.nonzero(upto)
        cap_rows = m.add_rows(kk[e], x[cc[e], yy], contrib[cc[e], kk[e]], caps.need, np.full(caps.k, INF),
                              list(caps.names))
    return _Built(m, x, budget_rows, crew_rows, deadline_rows, d_cls, net_cost, extra, cap_rows)


def plan_model(units: pd.DataFrame, settings: PlanSettings, *, aggregate: bool = True
               ) -> tuple[Model, pd.DataFrame, np.ndarray]:
    """The mixed-integer programme of a plan, unsolved (for benchmarks and solver experiments).

    Parameters
    ----------
    units
        From :func:`replacement_units` (any subset of them).
    settings
        The plan's settings.
    aggregate
        Integer counts per class of identical units (default), or one binary per unit and year.

    Returns
    -------
    model, classes, x
        The :class:`~cleanpath.plan.milp.Model` (solve it with :func:`cleanpath.plan.milp.solve`),
        the classes (:func:`unit_classes`) and the ``(classes, years)`` column index of x.
    """
    cls, _ = unit_classes(units, settings, aggregate=aggregate)
    built = _build(cls, settings)
    return built.model, cls, built.x


def _solve(built: _Built, s: PlanSettings, **kw) -> Solution:
    opts = {"gap": s.gap, "time_limit": s.time_limit, "presolve": s.presolve, "verbose": s.verbose, **kw}
    return solve(built.model, **opts)


def _collision(cls: pd.DataFrame, s: PlanSettings, net_cost: np.ndarray, shift: int = 0) -> str | None:
    """The first year whose due work cannot fit the money or crews available up to then, if any.

    ``shift`` pushes every deadline that many years later (for the least-extra-time search).

    A necessary condition only (money and crews are not banked from year to year, and whole
    units must fit each year), so None does not prove a plan exists.
    """
    dl = _deadline_years(cls) + shift
    count = cls["count"].to_numpy(dtype=float)
    need = net_cost * count
    jobs = cls["crew_jobs"].to_numpy(dtype=float) * count
    region = cls["region"].astype(str).to_numpy()
    budgets = np.asarray(s.budget, dtype=float)
    budgets = np.concatenate([budgets, np.full(max(s.horizon - len(budgets), 0), budgets[-1])])
    cum_budget = np.cumsum(budgets)
    for y in range(s.horizon):
        due = np.isfinite(dl) & (dl <= y)
        money = float(need[due].sum())
        if money > cum_budget[y] * (1 + 1e-9) + 1e-6:
            return (f"units due by the end of {s.start_year + y} cost {money:,.0f} net of funding, "
                    f"but the budget up to then is {cum_budget[y]:,.0f}")
        if s.crews is not None and due.any():
            by_region = pd.Series(jobs[due]).groupby(region[due]).sum()
            over = by_region[by_region > s.crews * (y + 1) + 1e-9]
            if len(over):
                r = over.index[0]
                return (f"units due by the end of {s.start_year + y} in region {r} need "
                        f"{over.iloc[0]:,.0f} crew-jobs, but {s.crews:g} crews a year give "
                        f"{s.crews * (y + 1):,.0f} up to then")
    return None


def _cap_shortfall(cls: pd.DataFrame, caps: CapRequirements | None) -> str | None:
    """A share cap that no schedule can meet: the units the plan may replace hold too little."""
    if caps is None or not caps.k:
        return None
    count = cls["count"].to_numpy(dtype=float)
    for k in range(caps.k):
        have = float((cls[f"cap_{k}"].to_numpy(dtype=float) * count).sum())
        if have + 1e-9 < caps.need[k]:
            return (f"{caps.names[k]}: the cap needs {caps.need[k]:,.6g} removed, but the replaceable units hold "
                    f"only {have:,.6g} (the rest is equipment the plan may not touch, or sites whose "
                    "flagged equipment is split over several units)")
    return None


def _diagnose(cls: pd.DataFrame, s: PlanSettings, caps: CapRequirements | None = None) -> dict:
    """Why a plan is infeasible: the colliding deadline, the least extra money, the least extra time."""
    out: dict = {}
    net_cost = _net_cost(cls, s)
    collision = _collision(cls, s, net_cost)
    if collision:
        out["colliding_deadline"] = collision
    shortfall = _cap_shortfall(cls, caps)
    if shortfall:
        out["unreachable_cap"] = shortfall
        out["extra_money_total"] = None
        out["extra_years_needed"] = None
        out["note"] = "neither money nor time helps: replace more vendors' equipment (untrusted) or fix the cap's scope"
        return out
    b = _build(cls, s, mode="extra_money", caps=caps)
    elastic = _solve(b, s)
    if elastic.feasible:
        extra = elastic.values[b.extra_money]
        out["extra_money_total"] = float(np.round(extra.sum(), 2))
        out["extra_money_by_year"] = {str(s.start_year + y): float(round(v, 2)) for y, v in enumerate(extra) if v > 0.5}
    else:
        out["extra_money_total"] = None
        out["note"] = "more money alone does not help: the crews per region and year are the binding limit"
    # least extra time: every deadline pushed k years later, the horizon k years longer, the last
    # year's budget repeated; the cheap necessary test first, then a pure feasibility solve
    for k in range(1, 11):
        s2 = replace(s, horizon=s.horizon + k, budget=tuple(s.budget) + (s.budget[-1],) * k)
        if _collision(cls, s2, net_cost, shift=k) is not None:
            continue
        trial = _solve(_build(cls, s2, mode="feasible", deadline_shift=k, caps=caps), s2,
                       time_limit=min(s.time_limit, 20.0))
        if trial.feasible:
            out["extra_years_needed"] = k
            break
    else:
        out["extra_years_needed"] = None
        out.setdefault("note", "")
        out["note"] = (out["note"] + "; " if out["note"] else "") + "ten more years would not be enough either"
    return out


def plan_replacement(net: Network, *, untrusted: set[str], start_year: int, horizon: int,
                     budget: float | Sequence[float], deadlines: pd.DataFrame | None = None,
                     crews: float | None = None, funding_share: float = 0.0,
                     funded_vendors: Sequence[str] = (), funded_installed_by=None,
                     objective: str = "balanced",
                     discount_rate: float = 0.05, costs: CostModel | None = None, gap: float = 0.01,
                     time_limit: float = 60.0, presolve: str = DEFAULT_PRESOLVE, explain: bool = False,
                     aggregate: bool = True, cap_rules: Sequence = (), verbose: bool = False) -> Result:
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
        Solver settings: relative MIP gap, seconds per solver call (the plan; with ``explain`` its LP
        relaxation; for an infeasible request the least-extra-money model and up to ten
        least-extra-time trials of at most 20 s each), HiGHS presolve (``on``, ``off``, ``choose``;
        bench/results_plan.md measures why the default is ``off``).
    explain
        Add the binding constraints (and, from the LP relaxation, their shadow prices).
    aggregate
        Aggregate identical units into integer counts (default). False solves the naive model with
        one binary per unit and year: the same optimum, much slower (for benchmarks and tests).
    cap_rules
        Policy rules whose violation-severity ``cap`` rules the schedule must meet, each from its
        binding date (see :mod:`cleanpath.plan.caps`); other rules are ignored here.
    verbose
        Write the solver's log to stderr (stdout never gets it).

    Returns
    -------
    Result
        Tables ``schedule`` (one row per unit), ``years`` (cost, funding, units, residual exposure,
        elements past their deadline), ``binding``; the summary has totals, solver status and gap,
        and for an infeasible request the colliding deadline and the least extra money or time.
    """
    result, _units = _plan(net, untrusted=untrusted, start_year=start_year, horizon=horizon, budget=budget,
                           deadlines=deadlines, crews=crews, funding_share=funding_share,
                           funded_vendors=funded_vendors, funded_installed_by=funded_installed_by,
                           objective=objective, discount_rate=discount_rate, costs=costs, gap=gap,
                           time_limit=time_limit, presolve=presolve, explain=explain, aggregate=aggregate,
                           cap_rules=cap_rules, verbose=verbose)
    return result


def _settings(*, start_year, horizon, budget, crews, funding_share, objective, discount_rate, gap, time_limit,
              presolve, verbose=False) -> PlanSettings:
    if objective not in OBJECTIVES:
        raise ValidationError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    if not isinstance(horizon, (int, np.integer)) or horizon < 1 or horizon > 50:
        raise ValidationError(f"horizon must be 1-50 years, got {horizon}")
    budgets = (float(budget),) * horizon if np.isscalar(budget) else tuple(float(b) for b in budget)
    if len(budgets) != horizon:
        raise ValidationError(f"{len(budgets)} yearly budgets given for a {horizon}-year horizon")
    if any(not np.isfinite(b) or b < 0 for b in budgets):
        raise ValidationError("budgets must be non-negative numbers")
    if crews is not None and not (np.isfinite(crews) and crews >= 0):
        raise ValidationError(f"crews must be a non-negative number, got {crews}")
    if not 0.0 <= funding_share <= 1.0:
        raise ValidationError(f"funding share must be between 0 and 1, got {funding_share}")
    if presolve not in PRESOLVE:
        raise ValidationError(f"presolve must be one of {', '.join(PRESOLVE)}, got {presolve!r}")
    if not gap >= 0:
        raise ValidationError(f"gap must be non-negative, got {gap}")
    return PlanSettings(start_year, horizon, budgets, crews, funding_share, objective, discount_rate, gap,
                        time_limit, presolve, bool(verbose))


def _plan(net: Network, *, untrusted, start_year, horizon, budget, deadlines, crews, funding_share,
          funded_vendors, funded_installed_by, objective, discount_rate, costs, gap, time_limit, presolve,
          explain, aggregate, cap_rules=(), verbose=False) -> tuple[Result, pd.DataFrame]:
    """:func:`plan_replacement`, also handing back the units (with their element ids)."""
    s = _settings(start_year=start_year, horizon=horizon, budget=budget, crews=crews, funding_share=funding_share,
                  objective=objective, discount_rate=discount_rate, gap=gap, time_limit=time_limit,
                  presolve=presolve, verbose=verbose)
    untrusted = set(untrusted)
    units = replacement_units(net, untrusted=untrusted, deadlines=deadlines, costs=costs,
                              funded_vendors=funded_vendors, funded_installed_by=funded_installed_by)
    params = {"untrusted": sorted(untrusted), "start_year": start_year, "horizon": horizon,
              "budget": list(s.budget), "crews": crews, "funding_share": funding_share,
              "objective": objective, "discount_rate": discount_rate, "gap": gap, "presolve": presolve}
    caps, cap_notes = cap_requirements(net, cap_rules, units, start_year=start_year, horizon=horizon)
    if units.empty:
        summary = {"status": "nothing to replace", "units": 0}
        if caps.k:  # a cap over equipment the plan may not touch: no schedule can meet it
            summary.update({"status": "infeasible", "unreachable_cap": (
                f"{caps.names[0]}: the cap needs {caps.need[0]:,.6g} removed, but nothing the plan may "
                "replace holds any of it")})
        return Result("plan", net.name, params, summary,
                      {"schedule": units.drop(columns=["element_ids"]), "years": pd.DataFrame(),
                       "binding": pd.DataFrame(), "caps": caps.table,
                       "unencoded_rules": pd.DataFrame(cap_notes, columns=UNENCODED_COLUMNS)}), units
    cls, class_of_unit = unit_classes(units, s, aggregate=aggregate, cap_contrib=caps.contrib)
    built = _build(cls, s, caps=caps)
    sol = _solve(built, s)
    summary = {"status": sol.status, "units": int(len(units)), "classes": int(len(cls)),
               "variables": int(built.model.n_cols), "rows": int(built.model.n_rows),
               "solve_seconds": round(sol.seconds, 3), "gap": round(sol.gap, 5)}
    overdue = (pd.to_datetime(units["deadline"]) < pd.Timestamp(start_year, 1, 1)).to_numpy(dtype=bool)
    if not sol.feasible:
        if sol.infeasible:
            summary["status"] = "infeasible"
            summary.update(_diagnose(cls, s, caps))
        else:  # stopped (time limit) before finding any schedule: nothing is known to be wrong
            summary["note"] = (f"no schedule found within {s.time_limit:g} s; raise the time limit or the gap")
        summary["overdue_at_start"] = int(overdue.sum())
        return Result("plan", net.name, params, summary,
                      {"schedule": units.drop(columns=["element_ids"]).assign(year=np.nan),
                       "years": pd.DataFrame(), "binding": pd.DataFrame(), "caps": caps.table,
                       "unencoded_rules": pd.DataFrame(cap_notes, columns=UNENCODED_COLUMNS)}), units
    counts = np.rint(sol.values[built.x]).astype(np.int64)  # (classes, years)
    year = _assign_years(units, class_of_unit, counts)
    schedule = units.copy()
    schedule["year"] = np.where(year >= 0, year + start_year, np.nan)
    schedule["deadline"] = schedule["deadline"].dt.date
    done = year >= 0
    net_paid = schedule["cost"].to_numpy(dtype=float) - schedule["funded_cost"].to_numpy(dtype=float) * funding_share
    summary.update({
        "total_cost": float(schedule.loc[done, "cost"].sum()),
        "net_cost": float(net_paid[done].sum()),
        "funding_drawn": float((schedule.loc[done, "funded_cost"] * funding_share).sum()),
        "units_replaced": int(done.sum()),
        "units_left": int((~done).sum()),
        "residual_exposure": float(schedule.loc[~done, "weight"].sum()),
        "overdue_at_start": int(overdue.sum()),
    })
    binding = _binding(built, sol, s, cls) if explain else pd.DataFrame()
    if explain:
        summary["binding_constraints"] = binding["constraint"].tolist()[:20] if len(binding) else []
    result = Result("plan", net.name, params, summary,
                    {"schedule": schedule.drop(columns=["element_ids"]).sort_values(["year", "unit_id"],
                                                                                     ignore_index=True),
                     "years": _years_table(schedule, s), "binding": binding,
                     "caps": caps.after(schedule["year"].to_numpy(dtype=float), start_year),
                     "unencoded_rules": pd.DataFrame(cap_notes, columns=UNENCODED_COLUMNS)})
    return result, units


def _assign_years(units: pd.DataFrame, class_of_unit: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concrete units for the class counts: within a class, in unit_id order (the units of a class
    are interchangeable to the model), the first ``counts[c, 0]`` in year 0 and so on; -1 = left."""
    H = counts.shape[1]
    order = np.lexsort((np.arange(len(units)), class_of_unit))
    sorted_cls = class_of_unit[order]
    first = np.searchsorted(sorted_cls, sorted_cls)
    pos_in_class = np.empty(len(units), dtype=np.int64)
    pos_in_class[order] = np.arange(len(order)) - first
    cum = np.cumsum(counts, axis=1)[class_of_unit]          # (units, years)
    # the first year whose cumulative count exceeds the unit's position in its class
    year = (pos_in_class[:, None] >= cum).sum(axis=1)
    return np.where(year < H, year, -1)


def _years_table(schedule: pd.DataFrame, s: PlanSettings) -> pd.DataFrame:
    """Per plan year: units and elements replaced, cost, funding, what is left and what is late."""
    H = s.horizon
    yr = schedule["year"].to_numpy(dtype=float) - s.start_year      # 0-based, NaN = left
    y_idx = np.where(np.isfinite(yr), yr, -1).astype(np.int64)
    done = y_idx >= 0
    cost = schedule["cost"].to_numpy(dtype=float)
    funding = schedule["funded_cost"].to_numpy(dtype=float) * s.funding_share
    elements = schedule["elements"].to_numpy(dtype=float)
    weight = schedule["weight"].to_numpy(dtype=float)

    def per_year(v: np.ndarray) -> np.ndarray:
        return np.bincount(y_idx[done], weights=v[done], minlength=H)[:H]

    # left at the end of year y: not replaced by then (a unit's work counts at the end of its year)
    replaced_by = np.cumsum(np.stack([per_year(elements), per_year(weight)]), axis=1)
    dl = pd.to_datetime(pd.Series(schedule["deadline"]).astype(object), errors="coerce").to_numpy()
    late = np.zeros(H)
    for y in range(H):  # H vector passes over the units, never a loop over units
        end = np.datetime64(f"{s.start_year + y}-12-31")
        left = ~(done & (y_idx <= y))
        late[y] = elements[left & (dl < end)].sum()
    years = np.arange(H)
    return pd.DataFrame({
        "year": s.start_year + years,
        "units": np.bincount(y_idx[done], minlength=H)[:H].astype(np.int64),
        "elements": per_year(elements).astype(np.int64),
        "cost": per_year(cost),
        "funding": per_year(funding),
        "net_cost": per_year(cost - funding),
        "budget": np.asarray(s.budget, dtype=float),
        "untrusted_elements_left": (elements.sum() - replaced_by[0]).astype(np.int64),
        "residual_exposure": weight.sum() - replaced_by[1],
        "elements_past_deadline": late.astype(np.int64),
    })


def _binding(built: _Built, sol: Solution, s: PlanSettings, cls: pd.DataFrame) -> pd.DataFrame:
    """Constraints at their limit in the solution, with LP shadow prices where available.

    With whole units a budget or crew limit binds when not even the smallest further unit would
    fit in its slack; a deadline binds when work is still being done in the deadline's own year.
    Shadow prices come from the LP relaxation (the change in the normalised objective per unit of
    the limit); they are zero where the relaxation has slack that whole units cannot use.
    """
    names = built.model.row_names
    hi = np.asarray(built.model.rows_hi)
    act = sol.row_activity
    rows = []
    lp = _solve(built, s, lp_relaxation=True)
    duals = lp.row_duals if lp.row_duals is not None else np.zeros(len(names))
    positive = built.net_cost[built.net_cost > 0]
    cheapest = float(positive.min()) if positive.size else 0.0
    fewest_jobs = float(cls["crew_jobs"].min())
    limits = [(r, cheapest) for r in built.budget_rows] + [
        (r, fewest_jobs) for rs in built.crew_rows.values() for r in rs]
    for r, unit in limits:
        slack = hi[r] - act[r]
        if slack < unit - 1e-9:
            rows.append({"constraint": names[r], "limit": float(hi[r]), "used": float(act[r]),
                         "slack": float(slack), "shadow_price": float(duals[r])})
    if built.cap_rows is not None:
        lo = np.asarray(built.model.rows_lo)
        for k, r in enumerate(built.cap_rows):
            contrib = cls[f"cap_{k}"].to_numpy(dtype=float)
            smallest = float(contrib[contrib > 0].min()) if (contrib > 0).any() else 0.0
            slack = act[r] - lo[r]
            if slack < smallest - 1e-9:  # not even one unit fewer would still meet the cap
                rows.append({"constraint": names[r], "limit": float(lo[r]), "used": float(act[r]),
                             "slack": float(slack), "shadow_price": float(duals[r])})
    dl = _deadline_years(cls)
    for k, r in enumerate(built.deadline_rows):
        c = built.deadline_class[k]
        y = int(dl[c])
        if sol.values[built.x[c, y]] > 0.5:  # work was still being done in the deadline's own year
            rows.append({"constraint": f"deadline {s.start_year + y}: {int(cls['count'].iat[c])} "
                                       f"{cls['kind'].iat[c]} unit(s) in {cls['region'].iat[c]} (class {c})",
                         "limit": float(hi[r]), "used": float(act[r]), "slack": 0.0,
                         "shadow_price": float(duals[r])})
    df = pd.DataFrame(rows, columns=["constraint", "limit", "used", "slack", "shadow_price"])
    return df.sort_values("shadow_price", key=lambda v: -v.abs(), ignore_index=True, kind="stable") \
        if len(df) else df


#: Rule kinds judged element by element (each element's findings depend on that element alone).
_ELEMENT_KINDS = ("forbid", "remove_by", "no_new", "funding")


def compliance_curve(net: Network, schedule: pd.DataFrame, *, units: pd.DataFrame, policies,
                     start_year: int, horizon: int, untrusted: set[str] | None = None,
                     jurisdiction: bool = True, unencoded: Sequence[str] = ()) -> pd.DataFrame:
    """Findings at the end of each plan year with the schedule applied, from the audit engine.

    The network of 31 December of year Y is the network with every unit scheduled up to Y replaced
    as :func:`cleanpath.plan.apply.apply_schedule` replaces it (the operator's usual trusted vendor,
    installed on 1 July of Y). Rather than building and auditing that network once per year, the
    element rules (forbid, remove_by, no_new, funding) are evaluated on two networks only, the one
    before and the one after the whole plan, each with its cached audit context: an element's
    findings depend on that element alone, so the year-Y findings are the "before" findings of the
    elements not yet replaced plus the "after" findings of those replaced. Rules over many
    elements (caps, clean-path) are evaluated on the network of each year that changed. The
    "after" network is not even built when no element rule lists a vendor the replaced elements
    get.

    Parameters
    ----------
    net
        The network before the plan.
    schedule
        ``unit_id, year`` (NaN for units left in place).
    units
        ``unit_id, element_ids`` (from :func:`replacement_units`).
    policies
        Packs to audit against (as for :func:`cleanpath.analysis.audit.audit_network`).
    start_year, horizon
        The plan years; the curve starts with the end of the year before the plan.
    untrusted
        Vendors that get no replacement contracts (default: the catalogue's untrusted ones).
    jurisdiction
        Apply each pack only in its countries.
    unencoded
        Keys (``pack/rule_id``) of rules the plan did not encode: their violations are also
        counted apart, in ``violations_from_unencoded_rules``.

    Returns
    -------
    DataFrame
        year, as_of, violations, warnings, info (finding counts), elements_in_violation (elements
        with a violation from an element rule), elements_replaced (cumulative) and
        violations_from_unencoded_rules.
    """
    from cleanpath.model.vendors import default_untrusted
    from cleanpath.plan.apply import apply_schedule, element_replacement_year, replacement_vendors
    from cleanpath.analysis.audit import default_engine
    from cleanpath.policy.engine import AuditContext, evaluate, rule_counts
    from cleanpath.policy.loader import load_policies, rules_of

    rules = rules_of(load_policies(policies, catalogue=net.catalogue))
    element_rules = [r for r in rules if r.kind in _ELEMENT_KINDS]
    other_rules = [r for r in rules if r.kind not in _ELEMENT_KINDS]
    untrusted = set(untrusted) if untrusted is not None else default_untrusted(net.catalogue)
    replaced_in = element_replacement_year(net, schedule, units)
    vendors = replacement_vendors(net, untrusted)
    first, last = start_year - 1, start_year + horizon - 1
    days = [dt.date(y, 12, 31) for y in range(first, last + 1)]
    before = AuditContext.of(net)
    # The replaced elements' own findings need the "after" network only if some element rule
    # could flag the vendor they get (a trusted vendor normally is on no rule's list).
    new_vendors = np.asarray(sorted(set(vendors.to_numpy(dtype=object)[replaced_in <= last])), dtype=object)
    after = None
    if new_vendors.size and any(before.vendor_flags(r.vendors, d, new_vendors).any()
                                for r in element_rules for d in days):
        after = AuditContext.of(apply_schedule(net, schedule, units, through_year=last, untrusted=untrusted,
                                               replacement=vendors, replaced_in=replaced_in,
                                               name=f"{net.name}-after-{last}"))
    rows = []
    snap_ctx, snap_replaced = before, 0
    engine = default_engine()
    skipped = set(unencoded)
    el_skip = np.array([r.key in skipped for r in element_rules], dtype=bool)
    other_skip = np.array([r.key in skipped for r in other_rules], dtype=bool)
    for y, day in zip(range(first, last + 1), days):
        gone = replaced_in <= y
        counts = np.zeros(3, dtype=np.int64)   # info, warning, violation
        from_unencoded = 0
        violating = np.zeros(len(gone), dtype=bool)
        for ctx, mine in ((before, ~gone), (after, gone)):
            if ctx is None or not element_rules or not mine.any():
                continue
            for b in evaluate(ctx, element_rules, day, jurisdiction=jurisdiction, clean_path=engine).blocks:
                hit = b.mask & mine
                counts[b.severity] += int(np.count_nonzero(hit))
                if b.severity == 2:
                    violating |= hit
                    if el_skip[b.rule]:
                        from_unencoded += int(np.count_nonzero(hit))
        n_gone = int(np.count_nonzero(gone))
        if other_rules:
            if n_gone != snap_replaced:  # the network changed since the last snapshot audited
                snap = apply_schedule(net, schedule, units, through_year=y, untrusted=untrusted,
                                      replacement=vendors, replaced_in=replaced_in,
                                      name=f"{net.name}-after-{y}")
                snap_ctx, snap_replaced = AuditContext.of(snap), n_gone
            per_rule = rule_counts(evaluate(snap_ctx, other_rules, day, jurisdiction=jurisdiction,
                                            clean_path=engine))
            counts += per_rule.sum(axis=0)
            from_unencoded += int(per_rule[other_skip, 2].sum())
        rows.append({"year": y, "as_of": day, "violations": int(counts[2]), "warnings": int(counts[1]),
                     "info": int(counts[0]), "elements_in_violation": int(np.count_nonzero(violating)),
                     "elements_replaced": n_gone, "violations_from_unencoded_rules": from_unencoded})
    return pd.DataFrame(rows, columns=["year", "as_of", "violations", "warnings", "info",
                                       "elements_in_violation", "elements_replaced",
                                       "violations_from_unencoded_rules"])


def run_plan(net: Network, *, policies, start_year: int, horizon: int, budget, crews: float | None = None,
             programme: str | None = None, objective: str = "balanced", untrusted=None, costs=None,
             discount_rate: float = 0.05, gap: float = 0.01, time_limit: float = 60.0,
             presolve: str = DEFAULT_PRESOLVE, explain: bool = False, on_step=None,
             verbose: bool = False) -> Result:
    """The ``plan`` question: deadlines and share caps from policy packs, optional funding, the
    schedule and its compliance curve (findings at the end of each year, from the audit engine).

    Parameters are those of :func:`plan_replacement`, plus ``policies`` (packs whose rules bind),
    ``programme`` (a funding programme id: its covered vendors' gear installed by its cut-off date is
    reimbursed at the programme's pro-rata factor as of 1 January of ``start_year``), ``costs``
    (a cost YAML path) and ``verbose`` (the solver's log on stderr). ``untrusted`` is a vendor set
    (text, list, :class:`~cleanpath.policy.vendorset.VendorSet` or a frozenset of resolved ids;
    grammar in :mod:`cleanpath.policy.vendorset`; None: the default set).

    Every violation-severity rule of the packs is encoded: ``remove_by``, ``forbid``, ``no_new``
    and ``funding`` as element deadlines, ``cap`` as share requirements per operator from its
    binding date (:mod:`cleanpath.plan.caps`). Rules the plan cannot encode are listed in the table
    ``unencoded_rules`` (rule and reason), so a feasible plan claims compliance only with the rest:
    ``violations_at_end`` counts the audit's violations at the end of the last year, whatever rule.
    """
    from cleanpath.analysis.audit import element_deadlines
    from cleanpath.policy.loader import load_policies, rules_of
    from cleanpath.policy.vendorset import resolve_untrusted

    step = on_step or (lambda _s: None)
    step("deadlines from the policy packs")
    rules = rules_of(load_policies(policies, catalogue=net.catalogue))
    deadlines = element_deadlines(net, policies=policies)
    funding_due = funding_deadlines(net, rules)
    if len(funding_due):
        deadlines = pd.concat([deadlines[["element_id", "deadline"]], funding_due], ignore_index=True)
    # the one vendor-set grammar ("Huawei", packs, country:CC...); dated pack lists as of the start
    vendors = set(resolve_untrusted(net, untrusted, as_of=dt.date(start_year, 1, 1)))
    share, funded, cutoff = 0.0, (), None
    if programme:
        from cleanpath.plan.funding import load_programme, programme_factor

        prog = load_programme(programme)
        share = programme_factor(prog, as_of=dt.date(start_year, 1, 1))
        funded, cutoff = prog.covered_vendors, prog.obtained_on_or_before
    step("solving")
    cost_model = load_costs(costs) if costs else None
    result, units = _plan(net, untrusted=vendors, start_year=start_year, horizon=horizon, budget=budget,
                          deadlines=deadlines, crews=crews, funding_share=share, funded_vendors=funded,
                          funded_installed_by=cutoff, objective=objective, discount_rate=discount_rate,
                          costs=cost_model, gap=gap, time_limit=time_limit, presolve=presolve,
                          explain=explain, aggregate=True, cap_rules=rules, verbose=verbose)
    result.params.update({"policies": policies, "programme": programme})
    result.tables["unencoded_rules"] = pd.concat(
        [result.tables["unencoded_rules"], pd.DataFrame(unencoded_rules(rules), columns=UNENCODED_COLUMNS)],
        ignore_index=True)
    result.summary["unencoded_rules"] = int(len(result.tables["unencoded_rules"]))
    result.summary["funding_share"] = share
    if result.tables["years"] is not None and len(result.tables["years"]):
        step("compliance curve")
        un = result.tables["unencoded_rules"]
        curve = compliance_curve(net, result.tables["schedule"], units=units, policies=policies,
                                 start_year=start_year, horizon=horizon, untrusted=vendors,
                                 unencoded=(un["pack"].astype(str) + "/" + un["rule_id"].astype(str)).tolist())
        result.tables["compliance"] = curve
        # every violation left at the end comes from a rule the plan lists as not encoded
        result.summary["violations_at_end"] = int(curve["violations"].iloc[-1])
        result.summary["violations_at_end_from_unencoded_rules"] = int(
            curve["violations_from_unencoded_rules"].iloc[-1])
    return result


__all__ = ["plan_replacement", "run_plan", "compliance_curve", "replacement_units", "unit_classes", "plan_model",
           "OBJECTIVES", "PlanSettings", "DEFAULT_PRESOLVE", "CAP_COLUMNS", "UNENCODED_COLUMNS"]
