"""Networks estimated from public cell data, with vendors drawn from reported shares.

When no inventory exists, :func:`estimate_network` builds a plausible network from what is
public:

* **Cell sites and radios** from OpenCelliD exports (:func:`cleanpath.io.opencellid.import_opencellid`:
  cells grouped into sites per operator, one baseband and radio per site and generation, 5G-NSA
  radios anchored on the site's 4G).
* **Subscribers** from real places (GeoNames): every place within :data:`SERVE_KM` of an
  operator's sites is served by the nearest one; a site's subscribers are the people it serves
  times the mobile subscriptions per person times the operator's market share (shipped figures
  for known operators, otherwise its share of the country's cell sites).
* **The rest of each operator's network** (site routers and backhaul, hubs, aggregation, core
  data centres with EPC and 5G core, element managers, gateways) built exactly as
  :mod:`cleanpath.build.generate` builds it.
* **Vendors** drawn ``samples`` times. In each draw the country's Chinese-vendor 4G and 5G shares
  (and each operator's, where reported) are drawn around the reported figures, with a spread set
  by their confidence (``spread`` in the shares file: a Beta distribution with that standard
  deviation; a reported 0 or 100 % is taken as certain); the operators' shares are fitted to the
  national draw as in ``generate``; and RAN vendors are laid out in regional lots (contiguous runs
  of a Hilbert curve over the operator's sites, starting at a random point): the sites with 5G by
  the 5G share, the others so that the 4G share comes out right. A site's RAN has one vendor, so
  5G-NSA keeps its anchor's vendor.

Every figure is then given as the median and the 90 % interval (5th to 95th percentile) over the
draws: per operator and nationally, the share of cell sites and of subscribers on Chinese-vendor
RAN, and of 4G and 5G subscribers. :meth:`Estimate.interval` does the same for any figure of a
whole network, and :meth:`Estimate.draw_network` rebuilds the network of any draw; the first draw
is the one stored by ``cleanpath estimate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from cleanpath.build import geography as geo
from cleanpath.build import generate as gen
from cleanpath.errors import Problem, ValidationError
from cleanpath.model.network import Network
from cleanpath.model.schema import GENERATIONS
from cleanpath.result import Result

#: Places further than this from every site of an operator are not its customers (the cell file
#: may cover only part of a country).
SERVE_KM = 30.0
#: RAN vendor pool of an operator the shipped defaults do not know (relative weights within the
#: Chinese and the other vendors): the European market split reported in the facts file (Huawei
#: about 45 %, ZTE about 7 %), Ericsson and Nokia equally among the rest.
GENERIC_POOL = {"huawei": 45.0, "zte": 7.0, "ericsson": 1.0, "nokia": 1.0}
#: The figures reported per operator and nationally.
FIGURES = ("chinese_sites", "chinese_subscribers", "chinese_subscribers_4g", "chinese_subscribers_5g")
QUANTILES = (0.05, 0.5, 0.95)
_GEN_CODE = {g: i for i, g in enumerate(GENERATIONS)}


@dataclass
class _Country:
    """One country's part of the estimate: its operators with their sites and RAN."""

    code: str
    geo: Any
    spec: gen.CountrySpec
    shares: gen.VendorShares
    ops: list
    dc_places: np.ndarray
    cities: np.ndarray
    orders: list[np.ndarray] = field(default_factory=list)       # Hilbert order per operator
    has4g: list[np.ndarray] = field(default_factory=list)
    has5g: list[np.ndarray] = field(default_factory=list)


