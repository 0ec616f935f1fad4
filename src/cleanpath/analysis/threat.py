"""What a vendor could read: the ``intercept`` reading of the outage question.

Traffic starts where users are (:mod:`cleanpath.analysis.demands`) and follows the user plane: from
the radio of its cell, over transport, to the nearest user-plane function (UPF/SGW/PGW), then to
the nearest gateway; traffic to a site (IMS, another cell) goes from each end to its user-plane
function. Routes are shortest in hops over the elements that serve at baseline, computed once per
snapshot (:class:`Routes`, kept in ``Network.cache``) and shared by every hostile set.

Who reads what passes them:

* the RAN: a radio and its baseband (PDCP ends there, so a radio sees its users' traffic), and a
  2G/3G controller;
* core user-plane functions and gateways: always (traffic is in clear there);
* any other element on the path (transport, firewalls...): unless every link by which the traffic
  enters and leaves it is ``encrypted`` (it then only forwards ciphertext);
* signalling: control-plane functions (AMF, SMF, MME...) and the RAN that relays it, for every
  radio homed on them through control and anchor links;
* subscriber keys: HSS and UDM, for the subscribers of every site whose radios are homed on them
  (a subscriber's keys sit in both its 4G HSS and its 5G UDM, so one exposed radio of a site
  exposes the site's subscribers).

Shares are exact for the model: the traffic of a site is split evenly over its serving radios, and
a demand between two sites crosses a reader with probability ``1 - (1 - fa) (1 - fb)`` where
``fa`` and ``fb`` are the shares of each end's routes that cross one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from cleanpath.analysis.demands import Demands, demands_of
from cleanpath.analysis.service import Coverage, ServiceIndex, gather_rows
from cleanpath.model.schema import CONTROL_PLANE_ROLES, DOMAINS, LINK_KINDS, ROLES, USER_PLANE_ROLES

#: Key of the routes in ``Network.cache``.
ROUTES_KEY = "cleanpath.analysis.threat.routes"
#: Roles that read the user traffic passing them whatever the links: the RAN terminates the air
#: interface's ciphering, user-plane functions and gateways handle traffic in clear.
ALWAYS_READ_ROLES = ("ran.radio", "ran.baseband", "ran.controller", *USER_PLANE_ROLES,
                     "gateway.internet", "gateway.interconnect")
#: Roles that read signalling: control-plane functions and the RAN that terminates RRC and relays NAS.
SIGNALLING_ROLES = (*CONTROL_PLANE_ROLES, "ran.radio", "ran.baseband", "ran.controller")
#: Roles that hold subscriber keys.
KEY_ROLES = ("core.hss", "core.udm")


def _roles(idx: ServiceIndex, names) -> np.ndarray:
    return np.isin(np.asarray(idx.graph.role), [ROLES.index(r) for r in names])


# --- shortest-path trees -----------------------------------------------------------------------------

@dataclass
class Tree:
    """A multi-source breadth-first tree over the serving transport graph.

    Attributes
    ----------
    dist
        Hops to the nearest source (inf where unreached).
    pred
        The next element towards that source (-1 for sources and unreached elements).
    origin
        The source each element's route ends at (-1 where unreached).
    enc
        Whether the link from each element to ``pred`` is encrypted (all parallel links are).
    order, bounds
        Reached non-source elements by distance; level ``k`` is ``order[bounds[k]:bounds[k+1]]``.
    """

    dist: np.ndarray
    pred: np.ndarray
    origin: np.ndarray
    enc: np.ndarray
    order: np.ndarray
    bounds: np.ndarray

    @classmethod
    def build(cls, adj: sp.csr_matrix, sources: np.ndarray, keep: np.ndarray, enc_keys: np.ndarray) -> "Tree":
        n = adj.shape[0]
        ids = np.flatnonzero(keep)
        local = np.full(n, -1, dtype=np.int64)
        local[ids] = np.arange(ids.size)
        sub = adj[ids][:, ids].tocoo()
        m = ids.size
        src = local[sources[keep[sources]]]
        # a super source (index m) joined to every source gives a multi-source BFS in one call
        rows = np.concatenate([sub.row, np.full(src.size, m)])
        cols = np.concatenate([sub.col, src])
        g = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(m + 1, m + 1))
        d, p = shortest_path(g, directed=True, unweighted=True, indices=m, return_predecessors=True)
        d, p = d[:m] - 1, p[:m]
        dist = np.full(n, np.inf)
        dist[ids] = d
        pred = np.full(n, -1, dtype=np.int64)
        ok = (p >= 0) & (p < m)
        pred[ids[ok]] = ids[p[ok]]
        order = np.flatnonzero(np.isfinite(dist) & (dist > 0))
        order = order[np.argsort(dist[order], kind="stable")]
        dd = dist[order]
        bounds = np.flatnonzero(np.r_[True, dd[1:] != dd[:-1], True]) if order.size else np.zeros(1, np.int64)
        origin = np.full(n, -1, dtype=np.int64)
        srcs = ids[src]
        origin[srcs] = srcs
        for a, b in zip(bounds[:-1], bounds[1:]):  # one step per level (tens), vectorised within it
            v = order[a:b]
            origin[v] = origin[pred[v]]
        enc = np.zeros(n, dtype=bool)
        has = np.flatnonzero(pred >= 0)
        if has.size and enc_keys.size:
            enc[has] = np.isin(_pair_key(has, pred[has], n), enc_keys)
        return cls(dist, pred, origin, enc, order, bounds)

    def crossing(self, hostile: np.ndarray, always: np.ndarray) -> np.ndarray:
        """For each reached element: does its route to the source pass a hostile reader?

        The element itself counts as a reader when its route's first link is unencrypted (or it
        always reads); a hostile element further up counts when a link of the route on either side
        of it is unencrypted (or it always reads).
        """
        p, enc = self.pred, self.enc
        out = hostile & (always | ~enc) & np.isfinite(self.dist)
        has = np.flatnonzero(p >= 0)
        out[has] |= hostile[p[has]] & ~enc[has]
        for a, b in zip(self.bounds[:-1], self.bounds[1:]):  # levels nearest the source first
            v = self.order[a:b]
            out[v] |= out[p[v]]
        return out


def _pair_key(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(u, v).astype(np.int64) * n + np.maximum(u, v)


def encrypted_pairs(net, idx: ServiceIndex) -> np.ndarray:
    """Sorted keys of element pairs whose transport links are all encrypted."""
    g = idx.graph
    n = idx.n
    col = net.links["encrypted"] if "encrypted" in net.links.columns else None
    if col is None or not len(net.links):
        return np.empty(0, dtype=np.int64)
    enc = col.to_numpy(dtype=bool, na_value=False)
    tr = ((np.asarray(g.link_kind) == LINK_KINDS.index("transport")) & (g.link_a >= 0) & (g.link_b >= 0)
          & (g.link_a != g.link_b))
    keys = _pair_key(g.link_a[tr], g.link_b[tr], n)
    plain = np.unique(keys[~enc[tr]])
    return np.setdiff1d(np.unique(keys[enc[tr]]), plain, assume_unique=True)


@dataclass
class Routes:
    """The user-plane routes of a snapshot: to the nearest user-plane function, then to a gateway.

    Attributes
    ----------
    up, gw
        Trees towards user-plane functions and towards gateways.
    term
        Elements where a site's traffic starts or ends: its serving radios; at sites without
        radios its IMS functions, or else all its serving elements.
    routed
        ``term`` elements with a route to a gateway (through a user-plane function when one is
        reachable).
    always
        Elements that read whatever passes them (:data:`ALWAYS_READ_ROLES`).
    """

    up: Tree
    gw: Tree
    term: np.ndarray
    routed: np.ndarray
    always: np.ndarray

    @classmethod
    def of(cls, net) -> "Routes":
        r = net.cache.get(ROUTES_KEY)
        if r is None:
            r = cls.build(net, ServiceIndex.of(net))
            net.cache[ROUTES_KEY] = r
        return r

    @classmethod
    def build(cls, net, idx: ServiceIndex) -> "Routes":
        base = idx.baseline()
        keys = encrypted_pairs(net, idx)
        up = Tree.build(idx.transport, np.flatnonzero(idx.is_user_plane & base), base, keys)
        gw = Tree.build(idx.transport, np.flatnonzero(idx.is_gateway & base), base, keys)
        n_sites = len(idx.site_operator)
        is_ims = _roles(idx, ("core.ims",))
        has_radio = np.bincount(idx.site[idx.is_radio & base], minlength=n_sites) > 0
        has_ims = np.bincount(idx.site[is_ims & base], minlength=n_sites) > 0
        term = base & (idx.is_radio | (~has_radio[idx.site] & (is_ims | ~has_ims[idx.site])))
        via_up = np.isfinite(up.dist)
        up_ok = via_up & (up.origin >= 0)
        routed = term & np.where(up_ok, np.isfinite(gw.dist[np.maximum(up.origin, 0)]), np.isfinite(gw.dist))
        return cls(up, gw, term, routed, _roles(idx, ALWAYS_READ_ROLES))

    def crossing(self, hostile: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per element: does its route to a gateway, and to its user-plane function, pass a reader?

        Where no user-plane function is reachable both routes go straight to a gateway.
        """
        cu = hostile | self.up.crossing(hostile, self.always)
        cg = hostile | self.gw.crossing(hostile, self.always)
        has_up = np.isfinite(self.up.dist) & (self.up.origin >= 0)
        to_gw = np.where(has_up, cu | cg[np.maximum(self.up.origin, 0)], cg)
        to_up = np.where(has_up, cu, cg)
        return to_gw & self.routed, to_up & self.routed


