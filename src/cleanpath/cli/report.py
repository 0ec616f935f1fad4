"""``cleanpath report``: every question on a snapshot, in one self-contained HTML file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from cleanpath.cli.common import handle_errors, snapshot_option
from cleanpath.cli.output import progress, stderr


@click.command("report")
@snapshot_option
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
              show_default=True, help="The HTML file to write.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Date of the audit (default today).")
@click.option("--policy", "policies", default="de-2024,eu-toolbox,us-clean-path", show_default=True,
              help="Policy packs for the audit, the plan and the comparison.")
@click.option("--outage-vendor", default="huawei", show_default=True, help="Vendor switched off in the outage section.")
@click.option("--plan-start", type=int, default=None, help="First plan year (default next year).")
@click.option("--plan-horizon", type=int, default=6, show_default=True, help="Plan length in years.")
@click.option("--title", default=None, help="Report title.")
@click.pass_obj
@handle_errors
def report_cmd(ctx, snapshot, out, as_of, policies, outage_vendor, plan_start, plan_horizon, title):
    """Run every question on a snapshot and write one self-contained HTML report.

    The file has no external assets (inline styles, SVG map and charts): mail it, archive it, open
    it offline.
    """
    from cleanpath.model.vendors import default_untrusted
    from cleanpath.report.charts import charts_for
    from cleanpath.report.html import write_report
    from cleanpath.suite import SuiteSettings, run_suite

    day = as_of.date() if as_of else dt.date.today()
    settings = SuiteSettings(as_of=day, policies=tuple(p.strip() for p in policies.split(",") if p.strip()),
                             outage_vendor=outage_vendor, plan_start=plan_start or day.year + 1,
                             plan_horizon=plan_horizon)
    with ctx.workspace(read_only=True) as ws, progress("report") as step:
        net = ws.network(snapshot)
        results = run_suite(net, settings, on_step=step)
        path = write_report(out, results=results, network=net, untrusted=default_untrusted(net.catalogue),
                            charts=charts_for(results), title=title or f"cleanpath report: {snapshot}")
    stderr.print(f"report: {path.resolve()}")
    click.echo(str(path))


def register(group: click.Group) -> None:
    group.add_command(report_cmd)
