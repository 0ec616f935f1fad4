"""The audit engine: rules evaluated as boolean masks over a network's element table.

:class:`AuditContext` turns a :class:`~cleanpath.model.network.Network` into integer-coded numpy
columns once (vendor, role, generation, site, operator, country, installation day...). A scope
then becomes a mask by looking its values up among each column's *distinct* values and indexing
with the codes, and a vendor set is evaluated over the distinct vendors only. Masks are cached by
the (hashable) expression, so rules and timeline months sharing a scope pay for it once. A rule
is a few ``&`` operations over these masks; no Python runs per element.

:func:`evaluate` returns :class:`Evaluation` blocks (element masks plus the rule, severity and
deadline they share); :func:`findings_frame` materialises them into the findings table with
Arrow ``take`` and categorical codes, so even millions of findings cost well under a second.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cleanpath.model.network import Network
from cleanpath.errors import Problem, ValidationError
from cleanpath.geo.geometry import Area, GeometryError, parse_area
from cleanpath.geo.index import PointIndex
from cleanpath.policy.language import (
    SEVERITIES, Rule, ScopeAll, ScopeAny, ScopeEverything, ScopeExpr, ScopeField, ScopeInside,
    ScopeManages, ScopeNear, ScopeNot, VendorAll, VendorAny, VendorCountry, VendorExpr, VendorIds,
    VendorList, VendorNot, severity_rank,
)

NO_DATE = np.iinfo(np.int32).min
_EPOCH = dt.date(1970, 1, 1)

#: Columns of the findings table, in order.
FINDING_COLUMNS = ("finding_id", "rule_id", "pack", "severity", "element_id", "site_id",
                   "operator_id", "vendor", "message", "deadline", "days_to_deadline", "citation")


def day_number(d: dt.date) -> int:
    """Days since 1970-01-01 (the integer form of Arrow's date32)."""
    return (d - _EPOCH).days


def normalise_programme(name: str) -> str:
    """Fold a funding programme's name: case, punctuation and spacing do not matter."""
    return re.sub(r"[^0-9a-z]+", " ", str(name).casefold()).strip()


def _arrow(s: pd.Series) -> pa.Array:
    a = pa.array(s)
    return a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a


def _codes(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for null) and the distinct values of a column."""
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int32), np.array([], dtype=object)
    d = arr.dictionary_encode()
    codes = d.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return codes, np.asarray(d.dictionary.to_pylist(), dtype=object)


def _lookup(flags: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``flags[codes]`` with code -1 (null / unknown) mapping to False."""
    return np.append(flags.astype(bool), False)[codes]


def _index_in(values: pa.Array, keys: pa.Array) -> np.ndarray:
    """Position of each value among ``keys`` (-1 where absent), hash-based."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    return pc.index_in(values, value_set=keys).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def vendor_flags(expr: VendorExpr, vendors: np.ndarray, as_of: dt.date, hq_country: dict[str, Any]
                 ) -> np.ndarray:
    """Which of ``vendors`` (vendor ids) belong to a vendor set as of a date.

    Parameters
    ----------
    expr
        The vendor set.
    vendors
        Vendor ids (object array).
    as_of
        Date for dated lists (a vendor is on a list from its entry's date until its removal).
    hq_country
        Headquarters country of each vendor id (from the catalogue).
    """
    if isinstance(expr, VendorIds):
        return np.isin(vendors, np.asarray(expr.ids, dtype=object))
    if isinstance(expr, VendorCountry):
        return np.array([hq_country.get(v) in expr.countries for v in vendors], dtype=bool)
    if isinstance(expr, VendorList):
        on = [e.vendor for e in expr.entries
              if e.added <= as_of and (e.removed is None or as_of < e.removed)]
        return np.isin(vendors, np.asarray(on, dtype=object))
    if isinstance(expr, VendorAll):
        out = np.ones(len(vendors), dtype=bool)
        for it in expr.items:
            out &= vendor_flags(it, vendors, as_of, hq_country)
        return out
    if isinstance(expr, VendorAny):
        out = np.zeros(len(vendors), dtype=bool)
        for it in expr.items:
            out |= vendor_flags(it, vendors, as_of, hq_country)
        return out
    if isinstance(expr, VendorNot):
        return ~vendor_flags(expr.item, vendors, as_of, hq_country)
    raise TypeError(f"not a vendor set: {expr!r}")


def untrusted_vendors(rules: Sequence[Rule], *, as_of: dt.date, catalogue=None,
                      extra: Sequence[str] = ()) -> set[str]:
    """Vendor ids any of the rules is about, as of a date (for ``--trust PACK`` style questions).

    Parameters
    ----------
    rules
        Rules (e.g. :func:`cleanpath.policy.rules_of` of some packs).
    as_of
        Date for dated lists.
    catalogue
        Vendor catalogue (default: the shipped one).
    extra
        Further vendor ids to consider (e.g. a network's vendors not in the catalogue).
    """
    from cleanpath.model.vendors import default_catalogue

    cat = (catalogue or default_catalogue()).table
    hq = dict(zip(cat["vendor_id"].astype(str), cat["hq_country"]))
    ids = np.asarray(sorted(set(hq) | set(extra)), dtype=object)
    out: set[str] = set()
    for r in rules:
        out |= set(ids[vendor_flags(r.vendors, ids, as_of, hq)].tolist())
    return out


class AuditContext:
    """A network's columns as integer codes, plus caches of masks built on them.

    Build with :meth:`of`, which caches the context on the network (``net.cache``), so a second
    audit of the same snapshot (another date, another pack) reuses every mask.
    """

    def __init__(self, net: Network):
        self.net = net
        el, sites, ops = net.elements, net.sites, net.operators
        self.n = len(el)
        self.element_id = _arrow(el["element_id"])
        self.site_id = _arrow(el["site_id"])
        self.vendor = _arrow(el["vendor"])
        self.vendor_codes, self.vendors = _codes(self.vendor)
        self.role_codes, self.roles = _codes(_arrow(el["role"]))
        self.gen_codes, self.gens = _codes(_arrow(el["generation"]))
        self.funded_codes, funded = _codes(_arrow(el["funded_by"]))
        self.funded = np.array([normalise_programme(f) for f in funded], dtype=object)
        inst = _arrow(el["installed_on"]).cast(pa.int32()).fill_null(NO_DATE)
        self.installed = inst.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
        self.in_service = el["in_service"].to_numpy(dtype=bool, na_value=True)
        # sites and operators, and each element's site / operator / country code
        self.n_sites = len(sites)
        self.site_pos = _index_in(self.site_id, _arrow(sites["site_id"]))
        self.site_kind_codes, self.site_kinds = _codes(_arrow(sites["kind"]))
        self.region_codes, self.regions = _codes(_arrow(sites["region"]))
        self.site_ids = _arrow(sites["site_id"])
        self.operator_ids = _arrow(ops["operator_id"])
        self.site_op = _index_in(_arrow(sites["operator_id"]), self.operator_ids)
        self.op_country_codes, self.countries = _codes(_arrow(ops["country"]))
        self.op = np.where(self.site_pos >= 0, np.append(self.site_op, -1)[self.site_pos], -1)
        self.op_country = np.where(self.op >= 0, np.append(self.op_country_codes, -1)[self.op], -1)
        self.site_lat, self.site_lon = net.site_positions()
        self.site_subscribers = net.sites["subscribers"].to_numpy(dtype="float64", na_value=np.nan)
        # caches
        self._scope: dict[Any, np.ndarray] = {}
        self._vendor: dict[Any, np.ndarray] = {}
        self._present: dict[int, np.ndarray] = {}
        self._site_index: PointIndex | None = None
        self._installed_known: np.ndarray | None = None
        self._hq: dict[str, Any] | None = None
        self.clean_cache: dict[Any, pd.DataFrame] = {}

    @classmethod
    def of(cls, net: Network) -> "AuditContext":
        """The context of ``net``, built on first use and cached on the network."""
        ctx = net.cache.get("policy.audit_context")
        if ctx is None:
            ctx = net.cache["policy.audit_context"] = cls(net)
        return ctx

    # -- names for messages ------------------------------------------------------------------------
    def vendor_names(self) -> dict[str, str]:
        """Catalogue name of each vendor id."""
        cat = self.net.catalogue.table
        return dict(zip(cat["vendor_id"].astype(str), cat["name"].astype(str)))

    # -- dates -----------------------------------------------------------------------------------
    def present(self, as_of: dt.date) -> np.ndarray:
        """Elements installed by ``as_of`` (or with no date) and in service."""
        d = day_number(as_of)
        m = self._present.get(d)
        if m is None:
            m = ((self.installed == NO_DATE) | (self.installed <= d)) & self.in_service
            if len(self._present) > 64:
                self._present.clear()
            self._present[d] = m
        return m

    # -- vendor sets -----------------------------------------------------------------------------
    def vendor_flags(self, expr: VendorExpr, as_of: dt.date, values: np.ndarray | None = None
                     ) -> np.ndarray:
        """Which of ``values`` (default: the network's distinct vendors) are in the set."""
        if self._hq is None:
            cat = self.net.catalogue.table
            self._hq = dict(zip(cat["vendor_id"].astype(str), cat["hq_country"]))
        return vendor_flags(expr, self.vendors if values is None else values, as_of, self._hq)

    def vendor_mask(self, expr: VendorExpr, as_of: dt.date) -> np.ndarray:
        """Elements whose vendor is in the set as of ``as_of``."""
        flags = self.vendor_flags(expr, as_of)
        # keyed by which vendors are in the set, so a dated list costs one mask per list state
        key = np.packbits(flags).tobytes() + len(flags).to_bytes(4, "little")
        m = self._vendor.get(key)
        if m is None:
            if len(self._vendor) > 256:
                self._vendor.clear()
            m = self._vendor[key] = _lookup(flags, self.vendor_codes)
        return m

    @property
    def installed_known(self) -> np.ndarray:
        """Elements with an installation date."""
        if self._installed_known is None:
            self._installed_known = self.installed != NO_DATE
        return self._installed_known

    # -- scopes ----------------------------------------------------------------------------------
    def scope_mask(self, expr: ScopeExpr | None) -> np.ndarray:
        """Elements in the scope (None: every element)."""
        if expr is None or isinstance(expr, ScopeEverything):
            return np.ones(self.n, dtype=bool)
        m = self._scope.get(expr)
        if m is None:
            m = self._scope[expr] = self._scope_mask(expr)
        return m

    def _scope_mask(self, expr: ScopeExpr) -> np.ndarray:
        if isinstance(expr, ScopeField):
            return self._field_mask(expr.field, expr.values)
        if isinstance(expr, ScopeNear):
            return self._site_to_elements(self._sites_near(expr))
        if isinstance(expr, ScopeInside):
            area = inside_area(expr.polygons)
            # One whole-array test over the sites; the k-d tree pays only once it exists anyway.
            inside = (self._site_index.in_areas([area]) if self._site_index is not None
                      else area.contains(self.site_lat, self.site_lon))
            return self._site_to_elements(inside)
        if isinstance(expr, ScopeManages):
            return self._managers_of(self.scope_mask(expr.scope))
        if isinstance(expr, ScopeAll):
            out = np.ones(self.n, dtype=bool)
            for it in expr.items:
                out &= self.scope_mask(it)
            return out
        if isinstance(expr, ScopeAny):
            out = np.zeros(self.n, dtype=bool)
            for it in expr.items:
                out |= self.scope_mask(it)
            return out
        if isinstance(expr, ScopeNot):
            return ~self.scope_mask(expr.item)
        raise TypeError(f"not a scope: {expr!r}")

    def _field_mask(self, fld: str, values: tuple[str, ...]) -> np.ndarray:
        want = np.asarray(values, dtype=object)
        if fld == "domain":
            doms = np.array([r.split(".", 1)[0] for r in self.roles], dtype=object)
            return _lookup(np.isin(doms, want), self.role_codes)
        if fld == "role":
            return _lookup(np.isin(self.roles, want), self.role_codes)
        if fld == "generation":
            return _lookup(np.isin(self.gens, want), self.gen_codes)
        if fld == "funded_by":
            want = np.asarray([normalise_programme(v) for v in values], dtype=object)
            return _lookup(np.isin(self.funded, want), self.funded_codes)
        if fld == "operator":
            ops = np.isin(np.asarray(self.operator_ids.to_pylist(), dtype=object), want)
            return _lookup(ops, self.op)
        if fld == "country":
            return _lookup(np.isin(self.countries, want), self.op_country)
        if fld == "site_kind":
            site = _lookup(np.isin(self.site_kinds, want), self.site_kind_codes)
        elif fld == "region":
            site = _lookup(np.isin(self.regions, want), self.region_codes)
        elif fld == "site":
            site = np.isin(np.asarray(self.site_ids.to_pylist(), dtype=object), want)
        else:
            raise KeyError(fld)
        return self._site_to_elements(site)

    def _site_to_elements(self, site_mask: np.ndarray) -> np.ndarray:
        return _lookup(site_mask, self.site_pos)

    def _sites_index(self) -> PointIndex:
        if self._site_index is None:
            self._site_index = PointIndex(self.site_lat, self.site_lon)
        return self._site_index

    def _sites_near(self, expr: ScopeNear) -> np.ndarray:
        """Sites near sensitive sites of the scope's kinds, on the sphere (:mod:`cleanpath.geo`).

        A circle site: within its radius (or the scope's) of its point. A polygon site: inside
        its polygon, or with the scope's ``radius_m`` within that distance of the polygon's edge
        (0 inside), so a polygon across the antimeridian or around a pole means what it says.
        """
        ss = self.net.sensitive_sites
        kinds = ss["kind"].to_numpy(dtype=object, na_value=None)
        sel = np.isin(kinds, np.asarray(expr.kinds, dtype=object))
        out = np.zeros(self.n_sites, dtype=bool)
        if not sel.any() or self.n_sites == 0:
            return out
        index = self._sites_index()
        lat = ss["lat"].to_numpy(dtype="float64", na_value=np.nan)[sel]
        lon = ss["lon"].to_numpy(dtype="float64", na_value=np.nan)[sel]
        geoms = ss["geometry"].to_numpy(dtype=object, na_value=None)[sel]
        own = ss["radius_m"].to_numpy(dtype="float64", na_value=5000.0)[sel]
        areas = [sensitive_area(g) for g in geoms]
        is_area = np.array([a is not None for a in areas], dtype=bool)
        # a sensitive site's polygon replaces its radius (schema: sensitive_sites.geometry)
        radius = own if expr.radius_m is None else np.full(lat.size, float(expr.radius_m))
        out |= index.within(lat[~is_area], lon[~is_area], radius[~is_area])
        if is_area.any():
            out |= index.in_areas(areas, 0.0 if expr.radius_m is None else float(expr.radius_m))
        return out

    def _managers_of(self, managed: np.ndarray) -> np.ndarray:
        """Elements that manage (are ``b`` of a management link to) an element of ``managed``.

        Hashing a million element ids is the cost to avoid: the ``a`` ends are tested against
        the smaller of the managed set and its complement, and the few distinct managers found
        are then looked up among the element ids.
        """
        links = self.net.links
        out = np.zeros(self.n, dtype=bool)
        if len(links) == 0 or not managed.any():
            return out
        kind = _arrow(links["kind"])
        is_mgmt = pc.fill_null(pc.equal(kind, "management"), False)
        a = _arrow(links["a"]).filter(is_mgmt)
        b = _arrow(links["b"]).filter(is_mgmt)
        if len(a) == 0:
            return out
        k = int(np.count_nonzero(managed))
        if k <= self.n - k:
            hit = pc.is_in(a, value_set=self.element_id.filter(pa.array(managed)))
        else:  # links reference existing elements (checked on import), so the complement works
            hit = pc.invert(pc.is_in(a, value_set=self.element_id.filter(pa.array(~managed))))
        managers = pc.unique(b.filter(pc.fill_null(hit, False)))
        if len(managers):
            out = pc.is_in(self.element_id, value_set=managers).to_numpy(zero_copy_only=False)
        return np.asarray(out, dtype=bool)


def sensitive_area(text: Any) -> Area | None:
    """The area of a sensitive site's ``geometry`` text (None without one).

    Geometry is validated when it is imported (:func:`cleanpath.geo.parse_areas`), so a text
    that does not parse here came from an older workspace; it is an error, not a silent miss.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    return _area_cached(text)


def inside_area(polygons: tuple) -> Area:
    """The area of an ``inside`` scope's polygons (checked by the loader with the same parser)."""
    return _area_cached(json.dumps({"type": "MultiPolygon",
                                    "coordinates": [[[list(p) for p in ring] for ring in poly]
                                                    for poly in polygons]}))


_AREAS: dict[str, Area] = {}


def _area_cached(text: str) -> Area:
    area = _AREAS.get(text)
    if area is None:
        try:
            area = parse_area(text)
        except GeometryError as e:
            raise ValidationError(Problem(e.reason, "sensitive_sites", column="geometry",
                                          value=text)) from None
        if len(_AREAS) > 1024:  # a bounded memo: policies and sensitive sites repeat their areas
            _AREAS.clear()
        _AREAS[text] = area
    return area


# --- evaluation ---------------------------------------------------------------------------------

@dataclass
class Block:
    """Findings of one rule that share a severity and a deadline.

    Element findings carry ``mask`` (over the elements table; positions are derived on demand);
    others (caps, clean-path, notes) carry ``rows``, a small frame with subject, element_id,
    site_id, operator_id, vendor, message.
    """

    rule: int
    severity: int
    mask: np.ndarray | None = None
    rows: pd.DataFrame | None = None
    deadline: dt.date | None = None
    days: int | None = None
    _positions: np.ndarray | None = field(default=None, repr=False)
    _count: int | None = field(default=None, repr=False)

    @property
    def positions(self) -> np.ndarray | None:
        if self.mask is None:
            return None
        if self._positions is None:
            self._positions = np.flatnonzero(self.mask)
        return self._positions

    def __len__(self) -> int:
        if self.mask is None:
            return len(self.rows)
        if self._count is None:
            self._count = int(np.count_nonzero(self.mask))
        return self._count


@dataclass
class Evaluation:
    """The outcome of evaluating rules at one date."""

    as_of: dt.date
    rules: list[Rule]
    blocks: list[Block] = field(default_factory=list)
    status: dict[int, str] = field(default_factory=dict)
    unchecked: dict[int, int] = field(default_factory=dict)
    clean_wanted: dict[frozenset, list[str]] = field(default_factory=dict)
    clean_results: dict[frozenset, pd.DataFrame] = field(default_factory=dict)


def evaluate(ctx: AuditContext, rules: Sequence[Rule], as_of: dt.date, *, jurisdiction: bool = True,
             clean_path=None) -> Evaluation:
    """Evaluate rules on a network at a date.

    Parameters
    ----------
    ctx
        The network's audit context.
    rules
        Rules to evaluate.
    as_of
        The date the network is judged at.
    jurisdiction
        Apply each rule only to operators in its pack's jurisdiction (False: to every operator,
        for "what if this country's rules applied here").
    clean_path
        The clean-path engine ``clean_path`` rules are evaluated with:
        ``engine(net, *, sensitive_ids, untrusted, as_of) -> DataFrame`` (the audit passes
        :func:`cleanpath.analysis.clean_path.policy_engine`). Without one, those rules are left
        unchecked and say so.

    Returns
    -------
    Evaluation
    """
    ev = Evaluation(as_of, list(rules))
    engine = clean_path
    if engine is not None:
        # one engine call per distinct untrusted set, for the sensitive sites of every such rule
        for rule in rules:
            if rule.kind == "clean_path" and as_of >= rule.start:
                ids = ev.clean_wanted.setdefault(_untrusted(ctx, rule, as_of), [])
                ids += [s for s in _clean_path_ids(ctx, rule) if s not in ids]
    for i, rule in enumerate(rules):
        if as_of < rule.start:
            ev.status[i] = f"not in force until {rule.start.isoformat()}"
            continue
        scope = rule.scope
        if jurisdiction and rule.applies_to is not None:
            scope = ScopeAll((rule.scope, rule.applies_to))  # cached as one mask
        base = ctx.scope_mask(scope)
        fn = _KINDS[rule.kind]
        ev.status[i] = "evaluated"
        fn(ctx, i, rule, as_of, base, ev, engine)
    ev.blocks.sort(key=lambda b: -b.severity)  # stable: rule order within a severity
    return ev


def _deadline_state(rule: Rule, as_of: dt.date) -> tuple[int | None, int | None]:
    """(severity rank, days to deadline) for a rule with a deadline; severity None = no finding yet."""
    days = (rule.deadline - as_of).days
    if days < 0:
        return severity_rank(rule.severity), days
    if rule.warn_days is not None and days > rule.warn_days:
        return None, days
    return severity_rank("warning"), days


def _element_rule(ctx, i, rule, as_of, base, ev, engine) -> None:
    hit = ctx.present(as_of) & base & ctx.vendor_mask(rule.vendors, as_of)
    sev, days, deadline = severity_rank(rule.severity), None, None
    if rule.kind == "remove_by":
        sev, days = _deadline_state(rule, as_of)
        deadline = rule.deadline
        if sev is None:
            ev.status[i] = f"warnings start {rule.warn_days} days before {rule.deadline.isoformat()}"
            return
    if rule.kind == "funding":
        hit &= ctx.scope_mask(ScopeField("funded_by", rule.programmes))
    if rule.installed_on_or_after is not None:
        known = ctx.installed_known
        ev.unchecked[i] = int(np.count_nonzero(hit & ~known))
        hit &= ctx.installed >= day_number(rule.installed_on_or_after)  # NO_DATE is never >=
    b = Block(i, sev, mask=hit, deadline=deadline, days=days)
    if len(b):
        ev.blocks.append(b)


def _cap_rule(ctx: AuditContext, i, rule: Rule, as_of, base, ev, engine) -> None:
    in_scope = ctx.present(as_of) & base
    hit = in_scope & ctx.vendor_mask(rule.vendors, as_of)
    sev, days = severity_rank(rule.severity), None
    if rule.deadline is not None:
        sev, days = _deadline_state(rule, as_of)
    n_groups = max(len(ctx.operator_ids), 1) + 1
    if rule.measure == "elements":
        g = ctx.op if rule.per == "operator" else np.zeros(ctx.n, dtype=np.int64)
        num = np.bincount(g[hit] + 1, minlength=n_groups).astype("float64")
        den = np.bincount(g[in_scope] + 1, minlength=n_groups).astype("float64")
    else:
        ok = ctx.site_pos >= 0
        cnt_scope = np.bincount(ctx.site_pos[in_scope & ok], minlength=ctx.n_sites).astype("float64")
        cnt_hit = np.bincount(ctx.site_pos[hit & ok], minlength=ctx.n_sites).astype("float64")
        g = ctx.site_op if rule.per == "operator" else np.zeros(ctx.n_sites, dtype=np.int64)
        if rule.measure == "sites":
            w_hit, w_scope = (cnt_hit > 0).astype("float64"), (cnt_scope > 0).astype("float64")
        else:
            weight = ctx.site_subscribers if rule.measure == "subscribers" else _site_traffic(ctx)
            known = np.isfinite(weight) & (cnt_scope > 0)
            if not np.any(known & (weight > 0)):
                ev.status[i] = f"not evaluated: no {rule.measure} data for the sites in scope"
                ev.blocks.append(Block(i, severity_rank("info"), rows=_note_rows(
                    rule, f"{rule.title}: not evaluated, the network has no {rule.measure} "
                          "figures for the sites in scope")))
                return
            weight = np.where(known, weight, 0.0)
            share = np.divide(cnt_hit, cnt_scope, out=np.zeros_like(cnt_hit), where=cnt_scope > 0)
            w_hit, w_scope = weight * share, weight
        num = np.bincount(g + 1, weights=w_hit, minlength=n_groups)
        den = np.bincount(g + 1, weights=w_scope, minlength=n_groups)
    # exact comparison by cross-multiplying: 35.0 % of 1,000 passes a 35 % cap, 35.1 % does not
    over = (den > 0) & (num * 100.0 > rule.max_percent * den)
    groups = np.flatnonzero(over)
    if groups.size == 0 or sev is None:
        if sev is None and groups.size:
            ev.status[i] = f"warnings start {rule.warn_days} days before {rule.deadline.isoformat()}"
        return
    op_ids = ctx.operator_ids.to_pylist()
    rows = []
    for gi in groups:  # one row per operator over the cap: a handful, not per element
        op = None if rule.per == "network" or gi == 0 else op_ids[gi - 1]
        pct = 100.0 * num[gi] / den[gi]
        rows.append({
            "subject": op or "network", "element_id": None, "site_id": None, "operator_id": op,
            "vendor": rule.vendors_label,
            "message": (f"{rule.title}: {rule.vendors_label} hold {pct:.4g} % of the {rule.measure} "
                        f"in scope ({rule.scope_label}{'' if op is None else ', operator ' + op}): "
                        f"{num[gi]:,.6g} of {den[gi]:,.6g}, over the {rule.max_percent:g} % cap"),
        })
    ev.blocks.append(Block(i, sev, rows=pd.DataFrame(rows), deadline=rule.deadline, days=days))


def _site_traffic(ctx: AuditContext) -> np.ndarray:
    d = ctx.net.demands
    out = np.zeros(ctx.n_sites, dtype="float64")
    if len(d) == 0:
        return np.full(ctx.n_sites, np.nan)
    vol = d["volume"].to_numpy(dtype="float64", na_value=0.0)
    for col in ("a_site", "b_site"):  # traffic counts at both ends it touches
        pos = _index_in(_arrow(d[col]), ctx.site_ids)
        ok = pos >= 0
        out += np.bincount(pos[ok], weights=vol[ok], minlength=ctx.n_sites)
    return out


def _note_rows(rule: Rule, message: str) -> pd.DataFrame:
    return pd.DataFrame([{"subject": "rule", "element_id": None, "site_id": None, "operator_id": None,
                          "vendor": rule.vendors_label, "message": message}])


def _clean_path_ids(ctx: AuditContext, rule: Rule) -> list[str]:
    ss = ctx.net.sensitive_sites
    sel = ss["kind"].isin(list(rule.sensitive_kinds)).to_numpy(dtype=bool, na_value=False)
    return ss["sensitive_id"].to_numpy(dtype=object)[sel].tolist()


def _untrusted(ctx: AuditContext, rule: Rule, as_of: dt.date) -> frozenset[str]:
    ids = np.asarray(sorted(set(ctx.vendors.tolist()) | ctx.net.catalogue.ids), dtype=object)
    return frozenset(ids[ctx.vendor_flags(rule.vendors, as_of, ids)].tolist())


def _clean_path_rule(ctx: AuditContext, i, rule: Rule, as_of, base, ev, engine) -> None:
    ids = _clean_path_ids(ctx, rule)
    if not ids:
        ev.status[i] = f"nothing to check: no sensitive sites of kind {', '.join(rule.sensitive_kinds)}"
        return
    if engine is None:
        ev.status[i] = "not evaluated: needs the clean-path engine"
        ev.blocks.append(Block(i, severity_rank("info"), rows=_note_rows(
            rule, f"{rule.title}: not evaluated: needs the clean-path engine "
                  f"({len(ids)} sensitive site(s) of kind {', '.join(rule.sensitive_kinds)})")))
        return
    untrusted = _untrusted(ctx, rule, as_of)
    res = ev.clean_results.get(untrusted)
    if res is None:
        wanted = ev.clean_wanted.get(untrusted) or ids
        # the answer only changes when the elements present do (timeline months often share it)
        key = (engine, untrusted, tuple(wanted), hashlib.blake2b(
            np.packbits(ctx.present(as_of)).tobytes(), digest_size=16).digest())
        res = ctx.clean_cache.get(key)
        if res is None:
            res = engine(ctx.net, sensitive_ids=wanted, untrusted=untrusted, as_of=as_of)
            res = pd.DataFrame(columns=["sensitive_id", "clean"]) if res is None else res
            if len(ctx.clean_cache) > 32:
                ctx.clean_cache.clear()
            ctx.clean_cache[key] = res
        ev.clean_results[untrusted] = res
    res = res[res["sensitive_id"].isin(ids)]
    if len(res) == 0:
        return
    res = res.copy()
    res["clean"] = res["clean"].astype(bool)
    clean = res.groupby("sensitive_id")["clean"].any()
    bad = [s for s in ids if not clean.get(s, False)]
    if not bad:
        return
    blocking = res.set_index("sensitive_id")["blocking"] if "blocking" in res.columns else None
    rows = []
    vendor_of = dict(zip(ctx.element_id.to_pylist(), ctx.vendor.to_pylist())) if blocking is not None else {}
    for s in bad:  # one row per sensitive site without a clean path
        blk: list[str] = []
        if blocking is not None and s in blocking.index:
            vals = blocking.loc[[s]]
            for v in vals:
                if isinstance(v, (list, tuple, np.ndarray)):
                    blk.extend(str(x) for x in v)
        first = blk[0] if blk else None
        rows.append({"subject": s, "element_id": first, "site_id": None, "operator_id": None,
                     "vendor": vendor_of.get(first, rule.vendors_label) if first else rule.vendors_label,
                     "message": f"{rule.title}: sensitive site {s} has no clean path"
                                + (f"; {len(set(blk))} element(s) block it" if blk else "")})
    ev.blocks.append(Block(i, severity_rank(rule.severity), rows=pd.DataFrame(rows)))


_KINDS = {"forbid": _element_rule, "remove_by": _element_rule, "no_new": _element_rule,
          "funding": _element_rule, "cap": _cap_rule, "clean_path": _clean_path_rule}


# --- materialising findings ---------------------------------------------------------------------

def _element_message(rule: Rule, vendor_name: str, b: Block) -> str:
    what = f"{vendor_name} equipment ({rule.scope_label})"
    if rule.kind == "remove_by":
        if b.days is not None and b.days >= 0:
            return f"{rule.title}: remove {what} by {rule.deadline.isoformat()} ({b.days} days left)"
        return (f"{rule.title}: {what} still present {-b.days} days after the "
                f"{rule.deadline.isoformat()} deadline")
    if rule.kind == "no_new":
        return f"{rule.title}: {what} installed on or after {rule.installed_on_or_after.isoformat()}"
    if rule.kind == "funding":
        since = (f", installed on or after {rule.installed_on_or_after.isoformat()}"
                 if rule.installed_on_or_after else "")
        return f"{rule.title}: {what} paid for by {' / '.join(rule.programmes)}{since}"
    return f"{rule.title}: {what} not allowed from {rule.start.isoformat()}"


def findings_frame(ctx: AuditContext, ev: Evaluation) -> pd.DataFrame:
    """The findings table of an evaluation (columns :data:`FINDING_COLUMNS`).

    Rows come in severity order (violations first), then rule order, then element order.
    """
    rules = ev.rules
    names = ctx.vendor_names()
    messages: list[str] = []
    msg_index: dict[str, int] = {}

    def msg_code(m: str) -> int:
        c = msg_index.get(m)
        if c is None:
            c = msg_index[m] = len(messages)
            messages.append(m)
        return c

    # per block, in block order (worst severity first): element positions (-1 for rows that are
    # not about one element: caps, clean-path, notes), integer codes, and the two string columns
    # as one Arrow chunk per block (element ids taken once; nothing is concatenated)
    pos_parts, rule_parts, sev_parts, msg_parts, dl_parts, day_parts = [], [], [], [], [], []
    eid_chunks: list[pa.Array] = []
    fid_chunks: list[pa.Array] = []
    x: dict[str, list] = {k: [] for k in ("site_id", "operator_id", "vendor")}
    for b in ev.blocks:
        rule = rules[b.rule]
        n = len(b)
        prefix = f"{rule.pack}/{rule.id}/"
        if b.mask is not None:
            p = b.positions
            vc = ctx.vendor_codes[p]
            present = np.flatnonzero(np.bincount(vc + 1, minlength=len(ctx.vendors) + 1))
            remap = np.zeros(len(ctx.vendors) + 1, dtype=np.int32)
            for v in present:  # once per distinct vendor in the block
                vid = ctx.vendors[v - 1] if v > 0 else "unknown"
                remap[v] = msg_code(_element_message(rule, names.get(vid, vid), b))
            msg_parts.append(remap[vc + 1])
            pos_parts.append(p.astype(np.int64, copy=False))
            eids = ctx.element_id.take(pa.array(p, type=pa.int64())).cast(pa.string())
            eid_chunks.append(eids)
            fid_chunks.append(pc.binary_join_element_wise(prefix, eids, ""))
        else:
            rows = b.rows
            msg_parts.append(np.array([msg_code(m) for m in rows["message"]], dtype=np.int32))
            pos_parts.append(np.full(n, -1, dtype=np.int64))
            vals = {k: [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                        for v in rows[k].astype(object).tolist()]
                    for k in ("element_id", "subject", "site_id", "operator_id", "vendor")}
            for k in x:
                x[k] += vals[k]
            eid_chunks.append(pa.array(vals["element_id"], type=pa.string()))
            fid_chunks.append(pa.array([prefix + v for v in vals["subject"]], type=pa.string()))
        rule_parts.append(np.full(n, b.rule, dtype=np.int32))
        sev_parts.append(np.full(n, b.severity, dtype=np.int8))
        dl_parts.append(np.full(n, NO_DATE if b.deadline is None else day_number(b.deadline), dtype=np.int32))
        day_parts.append(np.full(n, NO_DATE if b.days is None else b.days, dtype=np.int32))

    def cat(parts: list[np.ndarray], dtype) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    P = cat(pos_parts, np.int64)
    R, S, M = cat(rule_parts, np.int32), cat(sev_parts, np.int8), cat(msg_parts, np.int32)
    D, Y = cat(dl_parts, np.int32), cat(day_parts, np.int32)
    element_id = pa.chunked_array(eid_chunks, type=pa.string())
    finding_id = pa.chunked_array(fid_chunks, type=pa.string())
    xm = P < 0
    safe = np.where(xm, 0, P)

    def coded(codes: np.ndarray, names: pa.Array, extra: list) -> pd.Categorical:
        """A categorical of the names the findings use (per-element codes, plus the values of
        the rows that are not about one element)."""
        c = np.where(xm, -1, codes[safe]) if len(codes) else np.full(len(P), -1, dtype=np.int64)
        used = np.flatnonzero(np.bincount(c + 1, minlength=len(names) + 1)[1:])
        remap = np.full(len(names) + 1, -1, dtype=np.int64)
        remap[used + 1] = np.arange(used.size)
        out = remap[c + 1]
        cats = names.take(pa.array(used, type=pa.int64())).to_pylist()
        index = {v: i for i, v in enumerate(cats)}
        for v in extra:
            if v is not None and v not in index:
                index[v] = len(cats)
                cats.append(v)
        out[xm] = np.asarray([-1 if v is None else index[v] for v in extra], dtype=np.int64)
        return pd.Categorical.from_codes(out, categories=cats)

    site_col = coded(ctx.site_pos, ctx.site_ids, x["site_id"])
    op_col = coded(ctx.op, ctx.operator_ids, x["operator_id"])
    vendor_col = coded(ctx.vendor_codes, pa.array(list(ctx.vendors), type=pa.string()), x["vendor"])
    rule_cats = list(dict.fromkeys(r.id for r in rules))
    rule_code = np.array([rule_cats.index(r.id) for r in rules], dtype=np.int32)
    packs = list(dict.fromkeys(r.pack for r in rules))
    pack_code = np.array([packs.index(r.pack) for r in rules], dtype=np.int32)
    cites = list(dict.fromkeys(r.citation.text() for r in rules))
    cite_code = np.array([cites.index(r.citation.text()) for r in rules], dtype=np.int32)
    mask = D == NO_DATE
    deadline = pa.array(np.where(mask, 0, D), type=pa.int32(), mask=mask).cast(pa.date32())
    dmask = Y == NO_DATE
    days = pa.array(np.where(dmask, 0, Y).astype(np.int64), type=pa.int64(), mask=dmask)
    return pd.DataFrame({
        "finding_id": pd.Series(pd.arrays.ArrowExtensionArray(finding_id)),
        "rule_id": pd.Categorical.from_codes(rule_code[R], categories=rule_cats),
        "pack": pd.Categorical.from_codes(pack_code[R], categories=packs),
        "severity": pd.Categorical.from_codes(S, categories=list(SEVERITIES), ordered=True),
        "element_id": pd.Series(pd.arrays.ArrowExtensionArray(element_id)),
        "site_id": site_col,
        "operator_id": op_col,
        "vendor": vendor_col,
        "message": pd.Categorical.from_codes(M, categories=messages),
        "deadline": pd.Series(pd.arrays.ArrowExtensionArray(deadline)),
        "days_to_deadline": pd.Series(pd.arrays.ArrowExtensionArray(days)),
        "citation": pd.Categorical.from_codes(cite_code[R], categories=cites),
    }, columns=list(FINDING_COLUMNS))


# --- counting without materialising (summaries, timelines) --------------------------------------

def rule_counts(ev: Evaluation) -> np.ndarray:
    """``(rules, 3)`` finding counts per rule and severity (info, warning, violation)."""
    out = np.zeros((len(ev.rules), len(SEVERITIES)), dtype=np.int64)
    for b in ev.blocks:
        out[b.rule, b.severity] += len(b)
    return out


def element_union(ctx: AuditContext, ev: Evaluation, rule_ids: Sequence[int] | None = None,
                  min_severity: int = 0) -> np.ndarray:
    """Mask of elements with at least one element finding (of the given rules and severity)."""
    out = np.zeros(ctx.n, dtype=bool)
    wanted = None if rule_ids is None else set(rule_ids)
    for b in ev.blocks:
        if b.severity < min_severity or (wanted is not None and b.rule not in wanted):
            continue
        if b.mask is not None:
            out |= b.mask
        elif b.rows is not None and b.rows["element_id"].notna().any():
            pos = _index_in(pa.array(b.rows["element_id"].dropna().astype(str).tolist(), type=pa.string()),
                            ctx.element_id)
            out[pos[pos >= 0]] = True
    return out
