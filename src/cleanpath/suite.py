"""Every question on one network, with one set of settings: what the demo and the report show.

The faces (``cleanpath demo``, ``cleanpath report``, the dashboard) call :func:`run_suite` rather than
listing questions themselves, so a question added here appears in all of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from typing import Callable

import numpy as np
import pandas as pd

from cleanpath.model.network import Network
from cleanpath.model.vendors import default_untrusted
from cleanpath.result import Result


@dataclass(frozen=True)
class SuiteSettings:
    """The settings every question in the suite shares.

    Attributes
    ----------
    as_of
        Date the network is judged at.
    policies
        Policy packs for audit, plan and compare.
    outage_vendor
        Vendor switched off in the outage question.
    plan_start, plan_horizon
        First year and length of the replacement plan.
    plan_budget
        Yearly budget; None: a third of the total replacement cost per year.
    crews
        Crew-jobs per region per year; None: unlimited.
    programme
        Funding programme for the funding question (applications: the shipped calibrated set).
    """

    as_of: dt.date = dt.date(2026, 11, 21)
    policies: tuple[str, ...] = ("de-2024", "eu-toolbox", "us-clean-path")
    outage_vendor: str = "huawei"
    plan_start: int = 2027
    plan_horizon: int = 6
    plan_budget: float | None = None
    crews: float | None = None
    programme: str = "fcc-scrp"
    skip: tuple[str, ...] = field(default=())


QUESTIONS = ("info", "audit", "clean-path", "outage", "exposure", "plan", "compare", "funding", "incentive")


def run_suite(net: Network, settings: SuiteSettings | None = None, *,
              on_step: Callable[[str], None] | None = None) -> list[Result]:
    """Ask every question of ``net``.

    Returns
    -------
    list of Result
        In the order of :data:`QUESTIONS` (minus ``settings.skip``).
    """
    from cleanpath.analysis.audit import audit_network
    from cleanpath.analysis.clean_path import run_clean_path
    from cleanpath.analysis.compare import compare_snapshots
    from cleanpath.analysis.exposure import run_exposure
    from cleanpath.analysis.info import run_info
    from cleanpath.analysis.outage import run_outage
    from cleanpath.plan.apply import apply_schedule
    from cleanpath.plan.funding import read_applications, run_funding
    from cleanpath.plan.incentive import run_incentive
    from cleanpath.plan.planner import replacement_units, run_plan

    s = settings or SuiteSettings()
    step = on_step or (lambda _s: None)
    untrusted = default_untrusted(net.catalogue)
    policies = list(s.policies)
    out: dict[str, Result] = {}

    def ask(name: str, fn: Callable[[], Result]) -> None:
        if name in s.skip:
            return
        step(name)
        out[name] = fn()

    ask("info", lambda: run_info(net))
    ask("audit", lambda: audit_network(net, policies=policies, as_of=s.as_of))
    ask("clean-path", lambda: run_clean_path(net))
    ask("outage", lambda: run_outage(net, vendors=[s.outage_vendor], mode="disable"))
    ask("exposure", lambda: run_exposure(net))

    def plan() -> Result:
        budget = s.plan_budget
        if budget is None:
            units = replacement_units(net, untrusted=untrusted)
            budget = float(np.ceil(units["cost"].sum() / 3 / 1e6) * 1e6) if len(units) else 0.0
        return run_plan(net, policies=policies, start_year=s.plan_start, horizon=s.plan_horizon,
                        budget=budget, crews=s.crews, objective="balanced", explain=True)

    ask("plan", plan)

    def compare() -> Result:
        from cleanpath.analysis.audit import element_deadlines

        p = out.get("plan") or plan()
        # The same units the plan scheduled: untrusted vendors plus whatever a deadline names.
        units = replacement_units(net, untrusted=untrusted, deadlines=element_deadlines(net, policies=policies))
        last = s.plan_start + s.plan_horizon - 1
        after = apply_schedule(net, p.tables["schedule"], units, through_year=last, untrusted=untrusted)
        r = compare_snapshots(net, after, policies=policies, as_of=dt.date(last, 12, 31))
        r.params["after"] = f"{net.name} with the plan applied through {last}"
        return r

    ask("compare", compare)

    def funding() -> Result:
        path = resources.files("cleanpath.data").joinpath("programmes", f"{s.programme}-applications.csv")
        r = run_funding(read_applications(str(path)), programme=s.programme, as_of=dt.date(2022, 7, 15))
        r.params["applications"] = "shipped synthetic set calibrated to the FCC's 2022 aggregates"
        return r

    ask("funding", funding)
    ask("incentive", lambda: run_incentive(net, as_of=s.as_of))
    return [out[q] for q in QUESTIONS if q in out]


def headline(r: Result) -> str:
    """One line of the most telling figures of a result."""
    keys = {
        "info": ("elements", "sites", "sensitive_sites"),
        "audit": ("violations", "warnings", "elements_in_violation"),
        "clean-path": ("pairs", "clean_pairs", "sites_without_clean_path", "shared_fix_cost"),
        "outage": ("lost_elements", "lost_sites", "lost_subscribers", "sensitive_without_service"),
        "exposure": ("sensitive_sites", "with_untrusted_within", "median_nearest_untrusted_m"),
        "plan": ("status", "units_replaced", "total_cost", "violations_at_end"),
        "compare": ("changed", "added", "removed", "revendored", "new", "resolved"),
        "funding": ("allocatable", "approved_demand", "factor_by_group"),
        "incentive": ("replacement_cost", "compliance_cost", "break_even_subsidy_share"),
    }.get(r.question, tuple(list(r.summary)[:3]))

    def fmt(v) -> str:
        if isinstance(v, float):
            return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
        if isinstance(v, list):
            return f"{len(v)}"
        if isinstance(v, dict):
            return ", ".join(f"{a}: {fmt(b)}" for a, b in list(v.items())[:4])
        return str(v)

    return "; ".join(f"{k}={fmt(r.summary[k])}" for k in keys if k in r.summary)


def headlines(results: list[Result]) -> pd.DataFrame:
    return pd.DataFrame({"question": [r.question for r in results], "headline": [headline(r) for r in results]})
