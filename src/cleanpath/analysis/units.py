"""Replacement units: how the field groups equipment that is swapped together, and what a unit costs.

The coupling rules (shared by the planner, :func:`cleanpath.plan.planner.replacement_units`, and the
clean-path remediation, :mod:`cleanpath.analysis.remediation`, so both price and group the same way):

- a cell site's RAN is one unit (``ran:<site>``); a 5G-NSA radio anchored (``anchor`` link, radio
  as ``a``) on an element being replaced goes with its anchor's unit even when its own vendor is
  trusted: a new vendor's 4G anchor does not drive another vendor's NSA radio;
- a core data centre's core functions are one unit (``core:<site>``);
- a management system (EMS/OSS) is one unit (``mgmt:<element>``) that also pays
  :data:`REHOME_COST` for every element it manages;
- the remaining equipment of a site (transport, security, gateways) is one unit
  (``transport:<site>``).

A unit costs the sum of its elements' costs (:class:`cleanpath.model.costs.CostModel`) plus one
site visit. It lives in analysis (not plan) because analysis must not import plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cleanpath.model.costs import CostModel, load_costs

#: Cost of re-homing one managed element to a new management system.
REHOME_COST = 500.0
#: Unit kinds, from the domain of the role (anything else is ``transport``).
UNIT_KINDS = ("ran", "core", "mgmt", "transport")


def _arrow(values) -> pa.Array:
    """A column of ids as one Arrow string array (zero-copy for Arrow-backed columns)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        a = values
    elif isinstance(values, pd.Series) and not isinstance(values.dtype, (pd.ArrowDtype, pd.StringDtype)):
        a = pa.array(values.to_numpy(dtype=object), from_pandas=True)
    else:
        a = pa.array(values, from_pandas=True)
    a = a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a
    return a if a.type == pa.string() else a.cast(pa.string())


