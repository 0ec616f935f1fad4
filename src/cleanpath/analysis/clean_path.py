"""The clean-path question: does traffic from a sensitive site cross untrusted equipment, and the
cheapest way to make sure it does not.

What "clean" means
------------------
A sensitive site has a clean path on an operator when some radio of that operator covering the
site still serves once every untrusted element is switched off (the service model of
:mod:`cleanpath.analysis.service`: its dependencies, their dependencies and its transport path to a
gateway are all trusted), and the component it serves in also holds a serving user-plane function
(UPF, SGW or PGW). That is the "5G Clean Path" test: no untrusted transmission, control, computing
or storage equipment on the way radio -> transport -> core user plane -> gateway, nor among the
control-plane functions, management systems and anchors that path relies on.

The witness
-----------
For a clean pair: the fewest-hop path radio -> transport -> user-plane function -> gateway through
clean elements, followed by the control-plane, management and anchor dependencies (transitively)
of every element on it.

Blocking elements
-----------------
For a pair without a clean path: the untrusted elements on the pair's current service route (the
fewest-hop radio -> user plane -> gateway path ignoring trust) and among that route's dependencies.

The cheapest remediation
------------------------
The reported fixes are exact: :mod:`cleanpath.analysis.remediation` solves them with HiGHS over
replacement units (a site's RAN as one unit with 5G-NSA and its anchor, a core data centre as one
unit, a management system with its re-homing; :mod:`cleanpath.analysis.units`), and states per
pair ``remediation_optimal`` and ``remediation_gap``; ``blocking`` lists the untrusted elements the
fix cannot do without. The heuristic below is its warm start and its fallback past
``time_limit``.

Replacing an untrusted element costs its ``unit_cost`` (else the shipped default for its role and
generation, :mod:`cleanpath.model.costs` / ``data/costs.yaml``) and drags its dependencies: an
untrusted EMS, anchor or control-plane function the element relies on must be replaced too.

1. *The path.* Elements get a weight: 0 if they serve in the clean world, else their own cost plus
   the cost of the untrusted elements among their dependencies. The cheapest radio -> user plane
   -> gateway walk is a node-weighted *spider* (three shortest paths from a centre ``c``: to the
   radio, to the nearest user-plane function, to the nearest gateway), and all radios are served
   by three multi-source Dijkstra runs: ``d_U`` from every user-plane function, ``d_G`` from every
   gateway, then one run seeded with ``d_U(c) + d_G(c) - w(c)`` at every ``c`` (``scipy.sparse.
   csgraph.dijkstra`` with a super source; node weights become the weights of incoming arcs).
2. *What the path relies on.* The dependencies of every chosen element are added (transitively);
   each dependency that does not serve in the clean world is also connected, by its cheapest path
   towards a gateway, to the chosen elements or the clean world. The remediation is every untrusted
   element of that set, and its cost is the exact sum over the set (shared dependencies once).
   By construction the set plus the clean world satisfies the service rules, so replacing the
   remediation gives the pair a clean path (the tests check this against a brute force).

Only the elements that can lie on such a path are searched: the core of the transport graph plus
the trees (see :class:`~cleanpath.analysis.service.Forest`) that hold a radio near a sensitive site,
a user-plane function, a gateway or a dependency. Nothing else can be on a shortest path between
those, which keeps each Dijkstra run small.

Bounds
------
* Without dependencies (no untrusted EMS, anchor or control function), step 1 is exact: a minimum
  node-weighted tree joining a radio, some user-plane function and some gateway is a spider.
  With dependencies the weights count a dependency shared by two path elements twice, so the path
  is a heuristic; the reported cost is still exact for the set returned.
* ``lower_bound`` of a pair is the exact optimum of the relaxation that ignores dependencies (only
  path elements need replacing). No remediation of the pair, alone or shared, costs less.
* The **shared fix** for many pairs unites the per-pair remediations, then re-solves every pair
  with the united set free and keeps the cheaper union (the shortest-path heuristic for Steiner
  problems, applied to node weights). The refinement only drops replacements: an element that no
  pair would choose on its own (a shared aggregation router dearer than each site's private
  alternative) is not found. It costs at most the sum of the per-pair fixes, so in the
  dependency-free case at most ``k`` times the optimum (``k`` = pairs needing a fix; the classic
  bound of the heuristic for node-weighted Steiner trees, whose best polynomial guarantee is
  ``O(log k)``). Every result also carries the a-posteriori bound ``shared_fix_cost /
  max(lower_bound)``: the optimum shared fix costs at least the largest per-pair lower bound.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, dijkstra, minimum_spanning_tree

from cleanpath.analysis.remediation import DEFAULT_GAP, DEFAULT_TIME_LIMIT, EXACT_COLUMNS, exact_remediation
from cleanpath.analysis.service import INDEX_KEY, Coverage, ServiceIndex, gather_rows
from cleanpath.policy.vendorset import VendorSet, resolve_untrusted
from cleanpath.errors import ProblemCollector
from cleanpath.model.schema import GENERATIONS, ROLES, SENSITIVE_KINDS
from cleanpath.result import Result

COSTS_KEY = INDEX_KEY + ".costs"
#: Rounds of the shared-fix refinement (each re-solves every pair with the current fix free).
SHARED_ROUNDS = 2
#: Columns of the ``clean_path`` table.
COLUMNS = ("sensitive_id", "operator_id", "kind", "clean", "reason", "witness", "blocking", "remediation",
           "remediation_cost", "lower_bound") + EXACT_COLUMNS


# --- costs -------------------------------------------------------------------------------------------

def replacement_costs(net) -> np.ndarray:
    """Cost of replacing each element (US$): ``unit_cost``, else the shipped default for its role.

    Defaults come from :func:`cleanpath.plan.costs.load_costs` (``data/costs.yaml``: per role, times a
    factor per generation), so plans and clean-path remediations price equipment the same way.
    """
    c = net.cache.get(COSTS_KEY)
    if c is None:
        from cleanpath.model.costs import load_costs

        model = load_costs()
        g = net.graph()
        # price per role code and generation code, then one gather (no string work per element)
        by_role = np.array([model.roles.get(r, 0.0) for r in ROLES] + [0.0])
        gen = pd.Categorical(net.elements["generation"].to_numpy(dtype=object, na_value="none"),
                             categories=GENERATIONS).codes
        by_gen = np.array([model.generation_factor.get(x, 1.0) for x in GENERATIONS] + [1.0])
        role = np.where(g.role >= 0, g.role, len(ROLES))
        given = net.elements["unit_cost"].to_numpy(dtype="float64", na_value=np.nan)
        c = np.where(np.isfinite(given), given, by_role[role] * by_gen[np.where(gen >= 0, gen, len(GENERATIONS))])
        c = np.nan_to_num(c, nan=0.0)
        net.cache[COSTS_KEY] = c
    return c


# --- the search graph ----------------------------------------------------------------------------------

@dataclasses.dataclass
class _Graph:
    """A transport subgraph with local numbering, for Dijkstra runs."""

    ids: np.ndarray      # global position of each local node
    local: np.ndarray    # global -> local (-1 outside)
    indptr: np.ndarray
    indices: np.ndarray

    @property
    def m(self) -> int:
        return self.ids.size

    @classmethod
    def of(cls, transport: sp.csr_matrix, nodes: np.ndarray) -> "_Graph":
        ids = np.flatnonzero(nodes)
        local = np.full(nodes.size, -1, dtype=np.int64)
        local[ids] = np.arange(ids.size)
        sub = transport[ids][:, ids].tocsr()
        return cls(ids, local, sub.indptr.astype(np.int64), sub.indices.astype(np.int64))


@dataclasses.dataclass
class _Spider:
    """Three Dijkstra runs on a graph: to user plane, to gateway, and the spider value per node."""

    g: _Graph
    w: np.ndarray        # local node weights
    F: np.ndarray
    pF: np.ndarray
    pU: np.ndarray
    pG: np.ndarray

    def legs(self, r: int) -> list[int]:
        """Global ids of the spider of local radio ``r``: radio..centre, centre..UP, centre..gateway."""
        m = self.g.m
        one = _walk(self.pF, r, m)
        c = one[-1]
        two = _walk(self.pU, c, m)
        three = _walk(self.pG, c, m)
        seq = one + two[1:] + three[1:]
        return [int(x) for x in self.g.ids[list(dict.fromkeys(seq))]]

    def gateway_path(self, v: int) -> list[int]:
        """Global ids from global element ``v`` towards its cheapest gateway."""
        return [int(x) for x in self.g.ids[_walk(self.pG, int(self.g.local[v]), self.g.m)]]


def _walk(pred: np.ndarray, start: int, stop: int) -> list[int]:
    out = [start]
    v = pred[start]
    while v != stop and v >= 0:
        out.append(int(v))
        v = pred[v]
    return out


def _run(g: _Graph, w: np.ndarray, seeds: np.ndarray, seed_cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dijkstra from a super source joined to ``seeds`` at ``seed_cost``; arc x -> v costs ``w[v]``."""
    m = g.m
    indptr = np.concatenate([g.indptr, [g.indptr[-1] + seeds.size]])
    indices = np.concatenate([g.indices, seeds])
    data = np.concatenate([w[g.indices], seed_cost])
    mat = sp.csr_matrix((data, indices, indptr), shape=(m + 1, m + 1))
    dist, pred = dijkstra(mat, directed=True, indices=m, return_predecessors=True)
    return dist[:m], pred[:m]


