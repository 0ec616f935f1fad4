"""Commands about money: funding programmes (and, with the planner, replacement plans)."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

import click

from cleanpath.cli.common import format_options, handle_errors
from cleanpath.cli.output import render


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


def register(group: click.Group) -> None:
    group.add_command(funding_cmd)
