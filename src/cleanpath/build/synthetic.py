"""Large, structured, valid test networks, built with numpy in seconds.

:func:`synthetic_network` makes a network of any size (a million elements in a few seconds) in the
interchange schema, for benchmarks and tests that need scale and a known structure. It is not a
plausible national network (that is :mod:`cleanpath.build.generate`'s job): its shape is simple
and fixed so that tests can state facts about it.

The structure, per operator:

* **cell sites** clustered around hubs: one 4G ``ran.baseband``, 3, 6 or 9 4G ``ran.radio`` (three
  sectors, one to three bands), three 5G-NSA radios on about 40 % of sites, a 5G-SA baseband with
  three 5G-SA radios on about 8 %, and one ``transport.router``;
* **hubs** (about 20 cells each): two routers and a microwave hub; **aggregation** sites (about 8
  hubs each): two routers; **core data centres** (1 to 4): two routers and every EPC/5GC function;
  the first one also holds the OSS and one EMS per vendor; **gateway** sites (1 or 2): a border
  router, a firewall, an internet gateway and an interconnect gateway.

The links:

* ``transport``: a tree radio -> baseband -> cell router -> hub (router or microwave) -> aggregation
  -> core data centre -> gateway, with dual homing of hubs and aggregation sites, a ring between
  core data centres, and redundant links (hub rings, dual-homed cells, cell-to-cell microwave) added
  until the network has ``links_per_element`` links per element;
* ``control``: each 4G baseband is homed on its data centre's MME, each 5G-SA baseband on its AMF,
  and the core functions on one another (SGW on MME, UPF on SMF...);
* ``management``: every baseband, router, microwave unit, core function and gateway element is
  managed by its own vendor's EMS, and each EMS by the OSS. Radios have no management link of their
  own: like real RRUs and AAUs they are managed through their baseband (over the transport link);
* ``anchor``: every 5G-NSA radio depends on its site's 4G baseband.

Vendors come in contiguous blocks: one RAN, transport and microwave vendor per region of up to
four neighbouring aggregation areas (a regional contract; areas are ordered by longitude) and one
core vendor per data centre, from the operator's pool of a primary, a secondary and a minority
vendor (the first region gets the primary, the second the secondary, the rest are drawn). The
pools mix Huawei and ZTE with Ericsson, Nokia, Samsung, Cisco, Juniper and others.

Sites lie in Germany's bounding box and operators are in country ``DE``, so that the shared US
installation data (Ramstein, Grafenwoehr, ...) falls among the synthetic sites and exposure and
audit questions have non-trivial answers. Operators are named ``Synthetic 1``, ``Synthetic 2``...
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cleanpath.model.schema import GENERATIONS, LINK_KINDS, ROLES, TABLES
from cleanpath.model.validate import arrow_frame

#: (lat_min, lat_max, lon_min, lon_max) of the sites: Germany's extent.
BOX = (47.3, 55.0, 5.9, 15.0)
COUNTRY = "DE"
_KM_PER_DEG = 111.2

#: Every vendor the generator uses; elements carry codes into this tuple until the end.
VENDOR_IDS = ("huawei", "zte", "ericsson", "nokia", "samsung", "nec", "ceragon", "cisco", "juniper",
              "fortinet", "palo_alto", "amdocs", "oracle")
_V = {v: i for i, v in enumerate(VENDOR_IDS)}

# Vendor pools per equipment family: each operator gets one pool (primary, secondary, minority
# vendor), so every network mixes untrusted and trusted vendors the way European operators did
# around 2020 (Huawei primary or secondary in RAN and transport, ZTE as a minority vendor).
_POOLS = {
    "ran": (("huawei", "ericsson", "zte"), ("ericsson", "nokia", "huawei"),
            ("nokia", "huawei", "samsung"), ("huawei", "nokia", "zte")),
    "transport": (("huawei", "cisco", "zte"), ("cisco", "juniper", "nokia"),
                  ("nokia", "huawei", "ericsson"), ("juniper", "huawei", "cisco")),
    "microwave": (("ericsson", "huawei", "nec"), ("huawei", "nokia", "zte"),
                  ("nec", "ericsson", "ceragon"), ("huawei", "ericsson", "ceragon")),
    "core": (("ericsson", "huawei", "nokia"), ("nokia", "zte", "ericsson"),
             ("huawei", "samsung", "nokia"), ("ericsson", "nokia", "huawei")),
    "backbone": (("cisco",), ("juniper",), ("nokia",), ("huawei",)),
    "firewall": (("fortinet",), ("palo_alto",), ("huawei",), ("fortinet",)),
    "oss": (("amdocs",), ("oracle",), ("ericsson",), ("nokia",)),
}
#: Chance that a vendor region (or data centre) gets the primary, secondary or minority vendor.
_POOL_WEIGHTS = (0.5, 0.35, 0.15)
#: Consecutive aggregation areas that share one vendor (a regional contract), at most.
_AGGS_PER_REGION = 4

# Cell-site mix.
_RADIOS_4G = (3, 6, 9)
_RADIOS_4G_P = (0.2, 0.5, 0.3)
_P_NSA = 0.40
_P_SA = 0.08
_SECTORS = 3
#: Expected elements per cell site, used to size the backbone before the cells are drawn.
_MEAN_SITE = 2 + float(np.dot(_RADIOS_4G, _RADIOS_4G_P)) + _SECTORS * _P_NSA + (1 + _SECTORS) * _P_SA
_MIN_SITE = 2 + min(_RADIOS_4G)
_CELLS_PER_HUB = 20
_HUBS_PER_AGG = 8
_AGGS_PER_DC = 10
_MAX_DC = 4
_P_MICROWAVE = 0.35

_CORE_FNS = ("core.mme", "core.sgw", "core.pgw", "core.hss", "core.pcrf", "core.amf", "core.smf",
             "core.upf", "core.ausf", "core.udm", "core.pcf", "core.nrf", "core.nssf", "core.ims")
_CORE_GEN = {"core.mme": "4G", "core.sgw": "4G", "core.pgw": "4G", "core.hss": "4G",
             "core.pcrf": "4G", "core.ims": "none"}  # the rest are 5G core functions
#: Control-plane homing inside a data centre: (dependent, function it is homed on).
_CORE_CONTROL = (("core.sgw", "core.mme"), ("core.mme", "core.hss"), ("core.pgw", "core.pcrf"),
                 ("core.upf", "core.smf"), ("core.smf", "core.pcf"), ("core.smf", "core.nrf"),
                 ("core.amf", "core.ausf"), ("core.ausf", "core.udm"), ("core.amf", "core.nssf"),
                 ("core.ims", "core.hss"))
_GATEWAY_ROLES = ("transport.router", "security.firewall", "gateway.internet", "gateway.interconnect")

#: Replacement cost per role (USD); each element varies around it.
_UNIT_COST = {"ran.radio": 18_000, "ran.baseband": 30_000, "transport.router": 12_000,
              "transport.microwave": 25_000, "mgmt.ems": 400_000, "mgmt.oss": 2_000_000,
              "security.firewall": 250_000, "gateway.internet": 600_000,
              "gateway.interconnect": 450_000, **{r: 1_500_000 for r in _CORE_FNS}}
_BACKBONE_ROUTER_COST = {"hub": 60_000, "aggregation": 180_000, "core_dc": 500_000, "gateway": 500_000}

_ROLE = {r: i for i, r in enumerate(ROLES)}
_GEN = {g: i for i, g in enumerate(GENERATIONS)}
_KIND = {k: i for i, k in enumerate(LINK_KINDS)}
_SITE_KINDS = ("cell", "hub", "aggregation", "core_dc", "gateway")


# --- planning -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Plan:
    """Per-operator sizes and vendor pools (arrays indexed by operator)."""

    share: np.ndarray
    hubs: np.ndarray
    aggs: np.ndarray
    dcs: np.ndarray
    gws: np.ndarray
    ran: np.ndarray        # (ops, 3) vendor codes: primary, secondary, minority
    transport: np.ndarray  # (ops, 3)
    microwave: np.ndarray  # (ops, 3)
    core: np.ndarray       # (ops, 3)
    backbone: np.ndarray   # (ops,)
    firewall: np.ndarray   # (ops,)
    oss: np.ndarray        # (ops,)
    agg_vendor: dict[str, np.ndarray]  # per aggregation area: ran, transport, microwave vendor
    dc_core: np.ndarray    # per data centre: core vendor
    ems: list[np.ndarray]  # per operator, the vendors in use, each of which gets an EMS

    @property
    def n_ops(self) -> int:
        return len(self.share)

    def backbone_elements(self) -> np.ndarray:
        """Elements outside cell sites, per operator."""
        ems = np.array([len(e) for e in self.ems])
        return 3 * self.hubs + 2 * self.aggs + (2 + len(_CORE_FNS)) * self.dcs + 1 + ems + 4 * self.gws


def _pool(rng: np.random.Generator, family: str, ops: int) -> np.ndarray:
    """Each operator's vendor pool of a family, as vendor codes (ops x pool size).

    Pools are dealt out in a seeded order, so operators differ and, with up to four operators,
    no two share a pool.
    """
    pools = _POOLS[family]
    order = rng.permutation(len(pools))
    return np.array([[_V[v] for v in pools[order[o % len(pools)]]] for o in range(ops)], dtype=np.int16)


def _plan(elements: int, ops: int, rng: np.random.Generator) -> _Plan:
    share = rng.dirichlet(np.full(ops, 6.0))
    cells = np.maximum(1.0, share * elements / _MEAN_SITE)
    hubs = np.maximum(1, np.round(cells / _CELLS_PER_HUB)).astype(np.int64)
    aggs = np.ceil(hubs / _HUBS_PER_AGG).astype(np.int64)
    # Two data centres as soon as there are two aggregation areas: operators keep a geo-redundant core.
    dcs = np.clip(np.ceil(aggs / _AGGS_PER_DC), np.minimum(2, aggs), _MAX_DC).astype(np.int64)
    gws = np.minimum(2, dcs)
    ran, transport = _pool(rng, "ran", ops), _pool(rng, "transport", ops)
    microwave, core = _pool(rng, "microwave", ops), _pool(rng, "core", ops)
    backbone, firewall = _pool(rng, "backbone", ops)[:, 0], _pool(rng, "firewall", ops)[:, 0]
    oss = _pool(rng, "oss", ops)[:, 0]
    # Vendor blocks: one RAN, transport and microwave vendor per region of neighbouring
    # aggregation areas, one core vendor per data centre. Drawn here, before any element exists,
    # so that only vendors actually in use get an EMS and the element count stays exact.
    agg_op, dc_op = np.repeat(np.arange(ops), aggs), np.repeat(np.arange(ops), dcs)
    # Up to four areas per region, fewer in small networks so that they still mix vendors.
    region = _regions(agg_op, np.clip(aggs // 8, 1, _AGGS_PER_REGION))
    agg_vendor = {family: _pick(rng, pool, agg_op, region)
                  for family, pool in (("ran", ran), ("transport", transport), ("microwave", microwave))}
    dc_core = _pick(rng, core, dc_op, np.arange(len(dc_op)))
    ems = [np.unique(np.concatenate([*(v[agg_op == o] for v in agg_vendor.values()), dc_core[dc_op == o],
                                     [backbone[o], firewall[o]]])) for o in range(ops)]
    return _Plan(share, hubs, aggs, dcs, gws, ran, transport, microwave, core, backbone, firewall,
                 oss, agg_vendor, dc_core, ems)


@dataclass(frozen=True)
class _Cells:
    """The drawn cell sites (arrays indexed by cell site, operator-contiguous)."""

    op: np.ndarray
    radios_4g: np.ndarray
    nsa: np.ndarray
    sa: np.ndarray

    @property
    def size(self) -> np.ndarray:
        return 2 + self.radios_4g + self.nsa + (1 + _SECTORS) * self.sa


def _draw_cells(budget: int, share: np.ndarray, rng: np.random.Generator) -> _Cells:
    """Cell sites holding exactly ``budget`` elements, split among operators by ``share``."""
    k = budget // _MIN_SITE + 1  # enough sites even if every one is the smallest kind
    r4 = rng.choice(np.array(_RADIOS_4G), size=k, p=_RADIOS_4G_P).astype(np.int64)
    nsa = _SECTORS * (rng.random(k) < _P_NSA).astype(np.int64)
    sa = (rng.random(k) < _P_SA).astype(np.int64)
    size = 2 + r4 + nsa + (1 + _SECTORS) * sa
    cum = np.cumsum(size)
    last = int(np.searchsorted(cum, budget))  # first site reaching the budget
    rest = budget - (int(cum[last - 1]) if last else 0)
    r4, nsa, sa = r4[: last + 1].copy(), nsa[: last + 1].copy(), sa[: last + 1].copy()
    if rest >= 3:
        # The last site keeps its baseband and router and as many 4G radios as fit.
        r4[last], nsa[last], sa[last] = rest - 2, 0, 0
    else:
        # Too little left for a site of its own: the previous site gets extra 4G radios.
        r4, nsa, sa = r4[:last], nsa[:last], sa[:last]
        r4[-1] += rest
    size = 2 + r4 + nsa + (1 + _SECTORS) * sa
    start = np.cumsum(size) - size
    bounds = np.cumsum(share)[:-1] * budget
    op = np.searchsorted(bounds, start, side="right").astype(np.int64)
    return _Cells(op, r4, nsa, sa)


# --- sites --------------------------------------------------------------------------------------

@dataclass
class _Sites:
    """Site attributes, one array per column, cells first then hubs, aggs, DCs, gateways."""

    kind: list[np.ndarray] = field(default_factory=list)
    op: list[np.ndarray] = field(default_factory=list)
    local: list[np.ndarray] = field(default_factory=list)
    lat: list[np.ndarray] = field(default_factory=list)
    lon: list[np.ndarray] = field(default_factory=list)
    subscribers: list[np.ndarray] = field(default_factory=list)
    n: int = 0

    def add(self, kind: str, op: np.ndarray, lat: np.ndarray, lon: np.ndarray,
            subscribers: np.ndarray | None = None) -> np.ndarray:
        """Append sites; returns their global positions."""
        m = len(op)
        self.kind.append(np.full(m, _SITE_KINDS.index(kind), dtype=np.int8))
        self.op.append(op)
        self.local.append(_local_index(op))
        self.lat.append(np.clip(lat, BOX[0], BOX[1]))
        self.lon.append(np.clip(lon, BOX[2], BOX[3]))
        self.subscribers.append(np.full(m, -1, dtype=np.int64) if subscribers is None else subscribers)
        pos = np.arange(self.n, self.n + m)
        self.n += m
        return pos


def _local_index(group: np.ndarray) -> np.ndarray:
    """0-based position of each row within its group (groups contiguous and ascending)."""
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    counts = np.bincount(group)
    first = np.cumsum(counts) - counts
    return np.arange(len(group)) - first[group]


def _near(rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, km: float
          ) -> tuple[np.ndarray, np.ndarray]:
    """Points scattered around (lat, lon) with a standard deviation of ``km`` in each direction."""
    dlat = rng.normal(0.0, km, len(lat)) / _KM_PER_DEG
    dlon = rng.normal(0.0, km, len(lat)) / (_KM_PER_DEG * np.cos(np.radians(lat)))
    return lat + dlat, lon + dlon


def _parent(child_local: np.ndarray, child_op: np.ndarray, n_child: np.ndarray,
            n_parent: np.ndarray, parent_first: np.ndarray) -> np.ndarray:
    """Global index of each child's parent when an operator's children are split into
    ``n_parent`` contiguous, nearly equal blocks."""
    return parent_first[child_op] + child_local * n_parent[child_op] // np.maximum(n_child[child_op], 1)


def _regions(op: np.ndarray, per_region: np.ndarray) -> np.ndarray:
    """Global region number of each entry: runs of ``per_region[op]`` entries within an operator."""
    local = _local_index(op) // per_region[op]
    # A new region starts wherever the operator or the run changes (rows are grouped by operator).
    change = np.ones(len(op), dtype=bool)
    change[1:] = (op[1:] != op[:-1]) | (local[1:] != local[:-1])
    return np.cumsum(change) - 1


def _first(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(counts) - counts


# --- elements and links -------------------------------------------------------------------------

@dataclass
class _Elements:
    """Element attributes as code arrays; positions are assigned in the order of :meth:`add`."""

    site: list[np.ndarray] = field(default_factory=list)
    role: list[np.ndarray] = field(default_factory=list)
    gen: list[np.ndarray] = field(default_factory=list)
    vendor: list[np.ndarray] = field(default_factory=list)
    suffix: list[pa.Array] = field(default_factory=list)
    n: int = 0

    def add(self, site: np.ndarray, role: np.ndarray | str, gen: np.ndarray | str,
            vendor: np.ndarray, suffix: pa.Array | str) -> np.ndarray:
        """Append elements; returns their positions."""
        m = len(site)
        self.site.append(np.asarray(site, dtype=np.int64))
        self.role.append(np.full(m, _ROLE[role], np.int16) if isinstance(role, str) else role)
        self.gen.append(np.full(m, _GEN[gen], np.int8) if isinstance(gen, str) else gen)
        self.vendor.append(np.broadcast_to(np.asarray(vendor, dtype=np.int16), (m,)))
        self.suffix.append(pa.array(np.full(m, suffix, dtype=object), pa.string())
                           if isinstance(suffix, str) else suffix)
        pos = np.arange(self.n, self.n + m)
        self.n += m
        return pos

    def cat(self, name: str) -> np.ndarray:
        return np.concatenate(getattr(self, name))


@dataclass
class _Links:
    a: list[np.ndarray] = field(default_factory=list)
    b: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)
    capacity: list[np.ndarray] = field(default_factory=list)

    def add(self, a: np.ndarray, b: np.ndarray, kind: str, capacity: float | np.ndarray = np.nan) -> None:
        a, b = np.broadcast_arrays(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64))
        self.a.append(a.ravel())
        self.b.append(b.ravel())
        self.kind.append(np.full(a.size, _KIND[kind], np.int8))
        self.capacity.append(np.broadcast_to(np.asarray(capacity, dtype=np.float64), a.shape).ravel())

    @property
    def n(self) -> int:
        return int(sum(len(x) for x in self.a))


def _pick(rng: np.random.Generator, pool: np.ndarray, op: np.ndarray, region: np.ndarray) -> np.ndarray:
    """A vendor of the operator's pool per region, repeated for each entry of the region.

    ``op`` and ``region`` are per entry; entries of one region are contiguous and share an
    operator. An operator's first region gets its primary vendor and its second region its
    secondary one, so every operator with two regions mixes vendors; later regions are drawn.
    """
    n_regions = int(region.max()) + 1 if len(region) else 0
    choice = rng.choice(len(_POOL_WEIGHTS), size=n_regions, p=_POOL_WEIGHTS)
    first_of_region = np.flatnonzero(np.diff(region, prepend=-1) != 0)
    nth = _local_index(op[first_of_region])  # the region's rank within its operator
    choice[nth < 2] = nth[nth < 2]
    return pool[op, choice[region]]


def _lognormal_cost(rng: np.random.Generator, base: np.ndarray) -> np.ndarray:
    return np.round(base * rng.lognormal(0.0, 0.15, len(base)), -1)


def _dates(rng: np.random.Generator, first_year: np.ndarray, last_year: np.ndarray) -> np.ndarray:
    """Uniform dates between 1 January of ``first_year`` and 31 December of ``last_year``."""
    lo = (np.asarray(first_year) - 1970) * 365.2425
    hi = (np.asarray(last_year) + 1 - 1970) * 365.2425 - 1
    days = np.floor(lo + rng.random(len(lo)) * (hi - lo)).astype(np.int64)
    return days.astype("datetime64[D]")


# --- the generator ------------------------------------------------------------------------------

def synthetic_network(*, elements: int = 1_000_000, links_per_element: float = 1.5, seed: int = 0,
                      operators: int = 3) -> dict[str, pd.DataFrame]:
    """A large, structured, valid network in the interchange schema.

    Parameters
    ----------
    elements
        Exact number of elements (rows of ``elements``); at least 300 per operator.
    links_per_element
        Links per element wanted. The structure itself needs about 1.45 (every element's
        transport uplink, the anchor, control and management links; more in small networks,
        where the core data centres weigh more); redundant transport links make up the rest.
        When the structure alone needs more than asked for, no redundant link is added.
    seed
        Seed of the random generator; the same arguments give the same tables, row for row.
    operators
        Number of operators (1 to 99).

    Returns
    -------
    dict of str to DataFrame
        ``operators``, ``sites``, ``elements`` and ``links``, each with exactly the schema's
        columns and Arrow dtypes; :func:`cleanpath.validate_tables` accepts them unchanged.

    Raises
    ------
    ValueError
        For too few elements or operators, or more links per element than a network this
        small can hold.

    Examples
    --------
    >>> t = synthetic_network(elements=5_000, seed=1)
    >>> len(t["elements"])
    5000
    """
    if not 1 <= operators <= 99:
        raise ValueError(f"operators must be between 1 and 99, got {operators}")
    if elements < 300 * operators:
        raise ValueError(f"elements must be at least {300 * operators} for {operators} operator(s), "
                         f"got {elements}")
    rng = np.random.default_rng(seed)
    plan = _plan(elements, operators, rng)
    budget = elements - int(plan.backbone_elements().sum())
    cells = _draw_cells(budget, plan.share, rng)
    sites, where = _build_sites(plan, cells, rng)
    el, pos = _build_elements(plan, cells, where)
    links = _build_links(plan, cells, where, el, pos, rng)
    wanted = int(round(links_per_element * elements))
    _add_redundancy(links, wanted - links.n, cells, where, pos, rng)
    return _tables(plan, cells, sites, el, links, rng)


def _build_sites(plan: _Plan, cells: _Cells, rng: np.random.Generator) -> tuple[_Sites, dict]:
    """Place aggregation areas, hubs, cells, data centres and gateways; wire the hierarchy."""
    ops = np.arange(plan.n_ops)
    n_cells = np.bincount(cells.op, minlength=plan.n_ops)
    agg_op = np.repeat(ops, plan.aggs)
    hub_op = np.repeat(ops, plan.hubs)
    dc_op = np.repeat(ops, plan.dcs)
    gw_op = np.repeat(ops, plan.gws)
    agg_first, hub_first, dc_first = _first(plan.aggs), _first(plan.hubs), _first(plan.dcs)

    # Aggregation areas spread over the box; sorted by longitude within an operator so that
    # consecutive areas (and thus vendor blocks and data-centre regions) are neighbours.
    margin = 0.3
    agg_lat = rng.uniform(BOX[0] + margin, BOX[1] - margin, len(agg_op))
    agg_lon = rng.uniform(BOX[2] + margin, BOX[3] - margin, len(agg_op))
    order = np.lexsort((agg_lon, agg_op))
    agg_lat, agg_lon = agg_lat[order], agg_lon[order]

    hub_agg = _parent(_local_index(hub_op), hub_op, plan.hubs, plan.aggs, agg_first)
    hub_lat, hub_lon = _near(rng, agg_lat[hub_agg], agg_lon[hub_agg], 20.0)
    cell_hub = _parent(_local_index(cells.op), cells.op, n_cells, plan.hubs, hub_first)
    cell_lat, cell_lon = _near(rng, hub_lat[cell_hub], hub_lon[cell_hub], 4.0)
    agg_dc = _parent(_local_index(agg_op), agg_op, plan.aggs, plan.dcs, dc_first)
    # Each data centre sits at the middle aggregation site of its block.
    dc_local = _local_index(dc_op)
    mid = agg_first[dc_op] + ((2 * dc_local + 1) * plan.aggs[dc_op]) // (2 * plan.dcs[dc_op])
    dc_lat, dc_lon = _near(rng, agg_lat[mid], agg_lon[mid], 2.0)
    gw_dc = dc_first[gw_op] + _local_index(gw_op)
    gw_lat, gw_lon = _near(rng, dc_lat[gw_dc], dc_lon[gw_dc], 1.0)

    subscribers = np.round(rng.lognormal(np.log(1200.0), 0.6, len(cells.op))).astype(np.int64)
    s = _Sites()
    cell_site = s.add("cell", cells.op, cell_lat, cell_lon, subscribers)
    hub_site = s.add("hub", hub_op, hub_lat, hub_lon)
    agg_site = s.add("aggregation", agg_op, agg_lat, agg_lon)
    dc_site = s.add("core_dc", dc_op, dc_lat, dc_lon)
    gw_site = s.add("gateway", gw_op, gw_lat, gw_lon)
    where = dict(cell_site=cell_site, hub_site=hub_site, agg_site=agg_site, dc_site=dc_site,
                 gw_site=gw_site, cell_hub=cell_hub, hub_agg=hub_agg, agg_dc=agg_dc, gw_dc=gw_dc,
                 hub_op=hub_op, agg_op=agg_op, dc_op=dc_op, gw_op=gw_op, dc_first=dc_first)
    where["cell_dc"] = agg_dc[hub_agg[cell_hub]]
    where["agg_ran"] = plan.agg_vendor["ran"]
    where["agg_transport"] = plan.agg_vendor["transport"]
    where["agg_microwave"] = plan.agg_vendor["microwave"]
    where["dc_core"] = plan.dc_core
    return s, where


# Kinds of element at a cell site, in their order within the site.
_CELL_TYPES = ("bb", "rt", "ru4", "ru5n", "bb5", "ru5s")
_CELL_ROLE = np.array([_ROLE[r] for r in ("ran.baseband", "transport.router", "ran.radio", "ran.radio",
                                           "ran.baseband", "ran.radio")], dtype=np.int16)
_CELL_GEN = np.array([_GEN[g] for g in ("4G", "none", "4G", "5G-NSA", "5G-SA", "5G-SA")], dtype=np.int8)


def _build_elements(plan: _Plan, cells: _Cells, where: dict) -> tuple[_Elements, dict]:
    """Create every element; returns them and the positions the links need."""
    el = _Elements()
    pos: dict[str, np.ndarray] = {}

    # Cell sites: baseband, router, 4G radios, 5G-NSA radios, then the 5G-SA baseband and radios.
    size = cells.size
    site_of = np.repeat(np.arange(len(size)), size)
    local = np.arange(int(size.sum())) - (np.cumsum(size) - size)[site_of]
    t1 = 2 + cells.radios_4g
    t2 = t1 + cells.nsa
    t3 = t2 + cells.sa
    ctype = ((local >= 1).astype(np.int8) + (local >= 2) + (local >= t1[site_of])
             + (local >= t2[site_of]) + (local >= t3[site_of])).astype(np.int8)
    type_start = np.stack([np.zeros_like(t1), np.ones_like(t1), np.full_like(t1, 2), t1, t2, t3], axis=1)
    ordinal = local - type_start[site_of, ctype] + 1
    prefix = pa.array(_CELL_TYPES).take(pa.array(ctype))
    numbered = pc.binary_join_element_wise(prefix, pc.cast(pa.array(ordinal), pa.string()), "-")
    is_radio = pa.array((ctype == 2) | (ctype == 3) | (ctype == 5))
    suffix = pc.if_else(is_radio, numbered, prefix)
    agg_of_cell = where["hub_agg"][where["cell_hub"]]
    vendor = np.where(ctype == 1, where["agg_transport"][agg_of_cell[site_of]],
                      where["agg_ran"][agg_of_cell[site_of]]).astype(np.int16)
    cell_pos = el.add(where["cell_site"][site_of], _CELL_ROLE[ctype], _CELL_GEN[ctype], vendor, suffix)
    first = cell_pos[0] + np.cumsum(size) - size
    pos.update(cell_type=ctype, cell_site_of=site_of, cell_elem=cell_pos, cell_bb=first,
               cell_rt=first + 1, cell_bb5=np.where(cells.sa > 0, first + t3 - 1, -1))

    # Hubs: two routers and a microwave hub; aggregation sites: two routers.
    hub_agg = where["hub_agg"]
    hv = where["agg_transport"][hub_agg]
    pos["hub_rt0"] = el.add(where["hub_site"], "transport.router", "none", hv, "rt0")
    pos["hub_rt1"] = el.add(where["hub_site"], "transport.router", "none", hv, "rt1")
    pos["hub_mw"] = el.add(where["hub_site"], "transport.microwave", "none",
                           where["agg_microwave"][hub_agg], "mw")
    av = plan.backbone[where["agg_op"]]
    pos["agg_rt0"] = el.add(where["agg_site"], "transport.router", "none", av, "rt0")
    pos["agg_rt1"] = el.add(where["agg_site"], "transport.router", "none", av, "rt1")

    # Core data centres: two routers and every core function.
    dv = plan.backbone[where["dc_op"]]
    pos["dc_rt0"] = el.add(where["dc_site"], "transport.router", "none", dv, "rt0")
    pos["dc_rt1"] = el.add(where["dc_site"], "transport.router", "none", dv, "rt1")
    pos["core"] = np.stack([el.add(where["dc_site"], fn, _CORE_GEN.get(fn, "5G-SA"), where["dc_core"],
                                   fn.split(".")[1]) for fn in _CORE_FNS], axis=1)

    # Management: the OSS and one EMS per vendor, in each operator's first data centre.
    first_dc = where["dc_site"][where["dc_first"]]
    pos["oss"] = el.add(first_dc, "mgmt.oss", "none", plan.oss, "oss")
    ems_op = np.concatenate([np.full(len(e), o) for o, e in enumerate(plan.ems)])
    ems_vendor = np.concatenate(plan.ems).astype(np.int16)
    ems_suffix = pc.binary_join_element_wise("ems-", pa.array(VENDOR_IDS).take(pa.array(ems_vendor)), "")
    ems_pos = el.add(first_dc[ems_op], "mgmt.ems", "none", ems_vendor, ems_suffix)
    pos["ems"] = np.full((plan.n_ops, len(VENDOR_IDS)), -1, dtype=np.int64)
    pos["ems"][ems_op, ems_vendor] = ems_pos
    pos["ems_op"] = ems_op

    # Gateways: border router, firewall, internet and interconnect gateways.
    gv = plan.backbone[where["gw_op"]]
    pos["gw"] = np.stack([
        el.add(where["gw_site"], role, "none",
               plan.firewall[where["gw_op"]] if role == "security.firewall" else gv,
               {"transport.router": "rt", "security.firewall": "fw", "gateway.internet": "inet",
                "gateway.interconnect": "ix"}[role])
        for role in _GATEWAY_ROLES], axis=1)
    return el, pos


def _build_links(plan: _Plan, cells: _Cells, where: dict, el: _Elements, pos: dict,
                 rng: np.random.Generator) -> _Links:
    """Every link the structure needs (no redundancy yet)."""
    L = _Links()
    ct, site_of, elem = pos["cell_type"], pos["cell_site_of"], pos["cell_elem"]
    bb, rt, bb5 = pos["cell_bb"][site_of], pos["cell_rt"][site_of], pos["cell_bb5"][site_of]

    # Transport inside cell sites: radios to their baseband, basebands to the site router.
    radio4 = (ct == 2) | (ct == 3)
    L.add(elem[radio4], bb[radio4], "transport", np.where(ct[radio4] == 3, 25.0, 10.0))
    L.add(elem[ct == 5], bb5[ct == 5], "transport", 25.0)
    basebands = (ct == 0) | (ct == 4)
    L.add(elem[basebands], rt[basebands], "transport", 10.0)
    # Cell router uplinks: microwave to the hub's microwave unit, fibre to one of its routers.
    hub = where["cell_hub"]
    n_cells = len(hub)
    microwave = rng.random(n_cells) < _P_MICROWAVE
    fibre_to = np.where(np.arange(n_cells) % 2 == 0, pos["hub_rt0"][hub], pos["hub_rt1"][hub])
    L.add(pos["cell_rt"], np.where(microwave, pos["hub_mw"][hub], fibre_to), "transport",
          np.where(microwave, 1.0, 10.0))
    where["cell_microwave"] = microwave  # the redundancy step dual-homes cells by their uplink
    # Hubs: internal links and dual homing to their aggregation site.
    agg = where["hub_agg"]
    L.add(pos["hub_rt0"], pos["hub_rt1"], "transport", 100.0)
    L.add(pos["hub_mw"], pos["hub_rt0"], "transport", 10.0)
    L.add(pos["hub_rt0"], pos["agg_rt0"][agg], "transport", 100.0)
    L.add(pos["hub_rt1"], pos["agg_rt1"][agg], "transport", 100.0)
    # Aggregation sites: dual homing to their data centre and the next one.
    dc, dc_op, dc_first = where["agg_dc"], where["dc_op"], where["dc_first"]
    dc_next = dc_first[dc_op] + (_local_index(dc_op) + 1) % plan.dcs[dc_op]
    L.add(pos["agg_rt0"], pos["agg_rt1"], "transport", 400.0)
    L.add(pos["agg_rt0"], pos["dc_rt0"][dc], "transport", 400.0)
    L.add(pos["agg_rt1"], pos["dc_rt1"][dc_next[dc]], "transport", 400.0)
    # Data centres: internal links, every function on one of the two routers, a ring between
    # the data centres of an operator (a single link when there are two).
    L.add(pos["dc_rt0"], pos["dc_rt1"], "transport", 400.0)
    core = pos["core"]
    on_rt0 = np.arange(core.shape[1]) % 2 == 0
    L.add(core, np.where(on_rt0, pos["dc_rt0"][:, None], pos["dc_rt1"][:, None]), "transport", 100.0)
    ring = (plan.dcs[dc_op] > 2) | ((plan.dcs[dc_op] == 2) & (_local_index(dc_op) == 0))
    L.add(pos["dc_rt0"][ring], pos["dc_rt0"][dc_next[ring]], "transport", 400.0)
    first_dc = dc_first
    L.add(pos["oss"], pos["dc_rt0"][first_dc], "transport", 10.0)
    L.add(pos["ems"][pos["ems_op"], np.concatenate(plan.ems)], pos["dc_rt1"][first_dc[pos["ems_op"]]],
          "transport", 10.0)
    # Gateways: border router dual-homed to its data centre and the next; firewall in front of
    # the internet gateway.
    gw, gw_dc = pos["gw"], where["gw_dc"]
    L.add(gw[:, 0], pos["dc_rt0"][gw_dc], "transport", 400.0)
    L.add(gw[:, 0], pos["dc_rt1"][dc_next[gw_dc]], "transport", 400.0)
    L.add(gw[:, 1], gw[:, 0], "transport", 400.0)
    L.add(gw[:, 2], gw[:, 1], "transport", 400.0)
    L.add(gw[:, 3], gw[:, 0], "transport", 400.0)

    # Anchor: every 5G-NSA radio depends on its site's 4G baseband.
    L.add(elem[ct == 3], bb[ct == 3], "anchor")
    # Control: basebands homed on their data centre's MME (4G) or AMF (5G-SA); core functions
    # on one another.
    fn = {f: i for i, f in enumerate(_CORE_FNS)}
    cell_dc = where["cell_dc"]
    L.add(pos["cell_bb"], core[cell_dc, fn["core.mme"]], "control")
    sa_sites = np.flatnonzero(cells.sa > 0)
    L.add(pos["cell_bb5"][sa_sites], core[cell_dc[sa_sites], fn["core.amf"]], "control")
    for a, b in _CORE_CONTROL:
        L.add(core[:, fn[a]], core[:, fn[b]], "control")
    # Management: every managed element to its own vendor's EMS at its operator; EMS to the OSS.
    site_op = np.concatenate([cells.op, where["hub_op"], where["agg_op"], where["dc_op"], where["gw_op"]])
    e_site, e_role, e_vendor = el.cat("site"), el.cat("role"), el.cat("vendor")
    managed = ~np.isin(e_role, [_ROLE["ran.radio"], _ROLE["mgmt.ems"], _ROLE["mgmt.oss"]])
    m = np.flatnonzero(managed)
    target = pos["ems"][site_op[e_site[m]], e_vendor[m]]
    assert (target >= 0).all(), "every managed vendor has an EMS"
    L.add(m, target, "management")
    ems = pos["ems"][pos["ems_op"], np.concatenate(plan.ems)]
    L.add(ems, pos["oss"][pos["ems_op"]], "management")
    return L


def _add_redundancy(L: _Links, extra: int, cells: _Cells, where: dict, pos: dict,
                    rng: np.random.Generator) -> None:
    """Add ``extra`` redundant transport links: hub rings, then dual-homed cells, then
    cell-to-cell links within a hub area."""
    if extra <= 0:
        return
    hub_agg = where["hub_agg"]
    same = np.flatnonzero(hub_agg[1:] == hub_agg[:-1])  # consecutive hubs of one aggregation area
    take = same[:extra]
    L.add(pos["hub_rt1"][take], pos["hub_rt0"][take + 1], "transport", 100.0)
    extra -= len(take)
    if extra <= 0:
        return
    hub = where["cell_hub"]
    n_cells = len(hub)
    chosen = rng.permutation(n_cells)[:extra]
    chosen.sort()
    fibre_used_rt0 = (chosen % 2 == 0) & ~where["cell_microwave"][chosen]
    L.add(pos["cell_rt"][chosen],
          np.where(fibre_used_rt0, pos["hub_rt1"][hub[chosen]], pos["hub_rt0"][hub[chosen]]),
          "transport", 10.0)
    extra -= len(chosen)
    if extra <= 0:
        return
    # Cells of one hub are contiguous; pair a random cell with another cell of its hub.
    count = np.bincount(hub, minlength=len(hub_agg))
    start = _first(count)
    eligible = np.flatnonzero(count[hub] >= 2)
    if len(eligible) == 0:
        raise ValueError("links_per_element is too high for so small a network")
    i = np.sort(rng.choice(eligible, size=extra))
    h = hub[i]
    j = start[h] + (i - start[h] + rng.integers(1, count[h])) % count[h]
    L.add(pos["cell_rt"][i], pos["cell_rt"][j], "transport", 1.0)


# --- tables -------------------------------------------------------------------------------------

def _ids(prefix: pa.Array, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _tables(plan: _Plan, cells: _Cells, s: _Sites, el: _Elements, L: _Links,
            rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    op_ids = pa.array([f"syn{o + 1}" for o in range(plan.n_ops)])
    kind = np.concatenate(s.kind)
    sop = np.concatenate(s.op)
    local = np.concatenate(s.local)
    letters = np.array(["c", "h", "a", "dc", "gw"], dtype=object)
    width = max(1, len(str(int(local.max()) + 1)))
    prefix = pc.binary_join_element_wise(op_ids.take(pa.array(sop)),
                                         pa.array(letters[kind], pa.string()), "-")
    site_ids = _ids(prefix, local + 1, width)
    lat, lon = np.concatenate(s.lat), np.concatenate(s.lon)
    subs = np.concatenate(s.subscribers)
    # Regions: a 4 x 4 grid over the box.
    row = np.minimum(3, ((lat - BOX[0]) / (BOX[1] - BOX[0]) * 4).astype(np.int64))
    col = np.minimum(3, ((lon - BOX[2]) / (BOX[3] - BOX[2]) * 4).astype(np.int64))
    region = _ids(pa.array(np.full(len(lat), "region-", dtype=object), pa.string()), row * 4 + col + 1, 2)
    sites = arrow_frame(TABLES["sites"], {
        "site_id": site_ids, "operator_id": op_ids.take(pa.array(sop)),
        "kind": pa.array(_SITE_KINDS).take(pa.array(kind)),
        "lat": np.round(lat, 5), "lon": np.round(lon, 5), "region": region,
        "subscribers": pa.array(subs, mask=subs < 0),
    })

    e_site, role, gen, vendor = el.cat("site"), el.cat("role"), el.cat("gen"), el.cat("vendor")
    element_ids = pc.binary_join_element_wise(site_ids.take(pa.array(e_site)),
                                              pa.chunked_array(el.suffix).combine_chunks(), "-")
    role_names = np.array(ROLES, dtype=object)[role]
    base = pd.Series(role_names).map(_UNIT_COST).to_numpy(dtype=np.float64)
    router = role == _ROLE["transport.router"]
    site_kind = kind[e_site]
    for k, cost in _BACKBONE_ROUTER_COST.items():
        base[router & (site_kind == _SITE_KINDS.index(k))] = cost
    first_year, last_year = _install_years(role, gen)
    out_of_service = (role == _ROLE["ran.radio"]) & (rng.random(len(role)) < 0.002)
    elements = arrow_frame(TABLES["elements"], {
        "element_id": element_ids, "site_id": site_ids.take(pa.array(e_site)),
        "role": pa.array(ROLES).take(pa.array(role)),
        "vendor": pa.array(VENDOR_IDS).take(pa.array(vendor)),
        "generation": pa.array(GENERATIONS).take(pa.array(gen)),
        "installed_on": pa.array(_dates(rng, first_year, last_year)),
        "in_service": pa.array(~out_of_service),
        "unit_cost": _lognormal_cost(rng, base),
    })

    a, b = np.concatenate(L.a), np.concatenate(L.b)
    links = arrow_frame(TABLES["links"], {
        "a": element_ids.take(pa.array(a)), "b": element_ids.take(pa.array(b)),
        "kind": pa.array(LINK_KINDS).take(pa.array(np.concatenate(L.kind))),
        "capacity_gbps": np.concatenate(L.capacity),
    })

    subs_per_op = np.bincount(sop, weights=np.maximum(subs, 0), minlength=plan.n_ops).astype(np.int64)
    operators = arrow_frame(TABLES["operators"], {
        "operator_id": op_ids, "name": [f"Synthetic {o + 1}" for o in range(plan.n_ops)],
        "country": [COUNTRY] * plan.n_ops, "subscribers": subs_per_op,
    })
    return {"operators": operators, "sites": sites, "elements": elements, "links": links}


def _install_years(role: np.ndarray, gen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Installation year range per element: 4G gear 2012-2019, 5G-NSA 2019-2024, 5G-SA 2021-2025,
    core and management 2015-2024, transport and gateways 2010-2024."""
    first = np.full(len(role), 2010)
    last = np.full(len(role), 2024)
    ran = np.isin(role, [_ROLE["ran.radio"], _ROLE["ran.baseband"]])
    core_or_mgmt = np.isin(role, [_ROLE[r] for r in (*_CORE_FNS, "mgmt.ems", "mgmt.oss")])
    first[core_or_mgmt] = 2015
    for g, (lo, hi) in {"4G": (2012, 2019), "5G-NSA": (2019, 2024), "5G-SA": (2021, 2025)}.items():
        m = ran & (gen == _GEN[g])
        first[m], last[m] = lo, hi
    return first, last


