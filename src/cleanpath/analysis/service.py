"""The service model: which elements serve, computed as a vectorised fixpoint.

An element **serves** (forwards traffic) iff it is in service and not disabled, every element it
depends on for forwarding serves (``control``: the core function it is homed on; ``anchor``: a
5G-NSA radio's 4G anchor), and it reaches a gateway (role ``gateway.internet`` or
``gateway.interconnect``) through ``transport`` links among serving elements.

**Management is not forwarding.** An element whose EMS/OSS (``management`` link) is down keeps
forwarding; it is only *unmanaged* (:meth:`ServiceIndex.unmanaged`). The stricter reading, where an
element also needs its managers (the clean-path question: an element managed by an untrusted
system is not clean), is ``fixpoint(..., management=True)``. A site serves while
any of its radios serves (sites without radios: while any of their elements serves); a sensitive
site has service from an operator while a serving radio of that operator lies within its radius
(or inside its polygon).

The served set is the *greatest* fixpoint of those rules: start from the alive elements, drop
elements whose dependencies dropped, drop elements cut off from every gateway, and repeat until
nothing changes. Each round is a handful of whole-array operations, never a loop over elements.

Why it is fast
--------------
Real mobile networks are mostly trees hanging off a meshed backbone: radios hang off basebands,
basebands off site routers, site routers off hubs. :class:`Forest` peels those trees once per
snapshot (repeatedly removing non-gateway elements with at most one neighbour). What remains, the
*core*, holds every gateway and every cycle and is small. A peeled element reaches a gateway iff
every element on its path up to the core is alive and its core attachment reaches a gateway. With
the trees laid out in depth-first order each subtree is a contiguous interval, so "everything below
a dead element is cut off" is one difference array and one cumulative sum over all elements.
Connected components (``scipy.sparse.csgraph``) are only computed on the core.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from cleanpath.geo.sphere import RADIUS_TOLERANCE_M  # noqa: F401 (one tolerance, re-exported)
from cleanpath.model.schema import ROLES, USER_PLANE_ROLES

#: Key of the service index in ``Network.cache``.
INDEX_KEY = "cleanpath.analysis.service"
#: Roles that count as a gateway (the service model's sinks).
GATEWAY_ROLES = ("gateway.internet", "gateway.interconnect")
#: Link kinds an element depends on for forwarding (the element is ``a``, its dependency ``b``).
DEPENDENCY_KINDS = ("control", "anchor")
#: The link kind of management (``a`` is managed by ``b``): not a forwarding dependency.
MANAGEMENT_KIND = "management"


# --- small vectorised helpers ---------------------------------------------------------------------

def gather_rows(indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray,
                *, with_rows: bool = False):
    """Column indices of some CSR rows, concatenated, without a Python loop.

    Parameters
    ----------
    indptr, indices
        The CSR structure.
    rows
        Row numbers to gather.
    with_rows
        Also return, for each gathered entry, the row it came from.
    """
    rows = np.asarray(rows, dtype=np.int64)
    starts = indptr[rows].astype(np.int64)
    lens = indptr[rows + 1].astype(np.int64) - starts
    total = int(lens.sum())
    if total == 0:
        empty = np.empty(0, dtype=np.int64)
        return (empty, empty) if with_rows else empty
    # entry j of row i sits at starts[i] + (j - first output slot of row i)
    offsets = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)
    cols = indices[offsets].astype(np.int64)
    return (cols, np.repeat(rows, lens)) if with_rows else cols


def _binary(m: sp.spmatrix, n: int, *, drop_diagonal: bool) -> sp.csr_matrix:
    """A 0/1 ``int32`` CSR copy of ``m`` (multiplicities folded, optionally no self-loops)."""
    m = sp.csr_matrix(m, shape=(n, n), dtype=np.int32, copy=True)
    m.sum_duplicates()
    if drop_diagonal:
        m.setdiag(0)
    m.eliminate_zeros()
    m.data[:] = 1
    return m


# --- the peeled forest ---------------------------------------------------------------------------

@dataclass
class Forest:
    """The transport graph split into a small core and the trees hanging off it.

    Attributes
    ----------
    core
        Positions of core elements (every gateway, every cycle, everything between gateways).
    local
        For each element, its index in ``core`` (-1 for peeled elements).
    edges_u, edges_v
        Core-local endpoints of the core's transport edges, each undirected edge once.
    peeled, live
        Masks: peeled elements; peeled elements whose tree hangs off the core (the others sit in
        components without any gateway and can never serve).
    parent
        For a peeled element, the neighbour it hangs from (-1 for the root of a dead tree).
    attach
        The core element a live peeled element hangs from (itself for core elements, -1 if dead).
    tin, size
        Depth-first position and subtree size of each peeled element; the subtree of ``x`` is the
        interval ``[tin[x], tin[x] + size[x])``.
    block_start, block_end
        Per core element, the interval holding every tree hanging off it.
    n_pos, dead_start
        Number of positions; dead trees occupy ``[dead_start, n_pos)``.
    rounds
        Number of peeling rounds (the depth of the deepest tree).
    """

    core: np.ndarray
    local: np.ndarray
    edges_u: np.ndarray
    edges_v: np.ndarray
    peeled: np.ndarray
    live: np.ndarray
    parent: np.ndarray
    attach: np.ndarray
    tin: np.ndarray
    size: np.ndarray
    block_start: np.ndarray
    block_end: np.ndarray
    n_pos: int
    dead_start: int
    rounds: int
    peeled_idx: np.ndarray = dataclasses.field(init=False, repr=False)
    elem_at: np.ndarray = dataclasses.field(init=False, repr=False)
    live_pos: np.ndarray = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        # positions in depth-first order, so a reach pass needs no scatter through ``tin``
        self.peeled_idx = np.flatnonzero(self.peeled)
        self.elem_at = np.empty(self.n_pos, dtype=np.int64)
        self.elem_at[self.tin[self.peeled_idx]] = self.peeled_idx
        self.live_pos = self.live[self.elem_at]

    @classmethod
    def build(cls, adj: sp.csr_matrix, anchored: np.ndarray) -> "Forest":
        """Peel the trees off an undirected 0/1 graph without self-loops.

        Parameters
        ----------
        adj
            Symmetric CSR adjacency.
        anchored
            Elements that are never peeled (the gateways), so no tree contains a gateway.
        """
        n = adj.shape[0]
        indptr, indices = adj.indptr, adj.indices
        deg = np.diff(indptr).astype(np.int64)
        removed = np.zeros(n, dtype=bool)
        parent = np.full(n, -1, dtype=np.int64)
        rnd = np.full(n, -1, dtype=np.int64)
        by_round: list[np.ndarray] = []
        frontier = np.flatnonzero((deg <= 1) & ~anchored)
        while frontier.size:
            r = len(by_round)
            removed[frontier] = True
            rnd[frontier] = r
            by_round.append(frontier)
            nb, rows = gather_rows(indptr, indices, frontier, with_rows=True)
            # deg counts neighbours not removed in an earlier round, so at most one survives here
            keep = ~removed[nb] | (rnd[nb] == r)
            nb, rows = nb[keep], rows[keep]
            # two leaves of each other form a tree with no gateway: both become dead roots
            single = rnd[nb] != r
            nb, rows = nb[single], rows[single]
            parent[rows] = nb
            up, counts = np.unique(nb, return_counts=True)
            deg[up] -= counts
            frontier = up[(deg[up] <= 1) & ~anchored[up]]
        return cls._layout(adj, removed, parent, by_round)

    @classmethod
    def _layout(cls, adj: sp.csr_matrix, removed: np.ndarray, parent: np.ndarray,
                by_round: list[np.ndarray]) -> "Forest":
        n = adj.shape[0]
        core = np.flatnonzero(~removed)
        local = np.full(n, -1, dtype=np.int64)
        local[core] = np.arange(core.size)
        attach = np.full(n, -1, dtype=np.int64)
        attach[core] = core
        for f in reversed(by_round):  # a parent is peeled in a later round (or is core)
            p = parent[f]
            attach[f] = np.where(p >= 0, attach[np.maximum(p, 0)], -1)
        live = removed & (attach >= 0)

        size = np.ones(n, dtype=np.int64)
        fsize = np.zeros(core.size, dtype=np.int64)
        for f in by_round:  # children are peeled before their parent
            f = f[live[f]]
            p = parent[f]
            to_core = ~removed[p]
            np.add.at(size, p[~to_core], size[f[~to_core]])
            np.add.at(fsize, local[p[to_core]], size[f[to_core]])

        block_start = np.cumsum(fsize) - fsize
        block_end = block_start + fsize
        dead_start = int(fsize.sum())
        tin = np.full(n, -1, dtype=np.int64)
        nxt = np.zeros(n, dtype=np.int64)  # next free position among a parent's children
        nxt[core] = block_start
        for f in reversed(by_round):
            f = f[live[f]]
            if not f.size:
                continue
            order = np.argsort(parent[f], kind="stable")
            f = f[order]
            p = parent[f]
            sz = size[f]
            excl = np.cumsum(sz) - sz
            first = np.r_[True, p[1:] != p[:-1]]
            group = np.cumsum(first) - 1
            tin[f] = nxt[p] + excl - excl[first][group]
            nxt[p[first]] += np.add.reduceat(sz, np.flatnonzero(first))
            nxt[f] = tin[f] + 1
        dead = np.flatnonzero(removed & ~live)
        tin[dead] = dead_start + np.arange(dead.size)
        size[dead] = 1
        size[~removed] = 0

        sub = sp.triu(adj[core][:, core], k=1).tocoo()
        return cls(core=core, local=local, edges_u=sub.row.astype(np.int64),
                   edges_v=sub.col.astype(np.int64), peeled=removed, live=live, parent=parent,
                   attach=attach, tin=tin, size=size, block_start=block_start, block_end=block_end,
                   n_pos=int(removed.sum()), dead_start=dead_start, rounds=len(by_round))

    def reach(self, cand: np.ndarray, anchored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Elements of ``cand`` connected to an ``anchored`` element of ``cand`` within ``cand``.

        Returns
        -------
        reach
            Boolean mask over all elements.
        core_labels
            Component label of each core element in the graph restricted to ``cand`` (-1 for
            core elements that do not reach). A peeled element's component is its ``attach``'s.
        """
        nc = self.core.size
        cc = cand[self.core]
        ok_core = np.zeros(nc, dtype=bool)
        labels = np.full(nc, -1, dtype=np.int64)
        if nc:
            m = cc[self.edges_u] & cc[self.edges_v]
            g = sp.csr_matrix((np.ones(int(m.sum()), dtype=np.int8), (self.edges_u[m], self.edges_v[m])),
                              shape=(nc, nc))
            _, lab = connected_components(g, directed=False)
            has = np.zeros(int(lab.max()) + 1, dtype=bool)
            has[lab[cc & anchored[self.core]]] = True
            ok_core = cc & has[lab]
            labels = np.where(ok_core, lab, -1)
        # every subtree below a dead peeled element, and every tree below a core element that does
        # not reach, is cut off: mark those intervals with a difference array over positions
        bad_pos = np.flatnonzero(self.live_pos & ~cand[self.elem_at])
        bad_core = np.flatnonzero(~ok_core)
        starts = np.concatenate([bad_pos, self.block_start[bad_core], [self.dead_start]])
        ends = np.concatenate([bad_pos + self.size[self.elem_at[bad_pos]], self.block_end[bad_core], [self.n_pos]])
        if starts.size * 16 > self.n_pos:  # many cuts: counting beats scattering
            diff = (np.bincount(starts, minlength=self.n_pos + 1)
                    - np.bincount(ends, minlength=self.n_pos + 1)).astype(np.int32)
        else:
            diff = np.zeros(self.n_pos + 1, dtype=np.int32)
            np.add.at(diff, starts, 1)
            np.subtract.at(diff, ends, 1)
        out = np.zeros(cand.size, dtype=bool)
        out[self.core] = ok_core
        out[self.elem_at] = np.cumsum(diff[:self.n_pos]) == 0
        return out, labels

    def element_labels(self, reach: np.ndarray, core_labels: np.ndarray) -> np.ndarray:
        """Component label of every element that reaches (-1 elsewhere)."""
        lab = np.full(reach.size, -1, dtype=np.int64)
        at = self.attach[reach]
        lab[reach] = core_labels[self.local[at]]
        return lab


