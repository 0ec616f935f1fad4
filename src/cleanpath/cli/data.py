"""Commands that move data in and out and describe it: import, export, info, snapshots, schema, vendors."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd
from rich.markup import escape

from cleanpath.analysis.info import run_info
from cleanpath.cli.common import format_options, handle_errors, snapshot_option
from cleanpath.cli.output import progress, render, stderr
from cleanpath.io.registry import IMPORTERS, SOURCES
from cleanpath.io.tables import write_tables
from cleanpath.model.schema import SENSITIVE_KINDS, TABLES, schema_markdown
from cleanpath.model.vendors import default_catalogue
from cleanpath.result import Result
from cleanpath.analysis.explain import serving_warnings
from cleanpath.store.ingest import ingest, refuse_existing

#: What to do instead when an import, generate or estimate meets an existing snapshot.
_WAY_OUT = "use --replace to overwrite it, --merge to add these rows to it, or --snapshot NAME"


@click.command("import")
@click.argument("data_format", metavar="FORMAT",
                type=click.Choice([f for f in IMPORTERS if f != "mapped"] + list(SOURCES)))
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@snapshot_option
@click.option("--replace", is_flag=True, help="Overwrite the snapshot if it exists (its earlier content is dropped).")
@click.option("--merge", is_flag=True,
              help="Add the rows to the existing snapshot: rows already there with the same values are "
                   "skipped, the same id with other values is an error.")
@click.option("--vendor", default=None, help="topologyzoo/opencellid: vendor for every element (default unknown).")
@click.option("--vendor-map", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="topologyzoo: CSV of node label or id -> vendor (columns: node, vendor).")
@click.option("--operator", "operator_id", default=None,
              help="topologyzoo/cyclonedx: operator id for the imported sites (default from the file); "
                   "netbox: operator of sites without a tenant.")
@click.option("--country", default=None,
              help="ISO 3166-1 alpha-2 country. topologyzoo/cyclonedx: the operator's country; opencellid: keep "
                   "only this country's cells (by MCC); sensitive: fill blank countries; netbox: country of tenants "
                   "without a 'country' custom field.")
@click.option("--kind", "sensitive_kind", type=click.Choice(SENSITIVE_KINDS), default=None,
              help="sensitive: kind for rows that do not say (default military).")
@click.option("--radius-m", type=float, default=None, help="sensitive: radius for points that do not say (default 5000).")
@click.option("--map", "mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="tables: a mapping (YAML) that reads any CSV (any delimiter, decimal comma) or Excel "
                   "export onto the model tables: per table its file or sheet, columns and values "
                   "(see docs/mapping.md). netbox: roles, vendors, site kinds and custom fields "
                   "(see the README's NetBox section).")
@click.option("--url", default=None, help="netbox: NetBox's root URL (https://netbox.example.net).")
@click.option("--token-env", default=None, metavar="VAR",
              help="netbox: name of the environment variable holding the API token (never the token itself).")
@click.option("--dry-run", is_flag=True,
              help="Read and validate everything, write nothing: show the rows per table that would "
                   "land, the first rows, and every problem with file, sheet, row and column.")
@format_options
@click.pass_obj
@handle_errors
def import_cmd(ctx, data_format, paths, snapshot, replace, merge, vendor, vendor_map, operator_id, country,
               sensitive_kind, radius_m, mapping, url, token_env, dry_run, fmt, table):
    """Import files into a snapshot, all or nothing.

    FORMAT is one of: tables (the interchange CSV/Parquet files, in a directory or zip;
    with --map, any CSV or Excel export read through a mapping file, see docs/mapping.md),
    topologyzoo (GML or GraphML), opencellid (cell export CSV, gzip or not), cyclonedx
    (CycloneDX 1.5/1.6 JSON), sensitive (CSV, GeoJSON, GeoPackage, Shapefile or KML of
    sensitive sites), netbox (a live NetBox 4.x, read through its REST API: --url and
    --token-env, no PATHS; tenants, sites, devices and their connections).

    An existing snapshot is never changed silently: without --replace (start it afresh) or
    --merge (add these rows to it) the import stops with exit code 2. Every problem found is
    reported with file, line, column and value, and then nothing is written (exit code 2).
    Warnings (for example elements that cannot serve, and why) go to stderr.
    """
    if replace and merge:
        raise click.UsageError("--replace and --merge exclude each other")
    mode = "replace" if replace else "merge" if merge else "new"
    options = {k: v for k, v in dict(vendor=vendor, vendor_map=vendor_map, operator_id=operator_id,
                                     country=country, kind=sensitive_kind, radius_m=radius_m,
                                     mapping=mapping, url=url, token_env=token_env).items()
               if v is not None}
    if data_format in SOURCES:
        if paths:
            raise click.UsageError(f"{data_format} reads from a server: give --url and --token-env, not PATHS")
        if not url or not token_env:
            raise click.UsageError(f"{data_format} needs --url URL and --token-env VAR")
    elif not paths:
        raise click.UsageError("Missing argument 'PATHS...'.")
    elif url or token_env:
        raise click.UsageError("--url and --token-env go with FORMAT netbox")
    if mapping is not None and data_format not in ("tables", *SOURCES):
        raise click.UsageError("--map goes with FORMAT tables (cleanpath import tables FILES --map MAP) or netbox")
    read_as = "mapped" if mapping is not None and data_format == "tables" else data_format
    if dry_run:
        _dry_run(ctx, read_as, paths, snapshot, mode, options, fmt, table)
        return
    with ctx.workspace() as ws:
        # refuse before reading the files: the way out is the same whatever they hold
        if mode == "new":
            refuse_existing(ws, snapshot, way_out=_WAY_OUT)
        with progress(f"importing {data_format}") as step:
            rep = ingest(ws, read_as, paths, snapshot=snapshot, mode=mode, on_step=step,
                         diagnose=serving_warnings, **options)  # a server's URL is the default source
    for w in rep.warnings:
        stderr.print(f"[yellow]note:[/yellow] {escape(w)}", soft_wrap=True)
    if rep.unknown_vendors:
        names = ", ".join(f"{k} ({v:,})" for k, v in list(rep.unknown_vendors.items())[:10])
        stderr.print(f"[yellow]note:[/yellow] vendors not in the catalogue, kept as given: {escape(names)}",
                     soft_wrap=True)
    result = Result("import", rep.snapshot, params={"format": data_format, "paths": rep.files, "mode": mode, **options},
                    summary={"added": rep.added, "skipped": rep.skipped, "totals": rep.totals,
                             "unknown_vendors": rep.unknown_vendors, "warnings": rep.warnings},
                    tables={"tables": pd.DataFrame({"table": list(rep.totals),
                                                    "added": [rep.added.get(t, 0) for t in rep.totals],
                                                    "rows": list(rep.totals.values())})})
    render(result, fmt, table=table)


def _dry_run(ctx, read_as, paths, snapshot, mode, options, fmt, table) -> None:
    """``import --dry-run``: what would land, or every problem as a table; exit 2 on problems."""
    from cleanpath.errors import ValidationError
    from cleanpath.io.mapped import problem_rows

    params = {"format": read_as, "paths": [str(p) for p in paths], "mode": mode, "dry_run": True,
              **{k: str(v) for k, v in options.items()}}
    # A workspace that does not exist yet is not created by a dry run: an empty one stands in.
    opened = ctx.workspace(read_only=True) if ctx.workspace_path.exists() else _scratch_workspace()
    with opened as ws:
        try:
            with progress(f"checking {read_as}") as step:
                rep = ingest(ws, read_as, paths, snapshot=snapshot, mode=mode, on_step=step, dry_run=True,
                             diagnose=serving_warnings, **options)
        except ValidationError as e:
            problems = problem_rows(e.problems)
            result = Result("import", snapshot, params=params,
                            summary={"dry_run": True, "would_land": False, "problems": len(problems),
                                     "truncated": e.truncated},
                            tables={"problems": problems})
            render(result, fmt, table=table, limit=100)
            raise SystemExit(2)
    for w in rep.warnings:
        stderr.print(f"[yellow]note:[/yellow] {escape(w)}", soft_wrap=True)
    tables = {"tables": pd.DataFrame({"table": list(rep.added), "rows": list(rep.added.values()),
                                      "skipped": [rep.skipped.get(t, 0) for t in rep.added]})}
    tables.update({f"first_{t}": df for t, df in rep.preview.items()})
    render(Result("import", rep.snapshot, params=params,
                  summary={"dry_run": True, "would_land": True, "added": rep.added, "skipped": rep.skipped,
                           "totals_after": rep.totals, "unknown_vendors": rep.unknown_vendors,
                           "warnings": rep.warnings, "not_serving": rep.diagnosis},
                  tables=tables), fmt, table=table)


def _scratch_workspace():
    """An empty workspace in a temporary directory (removed afterwards) for a dry run."""
    import contextlib
    import tempfile

    from cleanpath.store.workspace import Workspace

    @contextlib.contextmanager
    def scratch():
        with tempfile.TemporaryDirectory(prefix="cleanpath-dry-run-") as d:
            ws = Workspace(Path(d) / "dry-run.duckdb")
            try:
                yield ws
            finally:
                ws.close()

    return scratch()


@click.command("info")
@snapshot_option
@format_options
@click.pass_obj
@handle_errors
def info_cmd(ctx, snapshot, fmt, table):
    """Summarise a snapshot: table sizes and elements by domain, vendor, generation, operator, country."""
    with ctx.workspace(read_only=True) as ws:
        result = run_info(ws.network(snapshot))
    for w in result.summary.get("warnings", []):
        stderr.print(f"[yellow]warning:[/yellow] {escape(w)}", soft_wrap=True)
    render(result, fmt, table=table)


@click.command("export")
@snapshot_option
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path),
              help="Directory, or a path ending in .zip.")
@click.option("--as", "as_", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True,
              help="File format of the tables.")
@click.pass_obj
@handle_errors
def export_cmd(ctx, snapshot, out, as_):
    """Export a snapshot as interchange files (re-importable with `cleanpath import tables`)."""
    with ctx.workspace(read_only=True) as ws:
        written = write_tables(ws.network(snapshot).tables(), out, fmt=as_)
    for p in written:
        click.echo(str(p))


@click.group("snapshots", invoke_without_command=True)
@format_options
@click.pass_context
@handle_errors
def snapshots_cmd(cctx, fmt, table):
    """List snapshots (or delete / copy them with the subcommands)."""
    if cctx.invoked_subcommand is not None:
        return
    ctx = cctx.obj
    if not ctx.workspace_path.exists():
        rows = []
    else:
        with ctx.workspace(read_only=True) as ws:
            rows = ws.snapshots()
    df = pd.DataFrame([{"name": s.name, "created_at": s.created_at, "updated_at": s.updated_at,
                        **{t: s.counts.get(t, 0) for t in ("sites", "elements", "links", "sensitive_sites")},
                        "source": s.source} for s in rows],
                      columns=["name", "created_at", "updated_at", "sites", "elements", "links",
                               "sensitive_sites", "source"])
    render(Result("snapshots", None, summary={"workspace": str(ctx.workspace_path), "snapshots": len(df)},
                  tables={"snapshots": df}), fmt, table=table)


@snapshots_cmd.command("delete")
@click.argument("name")
@click.pass_obj
@handle_errors
def snapshots_delete(ctx, name):
    """Delete snapshot NAME."""
    with ctx.workspace() as ws:
        ws.delete_snapshot(name)
    stderr.print(f"deleted snapshot {name}")


@snapshots_cmd.command("copy")
@click.argument("src")
@click.argument("dst")
@click.pass_obj
@handle_errors
def snapshots_copy(ctx, src, dst):
    """Copy snapshot SRC to DST (for what-if changes that keep the original)."""
    with ctx.workspace() as ws:
        ws.copy_snapshot(src, dst)
    stderr.print(f"copied snapshot {src} to {dst}")


@click.command("schema")
@click.option("--markdown", is_flag=True, help="Print the model as Markdown (docs/schema.md).")
@format_options
def schema_cmd(markdown, fmt, table):
    """Describe the network model: every table and column with type, unit, default and meaning."""
    if markdown:
        click.echo(schema_markdown())
        return
    rows = []
    for t in TABLES.values():
        for c in t.columns:
            rows.append({"table": t.name, "column": c.name, "type": c.dtype, "required": c.required,
                         "unit": c.unit, "default": None if c.default is None else str(c.default),
                         "allowed": "|".join(c.allowed) if c.allowed else None,
                         "references": c.references, "description": c.description})
    render(Result("schema", None, summary={"tables": len(TABLES)}, tables={"columns": pd.DataFrame(rows)}),
           fmt, table=table, limit=1000)


@click.group("vendors", invoke_without_command=True)
@format_options
@click.pass_context
def vendors_cmd(cctx, fmt, table):
    """The vendor catalogue (or `vendors resolve NAME...` to see how spellings match)."""
    if cctx.invoked_subcommand is not None:
        return
    cat = default_catalogue().table
    render(Result("vendors", None, summary={"vendors": len(cat)}, tables={"vendors": cat}), fmt,
           table=table, limit=1000)


@vendors_cmd.command("resolve")
@click.argument("names", nargs=-1, required=True)
def vendors_resolve(names):
    """Show which catalogue vendor each NAME resolves to."""
    cat = default_catalogue()
    for n in names:
        click.echo(f"{n}\t{cat.resolve(n) or 'unknown (kept as given)'}")


def register(group: click.Group) -> None:
    for cmd in (import_cmd, info_cmd, export_cmd, snapshots_cmd, schema_cmd, vendors_cmd):
        group.add_command(cmd)