def _spider(g: _Graph, w: np.ndarray, up: np.ndarray, gw: np.ndarray) -> _Spider:
    """Spider values of every node: cheapest node-weighted radio..c + c..UP + c..gateway."""
    u = np.flatnonzero(up[g.ids])
    gg = np.flatnonzero(gw[g.ids])
    d_u, p_u = _run(g, w, u, w[u])
    d_g, p_g = _run(g, w, gg, w[gg])
    s = d_u + d_g - w
    c = np.flatnonzero(np.isfinite(s))
    f, p_f = _run(g, w, c, s[c])
    return _Spider(g, w, f, p_f, p_u, p_g)


def _bottleneck(g: _Graph, cc: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Per node, the least possible largest ``cc`` on a path from any seed to it (inf if none).

    Minimax paths lie on a minimum spanning tree (edge weight: the larger endpoint value), so one
    MST from a super source joined to the seeds, then pointer jumping up the tree, gives all.
    """
    m = g.m
    rows = np.repeat(np.arange(m), np.diff(g.indptr))
    keep = rows < g.indices
    r, c = rows[keep], g.indices[keep]
    # +1 keeps weights positive: scipy reads a zero weight as "no edge"
    data = np.concatenate([np.maximum(cc[r], cc[c]) + 1.0, cc[seeds] + 1.0])
    mat = sp.csr_matrix((data, (np.concatenate([r, np.full(seeds.size, m)]), np.concatenate([c, seeds]))),
                        shape=(m + 1, m + 1))
    tree = minimum_spanning_tree(mat)
    _, pred = breadth_first_order(tree + tree.T, m, directed=False, return_predecessors=True)
    val = np.append(cc, 0.0)
    anc = np.append(pred[:m], m)
    anc[anc < 0] = m
    val[:m][pred[:m] < 0] = np.inf
    for _ in range(int(np.ceil(np.log2(m + 2))) + 1):  # each step doubles the ancestor distance
        val = np.maximum(val, val[anc])
        anc = anc[anc]
    return val[:m]


# --- the solver ---------------------------------------------------------------------------------------

class CleanPathSolver:
    """Clean-path status, witnesses, blocking elements and remediations for one trust setting.

    Parameters
    ----------
    net
        The network.
    untrusted
        Vendor ids that must not appear on a clean path.
    rows
        Positions (in ``net.sensitive_sites``) of the sensitive sites to answer for.
    alive
        Elements that exist (default: the in-service ones); the audit passes those present as of
        its date.
    """

    def __init__(self, net, untrusted: Iterable[str], *, rows: np.ndarray, alive: np.ndarray | None = None):
        self.net = net
        self.idx = idx = ServiceIndex.of(net)
        self.cov = Coverage.of(net)
        self.untrusted = frozenset(untrusted)
        self.bad = idx.graph.vendor_mask(self.untrusted)
        # the clean-path reading: an element needs its managers too (management=True)
        self.base = idx.fixpoint(np.asarray(idx.graph.in_service, dtype=bool) if alive is None else alive,
                                 management=True)
        hit = self.base & self.bad
        # a clean element also needs clean managers (an untrusted EMS could reconfigure it)
        self.clean, lab = idx.fixpoint(self.base & ~self.bad, removed=np.flatnonzero(hit), labels=True,
                                       management=True)
        has_up = np.zeros(int(lab.max()) + 2, dtype=bool)
        has_up[lab[idx.is_user_plane & self.clean]] = True
        self.clean_radio = idx.is_radio & self.clean & has_up[lab]
        self.rows = np.asarray(rows, dtype=np.int64)
        self.cost = replacement_costs(net)
        self._graph: _Graph | None = None
        self._n_ops = max(len(idx.operators), 1)
        # serving radios covering each (sensitive row, operator), grouped once
        sel = np.isin(self.cov.row, self.rows) & self.base[self.cov.col]
        key = self.cov.row[sel] * self._n_ops + idx.operator[self.cov.col[sel]]
        order = np.argsort(key, kind="stable")
        key, col = key[order], self.cov.col[sel][order]
        cuts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.empty(0, np.int64)
        self._radios = dict(zip(key[cuts].tolist(), np.split(col, cuts[1:])))

    # -- status ------------------------------------------------------------------------------------
    def pairs(self, operators: Sequence[int] | None = None) -> pd.DataFrame:
        """One row per (sensitive row, operator code), with ``covered`` and ``clean``."""
        ops = np.arange(len(self.idx.operators)) if operators is None else np.asarray(operators, dtype=np.int64)
        rr = np.repeat(self.rows, ops.size)
        oo = np.tile(ops, self.rows.size)
        cand = [self._radios.get(k) for k in (rr * self._n_ops + oo).tolist()]
        return pd.DataFrame({"row": rr, "op": oo,
                             "covered": np.array([c is not None for c in cand], dtype=bool),
                             "clean": np.array([c is not None and bool(self.clean_radio[c].any()) for c in cand],
                                               dtype=bool)})

    def candidates(self, row: int, op: int, *, clean_only: bool) -> np.ndarray:
        """Serving radios of operator ``op`` covering sensitive row ``row`` (only clean ones if asked)."""
        r = self._radios.get(row * self._n_ops + op, np.empty(0, dtype=np.int64))
        return r[self.clean_radio[r]] if clean_only else r

    # -- the search graph ----------------------------------------------------------------------------
    def graph(self) -> _Graph:
        """The pruned search graph over baseline-serving elements (built once)."""
        if self._graph is None:
            idx, f = self.idx, self.idx.forest
            term = (idx.is_user_plane | idx.is_gateway) & self.base
            sel = np.isin(self.cov.row, self.rows)
            term[self.cov.col[sel]] = True
            term &= self.base
            while True:
                kept = _kept(f, term)
                targets = gather_rows(idx.dep.indptr, idx.dep.indices, np.flatnonzero(kept & self.base))
                new = targets[~term[targets] & self.base[targets]]
                if not new.size:
                    break
                term[new] = True
            self._graph = _Graph.of(idx.transport, kept & self.base)
        return self._graph

    def weights(self, *, free: np.ndarray | None = None, relaxed: bool = False) -> np.ndarray:
        """Local node weights: 0 in the clean world, else own cost plus untrusted dependencies' costs.

        ``free`` elements cost nothing (already replaced); ``relaxed`` ignores dependencies (lower
        bounds). A tiny per-node epsilon keeps weights positive and prefers fewer hops.
        """
        g = self.graph()
        own = np.where(self.bad, self.cost, 0.0)
        if free is not None:
            own = np.where(free, 0.0, own)
        total = own
        if not relaxed:
            total = own + _dependency_cost(self.idx.dep, own)
        w = np.where(self.clean, 0.0, total)[g.ids]
        return w + 1.0 / (4.0 * (g.m + 2))

    # -- one pair --------------------------------------------------------------------------------------
    def dependency_closure(self, elements: list[int]) -> list[int]:
        """Dependencies of ``elements``, transitively, in breadth-first order (not the elements)."""
        dep = self.idx.dep
        seen = set(elements)
        out: list[int] = []
        queue = list(elements)
        while queue:
            v = queue.pop(0)
            for d in dep.indices[dep.indptr[v]:dep.indptr[v + 1]]:
                d = int(d)
                if d not in seen:
                    seen.add(d)
                    out.append(d)
                    queue.append(d)
        return out

    def open_pair(self, spider: _Spider, radio: int) -> tuple[list[int], list[int]]:
        """Elements a pair needs for a clean path from ``radio``: the spider, then dependencies.

        Returns the spider's elements and the added elements (dependencies, and the paths that
        connect dependencies outside the clean world).
        """
        legs = spider.legs(int(spider.g.local[radio]))
        dep = self.idx.dep
        have = set(legs)
        added: list[int] = []
        queue = list(legs)
        while queue:  # walks the few elements one witness relies on, not the network
            v = queue.pop(0)
            for d in dep.indices[dep.indptr[v]:dep.indptr[v + 1]]:
                d = int(d)
                if d in have:
                    continue
                have.add(d)
                added.append(d)
                queue.append(d)
                if self.clean[d]:
                    continue
                for q in spider.gateway_path(d)[1:]:
                    if q in have or self.clean[q]:
                        break
                    have.add(q)
                    added.append(q)
                    queue.append(q)
        return legs, added

    def closure_costs(self, elements: np.ndarray) -> np.ndarray:
        """Exact cost of the untrusted elements among each element and its dependencies (transitively).

        An element can only be on a clean path once all of these are replaced, so the largest of
        them along a path is a lower bound on opening it (see :func:`_bottleneck`).
        """
        n = self.idx.n
        k = elements.size
        if not k:
            return np.zeros(0)
        reach = sp.csr_matrix((np.ones(k, dtype=np.int8), (np.arange(k), elements)), shape=(k, n))
        frontier = reach
        dep = self.idx.dep.astype(np.int8)
        for _ in range(64):  # depth of the dependency graph; stops as soon as nothing is new
            nxt = (frontier @ dep).astype(bool).astype(np.int8)
            new = (nxt - nxt.multiply(reach.astype(bool))).tocsr()
            new.eliminate_zeros()
            if not new.nnz:
                break
            reach = (reach + new).tocsr()
            frontier = new
        own = np.where(self.bad, self.cost, 0.0)
        return np.asarray(reach.astype(bool).astype(np.float64) @ own).ravel()

    def remediation_of(self, elements: Iterable[int]) -> tuple[list[int], float]:
        r = sorted(v for v in set(elements) if self.bad[v])
        return r, float(self.cost[r].sum()) if r else 0.0


def _kept(f, term: np.ndarray) -> np.ndarray:
    """Core elements plus peeled elements whose subtree holds a terminal."""
    kept = ~f.peeled.copy()
    tp = term & f.live
    pos = f.tin[tp]
    pref = np.concatenate([[0], np.cumsum(np.bincount(pos, minlength=f.n_pos))])
    pe = np.flatnonzero(f.live)
    kept[pe] = (pref[f.tin[pe] + f.size[pe]] - pref[f.tin[pe]]) > 0
    return kept


def _dependency_cost(dep: sp.csr_matrix, own: np.ndarray, *, depth: int = 8) -> np.ndarray:
    """Cost of the untrusted elements an element depends on (transitively, up to ``depth`` hops).

    A dependency reached two ways counts twice; this only steers the search, the reported cost
    is always taken over the set.
    """
    acc = np.zeros_like(own)
    layer = own
    for _ in range(depth):
        layer = dep @ layer
        if not layer.any():
            break
        acc += layer
    return acc


# --- choosing sites and operators -----------------------------------------------------------------------

def _select_rows(net, sensitive: Sequence[str] | str | None) -> np.ndarray:
    ss = net.sensitive_sites
    if sensitive is None:
        return np.arange(len(ss))
    items = [s.strip() for x in ([sensitive] if isinstance(sensitive, str) else sensitive)
             for s in str(x).split(",") if s.strip()]
    ids = ss["sensitive_id"].to_numpy(dtype=object)
    kinds = ss["kind"].to_numpy(dtype=object)
    mask = np.zeros(len(ss), dtype=bool)
    problems = ProblemCollector("--sensitive")
    for it in items:
        hit = (kinds == it) if it in SENSITIVE_KINDS else (ids == it)
        if not hit.any():
            problems.add("no sensitive site with this id or kind" if it not in SENSITIVE_KINDS
                         else "no sensitive site of this kind in the snapshot", column="--sensitive", value=it)
        mask |= hit
    problems.raise_if_any()
    return np.flatnonzero(mask)


def _select_ops(idx: ServiceIndex, operator: Sequence[str] | str | None) -> np.ndarray:
    if operator is None:
        return np.arange(len(idx.operators))
    names = [o.strip() for x in ([operator] if isinstance(operator, str) else operator)
             for o in str(x).split(",") if o.strip()]
    codes = pd.Index(idx.operators).get_indexer(names)
    problems = ProblemCollector("--operator")
    for name, c in zip(names, codes):
        if c < 0:
            problems.add("no such operator in the snapshot", column="--operator", value=name)
    problems.raise_if_any()
    return codes.astype(np.int64)


# --- the question ---------------------------------------------------------------------------------------

def clean_path_status(net, *, untrusted: Iterable[str], kinds: Sequence[str] | None = None,
                      sensitive_ids: Sequence[str] | None = None, operator: str | Sequence[str] | None = None,
                      blocking: bool = True, alive: np.ndarray | None = None) -> pd.DataFrame:
    """Clean or not, per sensitive site and operator, without remediation (for the policy engine).

    Parameters
    ----------
    net
        The network.
    untrusted
        Vendor ids that must not appear on the path.
    kinds, sensitive_ids
        Which sensitive sites (by kind, by id; both None: all).
    operator
        Only these operators (default: all).
    blocking
        Also list the untrusted elements on each unclean pair's current route.
    alive
        Elements that exist (default: the in-service ones).

    Returns
    -------
    pandas.DataFrame
        ``sensitive_id``, ``kind``, ``operator_id``, ``covered`` (a serving radio of the operator
        covers the site), ``clean`` and, with ``blocking``, ``blocking`` (element ids).
    """
    ss = net.sensitive_sites
    mask = np.ones(len(ss), dtype=bool)
    if kinds is not None:
        mask &= ss["kind"].isin(list(kinds)).to_numpy(dtype=bool, na_value=False)
    if sensitive_ids is not None:
        mask &= ss["sensitive_id"].isin(list(sensitive_ids)).to_numpy(dtype=bool, na_value=False)
    solver = CleanPathSolver(net, untrusted, rows=np.flatnonzero(mask), alive=alive)
    pairs = solver.pairs(_select_ops(solver.idx, operator))
    out = pd.DataFrame({"sensitive_id": solver.cov.ids[pairs["row"]], "kind": solver.cov.kinds[pairs["row"]],
                        "operator_id": solver.idx.operators[pairs["op"]], "covered": pairs["covered"].to_numpy(),
                        "clean": pairs["clean"].to_numpy()})
    if blocking:
        out["blocking"] = _blocking(solver, pairs)
    return out


def _blocking(solver: CleanPathSolver, pairs: pd.DataFrame) -> list[list[str]]:
    """Untrusted elements on each unclean pair's current fewest-hop route and its dependencies."""
    ids = solver.idx.graph.element_ids
    todo = pairs.index[pairs["covered"] & ~pairs["clean"]]
    out: list[list[str]] = [[] for _ in range(len(pairs))]
    if not len(todo):
        return out
    g = solver.graph()
    hop = _spider(g, np.ones(g.m), solver.idx.is_user_plane, solver.idx.is_gateway)
    for i in todo:
        cand = solver.candidates(int(pairs.at[i, "row"]), int(pairs.at[i, "op"]), clean_only=False)
        loc = g.local[cand]
        ok = np.isfinite(hop.F[loc])
        if not ok.any():
            continue
        r = cand[ok][np.argmin(hop.F[loc[ok]])]
        route = hop.legs(int(g.local[r]))
        els = route + solver.dependency_closure(route)
        out[i] = [str(ids[v]) for v in dict.fromkeys(els) if solver.bad[v]]
    return out


