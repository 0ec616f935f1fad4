"""Commands that build networks when no inventory exists: generate and estimate."""

from __future__ import annotations

from pathlib import Path

import click

from cleanpath.cli.common import format_options, handle_errors, snapshot_option
from cleanpath.cli.output import progress, render, stderr
from cleanpath.store.ingest import refuse_existing

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
#: What to do instead when the target snapshot exists.
_WAY_OUT = "use --replace to overwrite it or --snapshot NAME"


def replace_option(f):
    """``--replace``: allow overwriting an existing snapshot (refused otherwise, exit 2)."""
    return click.option("--replace", is_flag=True,
                        help="Overwrite the snapshot if it exists (refused otherwise).")(f)


@click.command("generate")
@click.option("--country", "-c", required=True, metavar="CC",
              help="ISO 3166-1 alpha-2 code: DE, IT, JP, KR, AU, CA, GB, FR, ES, PL, US have "
                   "tailored operators; any other country gets three generic ones.")
@click.option("--scale", type=click.FloatRange(min=0, max=5, min_open=True), default=1.0, show_default=True,
              help="Share of the country's real number of cell sites (0.05 for a quick look).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed; the same seed gives the same network.")
@click.option("--operators", type=_FILE, default=None,
              help="YAML file of operators (market shares, vendor pools) replacing the shipped ones.")
@click.option("--vendor-shares", type=_FILE, default=None,
              help="YAML file of Chinese-vendor RAN shares replacing the shipped ones.")
@click.option("--backbone", type=_FILE, default=None,
              help="Topology Zoo GML or GraphML file used as the first operator's transport core.")
@snapshot_option
@replace_option
@format_options
@click.pass_obj
@handle_errors
def generate_cmd(ctx, country, scale, seed, operators, vendor_shares, backbone, snapshot, replace, fmt, table):
    """Generate a plausible national mobile network and store it as a snapshot.

    Cell sites follow real places and populations (GeoNames); each has 4G, and 5G where rolled
    out, with transport to hubs, aggregation sites and core data centres, EPC and 5G core,
    element managers and internet gateways. Vendors are assigned in regional lots so that the
    Chinese-vendor share of 4G and 5G RAN matches the reported figures (weighted by subscribers,
    as the sources are). An existing snapshot of the same name is only overwritten with
    --replace (otherwise exit code 2, before anything is built).
    """
    from cleanpath.build.generate import run_generate

    with ctx.workspace() as ws, progress(f"generating {country.upper()}") as step:
        if not replace:
            refuse_existing(ws, snapshot, way_out=_WAY_OUT)  # the CLI's own words for the way out
        step("building")
        result = run_generate(ws, snapshot=snapshot, country=country, scale=scale, seed=seed,
                              operators=operators, vendor_shares=vendor_shares, backbone=backbone,
                              replace=replace)
    for note in result.summary.get("notes", []):
        stderr.print(f"[yellow]note:[/yellow] {note}", soft_wrap=True)
    render(result, fmt, table=table)


@click.command("estimate")
@click.option("--opencellid", "opencellid", required=True, multiple=True, type=_FILE,
              help="OpenCelliD cell export (CSV, gzip or not); repeat for several files.")
@click.option("--vendor-shares", type=_FILE, default=None,
              help="YAML file of reported Chinese-vendor RAN shares (default: the shipped ones).")
@click.option("--samples", "-k", type=click.IntRange(min=1, max=10000), default=200, show_default=True,
              help="Number of vendor draws; figures are their median and 90 % interval.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the draws.")
@snapshot_option
@replace_option
@format_options
@click.pass_obj
@handle_errors
def estimate_cmd(ctx, opencellid, vendor_shares, samples, seed, snapshot, replace, fmt, table):
    """Estimate a network from public cell data, with vendors drawn from reported shares.

    Cell sites come from the OpenCelliD file (cells grouped into sites per operator); the rest
    of each operator's network (transport, core, management, gateways) is built as `generate`
    does. Vendors are drawn in regional lots from the reported shares, per operator where known,
    else per country, with the figures' uncertainty; K draws give each figure as a median and a
    90 % interval. The first draw is stored as the snapshot; an existing snapshot of the same
    name is only overwritten with --replace (otherwise exit code 2, before anything is built).
    """
    from cleanpath.build.estimate import run_estimate

    with ctx.workspace() as ws, progress("estimating") as step:
        if not replace:
            refuse_existing(ws, snapshot, way_out=_WAY_OUT)  # the CLI's own words for the way out
        step("reading cells")
        result = run_estimate(ws, snapshot=snapshot, opencellid=list(opencellid),
                              vendor_shares=vendor_shares, samples=samples, seed=seed, replace=replace)
    for note in result.summary.get("notes", []):
        stderr.print(f"[yellow]note:[/yellow] {note}", soft_wrap=True)
    render(result, fmt, table=table)


def register(group: click.Group) -> None:
    """Add ``generate`` and ``estimate`` to the command group."""
    for cmd in (generate_cmd, estimate_cmd):
        group.add_command(cmd)
