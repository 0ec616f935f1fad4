"""Apply a replacement schedule to a network: the "after" snapshot that compare and audit judge."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cleanpath.model.network import Network


def replacement_vendors(net: Network, untrusted: set[str]) -> pd.Series:
    """For each (operator, domain), the trusted vendor it already uses most: who gets the contract.

    Falls back to the most common trusted vendor of the domain nationally, then to the most common
    trusted vendor overall (ties go to the vendor id first in alphabetical order). Counted on the
    audit context's integer codes (operator, role, vendor), so a million elements cost a few
    bincounts.

    Returns
    -------
    Series
        The replacement vendor of every element (index of ``net.elements``).
    """
    from cleanpath.policy.engine import AuditContext

    ctx = AuditContext.of(net)
    n_ops = len(ctx.operator_ids) + 1                  # code 0: no operator
    domains = np.array([str(r).split(".", 1)[0] for r in ctx.roles], dtype=object)
    dom_code, dom_names = pd.factorize(np.append(domains, "unknown"))
    n_dom = len(dom_names)
    dom = dom_code[np.where(ctx.role_codes >= 0, ctx.role_codes, len(domains))]
    op = ctx.op + 1
    # vendors by id, in alphabetical order, so that argmax breaks ties the same way every run
    names = np.asarray([str(v) for v in ctx.vendors], dtype=object)
    alpha = np.argsort(names, kind="stable")
    rank = np.empty(len(names), dtype=np.int64)
    rank[alpha] = np.arange(len(names))
    V = len(names)
    trusted = ~np.isin(names, np.asarray(sorted(set(untrusted) | {"unknown"}), dtype=object))
    ok = (ctx.vendor_codes >= 0)
    ok &= np.append(trusted, False)[ctx.vendor_codes]
    vr = rank[ctx.vendor_codes[ok]]
    counts = np.bincount((op[ok] * n_dom + dom[ok]) * V + vr, minlength=n_ops * n_dom * V).reshape(n_ops, n_dom, V)
    by_dom = counts.sum(axis=0)                        # (domains, vendors)
    overall = by_dom.sum(axis=0)                       # (vendors,)
    counts[0] = 0                                      # no operator: take the national choice
    sorted_names = names[alpha]
    choice = np.where(counts.max(axis=2) > 0, counts.argmax(axis=2),
                      np.where(by_dom.max(axis=1) > 0, by_dom.argmax(axis=1), -1)[None, :])
    fallback = sorted_names[overall.argmax()] if overall.max() > 0 else "replacement"
    pick = np.append(sorted_names, fallback).astype(object)[choice]   # (operators, domains)
    return pd.Series(pick[op, dom], index=net.elements.index, dtype=object)


def _string_array(values) -> pa.Array:
    """A column of ids as one Arrow string array (zero-copy for Arrow-backed columns)."""
    a = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, from_pandas=True)
    a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
    return a if pa.types.is_string(a.type) else a.cast(pa.string())


def _list_array(values: pd.Series) -> pa.ListArray:
    """The ``element_ids`` column as one Arrow list of strings (from an Arrow column or Python lists)."""
    if isinstance(values.dtype, pd.ArrowDtype):
        a = pa.array(values)
    else:
        a = pa.array([[] if v is None else list(v) for v in values], type=pa.list_(pa.string()))
    a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
    return a if a.type == pa.list_(pa.string()) else a.cast(pa.list_(pa.string()))


def element_replacement_year(net: Network, schedule: pd.DataFrame, units: pd.DataFrame) -> np.ndarray:
    """The year each element of ``net`` is replaced in (NaN: not replaced).

    Parameters
    ----------
    net
        The network the schedule was made for.
    schedule
        ``unit_id, year`` (year NaN for units left in place).
    units
        ``unit_id, element_ids`` (as :func:`cleanpath.plan.planner.replacement_units` returns).

    Returns
    -------
    ndarray of float
        One entry per row of ``net.elements``.
    """
    out = np.full(len(net.elements), np.nan)
    if len(units) == 0 or len(schedule) == 0:
        return out
    # the year of each unit, looked up by hash (no Python loop over units or elements)
    sched_year = pd.to_numeric(schedule["year"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    pos = pc.index_in(_string_array(units["unit_id"]), value_set=_string_array(schedule["unit_id"]))
    pos = pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    unit_year = np.where(pos >= 0, np.append(sched_year, np.nan)[pos], np.nan)
    lists = _list_array(units["element_ids"])
    parent = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(lists)
    el_pos = pc.index_in(flat, value_set=_string_array(net.elements["element_id"]))
    el_pos = el_pos.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    ok = (el_pos >= 0) & np.isfinite(unit_year[parent])
    out[el_pos[ok]] = unit_year[parent[ok]]
    return out


def apply_schedule(net: Network, schedule: pd.DataFrame, units: pd.DataFrame, *, through_year: int,
                   untrusted: set[str], name: str | None = None, replacement: pd.Series | None = None,
                   replaced_in: np.ndarray | None = None) -> Network:
    """The network after every unit scheduled up to ``through_year`` has been replaced.

    Replaced elements keep their ids and links (the new box takes the old one's place) and take the
    trusted vendor the operator already uses most in that domain; their install date becomes the
    1 July of the replacement year and any funding tag is cleared.

    Parameters
    ----------
    net, schedule, units
        As for :func:`element_replacement_year`.
    through_year
        Last year whose replacements are applied.
    untrusted
        Vendor ids that do not get contracts.
    name
        Name of the returned network.
    replacement, replaced_in
        The vendor each element would be replaced by (default :func:`replacement_vendors`) and the
        year it is replaced in (default :func:`element_replacement_year`); pass them when applying
        one schedule for several years.
    """
    year = replaced_in if replaced_in is not None else element_replacement_year(net, schedule, units)
    mask = year <= through_year  # NaN compares False
    el = net.elements.copy()
    new_vendor = replacement if replacement is not None else replacement_vendors(net, untrusted)
    vendor = el["vendor"].astype(object).to_numpy(copy=True)
    vendor[mask] = new_vendor.to_numpy(dtype=object)[mask]
    el["vendor"] = pd.array(vendor, dtype=el["vendor"].dtype)
    # install dates as day numbers (NaN: unknown), the replaced ones set to 1 July of their year
    days = _arrow_column(el["installed_on"]).cast(pa.date32()).cast(pa.int32()).to_numpy(
        zero_copy_only=False).astype(np.float64)
    july = (year[mask].astype(np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[M]") + 6
    days[mask] = july.astype("datetime64[D]").astype(np.int64)
    known = np.isfinite(days)
    new_inst = pa.array(np.where(known, days, 0).astype(np.int32), type=pa.int32(), mask=~known)
    el["installed_on"] = pd.Series(pd.arrays.ArrowExtensionArray(new_inst.cast(pa.date32())),
                                   index=el.index).astype(el["installed_on"].dtype)
    funded = el["funded_by"].astype(object).to_numpy(copy=True)
    funded[mask] = None
    el["funded_by"] = pd.array(funded, dtype=el["funded_by"].dtype)
    tables = net.tables()
    tables["elements"] = el
    return Network(tables, name=name or f"{net.name}-after-{through_year}", validate=False)


def _arrow_column(s: pd.Series) -> pa.Array:
    a = pa.array(s, from_pandas=True)
    return a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a


def after_plan(net: Network, plan, *, through_year: int | None = None, name: str | None = None) -> Network:
    """The network after a plan's schedule, through its last year (or ``through_year``).

    Parameters
    ----------
    net
        The network the plan was made for.
    plan
        The plan's :class:`~cleanpath.result.Result` (as ``cleanpath plan`` returns it): its
        ``schedule`` table and the vendors and packs it was asked with (``params``).
    through_year
        Last year whose replacements are applied (default: the plan's last year).
    name
        Name of the returned network (default ``<net>-after-plan``).

    Returns
    -------
    Network
        Replaced elements carry the trusted vendor their operator uses most in the domain; the units
        are those the plan scheduled (untrusted vendors plus whatever a deadline names).
    """
    from cleanpath.analysis.audit import element_deadlines
    from cleanpath.plan.planner import replacement_units

    p = plan.params
    untrusted = set(p.get("untrusted_vendors") or p.get("untrusted") or [])
    packs = list(p.get("policy") or p.get("policies") or [])
    start = int(p.get("start") or p.get("start_year"))
    last = through_year if through_year is not None else start + int(p["horizon"]) - 1
    deadlines = element_deadlines(net, policies=packs) if packs else None
    units = replacement_units(net, untrusted=untrusted, deadlines=deadlines)
    return apply_schedule(net, plan.tables["schedule"], units, through_year=last, untrusted=untrusted,
                          name=name or f"{net.name}-after-plan")