def run_clean_path(net, *, sensitive: Sequence[str] | str | None = None, trust: str | Sequence[str] | None = None,
                   operator: str | Sequence[str] | None = None, shared: bool = True,
                   untrusted: Iterable[str] | None = None, time_limit: float = DEFAULT_TIME_LIMIT,
                   gap: float = DEFAULT_GAP, costs=None) -> Result:
    """Per sensitive site and operator: is there a clean path, and what is the cheapest way to one?

    Parameters
    ----------
    net
        The network.
    sensitive
        Sensitive-site kinds (``military``...) and/or ``sensitive_id`` values (default: all).
    trust
        The untrusted vendor set (text, list, :class:`~cleanpath.policy.vendorset.VendorSet`, or a
        frozenset of resolved ids; grammar in :mod:`cleanpath.policy.vendorset`): pack names,
        vendors, ``country:CC``, ``only:...``; default: vendors headquartered in China or Russia.
    operator
        Only these operator ids (default: every operator).
    shared
        Also compute the shared-fix remediation for all pairs at once.
    untrusted
        Untrusted vendor ids, instead of ``trust`` (a frozenset is taken as resolved; other
        collections are read as a vendor set, so spellings resolve and unknown names are errors).
    time_limit
        Seconds for the exact remediation of all pairs and the shared fix together (default 10);
        past it each pair keeps the best fix known (HiGHS's incumbent, else the heuristic's) with
        ``remediation_optimal`` false (:mod:`cleanpath.analysis.remediation`).
    gap
        Relative MIP gap at which HiGHS may stop (default 0: prove the optimum).
    costs
        A :class:`~cleanpath.model.costs.CostModel` (default: ``data/costs.yaml``); fixes are priced
        per replacement unit, as the planner prices them.

    Returns
    -------
    Result
        Table ``clean_path`` (one row per sensitive site and operator: ``sensitive_id``,
        ``operator_id``, ``kind``, ``clean``, ``reason``, ``witness``, ``blocking``,
        ``remediation`` (element ids), ``remediation_cost`` (US$), ``lower_bound`` (US$),
        ``remediation_units``, ``remediation_optimal``, ``remediation_gap``). The
        witness of a clean pair is its clean path; of a pair without one, the path the remediation
        opens (with the dependencies and connections it adds). Table
        ``shared_fix`` (the elements of the shared remediation, with their units); summary with the
        counts, the untrusted vendors, the shared fix's cost, whether it is proved optimal and its gap. See the module
        docstring for the definitions and guarantees.

    Raises
    ------
    ValidationError
        For unknown sensitive sites, kinds, operators or trust tokens.
    """
    bad_vendors = resolve_untrusted(net, trust if untrusted is None else
                                    untrusted if isinstance(untrusted, frozenset) else list(untrusted))
    rows = _select_rows(net, sensitive)
    solver = CleanPathSolver(net, bad_vendors, rows=rows)
    pairs = solver.pairs(_select_ops(solver.idx, operator))
    ans = _answer_pairs(solver, pairs)
    ids = solver.idx.graph.element_ids
    as_ids = lambda lists: [[str(ids[v]) for v in x] for x in lists]  # noqa: E731
    n = len(pairs)
    table = pd.DataFrame({
        "sensitive_id": solver.cov.ids[pairs["row"]] if n else np.zeros(0, object),
        "operator_id": solver.idx.operators[pairs["op"]] if n else np.zeros(0, object),
        "kind": solver.cov.kinds[pairs["row"]] if n else np.zeros(0, object),
        "clean": pairs["clean"].to_numpy(dtype=bool),
        "reason": ans.reason, "witness": as_ids(ans.witness), "blocking": [[] for _ in range(n)],
        "remediation": as_ids(ans.remediation), "remediation_cost": ans.cost, "lower_bound": ans.lower,
    }, columns=list(COLUMNS[:-len(EXACT_COLUMNS)]))
    # the exact remediation (MILP, :mod:`cleanpath.analysis.remediation`) replaces the heuristic's
    # fixes, lower bounds, witnesses and blocking elements; the heuristic is its warm start
    exact = exact_remediation(solver, pairs, ans, table, shared=shared, time_limit=time_limit, gap=gap, costs=costs)
    fixed = list(ans.fix_sets)
    summary: dict[str, Any] = {
        "untrusted": sorted(bad_vendors),
        "sensitive_sites": int(rows.size),
        "pairs": n,
        "clean_pairs": int(table["clean"].sum()),
        "sites_with_clean_path": int(table.groupby("sensitive_id")["clean"].any().sum()) if n else 0,
        "sites_without_clean_path": sorted(set(table["sensitive_id"]) - set(table.loc[table["clean"], "sensitive_id"])),
        "pairs_needing_fix": len(fixed),
        "remediation_total_independent": float(np.nansum(ans.cost[fixed])) if fixed else 0.0,
    }
    summary.update(exact.summary)
    tables = {"clean_path": table}
    if shared:
        tables["shared_fix"] = exact.shared_table
    return Result("clean-path", net.name,
                  params={"sensitive": sensitive,
                          "trust": str(trust) if isinstance(trust, VendorSet) else
                          sorted(trust) if isinstance(trust, frozenset) else trust,
                          "operator": operator, "shared": shared, "time_limit": time_limit, "gap": gap},
                  summary=summary, tables=tables)


