"""Pieces every command shares: the context, common options and error handling."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click
from rich.markup import escape

from cleanpath.cli.output import FORMATS, stderr
from cleanpath.errors import ValidationError, WorkspaceError
from cleanpath.store.workspace import DEFAULT_SNAPSHOT, default_workspace_path, open_workspace


class Context:
    """Options shared by every command."""

    def __init__(self, workspace: Path | None):
        self.workspace_path = workspace or default_workspace_path()

    def workspace(self, *, read_only: bool = False):
        return open_workspace(self.workspace_path, read_only=read_only)


def format_options(f):
    """``--format`` and ``--table`` for commands that print a result."""
    f = click.option("--table", "table", default=None, metavar="NAME",
                     help="Only this result table (csv: the table to print; 'all' for every table).")(f)
    f = click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                     help="Output format: a readable table, one JSON object, or CSV.")(f)
    return f


def snapshot_option(f):
    return click.option("--snapshot", "-s", default=DEFAULT_SNAPSHOT, show_default=True,
                        help="Snapshot to use.")(f)


def handle_errors(f):
    """Turn domain errors into a clear message and exit code 2 (JSON on stdout with --format json)."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except (ValidationError, WorkspaceError) as e:
            payload = e.to_dict() if isinstance(e, ValidationError) else {
                "error": "workspace", "message": str(e), "problems": []}
            if kwargs.get("fmt") == "json":
                click.echo(json.dumps(payload, ensure_ascii=False))
            stderr.print(f"[bold red]error:[/bold red] {escape(str(e))}", markup=True, highlight=False,
                         soft_wrap=True)
            sys.exit(2)

    return wrapper
