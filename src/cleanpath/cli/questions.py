"""The question commands, built from the registry.

One click command per registered question (:data:`cleanpath.registry.QUESTIONS`): its options are
the question's parameters (help, default, unit and bounds taken from the declaration), its body
opens the workspace, reads any files the CLI allows, calls :func:`cleanpath.registry.ask` and
renders the result. Nothing here knows what a question computes.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import Any, Iterator

import click
from rich.markup import escape

from cleanpath.cli.common import handle_errors
from cleanpath.cli.output import FORMATS, progress, render, stderr
from cleanpath.errors import Problem, ValidationError, WorkspaceError
from cleanpath.registry import QUESTIONS, QuestionSpec, ask, convert_values
from cleanpath.registry.params import Param

_ALIAS = "__alias__"


def option_help(p: Param) -> str:
    """A parameter's CLI help: its meaning, unit, bounds and default, from the declaration."""
    parts = [p.help.rstrip()]
    extra = []
    if p.unit:
        extra.append(f"unit: {p.unit}")
    b = p.bounds_text()
    if b:
        extra.append(b)
    if p.choices and p.kind in ("choice", "choices") and not p.choice_help:
        extra.append("one of " + ", ".join(p.choices) if p.kind == "choice" else "any of " + ", ".join(p.choices))
    if p.choice_help:
        extra.append("; ".join(f"{k}: {v}" for k, v in p.choice_help.items()))
    if p.value_aliases:
        extra.append("older names: " + ", ".join(f"{a} = {b}" for a, b in p.value_aliases.items()))
    d = p.default_text()
    if d is not None:
        extra.append(f"default: {d}")
    if extra:
        parts.append("[" + "; ".join(extra) + "]")
    return " ".join(parts)


def _click_params(p: Param) -> list[click.Parameter]:
    if p.argument:
        return [click.Argument([p.name], required=p.required, metavar=p.name.upper())]
    decls = [p.option, p.name]
    if p.name == "snapshot":
        decls.insert(1, "-s")
    if p.name == "policy":
        decls.insert(1, "-p")
    common: dict[str, Any] = dict(help=option_help(p), metavar=p.metavar or p.kind.upper())
    out: list[click.Parameter] = []
    if p.kind == "bool":
        if p.default is True:
            flag = p.option + "/--no-" + p.option[2:]
            out.append(click.Option([flag, p.name], default=None, help=option_help(p)))
        else:
            out.append(click.Option(decls, is_flag=True, default=None, help=option_help(p)))
    elif p.kind == "months":
        out.append(click.Option(decls, nargs=2, default=None, **common))
    elif p.kind in ("list", "choices", "snapshots"):
        out.append(click.Option(decls, multiple=True, default=None, **common))
    else:
        if p.kind == "choice":
            common["metavar"] = "[" + "|".join(p.choices or ()) + "]"
        out.append(click.Option(decls, default=None, **common))
    for alias in p.cli_aliases:
        out.append(click.Option([alias, p.name + _ALIAS + alias.strip("-").replace("-", "_")],
                                multiple=p.kind in ("list", "choices"), default=None, hidden=True,
                                help=f"Older name of {p.option}."))
    return out


def _given(v: Any) -> bool:
    return v is not None and v != ()


def _raw_values(spec: QuestionSpec, kw: dict[str, Any]) -> dict[str, Any]:
    """The values a user typed, by parameter name (hidden older option names folded in)."""
    raw: dict[str, Any] = {}
    for key, v in list(kw.items()):
        if _ALIAS in key:
            name = key.split(_ALIAS)[0]
            if _given(v):
                if _given(kw.get(name)):
                    raise ValidationError(Problem(f"given twice, as {spec.param(name).option} and an older name",
                                                  column=spec.param(name).option))
                kw[name] = v
            del kw[key]
    for p in spec.params_for("cli"):
        v = kw.get(p.name)
        if not _given(v):
            continue
        raw[p.name] = list(v) if isinstance(v, tuple) else v
    return raw