@dataclasses.dataclass
class _Answers:
    """Per pair: witness and remediation (element positions), cost, lower bound, reason."""

    witness: list[list[int]]
    remediation: list[list[int]]
    cost: np.ndarray
    lower: np.ndarray
    reason: np.ndarray
    fix_sets: dict[int, list[int]]


def _answer_pairs(solver: CleanPathSolver, pairs: pd.DataFrame) -> _Answers:
    """Witnesses for clean pairs, remediations with lower bounds for the others."""
    n = len(pairs)
    ans = _Answers([[] for _ in range(n)], [[] for _ in range(n)], np.full(n, np.nan), np.full(n, np.nan),
                   np.where(pairs["clean"], "clean", np.where(
                       pairs["covered"], "untrusted equipment on every path",
                       "no serving radio of this operator covers the site")).astype(object), {})
    todo = pairs.index[pairs["covered"]]
    if not len(todo):
        return ans
    idx, g = solver.idx, solver.graph()
    in_g = np.zeros(idx.n, dtype=bool)
    in_g[g.ids] = True
    clean_g = _Graph.of(idx.transport, in_g & solver.clean)
    clean_sp = _spider(clean_g, np.ones(clean_g.m), idx.is_user_plane, idx.is_gateway)
    cost_sp = _spider(g, solver.weights(), idx.is_user_plane, idx.is_gateway)
    lb_sp = _spider(g, solver.weights(relaxed=True), idx.is_user_plane, idx.is_gateway)
    cc = solver.closure_costs(g.ids)
    neck = np.maximum(_bottleneck(g, cc, np.flatnonzero(idx.is_user_plane[g.ids])),
                      _bottleneck(g, cc, np.flatnonzero(idx.is_gateway[g.ids])))
    slack = g.m / (4.0 * (g.m + 2))  # the epsilons a relaxed spider can carry
    for i in todo:  # one step per pair; each walks a few predecessor chains
        row, op = int(pairs.at[i, "row"]), int(pairs.at[i, "op"])
        if pairs.at[i, "clean"]:
            cand = solver.candidates(row, op, clean_only=True)
            r = cand[np.argmin(clean_sp.F[clean_g.local[cand]])]
            legs = clean_sp.legs(int(clean_g.local[r]))
            ans.witness[i] = legs + solver.dependency_closure(legs)
            ans.cost[i] = ans.lower[i] = 0.0
            continue
        cand = solver.candidates(row, op, clean_only=False)
        loc = g.local[cand]
        if not np.isfinite(cost_sp.F[loc]).any():
            ans.reason[i] = "no path to a user-plane function and a gateway, even with replacements"
            continue
        legs, added = solver.open_pair(cost_sp, int(cand[np.argmin(cost_sp.F[loc])]))
        fix, c = solver.remediation_of(legs + added)
        ans.fix_sets[i] = fix
        ans.witness[i], ans.remediation[i], ans.cost[i] = legs + added, fix, c
        ans.lower[i] = max(0.0, float(np.min(lb_sp.F[loc])) - slack, float(np.min(neck[loc])))
    return ans


