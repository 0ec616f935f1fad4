"""Exact clean-path remediation: the cheapest set of replacement units, as a MILP solved by HiGHS.

The question
------------
A (sensitive site, operator) pair has a clean path when some radio of the operator covering the
site serves in the *clean world* (:class:`~cleanpath.analysis.clean_path.CleanPathSolver`: the
service fixpoint over trusted elements, management links included) and its transport component
there holds a user-plane function. Replacing equipment makes it trusted. What is replaced are
*replacement units* (:mod:`cleanpath.analysis.units`, the planner's coupling rules: a site's RAN as
one unit with 5G-NSA radios and their 4G anchor, a core data centre as one unit, a management
system as one unit with its re-homing, the rest of a site's equipment as one unit), each at its
unit cost. The remediation of a pair is the cheapest set of units after whose replacement the pair
has a clean path; the *shared fix* is the cheapest set that gives every unclean but fixable pair
one at once.

Why a small model is exact
--------------------------
After replacing units ``R`` the fixed world is the greatest fixpoint of the service rules over
``base & (trusted | R)``. The greatest fixpoint is the union of every *consistent* set (each member
has its dependencies in the set and a transport path to a gateway inside it), and it always holds
the clean world ``W0`` (the fixpoint with nothing replaced). So a pair is fixable by ``R`` iff some
consistent set ``S`` of *dirty* elements (serving in the baseline, not in ``W0``) plus ``W0``
contains one of its radios connected to a user plane. Each connected component of ``W0`` is
contracted to one node, already serving (a *root*). Only dirty elements reachable from the pair's
radios through dirty transport neighbours and dependency links can be in a minimal ``S``: a path
may stop at the first ``W0`` component that holds a user plane (it reaches a gateway and a user
plane by itself), so only components without one are crossed. The search
(:meth:`Remediation.explore`) is a vectorised breadth-first walk and gives each pair a few hundred
elements even on a national network.

The MILP (one per pair, and one for the shared fix)
---------------------------------------------------
* ``y[u]`` binary: unit ``u`` is replaced (objective: ``sum cost[u] y[u]``).
* ``x[v]`` in [0, 1]: dirty element ``v`` is in ``S``. ``x[v] <= y[unit(v)]`` for untrusted ``v``;
  ``x[v] <= x[d]`` for each dependency ``d`` (``x[v] = 0`` if a dependency cannot serve at all).
* Gateway reach. An element that hangs in a tree of the transport graph (the peeled forest of
  :class:`~cleanpath.analysis.service.Forest`: cell sites hang off hubs) reaches a gateway only
  through its tree parent, so ``x[v] <= x[parent]`` says it exactly (and strongly). Elements of
  the meshed core get a single-commodity flow in which each chosen one sends ``x[v]`` towards the
  roots (``W0`` components, chosen gateways) through chosen core elements only (capacity
  ``K x``, ``K`` = core elements in the model), plus the valid cut ``x[v] <= sum of x over v's
  core neighbours`` that tightens the relaxation.
* The pair: ``sum x[r] >= 1`` over its radios when every root it can reach holds a user plane;
  otherwise a unit flow from one chosen radio to a user plane (a chosen untrusted one or a ``W0``
  component that holds one), through chosen elements only.

``x`` need not be integral: the support of any feasible ``x`` is itself a consistent set that
serves the pair, so the optimum over binary ``y`` is the exact optimum.

Pairs whose needed elements all hang in trees (no core element, no gateway among them) have a
unique least consistent set per radio: the radio, its tree path up to the clean world and its
dependencies, transitively (its *closure*, :meth:`Remediation.closures`). A fix must replace every
unit of some radio's closure, so such a pair's optimum is its cheapest closure, taken directly
without a solver; in the shared MILP such a pair is a choice of one closure (``z[o] <= y[u]`` for
every unit ``u`` of option ``o``, ``sum z = 1``), which is also a much tighter relaxation than the
flow. On the generated national networks every pair is of this kind; ``closures=False`` sends
every pair through the flow model instead (tests and benchmarks compare both). The answer is checked
anyway: the replaced units are re-run through a local service fixpoint
(:meth:`Remediation.world`), which also gives the witness and the blocking elements.

Warm start and fallback
-----------------------
The heuristic of :mod:`cleanpath.analysis.clean_path` gives a feasible fix. Its units are handed to
HiGHS as a starting solution; past ``time_limit`` seconds (for the whole question) the best
solution HiGHS has is kept, and when it has none, the heuristic's. Every answer states whether
it is proved optimal (``remediation_optimal``) and its relative gap
(``remediation_gap = (cost - lower bound) / cost``, with the best proved lower bound).

Blocking elements
-----------------
``blocking`` of an unclean pair lists the untrusted elements its remediation cannot do without:
each element ``e`` in it is replaced by the fix, and replacing every unit of the fix *except*
``e`` (which stays untrusted) leaves the pair without a clean path. Elements that the fix replaces
only because their unit is swapped as one piece, and elements on routes the fix does not use, are
not listed.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable, Sequence

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components

from cleanpath.analysis.service import gather_rows
from cleanpath.analysis.units import UnitGrouping, group_units
from cleanpath.model.costs import CostModel, load_costs
from cleanpath.solver import new_highs

#: Default seconds for all remediation MILPs of one question together.
DEFAULT_TIME_LIMIT = 10.0
#: Default relative MIP gap at which HiGHS stops (0: prove the optimum).
DEFAULT_GAP = 0.0
#: A value of a continuous variable above this counts as chosen.
EPS = 1e-6

# --- the local model ---------------------------------------------------------------------------------

@dataclasses.dataclass
class Local:
    """The dirty elements a set of pairs can use, with ``W0`` components contracted.

    Local numbering: ``0..nv-1`` the dirty elements ``nodes`` (global positions, ascending), then
    ``nv..nv+nc-1`` the touched ``W0`` components ``comps`` (component labels).
    """

    nodes: np.ndarray
    comps: np.ndarray
    feasible: np.ndarray      # per node: no dependency outside the baseline
    unit: np.ndarray          # per node: unit code (-1: trusted)
    bad: np.ndarray           # per node: untrusted
    root: np.ndarray          # per node: an untrusted gateway (a root when chosen)
    up: np.ndarray            # per node: a user-plane function
    comp_up: np.ndarray       # per comp: holds a serving user plane
    eu: np.ndarray            # undirected edges (local ids), node-node and node-comp (v < nv)
    ev: np.ndarray
    contact: np.ndarray       # per edge: the W0 element on the comp side (-1 for node-node edges)
    du: np.ndarray            # dependency arcs among nodes: du depends on dv
    dv: np.ndarray
    par: np.ndarray           # per node: local id of its tree parent (-1: core node or parent in W0)
    peeled: np.ndarray        # per node: hangs in a tree of the transport graph (reaches only via par)

    @property
    def nv(self) -> int:
        return int(self.nodes.size)

    @property
    def nc(self) -> int:
        return int(self.comps.size)


@dataclasses.dataclass
class Closures:
    """Closures of a pair's radios (see :meth:`Remediation.closures`)."""

    reps: np.ndarray          # representative radios (local ids)
    group: np.ndarray         # how many radios each stands for
    reach: np.ndarray         # reps x nodes: the closure of each representative
    ok: np.ndarray            # per representative: every node of its closure can serve
    inverse: np.ndarray       # per radio: its representative


