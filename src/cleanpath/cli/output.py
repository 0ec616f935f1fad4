"""Rendering a :class:`~cleanpath.result.Result` for the terminal: table, JSON or CSV.

JSON is exactly one object on stdout; CSV is the main table (or ``--table NAME``), or every table
each preceded by a ``# name`` line with ``--table all``; progress and notes go to stderr.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import threading
import time
from typing import Iterator

import click
import pandas as pd
from rich.console import Console
from rich.table import Table as RichTable

from cleanpath.result import Result, jsonable, records

FORMATS = ("table", "json", "csv")
stderr = Console(stderr=True, highlight=False)


def _stdout() -> Console:
    probe = Console()
    # A terminal keeps its width; piped output gets room for wide tables instead of folding them.
    return Console(highlight=False, soft_wrap=False, width=probe.width if probe.is_terminal else 200)


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return _num(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, list):
        return ", ".join(map(str, v[:12])) + (f" (+{len(v) - 12})" if len(v) > 12 else "")
    return str(v)


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1e5 else f"{v:,.6g}"


def _rich_table(name: str, df: pd.DataFrame, limit: int, width: int = 200) -> RichTable:
    """The first ``limit`` rows and as many columns, from the left, as fit in ``width`` characters;
    the caption says what was left out (a squeezed column would show no digits at all)."""
    rows = [{k: (str(v) if isinstance(v, int) and not isinstance(v, bool) and "year" in k else _cell(v))
             for k, v in row.items()}  # years and ids read wrong with thousands separators ("2,027")
            for row in records(df.head(limit))]
    shown, used = [], 1
    for c in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[c].dtype) and not pd.api.types.is_bool_dtype(df[c].dtype)
        longest = max([len(str(c))] + [len(r[c]) for r in rows])
        need = (longest if numeric else min(longest, 24)) + 3  # text may fold down to 24 characters
        if shown and used + need > width:
            break
        shown.append((c, numeric))
        used += need
    t = RichTable(title=name, title_justify="left", show_lines=False)
    for c, numeric in shown:
        t.add_column(str(c), justify="right" if numeric else "left", overflow="fold", no_wrap=numeric,
                     max_width=None if numeric else 60)
    for r in rows:
        t.add_row(*(r[c] for c, _ in shown))
    notes = []
    if len(df) > limit:
        notes.append(f"{limit} of {len(df):,} rows shown")
    if len(shown) < len(df.columns):
        rest = [str(c) for c in df.columns[len(shown):]]
        notes.append(f"{len(rest)} more column{'s' if len(rest) > 1 else ''} ({', '.join(rest[:6])}"
                     f"{', ...' if len(rest) > 6 else ''})")
    if notes:
        t.caption = "; ".join(notes) + "; use --format csv or json for all"
    return t


def _short(v) -> str:
    """A summary value inside a nested mapping, compactly."""
    if isinstance(v, float):
        return _num(v) if abs(v) >= 1e5 else f"{v:,.4g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    if isinstance(v, list):
        return "[" + ", ".join(_short(x) for x in v[:12]) + (", ..." if len(v) > 12 else "") + "]"
    if isinstance(v, dict):
        return "; ".join(f"{a}={_short(b)}" for a, b in v.items())
    return str(v)


def _csv_ready(df: pd.DataFrame) -> pd.DataFrame:
    """List cells (witness paths, element sets) as ``|``-separated text, as the interchange files do."""
    out = df
    for c in df.columns:
        if df[c].dtype == object and df[c].map(lambda v: isinstance(v, (list, tuple))).any():
            out = out.copy() if out is df else out
            out[c] = df[c].map(lambda v: "|".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
    return out


def render(result: Result, fmt: str, *, table: str | None = None, limit: int = 30) -> None:
    """Print a result to stdout in the chosen format."""
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
        return
    if table and table != "all" and table not in result.tables:
        raise click.BadParameter(f"no table {table!r}; this result has {', '.join(result.tables)}",
                                 param_hint="--table")
    if fmt == "csv":
        names = list(result.tables) if table == "all" else [table or next(iter(result.tables), None)]
        for i, name in enumerate(n for n in names if n is not None):
            buf = io.StringIO()
            if table == "all":
                buf.write(("\n" if i else "") + f"# {name}\n")
            _csv_ready(result.tables[name]).to_csv(buf, index=False)
            sys.stdout.write(buf.getvalue())
        return
    con = _stdout()
    head = f"[bold]{result.question}[/bold]" + (f" · snapshot [cyan]{result.snapshot}[/cyan]" if result.snapshot else "")
    con.print(head)
    for k, v in jsonable(result.summary).items():
        if isinstance(v, (list, dict)):
            if not v:
                v = "none"
            elif isinstance(v, list):
                v = ", ".join(map(str, v[:20])) + (f" (+{len(v) - 20} more)" if len(v) > 20 else "")
            elif any(isinstance(b, dict) for b in v.values()):  # a mapping per key: one line each
                con.print(f"  {k}:")
                for a, b in list(v.items())[:50]:
                    con.print(f"    {a}: {_short(b)}")
                continue
            else:
                v = ", ".join(f"{a}: {_short(b)}" for a, b in list(v.items())[:20]) + (" ..." if len(v) > 20 else "")
        elif isinstance(v, float):
            v = _num(v) if abs(v) >= 1e5 else f"{v:,.4g}"
        elif isinstance(v, int) and not isinstance(v, bool):
            v = f"{v:,}"
        con.print(f"  {k}: {v}")
    for name, df in result.tables.items():
        if table and table != "all" and name != table:
            continue
        con.print()
        con.print(_rich_table(name, df, limit, con.width))


#: Seconds a command runs before progress lines appear when stderr is not a terminal, so that
#: quick commands stay silent in scripts and logs (``CLEANPATH_PROGRESS_AFTER`` overrides it).
PROGRESS_AFTER_S = 2.0
#: Shortest gap between two progress lines: steps reported many times a second (samples, chunks)
#: then cost a line a second at most, and the latest step is still shown.
PROGRESS_GAP_S = 1.0


def _progress_after() -> float:
    raw = os.environ.get("CLEANPATH_PROGRESS_AFTER")
    try:
        return max(0.0, float(raw)) if raw not in (None, "") else PROGRESS_AFTER_S
    except ValueError:
        return PROGRESS_AFTER_S


class _Lines:
    """Plain timestamped progress lines on a non-terminal stderr (logs, CI, ``2> file``).

    A line is ``[12.3s] generate: placing sites``: the seconds since the command started, the
    command and its current step. Nothing is written before ``after`` seconds have passed; from
    then on each step is written once (a ticker thread writes the step still running when the
    threshold passes), at most one line per :data:`PROGRESS_GAP_S`, and a final ``done`` line
    if anything was written.
    """

    def __init__(self, description: str, stream, after: float):
        self.description = description
        self.stream = stream
        self.after = after
        self.t0 = time.monotonic()
        self.current = description
        self.shown: str | None = None
        self.last = -math.inf
        self.wrote = False
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._tick, name="cleanpath-progress", daemon=True)

    def _write(self, now: float, text: str) -> None:
        try:
            self.stream.write(f"[{now - self.t0:.1f}s] {text}\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not fail the command
            pass
        self.shown, self.last, self.wrote = text, now, True

    def _maybe(self, now: float) -> None:
        # Called with the lock held.
        if (now - self.t0 >= self.after and self.current != self.shown
                and now - self.last >= PROGRESS_GAP_S):
            self._write(now, self.current)

    def _tick(self) -> None:
        while not self.stop.wait(0.2):
            with self.lock:
                self._maybe(time.monotonic())

    def step(self, text: str) -> None:
        with self.lock:
            self.current = f"{self.description}: {text}"
            self._maybe(time.monotonic())

    def __enter__(self) -> "_Lines":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        with self.lock:
            if self.wrote:
                self._write(time.monotonic(), f"{self.description}: " + ("done" if exc[0] is None else "stopped"))


def _has_fd(stream) -> bool:
    """True when ``stream`` is backed by a file descriptor (a pipe, a file, a terminal)."""
    try:
        stream.fileno()
        return True
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False


@contextlib.contextmanager
def progress(description: str) -> Iterator:
    """Progress of a command on stderr; stdout is never touched.

    On a terminal: a spinner whose text follows the current step. On a pipe or a file (a log,
    CI): plain lines such as ``[12.3s] generate: placing sites``, but only for commands that run
    longer than :data:`PROGRESS_AFTER_S` seconds, and at most one line per step (see
    :class:`_Lines`). Nothing when stderr is an in-memory stream (captured in-process).

    Yields
    ------
    callable
        ``step(text)``: sets the current step's description.
    """
    if not sys.stderr.isatty():
        if not _has_fd(sys.stderr):
            # In-process capture (click's test runner, an embedding application): the caller
            # reads stderr as text and has not asked for a log.
            yield lambda _s: None
            return
        with _Lines(description, sys.stderr, _progress_after()) as lines:
            yield lines.step
        return
    with stderr.status(description) as status:
        yield lambda s: status.update(f"{description}: {s}")