def _shared_fix(solver: CleanPathSolver, pairs: pd.DataFrame, fix_sets: dict[int, list[int]],
                lower: np.ndarray) -> tuple[dict, pd.DataFrame]:
    """Shared remediation: union of the per-pair fixes, refined by re-solving with the union free."""
    best = sorted(set().union(*fix_sets.values())) if fix_sets else []
    best_cost = float(solver.cost[best].sum()) if best else 0.0
    first_cost = best_cost
    rounds = 0
    for _ in range(SHARED_ROUNDS if fix_sets else 0):
        free = np.zeros(solver.idx.n, dtype=bool)
        free[best] = True
        sp_ = _spider(solver.graph(), solver.weights(free=free), solver.idx.is_user_plane, solver.idx.is_gateway)
        union: set[int] = set()
        for i in fix_sets:
            cand = solver.candidates(int(pairs.at[i, "row"]), int(pairs.at[i, "op"]), clean_only=False)
            loc = solver.graph().local[cand]
            r = cand[np.argmin(sp_.F[loc])]
            legs, added = solver.open_pair(sp_, int(r))
            union |= set(solver.remediation_of(legs + added)[0])
        cand_set = sorted(union)
        c = float(solver.cost[cand_set].sum()) if cand_set else 0.0
        rounds += 1
        if c >= best_cost - 1e-9:
            break
        best, best_cost = cand_set, c
    lb = float(np.nanmax(lower[list(fix_sets)])) if fix_sets else 0.0
    g = solver.idx.graph
    el = solver.net.elements
    best_a = np.asarray(best, dtype=np.int64)
    tab = pd.DataFrame({
        "element_id": np.asarray(g.element_ids[best_a], dtype=object),
        "vendor": np.asarray(g.vendors[g.vendor_codes[best_a]], dtype=object),
        "role": el["role"].iloc[best_a].to_numpy(dtype=object),
        "site_id": el["site_id"].iloc[best_a].to_numpy(dtype=object),
        "operator_id": np.asarray(solver.idx.operators[solver.idx.operator[best_a]], dtype=object),
        "cost": solver.cost[best_a],
    })
    k = len(fix_sets)
    return {
        "shared_fix_elements": len(best),
        "shared_fix_cost": best_cost,
        "shared_fix_union_cost": first_cost,
        "shared_fix_rounds": rounds,
        "shared_fix_lower_bound": lb,
        "shared_fix_ratio_bound": (best_cost / lb) if lb > 0 else (1.0 if best_cost == 0 else None),
        "shared_fix_bound": (f"cost <= sum of the {k} per-pair fixes; without dependencies <= {k} x optimum; "
                             f"a posteriori <= shared_fix_ratio_bound x optimum"),
    }, tab


# --- the policy engine's hook ---------------------------------------------------------------------------

def policy_engine(net, *, sensitive_ids: list[str], untrusted: frozenset[str], as_of: dt.date) -> pd.DataFrame:
    """``clean_path`` rules' engine, handed to :func:`cleanpath.policy.engine.evaluate` by the audit
    and the planner: elements installed after ``as_of`` do not exist yet."""
    when = pd.to_datetime(net.elements["installed_on"], errors="coerce")
    later = (when > pd.Timestamp(as_of)).to_numpy(dtype=bool, na_value=False)
    alive = net.elements["in_service"].to_numpy(dtype=bool, na_value=True) & ~later
    return clean_path_status(net, untrusted=untrusted, sensitive_ids=sensitive_ids,
                             alive=None if alive.all() else alive)