def index_in(values, keys) -> np.ndarray:
    """Position of each value among ``keys`` (-1 where absent), hash-based."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    idx = pc.index_in(_arrow(values), value_set=_arrow(keys))
    return idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def anchored_on(net, bad: np.ndarray) -> np.ndarray:
    """For each element, the position of the replaced element it is anchored on (-1: none)."""
    out = np.full(len(net.elements), -1, dtype=np.int64)
    links = net.links
    if len(links) == 0 or not bad.any():
        return out
    anchor = (links["kind"] == "anchor").to_numpy(dtype=bool, na_value=False)
    if not anchor.any():
        return out
    ends = pa.concat_arrays([_arrow(links.loc[anchor, "a"]), _arrow(links.loc[anchor, "b"])])
    pos = index_in(ends, net.elements["element_id"])  # one hash table over the element ids
    k = int(np.count_nonzero(anchor))
    a, b = pos[:k], pos[k:]
    ok = (a >= 0) & (b >= 0)
    a, b = a[ok], b[ok]
    hit = bad[b]
    out[a[hit]] = b[hit]
    return out


@dataclass
class UnitGrouping:
    """Elements grouped into replacement units.

    Attributes
    ----------
    pos
        Positions (in ``net.elements``) of the grouped elements, ascending.
    frame
        Those rows of ``net.elements`` (``element_id, site_id, role, vendor, generation,
        unit_cost, installed_on``), index reset.
    eid, kind, home
        Per grouped element: id, unit kind, the site whose unit it joins.
    cost
        Per grouped element: its replacement cost (management systems include re-homing).
    unit_id
        Per grouped element: its unit's id.
    codes, uniq
        Per grouped element its unit code, and the unit ids (sorted; ``uniq[codes] == unit_id``).
    order, starts, size, first_el
        The grouped elements sorted by unit (stable), where each unit starts in that order, its
        size, and its first element (an index into ``pos``).
    site_visit
        The per-unit visit cost of the cost model.
    """

    pos: np.ndarray
    frame: pd.DataFrame
    eid: np.ndarray
    kind: np.ndarray
    home: np.ndarray
    cost: np.ndarray
    unit_id: np.ndarray
    codes: np.ndarray
    uniq: np.ndarray
    order: np.ndarray
    starts: np.ndarray
    size: np.ndarray
    first_el: np.ndarray
    site_visit: float

    @property
    def n_units(self) -> int:
        """Number of units."""
        return int(self.uniq.size)

    @property
    def unit_cost(self) -> np.ndarray:
        """Cost of each unit (in ``uniq`` order): its elements plus one site visit."""
        if not self.order.size:
            return np.zeros(0)
        return np.add.reduceat(self.cost[self.order], self.starts) + self.site_visit

    def unit_of(self, n: int) -> np.ndarray:
        """Unit code of every element position ``0..n-1`` (-1 for elements in no unit)."""
        out = np.full(n, -1, dtype=np.int64)
        out[self.pos] = self.codes
        return out


def group_units(net, bad: np.ndarray, *, alive: np.ndarray | None = None,
                costs: CostModel | None = None) -> UnitGrouping | None:
    """Group the elements to replace into replacement units (the coupling rules of the module).

    Parameters
    ----------
    net
        The network.
    bad
        Elements to replace (already restricted to the live ones).
    alive
        Elements that exist (default: ``in_service``); a live 5G-NSA radio anchored on a replaced
        element joins its anchor's unit.
    costs
        The cost model (default: shipped defaults).

    Returns
    -------
    UnitGrouping or None
        None when nothing is to be replaced.
    """
    costs = costs or load_costs()
    el = net.elements
    if alive is None:
        alive = el["in_service"].to_numpy(dtype=bool, na_value=True)
    anchor_of = anchored_on(net, bad)
    bad = bad | ((anchor_of >= 0) & alive)
    if not bad.any():
        return None
    pos = np.flatnonzero(bad)
    e = el.iloc[pos][["element_id", "site_id", "role", "vendor", "generation", "unit_cost",
                      "installed_on"]].reset_index(drop=True)
    cost = costs.element_costs(e)
    # the domain of each role, worked out once per distinct role (a few dozen), not per element
    role_code, roles = pd.factorize(e["role"].astype(object))
    role_kind = np.array([r.split(".", 1)[0] for r in roles], dtype=object)
    role_kind = np.where(np.isin(role_kind, ["ran", "core", "mgmt"]), role_kind, "transport")
    kind = np.append(role_kind, "transport").astype(object)[role_code]
    eid = e["element_id"].astype(str).to_numpy(dtype=object)
    home = e["site_id"].astype(str).to_numpy(dtype=object)
    # a coupled radio joins the RAN unit of its anchor's site
    coupled = anchor_of[pos]
    moved = coupled >= 0
    if moved.any():
        kind[moved] = "ran"
        home[moved] = el["site_id"].iloc[coupled[moved]].astype(str).to_numpy(dtype=object)
    unit_id = np.where(kind == "mgmt", "mgmt:" + eid, kind + ":" + home)
    # A management system's unit also pays for re-homing everything it manages.
    links = net.links
    mgmt = links.loc[(links["kind"] == "management").to_numpy(dtype=bool, na_value=False), "b"]
    managed = mgmt.astype(str).value_counts()
    n_managed = pd.Series(eid).map(managed).fillna(0).to_numpy(dtype=float)
    cost = cost + np.where(kind == "mgmt", n_managed * REHOME_COST, 0.0)
    # one pass of sorting does all the grouping: units in unit_id order, elements in table order
    codes, uniq = pd.factorize(unit_id, sort=True)
    order = np.argsort(codes, kind="stable")
    codes_s = codes[order]
    starts = np.flatnonzero(np.r_[True, codes_s[1:] != codes_s[:-1]])
    size = np.diff(np.r_[starts, len(codes_s)])
    return UnitGrouping(pos=pos, frame=e, eid=eid, kind=kind, home=home, cost=cost,
                        unit_id=unit_id, codes=codes.astype(np.int64), uniq=np.asarray(uniq, dtype=object),
                        order=order, starts=starts, size=size, first_el=order[starts],
                        site_visit=float(costs.site_visit))
