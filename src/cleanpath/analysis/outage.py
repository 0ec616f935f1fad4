"""The outage and compromise question: what if a vendor's equipment is switched off or turned hostile.

Three kinds of scenario, all on the service model of :mod:`cleanpath.analysis.service`:

* **disable** (``mode="disable"``): the chosen elements (a vendor's, a list, a region's) stop.
  Everything that no longer serves is lost: elements by domain, sites, subscribers, sensitive sites
  left without service from any operator; per operator, with the lost sites as points (GeoJSON).
* **compromise** (``mode="compromise"``): the chosen elements turn hostile. What they could *read*:
  the share of demand volume whose user-plane path crosses them, the share of sessions whose
  control plane is homed on them. What they could *switch off*: every element their management
  systems manage (transitively), and the service lost if they did, together with their own gear.
* **random** (``random_p``): each element in scope (everything, or a region, vendor or element
  list) fails independently with probability ``p``; ``samples`` Monte Carlo draws give means with
  95 % confidence intervals and, per sensitive site, the probability of losing service.

Monte Carlo samples run in chunks through ``executor`` (anything with ``map``, or a map function),
so a process pool or a Dask client can spread them; results do not depend on the executor, since
every chunk draws from its own spawned seed.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import re
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from cleanpath.analysis.service import Coverage, ServiceIndex, gather_rows
from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.model.schema import CONTROL_PLANE_ROLES, DOMAINS, GATEWAY_DEMAND, ROLES
from cleanpath.result import Result

MODES = ("disable", "compromise")
#: Samples per Monte Carlo task handed to the executor.
CHUNK = 25
Z95 = 1.959963984540054

ProgressFn = Callable[[int, int], None]


# --- choosing what fails ----------------------------------------------------------------------------

def _vendor_mask(net, idx: ServiceIndex, vendors) -> tuple[np.ndarray, list[str]]:
    """Elements of a vendor set (the one grammar of :mod:`cleanpath.policy.vendorset`)."""
    from cleanpath.policy.vendorset import parse_vendor_set, resolve_vendor_set

    if not isinstance(vendors, frozenset) and parse_vendor_set(vendors, setting="--vendor").is_default:
        # an outage needs a named scenario: an empty --vendor is a mistake, not "the default set"
        raise ValidationError(Problem("no vendor given (name vendors, a pack, country:CC or default)",
                                      column="--vendor"))
    ids = sorted(resolve_vendor_set(vendors, catalogue=net.catalogue, present=idx.graph.vendors.tolist(),
                                    setting="--vendor"))
    return idx.graph.vendor_mask(ids), ids


def _element_mask(idx: ServiceIndex, elements: Iterable[str], source: str | None,
                  lines: Sequence[int] | None) -> np.ndarray:
    ids = [str(e) for e in elements]
    pos = idx.graph.positions(ids)
    problems = ProblemCollector(source or "--elements")
    if not ids:
        problems.add("no element ids given", column="element_id")
    for i in np.flatnonzero(pos < 0):
        problems.add("no such element in the snapshot", line=int(lines[i]) if lines is not None else None,
                     column="element_id", value=ids[i])
        if problems.full:
            break
    problems.raise_if_any()
    mask = np.zeros(idx.n, dtype=bool)
    mask[pos] = True
    return mask


def read_element_list(path) -> tuple[list[str], list[int], str]:
    """Element ids from a file: one per line (``#`` comments allowed), or a CSV with an
    ``element_id`` column. Gzip is read transparently, with the usual size limits.

    Returns
    -------
    ids, lines, label
        The ids, the 1-based line each came from, and the file's name for messages.
    """
    from cleanpath.io.guard import check_text, read_input

    f = read_input(path)
    check_text(f, what="element ids (one per line, or a CSV with an element_id column)", csv_quotes=True)
    lines = f.data.decode("utf-8-sig").splitlines()
    header = next(csv.reader([lines[0]])) if lines else []
    ids: list[str] = []
    at: list[int] = []
    if "element_id" in [h.strip() for h in header]:
        col = [h.strip() for h in header].index("element_id")
        problems = ProblemCollector(f.label)
        for no, row in enumerate(csv.reader(lines[1:]), start=2):
            if not row:
                continue
            if col >= len(row) or not row[col].strip():
                problems.add("row has no element_id", line=no, column="element_id", value=",".join(row))
                continue
            ids.append(row[col].strip())
            at.append(no)
        problems.raise_if_any()
    else:
        text = pd.Series(lines, dtype=object).str.strip()
        keep = ((text != "") & ~text.str.startswith("#")).to_numpy(dtype=bool)
        ids = text[keep].tolist()
        at = (np.flatnonzero(keep) + 1).tolist()
    if not ids:
        raise ValidationError(Problem("no element ids in the file", f.label))
    return ids, at, f.label


def process_map(workers: int):
    """A map function running tasks in ``workers`` processes (for :func:`run_outage`'s ``executor``).

    The task function (the Monte Carlo sampler, with the network's index) is handed to each worker
    once when it starts, not once per task.
    """
    from concurrent.futures import ProcessPoolExecutor

    def map_fn(fn, items):
        # with the platform's default start method (fork on Linux) the workers inherit the index
        # instead of unpickling ~120 MB each; measured CPU per sample is the same as in-process
        with ProcessPoolExecutor(max_workers=workers, initializer=_set_task, initargs=(fn,)) as ex:
            yield from ex.map(_call_task, items)

    return map_fn


_TASK: Callable | None = None


def _set_task(fn: Callable) -> None:
    global _TASK
    _TASK = fn


def _call_task(item):
    assert _TASK is not None
    return _TASK(item)


_CIRCLE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*(km)?\s*$")


def _region_mask(net, idx: ServiceIndex, region: str) -> np.ndarray:
    """Elements at sites in a named region, or within ``lat,lon,radius_km`` of a point."""
    m = _CIRCLE.match(region)
    if m:
        from cleanpath.analysis.service import haversine_m

        lat, lon, km = float(m.group(1)), float(m.group(2)), float(m.group(3))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValidationError(Problem("latitude must be in -90..90 and longitude in -180..180",
                                          "--region", column="--region", value=region))
        slat, slon = net.site_positions()
        with np.errstate(invalid="ignore"):
            site_in = haversine_m(lat, lon, slat, slon) <= km * 1000.0
        site_in &= np.isfinite(slat)
    else:
        names = net.sites["region"].astype(object).fillna("").str.casefold().to_numpy(dtype=object)
        wanted = {r.strip().casefold() for r in region.split(",") if r.strip()}
        site_in = np.isin(names, np.asarray(sorted(wanted), dtype=object))
        if not site_in.any():
            known = sorted(set(net.sites["region"].dropna().astype(str)))
            raise ValidationError(Problem(
                "no site lies in this region; give a region name from sites.region or 'lat,lon,radius_km'"
                + (f" (regions: {', '.join(known[:20])}{'...' if len(known) > 20 else ''})" if known else
                   " (the snapshot's sites have no region)"), "--region", column="--region", value=region))
    return site_in[idx.site]


# --- what a scenario costs ---------------------------------------------------------------------------

@dataclasses.dataclass
class _Impact:
    lost: np.ndarray            # elements serving before and not after
    sites_lost: np.ndarray      # sites
    served_before: np.ndarray   # (sensitive, operator)
    served_after: np.ndarray


def _impact(idx: ServiceIndex, cov: Coverage, after: np.ndarray) -> _Impact:
    base = idx.baseline()
    return _Impact(base & ~after, idx.site_served(base) & ~idx.site_served(after),
                   cov.served(idx, base), cov.served(idx, after))


def _impact_tables(net, idx: ServiceIndex, cov: Coverage, imp: _Impact) -> tuple[dict, dict]:
    base = idx.baseline()
    n_ops, nd = len(idx.operators), len(DOMAINS)
    ops = idx.operators
    site_before = idx.site_served(base)
    subs = idx.subscribers
    sens_lost = imp.served_before.any(axis=1) & ~imp.served_after.any(axis=1)
    op_lost_sens = (imp.served_before & ~imp.served_after).sum(axis=0) if n_ops else np.zeros(0)
    by_operator = pd.DataFrame({
        "operator_id": ops,
        "elements_before": np.bincount(idx.operator[base], minlength=n_ops),
        "lost_elements": np.bincount(idx.operator[imp.lost], minlength=n_ops),
        "sites_before": np.bincount(idx.site_operator[site_before], minlength=n_ops),
        "lost_sites": np.bincount(idx.site_operator[imp.sites_lost], minlength=n_ops),
        "subscribers_before": np.bincount(idx.site_operator[site_before], weights=subs[site_before],
                                          minlength=n_ops).astype(np.int64),
        "lost_subscribers": np.bincount(idx.site_operator[imp.sites_lost], weights=subs[imp.sites_lost],
                                        minlength=n_ops).astype(np.int64),
        "sensitive_losing_operator": np.asarray(op_lost_sens, dtype=np.int64),
    })
    key_b = idx.operator[base] * nd + idx.domain[base]
    key_l = idx.operator[imp.lost] * nd + idx.domain[imp.lost]
    cnt_b = np.bincount(key_b, minlength=n_ops * nd)
    cnt_l = np.bincount(key_l, minlength=n_ops * nd)
    keep = cnt_b > 0
    by_domain = pd.DataFrame({"operator_id": np.repeat(ops, nd)[keep],
                              "domain": np.tile(np.asarray(DOMAINS, dtype=object), n_ops)[keep],
                              "serving_before": cnt_b[keep], "lost": cnt_l[keep]})
    ls = np.flatnonzero(imp.sites_lost)
    s = net.sites
    lost_sites = pd.DataFrame({
        "site_id": s["site_id"].to_numpy(dtype=object)[ls],
        "operator_id": s["operator_id"].to_numpy(dtype=object)[ls],
        "kind": s["kind"].to_numpy(dtype=object)[ls],
        "region": s["region"].to_numpy(dtype=object, na_value=None)[ls],
        "lat": s["lat"].to_numpy(dtype="float64", na_value=np.nan)[ls],
        "lon": s["lon"].to_numpy(dtype="float64", na_value=np.nan)[ls],
        "subscribers": subs[ls].astype(np.int64),
    })
    before_ops = [list(ops[r]) for r in imp.served_before] if n_ops else [[] for _ in cov.ids]
    after_ops = [list(ops[r]) for r in imp.served_after] if n_ops else [[] for _ in cov.ids]
    sensitive = pd.DataFrame({"sensitive_id": cov.ids, "name": cov.names, "kind": cov.kinds,
                              "operators_before": before_ops, "operators_after": after_ops,
                              "without_service": sens_lost})
    lost_by_domain = {d: int(v) for d, v in zip(DOMAINS, np.bincount(idx.domain[imp.lost], minlength=nd)) if v}
    summary = {
        "lost_elements": int(imp.lost.sum()),
        "lost_sites": int(imp.sites_lost.sum()),
        "lost_subscribers": int(subs[imp.sites_lost].sum()),
        "sensitive_without_service": cov.ids[sens_lost].tolist(),
        "lost_by_domain": lost_by_domain,
        "serving_before": int(base.sum()),
    }
    return summary, {"by_operator": by_operator, "by_domain": by_domain, "lost_sites": lost_sites,
                     "sensitive": sensitive}


def lost_area_geojson(lost_sites: pd.DataFrame) -> dict[str, Any]:
    """The lost sites of an outage result as a GeoJSON FeatureCollection of points.

    Parameters
    ----------
    lost_sites
        The ``lost_sites`` table of :func:`run_outage` (sites without a position are left out).
    """
    ok = lost_sites["lat"].notna() & lost_sites["lon"].notna()
    feats = [{"type": "Feature",
              "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
              "properties": {"site_id": sid, "operator_id": op, "kind": kind, "subscribers": int(sub)}}
             for sid, op, kind, lat, lon, sub in lost_sites.loc[ok, ["site_id", "operator_id", "kind", "lat",
                                                                    "lon", "subscribers"]].itertuples(
                 index=False, name=None)]
    return {"type": "FeatureCollection", "features": feats}


# --- compromise ------------------------------------------------------------------------------------

def _closure(adj: sp.csr_matrix, seed: np.ndarray) -> np.ndarray:
    """Elements that reach ``seed`` by following ``adj``'s edges forward (``adj[a, b]``: a -> b)."""
    x = seed.copy()
    frontier = np.flatnonzero(seed)
    at = adj.T.tocsr()
    while frontier.size:
        nb = gather_rows(at.indptr, at.indices, frontier)
        nb = np.unique(nb[~x[nb]])
        x[nb] = True
        frontier = nb
    return x


def _bfs_levels(adj: sp.csr_matrix, sources: np.ndarray, keep: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hop distance, predecessor and nearest source of every element from a set of sources.

    Only ``keep`` elements are traversed. Unreached elements get distance inf, predecessor -1 and
    source -1.
    """
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
    dist, pred = shortest_path(g, directed=True, unweighted=True, indices=m, return_predecessors=True)
    dist, pred = dist[:m], pred[:m]
    origin = np.full(m, -1, dtype=np.int64)
    origin[src] = src
    order = np.argsort(dist, kind="stable")
    order = order[np.isfinite(dist[order]) & (dist[order] > 1)]
    d = dist[order]
    bounds = np.flatnonzero(np.r_[True, d[1:] != d[:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:]):  # one step per BFS level, vectorised within it
        v = order[a:b]
        origin[v] = origin[pred[v]]
    out_d = np.full(n, np.inf)
    out_p = np.full(n, -1, dtype=np.int64)
    out_o = np.full(n, -1, dtype=np.int64)
    out_d[ids] = dist - 1
    reached = pred >= 0
    pl = pred.copy()
    pl[pl == m] = -1
    out_p[ids] = np.where(reached & (pl >= 0), ids[np.maximum(pl, 0)], -1)
    out_o[ids] = np.where(origin >= 0, ids[np.maximum(origin, 0)], -1)
    return out_d, out_p, out_o


def _path_flags(dist: np.ndarray, pred: np.ndarray, hit: np.ndarray) -> np.ndarray:
    """For every reached element: does its BFS path to the source (both ends included) touch ``hit``?"""
    out = hit & np.isfinite(dist)
    order = np.flatnonzero(np.isfinite(dist) & (dist > 0))
    order = order[np.argsort(dist[order], kind="stable")]
    d = dist[order]
    bounds = np.flatnonzero(np.r_[True, d[1:] != d[:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:]):
        v = order[a:b]
        out[v] |= out[pred[v]]
    return out


def _compromise(net, idx: ServiceIndex, hostile: np.ndarray) -> tuple[dict, dict, np.ndarray]:
    """What hostile elements could read and switch off. Returns summary, tables, switch-off mask."""
    g = idx.graph
    base = idx.baseline()
    n_ops = len(idx.operators)
    role = np.asarray(g.role)
    # --- user plane: entry element -> nearest user-plane function -> nearest gateway (hop counts)
    d_up, p_up, o_up = _bfs_levels(idx.transport, np.flatnonzero(idx.is_user_plane & base), base)
    d_gw, p_gw, _ = _bfs_levels(idx.transport, np.flatnonzero(idx.is_gateway & base), base)
    to_up = _path_flags(d_up, p_up, hostile)
    to_gw = _path_flags(d_gw, p_gw, hostile)
    entry = idx.site_key & base & np.isfinite(d_up)
    cross = np.zeros(idx.n, dtype=bool)
    up_of = o_up[entry]
    cross[entry] = to_up[entry] | (to_gw[up_of] & np.isfinite(d_gw[up_of]))
    n_sites = len(idx.site_operator)
    n_entry = np.bincount(idx.site[entry], minlength=n_sites)
    site_cross = np.divide(np.bincount(idx.site[entry], weights=cross[entry], minlength=n_sites), n_entry,
                           out=np.full(n_sites, np.nan), where=n_entry > 0)
    dem = net.demands
    demand_share, op_demand = None, np.full(n_ops, np.nan)
    if len(dem):
        site_ix = pd.Index(net.sites["site_id"].to_numpy(dtype=object))
        a = site_ix.get_indexer(dem["a_site"].to_numpy(dtype=object))
        bsite = dem["b_site"].to_numpy(dtype=object)
        b = site_ix.get_indexer(bsite)
        vol = dem["volume"].to_numpy(dtype="float64", na_value=0.0)
        fa = np.where(a >= 0, site_cross[np.maximum(a, 0)], np.nan)
        fb = np.where(b >= 0, site_cross[np.maximum(b, 0)], 0.0)
        fb = np.where(bsite == GATEWAY_DEMAND, 0.0, fb)
        frac = 1 - (1 - fa) * (1 - np.nan_to_num(fb, nan=0.0))  # either end's path may cross
        ok = np.isfinite(frac)
        if vol[ok].sum() > 0:
            demand_share = float((vol[ok] * frac[ok]).sum() / vol[ok].sum())
            op_a = idx.site_operator[np.maximum(a, 0)]
            num = np.bincount(op_a[ok], weights=vol[ok] * frac[ok], minlength=n_ops)
            den = np.bincount(op_a[ok], weights=vol[ok], minlength=n_ops)
            op_demand = np.divide(num, den, out=np.full(n_ops, np.nan), where=den > 0)
    # --- control plane: control-plane functions a radio is homed on, through anchors and its baseband
    ctrl = np.isin(role, [ROLES.index(r) for r in CONTROL_PLANE_ROLES])
    follow = (g.adjacency["control"] + g.adjacency["anchor"]).tocsr()
    homed = _closure(follow, hostile & ctrl)
    ran_ctl = np.isin(role, [ROLES.index("ran.baseband"), ROLES.index("ran.controller")])
    via_bb = (idx.transport @ (homed & ran_ctl).astype(np.int32)) > 0
    radios = idx.is_radio & base
    radio_homed = (homed | via_bb) & radios
    n_rad = np.bincount(idx.site[radios], minlength=n_sites)
    site_homed = np.divide(np.bincount(idx.site[radios], weights=radio_homed[radios], minlength=n_sites),
                           n_rad, out=np.zeros(n_sites), where=n_rad > 0)
    subs = idx.subscribers
    weight = subs if subs[n_rad > 0].sum() > 0 else n_rad.astype(float)
    has = n_rad > 0
    tot = weight[has].sum()
    session_share = float((weight * site_homed)[has].sum() / tot) if tot > 0 else None
    num = np.bincount(idx.site_operator[has], weights=(weight * site_homed)[has], minlength=n_ops)
    den = np.bincount(idx.site_operator[has], weights=weight[has], minlength=n_ops)
    op_session = np.divide(num, den, out=np.full(n_ops, np.nan), where=den > 0)
    # --- management: what the hostile management systems manage, transitively
    mgmt_role = np.isin(role, [ROLES.index("mgmt.oss"), ROLES.index("mgmt.ems")])
    managed = _closure(g.adjacency["management"].tocsr(), hostile & mgmt_role) & ~hostile
    mg = pd.DataFrame({"domain": np.asarray(DOMAINS, dtype=object)[idx.domain[managed]],
                       "vendor": g.vendors[g.vendor_codes[managed]]})
    managed_tab = (mg.groupby(["domain", "vendor"]).size().rename("elements").reset_index()
                   .sort_values(["elements", "domain", "vendor"], ascending=[False, True, True],
                                ignore_index=True) if len(mg) else
                   pd.DataFrame({"domain": [], "vendor": [], "elements": []}))
    shares = pd.DataFrame({"operator_id": idx.operators, "demand_share_crossing": op_demand,
                           "session_share_control_plane": op_session,
                           "managed_elements": np.bincount(idx.operator[managed], minlength=n_ops)})
    summary = {"demand_share_crossing": demand_share, "session_share_control_plane": session_share,
               "session_weight": "subscribers" if weight is subs else "radios",
               "managed_elements": int(managed.sum())}
    return summary, {"shares": shares, "managed": managed_tab}, hostile | managed


# --- Monte Carlo ------------------------------------------------------------------------------------

@dataclasses.dataclass
class _Sampler:
    """One picklable task: ``count`` random-failure samples from one seed (for any executor)."""

    idx: ServiceIndex
    cov_row: np.ndarray
    cov_col: np.ndarray
    n_sensitive: int
    scope: np.ndarray
    p: float

    def __call__(self, task: tuple[np.random.SeedSequence, int]) -> dict[str, np.ndarray]:
        seq, count = task
        rng = np.random.default_rng(seq)
        idx = self.idx
        base = idx.baseline()
        n_ops, n_sites = len(idx.operators), len(idx.site_operator)
        # baseline counts, so that each sample only looks at what it lost
        keys_b = np.bincount(idx.site[idx.site_key & base], minlength=n_sites)
        cov_b = base[self.cov_col]
        sens_b = np.bincount(self.cov_row[cov_b], minlength=self.n_sensitive)
        out = {k: np.zeros(count, dtype=np.int64) for k in ("lost_elements", "lost_sites", "lost_subscribers",
                                                             "failed", "sensitive_without_service")}
        out["op_lost_subscribers"] = np.zeros((count, n_ops))
        out["sensitive_lost"] = np.zeros(self.n_sensitive, dtype=np.int64)
        for i in range(count):  # one loop step per sample; each step is whole-array work
            fail = self.scope[bernoulli_positions(rng, self.scope.size, self.p)]
            alive = base.copy()
            alive[fail] = False
            after = idx.fixpoint(alive, removed=fail)
            lost = np.flatnonzero(base & ~after)
            lk = idx.site[lost[idx.site_key[lost]]]
            touched, n_lost = np.unique(lk, return_counts=True)
            sl = touched[n_lost == keys_b[touched]]
            gone = cov_b & ~after[self.cov_col]
            lost_sens = (np.bincount(self.cov_row[gone], minlength=self.n_sensitive) == sens_b) & (sens_b > 0)
            subs = idx.subscribers[sl]
            out["failed"][i] = fail.size
            out["lost_elements"][i] = lost.size
            out["lost_sites"][i] = sl.size
            out["lost_subscribers"][i] = int(subs.sum())
            out["op_lost_subscribers"][i] = np.bincount(idx.site_operator[sl], weights=subs, minlength=n_ops)
            out["sensitive_without_service"][i] = int(lost_sens.sum())
            out["sensitive_lost"] += lost_sens
        return out


def bernoulli_positions(rng: np.random.Generator, m: int, p: float) -> np.ndarray:
    """Positions ``0..m-1`` that succeed in ``m`` independent trials of probability ``p``, sorted.

    For small ``p`` the gaps between successes are drawn (geometric), which costs O(successes)
    instead of O(m): the same distribution as ``rng.random(m) < p``.
    """
    if p >= 1:
        return np.arange(m)
    if p > 0.02 or m == 0:
        return np.flatnonzero(rng.random(m) < p)
    size = int(m * p + 8 * np.sqrt(m * p) + 16)
    pos = np.cumsum(rng.geometric(p, size=size)) - 1
    while pos[-1] < m:  # more successes than expected: keep drawing
        pos = np.concatenate([pos, pos[-1] + np.cumsum(rng.geometric(p, size=size))])
    return pos[:np.searchsorted(pos, m)]


def _map(executor, fn, items: list) -> Iterable:
    if executor is None:
        return map(fn, items)
    results = executor.map(fn, items) if hasattr(executor, "map") else executor(fn, items)
    # a Dask client's map returns futures
    return (r.result() if hasattr(r, "result") and callable(r.result) else r for r in results)


def _mean_ci(x: np.ndarray) -> tuple[float, list[float]]:
    m = float(x.mean()) if x.size else math.nan
    if x.size < 2:
        return m, [m, m]
    half = Z95 * float(x.std(ddof=1)) / math.sqrt(x.size)
    return m, [m - half, m + half]


def _wilson(k: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    p = k / n
    den = 1 + Z95 ** 2 / n
    centre = (p + Z95 ** 2 / (2 * n)) / den
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / den
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def _monte_carlo(net, idx: ServiceIndex, cov: Coverage, scope: np.ndarray, p: float, samples: int, seed: int,
                 executor, on_progress: ProgressFn | None) -> tuple[dict, dict]:
    base = idx.baseline()
    light = dataclasses.replace(idx, graph=None, transport=None)
    light._baseline = base
    sampler = _Sampler(light, cov.row, cov.col, len(cov.ids), np.flatnonzero(scope & base), p)
    seqs = np.random.SeedSequence(seed).spawn(math.ceil(samples / CHUNK))
    tasks = [(s, min(CHUNK, samples - i * CHUNK)) for i, s in enumerate(seqs)]
    parts = []
    done = 0
    for part in _map(executor, sampler, tasks):
        parts.append(part)
        done += len(part["lost_elements"])
        if on_progress is not None:
            on_progress(done, samples)
    cat = {k: np.concatenate([p_[k] for p_ in parts]) for k in parts[0] if k != "sensitive_lost"}
    sens_k = np.sum([p_["sensitive_lost"] for p_ in parts], axis=0)
    summary: dict[str, Any] = {"samples": samples, "p": p, "elements_in_scope": int(sampler.scope.size)}
    for k in ("lost_elements", "lost_sites", "lost_subscribers", "failed"):
        m, ci = _mean_ci(cat[k].astype(float))
        summary[k] = m
        summary[f"{k}_ci95"] = ci
    m, ci = _mean_ci(cat["sensitive_without_service"].astype(float))
    summary["sensitive_without_service_mean"] = m
    summary["sensitive_without_service_mean_ci95"] = ci
    lo, hi = _wilson(sens_k, samples)
    order = np.argsort(-sens_k, kind="stable")
    order = order[sens_k[order] > 0]
    summary["sensitive_without_service"] = cov.ids[order].tolist()
    sensitive = pd.DataFrame({"sensitive_id": cov.ids, "name": cov.names, "kind": cov.kinds,
                              "p_without_service": sens_k / samples, "ci95_low": lo, "ci95_high": hi})
    sensitive = sensitive.sort_values(["p_without_service", "sensitive_id"], ascending=[False, True],
                                      ignore_index=True)
    ops = cat["op_lost_subscribers"]
    by_op = pd.DataFrame({"operator_id": idx.operators, "lost_subscribers_mean": ops.mean(axis=0)})
    half = Z95 * ops.std(axis=0, ddof=1) / math.sqrt(samples) if samples > 1 else np.zeros(len(idx.operators))
    by_op["ci95_low"] = by_op["lost_subscribers_mean"] - half
    by_op["ci95_high"] = by_op["lost_subscribers_mean"] + half
    qs = [0.025, 0.5, 0.975]
    dist = pd.DataFrame([{"metric": k, "mean": float(cat[k].mean()), **{f"q{q:g}": float(np.quantile(cat[k], q))
                                                                       for q in qs}}
                         for k in ("failed", "lost_elements", "lost_sites", "lost_subscribers",
                                   "sensitive_without_service")])
    samples_tab = pd.DataFrame({k: cat[k] for k in ("failed", "lost_elements", "lost_sites", "lost_subscribers",
                                                    "sensitive_without_service")})
    return summary, {"distribution": dist, "sensitive": sensitive, "by_operator": by_op, "samples": samples_tab}


# --- the question -----------------------------------------------------------------------------------

def run_outage(net, *, vendors: Sequence[str] | str | None = None, elements: Iterable[str] | None = None,
               elements_source: str | None = None, element_lines: Sequence[int] | None = None,
               region: str | None = None, random_p: float | None = None,
               samples: int | None = None, mode: str = "disable", seed: int = 0, executor=None,
               on_progress: ProgressFn | None = None) -> Result:
    """What is lost if elements are switched off, turned hostile, or fail at random.

    Parameters
    ----------
    net
        The network.
    vendors
        A vendor set (text, list, :class:`~cleanpath.policy.vendorset.VendorSet` or a frozenset of
        resolved ids; grammar in :mod:`cleanpath.policy.vendorset`): their elements are the scenario.
    elements
        Element ids: these elements are the scenario.
    elements_source, element_lines
        Name of the file ``elements`` came from and the line of each id (see
        :func:`read_element_list`), so unknown ids are reported with file and line.
    region
        A region name from ``sites.region`` (comma-separated for several) or ``lat,lon,radius_km``:
        every element at those sites. With ``random_p`` it limits where random failures happen.
    random_p
        Monte Carlo: each element in scope (the vendors', elements', region's, or every element)
        fails independently with this probability in each sample.
    samples
        Number of Monte Carlo samples (default 1000).
    mode
        ``disable`` (switched off) or ``compromise`` (hostile: what it reads and could switch off).
        Monte Carlo is always ``disable``.
    seed
        Seed of the Monte Carlo draws (the same seed gives the same numbers on any executor).
    executor
        Runs the Monte Carlo chunks: None (in this process), an object with ``map`` (a
        ``concurrent.futures`` executor, a Dask client) or a map function ``f(fn, items)``.
    on_progress
        Called as ``on_progress(samples_done, samples_total)`` after each chunk.

    Returns
    -------
    Result
        ``disable``: summary ``lost_elements``, ``lost_sites``, ``lost_subscribers``,
        ``sensitive_without_service`` (sensitive ids that had service from some operator and now
        have none), ``lost_by_domain``; tables ``by_operator``, ``by_domain``, ``lost_sites``
        (points; see :func:`lost_area_geojson`) and ``sensitive``.
        ``compromise``: also ``demand_share_crossing``, ``session_share_control_plane`` and
        ``managed_elements``, tables ``shares`` and ``managed``; the ``lost_*`` figures are those
        of switching off the hostile elements and everything their management systems manage.
        Monte Carlo: the ``lost_*`` figures are means with ``*_ci95`` (95 % confidence interval of
        the mean, normal approximation); ``sensitive_without_service`` lists the sensitive sites
        that lost service in at least one sample, most often first; tables ``distribution``,
        ``sensitive`` (probability with Wilson 95 % interval), ``by_operator`` and ``samples``.

    Raises
    ------
    ValidationError
        For no or conflicting scenarios, unknown vendors, elements or regions, bad numbers.
    """
    problems = ProblemCollector("outage")
    chosen = [k for k, v in (("vendors", vendors), ("elements", elements), ("region", region)) if v is not None]
    if mode not in MODES:
        problems.add(f"mode must be one of {', '.join(MODES)}", column="--mode", value=mode)
    if random_p is None and len(chosen) != 1:
        problems.add("give exactly one of vendors, elements, region (or random_p with samples)",
                     column="scenario", value=", ".join(chosen) or None)
    if random_p is not None:
        if not (isinstance(random_p, (int, float)) and 0 < random_p <= 1):
            problems.add("random failure probability must be in (0, 1]", column="--random", value=random_p)
        if len(chosen) > 1:
            problems.add("random failures take at most one scope (vendors, elements or region)",
                         column="scenario", value=", ".join(chosen))
        if mode != "disable":
            problems.add("random failures switch elements off; compromise needs a fixed set", column="--mode",
                         value=mode)
    if samples is not None and (random_p is None or int(samples) < 1):
        problems.add("samples needs random_p and must be at least 1", column="--samples", value=samples)
    problems.raise_if_any()

    idx = ServiceIndex.of(net)
    cov = Coverage.of(net)
    params: dict[str, Any] = {"mode": mode}
    scope = np.ones(idx.n, dtype=bool)
    vendor_ids: list[str] = []
    if vendors is not None:
        scope, vendor_ids = _vendor_mask(net, idx, vendors)
        params["vendors"] = vendor_ids
    elif elements is not None:
        scope = _element_mask(idx, elements, elements_source, element_lines)
        params["elements"] = int(scope.sum())
    elif region is not None:
        scope = _region_mask(net, idx, region)
        params["region"] = region

    if random_p is not None:
        n = int(samples or 1000)
        params.update(random_p=float(random_p), samples=n, seed=seed)
        summary, tables = _monte_carlo(net, idx, cov, scope, float(random_p), n, seed, executor, on_progress)
        return Result("outage", net.name, params=params, summary={"mode": "random", **summary}, tables=tables)

    base = idx.baseline()
    summary: dict[str, Any] = {"mode": mode, "disabled_elements": int(scope.sum()),
                               "disabled_serving": int((scope & base).sum())}
    tables: dict[str, pd.DataFrame] = {}
    off = scope
    if mode == "compromise":
        csum, ctabs, off = _compromise(net, idx, scope)
        summary.update(csum)
        tables.update(ctabs)
    imp = _impact(idx, cov, idx.without(off))
    isum, itabs = _impact_tables(net, idx, cov, imp)
    summary = {**isum, **summary}
    tables = {**itabs, **tables}
    return Result("outage", net.name, params=params, summary=summary, tables=tables)