# --- the intercept question -----------------------------------------------------------------------------

def _site_mean(idx: ServiceIndex, mask: np.ndarray, flag: np.ndarray, n_sites: int) -> tuple[np.ndarray, np.ndarray]:
    """Per site: number of ``mask`` elements and the share of them with ``flag``."""
    cnt = np.bincount(idx.site[mask], minlength=n_sites)
    hit = np.bincount(idx.site[mask], weights=flag[mask].astype(np.float64), minlength=n_sites)
    return cnt, np.divide(hit, cnt, out=np.zeros(n_sites), where=cnt > 0)


def _homed(idx: ServiceIndex, seed: np.ndarray, radios: np.ndarray) -> np.ndarray:
    """Radios homed on ``seed`` elements: through control and anchor links (transitively), or
    through a baseband or controller next to them that is."""
    x = np.array(seed, dtype=bool, copy=True)
    frontier = np.flatnonzero(x)
    while frontier.size:  # one step per tier of control dependencies: a few
        nb = gather_rows(idx.fwd_t.indptr, idx.fwd_t.indices, frontier)
        new = np.zeros(x.size, dtype=bool)
        new[nb] = True
        new &= ~x
        x |= new
        frontier = np.flatnonzero(new)
    ran_ctl = _roles(idx, ("ran.baseband", "ran.controller"))
    via = (idx.transport @ (x & ran_ctl).astype(np.int32)) > 0
    return radios & (x | via)


