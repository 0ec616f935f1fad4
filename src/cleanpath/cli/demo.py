"""``cleanpath demo``: the main job, on data shipped inside the package."""

from __future__ import annotations

from pathlib import Path

import click

from cleanpath.cli.common import format_options, handle_errors
from cleanpath.cli.output import progress, render, stderr


@click.command("demo")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("cleanpath-demo"),
              show_default=True, help="Directory for the demo's workspace and report.")
@format_options
@handle_errors
def demo_cmd(out, fmt, table):
    """Run every question on a shipped German example and write a report.

    Needs no arguments and no network access.
    """
    from cleanpath.demo import run_demo

    with progress("demo") as step:
        result = run_demo(out, on_step=step)
    render(result, fmt, table=table)
    if fmt == "table":
        stderr.print(f"report: {result.summary.get('report')}")


def register(group: click.Group) -> None:
    group.add_command(demo_cmd)
