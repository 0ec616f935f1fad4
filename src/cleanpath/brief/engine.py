"""The allies brief engine: per country, the US installations' exposure with 90 % intervals.

For each country the brief builds ``draws`` generated networks (:func:`cleanpath.build.generate.
generate_network` with a seed derived from ``seed``, the country and the draw) or takes a given
snapshot as its one draw, adds the shipped US installations (:func:`cleanpath.io.sensitive.
shipped_installations`) as sensitive sites, and answers on every draw:

* **RAN and core serving each installation** (:func:`serving_shares`): the RAN is every serving
  element of the radio-access domain at the cell sites whose serving radios cover the installation
  (radios, basebands, their anchors; :class:`cleanpath.analysis.service.Coverage`); the core is
  every serving core function in the data centres those RAN elements are homed on (the transitive
  closure of their control and anchor links, then every core function of the sites reached, so the
  user plane of the data centre counts as well as the MME or AMF). Shares are element counts.
* **clean path** per installation and operator (:func:`cleanpath.analysis.clean_path.
  run_clean_path`), and the cost of the shared fix that gives every installation a clean path on
  every operator covering it: the exact remediation, the "cost to clean the base-serving networks".
* **what a hostile vendor could read** (:func:`cleanpath.analysis.outage.run_outage` with
  ``mode="intercept"``): the share of each installation's traffic that crosses untrusted gear.
* **full national compliance** under the country's own shipped packs: the replacement units
  (:func:`cleanpath.plan.planner.replacement_units`) of every element some violation rule of the
  packs requires gone (:func:`cleanpath.analysis.audit.element_deadlines`); share caps are not
  encoded there (the planner handles them), so this is the removal the rules demand outright.
  Also the replacement cost of all untrusted gear (the US ask).
* **aid needed** (:func:`cleanpath.plan.incentive.run_incentive`): the operators' compliance cost
  of removing all untrusted gear (stranded value plus the trusted gear's premium), i.e. the
  break-even subsidy, spread evenly over ``aid_years`` (default 5) to give a yearly figure.

The intervals are the 5th and 95th percentiles over the draws (linear interpolation), with the
median. Every (country, draw) is one task on the executor; its seed depends only on ``seed``, the
country and the draw, so any executor gives the same tables.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
import yaml

from cleanpath.errors import ProblemCollector
from cleanpath.model.network import Network, validate_tables
from cleanpath.result import Result

#: The countries the US pressed, and Britain, by default.
DEFAULT_COUNTRIES = ("AU", "CA", "DE", "GB", "IT", "JP", "KR")
#: Most draws one brief may ask for per country.
MAX_DRAWS = 200
#: Default years over which the aid needed is spread (no pack deadline applies to every country).
DEFAULT_AID_YEARS = 5
#: Seconds the exact clean-path remediation may take per draw (all pairs and the shared fix).
CLEAN_PATH_TIME_LIMIT = 10.0
#: Percentiles of the 90 % interval.
LOW, HIGH = 5.0, 95.0
#: Hops of control and anchor links followed from the RAN to the core (generated networks need 3).
CORE_DEPTH = 8

#: Per-draw national figures, in the order of the tables; the suffix is the unit.
METRICS = (
    "installations_count", "installations_served_count", "installations_clean_count",
    "base_ran_untrusted_share", "base_core_untrusted_share", "base_intercept_share",
    "national_ran_untrusted_share", "national_core_untrusted_share", "national_intercept_share",
    "base_fix_cost_usd", "national_compliance_cost_usd", "full_removal_cost_usd",
    "compliance_cost_usd", "break_even_subsidy_share", "aid_per_year_usd",
)


@lru_cache(maxsize=1)
def known_countries() -> tuple[str, ...]:
    """Countries the generator has tailored operators and reported vendor shares for."""
    root = resources.files("cleanpath.data").joinpath("generate")
    ops = yaml.safe_load(root.joinpath("countries.yaml").read_text(encoding="utf-8")).get("countries") or {}
    shares = yaml.safe_load(root.joinpath("vendor_shares.yaml").read_text(encoding="utf-8")).get("countries") or {}
    return tuple(sorted(set(ops) & set(shares)))


def _draw_seed(seed: int, country: str, draw: int) -> int:
    """A seed that depends on the brief's seed, the country and the draw only (not on scheduling)."""
    key = [int(seed) & 0xFFFFFFFF, ord(country[0]), ord(country[1]), int(draw)]
    return int(np.random.SeedSequence(key).generate_state(1, dtype=np.uint32)[0])


