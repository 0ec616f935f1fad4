"""The questions the service answers: the question registry, as REST routes.

Each registered question (:data:`cleanpath.registry.QUESTIONS`) becomes a :class:`Question` with a
request model generated from its parameter declarations, the snapshots a request reads, the
normalised parameters that key the result cache (``as_of`` defaults to today, so "today" is part of
the key) and a ``run`` that calls :func:`cleanpath.registry.ask` with ``face="rest"``. The REST
result is therefore the CLI's ``--format json`` result for the same inputs.

The service refuses anything that would make it read a file on the server: the registry's REST
face takes only shipped policy packs and programmes, and vendor sets resolve without files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import pandas as pd
from pydantic import BaseModel

from cleanpath.model.network import Network
from cleanpath.registry import QUESTIONS as REGISTRY
from cleanpath.registry import Auto, QuestionSpec, ask
from cleanpath.result import Result
from cleanpath.service.params import question_model


@dataclass(frozen=True)
class Question:
    """One question of the REST API.

    Attributes
    ----------
    name
        Route name (``/api/questions/<name>``) and the CLI command.
    model
        Pydantic model of its parameters.
    summary
        One line for the OpenAPI schema.
    snapshots
        The snapshots a request reads.
    normalise
        Parameters with defaults resolved (the cache key).
    run
        Calls the question's function: ``run(networks, params)``.
    spec
        The registry's declaration.
    """

    name: str
    model: type[BaseModel]
    summary: str
    snapshots: Callable[[Any], tuple[str, ...]]
    normalise: Callable[[Any], dict[str, Any]]
    run: Callable[[Mapping[str, Network], Any], Result]
    spec: QuestionSpec | None = None


def _question(spec: QuestionSpec) -> Question:
    dates = [p.name for p in spec.params_for("rest") if p.kind == "date" and isinstance(p.default, Auto)]
    aliased = {p.name: p.value_aliases for p in spec.params_for("rest") if p.value_aliases}

    def snapshots(p: BaseModel) -> tuple[str, ...]:
        values = p.model_dump()
        return tuple(spec.snapshot_names({s: spec.param(s).convert(values.get(s)) for s in spec.snapshot_params}))

    def canonical(p: BaseModel, **dump: Any) -> dict[str, Any]:
        # An older spelling asks the same question: one cache entry, one answer (no note about a
        # spelling somebody else used), and stored params that a viewer looks results up by in the
        # names the dashboard uses (``mode=disable`` is ``mode=fail``).
        d = p.model_dump(**dump)
        for name, aliases in aliased.items():
            if isinstance(d.get(name), str):
                d[name] = aliases.get(d[name].strip(), d[name])
        return d

    def normalise(p: BaseModel) -> dict[str, Any]:
        d = canonical(p, mode="json")
        for name in dates:
            if d.get(name) is None and not (spec.name == "audit" and d.get("timeline")):
                d[name] = dt.date.today().isoformat()
        return d

    def run(nets: Mapping[str, Network], p: BaseModel) -> Result:
        return ask(spec, nets, canonical(p, exclude_none=True), face="rest")

    return Question(spec.name, question_model(spec), spec.title, snapshots, normalise, run, spec)


#: Every registered question that takes a snapshot or REST parameters.
QUESTIONS: dict[str, Question] = {name: _question(spec) for name, spec in REGISTRY.items()}


# --- policy packs (the same Results as `cleanpath policy list|show`) ---------------------------------------------

def policy_list() -> dict[str, Any]:
    """The shipped packs as ``cleanpath policy list --format json`` prints them."""
    from cleanpath.policy.loader import load_policy, shipped_packs

    rows = []
    for name in shipped_packs():
        p = load_policy(name)
        rows.append({"pack": p.name, "title": p.title, "jurisdiction": ", ".join(p.jurisdiction) or "any",
                     "rules": len(p.rules), "library": p.library, "facts": ", ".join(p.facts) or None})
    df = pd.DataFrame(rows, columns=["pack", "title", "jurisdiction", "rules", "library", "facts"])
    return Result("policy-list", None, summary={"packs": int((~df["library"].astype(bool)).sum())},
                  tables={"packs": df}).to_dict()


def policy_show(pack: str) -> dict[str, Any]:
    """A shipped pack's rules as ``cleanpath policy show PACK --format json`` prints them."""
    from cleanpath.analysis.audit import rules_table
    from cleanpath.policy.loader import load_policy

    p = load_policy(pack)
    return Result("policy-show", None, params={"pack": pack},
                  summary={"pack": p.name, "title": p.title, "jurisdiction": list(p.jurisdiction) or "any",
                           "includes": [i.name for i in p.includes], "description": p.description, "notes": p.notes},
                  tables={"rules": rules_table([p])}).to_dict()
