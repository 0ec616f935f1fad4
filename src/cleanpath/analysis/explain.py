"""Why an element or a site serves, or does not: the chain of dependencies and its first broken link.

The service model (:mod:`cleanpath.analysis.service`) decides *which* elements serve as a greatest
fixpoint. Because it is the greatest fixpoint, each element's answer has a local reading that this
module spells out: an element serves exactly when

1. it is in service,
2. every element it depends on through a blocking dependency serves (``control``: the
   control-plane function it is homed on; ``anchor``: a 5G-NSA radio's 4G anchor; ``management``
   only while the service model counts management as a forwarding dependency, see
   :data:`cleanpath.analysis.service.DEPENDENCY_KINDS`), and
3. it is a gateway or has a transport neighbour that serves (serving elements reach a gateway
   through serving elements, so one serving neighbour is a path).

:func:`run_explain` lists those requirements for one element (or every element of a site), marks
the first one that fails, and follows it to the element it concerns until it reaches a root cause.
:func:`serving_diagnosis` counts the non-serving elements of a whole network by the first failed
requirement, vectorised, for ``info`` and for imports (:func:`serving_warnings`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components

from cleanpath.analysis import service as service_model
from cleanpath.errors import Problem, ValidationError
from cleanpath.model.network import Network
from cleanpath.model.schema import ROLES
from cleanpath.result import Result

#: Key of the explain index in ``Network.cache``.
INDEX_KEY = "cleanpath.analysis.explain"

#: Why an element does not serve, in the order requirements are checked (the first failed one wins).
REASONS = (
    "out of service",
    "control plane not serving",
    "anchor not serving",
    "management not serving",
    "no gateway in operator",
    "no transport path to gateway",
    "transport path through elements that do not serve",
)

#: Requirement wording per dependency kind, in chain order.
_DEPENDENCY_REQUIREMENTS = (
    ("control", "control plane homed and serving", "control plane not serving"),
    ("anchor", "5G-NSA anchor serving", "anchor not serving"),
    ("management", "managed-by (EMS/OSS) serving", "management not serving"),
)
_TRANSPORT = "reaches gateway via transport"
_IN_SERVICE = "in service"
_MAX_DEPTH = 25  # a root cause is found within a few steps; the cap only guards against cycles

_CHAIN_COLUMNS = ["step", "depth", "for_element", "requirement", "element_id", "role", "ok", "blocking",
                  "detail"]


def blocking_kinds() -> tuple[str, ...]:
    """Dependency kinds that stop an element from serving, as the service model counts them now.

    Read at call time so that explain always agrees with the fixpoint it explains.
    """
    return tuple(getattr(service_model, "DEPENDENCY_KINDS", ("control", "management", "anchor")))


# --- the index --------------------------------------------------------------------------------------

@dataclass
class ExplainIndex:
    """What explaining needs beyond the service index, built once per snapshot.

    Attributes
    ----------
    serving
        Baseline serving mask (from :meth:`ServiceIndex.baseline`).
    in_service, is_gateway
        Masks.
    transport
        Symmetric 0/1 transport adjacency.
    component, component_has_gateway
        Components of the transport graph (every element, in service or not), and whether each
        holds a gateway.
    operator, operator_has_gateway
        Operator code per element and whether the operator has any gateway element at all.
    reason
        Code into :data:`REASONS` of each element's first failed requirement (-1 if it serves).
    """

    serving: np.ndarray
    in_service: np.ndarray
    is_gateway: np.ndarray
    transport: sp.csr_matrix
    component: np.ndarray
    component_has_gateway: np.ndarray
    operator: np.ndarray
    operator_has_gateway: np.ndarray
    reason: np.ndarray
    roles: np.ndarray
    element_index: pd.Index
    site_index: pd.Index
    _trees: dict | None = None

    @classmethod
    def of(cls, net: Network) -> "ExplainIndex":
        idx = net.cache.get(INDEX_KEY)
        if idx is None:
            idx = cls.build(net)
            net.cache[INDEX_KEY] = idx
        return idx

    @classmethod
    def build(cls, net: Network) -> "ExplainIndex":
        svc = service_model.ServiceIndex.of(net)
        g = net.graph()
        n = g.n
        serving = np.asarray(svc.baseline(), dtype=bool)
        in_service = np.asarray(g.in_service, dtype=bool)
        is_gw = np.isin(g.role, [ROLES.index(r) for r in service_model.GATEWAY_ROLES])
        transport = svc.transport
        # components among in-service elements: out-of-service elements are isolated singletons
        # components of the whole inventory, in service or not: "no path" is then a fact about the
        # data (a missing link or gateway), apart from paths that only elements out of service break
        _, comp = connected_components(transport, directed=False)
        comp = comp.astype(np.int64)
        comp_gw = np.bincount(comp[is_gw], minlength=int(comp.max()) + 1 if n else 0) > 0
        operator = np.asarray(svc.operator, dtype=np.int64)
        op_gw = np.bincount(operator[is_gw], minlength=len(svc.operators)) > 0

        reason = np.full(n, -1, dtype=np.int64)
        down = ~serving
        not_serving = (~serving).astype(np.int32)

        def assign(mask: np.ndarray, name: str) -> None:
            hit = down & mask & (reason < 0)
            reason[hit] = REASONS.index(name)

        assign(~in_service, "out of service")
        kinds = blocking_kinds()
        for kind, _req, why in _DEPENDENCY_REQUIREMENTS:
            if kind in kinds:
                assign((g.adjacency[kind] @ not_serving) > 0, why)
        has_serving_neighbour = (transport @ serving.astype(np.int32)) > 0
        cut = ~(is_gw | has_serving_neighbour)
        assign(cut & ~comp_gw[comp] & ~op_gw[operator], "no gateway in operator")
        assign(cut & ~comp_gw[comp], "no transport path to gateway")
        assign(cut, "transport path through elements that do not serve")
        # plain object indexes: pandas builds their hash tables once, so looking a name up is
        # cheap on every later call (an Arrow lookup would hash all ids each time)
        return cls(serving=serving, in_service=in_service, is_gateway=is_gw, transport=transport,
                   component=comp, component_has_gateway=comp_gw, operator=operator,
                   operator_has_gateway=op_gw, reason=reason,
                   roles=np.asarray(ROLES, dtype=object)[g.role],
                   element_index=pd.Index(g.element_ids.to_numpy(dtype=object)),
                   site_index=pd.Index(net.sites["site_id"].to_numpy(dtype=object)))

    # -- breadth-first trees towards the gateways (for witness paths) -----------------------------
    def tree(self, which: str) -> np.ndarray:
        """Predecessor towards the nearest gateway of each element (-9999 where none).

        ``which`` is ``"serving"`` (paths among serving elements to serving gateways) or
        ``"all"`` (paths over the whole inventory, to find what blocks a path).
        Both come from one breadth-first search from a virtual node joined to every gateway.
        """
        if self._trees is None:
            self._trees = {}
        if which not in self._trees:
            keep = self.serving if which == "serving" else np.ones_like(self.serving)
            n = keep.size
            gws = np.flatnonzero(self.is_gateway & keep)
            t = self.transport.tocoo()
            m = keep[t.row] & keep[t.col]
            rows = np.concatenate([t.row[m], np.full(gws.size, n), gws])
            cols = np.concatenate([t.col[m], gws, np.full(gws.size, n)])
            g = sp.csr_matrix((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n + 1, n + 1))
            _, pred = breadth_first_order(g, n, directed=False, return_predecessors=True)
            pred = pred[:n].astype(np.int64)
            pred[pred == n] = -1  # a gateway: the path ends here
            pred[pred < -1] = -9999
            self._trees[which] = pred
        return self._trees[which]

    def path_to_gateway(self, e: int, which: str) -> list[int] | None:
        """Shortest transport path from ``e`` to a gateway within the tree ``which`` (or None).

        ``e`` itself need not belong to the tree: its best neighbour in the tree is used.
        """
        pred = self.tree(which)
        keep = self.serving if which == "serving" else np.ones_like(self.serving)
        if self.is_gateway[e] and keep[e]:
            return [e]
        nb = self.transport.indices[self.transport.indptr[e]:self.transport.indptr[e + 1]]
        nb = nb[(pred[nb] != -9999) & keep[nb]]
        if not nb.size:
            return None
        depth = np.array([len(self._walk(int(x), pred)) for x in nb[:50]])  # a few neighbours
        path = [e] + self._walk(int(nb[int(np.argmin(depth))]), pred)
        return path

    @staticmethod
    def _walk(x: int, pred: np.ndarray) -> list[int]:
        out = [x]
        while pred[x] >= 0 and len(out) <= pred.size:
            x = int(pred[x])
            out.append(x)
        return out


# --- whole-network diagnosis ------------------------------------------------------------------------

def serving_diagnosis(net: Network) -> pd.DataFrame:
    """Non-serving elements of a network counted by why they do not serve.

    Each non-serving element is counted once, under the first requirement it fails, checked in
    the order of :data:`REASONS`: out of service; a control-plane function, 5G-NSA anchor or
    (while it blocks) manager it depends on does not serve; no gateway anywhere in its operator
    and none reachable; no transport path to any gateway; a transport path exists, but only
    through elements that do not serve themselves.

    Parameters
    ----------
    net
        The network.

    Returns
    -------
    pandas.DataFrame
        One row per reason, in :data:`REASONS` order (zero counts included): ``reason``,
        ``elements``, ``example`` (one such element id, or missing).
    """
    if len(net.elements) == 0:
        return pd.DataFrame({"reason": list(REASONS), "elements": np.zeros(len(REASONS), dtype=np.int64),
                             "example": [None] * len(REASONS)})
    idx = ExplainIndex.of(net)
    counts = np.bincount(idx.reason[idx.reason >= 0], minlength=len(REASONS))
    ids = net.graph().element_ids
    first = np.full(len(REASONS), -1, dtype=np.int64)
    hit = np.flatnonzero(idx.reason >= 0)
    codes = idx.reason[hit]
    # the first element of each reason (``hit`` is increasing, so the first occurrence of a code)
    present, at = np.unique(codes, return_index=True)
    first[present] = hit[at]
    example = [ids[i] if i >= 0 else None for i in first]
    return pd.DataFrame({"reason": list(REASONS), "elements": counts.astype(np.int64), "example": example})


def _sentence(reason: str, count: int, example: str | None, net: Network) -> str:
    what = f"{count:,} element{'s' if count != 1 else ''} cannot serve"
    eg = f" (e.g. {example}; `cleanpath explain {example}` shows the chain)" if example else ""
    if reason == "no gateway in operator":
        return (f"{what}: their operator has no gateway (role gateway.internet or gateway.interconnect) "
                f"and none is reachable{eg}; outage and clean-path results for them are empty. Add a "
                "gateway element linked by transport")
    if reason == "no transport path to gateway":
        return f"{what}: no transport path to any gateway{eg}; add transport links"
    if reason == "transport path through elements that do not serve":
        return f"{what}: their only transport paths to a gateway cross elements that do not serve{eg}"
    if reason == "out of service":
        return f"{what}: marked out of service (in_service = false){eg}"
    return f"{what}: {reason}{eg}"


def serving_warnings(net: Network) -> list[str]:
    """Human sentences, one per reason, saying how many elements cannot serve and why.

    Empty when every element serves. Used by ``info`` and by imports (the ``diagnose`` hook of
    :func:`cleanpath.store.ingest.ingest`).
    """
    if len(net.elements) == 0:
        return []
    diag = serving_diagnosis(net)
    total = int(diag["elements"].sum())
    out = []
    if total:
        out.append(f"{total:,} of {len(net.elements):,} elements do not serve, so outage, clean-path and "
                   "exposure answers leave them out")
    for r in diag.itertuples(index=False):
        if r.elements and r.reason != "out of service":
            out.append(_sentence(r.reason, int(r.elements), r.example, net))
    return out


# --- explaining one element or site -----------------------------------------------------------------

def _label(ids, roles, e: int) -> str:
    return f"{ids[e]} ({roles[e]})"


def _element_chain(net: Network, idx: ExplainIndex, e: int, depth: int, start_step: int) -> tuple[list[dict], dict | None]:
    """Requirement rows of element ``e`` and its first broken blocking requirement (or None)."""
    g = net.graph()
    ids = g.element_ids
    roles = idx.roles
    kinds = blocking_kinds()
    rows: list[dict] = []
    me = str(ids[e])

    def row(requirement, target, ok, blocking, detail, concerns=None):
        rows.append({"step": start_step + len(rows), "depth": depth, "for_element": me,
                     "requirement": requirement, "element_id": None if target is None else str(ids[target]),
                     "role": None if target is None else roles[target], "ok": bool(ok),
                     "blocking": bool(blocking), "detail": detail, "_concerns": concerns})

    row(_IN_SERVICE, e, idx.in_service[e], True,
        "in service" if idx.in_service[e] else "marked out of service (in_service = false)")
    for kind, requirement, _why in _DEPENDENCY_REQUIREMENTS:
        adj = g.adjacency[kind]
        targets = adj.indices[adj.indptr[e]:adj.indptr[e + 1]]
        blocking = kind in kinds
        for b in np.sort(targets):
            b = int(b)
            ok = bool(idx.serving[b])
            if ok:
                detail = f"{_label(ids, roles, b)} serves"
            else:
                why = REASONS[idx.reason[b]] if idx.reason[b] >= 0 else "does not serve"
                detail = f"{_label(ids, roles, b)} does not serve ({why})"
                if not blocking:
                    detail += "; management is not forwarding: the element keeps carrying traffic, unmanaged"
            row(requirement, b, ok, blocking, detail, concerns=b)
        if kind == "anchor" and not targets.size and str(net.elements["generation"].iloc[e]) == "5G-NSA" \
                and roles[e].startswith("ran."):
            row(requirement, None, True, False, "no anchor link recorded, so the service model cannot check "
                "the 4G anchor this 5G-NSA element needs")
    # transport
    if idx.is_gateway[e]:
        row(_TRANSPORT, e, True, True, "is a gateway itself")
    else:
        path = idx.path_to_gateway(e, "serving")
        if path is not None:
            hops = " -> ".join(str(ids[x]) for x in path)
            row(_TRANSPORT, path[-1], True, True, f"{len(path) - 1} hop(s): {hops}")
        else:
            n_links = int(idx.transport.indptr[e + 1] - idx.transport.indptr[e])
            op_has_gw = bool(idx.operator_has_gateway[idx.operator[e]])
            op_id = str(net.sites["operator_id"].iloc[int(g.site[e])])
            alt = idx.path_to_gateway(e, "all")
            if n_links == 0:
                detail = "no transport link at all" + ("" if op_has_gw else
                                                       f"; operator {op_id!r} has no gateway either")
                row(_TRANSPORT, None, False, True, detail)
            elif alt is not None:
                # some element on it does not serve, or ``e`` would have a serving neighbour
                blocker = next((x for x in alt[1:] if not idx.serving[x]), alt[-1])
                why = REASONS[idx.reason[blocker]] if idx.reason[blocker] >= 0 else "does not serve"
                hops = " -> ".join(str(ids[x]) for x in alt)
                row(_TRANSPORT, blocker, False, True,
                    f"the shortest path to a gateway ({hops}) crosses {_label(ids, roles, blocker)}, "
                    f"which does not serve ({why})", concerns=blocker)
            elif not op_has_gw:
                row(_TRANSPORT, None, False, True,
                    f"operator {op_id!r} has no gateway (gateway.internet or gateway.interconnect) and "
                    f"none is reachable over its {n_links} transport link(s)")
            else:
                size = int(np.count_nonzero(idx.component == idx.component[e]))
                row(_TRANSPORT, None, False, True,
                    f"no transport path to any gateway: its transport component ({size:,} element(s)) "
                    "holds no gateway")
    broken = next((r for r in rows if r["blocking"] and not r["ok"]), None)
    return rows, broken


def _explain_element(net: Network, idx: ExplainIndex, e: int, start_step: int = 1) -> tuple[list[dict], dict | None, dict | None]:
    """The chain of ``e`` followed to its root cause: (rows, first broken, root cause)."""
    rows, first = _element_chain(net, idx, e, 0, start_step)
    root = first
    seen = {e}
    depth = 0
    while root is not None and root["_concerns"] is not None and root["_concerns"] not in seen \
            and depth < _MAX_DEPTH:
        depth += 1
        nxt = root["_concerns"]
        seen.add(nxt)
        more, broken = _element_chain(net, idx, nxt, depth, start_step + len(rows))
        rows += more
        if broken is None:  # cannot happen for a non-serving element; stop rather than loop
            break
        root = broken
    return rows, first, root


def _public(r: dict | None) -> dict | None:
    if r is None:
        return None
    return {"requirement": r["requirement"], "for_element": r["for_element"], "element_id": r["element_id"],
            "detail": r["detail"]}


def _unknown(net: Network, target: str) -> ValidationError:
    ids = net.elements["element_id"].astype(str)
    sites = net.sites["site_id"].astype(str)
    pool = pd.concat([ids, sites], ignore_index=True).drop_duplicates()
    # difflib over a million ids is slow: compare against the ids sharing the longest prefix that
    # leaves a manageable number of candidates
    near = pool
    if len(pool) > 5000:
        near = pool.iloc[:0]
        for k in range(min(len(target), 12), 0, -1):
            cand = pool[pool.str.startswith(target[:k])]
            if len(cand):
                near = cand
                break
    close = difflib.get_close_matches(target, near.iloc[:5000].tolist(), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ValidationError(Problem(f"no element or site {target!r} in snapshot {net.name!r}{hint}",
                                   column="target", value=target))


def run_explain(net: Network, *, target: str) -> Result:
    """Why an element or a site serves, or does not: the chain of requirements and the first broken one.

    Parameters
    ----------
    net
        The network.
    target
        An ``element_id`` or a ``site_id`` (element ids are looked up first).

    Returns
    -------
    Result
        Table ``chain``: one row per requirement (``step``, ``depth`` (0 for the target, then one
        more for each element followed), ``for_element``, ``requirement`` (in service / control
        plane homed and serving / 5G-NSA anchor serving / managed-by (EMS/OSS) serving / reaches
        gateway via transport), ``element_id`` and ``role`` of the element the requirement concerns,
        ``ok``, ``blocking`` (false for a requirement the service model does not enforce),
        ``detail``). A failed requirement that concerns another element is followed into that
        element's own chain, down to the root cause. For a site, also table ``elements`` (one row
        per element: ``serves``, ``first_broken``, ``root_cause``).
        Summary: ``kind`` (element or site), ``serves``, ``first_broken`` and ``root_cause``
        (each a dict with ``requirement``, ``for_element``, ``element_id``, ``detail``; None when
        it serves), and for a site ``elements`` and ``serving_elements``.

    Raises
    ------
    ValidationError
        ``target`` is neither an element nor a site (with close matches).
    """
    target = str(target).strip()
    idx = ExplainIndex.of(net)
    g = net.graph()
    pos = int(idx.element_index.get_indexer([target])[0]) if g.n else -1
    params = {"target": target}
    if pos >= 0:
        rows, first, root = _explain_element(net, idx, pos)
        chain = pd.DataFrame(rows, columns=_CHAIN_COLUMNS + ["_concerns"])[_CHAIN_COLUMNS]
        return Result("explain", net.name, params=params,
                      summary={"kind": "element", "target": target, "serves": bool(idx.serving[pos]),
                               "first_broken": _public(first), "root_cause": _public(root)},
                      tables={"chain": chain})
    site_pos = int(idx.site_index.get_indexer([target])[0])
    if site_pos < 0:
        raise _unknown(net, target)
    svc = service_model.ServiceIndex.of(net)
    members = np.flatnonzero(np.asarray(g.site) == site_pos)
    site_serves = bool(svc.site_served(idx.serving)[site_pos]) if len(net.sites) else False
    all_rows: list[dict] = []
    per = []
    firsts = {}
    for e in members:  # the elements of one site: a handful
        rows, first, root = _explain_element(net, idx, int(e), start_step=len(all_rows) + 1)
        all_rows += rows
        firsts[int(e)] = (first, root)
        per.append({"element_id": str(g.element_ids[e]), "role": ROLES[g.role[e]],
                    "vendor": str(g.vendors[g.vendor_codes[e]]), "decides_site": bool(svc.site_key[e]),
                    "serves": bool(idx.serving[e]),
                    "first_broken": None if first is None else f"{first['requirement']}: {first['detail']}",
                    "root_cause": None if root is None else
                    f"{root['for_element']}: {root['requirement']}: {root['detail']}"})
    chain = pd.DataFrame(all_rows, columns=_CHAIN_COLUMNS + ["_concerns"])[_CHAIN_COLUMNS]
    elements = pd.DataFrame(per, columns=["element_id", "role", "vendor", "decides_site", "serves",
                                          "first_broken", "root_cause"])
    first = root = None
    if not site_serves:
        key = [int(e) for e in members if svc.site_key[e]]
        if key:
            first, root = firsts[key[0]]
    return Result("explain", net.name, params=params,
                  summary={"kind": "site", "target": target, "serves": site_serves,
                           "operator_id": str(net.sites["operator_id"].iloc[site_pos]),
                           "elements": int(members.size), "serving_elements": int(idx.serving[members].sum()),
                           "first_broken": _public(first), "root_cause": _public(root)},
                  tables={"elements": elements, "chain": chain})
