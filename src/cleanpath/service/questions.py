"""The questions the service answers, each a thin call into cleanpath's Python API.

A :class:`Question` knows its parameter model, which snapshots it reads, how to normalise its
parameters for the result cache (``as_of`` defaults to today, so "today" is part of the key) and
how to call the question's function. Nothing is computed here that the CLI does not compute the
same way: the REST result is the CLI's ``--format json`` result.

The service refuses anything that would make it read a file on the server: policy packs must be
shipped ones, trust tokens and sensitive-site specs may not name files, programmes must be shipped.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from importlib import resources
from typing import Any, Callable, Mapping

import pandas as pd
from pydantic import BaseModel

from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.model.network import Network
from cleanpath.model.schema import SENSITIVE_KINDS
from cleanpath.result import Result
from cleanpath.service import params as P

_FILE_SUFFIXES = (".yaml", ".yml", ".json", ".geojson", ".csv", ".gz", ".zip", ".parquet")


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def check_packs(text: str | None, *, column: str = "policy") -> str | None:
    """Comma-separated shipped pack names ('all' allowed), as the CLI passes them; files are refused."""
    if text is None:
        return None
    from cleanpath.policy.loader import shipped_packs

    shipped = set(shipped_packs())
    tokens = _split(text)
    problems = ProblemCollector("request")
    if not tokens:
        problems.add("no policy pack given", column=column, value=text)
    for t in tokens:
        if t != "all" and t not in shipped:
            problems.add(f"not a shipped policy pack (the service takes no policy files; shipped: "
                         f"{', '.join(sorted(shipped))})", column=column, value=t)
    problems.raise_if_any()
    return ",".join(tokens)


def _looks_like_file(token: str) -> bool:
    return (any(c in token for c in "/\\") or token.lower().endswith(_FILE_SUFFIXES)
            or os.path.exists(token))


def check_trust(text: str | None, *, column: str = "trust") -> str | None:
    """A trust setting with no file references (shipped packs, vendors, country:CC, only:...)."""
    if text is None:
        return None
    from cleanpath.policy.loader import shipped_packs

    shipped = set(shipped_packs())
    problems = ProblemCollector("request")
    for t in _split(text):
        low = t.lower()
        if low == "default" or low.startswith(("country:", "only:")) or t in shipped:
            continue
        if _looks_like_file(t):
            problems.add("the service takes no policy files: name a shipped pack, vendors, country:CC or only:...",
                         column=column, value=t)
    problems.raise_if_any()
    return text


def check_programme(name: str | None, *, column: str) -> str | None:
    """A shipped funding programme id."""
    if name is None:
        return None
    from cleanpath.plan.funding import shipped_programmes

    have = shipped_programmes()
    if name not in have:
        raise ValidationError(Problem(f"not a shipped funding programme (shipped: {', '.join(have)})",
                                      file="request", column=column, value=name))
    return name


def parse_amount(value: float | str | None, *, column: str) -> float | None:
    """An amount from a number or text such as ``1.895bn``, ``3080m``, ``US$1.9 bn``."""
    import click

    from cleanpath.cli.plan import parse_amount as parse_text

    if value is None or isinstance(value, (int, float)):
        return None if value is None else float(value)
    try:
        return parse_text(value)
    except click.BadParameter as e:
        raise ValidationError(Problem(e.message, file="request", column=column, value=value)) from None


def parse_budget(value: float | list[float] | str, horizon: int) -> float | list[float]:
    """One amount for every year, or one per year (a list, or comma-separated text)."""
    parts: list[Any] = value if isinstance(value, list) else (
        [p for p in value.split(",") if p.strip()] if isinstance(value, str) else [value])
    if not parts or len(parts) not in (1, horizon):
        raise ValidationError(Problem(f"{len(parts)} yearly amounts for a {horizon}-year horizon",
                                      file="request", column="budget", value=str(value)))
    amounts = [parse_amount(p, column="budget") for p in parts]
    if any(a is None or a < 0 or a != a for a in amounts):
        raise ValidationError(Problem("budget amounts must be numbers of at least 0", file="request",
                                      column="budget", value=str(value)))
    return amounts[0] if len(amounts) == 1 else amounts


def sensitive_rows(net: Network, specs: list[str]) -> pd.DataFrame | None:
    """The snapshot's sensitive sites named by kinds or ids (None: all of them)."""
    if not specs:
        return None
    ss = net.sensitive_sites
    ids = ss["sensitive_id"].astype(str)
    kinds = ss["kind"].astype(str)
    problems = ProblemCollector("request")
    known_ids = set(ids)
    for s in specs:
        if s not in SENSITIVE_KINDS and s not in known_ids:
            problems.add(f"not a sensitive-site kind ({', '.join(SENSITIVE_KINDS)}) or a sensitive_id of the "
                         f"snapshot (it has {len(ss):,})", column="sensitive", value=s)
    problems.raise_if_any()
    mask = kinds.isin(specs).to_numpy(dtype=bool) | ids.isin(specs).to_numpy(dtype=bool)
    return ss.loc[mask].reset_index(drop=True)


