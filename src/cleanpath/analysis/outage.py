"""The outage question in three readings of a vendor threat: fail, kill, intercept.

Management is not forwarding (:mod:`cleanpath.analysis.service`): an element whose EMS/OSS is
down keeps carrying traffic, unmanaged; an element whose EMS/OSS is hostile can be switched off by
it. So a scenario (a vendor set, an element list, a region) is read in one of three modes:

* **fail** (``mode="fail"``; alias ``disable``): the scenario's elements stop forwarding (sanctions,
  no spares, no software). Everything that no longer serves is lost: elements by domain, sites,
  subscribers, sensitive sites left without service from any operator, per operator, with the lost
  sites as points (GeoJSON). What they managed and still forwards becomes *unmanaged*.
* **kill** (``mode="kill"``; alias ``compromise``): the scenario turns hostile and switches off what
  it can reach: its own elements (software-update channels) and everything its management systems
  manage, transitively. ``killable_elements`` counts all of it; the loss figures are those of
  switching all of it off.
* **intercept** (``mode="intercept"``): what the scenario could read (:mod:`cleanpath.analysis.threat`):
  the share of traffic whose user plane crosses it, of subscribers, of signalling, the subscribers
  whose keys sit in its HSS/UDM; per operator and per sensitive site.
* **random** (``random_p``, mode ``fail`` only): each element in scope (everything, or a region,
  vendor or element list) fails independently with probability ``p``; ``samples`` Monte Carlo draws
  give means with 95 % confidence intervals and, per sensitive site, the probability of losing
  service.

Monte Carlo samples run in chunks through ``executor`` (anything with ``map``, or a map function),
so a process pool or a Dask client can spread them; results do not depend on the executor, since
every chunk draws from its own spawned seed. Every loop is bounded: failures are drawn as a
binomial count and then that many distinct positions.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from cleanpath.analysis.service import Coverage, ServiceIndex
from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.model.schema import DOMAINS
from cleanpath.result import Result

#: The three readings of a threat, each with its meaning in one line (for help texts and forms).
MODES: dict[str, str] = {
    "fail": "the gear stops forwarding (sanctions, no spares, no software); what it managed keeps "
            "forwarding, unmanaged",
    "kill": "the vendor turns hostile and switches off its own gear and everything its management "
            "systems reach",
    "intercept": "what the vendor could read: traffic through its radios, basebands, unencrypted "
                 "transport and user plane; signalling through its control plane; keys in its HSS/UDM",
}
#: Earlier names of the modes, still accepted; the Result says what they were read as.
MODE_ALIASES = {"disable": "fail", "compromise": "kill"}
#: Random failure probabilities must lie in (MIN_P, 1].
MIN_P = 1e-9
#: At most this many Monte Carlo samples.
MAX_SAMPLES = 10_000
#: Samples per Monte Carlo task handed to the executor.
CHUNK = 25
Z95 = 1.959963984540054

ProgressFn = Callable[[int, int], None]


# --- choosing what fails ----------------------------------------------------------------------------

def _vendor_mask(net, idx: ServiceIndex, vendors) -> tuple[np.ndarray, list[str]]:
    """Elements of a vendor set (the one grammar of :mod:`cleanpath.policy.vendorset`)."""
    from cleanpath.policy.vendorset import names_nothing, resolve_vendor_set

    if names_nothing(vendors):
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
    """Elements at sites in a named region, within ``lat,lon,radius_km`` of a point, or inside a
    GeoJSON (Multi)Polygon given as text (the package's one geometry, :mod:`cleanpath.geo`)."""
    from cleanpath.geo.geometry import GeometryError, parse_area
    from cleanpath.geo.index import PointIndex

    m = _CIRCLE.match(region)
    if m:
        lat, lon, km = float(m.group(1)), float(m.group(2)), float(m.group(3))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValidationError(Problem("latitude must be in -90..90 and longitude in -180..180",
                                          "--region", column="--region", value=region))
        site_in = PointIndex(*net.site_positions()).within(lat, lon, km * 1000.0)
    elif region.lstrip().startswith("{"):
        try:
            area = parse_area(region)
        except GeometryError as e:
            raise ValidationError(Problem(e.reason, "--region", column="--region", value=region)) from None
        site_in = PointIndex(*net.site_positions()).in_areas([area])
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
    unmanaged: np.ndarray       # elements still serving that lost every manager


def _impact(idx: ServiceIndex, cov: Coverage, after: np.ndarray) -> _Impact:
    base = idx.baseline()
    return _Impact(base & ~after, idx.site_served(base) & ~idx.site_served(after),
                   cov.served(idx, base), cov.served(idx, after), idx.unmanaged(after, base))


def _by_domain_vendor(idx: ServiceIndex, mask: np.ndarray, name: str = "elements") -> pd.DataFrame:
    """Counts of the ``mask`` elements by domain and vendor, largest first (one bincount)."""
    g = idx.graph
    nv = max(len(g.vendors), 1)
    cnt = np.bincount(idx.domain[mask].astype(np.int64) * nv + g.vendor_codes[mask],
                      minlength=len(DOMAINS) * nv)
    nz = np.flatnonzero(cnt)
    df = pd.DataFrame({"domain": np.asarray(DOMAINS, dtype=object)[nz // nv],
                       "vendor": np.asarray(g.vendors, dtype=object)[nz % nv] if len(g.vendors) else
                       np.empty(0, dtype=object),
                       name: cnt[nz].astype(np.int64)})
    return df.sort_values([name, "domain", "vendor"], ascending=[False, True, True], ignore_index=True)


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
        "unmanaged_elements": np.bincount(idx.operator[imp.unmanaged], minlength=n_ops),
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
        "unmanaged_elements": int(imp.unmanaged.sum()),
        "lost_by_domain": lost_by_domain,
        "serving_before": int(base.sum()),
    }
    return summary, {"by_operator": by_operator, "by_domain": by_domain, "lost_sites": lost_sites,
                     "sensitive": sensitive, "unmanaged": _by_domain_vendor(idx, imp.unmanaged)}


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


# --- kill ------------------------------------------------------------------------------------------

def _kill(idx: ServiceIndex, hostile: np.ndarray) -> tuple[dict, dict, np.ndarray]:
    """What hostile elements could switch off: themselves (software-update channels) and everything
    their management reaches, transitively. Returns summary, tables and the switch-off mask."""
    reach = idx.management_reach(hostile)
    exists = np.asarray(idx.graph.in_service, dtype=bool)
    killable = reach & exists
    n_ops = len(idx.operators)
    tab = _by_domain_vendor(idx, killable)
    own = _by_domain_vendor(idx, killable & hostile, "own")
    tab = tab.merge(own, on=["domain", "vendor"], how="left")
    tab["own"] = tab["own"].fillna(0).astype(np.int64)
    tab["through_management"] = tab["elements"] - tab["own"]
    summary = {"killable_elements": int(killable.sum()),
               "killable_own": int((killable & hostile).sum()),
               "killable_through_management": int((killable & ~hostile).sum())}
    per_op = pd.DataFrame({"operator_id": idx.operators,
                           "killable_elements": np.bincount(idx.operator[killable], minlength=n_ops)})
    return summary, {"killable": tab, "killable_by_operator": per_op}, killable


# --- Monte Carlo ------------------------------------------------------------------------------------

#: Per-sample figures of the Monte Carlo.
METRICS = ("failed", "lost_elements", "lost_sites", "lost_subscribers", "sensitive_without_service",
           "unmanaged_elements")


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
        out = {k: np.zeros(count, dtype=np.int64) for k in METRICS}
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
            out["unmanaged_elements"][i] = int(idx.unmanaged(after, base).sum())
            out["sensitive_lost"] += lost_sens
        return out


def bernoulli_positions(rng: np.random.Generator, m: int, p: float) -> np.ndarray:
    """Positions ``0..m-1`` that succeed in ``m`` independent trials of probability ``p``, sorted.

    The number of successes is drawn first (binomial), then that many distinct positions
    uniformly: the same distribution as ``rng.random(m) < p``, in O(successes) for small ``p``,
    and bounded by construction for any ``p`` (no loop that waits for a rare event).
    """
    if m <= 0 or p <= 0:
        return np.empty(0, dtype=np.int64)
    if p >= 1:
        return np.arange(m, dtype=np.int64)
    if p > 0.02:
        return np.flatnonzero(rng.random(m) < p)
    k = int(rng.binomial(m, p))
    if k == 0:
        return np.empty(0, dtype=np.int64)
    return np.sort(rng.choice(m, size=k, replace=False)).astype(np.int64)


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
    for k in ("lost_elements", "lost_sites", "lost_subscribers", "failed", "unmanaged_elements"):
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
                         for k in METRICS])
    samples_tab = pd.DataFrame({k: cat[k] for k in METRICS})
    return summary, {"distribution": dist, "sensitive": sensitive, "by_operator": by_op, "samples": samples_tab}