def _country_packs(net: Network) -> list[str]:
    """Shipped, non-library packs whose jurisdiction covers a country of ``net`` (may be empty).

    The same rule as the registry's default packs; kept here because the brief sits below the
    registry in the layers.
    """
    from cleanpath.policy.loader import load_policy, shipped_packs

    countries = set(net.operators["country"].dropna().astype(str)) if len(net.operators) else set()
    if "country" in net.sites and len(net.sites):
        countries |= set(net.sites["country"].dropna().astype(str))
    out = []
    for name in shipped_packs():
        p = load_policy(name)
        if not p.library and countries & set(p.jurisdiction):
            out.append(name)
    return out


# ------------------------------------------------------------------------------------------------
# One draw
# ------------------------------------------------------------------------------------------------


def with_installations(net: Network, country: str) -> tuple[Network, str | None]:
    """``net`` with the shipped US installations of ``country`` as its sensitive sites.

    A network that already has sensitive sites keeps them (a given snapshot's own list wins).

    Returns
    -------
    (Network, note)
        The note says what was done when it is worth saying (None otherwise).
    """
    from cleanpath.io.sensitive import shipped_installations

    if len(net.sensitive_sites):
        return net, f"{country}: the snapshot's own {len(net.sensitive_sites)} sensitive site(s) are used"
    inst = shipped_installations(country)
    if not len(inst):
        return net, (f"{country}: no US installations are shipped for this country; "
                     "national figures only")
    tables = validate_tables({"sensitive_sites": inst}, base=net)
    return Network(tables, name=net.name, validate=False), None


def serving_shares(net: Network, untrusted: frozenset[str]) -> pd.DataFrame:
    """Per sensitive site: the RAN and core elements that serve it, and how many are untrusted.

    Parameters
    ----------
    net
        The network (with sensitive sites).
    untrusted
        Untrusted vendor ids.

    Returns
    -------
    DataFrame
        One row per sensitive site (``sensitive_sites`` order): ``sensitive_id``,
        ``serving_radios``, ``ran_elements``, ``ran_untrusted``, ``core_elements``,
        ``core_untrusted``. See the module docstring for which elements count.
    """
    from cleanpath.analysis.service import Coverage, ServiceIndex
    from cleanpath.model.schema import DOMAINS

    idx = ServiceIndex.of(net)
    cov = Coverage.of(net)
    k, n = len(cov.ids), idx.n
    base = idx.baseline()
    bad = net.elements["vendor"].isin(list(untrusted)).to_numpy(dtype=bool, na_value=False)
    ran = base & (idx.domain == DOMAINS.index("ran"))
    core = base & (idx.domain == DOMAINS.index("core"))
    n_sites = len(net.sites)
    # element -> site incidence, restricted to the serving elements of a domain
    def incidence(mask: np.ndarray) -> sp.csr_matrix:
        pos = np.flatnonzero(mask)
        return sp.csr_matrix((np.ones(pos.size, dtype=np.int32), (pos, idx.site[pos])), shape=(n, n_sites))

    keep = base[cov.col]
    radios = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.int32), (cov.row[keep], cov.col[keep])), shape=(k, n))
    radios.sum_duplicates()
    serving_radios = np.asarray((radios > 0).sum(axis=1)).ravel()
    cell_sites = (radios @ incidence(base)) > 0                     # (installation, site)
    ran_el = (cell_sites.astype(np.int32) @ incidence(ran).T.tocsr()) > 0   # (installation, element)
    # follow control and anchor links from the RAN to the functions it is homed on
    reach = ran_el.astype(np.int32)
    for _ in range(CORE_DEPTH):
        nxt = ((reach + reach @ idx.fwd) > 0).astype(np.int32)
        if nxt.nnz == reach.nnz:
            break
        reach = nxt
    homed = reach.multiply(core[None, :].astype(np.int32)).tocsr()
    dc_sites = (homed @ incidence(core)) > 0
    core_el = (dc_sites.astype(np.int32) @ incidence(core).T.tocsr()) > 0
    bad_i = bad.astype(np.int64)
    return pd.DataFrame({
        "sensitive_id": cov.ids,
        "serving_radios": serving_radios.astype(np.int64),
        "ran_elements": np.asarray(ran_el.sum(axis=1)).ravel().astype(np.int64),
        "ran_untrusted": np.asarray(ran_el.astype(np.int64) @ bad_i).ravel(),
        "core_elements": np.asarray(core_el.sum(axis=1)).ravel().astype(np.int64),
        "core_untrusted": np.asarray(core_el.astype(np.int64) @ bad_i).ravel(),
    })


