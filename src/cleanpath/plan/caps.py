"""Which policy rules a replacement plan can encode, and the share caps as linear requirements.

The planner turns element rules (``remove_by``, ``forbid``, ``no_new`` and ``funding``) into
per-element deadlines. A ``cap`` is not about one element: it limits the share of an operator's
(or the network's) equipment in a scope held by a vendor set, measured as the policy engine
measures it (:func:`cleanpath.policy.engine._cap_rule`):

- ``elements``: in-scope elements of the vendors / in-scope elements;
- ``sites``: sites with an in-scope element of the vendors / sites with an in-scope element;
- ``subscribers`` / ``traffic``: the sum over sites of the site's weight times the share of its
  in-scope elements that are the vendors', over the sum of the in-scope sites' weights.

Replacing an element keeps it in scope (the new box takes the old one's place) and takes it out of
the vendor set, so the denominator is fixed and the numerator falls by what the replaced units
held. For ``elements``, ``subscribers`` and ``traffic`` that fall is a sum over elements, so each
unit carries an exact contribution and "the cap holds from year Y" is one linear row over the
plan's variables: the contribution of the units replaced up to Y is at least
``numerator - cap x denominator``. For ``sites`` a site leaves the numerator only when all its
in-scope elements of the vendors are gone; that is linear (the site is the unit's) when one unit
holds all of them, which the coupling rules make the normal case (a site's RAN is one unit). A site
whose flagged elements are split over several units, or include elements the plan may not touch,
counts as never removed: stricter than the rule, so a plan that meets the row meets the cap, and
the ``caps`` table says how many sites were treated so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cleanpath.model.network import Network

#: Columns of the ``unencoded_rules`` table of a plan.
UNENCODED_COLUMNS = ["pack", "rule_id", "kind", "severity", "reason"]
#: Columns of the ``caps`` table of a plan.
CAP_COLUMNS = ["pack", "rule_id", "operator_id", "measure", "cap_percent", "holds_from_year", "numerator",
               "denominator", "share_before", "must_remove", "removable", "sites_not_removable"]
#: Rule kinds the planner encodes as element deadlines.
DEADLINE_KINDS = ("forbid", "remove_by", "no_new", "funding")


@dataclass
class CapRequirements:
    """The share caps of a plan as linear requirements over its units.

    Attributes
    ----------
    year
        (K,) 0-based plan year by the end of which each requirement must hold (clipped at 0).
    need
        (K,) least contribution the units replaced up to that year must remove.
    contrib
        (units, K) what replacing each unit removes from each requirement's numerator.
    names
        (K,) row names for the solver and the binding table.
    table
        One row per (cap rule, operator) in force within the horizon (:data:`CAP_COLUMNS`).
    table_contrib
        (units, rows of ``table``): what each unit removes from each row's numerator.
    """

    year: np.ndarray
    need: np.ndarray
    contrib: np.ndarray
    names: list[str] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CAP_COLUMNS))
    table_contrib: np.ndarray | None = None

    def after(self, replaced_year: np.ndarray, start_year: int) -> pd.DataFrame:
        """The table with each row's share once the plan's work up to the row's year is done.

        ``replaced_year`` is the calendar year each unit is replaced in (NaN: left in place).
        """
        t = self.table.copy()
        if len(t) == 0:
            return t.assign(share_after_plan=pd.Series(dtype=float), meets_cap=pd.Series(dtype=bool))
        by = t["holds_from_year"].to_numpy(dtype=float)
        done = np.asarray(replaced_year, dtype=float)[:, None] <= by[None, :]      # (units, rows)
        removed = (self.table_contrib * done).sum(axis=0)
        num = t["numerator"].to_numpy(dtype=float) - removed
        den = t["denominator"].to_numpy(dtype=float)
        t["share_after_plan"] = 100.0 * num / den
        t["meets_cap"] = num * 100.0 <= t["cap_percent"].to_numpy(dtype=float) * den * (1 + 1e-12)
        return t

    @property
    def k(self) -> int:
        """Number of requirements."""
        return len(self.need)

    @classmethod
    def empty(cls, n_units: int) -> "CapRequirements":
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((n_units, 0)))


def last_year(day: dt.date, start_year: int) -> int:
    """Last 0-based plan year whose work counts by ``day`` (work counts at the end of its year,
    so a day before 31 December of year Y needs the work done in Y - 1); negative when passed."""
    y = day.year if (day.month, day.day) == (12, 31) else day.year - 1
    return y - start_year


def _unit_of_element(net: Network, units: pd.DataFrame) -> np.ndarray:
    """Row of ``units`` holding each element of ``net`` (-1: in no unit)."""
    out = np.full(len(net.elements), -1, dtype=np.int64)
    if len(units) == 0:
        return out
    col = units["element_ids"]
    if isinstance(col.dtype, pd.ArrowDtype):
        lists = pa.array(col)
    else:
        lists = pa.array([list(v) for v in col], type=pa.list_(pa.string()))
    lists = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    parent = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(lists)
    if flat.type != pa.string():
        flat = flat.cast(pa.string())
    ids = pa.array(net.elements["element_id"], from_pandas=True)
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    pos = pc.index_in(flat, value_set=ids.cast(pa.string())).fill_null(-1).to_numpy(
        zero_copy_only=False).astype(np.int64)
    ok = pos >= 0
    out[pos[ok]] = parent[ok]
    return out


def cap_requirements(net: Network, rules: Sequence, units: pd.DataFrame, *, start_year: int, horizon: int,
                     jurisdiction: bool = True) -> tuple[CapRequirements, list[dict]]:
    """Linear requirements for the ``cap`` rules of violation severity.

    Parameters
    ----------
    net
        The network before the plan.
    rules
        Rules of the chosen packs (others than violation-severity caps are ignored).
    units
        The plan's units (:func:`cleanpath.plan.planner.replacement_units`).
    start_year, horizon
        The plan years.
    jurisdiction
        Apply each pack only in its countries (as the audit does).

    Returns
    -------
    requirements, unencoded
        The requirements, and rows for the ``unencoded_rules`` table (caps that cannot be
        judged, e.g. a traffic cap on a network without demands).
    """
    from cleanpath.policy.engine import AuditContext, _site_traffic
    from cleanpath.policy.language import ScopeAll, severity_rank

    ctx = AuditContext.of(net)
    n_units = len(units)
    unit_of = _unit_of_element(net, units)
    years, needs, cols, names, rows, unencoded, row_cols = [], [], [], [], [], [], []
    op_ids = ctx.operator_ids.to_pylist()
    for r in rules:
        if r.kind != "cap" or severity_rank(r.severity) < severity_rank("violation"):
            continue
        # the cap binds from the day after its deadline (or from its start when it has none)
        binding_day = r.deadline if r.deadline is not None else r.start - dt.timedelta(days=1)
        y = last_year(binding_day, start_year)
        if y >= horizon:
            continue  # binds only after the plan's last year: nothing to plan for
        # the share must hold at the end of every year from then on; a year whose elements in scope
        # and flagged are those of the year before adds nothing (its removals only grow), so only
        # years where the network's dated elements or the vendor list change get a row of their own
        scope = ScopeAll((r.scope, r.applies_to)) if (jurisdiction and r.applies_to is not None) else r.scope
        prev = None
        for y in range(max(y, 0), horizon):
            as_of = max(dt.date(start_year + y, 12, 31), r.start)
            in_scope = ctx.present(as_of) & ctx.scope_mask(scope)
            hit = in_scope & ctx.vendor_mask(r.vendors, as_of)
            state = (np.packbits(in_scope).tobytes(), np.packbits(hit).tobytes())
            if state == prev:
                continue
            prev = state
            if not hit.any():
                continue
            G = max(len(op_ids), 1) + 1                       # group 0: no operator / the whole network
            per_op = r.per == "operator"
            el_group = (ctx.op + 1) if per_op else np.zeros(ctx.n, dtype=np.int64)
            site_ok = ctx.site_pos >= 0
            stuck_sites = np.zeros(G)
            if r.measure == "elements":
                num = np.bincount(el_group[hit], minlength=G).astype(float)
                den = np.bincount(el_group[in_scope], minlength=G).astype(float)
                w_el = hit.astype(float)
                integral = True
            else:
                cnt_scope = np.bincount(ctx.site_pos[in_scope & site_ok], minlength=ctx.n_sites).astype(float)
                cnt_hit = np.bincount(ctx.site_pos[hit & site_ok], minlength=ctx.n_sites).astype(float)
                site_group = (ctx.site_op + 1) if per_op else np.zeros(ctx.n_sites, dtype=np.int64)
                if r.measure == "sites":
                    w_hit, w_scope = (cnt_hit > 0).astype(float), (cnt_scope > 0).astype(float)
                    # a site leaves the numerator when the one unit holding all its flagged elements goes
                    hp = np.flatnonzero(hit & site_ok)
                    su = unit_of[hp]
                    sp = ctx.site_pos[hp]
                    lo = np.full(ctx.n_sites, np.iinfo(np.int64).max)
                    hi = np.full(ctx.n_sites, -1)
                    np.minimum.at(lo, sp, su)
                    np.maximum.at(hi, sp, su)
                    single = (cnt_hit > 0) & (lo == hi) & (hi >= 0)
                    # the site's whole weight goes to its first flagged element; the rest carry 0
                    first = np.full(ctx.n_sites, -1)
                    first[sp[::-1]] = hp[::-1]
                    w_el = np.zeros(ctx.n)
                    w_el[first[single]] = 1.0
                    stuck_sites = np.bincount(site_group[(cnt_hit > 0) & ~single], minlength=G).astype(float)
                    integral = True
                else:
                    weight = ctx.site_subscribers if r.measure == "subscribers" else _site_traffic(ctx)
                    known = np.isfinite(weight) & (cnt_scope > 0)
                    if not np.any(known & (weight > 0)):
                        unencoded.append({"pack": r.pack, "rule_id": r.id, "kind": r.kind, "severity": r.severity,
                                          "reason": f"the network has no {r.measure} figures for the sites in scope, "
                                                    "so the audit does not evaluate this cap either"})
                        break
                    weight = np.where(known, weight, 0.0)
                    share = np.divide(cnt_hit, cnt_scope, out=np.zeros_like(cnt_hit), where=cnt_scope > 0)
                    w_hit, w_scope = weight * share, weight
                    per_el = np.divide(weight, cnt_scope, out=np.zeros_like(weight), where=cnt_scope > 0)
                    w_el = np.where(hit & site_ok, np.append(per_el, 0.0)[ctx.site_pos], 0.0)
                    integral = False
                num = np.bincount(site_group, weights=w_hit, minlength=G)
                den = np.bincount(site_group, weights=w_scope, minlength=G)
            # what each unit removes from each group's numerator (elements in no unit remove nothing)
            in_unit = hit & (unit_of >= 0) & (w_el > 0)
            contrib = np.bincount(unit_of[in_unit] * G + el_group[in_unit], weights=w_el[in_unit],
                                  minlength=n_units * G).reshape(n_units, G) if n_units else np.zeros((0, G))
            allowed = r.max_percent / 100.0 * den
            for g in np.flatnonzero(den > 0):
                need = num[g] - allowed[g]
                if integral:
                    need = np.ceil(need - 1e-9)               # whole elements or sites: the exact bound
                # weighted measures keep the exact bound too: a share exactly at the cap passes the audit
                # (it cross-multiplies), and a margin would refuse it (or make a 0 % cap unreachable)
                op = op_ids[g - 1] if (per_op and g > 0) else None
                removable = float(contrib[:, g].sum())
                rows.append({"pack": r.pack, "rule_id": r.id, "operator_id": op or ("network" if not per_op else None),
                             "measure": r.measure, "cap_percent": float(r.max_percent),
                             "holds_from_year": start_year + y, "numerator": float(num[g]),
                             "denominator": float(den[g]), "share_before": float(100.0 * num[g] / den[g]),
                             "must_remove": float(max(need, 0.0)), "removable": removable,
                             "sites_not_removable": int(stuck_sites[g]) if r.measure == "sites" else 0})
                row_cols.append(contrib[:, g])
                if need <= 0:
                    continue
                years.append(y)
                needs.append(float(need))
                cols.append(contrib[:, g])
                names.append(f"cap {r.pack}/{r.id} {op or 'network'} by {start_year + y}")
    req = CapRequirements(np.asarray(years, dtype=np.int64), np.asarray(needs, dtype=float),
                          np.stack(cols, axis=1) if cols else np.zeros((n_units, 0)), names,
                          pd.DataFrame(rows, columns=CAP_COLUMNS),
                          np.stack(row_cols, axis=1) if row_cols else np.zeros((n_units, 0)))
    return req, unencoded


def funding_deadlines(net: Network, rules: Sequence, *, jurisdiction: bool = True) -> pd.DataFrame:
    """Deadlines for ``funding`` rules of violation severity: equipment of the vendors paid for by
    the named programmes is a breach from the rule's start, so it is due the day before (as
    :func:`cleanpath.analysis.audit.element_deadlines` treats ``forbid``). A replaced element loses
    its funding tag (:func:`cleanpath.plan.apply.apply_schedule`), so replacing it clears the finding.

    Returns
    -------
    DataFrame
        ``element_id, deadline``.
    """
    from cleanpath.policy.engine import AuditContext, day_number
    from cleanpath.policy.language import ScopeAll, ScopeField, severity_rank

    ctx = AuditContext.of(net)
    best = np.full(ctx.n, np.iinfo(np.int32).max, dtype=np.int64)
    for r in rules:
        if r.kind != "funding" or severity_rank(r.severity) < severity_rank("violation"):
            continue
        last = r.start - dt.timedelta(days=1)
        scope = ScopeAll((r.scope, r.applies_to)) if (jurisdiction and r.applies_to is not None) else r.scope
        m = ctx.scope_mask(scope) & ctx.vendor_mask(r.vendors, r.start) & ctx.in_service
        m &= ctx.scope_mask(ScopeField("funded_by", r.programmes))
        if r.installed_on_or_after is not None:
            m &= ctx.installed >= day_number(r.installed_on_or_after)
        best = np.where(m, np.minimum(best, day_number(last)), best)
    pos = np.flatnonzero(best < np.iinfo(np.int32).max)
    return pd.DataFrame({
        "element_id": pd.Series(pd.arrays.ArrowExtensionArray(ctx.element_id.take(pa.array(pos, type=pa.int64())))),
        "deadline": pd.Series(pd.arrays.ArrowExtensionArray(
            pa.array(best[pos].astype(np.int32), type=pa.int32()).cast(pa.date32()))),
    })


def unencoded_rules(rules: Sequence, *, planned_kinds=DEADLINE_KINDS + ("cap",)) -> list[dict]:
    """Rules of the chosen packs the plan does not act on, each with the reason.

    Rules below violation severity are advice, not duties: the plan does not schedule work for them
    (they cannot count in ``violations_at_end``). ``clean_path`` rules need the path analysis of the
    clean-path question (which elements block a path depends on the others), which a schedule over
    units does not model.
    """
    from cleanpath.policy.language import severity_rank

    out = []
    for r in rules:
        if severity_rank(r.severity) < severity_rank("violation"):
            reason = f"severity {r.severity}: advice, not a legal duty; the plan schedules no work for it"
        elif r.kind not in planned_kinds:
            reason = ("needs the end-to-end path analysis of the clean-path question; run clean-path on the "
                      "plan's after-network" if r.kind == "clean_path" else f"rule kind {r.kind!r} is not modelled")
        else:
            continue
        out.append({"pack": r.pack, "rule_id": r.id, "kind": r.kind, "severity": r.severity, "reason": reason})
    return out


__all__ = ["CapRequirements", "cap_requirements", "unencoded_rules", "last_year", "UNENCODED_COLUMNS",
           "CAP_COLUMNS", "DEADLINE_KINDS", "funding_deadlines"]
