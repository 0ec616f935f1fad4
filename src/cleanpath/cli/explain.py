"""``cleanpath explain``: why an element or a site serves, or does not.

The question registry (:mod:`cleanpath.registry.questions`) also declares ``explain``; when
:mod:`cleanpath.cli.questions` registers its generated command after this module, that one
replaces this plain command. This one stays as the fallback with the same arguments.
"""

from __future__ import annotations

import click

from cleanpath.cli.common import format_options, handle_errors, snapshot_option
from cleanpath.cli.output import render


@click.command("explain")
@click.argument("target", metavar="ELEMENT|SITE")
@snapshot_option
@format_options
@click.pass_obj
@handle_errors
def explain_cmd(ctx, target, snapshot, fmt, table):
    """Why ELEMENT (an element_id) or SITE (a site_id) serves, or does not.

    Lists the service model's requirements as a chain: in service; the control-plane function it
    is homed on serves; its 5G-NSA anchor serves; its manager serves (shown, but management only
    stops forwarding if the service model says so); it reaches a gateway over transport through
    serving elements. The first failed requirement is followed into the element it concerns,
    down to the root cause. For a site, every element of the site is explained. An unknown name
    exits with code 2 and suggests close matches.
    """
    from cleanpath.analysis.explain import run_explain

    with ctx.workspace(read_only=True) as ws:
        result = run_explain(ws.network(snapshot), target=target)
    render(result, fmt, table=table, limit=200)


def register(group: click.Group) -> None:
    """Add ``explain`` to the command group."""
    group.add_command(explain_cmd)