def _ratio(a: float, b: float) -> float:
    return float(a) / float(b) if b else float("nan")


def national_compliance_cost(net: Network, packs: Sequence[str]) -> float:
    """Replacement cost (US$) of every element a violation rule of ``packs`` requires gone."""
    from cleanpath.analysis.audit import element_deadlines
    from cleanpath.plan.planner import replacement_units

    if not packs:
        return float("nan")
    deadlines = element_deadlines(net, policies=list(packs))
    if not len(deadlines):
        return 0.0
    units = replacement_units(net, untrusted=set(), deadlines=deadlines[["element_id", "deadline"]])
    return float(units["cost"].sum()) if len(units) else 0.0


def brief_draw(item: tuple) -> dict[str, Any]:
    """Every figure of one country and one draw (an executor task; module level so it pickles).

    Parameters
    ----------
    item
        ``(country, draw, seed, network_or_None, settings)``: a given network is used as is, else
        the country is generated at ``settings["scale"]`` with ``seed``; ``settings`` holds
        ``scale``, ``untrusted``, ``as_of`` and ``aid_years`` as for :func:`run_brief` (in the item
        rather than as shared arguments, so a process pool is started once, not once per batch).

    Returns
    -------
    dict
        ``national`` (the :data:`METRICS`), ``installations`` (DataFrame, one row per
        installation), ``clean_paths`` (one row per installation and operator), ``notes``.
    """
    from cleanpath.analysis.clean_path import run_clean_path
    from cleanpath.analysis.outage import run_outage
    from cleanpath.analysis.service import ServiceIndex
    from cleanpath.build.generate import generate_network
    from cleanpath.model.schema import DOMAINS
    from cleanpath.plan.incentive import run_incentive
    from cleanpath.plan.planner import replacement_units
    from cleanpath.policy.vendorset import resolve_untrusted

    country, draw, seed, given, settings = item
    scale, untrusted, as_of, aid_years = (settings[k] for k in ("scale", "untrusted", "as_of", "aid_years"))
    notes: list[str] = []
    net = given if given is not None else generate_network(country=country, scale=scale, seed=seed,
                                                             name=f"{country.lower()}-{draw}")
    net, note = with_installations(net, country)
    if note and draw == 0:
        notes.append(note)
    bad = resolve_untrusted(net, untrusted, as_of=as_of)
    idx = ServiceIndex.of(net)
    base = idx.baseline()
    is_bad = net.elements["vendor"].isin(list(bad)).to_numpy(dtype=bool, na_value=False)
    ran = base & (idx.domain == DOMAINS.index("ran"))
    core = base & (idx.domain == DOMAINS.index("core"))

    shares = serving_shares(net, bad)
    has = len(shares) > 0
    inst = net.sensitive_sites
    if has:
        cp = run_clean_path(net, untrusted=bad, shared=True, time_limit=CLEAN_PATH_TIME_LIMIT)
        table = cp.tables["clean_path"]
        clean_paths = pd.DataFrame({"sensitive_id": table["sensitive_id"].astype(object),
                                    "operator_id": table["operator_id"].astype(object),
                                    "clean": table["clean"].astype(bool),
                                    "fix_cost_usd": table["remediation_cost"].astype(float)})
        any_clean = clean_paths.groupby("sensitive_id")["clean"].any()
        base_fix = float(cp.summary.get("shared_fix_cost", 0.0))
        if not cp.summary.get("shared_fix_optimal", True):
            notes.append(f"{country} draw {draw}: the shared fix stopped at the time limit "
                         f"(gap {cp.summary.get('shared_fix_gap', float('nan')):.1%})")
        out = run_outage(net, vendors=bad, mode="intercept")
        readable = out.tables["sensitive"].set_index("sensitive_id")["traffic_share_readable"]
        nat_intercept = float(out.summary.get("intercept_traffic_share", float("nan")))
    else:
        clean_paths = pd.DataFrame({"sensitive_id": pd.Series(dtype=object), "operator_id": pd.Series(dtype=object),
                                    "clean": pd.Series(dtype=bool), "fix_cost_usd": pd.Series(dtype=float)})
        any_clean = pd.Series(dtype=bool)
        base_fix = float("nan")
        out = run_outage(net, vendors=bad, mode="intercept")
        readable = pd.Series(dtype=float)
        nat_intercept = float(out.summary.get("intercept_traffic_share", float("nan")))
    ids = shares["sensitive_id"].to_numpy(dtype=object)
    installations = pd.DataFrame({
        "sensitive_id": ids,
        "name": inst["name"].astype(object).to_numpy() if has else np.zeros(0, object),
        "serving_radios": shares["serving_radios"].to_numpy(),
        "ran_untrusted_share": shares["ran_untrusted"] / shares["ran_elements"].where(shares["ran_elements"] > 0),
        "core_untrusted_share": shares["core_untrusted"] / shares["core_elements"].where(shares["core_elements"] > 0),
        "clean": pd.Series(ids).map(any_clean).fillna(False).to_numpy(dtype=bool),
        "intercept_share": pd.Series(ids).map(readable).to_numpy(dtype=float),
    })
    served = installations["serving_radios"].to_numpy() > 0

    packs = _country_packs(net)
    if not packs:
        notes.append(f"{country}: no shipped policy pack covers this country; national compliance cost not computed")
    elif draw == 0:
        notes.append(f"{country}: national compliance under {', '.join(packs)}")
    compliance = national_compliance_cost(net, packs)
    units = replacement_units(net, untrusted=set(bad))
    full = float(units["cost"].sum()) if len(units) else 0.0
    inc = run_incentive(net, as_of=as_of, untrusted=bad)
    comp = float(inc.summary["compliance_cost"])
    national = {
        "installations_count": int(len(installations)),
        "installations_served_count": int(served.sum()),
        "installations_clean_count": int(installations["clean"].sum()),
        "base_ran_untrusted_share": _ratio(shares["ran_untrusted"].sum(), shares["ran_elements"].sum()),
        "base_core_untrusted_share": _ratio(shares["core_untrusted"].sum(), shares["core_elements"].sum()),
        "base_intercept_share": float(np.nanmean(installations["intercept_share"].to_numpy()[served]))
        if served.any() else float("nan"),
        "national_ran_untrusted_share": _ratio((ran & is_bad).sum(), ran.sum()),
        "national_core_untrusted_share": _ratio((core & is_bad).sum(), core.sum()),
        "national_intercept_share": nat_intercept,
        "base_fix_cost_usd": base_fix,
        "national_compliance_cost_usd": compliance,
        "full_removal_cost_usd": full,
        "compliance_cost_usd": comp,
        "break_even_subsidy_share": float(inc.summary["break_even_subsidy_share"]),
        "aid_per_year_usd": comp / aid_years,
    }
    result = {"country": country, "draw": draw, "seed": seed, "elements": int(idx.n), "packs": packs,
              "national": national, "installations": installations, "clean_paths": clean_paths, "notes": notes}
    del net, idx, base, is_bad, ran, core, shares, out
    _release_memory()
    return result