def _today() -> dt.date:
    return dt.date.today()


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
    """

    name: str
    model: type[BaseModel]
    summary: str
    snapshots: Callable[[Any], tuple[str, ...]]
    normalise: Callable[[Any], dict[str, Any]]
    run: Callable[[Mapping[str, Network], Any], Result]


def _dump(p: BaseModel, **overrides: Any) -> dict[str, Any]:
    d = p.model_dump(mode="json")
    d.update({k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in overrides.items()})
    return d


def _one(p: Any) -> tuple[str, ...]:
    return (p.snapshot,)


# --- the questions ---------------------------------------------------------------------------------

def _audit(nets: Mapping[str, Network], p: P.AuditParams) -> Result:
    from cleanpath.analysis.audit import audit_network, audit_timeline

    packs = check_packs(p.policy)
    net = nets[p.snapshot]
    if p.timeline:
        return audit_timeline(net, policies=packs, start=p.timeline[0], end=p.timeline[1],
                              jurisdiction=not p.all_operators)
    return audit_network(net, policies=packs, as_of=p.as_of or _today(), jurisdiction=not p.all_operators)


def _clean_path(nets: Mapping[str, Network], p: P.CleanPathParams) -> Result:
    from cleanpath.analysis.clean_path import run_clean_path

    return run_clean_path(nets[p.snapshot], sensitive=p.sensitive or None, trust=check_trust(p.trust),
                          operator=p.operator, shared=p.shared)


def _outage(nets: Mapping[str, Network], p: P.OutageParams) -> Result:
    from cleanpath.analysis.outage import run_outage

    return run_outage(nets[p.snapshot], vendors=p.vendor, elements=p.elements,
                      elements_source="elements" if p.elements is not None else None, region=p.region,
                      random_p=p.random, samples=p.samples, mode=p.mode, seed=p.seed)


def _exposure(nets: Mapping[str, Network], p: P.ExposureParams) -> Result:
    from cleanpath.analysis.exposure import run_exposure
    from cleanpath.analysis.trust import resolve_trust

    net = nets[p.snapshot]
    untrusted = resolve_trust(net, check_trust(p.trust)) if p.trust else None
    return run_exposure(net, sensitive=sensitive_rows(net, p.sensitive), radius_m=p.radius_m,
                        by=list(dict.fromkeys(p.by)), untrusted=untrusted)


def _plan(nets: Mapping[str, Network], p: P.PlanParams) -> Result:
    from cleanpath.plan.planner import run_plan

    packs = check_packs(p.policy)
    return run_plan(nets[p.snapshot], policies=packs, start_year=p.start, horizon=p.horizon,
                    budget=parse_budget(p.budget, p.horizon), crews=p.crews,
                    programme=check_programme(p.funding, column="funding"), objective=p.objective,
                    untrusted=_split(p.trust) or None, discount_rate=p.discount_rate, gap=p.gap,
                    time_limit=p.time_limit, explain=p.explain)


def _funding(_nets: Mapping[str, Network], p: P.FundingParams) -> Result:
    from cleanpath.plan.funding import read_applications, read_applications_text, run_funding

    programme = check_programme(p.programme, column="programme")
    if p.applications_csv is not None:
        apps, label = read_applications_text(p.applications_csv, "applications_csv"), "applications_csv (uploaded text)"
    else:
        path = resources.files("cleanpath.data").joinpath("programmes", f"{programme}-applications.csv")
        if not path.is_file():
            raise ValidationError(Problem(f"programme {programme!r} ships no application set: give applications_csv",
                                          file="request", column="applications_csv"))
        apps, label = read_applications(str(path)), "shipped synthetic set calibrated to the programme's aggregates"
    result = run_funding(apps, programme=programme, appropriation=parse_amount(p.appropriation, column="appropriation"),
                         as_of=p.as_of)
    result.params["applications"] = label
    return result


def _incentive(nets: Mapping[str, Network], p: P.IncentiveParams) -> Result:
    from cleanpath.plan.incentive import run_incentive

    return run_incentive(nets[p.snapshot], as_of=p.as_of or _today(),
                         programme=check_programme(p.funding, column="funding"), premium=p.premium,
                         lifetime_years=p.lifetime, untrusted=set(_split(p.trust)) or None)


def _compare(nets: Mapping[str, Network], p: P.CompareParams) -> Result:
    from cleanpath.analysis.compare import compare_snapshots

    return compare_snapshots(nets[p.a], nets[p.b], policies=check_packs(p.policy), as_of=p.as_of or _today(),
                             jurisdiction=not p.all_operators)


QUESTIONS: dict[str, Question] = {q.name: q for q in (
    Question("audit", P.AuditParams, "Which elements break which policy rule, as of a date (or month by month).",
             _one, lambda p: _dump(p, as_of=None if p.timeline else (p.as_of or _today())), _audit),
    Question("clean-path", P.CleanPathParams, "Does each sensitive site have a path free of untrusted vendors?",
             _one, lambda p: _dump(p), _clean_path),
    Question("outage", P.OutageParams, "What is lost if a vendor's equipment is switched off or turned hostile.",
             _one, lambda p: _dump(p), _outage),
    Question("exposure", P.ExposureParams,
             "Equipment within reach of each sensitive site, by vendor, operator, generation.",
             _one, lambda p: _dump(p), _exposure),
    Question("plan", P.PlanParams, "A cost-optimal, deadline-meeting multi-year replacement schedule.",
             _one, lambda p: _dump(p), _plan),
    Question("funding", P.FundingParams, "Allocate a funding programme's money to applications.",
             lambda p: (), lambda p: _dump(p), _funding),
    Question("incentive", P.IncentiveParams, "Compliance cost per operator against what a programme pays.",
             _one, lambda p: _dump(p, as_of=p.as_of or _today()), _incentive),
    Question("compare", P.CompareParams, "What changed between two snapshots, and how the findings changed.",
             lambda p: (p.a, p.b), lambda p: _dump(p, as_of=p.as_of or _today()), _compare),
)}


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
