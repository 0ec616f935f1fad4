"""``cleanpath exposure``: equipment around sensitive sites, by vendor, operator and generation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from cleanpath.cli.common import format_options, handle_errors, snapshot_option
from cleanpath.cli.output import progress, render, stderr
from cleanpath.errors import Problem, ValidationError, WorkspaceError
from cleanpath.scale.executor import EXECUTORS

_UNITS = {"m": 1.0, "km": 1000.0, "mi": 1609.344, "nmi": 1852.0}


class Distance(click.ParamType):
    """A distance with an optional unit: ``5km``, ``500m``, ``3 mi``, ``2.5nmi``; bare numbers are metres."""

    name = "DISTANCE"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", str(value))
        unit = m.group(2).lower() if m else None
        if not m or (unit and unit not in _UNITS):
            self.fail(f"{value!r} is not a distance; write e.g. 5km, 500m, 3mi", param, ctx)
        return float(m.group(1)) * _UNITS[unit or "m"]


def _split(values) -> list[str]:
    return [v.strip() for item in values for v in str(item).split(",") if v.strip()]


def _expand_cells(values) -> list[str]:
    """Files named by --cells: files as given, directories' *.parquet, globs, in sorted order."""
    out: list[str] = []
    for v in _split(values):
        p = Path(v)
        if p.is_dir():
            found = sorted(p.glob("*.parquet"))
        elif any(c in v for c in "*?["):
            found = sorted(Path(p.anchor or ".").glob(str(p.relative_to(p.anchor)) if p.anchor else v))
        else:
            found = [p]
        if not found:
            raise ValidationError(Problem("no Parquet files match", file=v, column="--cells"))
        out += [str(f) for f in found]
    return out


@click.command("exposure")
@click.option("--sensitive", "sensitive", multiple=True, metavar="KIND|ID|FILE",
              help="Sensitive sites to look around: a kind (military, diplomatic, ...), a sensitive_id, "
                   "or a CSV/GeoJSON file of sites. Repeat or comma-separate; default every sensitive "
                   "site of the snapshot.")
@click.option("--radius", type=Distance(), default=None, metavar="DISTANCE",
              help="Radius around every point site (5km, 500m, 3mi), replacing each site's own radius_m. "
                   "Sites with a GeoJSON polygon keep it.")
@click.option("--by", "by", default="vendor,operator,generation", show_default=True, metavar="LIST",
              help="Breakdown tables: any of vendor, operator, generation (comma-separated; 'none' for none).")
@click.option("--untrusted", default=None, metavar="V[,V...]",
              help="Vendors counted as untrusted (ids or any spelling). Default: the catalogue's vendors "
                   "headquartered in China or Russia.")
@click.option("--cells", "cells", multiple=True, metavar="PARQUET",
              help="Count cells from Parquet files (OpenCelliD columns, plus vendor if present) instead of "
                   "the snapshot's sites; read in row groups, never wholly in memory. A file, a directory "
                   "of *.parquet, or a glob ('cells_*.parquet'); repeat or comma-separate for more.")
@click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True,
              help="Where the join runs: this process, worker processes, or a Dask cluster (split by space).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Dask scheduler address (tcp://host:8786); without it --executor dask starts a local cluster.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes for --executor processes, or a local Dask cluster (default: one per core).")
@click.option("--memory-limit", default=None, metavar="SIZE",
              help="DuckDB memory limit per task (e.g. 2GB); the join spills to disk above it.")
@click.option("--geojson", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the sites' areas and nearest untrusted equipment as a GeoJSON map layer.")
@snapshot_option
@format_options
@click.pass_obj
@handle_errors
def exposure_cmd(ctx, sensitive, radius, by, untrusted, cells, executor, scheduler, workers, memory_limit,
                 geojson, snapshot, fmt, table):
    """Equipment within reach of each sensitive site, by vendor, operator and generation.

    For every sensitive site (a circle of its radius, or its GeoJSON polygon): the sites and
    elements inside (inclusive: on the circle or the boundary counts), how many are from untrusted
    vendors, and the nearest site or cell with untrusted equipment and its distance. Distances are
    great-circle (haversine) on the sphere; areas across the antimeridian and around the poles are
    handled.

    The equipment is the snapshot's sites and elements, or with --cells an OpenCelliD-style
    Parquet export at world scale. Sensitive sites come from the snapshot (--sensitive kinds or
    ids) or from files (--sensitive FILE).

    Tables: exposure (one row per sensitive site), by_vendor, by_operator, by_generation,
    locations (positions, for maps).
    """
    from cleanpath.analysis.exposure import exposure_geojson, run_exposure, select_sensitive
    from cleanpath.scale.executor import get_executor

    breakdowns = [] if by.strip().lower() == "none" else _split([by])
    specs = _split(sensitive)
    trust = _split([untrusted]) if untrusted else None
    cells = _expand_cells(cells)
    net = None
    with progress("exposure") as step:
        ws_ctx = None
        try:
            if not cells or ctx.workspace_path.exists():
                ws_ctx = ctx.workspace(read_only=True)
        except WorkspaceError:
            if not cells:
                raise
        try:
            if ws_ctx is not None:
                step("loading snapshot")
                try:
                    net = ws_ctx.network(snapshot)
                except WorkspaceError:
                    if not cells:
                        raise
            sens = select_sensitive(net, specs)
            if len(sens) == 0:
                raise ValidationError("no sensitive sites to look around: import some (`cleanpath import "
                                      "sensitive FILE`) or name a file with --sensitive FILE")
            step(f"starting the {executor} executor")
            with get_executor(executor, scheduler, workers=workers) as ex:
                step(f"joining {len(sens):,} sensitive sites")
                result = run_exposure(net, sensitive=sens, radius_m=radius, by=breakdowns, untrusted=trust,
                                      cells=cells or None, executor=ex,
                                      memory_limit=memory_limit)
        finally:
            if ws_ctx is not None:
                ws_ctx.close()
    if geojson is not None:
        geojson.write_text(json.dumps(exposure_geojson(result, sens), ensure_ascii=False), encoding="utf-8")
        stderr.print(f"map layer: {geojson}")
    render(result, fmt, table=table)


def register(group: click.Group) -> None:
    group.add_command(exposure_cmd)