# --- the question -----------------------------------------------------------------------------------

def _real(x) -> float | None:
    """``x`` as a float if it is a real number (not a bool, not text), else None."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        return None
    return float(x)


def check_mode(mode: str, problems: ProblemCollector) -> str | None:
    """The canonical mode for ``mode`` (aliases resolved), or None after adding a problem."""
    m = str(mode).strip().lower() if isinstance(mode, str) else mode
    m = MODE_ALIASES.get(m, m)
    if m not in MODES:
        problems.add(f"mode must be one of {', '.join(MODES)} (or the aliases "
                     + ", ".join(f"{a} = {b}" for a, b in MODE_ALIASES.items()) + ")",
                     column="--mode", value=mode)
        return None
    return m


def run_outage(net, *, vendors: Sequence[str] | str | None = None, elements: Iterable[str] | None = None,
               elements_source: str | None = None, element_lines: Sequence[int] | None = None,
               region: str | None = None, random_p: float | None = None,
               samples: int | None = None, mode: str = "fail", seed: int = 0, executor=None,
               on_progress: ProgressFn | None = None) -> Result:
    """What a vendor, an element list or a region could take down or read, or random failures.

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
        :func:`cleanpath.io.lists.read_element_list`), so unknown ids are reported with file and line.
    region
        A region name from ``sites.region`` (comma-separated for several) or ``lat,lon,radius_km``:
        every element at those sites. With ``random_p`` it limits where random failures happen.
    random_p
        Monte Carlo: each element in scope (the vendors', elements', region's, or every element)
        fails independently with this probability in each sample; finite, above :data:`MIN_P`
        and at most 1.
    samples
        Number of Monte Carlo samples (default 1000, at most :data:`MAX_SAMPLES`).
    mode
        ``fail``, ``kill`` or ``intercept`` (see :data:`MODES`); ``disable`` is read as ``fail``
        and ``compromise`` as ``kill``, with a note. Monte Carlo supports ``fail`` only.
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
        ``fail``: summary ``lost_elements``, ``lost_sites``, ``lost_subscribers``,
        ``sensitive_without_service`` (sensitive ids that had service from some operator and now
        have none), ``unmanaged_elements`` (still forwarding, every manager lost),
        ``lost_by_domain``; tables ``by_operator``, ``by_domain``, ``lost_sites`` (points; see
        :func:`lost_area_geojson`), ``sensitive`` and ``unmanaged``.
        ``kill``: also ``killable_elements`` (own elements plus everything their management
        reaches), tables ``killable`` and ``killable_by_operator``; the loss figures are those of
        switching all killable elements off.
        ``intercept``: ``intercept_traffic_share``, ``intercept_subscriber_share``,
        ``intercept_signalling_share``, ``keys_exposed_subscribers``; tables ``by_operator``,
        ``sensitive`` (share of each sensitive site's traffic the scenario could read),
        ``sensitive_by_operator`` and ``readers`` (see :func:`cleanpath.analysis.threat.intercept`).
        Monte Carlo: the ``lost_*`` and ``unmanaged_elements`` figures are means with ``*_ci95``
        (95 % confidence interval of the mean, normal approximation); ``sensitive_without_service``
        lists the sensitive sites that lost service in at least one sample, most often first;
        tables ``distribution``, ``sensitive`` (probability with Wilson 95 % interval),
        ``by_operator`` and ``samples``. ``summary["notes"]`` says how aliases and implied demands
        were read.

    Raises
    ------
    ValidationError
        For no or conflicting scenarios, unknown vendors, elements, regions or modes, bad numbers,
        and modes random failures do not support.
    """
    problems = ProblemCollector("outage")
    chosen = [k for k, v in (("vendors", vendors), ("elements", elements), ("region", region)) if v is not None]
    canon = check_mode(mode, problems)
    notes: list[str] = []
    if canon is not None and canon != mode:
        notes.append(f"mode {mode!r} is read as {canon!r}: {MODES[canon]}")
    if random_p is None and len(chosen) != 1:
        problems.add("give exactly one of vendors, elements, region (or random_p with samples)",
                     column="scenario", value=", ".join(chosen) or None)
    p = None
    if random_p is not None:
        p = _real(random_p)
        if p is None or not math.isfinite(p) or not (MIN_P < p <= 1):
            problems.add(f"random failure probability must be a finite number above {MIN_P:g} and at most 1",
                         column="--random", value=random_p)
        if len(chosen) > 1:
            problems.add("random failures take at most one scope (vendors, elements or region)",
                         column="scenario", value=", ".join(chosen))
        if canon is not None and canon != "fail":
            problems.add(f"random failures support mode 'fail' only; mode {canon!r} needs a fixed vendor, "
                         "element or region scenario", column="--mode", value=mode)
    n_samples = None
    if samples is not None:
        n = _real(samples)
        if random_p is None:
            problems.add("samples needs random_p", column="--samples", value=samples)
        elif n is None or not n.is_integer() or not (1 <= n <= MAX_SAMPLES):
            problems.add(f"samples must be a whole number from 1 to {MAX_SAMPLES:,}", column="--samples",
                         value=samples)
        else:
            n_samples = int(n)
    problems.raise_if_any()

    idx = ServiceIndex.of(net)
    cov = Coverage.of(net)
    params: dict[str, Any] = {"mode": canon}
    if canon != mode:
        params["mode_requested"] = mode
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

    if p is not None:
        n = n_samples or 1000
        params.update(random_p=p, samples=n, seed=seed)
        summary, tables = _monte_carlo(net, idx, cov, scope, p, n, seed, executor, on_progress)
        summary = {"mode": canon, "scenario": "random", **summary}
        if notes:
            summary["notes"] = notes
        return Result("outage", net.name, params=params, summary=summary, tables=tables)

    base = idx.baseline()
    summary: dict[str, Any] = {"mode": canon, "scenario_elements": int(scope.sum()),
                               "scenario_serving": int((scope & base).sum())}
    tables: dict[str, pd.DataFrame] = {}
    if canon == "intercept":
        from cleanpath.analysis.threat import intercept

        isum, itabs, inotes = intercept(net, idx, cov, scope)
        notes += inotes
        summary.update(isum)
        tables.update(itabs)
    else:
        off = scope
        if canon == "kill":
            ksum, ktabs, off = _kill(idx, scope)
            summary.update(ksum)
            tables.update(ktabs)
        imp = _impact(idx, cov, idx.without(off))
        isum, itabs = _impact_tables(net, idx, cov, imp)
        summary = {**isum, **summary}
        tables = {**itabs, **tables}
    # the earlier names of these two figures, kept for readers of older results
    summary["disabled_elements"] = summary["scenario_elements"]
    summary["disabled_serving"] = summary["scenario_serving"]
    if notes:
        summary["notes"] = notes
    return Result("outage", net.name, params=params, summary=summary, tables=tables)