def _release_memory() -> None:
    """Free a draw's network before the worker takes the next one.

    A network and its cached indexes refer to each other (``Network.cache``), so they wait for the
    cycle collector; without an explicit collection a worker grew by about 0.6 GB per full-scale
    task. Arrow's pool keeps freed pages too; they are handed back.
    """
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()


# ------------------------------------------------------------------------------------------------
# The brief
# ------------------------------------------------------------------------------------------------


def _interval(x: np.ndarray) -> tuple[float, float, float]:
    """(p05, median, p95) ignoring NaN; all NaN when no draw has a value."""
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).any():
        return (math.nan, math.nan, math.nan)
    lo, mid, hi = np.nanpercentile(x, [LOW, 50.0, HIGH])
    return float(lo), float(mid), float(hi)


def _unit_split(metric: str) -> tuple[str, str]:
    """``base_fix_cost_usd`` -> (``base_fix_cost``, ``usd``)."""
    stem, _, unit = metric.rpartition("_")
    return stem, unit


def _check(countries: Sequence[str], draws: Any, scale: Any, networks: Mapping | None, aid_years: Any) -> list[str]:
    problems = ProblemCollector()
    known = known_countries()
    if isinstance(countries, str):
        countries = [c for c in countries.replace(";", ",").split(",")]
    codes: list[str] = []
    for c in countries:
        code = str(c).strip().upper()
        if not code:
            continue
        if code in codes:
            continue
        if code not in known and not (networks and code in {str(k).strip().upper() for k in networks}):
            problems.add(f"unknown country {code!r}: the generator knows {', '.join(known)} "
                         "(or give that country's snapshot)", column="countries", value=c)
        codes.append(code)
    if not codes:
        problems.add(f"no countries given; known: {', '.join(known)}", column="countries", value=countries)
    for k in (networks or {}):
        code = str(k).strip().upper()
        if code not in codes:
            problems.add(f"a snapshot is given for {code!r}, which is not among the countries "
                         f"({', '.join(codes)})", column="networks", value=k)
        elif not isinstance(networks[k], Network):
            problems.add("expected a Network", column="networks", value=k)
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or not 1 <= int(draws) <= MAX_DRAWS:
        problems.add(f"draws must be a whole number from 1 to {MAX_DRAWS}", column="draws", value=draws)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (0 < float(scale) <= 5) \
            or not math.isfinite(float(scale)):
        problems.add("scale must be above 0 and at most 5", column="scale", value=scale)
    if isinstance(aid_years, bool) or not isinstance(aid_years, (int, np.integer)) or not 1 <= int(aid_years) <= 30:
        problems.add("aid_years must be a whole number from 1 to 30", column="aid_years", value=aid_years)
    problems.raise_if_any()
    return codes