@dataclass
class Estimate:
    """The result of :func:`estimate_network`.

    Attributes
    ----------
    network
        The network of the first draw (validated).
    figures
        One row per country, operator (``all`` for the country) and figure: ``median``, ``p05``,
        ``p95`` over the draws.
    draws
        The figures of every draw (columns ``draw, country, operator_id`` and :data:`FIGURES`).
    notes
        Import warnings and modelling notes.
    samples, seed
        The number of draws and the seed.
    """

    network: Network
    figures: pd.DataFrame
    draws: pd.DataFrame
    notes: list[str]
    samples: int
    seed: int
    _build: Callable[[int], Network] = field(repr=False, default=None)

    def draw_network(self, k: int) -> Network:
        """The whole network of draw ``k`` (0-based; draw 0 is :attr:`network`)."""
        if not 0 <= k < self.samples:
            raise ValidationError(Problem(f"draw must be from 0 to {self.samples - 1}", column="draw", value=k))
        return self.network if k == 0 else self._build(k)

    def interval(self, figure: Callable[[Network], Mapping[str, float]], *, draws: int | None = None
                 ) -> pd.DataFrame:
        """Median and 90 % interval of any figures of the network over the draws.

        Parameters
        ----------
        figure
            Computes named numbers from one draw's network.
        draws
            Use only the first ``draws`` draws (each rebuilds a network, so large ``samples``
            with an expensive figure take a while).

        Returns
        -------
        DataFrame
            ``figure, median, p05, p95, draws``.
        """
        n = self.samples if draws is None else max(1, min(draws, self.samples))
        rows = [dict(figure(self.draw_network(k))) for k in range(n)]
        df = pd.DataFrame(rows)
        q = df.quantile(list(QUANTILES)).T
        return pd.DataFrame({"figure": q.index, "median": q[0.5].to_numpy(), "p05": q[0.05].to_numpy(),
                             "p95": q[0.95].to_numpy(), "draws": n})


# ------------------------------------------------------------------------------------------------
# Drawing shares and vendors.
# ------------------------------------------------------------------------------------------------


def draw_share(rng: np.random.Generator, mean: float, sd: float, size: int | None = None):
    """Shares drawn around ``mean`` with standard deviation ``sd`` (Beta; 0 and 1 are certain)."""
    if mean <= 0 or mean >= 1 or sd <= 0:
        return np.full(size, float(np.clip(mean, 0, 1))) if size else float(np.clip(mean, 0, 1))
    # Beta with the given mean and variance; a spread too wide for the mean is narrowed.
    kappa = max(mean * (1 - mean) / sd ** 2 - 1.0, 2.0)
    return rng.beta(mean * kappa, (1 - mean) * kappa, size=size)


def _lot_vendor(order: np.ndarray, weights: np.ndarray, subset: np.ndarray, pool: dict[str, float],
                share: float, u: float, chinese: set[str]) -> np.ndarray:
    """Vendor names for the sites in ``subset`` (in index order), laid out in lots along ``order``."""
    m = int(subset.sum())
    if m == 0:
        return np.empty(0, dtype=object)
    # Renumber the subset 0..m-1 and walk it in curve order.
    local = np.full(subset.size, -1, dtype=np.int64)
    local[np.flatnonzero(subset)] = np.arange(m)
    local_order = local[order[subset[order]]]
    segs = gen._segments(pool, float(np.clip(share, 0, 1)), chinese)
    idx = gen._lots(local_order, weights[subset], segs, u)
    return np.array([v for v, _s in segs], dtype=object)[idx]


def _site_vendors(c: _Country, draw_rng: np.random.Generator, chinese: set[str], k: int
                  ) -> tuple[list[np.ndarray], dict[str, float]]:
    """One draw's RAN vendor per cell site, per operator of a country."""
    shares = c.shares
    ops = c.ops
    national = {g: float(draw_share(draw_rng, shares.national[g].chinese, shares.spread[shares.national[g].confidence]))
                for g in gen.GENS}
    known = {}
    for g in gen.GENS:
        vals = []
        for op in ops:
            fig = shares.operators.get(op.spec.operator_id, {}).get(g)
            vals.append(np.nan if fig is None else float(draw_share(draw_rng, fig.chinese, shares.spread[fig.confidence])))
        known[g] = np.array(vals)
    pools = [op.spec.ran_vendors for op in ops]
    lo = np.array([1.0 if all(v in chinese for v in p) else 0.0 for p in pools])
    hi = np.array([1.0 if any(v in chinese for v in p) else 0.0 for p in pools])
    subs4 = np.array([float(op.cells.subscribers[h4].sum()) for op, h4 in zip(ops, c.has4g)])
    subs5 = np.array([float(op.cells.subscribers[h5].sum()) for op, h5 in zip(ops, c.has5g)])
    c5 = gen.fit_operator_shares(national["5G"], subs5, known["5G"], lo, hi) if subs5.sum() > 0 else np.zeros(len(ops))
    c4 = gen.fit_operator_shares(national["4G"], subs4, known["4G"], lo, hi)
    out = []
    for op, order, h4, h5, s4, s5, pool in zip(ops, c.orders, c.has4g, c.has5g, c4, c5, pools):
        w = op.cells.subscribers.astype(np.float64) + 1e-9
        u = float(draw_rng.random())
        vendor = np.empty(w.size, dtype=object)
        vendor[h5] = _lot_vendor(order, w, h5, pool, s5, u, chinese)
        # The other sites' lots are cut so the 4G share comes out at the drawn figure.
        cn5 = np.isin(vendor[h5 & h4], list(chinese))
        w4 = float(w[h4].sum())
        rest = ~h5
        w_rest4 = float(w[rest & h4].sum())
        need = (s4 * w4 - float(w[h5 & h4][cn5].sum())) / w_rest4 if w_rest4 > 0 else s4
        vendor[rest] = _lot_vendor(order, w, rest, pool, float(np.clip(need, 0, 1)), u, chinese)
        out.append(vendor)
    return out, national


