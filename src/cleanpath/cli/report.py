"""``cleanpath report``: every question on a snapshot, in one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

import click

from cleanpath.cli.common import handle_errors, snapshot_option
from cleanpath.cli.output import progress, stderr


@click.command("report")
@snapshot_option
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=Path("report.html"),
              show_default=True, help="The HTML file to write.")
@click.option("--as-of", default=None, metavar="DATE",
              help="Date every question is asked at (YYYY-MM-DD; default today).")
@click.option("--policy", "-p", "policy", default=None, metavar="PACK[,PACK...]",
              help="Policy packs for the audit, the plan and the comparison (default: the packs of the "
                   "snapshot's countries, as every question defaults).")
@click.option("--set", "sets", multiple=True, metavar="QUESTION.PARAM=VALUE",
              help="Ask one question with another value (repeat): outage.vendor=zte, plan.horizon=8.")
@click.option("--title", default=None, help="Report title.")
@click.option("--pdf", "pdf", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Also print the report to this PDF (A4, the summary on page one), with headless chromium.")
@click.pass_obj
@handle_errors
def report_cmd(ctx, snapshot, out, as_of, policy, sets, title, pdf):
    """Run every question on a snapshot and write one self-contained HTML report.

    Each question is asked with the same defaults as its own command (see its --help); the
    report shows the parameters each was asked with. Page one is a summary (one figure and one
    sentence per question), then the map, then a section per question. The file has no external
    assets (inline styles, SVG map and charts): mail it, archive it, open it offline. With --pdf
    it is also printed to A4 by headless chromium (Debian's `chromium` package).
    """
    from cleanpath.model.vendors import default_untrusted
    from cleanpath.registry import Param
    from cleanpath.report.charts import charts_for
    from cleanpath.report.html import write_report
    from cleanpath.suite import SuiteSettings, run_suite

    day = Param("as_of", "date", "").convert(as_of) if as_of else None
    packs = tuple(Param("policy", "packs", "").convert(policy)) if policy else None
    settings = SuiteSettings(as_of=day, policy=packs, overrides=parse_sets(sets))
    with ctx.workspace(read_only=True) as ws, progress("report") as step:
        net = ws.network(snapshot)
        results = run_suite(net, settings, on_step=step)
        path = write_report(out, results=results, network=net, untrusted=default_untrusted(net.catalogue),
                            charts=charts_for(results), title=title or f"cleanpath report: {snapshot}")
    stderr.print(f"report: {path.resolve()}")
    click.echo(str(path))
    if pdf is not None:
        from cleanpath.report.pdf import write_pdf

        printed = write_pdf(path, pdf)
        stderr.print(f"pdf: {printed.resolve()}")
        click.echo(str(printed))


def parse_sets(sets) -> dict[str, dict[str, str]]:
    """``QUESTION.PARAM=VALUE`` settings, checked against the registry."""
    from cleanpath.errors import Problem, ValidationError
    from cleanpath.registry import QUESTIONS

    out: dict[str, dict[str, str]] = {}
    for s in sets:
        head, eq, value = s.partition("=")
        q, dot, name = head.strip().partition(".")
        if not eq or not dot or q not in QUESTIONS:
            raise ValidationError(Problem(f"write QUESTION.PARAM=VALUE with a registered question "
                                          f"({', '.join(QUESTIONS)})", column="--set", value=s))
        if name not in {p.name for p in QUESTIONS[q].params}:
            raise ValidationError(Problem(f"{q} has no parameter {name!r} "
                                          f"({', '.join(p.name for p in QUESTIONS[q].params)})", column="--set",
                                          value=s))
        out.setdefault(q, {})[name] = value.strip()
    return out


def register(group: click.Group) -> None:
    group.add_command(report_cmd)
