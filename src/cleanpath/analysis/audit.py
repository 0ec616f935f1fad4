"""The ``audit`` question: which elements break which policy rule, as of a date.

Every finding names its rule, the rule's pack and legal source, the element (or operator, for a
market-share cap; or sensitive site, for a clean-path rule), the vendor, a message with the
evidence, and the deadline with the days left (negative once passed). The rules come from policy
packs (see :mod:`cleanpath.policy`); evaluation is vectorised over the element table.

Severity semantics
------------------
``forbid``, ``no_new``, ``funding``: the rule's severity from its ``from`` date.
``remove_by``: a *warning* with the days left up to and including the deadline day, the rule's
severity (normally *violation*) from the day after. A ``cap`` with a deadline behaves the same.
``clean_path``: the rule's severity for each sensitive site without a clean path; an *info*
finding "not evaluated" while no clean-path engine is registered.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from cleanpath.errors import ValidationError
from cleanpath.model.network import Network
from cleanpath.policy.engine import (AuditContext, Evaluation, day_number, element_union, evaluate,
                                     findings_frame, rule_counts)
from cleanpath.policy.language import SEVERITIES, Policy, Rule, ScopeAll, severity_rank
from cleanpath.policy.loader import load_policies, rules_of
from cleanpath.result import Result

PolicySpec = str | Policy | Sequence[str | Policy]


def parse_date(value: str | dt.date | None, *, what: str = "as_of") -> dt.date:
    """A date from ``YYYY-MM-DD`` text (None: today)."""
    from cleanpath.units import parse_date as _parse

    return dt.date.today() if value is None else _parse(value, where=what)


def _policies(net: Network, policies: PolicySpec) -> list[Policy]:
    return load_policies(policies, catalogue=net.catalogue)


# --- summaries ----------------------------------------------------------------------------------

def _by_rule(ctx: AuditContext, ev: Evaluation, counts: np.ndarray) -> pd.DataFrame:
    rows = []
    for i, r in enumerate(ev.rules):
        elements = sum(len(b) for b in ev.blocks if b.rule == i and b.mask is not None)
        days = (r.deadline - ev.as_of).days if r.deadline is not None else None
        rows.append({
            "pack": r.pack, "rule_id": r.id, "kind": r.kind, "title": r.title, "severity": r.severity,
            "status": ev.status.get(i, ""), "violation": int(counts[i, 2]), "warning": int(counts[i, 1]),
            "info": int(counts[i, 0]), "elements": int(elements), "deadline": r.deadline,
            "days_to_deadline": days, "unchecked": ev.unchecked.get(i),
            "confidence": r.confidence, "citation": r.citation.text(), "fact": r.citation.fact,
            "notes": r.notes,
        })
    cols = ["pack", "rule_id", "kind", "title", "severity", "status", "violation", "warning", "info",
            "elements", "deadline", "days_to_deadline", "unchecked", "confidence", "citation", "fact",
            "notes"]
    df = pd.DataFrame(rows, columns=cols)
    df["unchecked"] = df["unchecked"].astype("Int64")
    df["days_to_deadline"] = df["days_to_deadline"].astype("Int64")
    return df


def _by_pack(ctx: AuditContext, ev: Evaluation, counts: np.ndarray, policies: list[Policy]
             ) -> pd.DataFrame:
    titles = {p.name: p.title for p in policies}
    for p in policies:
        for inc in p.includes:
            titles.setdefault(inc.name, inc.title)
    rows = []
    for pack in dict.fromkeys(r.pack for r in ev.rules):
        idx = [i for i, r in enumerate(ev.rules) if r.pack == pack]
        c = counts[idx].sum(axis=0)
        rows.append({
            "pack": pack, "title": titles.get(pack, ""), "rules": len(idx),
            "in_force": sum(1 for i in idx if not ev.status.get(i, "").startswith("not in force")),
            "violation": int(c[2]), "warning": int(c[1]), "info": int(c[0]),
            "elements": int(np.count_nonzero(element_union(ctx, ev, idx))),
            "elements_in_violation": int(np.count_nonzero(element_union(ctx, ev, idx, severity_rank("violation")))),
        })
    return pd.DataFrame(rows, columns=["pack", "title", "rules", "in_force", "violation", "warning",
                                       "info", "elements", "elements_in_violation"])


def _by_operator(ctx: AuditContext, ev: Evaluation) -> pd.DataFrame:
    packs = list(dict.fromkeys(r.pack for r in ev.rules))
    n_ops = len(ctx.operator_ids) + 1  # code 0: no operator (network-wide findings)
    op_names = [None] + ctx.operator_ids.to_pylist()
    op_index = {o: k for k, o in enumerate(op_names) if o is not None}
    counts = np.zeros((len(packs), n_ops, len(SEVERITIES)), dtype=np.int64)
    elements = np.zeros((len(packs), n_ops), dtype=np.int64)
    for b in ev.blocks:
        k = packs.index(ev.rules[b.rule].pack)
        if b.mask is not None:
            counts[k, :, b.severity] += np.bincount(ctx.op[b.positions] + 1, minlength=n_ops)
        else:
            for op in b.rows["operator_id"]:
                counts[k, op_index.get(op, 0), b.severity] += 1
    for k, pack in enumerate(packs):
        idx = [i for i, r in enumerate(ev.rules) if r.pack == pack]
        u = np.flatnonzero(element_union(ctx, ev, idx))
        elements[k] = np.bincount(ctx.op[u] + 1, minlength=n_ops)
    rows = []
    for k, pack in enumerate(packs):
        for o in np.flatnonzero(counts[k].sum(axis=1)):
            rows.append({"operator_id": op_names[o], "pack": pack, "violation": int(counts[k, o, 2]),
                         "warning": int(counts[k, o, 1]), "info": int(counts[k, o, 0]),
                         "elements": int(elements[k, o])})
    df = pd.DataFrame(rows, columns=["operator_id", "pack", "violation", "warning", "info", "elements"])
    return df.sort_values(["violation", "warning", "operator_id"], ascending=[False, False, True],
                          ignore_index=True, na_position="last")


def _unattributed(ctx: AuditContext) -> int:
    known = ctx.net.catalogue.ids - {"unknown"}
    flags = np.isin(ctx.vendors, np.asarray(sorted(known), dtype=object))
    return int(np.count_nonzero(~np.append(flags, False)[ctx.vendor_codes]))


# --- the questions ------------------------------------------------------------------------------

def default_engine():
    """The clean-path engine ``clean_path`` rules are evaluated with, handed to the policy engine
    explicitly (the policy layer knows no question)."""
    from cleanpath.analysis.clean_path import policy_engine

    return policy_engine


def _engine(choice):
    """None: the default engine; False: none (clean_path rules unchecked); else the engine given."""
    if choice is False:
        return None
    return default_engine() if choice is None else choice


def audit_network(net: Network, *, policies: PolicySpec, as_of: str | dt.date | None = None,
                  jurisdiction: bool = True, clean_path=None) -> Result:
    """Audit a network against policy packs as of a date.

    Parameters
    ----------
    net
        The network.
    policies
        Shipped pack names (``"uk-tsa,de-2024"``, ``"all"``), policy files, or loaded
        :class:`~cleanpath.policy.Policy` objects.
    as_of
        The date the network is judged at (default today).
    jurisdiction
        Apply each pack only to operators in its countries (default). False applies every rule to
        every operator ("what if these rules applied here?").
    clean_path
        A clean-path engine for ``clean_path`` rules (default:
        :func:`cleanpath.analysis.clean_path.policy_engine`); ``False`` leaves them unchecked, and
        the findings say so.

    Returns
    -------
    Result
        Tables ``findings`` (finding_id, rule_id, pack, severity, element_id, site_id,
        operator_id, vendor, message, deadline, days_to_deadline, citation), ``by_pack``,
        ``by_rule`` and ``by_operator``; the summary has the counts per severity and the worst.
    """
    as_of = parse_date(as_of)
    pols = _policies(net, policies)
    rules = rules_of(pols)
    ctx = AuditContext.of(net)
    ev = evaluate(ctx, rules, as_of, jurisdiction=jurisdiction, clean_path=_engine(clean_path))
    counts = rule_counts(ev)
    findings = findings_frame(ctx, ev)
    total = counts.sum(axis=0)
    worst = next((s for s in reversed(SEVERITIES) if total[severity_rank(s)] > 0), "none")
    notes = sorted({ev.status[i] for i in ev.status if ev.status[i].startswith("not evaluated")})
    return Result(
        question="audit",
        snapshot=net.name,
        params={"policies": [p.name for p in pols], "as_of": as_of, "jurisdiction": jurisdiction},
        summary={
            "as_of": as_of,
            "packs": [p.name for p in pols],
            "rules": len(rules),
            "rules_in_force": sum(1 for s in ev.status.values() if not s.startswith("not in force")),
            "findings": int(total.sum()),
            "violations": int(total[2]), "warnings": int(total[1]), "info": int(total[0]),
            "worst": worst,
            "elements_with_findings": int(np.count_nonzero(element_union(ctx, ev))),
            "elements_in_violation": int(np.count_nonzero(element_union(ctx, ev, None, 2))),
            "elements": ctx.n,
            "unattributed_elements": _unattributed(ctx),
            "notes": notes,
        },
        tables={
            "findings": findings,
            "by_pack": _by_pack(ctx, ev, counts, pols),
            "by_rule": _by_rule(ctx, ev, counts),
            "by_operator": _by_operator(ctx, ev),
        },
    )


def months(start: str | dt.date, end: str | dt.date) -> list[dt.date]:
    """The last day of every month from ``start``'s month to ``end``'s (``YYYY-MM`` or a date)."""
    a, b = _month(start, "FROM"), _month(end, "TO")
    if b < a:
        raise ValidationError(f"timeline: TO ({b:%Y-%m}) is before FROM ({a:%Y-%m})")
    out = []
    y, m = a.year, a.month
    while (y, m) <= (b.year, b.month):
        out.append(dt.date(y, m, calendar.monthrange(y, m)[1]))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        if len(out) > 1200:
            raise ValidationError("timeline: at most 100 years of months")
    return out


def _month(v: str | dt.date, what: str) -> dt.date:
    if isinstance(v, dt.date):
        return v.replace(day=1)
    s = str(v).strip()
    try:
        return dt.date.fromisoformat(s + "-01" if len(s) == 7 else s).replace(day=1)
    except ValueError:
        raise ValidationError(f"timeline {what}: {v!r} is not a month (YYYY-MM) or date") from None


def audit_timeline(net: Network, *, policies: PolicySpec, start: str | dt.date, end: str | dt.date,
                   jurisdiction: bool = True, clean_path=None) -> Result:
    """Compliance month by month: the audit at the last day of each month from ``start`` to ``end``.

    Parameters
    ----------
    net
        The network (elements count from their ``installed_on`` date; a replacement plan, once
        applied to a snapshot, shows up here as elements leaving service).
    policies, jurisdiction, clean_path
        As for :func:`audit_network`.
    start, end
        First and last month (``YYYY-MM`` or a date in the month).

    Returns
    -------
    Result
        Table ``timeline`` with one row per month and pack (month, as_of, pack, violation,
        warning, info, elements_in_violation, compliant), and ``by_month`` with the totals.
    """
    pols = _policies(net, policies)
    rules = rules_of(pols)
    ctx = AuditContext.of(net)
    packs = list(dict.fromkeys(r.pack for r in rules))
    rows, totals = [], []
    for d in months(start, end):
        ev = evaluate(ctx, rules, d, jurisdiction=jurisdiction, clean_path=_engine(clean_path))
        counts = rule_counts(ev)
        month = f"{d:%Y-%m}"
        for pack in packs:
            idx = [i for i, r in enumerate(rules) if r.pack == pack]
            c = counts[idx].sum(axis=0)
            rows.append({"month": month, "as_of": d, "pack": pack, "violation": int(c[2]),
                         "warning": int(c[1]), "info": int(c[0]),
                         "elements_in_violation": int(np.count_nonzero(element_union(ctx, ev, idx, 2))),
                         "compliant": bool(c[2] == 0)})
        c = counts.sum(axis=0)
        totals.append({"month": month, "as_of": d, "violation": int(c[2]), "warning": int(c[1]),
                       "info": int(c[0]),
                       "elements_in_violation": int(np.count_nonzero(element_union(ctx, ev, None, 2))),
                       "compliant": bool(c[2] == 0)})
    by_month = pd.DataFrame(totals)
    first_ok = by_month.loc[by_month["compliant"], "month"]
    return Result(
        question="audit-timeline",
        snapshot=net.name,
        params={"policies": [p.name for p in pols], "from": f"{_month(start, 'FROM'):%Y-%m}",
                "to": f"{_month(end, 'TO'):%Y-%m}", "jurisdiction": jurisdiction},
        summary={"months": len(by_month), "packs": packs,
                 "months_compliant": int(by_month["compliant"].sum()),
                 "first_compliant_month": None if first_ok.empty else first_ok.iloc[0],
                 "peak_violations": int(by_month["violation"].max()) if len(by_month) else 0},
        tables={"timeline": pd.DataFrame(rows, columns=["month", "as_of", "pack", "violation", "warning",
                                                        "info", "elements_in_violation", "compliant"]),
                "by_month": by_month},
    )


def element_deadlines(net: Network, *, policies: PolicySpec, jurisdiction: bool = True,
                      min_severity: str = "violation") -> pd.DataFrame:
    """For each element some rule requires gone, the last day it may stay and the rule that says so.

    Parameters
    ----------
    net
        The network.
    policies
        Packs or policy files (as for :func:`audit_network`).
    jurisdiction
        Apply each pack only to operators in its countries.
    min_severity
        Only rules of at least this severity count (default: violations, i.e. legal duties).

    Returns
    -------
    DataFrame
        ``element_id, deadline, pack, rule_id``: the earliest deadline per element, from
        ``remove_by`` (its deadline), ``forbid`` and ``no_new`` (the day before they apply). The
        vendor set is taken as of that date. For the replacement planner.
    """
    rules = [r for r in rules_of(_policies(net, policies))
             if r.kind in ("forbid", "remove_by", "no_new") and severity_rank(r.severity) >= severity_rank(min_severity)]
    ctx = AuditContext.of(net)
    best = np.full(ctx.n, np.iinfo(np.int32).max, dtype=np.int64)
    which = np.full(ctx.n, -1, dtype=np.int64)
    for i, r in enumerate(rules):
        last = r.deadline if r.kind == "remove_by" else r.start - dt.timedelta(days=1)
        scope = r.scope if not (jurisdiction and r.applies_to is not None) else ScopeAll((r.scope, r.applies_to))
        m = ctx.scope_mask(scope) & ctx.vendor_mask(r.vendors, last) & ctx.in_service
        if r.kind == "no_new":
            m &= ctx.installed >= day_number(r.installed_on_or_after)
            last = max(last, r.installed_on_or_after - dt.timedelta(days=1))
        d = day_number(last)
        better = m & (d < best)
        best[better] = d
        which[better] = i
    pos = np.flatnonzero(which >= 0)
    codes = which[pos]
    packs = list(dict.fromkeys(r.pack for r in rules))
    ids = list(dict.fromkeys(r.id for r in rules))
    pack_code = np.array([packs.index(r.pack) for r in rules], dtype=np.int64)
    id_code = np.array([ids.index(r.id) for r in rules], dtype=np.int64)
    take = pa.array(pos, type=pa.int64())
    return pd.DataFrame({
        "element_id": pd.Series(pd.arrays.ArrowExtensionArray(ctx.element_id.take(take))),
        "deadline": pd.Series(pd.arrays.ArrowExtensionArray(
            pa.array(best[pos].astype(np.int32), type=pa.int32()).cast(pa.date32()))),
        "pack": pd.Categorical.from_codes(pack_code[codes], categories=packs),
        "rule_id": pd.Categorical.from_codes(id_code[codes], categories=ids),
    })


def fails(result: Result, level: str) -> bool:
    """True when the audit has a finding at or above ``level`` (info, warning, violation)."""
    if level not in SEVERITIES:
        raise ValidationError(f"--fail-on: {level!r} is not one of {', '.join(SEVERITIES)}")
    s = result.summary
    have = {"info": s.get("info", 0), "warning": s.get("warnings", 0), "violation": s.get("violations", 0)}
    return any(have[x] > 0 for x in SEVERITIES[severity_rank(level):])


def rules_table(policies: Sequence[Policy]) -> pd.DataFrame:
    """Every rule of the policies as a table (for ``cleanpath policy show``)."""
    return pd.DataFrame([_rule_row(r) for r in rules_of(list(policies))], columns=RULE_COLUMNS)


RULE_COLUMNS = ["pack", "rule_id", "kind", "title", "severity", "vendors", "scope", "from", "deadline",
                "installed_on_or_after", "cap", "programmes", "sensitive_kinds", "jurisdiction",
                "confidence", "instrument", "citation_date", "url", "fact", "notes", "file", "line"]


def _rule_row(r: Rule) -> dict:
    return {
        "pack": r.pack, "rule_id": r.id, "kind": r.kind, "title": r.title, "severity": r.severity,
        "vendors": r.vendors_label, "scope": r.scope_label, "from": r.start, "deadline": r.deadline,
        "installed_on_or_after": r.installed_on_or_after,
        "cap": None if r.max_percent is None else f"{r.max_percent:g} % of {r.measure} per {r.per}",
        "programmes": " | ".join(r.programmes) or None,
        "sensitive_kinds": ", ".join(r.sensitive_kinds) or None,
        "jurisdiction": None if r.applies_to is None else ", ".join(r.applies_to.values),
        "confidence": r.confidence, "instrument": r.citation.instrument,
        "citation_date": r.citation.date, "url": r.citation.url, "fact": r.citation.fact,
        "notes": r.notes, "file": r.file, "line": r.line,
    }