def _draw_figures(c: _Country, vendors: list[np.ndarray], chinese: set[str], k: int) -> list[dict]:
    rows = []
    all_w, all_cn, all_4, all_5 = [], [], [], []
    for op, v, h4, h5 in zip(c.ops, vendors, c.has4g, c.has5g):
        w = op.cells.subscribers.astype(np.float64)
        cn = np.isin(v, list(chinese))
        rows.append({"draw": k, "country": c.code, "operator_id": op.spec.operator_id,
                     **_figures(w, cn, h4, h5)})
        all_w.append(w), all_cn.append(cn), all_4.append(h4), all_5.append(h5)
    w, cn, h4, h5 = (np.concatenate(x) for x in (all_w, all_cn, all_4, all_5))
    rows.append({"draw": k, "country": c.code, "operator_id": "all", **_figures(w, cn, h4, h5)})
    return rows


def _figures(w: np.ndarray, cn: np.ndarray, h4: np.ndarray, h5: np.ndarray) -> dict[str, float]:
    return {
        "chinese_sites": float(cn.mean()) if cn.size else np.nan,
        "chinese_subscribers": gen._share(w, cn) if w.sum() > 0 else np.nan,
        "chinese_subscribers_4g": gen._share(w[h4], cn[h4]) if w[h4].sum() > 0 else np.nan,
        "chinese_subscribers_5g": gen._share(w[h5], cn[h5]) if w[h5].sum() > 0 else np.nan,
    }


# ------------------------------------------------------------------------------------------------
# Building the network around the imported cells.
# ------------------------------------------------------------------------------------------------


def _spec_for(op_id: str, name: str, spec: gen.CountrySpec, base: dict, share: float) -> gen.OperatorSpec:
    """The shipped operator spec, or a generic one for an operator the defaults do not know."""
    for o in spec.operators:
        if o.operator_id == op_id:
            return o
    d = base.get("operator_defaults", {})
    return gen.OperatorSpec(
        operator_id=op_id, name=name, market_share=share, site_share=share, ran_vendors=dict(GENERIC_POOL),
        core_vendor=d.get("core_vendor", "ericsson"), core_5g_vendor=d.get("core_5g_vendor", "ericsson"),
        ims_vendor=d.get("core_vendor", "ericsson"), transport_vendor=d.get("transport_vendor", "cisco"),
        optical_vendor=d.get("transport_vendor", "cisco"), security_vendor=d.get("security_vendor", "palo_alto"),
        oss_vendor=d.get("oss_vendor", "amdocs"), microwave_vendor=d.get("microwave_vendor", "ran"),
        data_centres=min(spec.data_centres, 3))


