"""The ``cleanpath`` command: a thin face over the questions.

Each command parses options, opens the workspace, calls one function of the Python API and renders
its :class:`~cleanpath.result.Result`. No question is computed here. Exit codes: 0 ok, 2 bad
input (usage, validation, missing snapshot), 1 a bug.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

import click

from cleanpath import __version__
from cleanpath.cli.common import Context

#: Modules that add commands to the group (each has ``register(group)``).
COMMAND_MODULES = (
    "cleanpath.cli.data",
    "cleanpath.cli.demo",
    "cleanpath.cli.report",
    "cleanpath.cli.generate",
    "cleanpath.cli.policy",
    "cleanpath.cli.serve",
    "cleanpath.cli.check",
    "cleanpath.cli.questions",  # last: every registered question's command
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--workspace", "-w", type=click.Path(dir_okay=False, path_type=Path), envvar="CLEANPATH_WORKSPACE",
              default=None, help="Workspace file (DuckDB). Default: $CLEANPATH_WORKSPACE or ./cleanpath.duckdb.")
@click.version_option(__version__, prog_name="cleanpath")
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None) -> None:
    """Where untrusted vendors sit in a telecom network, what they could see or switch off,
    which laws that breaks, and the cheapest funded way out.

    Start with `cleanpath demo`, or import data (`cleanpath import --help`) and ask
    `cleanpath info`.
    """
    ctx.obj = Context(workspace)


for _mod in COMMAND_MODULES:
    import_module(_mod).register(cli)


def main() -> None:
    cli(prog_name="cleanpath")


if __name__ == "__main__":  # pragma: no cover
    main()