def _ratio(num: np.ndarray | float, den: np.ndarray | float):
    if np.ndim(num) == 0:
        return float(num / den) if den > 0 else None
    return np.divide(num, den, out=np.full(np.shape(num), np.nan), where=np.asarray(den) > 0)


def intercept(net, idx: ServiceIndex, cov: Coverage, hostile: np.ndarray) -> tuple[dict, dict, list[str]]:
    """What the ``hostile`` elements could read.

    Returns
    -------
    summary, tables, notes
        Summary keys ``intercept_traffic_share``, ``intercept_subscriber_share``,
        ``intercept_signalling_share``, ``keys_exposed_subscribers`` (and the traffic they are
        shares of); tables ``by_operator``, ``sensitive`` (per sensitive site: the share of its
        traffic the vendor could read), ``sensitive_by_operator`` and ``readers``.
    """
    routes = Routes.of(net)
    dem: Demands = demands_of(net, idx)
    base = idx.baseline()
    n_ops, n_sites = len(idx.operators), len(idx.site_operator)
    ops = idx.operators
    to_gw, to_up = routes.crossing(hostile)
    # --- traffic: each demand split evenly over its ends' routed elements
    n_term, f_gw = _site_mean(idx, routes.routed, to_gw, n_sites)
    _, f_up = _site_mean(idx, routes.routed, to_up, n_sites)
    a, b, vol = dem.a, dem.b, dem.volume
    to_site = b >= 0
    ok = (n_term[a] > 0) & (~to_site | (n_term[np.maximum(b, 0)] > 0))
    frac = np.where(to_site, 1 - (1 - f_up[a]) * (1 - f_up[np.maximum(b, 0)]), f_gw[a])
    v_ok = vol[ok]
    traffic = float(v_ok.sum())
    read = float((v_ok * frac[ok]).sum())
    op_a = idx.site_operator[a[ok]]
    op_traffic = np.bincount(op_a, weights=v_ok, minlength=n_ops)
    op_read = np.bincount(op_a, weights=v_ok * frac[ok], minlength=n_ops)
    # --- subscribers: each cell site's subscribers over its serving radios' routes to a gateway
    radios = idx.is_radio & base
    rr = radios & routes.routed
    n_rad, f_rad = _site_mean(idx, rr, to_gw, n_sites)
    cells = n_rad > 0
    subs = idx.subscribers
    use_subs = subs[cells].sum() > 0
    w = np.where(cells, subs if use_subs else n_rad.astype(np.float64), 0.0)
    # --- signalling and keys: radios homed on hostile control plane, RAN, HSS/UDM
    sig_r = _homed(idx, hostile & _roles(idx, SIGNALLING_ROLES), radios)
    key_r = _homed(idx, hostile & _roles(idx, KEY_ROLES), radios)
    n_all, f_sig = _site_mean(idx, radios, sig_r, n_sites)
    key_site = np.bincount(idx.site[key_r], minlength=n_sites) > 0
    ws = np.where(n_all > 0, subs if use_subs else n_all.astype(np.float64), 0.0)
    so = idx.site_operator
    by_operator = pd.DataFrame({
        "operator_id": ops,
        "traffic": op_traffic,
        "intercept_traffic_share": _ratio(op_read, op_traffic),
        "subscribers": np.bincount(so, weights=np.where(cells, subs, 0.0), minlength=n_ops).astype(np.int64),
        "intercept_subscriber_share": _ratio(np.bincount(so, weights=w * f_rad, minlength=n_ops),
                                             np.bincount(so, weights=w, minlength=n_ops)),
        "intercept_signalling_share": _ratio(np.bincount(so, weights=ws * f_sig, minlength=n_ops),
                                             np.bincount(so, weights=ws, minlength=n_ops)),
        "keys_exposed_subscribers": np.bincount(so, weights=np.where(key_site, subs, 0.0),
                                                minlength=n_ops).astype(np.int64),
    })
    # --- sensitive sites: the share of the traffic of the radios covering them
    m = base[cov.col]
    row, col = cov.row[m], cov.col[m]
    k = len(cov.ids)
    n_cov = np.bincount(row, minlength=k)
    n_cov_routed = np.bincount(row, weights=routes.routed[col], minlength=k)
    read_cov = np.bincount(row, weights=(to_gw & routes.routed)[col], minlength=k)
    sig_cov = np.bincount(row, weights=sig_r[col], minlength=k)
    sensitive = pd.DataFrame({"sensitive_id": cov.ids, "name": cov.names, "kind": cov.kinds,
                              "serving_radios": n_cov,
                              "traffic_share_readable": _ratio(read_cov, n_cov_routed),
                              "signalling_share_readable": _ratio(sig_cov, n_cov.astype(np.float64))})
    key = row * max(n_ops, 1) + idx.operator[col]
    size = k * max(n_ops, 1)
    cnt = np.bincount(key, minlength=size)
    cnt_r = np.bincount(key, weights=routes.routed[col], minlength=size)
    rd = np.bincount(key, weights=(to_gw & routes.routed)[col], minlength=size)
    sg = np.bincount(key, weights=sig_r[col], minlength=size)
    nz = np.flatnonzero(cnt)
    sens_op = pd.DataFrame({"sensitive_id": cov.ids[nz // max(n_ops, 1)],
                            "operator_id": ops[nz % max(n_ops, 1)] if n_ops else np.empty(0, object),
                            "serving_radios": cnt[nz],
                            "traffic_share_readable": _ratio(rd[nz], cnt_r[nz]),
                            "signalling_share_readable": _ratio(sg[nz], cnt[nz].astype(np.float64))})
    # --- which hostile elements read anything: on some route of a routed element
    ends = np.zeros(n_sites, dtype=bool)
    ends[a[ok]] = True
    ends[b[ok & to_site]] = True
    starts = routes.routed & (idx.is_radio | ends[idx.site])
    on_route = _on_routes(routes, starts)
    g = idx.graph
    dom = np.asarray(DOMAINS, dtype=object)
    rd_el = hostile & base
    nv = max(len(g.vendors), 1)
    code = idx.domain.astype(np.int64) * nv + g.vendor_codes
    n_el = np.bincount(code[rd_el], minlength=len(DOMAINS) * nv)
    n_on = np.bincount(code[rd_el & on_route], minlength=len(DOMAINS) * nv)
    nz = np.flatnonzero(n_el)
    readers = pd.DataFrame({"domain": dom[nz // nv], "vendor": np.asarray(g.vendors, dtype=object)[nz % nv]
                            if len(g.vendors) else np.empty(0, dtype=object),
                            "elements": n_el[nz], "on_user_plane_route": n_on[nz]}
                           ).sort_values(["elements", "domain", "vendor"], ascending=[False, True, True],
                                         ignore_index=True)
    summary = {
        "intercept_traffic_share": _ratio(read, traffic),
        "intercept_subscriber_share": _ratio(float((w * f_rad).sum()), float(w.sum())),
        "intercept_signalling_share": _ratio(float((ws * f_sig).sum()), float(ws.sum())),
        "keys_exposed_subscribers": int(subs[key_site].sum()),
        "traffic": traffic,
        "traffic_unrouted": float(vol[~ok].sum()),
        "hostile_elements": int((hostile & base).sum()),
        "subscriber_weight": "subscribers" if use_subs else "radios",
        "demands": "implied" if dem.implied else "table",
    }
    notes = [dem.note] if dem.note else []
    if not use_subs:
        notes.append("no cell site has a subscriber count: subscriber and signalling shares weigh each "
                     "serving radio equally")
    if vol[~ok].sum() > 0:
        notes.append(f"{int((~ok).sum()):,} demands ({float(vol[~ok].sum()):.6g} of {float(vol.sum()):.6g} "
                     "volume) start or end where no serving element reaches a gateway; they are left out")
    return summary, {"by_operator": by_operator, "sensitive": sensitive, "sensitive_by_operator": sens_op,
                     "readers": readers}, notes


def _on_routes(routes: Routes, starts: np.ndarray) -> np.ndarray:
    """Elements on the routes from ``starts`` (towards their user-plane function and gateway)."""
    on = np.zeros(starts.size, dtype=bool)
    has_up = np.isfinite(routes.up.dist) & (routes.up.origin >= 0)
    for tree, first in ((routes.up, starts & has_up), (routes.gw, starts & ~has_up)):
        x = first.copy()
        for a, b in zip(tree.bounds[::-1][1:], tree.bounds[::-1][:-1]):  # farthest level first
            v = tree.order[a:b]
            v = v[x[v]]
            x[tree.pred[v]] = True
        on |= x
        if tree is routes.up:  # the user-plane functions used go on to their gateways
            ups = np.unique(tree.origin[x & (tree.origin >= 0)])
            y = np.zeros(starts.size, dtype=bool)
            y[ups] = True
            g = routes.gw
            for a, b in zip(g.bounds[::-1][1:], g.bounds[::-1][:-1]):
                v = g.order[a:b]
                v = v[y[v]]
                y[g.pred[v]] = True
            on |= y
    return on