@dataclasses.dataclass
class PairAnswer:
    """The remediation of one pair (or of the shared fix)."""

    units: list[int]
    cost: float
    optimal: bool
    gap: float
    lower: float
    source: str               # "milp", "milp (time limit)" or "heuristic"
    seconds: float = 0.0


class Remediation:
    """Exact remediations for one :class:`~cleanpath.analysis.clean_path.CleanPathSolver`.

    Parameters
    ----------
    solver
        The clean-path solver (its baseline, clean world, untrusted mask and dependencies).
    costs
        The cost model (default: shipped defaults).
    """

    def __init__(self, solver, *, costs: CostModel | None = None):
        idx = solver.idx
        self.solver = solver
        self.n = n = idx.n
        self.base = solver.base
        self.bad = solver.bad
        self.w0 = solver.clean
        self.dirty = self.base & ~self.w0
        self.transport = idx.transport
        self.dep = idx.dep
        self.forest = idx.forest
        self.is_up = idx.is_user_plane
        self.is_gw = idx.is_gateway
        self.alive = np.asarray(idx.graph.in_service, dtype=bool) | self.base
        self.costs = costs
        self.units: UnitGrouping | None = None
        self.unit = np.full(n, -1, dtype=np.int64)
        self.unit_cost = np.zeros(0)
        self.unit_ids = np.zeros(0, dtype=object)
        # W0 components (transport among clean elements, from the peeled forest: no big
        # connected-components pass) and whether each holds a user plane
        reach, core_labels = self.forest.reach(self.w0, self.is_gw)
        lab = self.forest.element_labels(reach & self.w0, core_labels)
        self.comp = np.where(self.w0, lab, -1)
        nc = int(self.comp.max()) + 1 if self.w0.any() else 0
        self.comp_has_up = np.bincount(self.comp[self.w0 & self.is_up], minlength=nc) > 0
        self._cross: sp.csr_matrix | None = None
        self._seen = np.zeros(n, dtype=bool)   # scratch for explore, reset after each use
        self._loc = np.full(n, -1, dtype=np.int64)  # scratch for local, reset after each use

    @property
    def cross(self) -> sp.csr_matrix:
        """Per W0 component without a user plane, the dirty elements next to it (built on first use:
        usually every component holds a user plane and the search never crosses one)."""
        if self._cross is None:
            t = self.transport.tocoo()
            m = self.dirty[t.row] & (self.comp[t.col] >= 0)
            if self.comp_has_up.size:
                m &= ~self.comp_has_up[np.maximum(self.comp[t.col], 0)]
            nc = self.comp_has_up.size
            self._cross = sp.csr_matrix((np.ones(int(m.sum()), dtype=np.int8), (self.comp[t.col[m]], t.row[m])),
                                        shape=(max(nc, 1), self.n))
        return self._cross

    def prepare_units(self, nodes: np.ndarray) -> None:
        """Group into replacement units the untrusted equipment of every site the search reached.

        Only those units can be part of a fix. A unit gathers all untrusted equipment of its kind at
        its site, so the grouping takes every untrusted element at those sites (and at the sites of
        what they depend on), not just the elements searched.
        """
        site = self.solver.idx.site
        dn = gather_rows(self.dep.indptr, self.dep.indices, nodes)
        sites = np.zeros(int(site.max()) + 1 if site.size else 1, dtype=bool)
        sites[site[nodes]] = True
        sites[site[dn]] = True
        want = self.bad & self.alive & sites[site]
        for _ in range(2):  # and the sites of their anchors, so a coupled radio finds its anchor's unit
            sites[site[gather_rows(self.dep.indptr, self.dep.indices, np.flatnonzero(want))]] = True
            want = self.bad & self.alive & sites[site]
        self.units = group_units(self.solver.net, want, alive=self.alive, costs=self.costs)
        if self.units is not None:
            self.unit = self.units.unit_of(self.n)
            self.unit_cost = np.nan_to_num(self.units.unit_cost, nan=0.0)
            self.unit_ids = self.units.uniq

    # -- search ---------------------------------------------------------------------------------------
    def explore(self, radios: np.ndarray) -> np.ndarray:
        """Dirty elements a fix for these radios can use (global positions, ascending)."""
        seen = self._seen
        crossed = set()
        frontier = np.unique(radios[self.dirty[radios]])
        if not frontier.size:
            frontier = np.zeros(0, dtype=np.int64)
        # radios inside a W0 component without a user plane start from that component
        start_comps = np.unique(self.comp[radios[self.w0[radios]]])
        seen[frontier] = True
        out = [frontier]
        pending = [c for c in start_comps.tolist() if c >= 0]
        while frontier.size or pending:
            nxt = []
            if frontier.size:
                nb = np.concatenate([gather_rows(self.transport.indptr, self.transport.indices, frontier),
                                     gather_rows(self.dep.indptr, self.dep.indices, frontier)])
                cc = self.comp[nb]
                hit = np.unique(cc[cc >= 0])
                if self.comp_has_up.size:
                    hit = hit[~self.comp_has_up[hit]]
                pending += [c for c in hit.tolist()]
                nxt.append(nb[self.dirty[nb]])
            new_c = [c for c in pending if c not in crossed]
            crossed.update(new_c)
            pending = []
            if new_c:
                nxt.append(gather_rows(self.cross.indptr, self.cross.indices, np.asarray(new_c, dtype=np.int64)))
            cand = np.unique(np.concatenate(nxt)) if nxt else np.zeros(0, dtype=np.int64)
            frontier = cand[~seen[cand]]
            seen[frontier] = True
            out.append(frontier)
        nodes = np.unique(np.concatenate(out))
        seen[nodes] = False
        return nodes

    def local(self, nodes: np.ndarray) -> Local:
        """The local model over ``nodes`` (from :meth:`explore`, or a union of them)."""
        nv = nodes.size
        loc = self._loc  # scratch global -> local map, reset before returning
        loc[nodes] = np.arange(nv)
        # transport edges from each node
        nb, src = gather_rows(self.transport.indptr, self.transport.indices, nodes, with_rows=True)
        su = loc[src]
        inner = (loc[nb] >= 0) & (su < loc[nb])
        to_comp = self.comp[nb] >= 0
        comps = np.unique(self.comp[nb[to_comp]])
        cloc = np.full(max(self.comp_has_up.size, 1), -1, dtype=np.int64)
        cloc[comps] = nv + np.arange(comps.size)
        # one edge per (node, comp), keeping one contact element
        cu, cv, ce = su[to_comp], cloc[self.comp[nb[to_comp]]], nb[to_comp]
        if cu.size:
            key = cu * (comps.size + 1) + (cv - nv)
            _, first = np.unique(key, return_index=True)
            cu, cv, ce = cu[first], cv[first], ce[first]
        eu = np.concatenate([su[inner], cu])
        ev = np.concatenate([loc[nb[inner]], cv])
        contact = np.concatenate([np.full(int(inner.sum()), -1, dtype=np.int64), ce])
        # dependencies: among nodes; into W0 (satisfied); anything else cannot serve
        dn, dsrc = gather_rows(self.dep.indptr, self.dep.indices, nodes, with_rows=True)
        ok_dep = self.w0[dn] | (loc[dn] >= 0)
        feasible = np.ones(nv, dtype=bool)
        feasible[loc[dsrc[~ok_dep]]] = False
        among = loc[dn] >= 0
        du, dv = loc[dsrc[among]], loc[dn[among]]
        # a peeled element reaches a gateway only through its tree parent (see service.Forest)
        peeled = self.forest.peeled[nodes]
        gp = self.forest.parent[nodes]
        par = np.where(peeled & (gp >= 0), loc[np.maximum(gp, 0)], -1)
        dead = peeled & ((gp < 0) | ((par < 0) & ~self.w0[np.maximum(gp, 0)]))
        feasible[dead] = False
        # infeasibility spreads to dependents and down the trees
        cu_, cv_ = np.r_[du, np.flatnonzero(par >= 0)], np.r_[dv, par[par >= 0]]
        while True:
            spread = feasible[cu_] & ~feasible[cv_]
            if not spread.any():
                break
            feasible[cu_[spread]] = False
        loc[nodes] = -1
        return Local(nodes=nodes, comps=comps, feasible=feasible, unit=self.unit[nodes], bad=self.bad[nodes],
                     root=self.is_gw[nodes], up=self.is_up[nodes],
                     comp_up=self.comp_has_up[comps] if comps.size else np.zeros(0, dtype=bool),
                     eu=eu, ev=ev, contact=contact, du=du, dv=dv, par=par, peeled=peeled)

    # -- pairs whose elements hang in trees ------------------------------------------------------------
    def closures(self, L: Local, radios: np.ndarray) -> "Closures | None":
        """Per radio, the local nodes it needs: itself, its tree parents up to the clean world and
        its dependencies, transitively.

        None when some needed node is a core element (it has a choice of routes, so the closure is
        not unique) or a gateway, or hangs from a clean component without a user plane: then the
        pair needs the full MILP. When every needed node hangs in a tree the closure is the unique
        least consistent set holding the radio, so a fix must replace every unit of some radio's
        closure, and the cheapest such closure is the optimum.

        Radios with the same unit, tree parent and dependencies are interchangeable: one of them
        (a *representative*) stands for the group.
        """
        nv = L.nv
        if not radios.size:
            return None
        rows = np.r_[L.du, np.flatnonzero(L.par >= 0)]
        cols = np.r_[L.dv, L.par[L.par >= 0]]
        step = sp.csr_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(nv, nv))
        step.sum_duplicates()
        # group interchangeable radios: same unit and same successors (a handful each)
        deg = np.diff(step.indptr)[radios]
        width = int(deg.max()) if deg.size else 0
        sig = np.full((radios.size, width + 1), -1, dtype=np.int64)
        sig[:, 0] = L.unit[radios]
        if width:
            succ = gather_rows(step.indptr, step.indices, radios)  # sorted within each radio
            k = np.arange(succ.size) - np.repeat(np.cumsum(deg) - deg, deg)
            sig[np.repeat(np.arange(radios.size), deg), 1 + k] = succ
        _, first, inverse, counts = np.unique(sig, axis=0, return_index=True, return_inverse=True,
                                              return_counts=True)
        reps = radios[first]
        # reach: dense (representatives x nodes), one sparse product per tree level
        reach = np.zeros((reps.size, nv), dtype=bool)
        reach[np.arange(reps.size), reps] = True
        frontier = reach.copy()
        stepT = step.T.tocsr()
        for _ in range(nv):
            nxt = (stepT @ frontier.T.astype(np.int8)).T > 0
            new = nxt & ~reach
            if not new.any():
                break
            reach |= new
            frontier = new
        used = reach.any(axis=0)
        if (used & (~L.peeled | L.root)).any():
            return None
        top = used & (L.par < 0) & L.feasible  # hangs from a clean element: that component needs a user plane
        gp = self.forest.parent[L.nodes[top]]
        if gp.size and not self.comp_has_up[self.comp[gp]].all():
            return None
        ok = ~(reach & ~L.feasible[None, :]).any(axis=1)
        return Closures(reps=reps, group=counts, reach=reach, ok=ok,
                        inverse=np.asarray(inverse).ravel())

    def options(self, L: Local, cl: "Closures") -> tuple[np.ndarray, list[np.ndarray]]:
        """The distinct unit sets of the feasible closures, with the representative radio of each."""
        r, c = np.nonzero(cl.reach[cl.ok])
        u = L.unit[c]
        keep = L.bad[c] & (u >= 0)
        r, u = r[keep], u[keep]
        k = int(cl.ok.sum())
        if not k:
            return np.zeros(0, dtype=np.int64), []
        pairs_ = np.unique(r * (self.unit_cost.size + 1) + u)
        r, u = pairs_ // (self.unit_cost.size + 1), pairs_ % (self.unit_cost.size + 1)
        cnt = np.bincount(r, minlength=k)
        width = max(int(cnt.max()) if cnt.size else 0, 1)
        pad = np.full((k, width), -1, dtype=np.int64)
        pad[r, np.arange(r.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)] = u
        uniq, first = np.unique(pad, axis=0, return_index=True)
        sets = [row[row >= 0] for row in uniq]
        return cl.reps[cl.ok][first], sets

    # -- the local fixpoint ------------------------------------------------------------------------------
    def world(self, L: Local, replaced: np.ndarray, *, drop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Local nodes that serve once the units ``replaced`` (a mask over units) are swapped.

        ``drop`` (a local node) stays untrusted even if its unit is replaced. Returns the serving
        mask over nodes and the component label of every local id (nodes and comps; -1 when not
        serving).
        """
        nv, nt = L.nv, L.nv + L.nc
        ok = L.feasible & (~L.bad | ((L.unit >= 0) & replaced[np.maximum(L.unit, 0)]))
        if drop is not None:
            ok[drop] = False
        while True:
            # dependencies
            while True:
                brk = ok[L.du] & ~ok[L.dv]
                if not brk.any():
                    break
                ok[L.du[brk]] = False
            alive = np.concatenate([ok, np.ones(L.nc, dtype=bool)])
            m = alive[L.eu] & alive[L.ev]
            g = sp.coo_matrix((np.ones(int(m.sum()), dtype=np.int8), (L.eu[m], L.ev[m])), shape=(nt, nt))
            _, lab = connected_components(g, directed=False)
            rooted = np.zeros(nt, dtype=bool)
            rooted[lab[np.flatnonzero(np.concatenate([ok & L.root, np.ones(L.nc, dtype=bool)]))]] = True
            serving = ok & rooted[lab[:nv]]
            if (serving == ok).all():
                lab_all = np.where(np.concatenate([serving, np.ones(L.nc, dtype=bool)]), lab, -1)
                return serving, lab_all
            ok = serving

    def satisfied(self, L: Local, serving: np.ndarray, lab: np.ndarray, radios_loc: np.ndarray,
                  radio_comps: np.ndarray) -> bool:
        """Does some radio (local node or start component) serve in a component with a user plane?"""
        has_up = np.zeros(L.nv + L.nc + 1, dtype=bool)
        has_up[lab[np.flatnonzero(serving & L.up)]] = True
        cu = L.nv + np.flatnonzero(L.comp_up)
        has_up[lab[cu]] = True
        r = radios_loc[serving[radios_loc]]
        if r.size and has_up[lab[r]].any():
            return True
        return bool(radio_comps.size and has_up[lab[radio_comps]].any())

    # -- the MILP ------------------------------------------------------------------------------------
    def solve(self, L: Local, pairs: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], *,
              warm: np.ndarray | None, time_limit: float, gap: float,
              options: Sequence[Sequence[np.ndarray]] = ()) -> tuple[np.ndarray | None, dict]:
        """The cheapest units making every pair satisfied on ``L``.

        Parameters
        ----------
        pairs
            Per pair: its radios as local nodes, its radios' start components (local ids), and the
            local nodes of its own search (for its user-plane flow, when it needs one).
        warm
            A feasible mask over units (the heuristic's), or None.
        options
            Pairs whose elements all hang in trees (:meth:`closures`): per pair, the unit sets of its
            radios' closures; one of them must be replaced entirely.

        Returns
        -------
        replaced, info
            The chosen units (mask over all units; None when HiGHS found nothing) and
            ``status, optimal, gap, bound, objective, seconds``.
        """
        nv, nc = L.nv, L.nc
        nt = nv + nc
        opt_units = [u for o in options for u in o]
        units_here = np.unique(np.concatenate([L.unit[L.bad & (L.unit >= 0)]] + opt_units))
        nu = units_here.size
        uloc = np.full(self.unit_cost.size + 1, -1, dtype=np.int64)
        uloc[units_here] = np.arange(nu)
        cols_cost: list[np.ndarray] = []
        lo_l: list[np.ndarray] = []
        hi_l: list[np.ndarray] = []
        integ: list[np.ndarray] = []
        ncol = [0]

        def add_cols(cost, hi, integer):
            cost = np.asarray(cost, dtype=float)
            k = cost.size
            cols_cost.append(cost)
            lo_l.append(np.zeros(k))
            hi_l.append(np.broadcast_to(np.asarray(hi, dtype=float), k).copy())
            integ.append(np.full(k, integer))
            ids = np.arange(ncol[0], ncol[0] + k)
            ncol[0] += k
            return ids

        R: list[np.ndarray] = []
        C: list[np.ndarray] = []
        V: list[np.ndarray] = []
        rlo: list[np.ndarray] = []
        rhi: list[np.ndarray] = []
        nrow = [0]

        def add_rows(r, c, v, lo, hi):
            lo = np.asarray(lo, dtype=float)
            R.append(np.asarray(r, dtype=np.int64) + nrow[0])
            C.append(np.asarray(c, dtype=np.int64))
            V.append(np.asarray(v, dtype=float))
            rlo.append(lo)
            rhi.append(np.broadcast_to(np.asarray(hi, dtype=float), lo.size).copy())
            nrow[0] += lo.size

        inf = highspy.kHighsInf
        y = add_cols(self.unit_cost[units_here], 1.0, True)
        x = add_cols(np.zeros(nv), L.feasible.astype(float), False)
        # x[v] <= y[unit(v)] for untrusted v
        b = np.flatnonzero(L.bad)
        k = b.size
        add_rows(np.r_[np.arange(k), np.arange(k)], np.r_[x[b], y[uloc[L.unit[b]]]], np.r_[np.ones(k), -np.ones(k)],
                 np.full(k, -inf), 0.0)
        # dependencies
        k = L.du.size
        add_rows(np.r_[np.arange(k), np.arange(k)], np.r_[x[L.du], x[L.dv]], np.r_[np.ones(k), -np.ones(k)],
                 np.full(k, -inf), 0.0)
        # a tree element needs its parent (its only way to a gateway)
        t_ = np.flatnonzero(L.par >= 0)
        k = t_.size
        add_rows(np.r_[np.arange(k), np.arange(k)], np.r_[x[t_], x[L.par[t_]]], np.r_[np.ones(k), -np.ones(k)],
                 np.full(k, -inf), 0.0)
        # arcs: both directions between nodes, node -> comp towards the roots
        inner = L.ev < nv
        au = np.r_[L.eu[inner], L.ev[inner], L.eu[~inner]]
        av = np.r_[L.ev[inner], L.eu[inner], L.ev[~inner]]
        all_au, all_av = au, av
        # gateway flow only among core elements: a tree element is covered by its parent chain, and
        # no route from the core to a gateway runs down into a tree
        core = ~L.peeled
        fa = core[au] & ((av >= nv) | core[np.minimum(av, max(nv - 1, 0))])
        au, av = au[fa], av[fa]
        na = au.size
        K = float(max(int(core.sum()), 1))
        g = add_cols(np.zeros(na), inf, False)
        # conservation for non-root core nodes: out - in - x = 0
        nonroot = ~L.root & core
        rr = np.r_[au, av]
        cc = np.r_[g, g]
        vv = np.r_[np.ones(na), -np.ones(na)]
        keep = (rr < nv) & nonroot[np.minimum(rr, nv - 1)] if nv else np.zeros(0, dtype=bool)
        nr_idx = np.full(nv, -1, dtype=np.int64)
        nr = np.flatnonzero(nonroot)
        nr_idx[nr] = np.arange(nr.size)
        add_rows(np.r_[nr_idx[rr[keep]], nr_idx[nr]], np.r_[cc[keep], x[nr]], np.r_[vv[keep], -np.ones(nr.size)],
                 np.zeros(nr.size), 0.0)
        # capacities: g <= K x(tail), g <= K x(head) for node heads
        hn = av < nv
        add_rows(np.r_[np.arange(na), np.arange(na)], np.r_[g, x[au]], np.r_[np.ones(na), -K * np.ones(na)],
                 np.full(na, -inf), 0.0)
        kh = int(hn.sum())
        add_rows(np.r_[np.arange(kh), np.arange(kh)], np.r_[g[hn], x[av[hn]]], np.r_[np.ones(kh), -K * np.ones(kh)],
                 np.full(kh, -inf), 0.0)
        # the neighbour cut for nodes with no comp neighbour that are not roots
        has_comp = np.zeros(nv, dtype=bool)
        has_comp[L.eu[~inner]] = True
        cut = np.flatnonzero(nonroot & ~has_comp)
        if cut.size:
            cidx = np.full(nv, -1, dtype=np.int64)
            cidx[cut] = np.arange(cut.size)
            a1, a2 = L.eu[inner], L.ev[inner]
            cc_ = core[a1] & core[a2]
            a1, a2 = a1[cc_], a2[cc_]
            ends = np.r_[a1, a2]
            other = np.r_[a2, a1]
            m = cidx[ends] >= 0
            add_rows(np.r_[cidx[cut], cidx[ends[m]]], np.r_[x[cut], x[other[m]]],
                     np.r_[np.ones(cut.size), -np.ones(int(m.sum()))], np.full(cut.size, -inf), 0.0)
        # the pairs
        up_comp = np.zeros(nt, dtype=bool)
        up_comp[nv + np.flatnonzero(L.comp_up)] = True
        for radios, rcomps, own in pairs:
            own_set = np.zeros(nv, dtype=bool)
            own_set[own] = True
            touches = np.unique(L.ev[(~inner) & own_set[L.eu]])
            needs_flow = bool(rcomps.size) or bool((L.root & own_set).any()) or \
                bool(touches.size and not up_comp[touches].all())
            if not needs_flow:
                add_rows(np.zeros(radios.size), x[radios], np.ones(radios.size), np.ones(1), inf)
                continue
            # unit flow from one chosen radio (or start comp) to a user plane, through chosen nodes
            ids = np.r_[np.flatnonzero(own_set), np.unique(np.r_[touches, rcomps]).astype(np.int64)]
            pl = np.full(nt, -1, dtype=np.int64)
            pl[ids] = np.arange(ids.size)
            m = (pl[all_au] >= 0) & (pl[all_av] >= 0)
            pu, pv = all_au[m], all_av[m]
            back = pv >= nv  # node -> comp arcs also run comp -> node for crossing a comp
            pu, pv = np.r_[pu, pv[back]], np.r_[pv, pu[back]]
            h = add_cols(np.zeros(pu.size), 1.0, False)
            z = add_cols(np.zeros(radios.size + rcomps.size), 1.0, False)
            sinks = ids[(ids < nv) & L.up[np.minimum(ids, nv - 1)]] if nv else ids[:0]
            s = add_cols(np.zeros(sinks.size), 1.0, False)
            # conservation at every id except comps with a user plane (free sinks)
            cons = ids[~up_comp[ids]]
            ci = np.full(nt, -1, dtype=np.int64)
            ci[cons] = np.arange(cons.size)
            starts = np.r_[radios, rcomps].astype(np.int64)
            r_ = np.r_[ci[pu], ci[pv], ci[starts], ci[sinks]]
            c_ = np.r_[h, h, z, s]
            v_ = np.r_[np.ones(pu.size), -np.ones(pu.size), -np.ones(starts.size), np.ones(sinks.size)]
            keep = r_ >= 0
            add_rows(r_[keep], c_[keep], v_[keep], np.zeros(cons.size), 0.0)
            add_rows(np.zeros(z.size), z, np.ones(z.size), np.ones(1), 1.0)
            # h <= x at node ends; z <= x for radios; s <= x for sinks
            tn, hn2 = pu < nv, pv < nv
            kt, kh2 = int(tn.sum()), int(hn2.sum())
            add_rows(np.r_[np.arange(kt), np.arange(kt)], np.r_[h[tn], x[pu[tn]]], np.r_[np.ones(kt), -np.ones(kt)],
                     np.full(kt, -inf), 0.0)
            add_rows(np.r_[np.arange(kh2), np.arange(kh2)], np.r_[h[hn2], x[pv[hn2]]],
                     np.r_[np.ones(kh2), -np.ones(kh2)], np.full(kh2, -inf), 0.0)
            kz = radios.size
            add_rows(np.r_[np.arange(kz), np.arange(kz)], np.r_[z[:kz], x[radios]], np.r_[np.ones(kz), -np.ones(kz)],
                     np.full(kz, -inf), 0.0)
            ks = sinks.size
            add_rows(np.r_[np.arange(ks), np.arange(ks)], np.r_[s, x[sinks]], np.r_[np.ones(ks), -np.ones(ks)],
                     np.full(ks, -inf), 0.0)

        # pairs by closure: choose one option per pair, and every unit of it
        for opts in options:
            z = add_cols(np.zeros(len(opts)), 1.0, False)
            add_rows(np.zeros(z.size), z, np.ones(z.size), np.ones(1), inf)
            lens = np.array([o.size for o in opts], dtype=np.int64)
            zz = np.repeat(z, lens)
            uu = y[uloc[np.concatenate(opts)]] if lens.sum() else np.zeros(0, dtype=np.int64)
            k = zz.size
            add_rows(np.r_[np.arange(k), np.arange(k)], np.r_[zz, uu], np.r_[np.ones(k), -np.ones(k)],
                     np.full(k, -inf), 0.0)

        hs = new_highs()
        hs.setOptionValue("mip_rel_gap", float(gap))
        hs.setOptionValue("time_limit", float(max(time_limit, 1e-3)))
        hs.setOptionValue("threads", 1)
        lp = highspy.HighsLp()
        n_col = ncol[0]
        lp.num_col_ = n_col
        lp.num_row_ = nrow[0]
        lp.col_cost_ = np.concatenate(cols_cost)
        lp.col_lower_ = np.concatenate(lo_l)
        lp.col_upper_ = np.concatenate(hi_l)
        lp.row_lower_ = np.concatenate(rlo) if rlo else np.zeros(0)
        lp.row_upper_ = np.concatenate(rhi) if rhi else np.zeros(0)
        ri = np.concatenate(R) if R else np.zeros(0, dtype=np.int64)
        ci_ = np.concatenate(C) if C else np.zeros(0, dtype=np.int64)
        vv_ = np.concatenate(V) if V else np.zeros(0)
        mat = sp.csc_matrix((vv_, (ri, ci_)), shape=(nrow[0], n_col))
        mat.sum_duplicates()
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = mat.indptr.astype(np.int32)
        lp.a_matrix_.index_ = mat.indices.astype(np.int32)
        lp.a_matrix_.value_ = mat.data.astype(float)
        lp.a_matrix_.num_col_ = n_col
        lp.a_matrix_.num_row_ = nrow[0]
        kinds = np.array([highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger], dtype=object)
        lp.integrality_ = kinds[np.concatenate(integ).astype(np.int64)].tolist()
        hs.passModel(lp)
        if warm is not None and nu:
            # the heuristic's units; HiGHS completes the continuous part itself
            hs.setSolution(int(nu), y.astype(np.int32), warm[units_here].astype(float))
        hs.run()
        status = hs.getModelStatus()
        info = hs.getInfo()
        feasible = info.primal_solution_status == 2
        out = {"status": hs.modelStatusToString(status), "optimal": status == highspy.HighsModelStatus.kOptimal,
               "gap": float(info.mip_gap) if np.isfinite(info.mip_gap) else np.inf,
               "bound": float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else 0.0,
               "objective": float(info.objective_function_value) if feasible else np.inf,
               "seconds": float(hs.getRunTime()),
               "infeasible": status == highspy.HighsModelStatus.kInfeasible}
        if not feasible:
            return None, out
        vals = np.asarray(hs.getSolution().col_value)
        chosen = np.zeros(self.unit_cost.size, dtype=bool)
        chosen[units_here[vals[y] > 0.5]] = True
        return chosen, out


# --- the question -----------------------------------------------------------------------------------

@dataclasses.dataclass
class Answers:
    """Per pair (index into the pairs table) and for the shared fix."""

    remediation: dict[int, list[int]]    # element positions replaced
    units: dict[int, list[str]]
    cost: dict[int, float]
    optimal: dict[int, bool]
    gap: dict[int, float]
    lower: dict[int, float]
    blocking: dict[int, list[int]]
    witness: dict[int, list[int]]
    unfixable: list[int]
    shared: PairAnswer | None
    shared_elements: list[int]
    shared_units: list[str]
    heuristic_shared_cost: float
    seconds: float
    rem: Remediation | None = None
    heuristic_cost: dict[int, float] = dataclasses.field(default_factory=dict)
    by_closure: int = 0


def remediate(solver, pairs, todo: Sequence[int], *, heuristic: dict[int, list[int]],
              heuristic_lower: np.ndarray, shared: bool = True, time_limit: float = DEFAULT_TIME_LIMIT,
              gap: float = DEFAULT_GAP, costs: CostModel | None = None,
              clean_route: Callable[[int], list[int]] | None = None, closures: bool = True) -> Answers:
    """Exact remediation of unclean pairs, with the heuristic as warm start and fallback.

    Parameters
    ----------
    solver
        The :class:`~cleanpath.analysis.clean_path.CleanPathSolver`.
    pairs
        Its pairs table (``row``, ``op``).
    todo
        Indices of the pairs to fix (covered, not clean).
    heuristic
        Per pair index, the heuristic's replaced elements (a feasible fix).
    heuristic_lower
        Per pair index, a proved lower bound on its fix (US$, element costs; may be NaN).
    shared
        Also solve the shared fix for all fixable pairs.
    time_limit
        Seconds for all MILPs together; past it the best known fix is kept and marked not optimal.
    gap
        Relative gap at which HiGHS may stop (0: prove the optimum).
    costs
        The cost model.
    clean_route
        Optional: from an element of the clean world, its route to a user plane and a gateway
        (appended to witnesses).
    closures
        Solve pairs whose elements hang in trees by their radios' closures (default); False sends
        every pair through the MILP (for tests and benchmarks of the general model).

    Notes
    -----
    A pair whose usable elements all hang in trees of the transport graph (the common case: cell
    sites hang off hubs) needs one radio's closure (:meth:`Remediation.closures`); its optimum is the
    cheapest closure, taken directly. Other pairs get the MILP. The shared fix is one MILP over all
    fixable pairs: closure choices for the first kind, the flow model for the others.
    """
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit)
    rem = Remediation(solver, costs=costs)
    ans = Answers({}, {}, {}, {}, {}, {}, {}, {}, [], None, [], [], float("nan"), 0.0, rem)
    radios_of = {i: solver.candidates(int(pairs.at[i, "row"]), int(pairs.at[i, "op"]), clean_only=False)
                 for i in todo}
    nodes_of = {i: rem.explore(radios_of[i]) for i in todo}
    if todo:
        rem.prepare_units(np.unique(np.concatenate([nodes_of[i] for i in todo] + [np.zeros(0, np.int64)])))
    nunit = rem.unit_cost.size
    warm_all = np.zeros(nunit, dtype=bool)
    tree_opts: dict[int, list[np.ndarray]] = {}
    for i in todo:
        radios, nodes = radios_of[i], nodes_of[i]
        L = rem.local(nodes)
        rl, rc = _radio_ids(rem, L, radios)
        warm = np.zeros(nunit, dtype=bool)
        h = heuristic.get(i)
        if h:
            u = rem.unit[np.asarray(h, dtype=np.int64)]
            warm[u[u >= 0]] = True
        cl = rem.closures(L, rl) if (closures and not rc.size) else None
        if h:
            ans.heuristic_cost[i] = float(rem.unit_cost[warm].sum())
        info = {"optimal": False, "gap": np.inf, "bound": 0.0, "infeasible": False}
        chosen = None
        if cl is not None:
            reps, sets = rem.options(L, cl)
            if not sets:
                ans.unfixable.append(i)
                continue
            tree_opts[i] = sets
            ans.by_closure += 1
            c = np.array([rem.unit_cost[u].sum() for u in sets])
            best = int(np.argmin(c))
            chosen = np.zeros(nunit, dtype=bool)
            chosen[sets[best]] = True
            info = {"optimal": True, "gap": 0.0, "bound": float(c[best]), "infeasible": False}
        else:
            warm_ok = bool(h) and rem.satisfied(L, *rem.world(L, warm), rl, rc)
            remaining = deadline - time.perf_counter()
            if remaining > 0:
                chosen, info = rem.solve(L, [(rl, rc, np.arange(L.nv))], warm=warm if warm_ok else None,
                                         time_limit=remaining, gap=gap)
            if chosen is not None and warm_ok and rem.unit_cost[chosen].sum() > rem.unit_cost[warm].sum():
                chosen = None
            if chosen is not None and not rem.satisfied(L, *rem.world(L, chosen), rl, rc):
                chosen = None  # never report a fix the service model does not confirm (solver tolerances)
            if chosen is None:
                if not warm_ok:  # proved infeasible, or no fix known within the time limit
                    ans.unfixable.append(i)
                    continue
                chosen, info = warm, {**info, "optimal": False}
        cost = float(rem.unit_cost[chosen].sum())
        lower_h = float(heuristic_lower[i]) if np.isfinite(heuristic_lower[i]) else 0.0
        lb = min(max(float(info["bound"]), lower_h, 0.0), cost)
        optimal = bool(info["optimal"])
        g_ = max(0.0, float(info["gap"])) if optimal else (max(0.0, (cost - lb) / cost) if cost > 0 else 0.0)
        warm_all |= chosen
        ans.units[i] = [str(u) for u in rem.unit_ids[np.flatnonzero(chosen)]]
        ans.remediation[i] = _elements_of(rem, chosen)
        ans.cost[i], ans.optimal[i], ans.gap[i], ans.lower[i] = cost, optimal, g_, lb
        if cl is not None:
            ans.witness[i], ans.blocking[i] = _closure_answer(rem, L, cl, chosen, clean_route)
        else:
            serving, lab = rem.world(L, chosen)
            ans.witness[i] = _witness(rem, L, serving, lab, rl, rc, clean_route, radios)
            ans.blocking[i] = _blocking(rem, L, chosen, rl, rc, serving, ans.witness[i])
    if shared and ans.cost:
        ans.heuristic_shared_cost = float(rem.unit_cost[warm_all].sum())
        ans.shared = _shared(rem, radios_of, nodes_of, tree_opts, list(ans.cost), warm_all, ans, deadline, gap)
        ch = np.zeros(nunit, dtype=bool)
        idx = np.flatnonzero(np.isin(rem.unit_ids, ans.shared.units)) if ans.shared.units else np.zeros(0, np.int64)
        ch[idx] = True
        ans.shared_units = [str(u) for u in rem.unit_ids[idx]]
        ans.shared_elements = _elements_of(rem, ch)
    ans.seconds = time.perf_counter() - t0
    return ans


def _radio_ids(rem: Remediation, L: Local, radios: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A pair's radios as local nodes, and the local ids of the W0 components its W0 radios sit in."""
    loc = np.searchsorted(L.nodes, radios)
    loc = np.minimum(loc, max(L.nv - 1, 0))
    rl = loc[(L.nv > 0) & (L.nodes[loc] == radios)] if L.nv else np.zeros(0, dtype=np.int64)
    comps = rem.comp[radios[rem.w0[radios]]]
    comps = np.unique(comps[comps >= 0])
    ci = np.searchsorted(L.comps, comps)
    ok = (ci < L.nc) & (L.comps[np.minimum(ci, max(L.nc - 1, 0))] == comps) if L.nc else np.zeros(0, dtype=bool)
    return np.unique(rl).astype(np.int64), (L.nv + ci[ok]).astype(np.int64)


def _elements_of(rem: Remediation, chosen: np.ndarray) -> list[int]:
    """Element positions of the chosen units, ascending."""
    if rem.units is None or not chosen.any():
        return []
    return sorted(int(p) for p in rem.units.pos[chosen[rem.units.codes]])


def _closure_answer(rem: Remediation, L: Local, cl: Closures, chosen: np.ndarray,
                    clean_route: Callable[[int], list[int]] | None) -> tuple[list[int], list[int]]:
    """Witness and blocking elements of a pair solved by closures.

    The fix opens every radio whose closure it covers; an element is needed iff it lies in each of
    those closures (a radio standing for several interchangeable radios is never needed itself).
    The witness is the closure of the first opened radio, radio first, then its tree path up to the
    clean world, then its dependencies, each followed by the clean element it hangs from.
    """
    ok_node = L.feasible & (~L.bad | ((L.unit >= 0) & chosen[np.maximum(L.unit, 0)]))
    opened = cl.ok & ~(cl.reach & ~ok_node[None, :]).any(axis=1)
    if not opened.any():
        return [], []
    every = cl.reach[opened].all(axis=0) & L.bad
    every[cl.reps[cl.group > 1]] = False
    blocking = sorted(int(v) for v in L.nodes[every])
    k = int(np.flatnonzero(opened)[0])
    r = int(cl.reps[k])
    chain = [r]
    while L.par[chain[-1]] >= 0:  # the tree path up: a few hops
        chain.append(int(L.par[chain[-1]]))
    rest = np.setdiff1d(np.flatnonzero(cl.reach[k]), chain)
    nodes = np.asarray(chain + rest.tolist(), dtype=np.int64)
    contacts = rem.forest.parent[L.nodes[nodes[L.par[nodes] < 0]]]
    witness = [int(v) for v in L.nodes[nodes]] + [int(c) for c in contacts.tolist() if c >= 0]
    if clean_route is not None and contacts.size and contacts[0] >= 0:
        witness += clean_route(int(contacts[0]))
    return list(dict.fromkeys(witness)), blocking


def _blocking(rem: Remediation, L: Local, chosen: np.ndarray, rl: np.ndarray, rc: np.ndarray,
              serving: np.ndarray, witness: list[int]) -> list[int]:
    """Untrusted elements of the fix that the pair cannot do without (see the module docstring).

    Only replaced elements of the witness can be needed (the witness is a consistent set that serves the
    pair, so leaving anything outside it untrusted keeps it serving), and each is tried.
    """
    cand = np.flatnonzero(serving & L.bad & np.isin(L.nodes, np.asarray(witness, dtype=np.int64)))
    out = []
    for v in cand.tolist():  # a few elements per pair, each a small local fixpoint
        s, lab = rem.world(L, chosen, drop=v)
        if not rem.satisfied(L, s, lab, rl, rc):
            out.append(int(L.nodes[v]))
    return sorted(out)


def _witness(rem: Remediation, L: Local, serving: np.ndarray, lab: np.ndarray, rl: np.ndarray, rc: np.ndarray,
             clean_route: Callable[[int], list[int]] | None, radios: np.ndarray | None = None) -> list[int]:
    """The fixed path: a satisfied radio's route through the fixed world to a user plane (a fixed
    user-plane function or a clean component holding one), then every element on it with its own
    route to the clean world and its dependencies (transitively), each with its route too.

    A radio that is itself clean (in a clean component without a user plane) starts at that
    component. Entering the clean world is shown by the clean element where the route enters.
    """
    nv, nt = L.nv, L.nv + L.nc
    alive = np.concatenate([serving, np.ones(L.nc, dtype=bool)])
    m = alive[L.eu] & alive[L.ev]
    g = sp.csr_matrix((np.ones(2 * int(m.sum()), dtype=np.int8),
                       (np.r_[L.eu[m], L.ev[m]], np.r_[L.ev[m], L.eu[m]])), shape=(nt + 1, nt + 1))
    # roots: comps and serving gateways, joined to a super node
    roots = np.r_[np.flatnonzero(serving & L.root), nv + np.arange(L.nc)]
    sup = sp.csr_matrix((np.ones(roots.size, dtype=np.int8), (np.full(roots.size, nt), roots)), shape=(nt + 1, nt + 1))
    _, pred = breadth_first_order(g + sup + sup.T, nt, directed=False, return_predecessors=True)
    has_up = np.zeros(nt + 1, dtype=bool)
    has_up[lab[np.flatnonzero(serving & L.up)]] = True
    has_up[lab[nv + np.flatnonzero(L.comp_up)]] = True
    good = rl[serving[rl] & has_up[lab[rl]]]
    good_c = rc[has_up[lab[rc]]] if rc.size else rc
    out: list[int] = []
    if good.size:
        start = int(good[0])
    elif good_c.size:
        start = int(good_c[0])
        if radios is not None:  # the clean radio of the pair in that component
            inside = radios[rem.comp[radios] == L.comps[start - nv]]
            out += [int(inside[0])] if inside.size else []
    else:
        return []
    # the route to a user plane: breadth first from the start through the fixed world
    target = np.zeros(nt, dtype=bool)
    target[:nv] = serving & L.up
    target[nv + np.flatnonzero(L.comp_up)] = True
    order, pre = breadth_first_order(g, start, directed=False, return_predecessors=True)
    hit = order[target[order]] if order.size else order
    route = [start]
    if hit.size and int(hit[0]) != start:
        back = [int(hit[0])]
        while back[-1] != start and pre[back[-1]] >= 0:  # a few hops
            back.append(int(pre[back[-1]]))
        route = back[::-1]
    # contact element of each (node, comp) edge, for reporting where a route enters W0
    ce = ~(L.ev < nv)
    contact = dict(zip(zip(L.eu[ce].tolist(), L.ev[ce].tolist()), L.contact[ce].tolist()))

    def enter(a: int, c: int, first: bool) -> None:
        e = contact.get((a, c), -1)
        if e >= 0:
            out.append(int(e))
            if first and clean_route is not None:
                out.extend(clean_route(int(e)))

    for a, b in zip(route[:-1], route[1:]):
        if a < nv:
            out.append(int(L.nodes[a]))
        if a < nv <= b:
            enter(a, b, True)
    if route[-1] < nv:
        out.append(int(L.nodes[route[-1]]))
    seen: set[int] = set()
    queue = [v for v in route if v < nv]
    while queue:  # the elements the route relies on: a handful per pair
        v = queue.pop(0)
        if v in seen:
            continue
        seen.add(v)
        path = [v]
        while pred[path[-1]] >= 0 and pred[path[-1]] != nt and path[-1] < nv:
            path.append(int(pred[path[-1]]))
        for a in path:
            if a < nv:
                out.append(int(L.nodes[a]))
                queue += [d for d in L.dv[L.du == a].tolist() if d not in seen]
        if len(path) > 1 and path[-1] >= nv:
            enter(path[-2], path[-1], False)
    return list(dict.fromkeys(out))


def _serves_all(rem: Remediation, L: Local, plist, chosen: np.ndarray, tree_opts, fixed) -> bool:
    """Does the shared fix give every pair a clean path (closure pairs: some closure within it;
    the others: one local fixpoint over their union)?"""
    for i in fixed:
        if i in tree_opts and not any(chosen[u].all() for u in tree_opts[i]):
            return False
    if not plist:
        return True
    serving, lab = rem.world(L, chosen)
    return all(rem.satisfied(L, serving, lab, rl, rc) for rl, rc, _ in plist)


def _shared(rem: Remediation, radios_of, nodes_of, tree_opts, fixed: list[int], warm: np.ndarray, ans: Answers,
            deadline: float, gap: float) -> PairAnswer:
    """One MILP for every fixable pair; the union of the per-pair fixes is the warm start."""
    general = [i for i in fixed if i not in tree_opts]
    nodes = np.unique(np.concatenate([nodes_of[i] for i in general] + [np.zeros(0, np.int64)]))
    L = rem.local(nodes)
    plist = []
    for i in general:
        rl, rc = _radio_ids(rem, L, radios_of[i])
        plist.append((rl, rc, np.searchsorted(L.nodes, nodes_of[i])))
    wcost = float(rem.unit_cost[warm].sum())
    lb = max(ans.cost[i] if ans.optimal[i] else ans.lower[i] for i in fixed)
    remaining = deadline - time.perf_counter()
    chosen, info = None, {"optimal": False, "gap": np.inf, "bound": 0.0, "seconds": 0.0}
    if remaining > 0:
        chosen, info = rem.solve(L, plist, warm=warm, time_limit=remaining, gap=gap,
                                 options=[tree_opts[i] for i in fixed if i in tree_opts])
    source = "milp" if info["optimal"] else "milp (time limit)"
    if chosen is None or float(rem.unit_cost[chosen].sum()) > wcost or not _serves_all(rem, L, plist, chosen,
                                                                                     tree_opts, fixed):
        chosen, source = warm, "union of the per-pair fixes"
    cost = float(rem.unit_cost[chosen].sum())
    lb = min(max(lb, info["bound"]), cost)
    optimal = bool(info["optimal"]) and source == "milp"
    g_ = (max(0.0, float(info["gap"])) if optimal else (max(0.0, (cost - lb) / cost) if cost > 0 else 0.0))
    return PairAnswer([str(u) for u in rem.unit_ids[np.flatnonzero(chosen)]], cost, optimal, g_, lb, source,
                      info.get("seconds", 0.0))


# --- the clean-path table ---------------------------------------------------------------------------

#: Columns the exact remediation adds to the ``clean_path`` table.
EXACT_COLUMNS = ("remediation_units", "remediation_optimal", "remediation_gap")


@dataclasses.dataclass
class Exact:
    """What :func:`exact_remediation` adds to a clean-path Result."""

    summary: dict
    shared_table: object | None
    answers: Answers


def exact_remediation(solver, pairs, heuristic, table, *, shared: bool = True,
                      time_limit: float = DEFAULT_TIME_LIMIT, gap: float = DEFAULT_GAP,
                      costs: CostModel | None = None, closures: bool = True) -> Exact:
    """Replace the heuristic remediation columns of a ``clean_path`` table by exact ones (in place).

    Parameters
    ----------
    solver, pairs
        The clean-path solver and its pairs table.
    heuristic
        The heuristic's answers (``fix_sets``: per pair its replaced elements; ``lower``: per pair
        a lower bound).
    table
        The ``clean_path`` table, one row per pair in ``pairs`` order. Columns ``witness``,
        ``blocking``, ``remediation``, ``remediation_cost``, ``lower_bound`` and ``reason`` of
        unclean pairs are rewritten; :data:`EXACT_COLUMNS` are added.
    shared, time_limit, gap, closures
        See :func:`remediate`.
    costs
        A :class:`~cleanpath.model.costs.CostModel`, or the path of a YAML cost file.

    Returns
    -------
    Exact
        ``summary`` keys to add (``pairs_needing_fix``, ``remediation_*``, ``shared_fix_*``) and the
        ``shared_fix`` table (one row per replaced element: ``element_id, unit_id, vendor, role,
        site_id, operator_id, cost`` (the element's own price, re-homing included) and ``unit_cost``
        (its unit's, site visit included)).
    """
    import pandas as pd

    _check_params(time_limit, gap)
    if costs is not None and not isinstance(costs, CostModel):
        costs = load_costs(costs)  # a YAML file of the planner's shape (``--costs FILE``)
    todo = sorted(heuristic.fix_sets)
    a = remediate(solver, pairs, todo, heuristic=heuristic.fix_sets, heuristic_lower=heuristic.lower,
                  shared=shared, time_limit=time_limit, gap=gap, costs=costs, closures=closures)
    ids = solver.idx.graph.element_ids
    as_ids = lambda xs: [str(ids[v]) for v in xs]  # noqa: E731
    n = len(table)
    units_col = [[] for _ in range(n)]
    opt = np.ones(n, dtype=bool)
    gaps = np.zeros(n)
    cost = table["remediation_cost"].to_numpy(dtype=float, copy=True)
    lower = table["lower_bound"].to_numpy(dtype=float, copy=True)
    witness, blocking, remed = list(table["witness"]), [[] for _ in range(n)], list(table["remediation"])
    reason = table["reason"].to_numpy(dtype=object, copy=True)
    not_covered = ~pairs["covered"].to_numpy(dtype=bool)
    opt[not_covered] = False
    gaps[not_covered] = np.nan
    for i in todo:
        if i in a.cost:
            units_col[i] = a.units[i]
            opt[i], gaps[i], cost[i], lower[i] = a.optimal[i], a.gap[i], a.cost[i], a.lower[i]
            remed[i], blocking[i], witness[i] = as_ids(a.remediation[i]), as_ids(a.blocking[i]), as_ids(a.witness[i])
        else:
            opt[i], gaps[i], cost[i], lower[i] = False, np.nan, np.nan, np.nan
            remed[i], witness[i] = [], []
            reason[i] = "no path to a user-plane function and a gateway, even with replacements"
    unfixable = pairs["covered"].to_numpy(dtype=bool) & ~pairs["clean"].to_numpy(dtype=bool)
    unfixable[todo] = False
    opt[unfixable], gaps[unfixable] = False, np.nan
    table["witness"], table["blocking"], table["remediation"] = witness, blocking, remed
    table["remediation_cost"], table["lower_bound"], table["reason"] = cost, lower, reason
    table["remediation_units"] = units_col
    table["remediation_optimal"] = opt
    table["remediation_gap"] = gaps
    fixed = [i for i in todo if i in a.cost]
    summary = {
        "pairs_needing_fix": len(fixed),
        "remediation_total_independent": float(sum(a.cost[i] for i in fixed)),
        "remediation_all_optimal": bool(all(a.optimal[i] for i in fixed)),
        "remediation_max_gap": float(max((a.gap[i] for i in fixed), default=0.0)),
        "remediation_pairs_by_closure": a.by_closure,
        "remediation_total_heuristic": float(sum(a.heuristic_cost.get(i, np.nan) for i in fixed)),
    }
    shared_tab = None
    if shared:
        s = a.shared
        el = solver.net.elements
        g = solver.idx.graph
        pos = np.asarray(a.shared_elements, dtype=np.int64)
        unit_of = np.asarray(a.rem.unit_ids[a.rem.unit[pos]], dtype=object) if pos.size else np.zeros(0, object)
        g_ = a.rem.units
        el_cost = (np.nan_to_num(g_.cost[np.searchsorted(g_.pos, pos)], nan=0.0) if pos.size and g_ is not None
                   else np.zeros(0))
        u_cost = a.rem.unit_cost[a.rem.unit[pos]] if pos.size else np.zeros(0)
        shared_tab = pd.DataFrame({
            "element_id": np.asarray(g.element_ids[pos], dtype=object),
            "unit_id": unit_of,
            "vendor": el["vendor"].iloc[pos].to_numpy(dtype=object),
            "role": el["role"].iloc[pos].to_numpy(dtype=object),
            "site_id": el["site_id"].iloc[pos].to_numpy(dtype=object),
            "operator_id": np.asarray(solver.idx.operators[solver.idx.operator[pos]], dtype=object),
            "cost": el_cost,
            "unit_cost": u_cost,
        })
        lb = s.lower if s else 0.0
        c = s.cost if s else 0.0
        summary.update({
            "shared_fix_elements": int(pos.size),
            "shared_fix_units": len(a.shared_units),
            "shared_fix_cost": c,
            "shared_fix_optimal": bool(s.optimal) if s else True,
            "shared_fix_gap": float(s.gap) if s else 0.0,
            "shared_fix_source": s.source if s else "nothing to fix",
            "shared_fix_union_cost": a.heuristic_shared_cost if s else 0.0,
            "shared_fix_lower_bound": lb,
            "shared_fix_ratio_bound": (c / lb) if lb > 0 else (1.0 if c == 0 else None),
            "shared_fix_bound": ("proved optimal" if (s is None or s.optimal) else
                                 f"cost <= {1 + s.gap:.4g} x the optimum (best bound {lb:,.0f})"),
        })
    return Exact(summary, shared_tab, a)


def _check_params(time_limit, gap) -> None:
    from cleanpath.errors import ProblemCollector

    problems = ProblemCollector("clean-path")
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or not np.isfinite(time_limit) \
            or time_limit < 0:
        problems.add("time limit must be a non-negative number of seconds", column="time_limit", value=time_limit)
    if isinstance(gap, bool) or not isinstance(gap, (int, float)) or not np.isfinite(gap) or not 0 <= gap < 1:
        problems.add("gap must be a number in [0, 1)", column="gap", value=gap)
    problems.raise_if_any()