def _read_files(spec: QuestionSpec, raw: dict[str, Any]) -> dict[str, Any]:
    """What the CLI reads for a question before asking it (files are a CLI-only input)."""
    inputs: dict[str, Any] = {}
    for p in spec.params_for("cli"):
        if p.kind == "ids" and raw.get(p.name) is not None:
            from cleanpath.io.lists import read_element_list

            path = Path(str(raw[p.name]))
            if not path.is_file():
                raise ValidationError(Problem("no such file", file=str(path), column=p.option))
            ids, lines, label = read_element_list(path)
            raw[p.name] = ids
            inputs.update(elements_source=label, element_lines=lines)
    if spec.name == "exposure" and raw.get("cells"):
        raw["cells"] = expand_cells(raw["cells"])
    return inputs


def expand_cells(values) -> list[str]:
    """Files named by --cells: files as given, directories' *.parquet, globs, in sorted order."""
    from cleanpath.registry.params import split_list

    out: list[str] = []
    for v in split_list(values):
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


@contextlib.contextmanager
def _executor(spec: QuestionSpec, values: dict[str, Any]) -> Iterator:
    """The executor a command's options ask for (processes or Dask), or None."""
    if spec.name == "outage" and (values.get("workers") or 1) > 1 and values.get("random") is not None:
        from cleanpath.analysis.outage import process_map

        yield process_map(values["workers"])
    elif spec.name in ("exposure", "brief"):
        from cleanpath.scale.executor import get_executor

        with get_executor(values.get("executor") or "local", values.get("scheduler"),
                          workers=values.get("workers")) as ex:
            yield ex
    else:
        yield None


def _load(ctx, spec: QuestionSpec, values: dict[str, Any], stack: contextlib.ExitStack,
          inputs: dict[str, Any]) -> dict:
    names = spec.snapshot_names(values)
    if not names:
        return {}
    try:
        ws = stack.enter_context(ctx.workspace(read_only=True))
        inputs["snapshots"] = [s.name for s in ws.snapshots()]
        return {n: ws.network(n) for n in names}
    except WorkspaceError:
        # exposure over --cells files needs no workspace
        if spec.name == "exposure" and values.get("cells"):
            return {}
        raise


def build_command(spec: QuestionSpec) -> click.Command:
    """The click command of a registered question."""

    @click.pass_obj
    @handle_errors
    def callback(ctx, fmt: str, table: str | None, verbose: bool, **kw: Any) -> None:
        if verbose:
            logging.basicConfig(stream=sys.stderr, level=logging.INFO)
        raw = _raw_values(spec, kw)
        inputs = _read_files(spec, raw)
        inputs["verbose"] = bool(verbose)
        inputs["open_workspace"] = ctx.workspace  # for after-render hooks that write (plan --save-after)
        values = convert_values(spec, raw, face="cli")
        kept: list = []
        with contextlib.ExitStack() as stack:
            nets = _load(ctx, spec, values, stack, inputs)
            step = stack.enter_context(progress(spec.name))
            total = (values.get("samples") or 1000) if values.get("random") is not None else None
            update = stack.enter_context(_progress_bar(total))
            ex = stack.enter_context(_executor(spec, values))
            result = ask(spec, nets, raw, face="cli", on_step=step, on_progress=update, executor=ex,
                         inputs=inputs, keep=kept)
        render(result, fmt, table=table)
        code = spec.cli_finish(result, kept[0]) if spec.cli_finish is not None else None
        for line in kept[0].inputs.get("cli_notes", ()):
            stderr.print(line)
        warnings = result.summary.get("warnings")  # info: why elements cannot serve (audit: a count)
        for warning in warnings if isinstance(warnings, (list, tuple)) else ():
            stderr.print(f"[yellow]warning:[/yellow] {escape(str(warning))}", markup=True, soft_wrap=True)
        if code:
            sys.exit(code)

    params: list[click.Parameter] = []
    for p in spec.params_for("cli"):
        params += _click_params(p)
    params += [
        click.Option(["--format", "fmt"], type=click.Choice(FORMATS), default="table", show_default=True,
                     help="Output format: a readable table, one JSON object, or CSV."),
        click.Option(["--table", "table"], default=None, metavar="NAME",
                     help="Only this result table (csv: the table to print; 'all' for every table)."),
        click.Option(["--verbose", "verbose"], is_flag=True, default=False,
                     help="Solver and library logs on stderr."),
    ]
    doc = spec.title + "\n\n" + spec.doc
    return click.Command(spec.name, callback=callback, params=params, help=doc, short_help=spec.title)


def register(group: click.Group) -> None:
    for spec in QUESTIONS.values():
        group.add_command(build_command(spec))