def run_brief(*, countries: Sequence[str] = DEFAULT_COUNTRIES, draws: int = 20, scale: float = 1.0, seed: int = 0,
              networks: Mapping[str, Network] | None = None, untrusted=None, executor=None,
              on_progress: Callable[[int, int], None] | None = None, as_of: dt.date | None = None,
              aid_years: int = DEFAULT_AID_YEARS) -> Result:
    """The allies brief: per country, the US installations' exposure, clean paths, cost and aid.

    Parameters
    ----------
    countries
        ISO 3166-1 alpha-2 codes (a list, or one text separated by commas), each known to the
        generator (:func:`known_countries`) or given in ``networks``.
    draws
        Generated networks per country (1 to :data:`MAX_DRAWS`); the intervals are over them.
    scale
        Share of each country's real cell-site count to generate (above 0, at most 5).
    seed
        Base seed; each (country, draw) gets its own seed from it (``draws`` table).
    networks
        Country code -> a network to use instead of generating (one draw for that country). A
        network without sensitive sites gets the country's shipped US installations.
    untrusted
        Vendor set (grammar of :mod:`cleanpath.policy.vendorset`); default: vendors headquartered
        in China or Russia.
    executor
        None (in this process), an executor kind (``local``, ``processes``, ``dask``) or a
        :class:`cleanpath.scale.executor.Executor`; one task per country and draw.
    on_progress
        Called as ``on_progress(tasks_done, tasks_total)``.
    as_of
        Date of the decision for the aid figures (default: today).
    aid_years
        Years over which the break-even aid is spread (default 5).

    Returns
    -------
    Result
        Question ``brief``. Tables ``countries`` (one row per country: median, p05 and p95 of every
        figure in :data:`METRICS`, columns ``<figure>_<stat>_<unit>``), ``installations`` (country
        x installation), ``clean_paths`` (country x installation x operator), ``draws`` (country x
        draw, the raw figures). Summary: ``per_country`` headline figures, ``notes``.

    Raises
    ------
    ValidationError
        Unknown or missing countries, snapshots for countries not asked, bad draws, scale or aid_years.
    """
    from cleanpath.scale.executor import Executor, get_executor

    codes = _check(countries, draws, scale, networks, aid_years)
    given = {str(k).strip().upper(): v for k, v in (networks or {}).items()}
    as_of = as_of or dt.date.today()
    draws = int(draws)
    settings = {"scale": float(scale), "untrusted": untrusted, "as_of": as_of, "aid_years": int(aid_years)}
    items = []
    for code in codes:
        if code in given:
            items.append((code, 0, None, given[code], settings))
        else:
            items += [(code, d, _draw_seed(seed, code, d), None, settings) for d in range(draws)]
    items = _schedule(items)
    # a bad vendor set fails here, once, rather than in every task
    from cleanpath.policy.vendorset import resolve_untrusted

    probe = next(iter(given.values()), None)
    if probe is not None:
        resolve_untrusted(probe, untrusted, as_of=as_of)
    own = not isinstance(executor, Executor)
    ex = executor if isinstance(executor, Executor) else get_executor(executor or "local")
    try:
        # one map for every task (no batches waiting for their slowest task); progress as tasks finish
        tell = (lambda n: on_progress(n, len(items))) if on_progress else None
        done = ex.map(brief_draw, items, on_done=tell)
    finally:
        if own:
            ex.close()
    return _assemble(done, codes, given, draws=draws, scale=float(scale), seed=int(seed), untrusted=untrusted,
                     as_of=as_of, aid_years=int(aid_years), executor=ex.describe())


