"""Commands for the graph questions: ``outage`` and ``clean-path``."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Iterator

import click

from cleanpath.cli.common import format_options, handle_errors, snapshot_option
from cleanpath.cli.output import render, stderr


@contextlib.contextmanager
def _progress_bar(total: int | None) -> Iterator:
    """A progress bar on stderr (only on a terminal); yields ``update(done, total)`` or None."""
    if total is None or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("Monte Carlo", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=stderr, transient=True) as bar:
        task = bar.add_task("samples", total=total)
        yield lambda done, _total: bar.update(task, completed=done)


@click.command("outage")
@click.option("--vendor", "vendor", default=None, metavar="V[,V...]",
              help="Switch off (or turn hostile) every element of these vendors (ids or any spelling).")
@click.option("--elements", "elements_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="File of element ids: one per line, or a CSV with an element_id column.")
@click.option("--region", default=None, metavar="R",
              help="Every element at sites of region R (sites.region; comma-separated for several), "
                   "or within 'lat,lon,radius_km' of a point.")
@click.option("--random", "random_p", type=float, default=None, metavar="P",
              help="Monte Carlo: each element fails with probability P (within --vendor/--elements/--region "
                   "if given).")
@click.option("--samples", type=click.IntRange(min=1), default=None, metavar="N",
              help="Monte Carlo samples (default 1000).")
@click.option("--mode", type=click.Choice(["disable", "compromise"]), default="disable", show_default=True,
              help="disable: switched off. compromise: hostile; what it reads and could switch off.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the Monte Carlo draws.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes for the Monte Carlo samples.")
@click.option("--geojson", "geojson", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the lost sites as a GeoJSON FeatureCollection to this file.")
@snapshot_option
@format_options
@click.pass_obj
@handle_errors
def outage_cmd(ctx, vendor, elements_file, region, random_p, samples, mode, seed, workers, geojson, snapshot,
               fmt, table):
    """What is lost if a vendor's equipment is switched off or turned hostile, or elements fail.

    Give one of --vendor, --elements, --region, or --random P (optionally within one of them).
    Lost elements by domain, lost sites and subscribers, sensitive sites left without service,
    per operator. With --mode compromise: the share of traffic and sessions the elements see, and
    what their management systems could switch off. Random failures are Monte Carlo with 95 %
    confidence intervals.
    """
    from cleanpath.analysis.outage import lost_area_geojson, process_map, read_element_list, run_outage

    ids = lines = label = None
    if elements_file is not None:
        ids, lines, label = read_element_list(elements_file)
    with ctx.workspace(read_only=True) as ws:
        net = ws.network(snapshot)
        n = (samples or 1000) if random_p is not None else None
        with _progress_bar(n) as update:
            result = run_outage(net, vendors=vendor, elements=ids, elements_source=label, element_lines=lines,
                                region=region, random_p=random_p, samples=samples, mode=mode, seed=seed,
                                executor=process_map(workers) if workers > 1 and random_p is not None else None,
                                on_progress=update)
    if geojson is not None:
        if "lost_sites" not in result.tables:
            raise click.BadParameter("random failures have no single lost area", param_hint="--geojson")
        geojson.write_text(json.dumps(lost_area_geojson(result.tables["lost_sites"])), encoding="utf-8")
        stderr.print(f"lost area: {geojson}")
    render(result, fmt, table=table)


@click.command("clean-path")
@click.option("--sensitive", multiple=True, metavar="KIND|ID",
              help="Sensitive sites by kind (military, diplomatic, ...) or sensitive_id; repeat or "
                   "comma-separate (default: all).")
@click.option("--trust", default=None, metavar="PACK|VENDORS",
              help="Which vendors are untrusted: a policy pack (us-clean-path), vendors (huawei,zte), "
                   "country:CC, only:V1+V2 (trust only these), or 'default' (China and Russia).")
@click.option("--operator", default=None, metavar="O[,O...]", help="Only these operator ids.")
@click.option("--shared/--no-shared", default=True, show_default=True,
              help="Also compute one shared remediation for all sites (Steiner-style approximation).")
@snapshot_option
@format_options
@click.pass_obj
@handle_errors
def clean_path_cmd(ctx, sensitive, trust, operator, shared, snapshot, fmt, table):
    """Does each sensitive site have a path free of untrusted vendors, on each operator?

    For every sensitive site and operator: clean or not; a witness path (radio, transport, core
    user and control plane, gateway, and the management and anchor dependencies it relies on);
    the untrusted elements that block it; and the cheapest set of replacements that opens a clean
    path, with its cost and a lower bound. --shared adds one remediation for all sites at once.
    """
    from cleanpath.analysis.clean_path import run_clean_path

    with ctx.workspace(read_only=True) as ws:
        result = run_clean_path(ws.network(snapshot), sensitive=list(sensitive) or None, trust=trust,
                                operator=operator, shared=shared)
    render(result, fmt, table=table)


def register(group: click.Group) -> None:
    for cmd in (outage_cmd, clean_path_cmd):
        group.add_command(cmd)
