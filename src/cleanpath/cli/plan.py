"""Commands about money: funding programmes (and, with the planner, replacement plans)."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import click

from cleanpath.cli.common import format_options, handle_errors, snapshot_option
from cleanpath.cli.output import progress, render


def parse_amount(text: str | None) -> float | None:
    """``1.895e9``, ``1895000000``, ``1.895bn``, ``3080m``, ``US$1.9 bn`` -> a number."""
    if text is None:
        return None
    t = text.strip().lower().replace("us$", "").replace("$", "").replace(",", "").replace(" ", "")
    mult = 1.0
    for suffix, m in (("bn", 1e9), ("b", 1e9), ("m", 1e6), ("k", 1e3)):
        if t.endswith(suffix):
            t, mult = t[: -len(suffix)], m
            break
    try:
        return float(t) * mult
    except ValueError:
        raise click.BadParameter(f"not an amount: {text!r} (e.g. 1.895bn, 3080m, 1900000000)") from None


@click.command("funding")
@click.option("--programme", default="fcc-scrp", show_default=True,
              help="Shipped programme id, or a programme YAML file.")
@click.option("--applications", type=click.Path(path_type=Path), default=None,
              help="Applications CSV (applicant_id, customers, approved_amount [, group, category, "
                   "obtained_on, name]). Default: the shipped synthetic set calibrated to the FCC's aggregates.")
@click.option("--appropriation", default=None,
              help="Money available for allocation (e.g. 1.895bn); default: the programme's appropriations.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only count appropriations made on or before this date.")
@format_options
@handle_errors
def funding_cmd(programme, applications, appropriation, as_of, fmt, table):
    """Allocate a funding programme's money to applications.

    Eligibility (customer limit, equipment date), priority groups filled in order, one pro-rata
    factor within the group where the money runs out, later appropriations topping up. Example:
    `cleanpath funding --as-of 2022-07-15` reproduces the FCC's 39.5 % factor of 2022.
    """
    from cleanpath.plan.funding import read_applications, run_funding

    path = applications or Path(str(resources.files("cleanpath.data").joinpath(
        "programmes", "fcc-scrp-applications.csv")))
    result = run_funding(read_applications(path), programme=programme, appropriation=parse_amount(appropriation),
                         as_of=as_of.date() if isinstance(as_of, dt.datetime) else as_of)
    result.params["applications"] = str(path)
    render(result, fmt, table=table)


def parse_budget(text: str, horizon: int) -> float | list[float]:
    """One amount for every year, or a comma-separated list of one amount per year."""
    parts = [p for p in text.split(",") if p.strip()]
    if len(parts) == 1:
        return parse_amount(parts[0])
    if len(parts) != horizon:
        raise click.BadParameter(f"{len(parts)} yearly amounts for a {horizon}-year horizon", param_hint="--budget")
    return [parse_amount(p) for p in parts]


@click.command("plan")
@snapshot_option
@click.option("--policy", "policies", required=True,
              help="Policy packs whose deadlines the plan must meet (comma-separated ids or files).")
@click.option("--start", "start_year", type=int, required=True, help="First plan year.")
@click.option("--horizon", type=click.IntRange(1, 50), default=8, show_default=True, help="Number of years.")
@click.option("--budget", required=True,
              help="Money per year, net of funding: one amount (e.g. 500m) or one per year (100m,200m,...).")
@click.option("--crews", type=float, default=None,
              help="Crew-jobs per region per year (a cell site is one job, a core data centre six).")
@click.option("--funding", "programme", default=None,
              help="Funding programme the plan draws on (e.g. fcc-scrp): reimburses its covered vendors' gear.")
@click.option("--objective", type=click.Choice(["cost", "risk", "balanced"]), default="balanced",
              show_default=True,
              help="cost: cheapest way to meet the deadlines; risk: fastest exposure reduction the budget allows; "
                   "balanced: also replaces a unit early when its share of exposure exceeds its share of cost.")
@click.option("--trust", default=None,
              help="Vendors to remove besides those the policies name (comma-separated ids; default: "
                   "vendors headquartered in China or Russia).")
@click.option("--costs", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="YAML of replacement costs per role (overrides the shipped defaults).")
@click.option("--discount-rate", type=float, default=0.05, show_default=True, help="Yearly discount rate.")
@click.option("--gap", type=float, default=0.01, show_default=True, help="Relative MIP gap to stop at.")
@click.option("--time-limit", type=float, default=60.0, show_default=True, help="Solver time limit, seconds.")
@click.option("--presolve", type=click.Choice(["off", "on", "choose"]), default="off", show_default=True,
              help="HiGHS presolve; off is fastest on these models (see docs/benchmarks.md).")
@click.option("--explain", is_flag=True, help="Name the binding constraints, with shadow prices.")
@format_options
@click.pass_obj
@handle_errors
def plan_cmd(ctx, snapshot, policies, start_year, horizon, budget, crews, programme, objective, trust, costs,
             discount_rate, gap, time_limit, presolve, explain, fmt, table):
    """A multi-year, cost-optimal replacement schedule that meets every deadline of the chosen packs.

    Mixed-integer programme (HiGHS): replacement units follow the field's coupling rules (a site's
    RAN as one unit, a core data centre as one, a management system with what it manages,
    transport per site); budget per year net of funding and crews per region per year hold.
    An infeasible request says which deadline and budget collide and the least extra money or time.
    """
    from cleanpath.plan.planner import run_plan

    with ctx.workspace(read_only=True) as ws, progress("planning") as step:
        net = ws.network(snapshot)
        result = run_plan(net, policies=policies, start_year=start_year, horizon=horizon,
                          budget=parse_budget(budget, horizon), crews=crews, programme=programme,
                          objective=objective, untrusted=trust.split(",") if trust else None,
                          costs=costs, discount_rate=discount_rate, gap=gap, time_limit=time_limit,
                          presolve=presolve, explain=explain, on_step=step)
    render(result, fmt, table=table)


@click.command("incentive")
@snapshot_option
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Decision date (default today).")
@click.option("--funding", "programme", default=None, help="Funding programme that reimburses part of the cost.")
@click.option("--premium", type=float, default=0.15, show_default=True,
              help="Price premium of trusted replacement gear (an assumption: set it for your case).")
@click.option("--lifetime", type=float, default=8.0, show_default=True,
              help="Economic life of equipment in years (for the stranded value).")
@click.option("--trust", default=None, help="Vendors to replace (comma-separated ids; default: HQ in China or Russia).")
@format_options
@click.pass_obj
@handle_errors
def incentive_cmd(ctx, snapshot, as_of, programme, premium, lifetime, trust, fmt, table):
    """What compliance costs each operator against what a programme pays, and the break-even subsidy.

    Compliance cost = value stranded by replacing gear before the end of its life + the premium
    for trusted gear. The break-even subsidy is that cost as a share of the replacement cost.
    """
    from cleanpath.plan.incentive import run_incentive

    day = as_of.date() if as_of else dt.date.today()
    with ctx.workspace(read_only=True) as ws:
        result = run_incentive(ws.network(snapshot), as_of=day, programme=programme, premium=premium,
                               lifetime_years=lifetime, untrusted=set(trust.split(",")) if trust else None)
    render(result, fmt, table=table)


def register(group: click.Group) -> None:
    group.add_command(funding_cmd)
    group.add_command(plan_cmd)
    group.add_command(incentive_cmd)