def _schedule(items: list[tuple]) -> list[tuple]:
    """Tasks in the order they start: draw by draw, the biggest country next to the smallest.

    Workers take tasks in order, so neighbours run together; pairing Japan (1.6 M elements at full
    scale, about 2 GB while it runs) with Australia rather than with Germany keeps two workers'
    peak memory down. Only the order of work changes; results are put back in country order.
    """
    size = {c: _SIZE_RANK.get(c, 0.5) for c in {it[0] for it in items}}
    by_size = sorted(size, key=lambda c: (-size[c], c))
    paired: list[str] = []
    lo, hi = 0, len(by_size) - 1
    while lo <= hi:
        paired.append(by_size[lo])
        if lo != hi:
            paired.append(by_size[hi])
        lo, hi = lo + 1, hi - 1
    rank = {c: i for i, c in enumerate(paired)}
    return sorted(items, key=lambda it: (it[1], rank[it[0]]))


#: Relative size of the generated networks (elements at full scale, millions; measured at scale 1
#: and 0.2, see docs/benchmarks.md): only used to order the tasks.
_SIZE_RANK = {"JP": 1.6, "DE": 0.91, "GB": 0.72, "KR": 0.79, "IT": 0.6, "CA": 0.4, "AU": 0.3,
              "FR": 0.6, "ES": 0.5, "PL": 0.4, "US": 2.0}


