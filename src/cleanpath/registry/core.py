"""The shape of a registered question and the one way every face asks it.

A :class:`QuestionSpec` declares a question as data: its parameters (:class:`~cleanpath.registry.
params.Param`), the function that answers it, its result tables with human labels and units, its
headline figures and its charts. :func:`ask` is the only path from user input to an answer: it
converts every value with the parameter's own converter, checks required ones, hands the
question function typed values, and records what was asked in the result's ``params``. The CLI,
the REST service, the dashboard, the demo and the report all go through it, so the same input
gives the same answer in every face.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.model.network import Network
from cleanpath.registry.params import REQUIRED, Auto, Param
from cleanpath.result import Result, jsonable


@dataclass(frozen=True)
class TableSpec:
    """A result table: its name in ``Result.tables``, a human label and column labels/units.

    Attributes
    ----------
    name
        Key in ``Result.tables``.
    label
        What the table shows, for people.
    columns
        Column name -> (label, unit or None) for columns whose name alone does not say it.
    """

    name: str
    label: str
    columns: Mapping[str, tuple[str, str | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class ChartSpec:
    """A chart of a result.

    Attributes
    ----------
    title
        Chart title (names what is plotted and its unit).
    kind
        ``bar`` (one bar per row of ``x``) or ``line`` (one line per ``y`` column over ``x``).
    table
        Table the data comes from; or use ``data``.
    x, y
        Column of labels/positions and the value column(s).
    data
        Derives the plotted frame from a result when no table holds it as is.
    colour
        Bar colour.
    """

    title: str
    kind: str
    x: str
    y: tuple[str, ...]
    table: str | None = None
    data: Callable[[Result], pd.DataFrame | None] | None = None
    colour: str = "#457b9d"

    def frame(self, r: Result) -> pd.DataFrame | None:
        df = self.data(r) if self.data is not None else r.tables.get(self.table or "")
        if df is None or len(df) == 0 or self.x not in df or any(c not in df for c in self.y):
            return None
        return df


@dataclass
class Ask:
    """What a question function receives.

    Attributes
    ----------
    spec
        The question.
    values
        Every declared parameter by name, converted; ``None`` where the user gave nothing and the
        default is ``None`` or an :class:`Auto` the question derives.
    nets
        The networks of the snapshot parameters, by snapshot name.
    face
        ``python``, ``cli``, ``rest``: only the CLI may name files on this machine.
    on_step, on_progress
        Progress callbacks (stderr in the CLI; job progress in the service).
    executor
        Runs parallel work (Monte Carlo samples, exposure tasks), or None.
    notes
        Resolved defaults, recorded in ``Result.params`` so every answer says what it assumed.
    inputs
        What a face read for the question (the lines of an element file, sensitive sites read from
        a file), never recorded as parameters.
    """

    spec: "QuestionSpec"
    values: dict[str, Any]
    nets: Mapping[str, Network]
    face: str = "python"
    on_step: Callable[[str], None] | None = None
    on_progress: Callable[[int, int], None] | None = None
    executor: Any = None
    notes: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def net(self) -> Network:
        return self.nets[self.values["snapshot"]]

    def resolved(self, name: str, value: Any) -> Any:
        """Record the value an :class:`Auto` default resolved to, and return it."""
        self.values[name] = value
        self.notes[name] = value
        return value

    def step(self, text: str) -> None:
        if self.on_step is not None:
            self.on_step(text)


@dataclass(frozen=True)
class QuestionSpec:
    """One question, declared once.

    Attributes
    ----------
    name
        The CLI command, the REST route ``/api/questions/<name>``, the ``Result.question``.
    title
        One line: what it answers.
    doc
        The CLI help's body (what it computes, what tables it returns).
    params
        Its parameters, in CLI order.
    answer
        ``answer(ask) -> Result``: calls the question function with typed values.
    tables
        Its result tables, main table first.
    headline
        Summary keys that tell the story in one line (demo, report, dashboard cards).
    charts
        Charts the report draws.
    suite
        The settings the demo and report ask it with (added to the registry's defaults), a tuple
        of such settings to ask it once per scenario, or ``None`` to leave it out of the suite.
    dashboard
        The dashboard tab that asks it.
    cli_finish
        After rendering: ``cli_finish(result, ask) -> exit code or None`` (``--fail-on``,
        ``--geojson`` files); CLI-only side effects live here, never in the question.
    """

    name: str
    title: str
    doc: str
    params: tuple[Param, ...]
    answer: Callable[[Ask], Result]
    tables: tuple[TableSpec, ...] = ()
    headline: tuple[str, ...] = ()
    charts: tuple[ChartSpec, ...] = ()
    suite: Mapping[str, Any] | tuple[Mapping[str, Any], ...] | None = field(default_factory=dict)
    dashboard: str | None = None
    cli_finish: Callable[[Result, "Ask"], int | None] | None = None

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def params_for(self, face: str) -> tuple[Param, ...]:
        return tuple(p for p in self.params if face in p.faces)

    @property
    def snapshot_params(self) -> tuple[str, ...]:
        """Parameters that name snapshots to load (one, or a list)."""
        return tuple(p.name for p in self.params if p.kind in ("snapshot", "snapshots"))

    def snapshot_names(self, values: Mapping[str, Any]) -> list[str]:
        """Every snapshot the values name, each once, in order."""
        out: list[str] = []
        for s in self.snapshot_params:
            v = values.get(s)
            out += [str(x) for x in (v if isinstance(v, (list, tuple)) else [v]) if x is not None]
        return list(dict.fromkeys(out))

    def table_label(self, name: str) -> str:
        for t in self.tables:
            if t.name == name:
                return t.label
        return name.replace("_", " ")

    def describe(self) -> dict[str, Any]:
        """The declaration as JSON (``GET /api/questions``)."""
        return {"name": self.name, "title": self.title, "doc": self.doc, "dashboard": self.dashboard,
                "params": [p.describe() for p in self.params if "rest" in p.faces],
                "tables": [{"name": t.name, "label": t.label,
                            "columns": {c: {"label": lab, "unit": u} for c, (lab, u) in t.columns.items()}}
                           for t in self.tables],
                "headline": list(self.headline)}


def convert_values(spec: QuestionSpec, raw: Mapping[str, Any], *, face: str) -> dict[str, Any]:
    """Every declared parameter converted; unknown names, bad values and missing required ones
    are reported together.

    Raises
    ------
    ValidationError
        Naming each parameter that is unknown, unreadable, out of bounds or missing.
    """
    problems = ProblemCollector("request" if face == "rest" else None)
    known = {p.name: p for p in spec.params}
    for name in raw:
        if name not in known:
            problems.add(f"{spec.name} has no parameter {name!r} (it takes {', '.join(known)})", column=name)
    values: dict[str, Any] = {}
    for p in spec.params:
        given = raw.get(p.name)
        if given is not None and face not in p.faces and face != "python":
            problems.add(f"not offered by this face ({face}); it takes {', '.join(sorted(p.faces))}",
                         column=p.name, value=given)
            continue
        try:
            v = p.convert(given)
        except ValidationError as e:
            for pr in e.problems:
                problems.add(pr.reason, file=pr.file or problems.file,
                             column=p.option if face == "cli" and not p.argument else p.name, value=pr.value)
            continue
        if v is None:
            if p.required:
                problems.add("required", column=p.option if face == "cli" else p.name)
                continue
            v = None if isinstance(p.default, Auto) or p.default is REQUIRED else p.default
            if isinstance(v, (list, dict)):
                v = type(v)(v)
        values[p.name] = v
    problems.raise_if_any()
    return values


def ask(spec: QuestionSpec, nets: Network | Mapping[str, Network], raw: Mapping[str, Any] | None = None, *,
        face: str = "python", on_step=None, on_progress=None, executor=None,
        inputs: Mapping[str, Any] | None = None, keep: list | None = None) -> Result:
    """Answer a question: convert the inputs, call the question function, record what was asked.

    Parameters
    ----------
    spec
        The question.
    nets
        The network (for one-snapshot questions) or the networks by snapshot name.
    raw
        Parameter values as given (CLI text, JSON, or Python values).
    face
        Who asks: ``python``, ``cli`` or ``rest``.
    on_step, on_progress, executor
        See :class:`Ask`.
    inputs
        What the face read for the question (see :attr:`Ask.inputs`).
    keep
        If a list, the :class:`Ask` is appended to it (the CLI's after-render hooks use it).

    Returns
    -------
    Result
        Its ``params`` hold every parameter as used, defaults resolved.
    """
    raw = dict(raw or {})
    if isinstance(nets, Network):
        snap = [s for s in spec.snapshot_params if spec.param(s).kind == "snapshot"]
        if snap and raw.get(snap[0]) is None:
            raw[snap[0]] = nets.name or "main"
        nets = {str(raw.get(snap[0])) if snap else (nets.name or "main"): nets}
    values = convert_values(spec, raw, face=face)
    missing = [n for n in spec.snapshot_names(values) if n not in nets]
    if missing:
        raise ValidationError(Problem(f"snapshot {missing[0]!r} was not loaded", column="snapshot",
                                      value=missing[0]))
    a = Ask(spec, values, nets, face=face, on_step=on_step, on_progress=on_progress, executor=executor,
            inputs=dict(inputs or {}))
    aliased = []
    for p in spec.params:
        given = raw.get(p.name)
        if p.value_aliases and isinstance(given, str) and given.strip() in p.value_aliases:
            a.notes[f"{p.name}_requested"] = given.strip()
            aliased.append(f"{p.name} {given.strip()!r} is read as {values[p.name]!r}")
    if keep is not None:
        keep.append(a)
    result = spec.answer(a)
    if aliased:  # an older spelling: say what it was read as, where people read the answer
        notes = result.summary.get("notes")
        notes = list(notes) if isinstance(notes, (list, tuple)) else ([notes] if notes else [])
        result.summary["notes"] = notes + [n for n in aliased if n not in notes]
    # The declared parameters as used, then the defaults the question resolved, then whatever else
    # the question function recorded (it never overrides the declared names).
    params = {p.name: _shown(a.values.get(p.name)) for p in spec.params
              if "rest" in p.faces or a.values.get(p.name) is not None}
    params.update({k: _shown(v) for k, v in a.notes.items()})
    for k, v in result.params.items():
        params.setdefault(k, v)
    result.params = jsonable(params)
    return result


def _shown(v: Any) -> Any:
    if isinstance(v, (dt.date,)):
        return v.isoformat()
    if hasattr(v, "text") and not isinstance(v, (str, bytes)):
        return str(v)  # a VendorSet: its canonical text
    return v