# --- the service index ----------------------------------------------------------------------------

@dataclass
class ServiceIndex:
    """Everything the service fixpoint needs, built once per snapshot (``Network.cache``).

    Attributes
    ----------
    n
        Number of elements.
    is_gateway, is_radio, is_user_plane
        Role masks.
    transport
        Symmetric 0/1 transport adjacency without self-loops.
    dep, dep_t
        0/1 dependency adjacency (``a -> b``: a depends on b, any of control, management, anchor)
        and its transpose (``b -> a``: who depends on b): the clean-path reading.
    fwd, fwd_t
        The same for forwarding dependencies only (control and anchor).
    mgmt, mgmt_t
        0/1 management adjacency (``a -> b``: a is managed by b) and its transpose.
    forest
        The peeled transport graph.
    site, operator, domain
        Per element: site position, operator code (into ``operators``), domain code (into
        :data:`~cleanpath.model.schema.DOMAINS`).
    operators
        Operator ids (codes index into it).
    site_operator
        Operator code of every site.
    site_key
        Elements that decide their site's service: its radios, or all its elements if it has none.
    subscribers
        Subscribers of every site (0 where unknown).
    """

    graph: Any
    n: int
    is_gateway: np.ndarray
    is_radio: np.ndarray
    is_user_plane: np.ndarray
    transport: sp.csr_matrix
    dep: sp.csr_matrix
    dep_t: sp.csr_matrix
    fwd: sp.csr_matrix
    fwd_t: sp.csr_matrix
    mgmt: sp.csr_matrix
    mgmt_t: sp.csr_matrix
    forest: Forest
    site: np.ndarray
    operator: np.ndarray
    domain: np.ndarray
    operators: np.ndarray
    site_operator: np.ndarray
    site_key: np.ndarray
    subscribers: np.ndarray
    _baseline: np.ndarray | None = None

    @classmethod
    def of(cls, net) -> "ServiceIndex":
        """The index of a network, built on first use and cached in ``net.cache``."""
        idx = net.cache.get(INDEX_KEY)
        if idx is None:
            idx = cls.build(net)
            net.cache[INDEX_KEY] = idx
        return idx

    @classmethod
    def build(cls, net) -> "ServiceIndex":
        g = net.graph()
        n = g.n
        role_in = lambda names: np.isin(g.role, [ROLES.index(r) for r in names])  # noqa: E731
        is_gw = role_in(GATEWAY_ROLES)
        transport = _binary(g.adjacency["transport"], n, drop_diagonal=True)
        fwd = _binary(sum(g.adjacency[k] for k in DEPENDENCY_KINDS), n, drop_diagonal=False)
        mgmt = _binary(g.adjacency[MANAGEMENT_KIND], n, drop_diagonal=True)
        dep = _binary(fwd + mgmt, n, drop_diagonal=False)
        site_ops, operators = pd.factorize(net.sites["operator_id"].to_numpy(dtype=object))
        site_ops = site_ops.astype(np.int64)
        site = np.asarray(g.site, dtype=np.int64)
        is_radio = role_in(("ran.radio",))
        has_radio = np.bincount(site[is_radio], minlength=len(net.sites)) > 0
        subs = net.sites["subscribers"].to_numpy(dtype="float64", na_value=0.0)
        return cls(graph=g, n=n, is_gateway=is_gw, is_radio=is_radio,
                   is_user_plane=role_in(USER_PLANE_ROLES), transport=transport, dep=dep,
                   dep_t=dep.T.tocsr(), fwd=fwd, fwd_t=fwd.T.tocsr(), mgmt=mgmt, mgmt_t=mgmt.T.tocsr(),
                   forest=Forest.build(transport, is_gw), site=site,
                   operator=site_ops[site] if n else np.empty(0, np.int64),
                   domain=np.asarray(g.domain, dtype=np.int64),
                   operators=np.asarray(operators, dtype=object), site_operator=site_ops,
                   site_key=is_radio | ~has_radio[site], subscribers=subs)

    # -- the fixpoint ------------------------------------------------------------------------------
    def reach(self, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Elements of ``cand`` that reach a gateway of ``cand`` (see :meth:`Forest.reach`)."""
        return self.forest.reach(cand, self.is_gateway)

    def _dependencies(self, management: bool) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The dependency matrix and its transpose, with management links if asked."""
        return (self.dep, self.dep_t) if management else (self.fwd, self.fwd_t)

    def _drop_dependents(self, cand: np.ndarray, dropped: np.ndarray, dep_t: sp.csr_matrix | None = None) -> int:
        """Remove from ``cand`` (in place) everything that depends, transitively, on ``dropped``.

        Returns the number of elements removed.
        """
        dep_t = self.fwd_t if dep_t is None else dep_t
        total = 0
        while dropped.size:
            dependents = gather_rows(dep_t.indptr, dep_t.indices, dropped)
            dependents = np.unique(dependents[cand[dependents]])
            cand[dependents] = False
            total += dependents.size
            dropped = dependents
        return total

    def fixpoint(self, alive: np.ndarray, *, removed: np.ndarray | None = None,
                 labels: bool = False, management: bool = False):
        """The elements that serve when only ``alive`` elements are up.

        Parameters
        ----------
        alive
            Elements that are in service and not disabled.
        removed
            Optional shortcut: positions that were taken out of a set that was already a
            fixpoint (e.g. the baseline) to give ``alive``. Only their dependents are then
            re-checked instead of every dependency.

        labels
            Also return each serving element's transport component (see
            :meth:`Forest.element_labels`).
        management
            Also require every element's managers (``management`` links) to serve. Off for
            forwarding (an element without its EMS keeps carrying traffic); on for the
            clean-path reading, where an element managed by an untrusted system is not clean.
            With it ``removed`` is ignored: the baseline is a forwarding fixpoint only, so every
            management dependency is checked.

        Returns
        -------
        numpy.ndarray
            Boolean mask of serving elements (the greatest fixpoint of the service rules), and
            with ``labels`` the component labels.
        """
        dep, dep_t = self._dependencies(management)
        cand = np.array(alive, dtype=bool, copy=True)
        if removed is None or management:
            broken = (dep @ (~cand).astype(np.int32)) > 0
            dropped = np.flatnonzero(cand & broken)
            cand[dropped] = False
        else:
            dropped = np.asarray(removed, dtype=np.int64)
        self._drop_dependents(cand, dropped, dep_t)
        while True:
            serving, core_labels = self.reach(cand)
            lost = np.flatnonzero(cand & ~serving)
            # ``serving`` is closed under reach (whole components of ``cand``); it is the fixpoint
            # unless losing ``lost`` breaks some dependency, so only then is another pass needed
            if not lost.size or not self._drop_dependents(serving, lost, dep_t):
                if labels:
                    return serving, self.forest.element_labels(serving, core_labels)
                return serving
            cand = serving

    def baseline(self) -> np.ndarray:
        """Forwarding elements with nothing disabled (cached; management is not required)."""
        if self._baseline is None:
            self._baseline = self.fixpoint(np.asarray(self.graph.in_service, dtype=bool))
        return self._baseline

    def without(self, disabled: np.ndarray) -> np.ndarray:
        """Serving elements once ``disabled`` (a mask) is switched off, starting from the baseline."""
        base = self.baseline()
        hit = base & disabled
        return self.fixpoint(base & ~disabled, removed=np.flatnonzero(hit))

    # -- management ---------------------------------------------------------------------------------
    def unmanaged(self, after: np.ndarray, before: np.ndarray | None = None) -> np.ndarray:
        """Elements that still serve in ``after`` but lost every manager they had in ``before``.

        An element is managed while at least one of its EMS/OSS (``management`` links) serves, so
        geo-redundant managers count: losing one of two leaves the element managed.

        Parameters
        ----------
        after
            Serving elements in the scenario.
        before
            Serving elements before it (default: the baseline).
        """
        before = self.baseline() if before is None else before
        out = np.zeros(self.n, dtype=bool)
        gone = np.flatnonzero(before & ~after)
        if not gone.size:
            return out
        # only what a lost manager managed can have become unmanaged: look at those rows alone,
        # so a Monte Carlo sample that loses a few managers costs little
        cand = np.zeros(self.n, dtype=bool)
        cand[gather_rows(self.mgmt_t.indptr, self.mgmt_t.indices, gone)] = True
        cand = np.flatnonzero(cand & after)
        managers, rows = gather_rows(self.mgmt.indptr, self.mgmt.indices, cand, with_rows=True)
        has = np.zeros(self.n, dtype=bool)
        has[rows[after[managers]]] = True
        out[cand] = ~has[cand]
        return out

    def management_reach(self, seed: np.ndarray) -> np.ndarray:
        """``seed`` plus everything its elements manage, transitively (an OSS reaches through its
        EMSs to what they manage)."""
        x = np.array(seed, dtype=bool, copy=True)
        frontier = np.flatnonzero(x)
        while frontier.size:  # one step per management tier (OSS, EMS, element): a few at most
            nb = gather_rows(self.mgmt_t.indptr, self.mgmt_t.indices, frontier)
            new = np.zeros(x.size, dtype=bool)
            new[nb] = True  # a mask dedupes in linear time; np.unique would sort or hash
            new &= ~x
            x |= new
            frontier = np.flatnonzero(new)
        return x

    # -- what serving means for sites --------------------------------------------------------------
    def site_served(self, serving: np.ndarray) -> np.ndarray:
        """Sites that serve: any radio serves (sites without radios: any element serves)."""
        on = self.site_key & serving
        return np.bincount(self.site[on], minlength=len(self.site_operator)) > 0


# --- sensitive-site coverage ----------------------------------------------------------------------

@dataclass
class Coverage:
    """Which radios lie within each sensitive site's radius (or polygon).

    Attributes
    ----------
    ids, kinds, names
        Sensitive sites in ``Network.sensitive_sites`` order.
    row, col
        Pairs (sensitive row, radio element position): the radio's site lies inside the area.
    """

    ids: np.ndarray
    kinds: np.ndarray
    names: np.ndarray
    row: np.ndarray
    col: np.ndarray

    @classmethod
    def of(cls, net) -> "Coverage":
        key = INDEX_KEY + ".coverage"
        cov = net.cache.get(key)
        if cov is None:
            cov = cls.build(net, ServiceIndex.of(net))
            net.cache[key] = cov
        return cov

    @classmethod
    def build(cls, net, idx: ServiceIndex) -> "Coverage":
        ss = net.sensitive_sites
        radios = np.flatnonzero(idx.is_radio)
        slat, slon = net.site_positions()
        rsites = np.unique(idx.site[radios])
        rsites = rsites[np.isfinite(slat[rsites]) & np.isfinite(slon[rsites])]
        has_poly = ss["geometry"].notna().to_numpy(dtype=bool)
        row, hit = _radius_hits(ss, slat[rsites], slon[rsites])
        keep = ~has_poly[row]  # a polygon replaces the radius
        prow, phit = _polygon_hits(ss, slat[rsites], slon[rsites])
        row = np.concatenate([row[keep], prow])
        site = rsites[np.concatenate([hit[keep], phit])]
        # expand (sensitive, site) pairs to (sensitive, radio) pairs
        order = radios[np.argsort(idx.site[radios], kind="stable")]
        ptr = np.concatenate([[0], np.cumsum(np.bincount(idx.site[order], minlength=len(net.sites)))])
        return cls(ids=ss["sensitive_id"].to_numpy(dtype=object), kinds=ss["kind"].to_numpy(dtype=object),
                   names=ss["name"].to_numpy(dtype=object), row=np.repeat(row, np.diff(ptr)[site]),
                   col=gather_rows(ptr, order, site))

    def served(self, idx: ServiceIndex, serving: np.ndarray) -> np.ndarray:
        """``(sensitive, operator)`` matrix: some serving radio of the operator covers the site."""
        n_ops = len(idx.operators)
        out = np.zeros(len(self.ids) * max(n_ops, 1), dtype=bool)
        m = serving[self.col]
        out[self.row[m] * n_ops + idx.operator[self.col[m]]] = True
        return out.reshape(len(self.ids), max(n_ops, 1))[:, :n_ops]


def _radius_hits(ss: pd.DataFrame, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sensitive row, point index) pairs within each sensitive site's radius.

    The package's one radius index (:class:`cleanpath.geo.PointIndex`: exact on the sphere,
    inclusive with :data:`RADIUS_TOLERANCE_M`, as the exposure question counts them).
    """
    from cleanpath.geo.index import PointIndex

    slat = ss["lat"].to_numpy(dtype="float64", na_value=np.nan)
    slon = ss["lon"].to_numpy(dtype="float64", na_value=np.nan)
    radius = ss["radius_m"].to_numpy(dtype="float64", na_value=5000.0)
    return PointIndex(lat, lon).pairs(slat, slon, radius)


def _polygon_hits(ss: pd.DataFrame, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sensitive row, point index) pairs for sensitive sites given as GeoJSON (Multi)Polygons.

    The package's one point-in-polygon (:meth:`cleanpath.geo.Area.contains`): holes,
    multipolygons, rings across the antimeridian and around the poles, boundaries inclusive.
    Geometry is validated at import; a text that does not parse is a ValidationError naming
    the row.
    """
    from cleanpath.geo.geometry import parse_areas
    from cleanpath.geo.index import PointIndex

    geoms = ss["geometry"].astype(object)
    texts = geoms.where(geoms.notna(), None).tolist()
    areas = parse_areas(texts, file="sensitive_sites", lines=np.arange(len(texts)) + 2)
    return PointIndex(lat, lon).area_pairs(areas)