def _assemble(done: list[dict], codes: list[str], given: dict, **params: Any) -> Result:
    order = {c: i for i, c in enumerate(codes)}
    done = sorted(done, key=lambda d: (order[d["country"]], d["draw"]))
    notes: list[str] = []
    draws_rows = []
    for d in done:
        notes += d["notes"]
        draws_rows.append({"country": d["country"], "draw": d["draw"],
                           "seed": d["seed"] if d["seed"] is not None else -1,
                           "source": "snapshot" if d["seed"] is None else "generated",
                           "elements": d["elements"], **d["national"]})
    draws_t = pd.DataFrame(draws_rows, columns=["country", "draw", "seed", "source", "elements", *METRICS])
    rows, per_country = [], {}
    for code in codes:
        sub = draws_t[draws_t["country"] == code]
        row: dict[str, Any] = {"country": code, "draws": int(len(sub)),
                               "source": "snapshot" if code in given else "generated"}
        for m in METRICS:
            stem, unit = _unit_split(m)
            lo, mid, hi = _interval(sub[m].to_numpy(dtype=np.float64))
            row[f"{stem}_median_{unit}"] = mid
            row[f"{stem}_p05_{unit}"] = lo
            row[f"{stem}_p95_{unit}"] = hi
        rows.append(row)
        per_country[code] = {
            "installations": int(row["installations_median_count"]) if np.isfinite(row["installations_median_count"]) else 0,
            "installations_clean_median": row["installations_clean_median_count"],
            "base_ran_untrusted_share": [row["base_ran_untrusted_p05_share"], row["base_ran_untrusted_median_share"],
                                         row["base_ran_untrusted_p95_share"]],
            "base_intercept_share": [row["base_intercept_p05_share"], row["base_intercept_median_share"],
                                     row["base_intercept_p95_share"]],
            "base_fix_cost_usd": [row["base_fix_cost_p05_usd"], row["base_fix_cost_median_usd"],
                                  row["base_fix_cost_p95_usd"]],
            "national_compliance_cost_usd": [row["national_compliance_cost_p05_usd"],
                                             row["national_compliance_cost_median_usd"],
                                             row["national_compliance_cost_p95_usd"]],
            "aid_per_year_usd": [row["aid_per_year_p05_usd"], row["aid_per_year_median_usd"],
                                 row["aid_per_year_p95_usd"]],
        }
    countries_t = pd.DataFrame(rows)
    installations_t, clean_t = _per_installation(done, codes)
    def _safe(v):  # JSON-safe summary: NaN becomes None
        return None if isinstance(v, float) and not math.isfinite(v) else v
    per_country = {c: {k: ([_safe(x) for x in v] if isinstance(v, list) else _safe(v)) for k, v in h.items()}
                   for c, h in per_country.items()}
    summary = {
        "countries": codes,
        "draws_per_country": {c: int((draws_t["country"] == c).sum()) for c in codes},
        "installations": int(len(installations_t)),
        "installations_without_clean_path": int((installations_t["clean_path_share"] < 0.5).sum())
        if len(installations_t) else 0,
        "interval": "90 % (5th to 95th percentile over draws), with the median",
        "aid_horizon_years": params["aid_years"],
        "aid_basis": (f"operators' break-even cost of removing all untrusted gear (stranded value plus "
                      f"trusted gear's premium) spread over {params['aid_years']} years"),
        "per_country": per_country,
        "notes": notes,
    }
    p = dict(params)
    p["untrusted"] = p["untrusted"] if p["untrusted"] is None or isinstance(p["untrusted"], str) else \
        sorted(map(str, p["untrusted"]))
    p["countries"] = codes
    p["networks"] = sorted(given)
    return Result("brief", None, params=p, summary=summary,
                  tables={"countries": countries_t, "installations": installations_t, "clean_paths": clean_t,
                          "draws": draws_t})


