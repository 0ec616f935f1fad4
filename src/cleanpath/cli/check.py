"""``cleanpath check-workspace``: read every block of the workspace back and say what is damaged."""

from __future__ import annotations

import json
import sys

import click
import pandas as pd
from rich.markup import escape

from cleanpath.cli.common import format_options, handle_errors
from cleanpath.cli.output import render, stderr
from cleanpath.result import Result
from cleanpath.store.integrity import damage_message


@click.command("check-workspace")
@format_options
@click.pass_obj
@handle_errors
def check_workspace_cmd(ctx, fmt, table):
    """Verify the workspace file: DuckDB's block checksums, snapshot by snapshot.

    Every table of every snapshot (and the snapshot registry) is read in full, so DuckDB checks
    the checksum of every block that holds data; the catalogue is checked when the file opens.
    Prints one row per snapshot (ok or damaged, with what DuckDB found). Exit code 0 when
    everything reads back, 2 when anything is damaged (the message names the damage and the
    snapshots still readable) or the file cannot be opened. Nothing is written.
    """
    path = ctx.workspace_path
    with ctx.workspace(read_only=True) as ws:
        checks = ws.verify()
    df = pd.DataFrame([{"snapshot": c.name, "storage": c.storage, "status": "ok" if c.ok else "damaged",
                        "tables": c.tables, "rows": c.rows, "problem": c.problem} for c in checks],
                      columns=["snapshot", "storage", "status", "tables", "rows", "problem"])
    damaged = int((df["status"] == "damaged").sum())
    message = damage_message(path, checks)
    result = Result("check-workspace", None,
                    summary={"workspace": str(path), "ok": message is None,
                             "snapshots": int((df["snapshot"] != "(registry)").sum()), "damaged": damaged},
                    tables={"snapshots": df})
    if message is None:
        render(result, fmt, table=table)
        return
    if fmt == "json":
        # One JSON object on stdout, as handle_errors gives for every other failure.
        payload = {"error": "workspace", "message": message, "problems": [],
                   "checks": json.loads(json.dumps(df.to_dict(orient="records"), default=str))}
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        render(result, fmt, table=table)
    stderr.print(f"[bold red]error:[/bold red] {escape(message)}", markup=True, highlight=False,
                 soft_wrap=True)
    sys.exit(2)


def register(group: click.Group) -> None:
    group.add_command(check_workspace_cmd)