def _served(g, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """People each site serves: every place within SERVE_KM goes to its nearest site."""
    d, nearest = cKDTree(geo.xyz(lat, lon)).query(g.places.points)
    ok = geo.chord_to_km(d) <= SERVE_KM
    return np.bincount(nearest[ok], weights=g.places.effective[ok], minlength=lat.size)


def _imported_ran(imp: dict, site_rows: dict[str, np.ndarray]) -> Callable:
    """A ``ran`` step for :func:`generate.operator_network` that adds the imported RAN elements."""
    el, links = imp["elements"], imp["links"]
    el_site = el["site_id"].to_numpy(dtype=object)
    el_ids = el["element_id"].to_numpy(dtype=object)
    el_role = el["role"].to_numpy(dtype=object)
    el_gen = el["generation"].to_numpy(dtype=object)
    by_id = pd.Index(el_ids)
    la = by_id.get_indexer(links["a"].to_numpy(dtype=object))
    lb = by_id.get_indexer(links["b"].to_numpy(dtype=object))
    lkind = links["kind"].to_numpy(dtype=object)

    def ran(b: gen._Builder, op, site_idx: np.ndarray, h, core, seed: int) -> None:
        ids = site_rows[op.spec.operator_id]                      # this operator's site ids, in order
        local = pd.Index(ids).get_indexer(el_site)
        mine = np.flatnonzero(local >= 0)
        local = local[mine]
        vcode = gen._vendor_codes(b, op.vendor)
        rng = gen._rng(seed, op.index, 4)
        n = site_idx.size
        days = {g: gen._dates(rng, "4G" if g in ("2G", "3G") else g, n) for g in ("4G", "5G-NSA", "5G-SA")}
        day_of = np.select([el_gen[mine] == "5G-NSA", el_gen[mine] == "5G-SA"],
                           [days["5G-NSA"][local], days["5G-SA"][local]], days["4G"][local])
        role = np.array([gen._ROLE_CODE[r] for r in el_role[mine]], dtype=np.int16)
        gcode = np.array([_GEN_CODE[x] for x in el_gen[mine]], dtype=np.int8)
        new = np.full(len(el_ids), -1, dtype=np.int64)
        new[mine] = b.add_elements(site_idx[local], role, vcode[local], gcode, day_of, 0, ids=el_ids[mine])
        router = gen._site_transport(b, op, site_idx, h, vcode, days["4G"])
        # The importer's own links (fronthaul, anchors) between this operator's elements.
        keep = (la >= 0) & (lb >= 0)
        keep[keep] &= (new[la[keep]] >= 0) & (new[lb[keep]] >= 0)
        for kind in np.unique(lkind[keep]):
            m = keep & (lkind == kind)
            b.add_links(new[la[m]], new[lb[m]], str(kind),
                        gen.CAPACITY["fronthaul"] if kind == "transport" else None)
        # Basebands: to the site router, and homed on the region's MME (AMF for 5G-SA).
        bb = mine[el_role[mine] == "ran.baseband"]
        bl = pd.Index(ids).get_indexer(el_site[bb])
        b.add_links(new[bb], router[bl], "transport", gen.CAPACITY["site"])
        sa = el_gen[bb] == "5G-SA"
        dc = h.cell_dc[bl]
        ctl = np.where(sa, core.roles["core.amf"][dc], core.roles["core.mme"][dc])
        b.add_links(new[bb], ctl, "control")

    return ran


def _prepare(imp: dict, shares_arg, notes: list[str]) -> tuple[list[_Country], dict[str, np.ndarray]]:
    """Countries, operators and their cell sites, subscribers and generations from the import."""
    ops_t = imp["operators"]
    sites_t = imp["sites"]
    el = imp["elements"]
    base = gen._shipped_countries().data
    site_ids_all = sites_t["site_id"].to_numpy(dtype=object)
    site_op = sites_t["operator_id"].to_numpy(dtype=object)
    lat_all = pd.to_numeric(sites_t["lat"], errors="coerce").to_numpy(dtype=np.float64)
    lon_all = pd.to_numeric(sites_t["lon"], errors="coerce").to_numpy(dtype=np.float64)
    el_site = el["site_id"].to_numpy(dtype=object)
    el_gen = el["generation"].to_numpy(dtype=object)
    site_pos = pd.Index(site_ids_all)
    gens_at = {g: np.zeros(len(site_ids_all), dtype=bool) for g in ("4G", "5G")}
    for g, names in (("4G", ["4G"]), ("5G", ["5G-NSA", "5G-SA"])):
        gens_at[g][site_pos.get_indexer(el_site[np.isin(el_gen, names)])] = True
    countries: list[_Country] = []
    site_rows: dict[str, np.ndarray] = {}
    op_country = dict(zip(ops_t["operator_id"].astype(str), ops_t["country"].astype(str)))
    op_name = dict(zip(ops_t["operator_id"].astype(str), ops_t["name"].astype(str)))
    for cc in sorted(set(op_country.values())):
        try:
            places = geo.load_places(cc)
            facts = geo.country_facts(cc)
        except ValidationError:
            skipped = [o for o, c in op_country.items() if c == cc]
            notes.append(f"operators {', '.join(skipped)}: country {cc} unknown, their cells were left out")
            continue
        spec = gen.load_country_spec(cc)
        g = gen._prepare_geo(places)
        op_ids = [o for o in sorted(op_country) if op_country[o] == cc]
        counts = {o: int((site_op == o).sum()) for o in op_ids}
        op_ids = [o for o in op_ids if counts[o] > 0]
        if not op_ids:
            continue
        known_share = {o.operator_id: o.market_share for o in spec.operators}
        total_sites = sum(counts.values())
        raw_share = np.array([known_share.get(o, counts[o] / total_sites) for o in op_ids])
        share = raw_share / raw_share.sum()
        unknown = [o for o in op_ids if o not in known_share]
        if unknown:
            notes.append(f"{cc}: no market share known for {', '.join(unknown)}; their share of the "
                         "cell sites is used")
        ops = []
        c = _Country(cc, g, spec, gen.load_vendor_shares(cc, shares_arg), ops,
                     np.zeros(0, np.int64), np.zeros(0, np.int64))
        for i, (o, s) in enumerate(zip(op_ids, share)):
            rows = np.flatnonzero(site_op == o)
            rows = rows[np.isfinite(lat_all[rows]) & np.isfinite(lon_all[rows])]
            lat, lon = lat_all[rows], lon_all[rows]
            place = geo.nearest_place(places, lat, lon)
            served = _served(g, lat, lon)
            subs = np.round(served * spec.subscriptions_per_person * s).astype(np.int64)
            op_spec = _spec_for(o, op_name.get(o, o), spec, base, float(s))
            op = gen._Operator(op_spec, len(countries) * 16 + i, int(subs.sum()))
            op.cells = gen._Cells(lat, lon, place, g.cls[place].copy(), subs)
            ops.append(op)
            site_rows[o] = site_ids_all[rows]
            c.orders.append(np.argsort(geo.hilbert_index(lat, lon), kind="stable"))
            c.has4g.append(gens_at["4G"][rows])
            c.has5g.append(gens_at["5G"][rows])
        c.cities = gen._exchange_cities(places, spec)
        c.dc_places = geo.spread_cities(places, max(o.spec.data_centres for o in ops),
                                        min_km=max(gen.DC_MIN_KM, gen.DC_SPREAD * float(np.sqrt(max(facts.area_km2, 1.0)))))
        countries.append(c)
    if not countries:
        raise ValidationError("no cells of a known country in the input")
    return countries, site_rows


def _build(imp: dict, countries: list[_Country], site_rows: dict[str, np.ndarray], vendors: list[list[np.ndarray]],
           seed: int, name: str) -> Network:
    """The whole network for one draw's RAN vendors."""
    b = gen._Builder()
    ran = _imported_ran(imp, site_rows)
    hubs, op_rows = [], []
    for c, vs in zip(countries, vendors):
        per_country_ix = []
        for op, v in zip(c.ops, vs):
            op.vendor = v
            h, ix, _notes = gen.operator_network(b, c.geo, op, site_rows[op.spec.operator_id], c.dc_places,
                                                 c.cities, seed, ran=ran)
            hubs.append(h)
            per_country_ix.append(ix)
        gen._interconnect(b, per_country_ix)
        op_rows += [(op, c.code) for op in c.ops]
    tables = b.tables()
    tables["demands"] = gen._demands(hubs, tables["sites"]["site_id"].to_numpy(dtype=object), tables)
    ops_tables = [gen._operators_table([op for op, cc in op_rows if cc == c.code], c.code) for c in countries]
    tables["operators"] = pd.concat(ops_tables, ignore_index=True) if len(ops_tables) > 1 else ops_tables[0]
    # The importer's operator codes are the ones seen in the data; keep them.
    seen = imp["operators"].set_index(imp["operators"]["operator_id"].astype(str))
    for col in ("mcc", "mnc"):
        vals = seen[col].reindex(tables["operators"]["operator_id"].astype(str))
        tables["operators"][col] = pd.array(vals.to_numpy(dtype=object), dtype=tables["operators"][col].dtype)
    # Radios keep the importer's note of how many cells they stand for.
    model = imp["elements"].set_index(imp["elements"]["element_id"].astype(str))["model"]
    got = model.reindex(tables["elements"]["element_id"].astype(str)).to_numpy(dtype=object)
    tables["elements"]["model"] = pd.array(got, dtype=tables["elements"]["model"].dtype)
    return Network(tables, name=name)


def estimate_network(*, opencellid: str | Path | Sequence[str | Path],
                     vendor_shares: str | Path | Mapping | None = None, samples: int = 200, seed: int = 0,
                     name: str = "main") -> Estimate:
    """A network from OpenCelliD cells with vendors drawn from reported shares, ``samples`` times.

    Parameters
    ----------
    opencellid
        OpenCelliD export(s): CSV, gzipped or not, with or without the header row.
    vendor_shares
        Reported Chinese-vendor RAN shares (see :func:`cleanpath.build.generate.load_vendor_shares`);
        default the shipped figures.
    samples
        Number of draws (at least 1).
    seed
        Random seed; the same inputs and seed give the same draws.
    name
        Name of the network.

    Returns
    -------
    Estimate
        The first draw's network, and every figure as median and 90 % interval.

    Raises
    ------
    ValidationError
        Bad cell files or shares file, or no cells of a known country.
    """
    from cleanpath.io.opencellid import import_opencellid

    if not isinstance(samples, (int, np.integer)) or samples < 1:
        raise ValidationError(Problem("samples must be a whole number of at least 1", column="samples", value=samples))
    paths = [opencellid] if isinstance(opencellid, (str, Path)) else list(opencellid)
    imported = import_opencellid(paths)
    imp = {k: v.reset_index(drop=True) for k, v in imported.tables.items()}
    notes = list(imported.warnings)
    countries, site_rows = _prepare(imp, vendor_shares, notes)
    chinese = gen.chinese_vendors()
    rows: list[dict] = []
    first: list[list[np.ndarray]] = []
    for k in range(samples):
        per_country = []
        for c in countries:
            v, _nat = _site_vendors(c, gen._rng(seed, 1000 + k, sum(map(ord, c.code))), chinese, k)
            per_country.append(v)
            rows += _draw_figures(c, v, chinese, k)
        if k == 0:
            first = per_country
    draws = pd.DataFrame(rows)
    long = draws.melt(id_vars=["draw", "country", "operator_id"], value_vars=list(FIGURES), var_name="figure")
    q = long.groupby(["country", "operator_id", "figure"], sort=True)["value"].quantile(list(QUANTILES)).unstack()
    figures = pd.DataFrame({"median": q[0.5], "p05": q[0.05], "p95": q[0.95]}).reset_index()
    for c in countries:
        for g in gen.GENS:
            notes.append(f"{c.code} {g}: {c.shares.national[g].chinese:.0%} Chinese "
                         f"({c.shares.national[g].note})")

    def build(k: int) -> Network:
        vs = [_site_vendors(c, gen._rng(seed, 1000 + k, sum(map(ord, c.code))), chinese, k)[0] for c in countries]
        return _build(imp, countries, site_rows, vs, seed, name)

    net = _build(imp, countries, site_rows, first, seed, name)
    return Estimate(net, figures, draws, notes, int(samples), int(seed), build)


def estimate_summary(est: Estimate) -> Result:
    """The ``estimate`` command's result: the network's size and every figure with its interval."""
    net = est.network
    nat = est.figures[est.figures["operator_id"] == "all"]
    summary: dict[str, Any] = {"sites": int(len(net.sites)),
                               "cell_sites": int((net.sites["kind"] == "cell").sum()),
                               "elements": int(len(net.elements)), "links": int(len(net.links)),
                               "samples": est.samples}
    for r in nat.itertuples():
        summary[f"{r.country}_{r.figure}"] = ("no such sites" if np.isnan(r.median)
                                              else f"{r.median:.1%} [{r.p05:.1%}, {r.p95:.1%}]")
    summary["notes"] = est.notes
    table = est.figures.copy()
    for col in ("median", "p05", "p95"):
        table[col] = table[col].round(4)
    return Result("estimate", net.name, params={"samples": est.samples, "seed": est.seed},
                  summary=summary, tables={"figures": table})


def run_estimate(ws, *, snapshot: str, opencellid: Sequence[str | Path], vendor_shares: str | Path | None = None,
                 samples: int = 200, seed: int = 0, replace: bool = False) -> Result:
    """Estimate a network, store its first draw as ``snapshot`` and return the figures.

    An existing snapshot of that name is refused (before anything is read) unless ``replace``.
    """
    from cleanpath.store.ingest import refuse_existing

    if not replace:
        refuse_existing(ws, snapshot,
                        way_out="pass replace=True (CLI: --replace) to overwrite it, or another snapshot name")
    est = estimate_network(opencellid=opencellid, vendor_shares=vendor_shares, samples=samples, seed=seed,
                           name=snapshot)
    src = "cleanpath estimate " + " ".join(f"--opencellid {p}" for p in opencellid)
    if vendor_shares is not None:
        src += f" --vendor-shares {vendor_shares}"
    ws.write_network(snapshot, est.network, source=f"{src} --samples {samples} --seed {seed}",
                     note="estimated network: draw 1 of the vendor draws")
    return estimate_summary(est)
