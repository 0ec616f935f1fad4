"""Every registered question on one network: what the demo, the report and the dashboard show.

The suite asks each question of :data:`cleanpath.registry.QUESTIONS` whose ``suite`` is not None,
through :func:`cleanpath.registry.ask`, with the registry's defaults. The only settings added are
the question's own ``suite`` values (a scenario for questions that have no default one, such as
which vendor the outage switches off) and what the caller overrides (:class:`SuiteSettings`), and
every result records the parameters it was asked with. A question registered later appears in the
demo and the report without touching this file.

``compare`` is asked of the network before and after the plan: the after-network applies the
plan's schedule through its last year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

from cleanpath.model.network import Network
from cleanpath.registry import QUESTIONS, ask
from cleanpath.result import Result


@dataclass(frozen=True)
class SuiteSettings:
    """What the caller changes from the registry's defaults.

    Attributes
    ----------
    as_of
        Date every question with an ``as_of`` is asked at (default: the registry's, today).
    policy
        Policy packs for every question with a ``policy`` (default: the registry's, the packs of
        the snapshot's countries).
    overrides
        Parameter values by question name (``{"outage": {"mode": "kill"}}``).
    skip
        Questions to leave out.
    """

    as_of: dt.date | None = None
    policy: tuple[str, ...] | None = None
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    skip: tuple[str, ...] = ()


def suite_questions() -> tuple[str, ...]:
    """The questions the suite asks, in registry order."""
    return tuple(name for name, spec in QUESTIONS.items() if spec.suite is not None)


def suite_values(name: str, settings: SuiteSettings) -> list[dict[str, Any]]:
    """The parameters the suite asks ``name`` with, once per scenario the registry lists
    (everything else: the registry's defaults)."""
    spec = QUESTIONS[name]
    names = {p.name for p in spec.params}
    scenarios = spec.suite if isinstance(spec.suite, (list, tuple)) else [spec.suite or {}]
    out = []
    for scenario in scenarios:
        values: dict[str, Any] = dict(scenario)
        if settings.as_of is not None and "as_of" in names:
            values["as_of"] = settings.as_of
        if settings.policy is not None and "policy" in names:
            values["policy"] = list(settings.policy)
        values.update(settings.overrides.get(name, {}))
        out.append(values)
    return out


def run_suite(net: Network, settings: SuiteSettings | None = None, *,
              on_step: Callable[[str], None] | None = None) -> list[Result]:
    """Ask every suite question of ``net``.

    Returns
    -------
    list of Result
        In the order of :func:`suite_questions` (minus ``settings.skip``).
    """
    s = settings or SuiteSettings()
    step = on_step or (lambda _s: None)
    out: dict[str, Result] = {}
    for name in suite_questions():
        if name in s.skip:
            continue
        step(name)
        if name == "compare":
            plan = out["plan"][0] if "plan" in out else ask(QUESTIONS["plan"], net, suite_values("plan", s)[0])
            out[name] = [_compare_plan(net, plan, s)]
        else:
            out[name] = [ask(QUESTIONS[name], net, values, on_step=step) for values in suite_values(name, s)]
    return [r for rs in out.values() for r in rs]


def _compare_plan(net: Network, plan: Result, s: SuiteSettings) -> Result:
    """``compare`` of the network before and after the plan's schedule, audited at the plan's end."""
    from cleanpath.plan.apply import after_plan

    p = plan.params
    last = int(p["start"]) + int(p["horizon"]) - 1
    after = after_plan(net, plan)
    after_name = after.name
    values = {"a": net.name or "main", "b": after_name, "policy": list(p.get("policy") or []),
              "as_of": dt.date(last, 12, 31)}
    values.update(s.overrides.get("compare", {}))
    r = ask(QUESTIONS["compare"], {values["a"]: net, after_name: after}, values)
    r.params["after"] = f"{net.name} with the plan applied through {last}"
    return r


def section_keys(results: list[Result]) -> list[tuple[str, str]]:
    """(anchor, title) of each result's section: the question, and what differs when a question
    is asked more than once (``outage (kill)``)."""
    by_q: dict[str, list[int]] = {}
    for i, r in enumerate(results):
        by_q.setdefault(r.question, []).append(i)
    out = [(r.question, r.question) for r in results]
    for q, idx in by_q.items():
        if len(idx) < 2:
            continue
        keys = sorted({k for i in idx for k in results[i].params})
        differ = [k for k in keys if len({repr(results[i].params.get(k)) for i in idx}) > 1]
        for n, i in enumerate(idx):
            what = ", ".join(str(results[i].params.get(k)) for k in differ) or str(n + 1)
            slug = "-".join(str(results[i].params.get(k)) for k in differ) or str(n + 1)
            out[i] = (f"{q}-{slug}", f"{q} ({what})")
    return out


def headline(r: Result) -> str:
    """One line of the most telling figures of a result (the registry's headline keys)."""
    spec = QUESTIONS.get(r.question) or QUESTIONS.get(r.question.split("-")[0])
    keys = spec.headline if spec is not None and spec.headline else tuple(list(r.summary)[:3])

    def fmt(v) -> str:
        if isinstance(v, float):
            return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
        if isinstance(v, list):
            return f"{len(v)}"
        if isinstance(v, dict):
            return ", ".join(f"{a}: {fmt(b)}" for a, b in list(v.items())[:4])
        return str(v)

    return "; ".join(f"{k}={fmt(r.summary[k])}" for k in keys if k in r.summary)


def headlines(results: list[Result]) -> pd.DataFrame:
    """One row per result: its question (and scenario, when asked more than once) and headline."""
    return pd.DataFrame({"question": [title for _a, title in section_keys(results)],
                         "headline": [headline(r) for r in results]})