def _per_installation(done: list[dict], codes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Intervals per installation and clean-path shares per installation and operator."""
    inst = [d["installations"].assign(country=d["country"], draw=d["draw"]) for d in done if len(d["installations"])]
    cps = [d["clean_paths"].assign(country=d["country"], draw=d["draw"]) for d in done if len(d["clean_paths"])]
    cols = ["country", "sensitive_id", "name", "draws", "served_share",
            "ran_untrusted_median_share", "ran_untrusted_p05_share", "ran_untrusted_p95_share",
            "core_untrusted_median_share", "core_untrusted_p05_share", "core_untrusted_p95_share",
            "clean_path_share", "clean_path_by_operator",
            "intercept_median_share", "intercept_p05_share", "intercept_p95_share"]
    cp_cols = ["country", "sensitive_id", "operator_id", "draws", "clean_share", "fix_cost_median_usd"]
    if not inst:
        return pd.DataFrame(columns=cols), pd.DataFrame(columns=cp_cols)
    a = pd.concat(inst, ignore_index=True)
    a["served"] = a["serving_radios"] > 0
    order = {c: i for i, c in enumerate(codes)}
    g = a.groupby(["country", "sensitive_id"], sort=False)

    def q(col: str, pct: float) -> pd.Series:
        return g[col].quantile(pct / 100.0, interpolation="linear")

    out = pd.DataFrame({
        "name": g["name"].first(), "draws": g.size(), "served_share": g["served"].mean(),
        "ran_untrusted_median_share": q("ran_untrusted_share", 50), "ran_untrusted_p05_share": q("ran_untrusted_share", LOW),
        "ran_untrusted_p95_share": q("ran_untrusted_share", HIGH),
        "core_untrusted_median_share": q("core_untrusted_share", 50),
        "core_untrusted_p05_share": q("core_untrusted_share", LOW),
        "core_untrusted_p95_share": q("core_untrusted_share", HIGH),
        "clean_path_share": g["clean"].mean(),
        "intercept_median_share": q("intercept_share", 50), "intercept_p05_share": q("intercept_share", LOW),
        "intercept_p95_share": q("intercept_share", HIGH),
    }).reset_index()
    if cps:
        c = pd.concat(cps, ignore_index=True)
        cg = c.groupby(["country", "sensitive_id", "operator_id"], sort=True)
        clean_t = pd.DataFrame({"draws": cg.size(), "clean_share": cg["clean"].mean(),
                                "fix_cost_median_usd": cg["fix_cost_usd"].median()}).reset_index()
        by_op = clean_t.groupby(["country", "sensitive_id"])[["operator_id", "clean_share"]].apply(
            lambda f: ", ".join(f"{o} {s:.0%}" for o, s in zip(f["operator_id"], f["clean_share"])))
        out["clean_path_by_operator"] = pd.Series(list(zip(out["country"], out["sensitive_id"]))).map(
            by_op.to_dict()).fillna("").to_numpy(dtype=object)
    else:
        clean_t = pd.DataFrame(columns=cp_cols)
        out["clean_path_by_operator"] = ""
    out["_o"] = out["country"].map(order)
    out = out.sort_values(["_o", "sensitive_id"], kind="stable").drop(columns="_o").reset_index(drop=True)
    clean_t["_o"] = clean_t["country"].map(order)
    clean_t = clean_t.sort_values(["_o", "sensitive_id", "operator_id"], kind="stable").drop(columns="_o")
    return out[cols], clean_t[cp_cols].reset_index(drop=True)