def write_csv(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write tables as interchange CSV files (``<table>.csv``) in ``out_dir``.

    Parameters
    ----------
    tables
        Model tables by name, as :func:`synthetic_network` returns them.
    out_dir
        Directory to write into (created if missing).

    Returns
    -------
    list of Path
        The files written.
    """
    from cleanpath.io.tables import write_tables

    return write_tables(tables, Path(out_dir), fmt="csv")


def main(argv: list[str] | None = None) -> int:
    """``python -m cleanpath.build.synthetic --elements N --out DIR``."""
    p = argparse.ArgumentParser(prog="python -m cleanpath.build.synthetic",
                                description="Write a large, structured synthetic network as CSV files.")
    p.add_argument("--elements", type=int, default=1_000_000, help="number of elements (default 1000000)")
    p.add_argument("--links-per-element", type=float, default=1.5, help="links per element (default 1.5)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--operators", type=int, default=3, help="number of operators (default 3)")
    p.add_argument("--out", required=True, type=Path, help="output directory")
    args = p.parse_args(argv)
    try:
        tables = synthetic_network(elements=args.elements, links_per_element=args.links_per_element,
                                   seed=args.seed, operators=args.operators)
    except ValueError as e:
        p.error(str(e))
    written = write_csv(tables, args.out)
    counts = ", ".join(f"{t}={len(df):,}" for t, df in tables.items())
    print(f"wrote {len(written)} files to {args.out}: {counts}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
