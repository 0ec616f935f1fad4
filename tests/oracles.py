"""Shared test oracles and network builders: the one module tests import helpers from.

No test module imports another; what several test files need lives here: hand-built networks with
known answers (``make_network`` for the policy tests, ``make_net`` for the graph questions,
``small_tables``, ``two_operators``), random networks, and independent oracles written with plain
Python and networkx (``oracle_serving``, ``haversine``), workbooks written by hand (``write_xlsx``),
and a real ``cleanpath serve`` with a real chromium for the browser tests (``serving``, ``browser``,
``page``).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import cleanpath
from cleanpath.model.costs import CostModel, load_costs

# --- policy tests: one operator per country --------------------------------------------------------

#: One operator per country the shipped packs cover; ids are "op-" + lower-case country.
COUNTRIES = {"GB": (51.5, -0.1), "DE": (50.1, 8.7), "US": (38.9, -77.0), "CA": (45.4, -75.7),
             "SE": (59.3, 18.1), "AU": (-35.3, 149.1), "JP": (35.7, 139.7), "FR": (48.9, 2.35)}


def E(element_id: str, site_id: str, role: str, vendor: str, generation: str | None = None, *,
      installed_on: str | None = None, funded_by: str | None = None, in_service: bool | None = None) -> dict:
    """One element row."""
    return {"element_id": element_id, "site_id": site_id, "role": role, "vendor": vendor,
            "generation": generation, "installed_on": installed_on, "funded_by": funded_by,
            "in_service": in_service}


def make_network(elements: list[dict], *, sites: list[dict] | None = None, links: list[dict] | None = None,
                 sensitive: list[dict] | None = None, demands: list[dict] | None = None,
                 vendors: list[dict] | None = None, name: str = "t") -> cleanpath.Network:
    """A validated network: one operator per country in COUNTRIES with a cell site ``<cc>-cell``
    and a core data centre ``<cc>-dc`` (lower-case country code), plus any ``sites`` given."""
    ops = [{"operator_id": f"op-{c.lower()}", "name": f"Operator {c}", "country": c} for c in COUNTRIES]
    base_sites = []
    for c, (lat, lon) in COUNTRIES.items():
        base_sites.append({"site_id": f"{c.lower()}-cell", "operator_id": f"op-{c.lower()}", "kind": "cell",
                           "lat": lat, "lon": lon, "subscribers": 1000})
        base_sites.append({"site_id": f"{c.lower()}-dc", "operator_id": f"op-{c.lower()}", "kind": "core_dc",
                           "lat": lat + 0.5, "lon": lon + 0.5})
    tables = {"operators": pd.DataFrame(ops), "sites": pd.DataFrame(base_sites + (sites or [])),
              "elements": pd.DataFrame(elements).dropna(axis=1, how="all")}
    if links:
        tables["links"] = pd.DataFrame(links)
    if sensitive:
        tables["sensitive_sites"] = pd.DataFrame(sensitive)
    if demands:
        tables["demands"] = pd.DataFrame(demands)
    if vendors:
        tables["vendors"] = pd.DataFrame(vendors)
    return cleanpath.Network(tables, name=name)


def found(result, *, severity: str | None = None) -> set[tuple[str, str, str | None]]:
    """(pack/rule_id, subject, severity) of every finding (subject: element, operator or site)."""
    f = result.tables["findings"]
    subj = f["finding_id"].astype(str).str.split("/").str[2]
    out = set(zip((f["pack"].astype(str) + "/" + f["rule_id"].astype(str)), subj, f["severity"].astype(str)))
    return {x for x in out if severity is None or x[2] == severity}


# --- graph questions: networks from compact specs -----------------------------------------------

SITE_POS = {"s0": (50.0, 8.0), "s1": (50.01, 8.0), "s2": (50.3, 8.3), "s3": (51.0, 9.0), "dc": (50.5, 8.5)}


def make_net(elements, links, *, sites=None, sensitive=None, operators=None, demands=None, name="t"):
    """A validated network from compact specs.

    ``elements``: tuples (element_id, role, vendor[, site_id[, extra columns dict]]);
    ``links``: tuples (a, b, kind); ``sites``: tuples (site_id, operator_id, lat, lon[, subscribers]),
    default: the sites used by the elements at :data:`SITE_POS`, all of operator ``op``.
    """
    rows = []
    for e in elements:
        eid, role, vendor = e[:3]
        site = e[3] if len(e) > 3 else "s0"
        extra = e[4] if len(e) > 4 else {}
        rows.append({"element_id": eid, "site_id": site, "role": role, "vendor": vendor, **extra})
    el = pd.DataFrame(rows)
    if sites is None:
        used = sorted(set(el["site_id"]))
        sites = [(s, "op", *SITE_POS[s]) for s in used]
    st_rows = [{"site_id": s[0], "operator_id": s[1], "kind": "cell", "lat": s[2], "lon": s[3],
                "subscribers": s[4] if len(s) > 4 else 100} for s in sites]
    ops = sorted({s[1] for s in sites}) if operators is None else operators
    tables = {
        "operators": pd.DataFrame({"operator_id": ops, "name": ops, "country": "DE"}),
        "sites": pd.DataFrame(st_rows),
        "elements": el,
        "links": pd.DataFrame(list(links), columns=["a", "b", "kind"]) if links else
        pd.DataFrame({"a": [], "b": [], "kind": []}),
    }
    if sensitive is not None:
        tables["sensitive_sites"] = pd.DataFrame(
            [{"sensitive_id": s[0], "name": s[0], "kind": s[1], "lat": s[2], "lon": s[3],
              "radius_m": s[4] if len(s) > 4 else 5000.0} for s in sensitive])
    if demands is not None:
        tables["demands"] = pd.DataFrame(list(demands), columns=["a_site", "b_site", "volume"])
    return cleanpath.Network(tables, name=name)


# --- an independent oracle -------------------------------------------------------------------------

def oracle_serving(net, disabled=frozenset(), alive=None, management=False) -> set[str]:
    """The served set by the definition, with Python sets and networkx components.

    Management links are dependencies only with ``management`` (management is not forwarding).
    """
    el = net.elements
    ids = el["element_id"].tolist()
    ok = el["in_service"].fillna(True).astype(bool).tolist()
    up = {e for e, s in zip(ids, ok) if s and e not in disabled and (alive is None or e in alive)}
    gws = {e for e, r in zip(ids, el["role"]) if r in ("gateway.internet", "gateway.interconnect")}
    deps: dict[str, set[str]] = {}
    g = nx.Graph()
    for a, b, k in zip(net.links["a"], net.links["b"], net.links["kind"]):
        if k == "transport":
            g.add_edge(a, b)
        elif k != "management" or (management and a != b):
            deps.setdefault(a, set()).add(b)
    s = set(up)
    while True:
        s2 = {e for e in s if deps.get(e, set()) <= s}
        h = g.subgraph(s2).copy()
        h.add_nodes_from(s2)
        s3 = set().union(*[c for c in nx.connected_components(h) if c & gws]) if s2 else set()
        if s3 == s:
            return s
        s = s3


def haversine(lat1, lon1, lat2, lon2) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def random_net(seed: int, n: int = 20, *, deps: bool = True, ops: int = 1):
    """A random network: a few radios, routers, user-plane functions, gateways, AMFs and EMSs."""
    rng = np.random.default_rng(seed)
    roles = rng.choice(["ran.radio", "transport.router", "gateway.internet", "core.upf", "core.amf",
                        "mgmt.ems", "ran.baseband"], n, p=[.3, .3, .08, .1, .07, .07, .08])
    roles[0], roles[1], roles[2] = "ran.radio", "core.upf", "gateway.internet"
    sites = ["s0", "s1", "s2", "s3"]
    site_of = rng.choice(sites, n)
    el = [(f"e{i}", roles[i], str(rng.choice(["huawei", "ericsson", "nokia"], p=[.4, .4, .2])), str(site_of[i]),
           {"in_service": bool(rng.random() > .05), "unit_cost": float(rng.integers(1, 50))}) for i in range(n)]
    links = []
    for i in range(1, n):  # a random tree keeps most of the network connected
        links.append((f"e{i}", f"e{int(rng.integers(0, i))}", "transport"))
    for _ in range(int(n * rng.uniform(0, .6))):
        a, b = rng.integers(0, n, 2)
        links.append((f"e{a}", f"e{b}", "transport"))
    if deps:
        for _ in range(int(n * rng.uniform(0, .5))):
            a, b = rng.integers(0, n, 2)
            links.append((f"e{a}", f"e{b}", str(rng.choice(["control", "management", "anchor"]))))
    site_rows = [(s, f"op{k % ops}", *SITE_POS[s]) for k, s in enumerate(sites)]
    sensitive = [("x0", "military", 50.005, 8.0, 3000.0), ("x1", "diplomatic", 50.3, 8.3, 1000.0)]
    return make_net(el, links, sites=site_rows, sensitive=sensitive)


def graph_cli():
    """The ``cleanpath`` group (outage and clean-path are registered questions)."""
    from cleanpath.cli.main import cli

    return cli


# --- the workspace ---------------------------------------------------------------------------------

def small_tables(prefix: str = "", n_cells: int = 3) -> dict[str, pd.DataFrame]:
    ops = pd.DataFrame({"operator_id": [f"{prefix}op"], "name": ["Op"], "country": ["DE"]})
    sites = pd.DataFrame({
        "site_id": [f"{prefix}c{i}" for i in range(n_cells)] + [f"{prefix}dc"],
        "operator_id": f"{prefix}op",
        "kind": ["cell"] * n_cells + ["core_dc"],
        "lat": [50.0 + (i % 1000) / 1000 for i in range(n_cells)] + [50.5],
        "lon": [8.0] * (n_cells + 1),
    })
    elements = pd.DataFrame({
        "element_id": [f"{prefix}r{i}" for i in range(n_cells)] + [f"{prefix}mme"],
        "site_id": [f"{prefix}c{i}" for i in range(n_cells)] + [f"{prefix}dc"],
        "role": ["ran.radio"] * n_cells + ["core.mme"],
        "vendor": ["Huawei Technologies Co., Ltd."] * n_cells + ["Ericsson AB"],
        "generation": ["4G"] * n_cells + ["none"],
        "installed_on": ["2019-05-01"] * n_cells + [None],
    })
    links = pd.DataFrame({"a": [f"{prefix}r{i}" for i in range(n_cells)],
                          "b": [f"{prefix}mme"] * n_cells, "kind": "control"})
    return {"operators": ops, "sites": sites, "elements": elements, "links": links}


# --- outage: two operators, known answers -----------------------------------------------------------

SITES = [("cA", "op1", 50.0, 8.0, 100), ("cB", "op1", 50.2, 8.2, 300), ("cC", "op2", 50.0, 8.01, 50),
         ("dc", "op1", 50.5, 8.5, 0), ("dc2", "op2", 50.6, 8.6, 0)]


def two_operators():
    """op1: cells A (behind Huawei router h1) and B (behind Ericsson router e1, also linked to h1);
    op2: cell C behind a Huawei router. A sensitive site covered by A (op1) and C (op2)."""
    els = [("rA", "ran.radio", "ericsson", "cA"), ("bbA", "ran.baseband", "ericsson", "cA"),
           ("rB", "ran.radio", "ericsson", "cB"), ("bbB", "ran.baseband", "ericsson", "cB"),
           ("h1", "transport.router", "huawei", "dc"), ("e1", "transport.router", "ericsson", "dc"),
           ("upf", "core.upf", "ericsson", "dc"), ("mme", "core.mme", "huawei", "dc"),
           ("mme2", "core.mme", "ericsson", "dc"), ("gw", "gateway.internet", "ericsson", "dc"),
           ("ems", "mgmt.ems", "huawei", "dc"),
           ("rC", "ran.radio", "nokia", "cC"), ("hC", "transport.router", "huawei", "dc2"),
           ("upfC", "core.upf", "nokia", "dc2"), ("gwC", "gateway.internet", "nokia", "dc2")]
    links = [("rA", "bbA", "transport"), ("bbA", "h1", "transport"), ("rB", "bbB", "transport"),
             ("bbB", "e1", "transport"), ("h1", "e1", "transport"), ("h1", "upf", "transport"),
             ("e1", "upf", "transport"), ("upf", "gw", "transport"), ("mme", "upf", "transport"),
             ("mme2", "upf", "transport"), ("ems", "upf", "transport"),
             ("bbA", "mme", "control"), ("bbB", "mme2", "control"), ("e1", "ems", "management"),
             ("rC", "hC", "transport"), ("hC", "upfC", "transport"), ("upfC", "gwC", "transport")]
    return make_net(els, links, sites=SITES, sensitive=[("base", "military", 50.0, 8.005, 2000.0)],
                    demands=[("cA", "gateway", 3.0), ("cB", "gateway", 1.0)])


# --- clean path: the definition by brute force ---------------------------------------------------------

UP = ("core.upf", "core.sgw", "core.pgw")
#: Prices without the per-unit site visit, so hand-built fixes cost what their elements cost
#: (a management system still pays REHOME per element it manages).
C0 = CostModel(load_costs().roles, load_costs().generation_factor, 0.0)
REHOME = 500.0
GW = ("gateway.internet", "gateway.interconnect")


# --- the brute force ---------------------------------------------------------------------------------

class Brute:
    """The clean-path definition, evaluated by hand on a small network."""

    def __init__(self, net, untrusted: set[str]):
        el = net.elements
        self.ids = el["element_id"].tolist()
        self.role = dict(zip(self.ids, el["role"]))
        self.vendor = dict(zip(self.ids, el["vendor"]))
        self.cost = dict(zip(self.ids, el["unit_cost"].astype(float)))
        self.on = {e for e, s in zip(self.ids, el["in_service"].fillna(True)) if s}
        self.site = dict(zip(self.ids, el["site_id"]))
        sites = net.sites.set_index("site_id")
        self.op = {e: sites.loc[s, "operator_id"] for e, s in self.site.items()}
        self.pos = {e: (sites.loc[s, "lat"], sites.loc[s, "lon"]) for e, s in self.site.items()}
        self.adj: dict[str, set[str]] = {e: set() for e in self.ids}
        self.deps: dict[str, set[str]] = {e: set() for e in self.ids}
        for a, b, k in zip(net.links["a"], net.links["b"], net.links["kind"]):
            if k == "transport":
                if a != b:
                    self.adj[a].add(b)
                    self.adj[b].add(a)
            else:
                self.deps[a].add(b)
        self.bad = {e for e in self.ids if self.vendor[e] in untrusted}
        self.sens = [(r.sensitive_id, r.lat, r.lon, r.radius_m) for r in net.sensitive_sites.itertuples()]
        self.base = self.serving(self.on)

    def serving(self, alive: set[str]) -> set[str]:
        s = set(alive)
        while True:
            s2 = {e for e in s if self.deps[e] <= s}
            seen = {e for e in s2 if self.role[e] in GW}
            stack = list(seen)
            while stack:
                v = stack.pop()
                for w in self.adj[v]:
                    if w in s2 and w not in seen:
                        seen.add(w)
                        stack.append(w)
            if seen == s:
                return s
            s = seen

    def component(self, v: str, within: set[str]) -> set[str]:
        seen, stack = {v}, [v]
        while stack:
            for w in self.adj[stack.pop()]:
                if w in within and w not in seen:
                    seen.add(w)
                    stack.append(w)
        return seen

    def radios(self, sid: str, op: str) -> list[str]:
        _, lat, lon, rad = next(s for s in self.sens if s[0] == sid)
        return [e for e in self.ids if self.role[e] == "ran.radio" and self.op[e] == op
                and haversine(lat, lon, *self.pos[e]) <= rad]

    def clean(self, sid: str, op: str, replaced: frozenset = frozenset()) -> bool:
        world = self.serving({e for e in self.on if e not in self.bad or e in replaced})
        for r in self.radios(sid, op):
            if r in world and any(self.role[x] in UP for x in self.component(r, world)):
                return True
        return False

    def candidates(self) -> list[str]:
        return sorted(self.bad & self.base)

    def cheapest(self, pairs: list[tuple[str, str]]) -> float:
        """Cheapest set of untrusted elements whose replacement makes every pair clean (inf if none)."""
        cand = self.candidates()
        best = np.inf
        for k in range(len(cand) + 1):
            for combo in itertools.combinations(cand, k):
                c = sum(self.cost[x] for x in combo)
                if c < best and all(self.clean(s, o, frozenset(combo)) for s, o in pairs):
                    best = c
        return best


# --- hand-built cases ---------------------------------------------------------------------------------

def skeleton(radio_vendor="ericsson", rt_vendor="ericsson", extra=(), links=(), ems_vendor=None, amf_vendor=None):
    """A radio at a cell site near the sensitive site, a router, a data centre with a UPF and a gateway."""
    els = [("r", "ran.radio", radio_vendor, "s0", {"generation": "4G", "unit_cost": 10.0}),
           ("rt", "transport.router", rt_vendor, "s0", {"unit_cost": 20.0}),
           ("dcr", "transport.router", "ericsson", "dc", {"unit_cost": 30.0}),
           ("upf", "core.upf", "ericsson", "dc", {"unit_cost": 300.0}),
           ("gw", "gateway.internet", "ericsson", "dc", {"unit_cost": 50.0})]
    lk = [("r", "rt", "transport"), ("rt", "dcr", "transport"), ("dcr", "upf", "transport"),
          ("dcr", "gw", "transport")]
    if ems_vendor:
        els.append(("ems", "mgmt.ems", ems_vendor, "dc", {"unit_cost": 500.0}))
        lk += [("ems", "dcr", "transport"), ("rt", "ems", "management")]
    if amf_vendor:
        els.append(("amf", "core.amf", amf_vendor, "dc", {"unit_cost": 700.0}))
        lk += [("amf", "dcr", "transport"), ("r", "amf", "control")]
    return make_net(els + list(extra), lk + list(links), sensitive=[("base", "military", 50.0, 8.0, 2000.0)])


# --- geometry: independent of cleanpath.geo ------------------------------------------------------------
# Distances through 3-D chords instead of the haversine, containment through textbook ray casting,
# edge distances through dense sampling of the lon/lat-straight edge refined by golden-section search
# (no great-circle arcs, no cross products), so agreement is evidence, not a tautology.

EARTH_RADIUS_M = 6_371_008.8
RADIUS_TOLERANCE_M = 1e-3


def _xyz(lat, lon):
    la, lo = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def chord_distance_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance via 3-D unit vectors (a different formula from the haversine)."""
    a = _xyz(np.asarray(lat1, float), np.asarray(lon1, float))
    b = _xyz(np.asarray(lat2, float), np.asarray(lon2, float))
    chord = np.linalg.norm(a - b, axis=-1)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.clip(chord / 2, 0, 1))


def brute_within(zlat, zlon, zr, lat, lon) -> np.ndarray:
    """Boolean matrix zones x points: distance <= radius + tolerance, by the chord formula."""
    d = chord_distance_m(zlat[:, None], zlon[:, None], lat[None, :], lon[None, :])
    return d <= zr[:, None] + RADIUS_TOLERANCE_M


def ray_cast(px: float, py: float, rings: list[list[list[float]]]) -> bool:
    """Textbook even-odd ray casting with a boundary check, one point at a time (small tests only)."""
    inside = False
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:]):
            cross = (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)
            if (abs(cross) < 1e-12 and min(x1, x2) - 1e-12 <= px <= max(x1, x2) + 1e-12
                    and min(y1, y2) - 1e-12 <= py <= max(y1, y2) + 1e-12):
                return True
            if (y1 > py) != (y2 > py) and px < x1 + (py - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def inside_polygons(lat, lon, polygons, *, shift_west: bool = False) -> np.ndarray:
    """Ray casting over (Multi)Polygon coordinates; ``shift_west`` reads longitudes < 0 as +360
    (for a polygon written across the antimeridian with positive longitudes past 180)."""
    out = []
    for y, x in zip(np.asarray(lat, float), np.asarray(lon, float)):
        qx = x + 360.0 if (shift_west and x < 0) else x
        out.append(any(ray_cast(qx, y, rings) for rings in polygons))
    return np.array(out, dtype=bool)


def edge_distance_m(lat, lon, polygons, *, samples: int = 2001) -> np.ndarray:
    """Distance from points to the rings of ``polygons`` (edges straight in lon/lat), brute force.

    Every edge is sampled at ``samples`` points; the best sample of each (point, edge) is refined
    by 60 golden-section steps on the edge parameter. Containment is not considered (callers
    set inside points to 0).
    """
    lat = np.asarray(lat, float)
    lon = np.asarray(lon, float)
    edges = np.array([[x1, y1, x2, y2] for rings in polygons for ring in rings
                      for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:])], dtype=float)
    p = _xyz(lat, lon)
    best = np.full(lat.size, np.inf)
    t = np.linspace(0.0, 1.0, samples)

    def dist(e, tt):  # points x samples
        q = _xyz(e[1] + tt * (e[3] - e[1]), e[0] + tt * (e[2] - e[0]))
        return 2 * EARTH_RADIUS_M * np.arcsin(np.clip(np.linalg.norm(p[:, None, :] - q[None], axis=-1) / 2, 0, 1))

    g = (np.sqrt(5) - 1) / 2
    for e in edges:
        d = dist(e, t)  # points x samples
        k = np.argmin(d, axis=1)
        lo = np.maximum(t[k] - 1.0 / (samples - 1), 0.0)
        hi = np.minimum(t[k] + 1.0 / (samples - 1), 1.0)
        for _ in range(60):
            a = hi - g * (hi - lo)
            b = lo + g * (hi - lo)
            qa = _xyz(e[1] + a * (e[3] - e[1]), e[0] + a * (e[2] - e[0]))
            qb = _xyz(e[1] + b * (e[3] - e[1]), e[0] + b * (e[2] - e[0]))
            fa = np.linalg.norm(p - qa, axis=-1)
            fb = np.linalg.norm(p - qb, axis=-1)
            left = fa < fb
            hi = np.where(left, b, hi)
            lo = np.where(left, lo, a)
        m = (lo + hi) / 2
        qm = _xyz(e[1] + m * (e[3] - e[1]), e[0] + m * (e[2] - e[0]))
        dm = 2 * EARTH_RADIUS_M * np.arcsin(np.clip(np.linalg.norm(p - qm, axis=-1) / 2, 0, 1))
        best = np.minimum(best, np.minimum(dm, d.min(axis=1)))
    return best


def scatter_around(rng, lat, lon, radius_m, n, destination):
    """n points around a centre at distances up to 2x the radius, in every direction."""
    return destination(np.full(n, lat), np.full(n, lon), rng.uniform(0, 360, n), rng.uniform(0, 2 * radius_m, n))


def _clip(ring: list[list[float]], keep_west: bool) -> list[list[float]]:
    """Sutherland-Hodgman clip of a ring (longitudes continuous, past 180) against lon <= 180
    (``keep_west``) or lon >= 180."""
    def inside(p):
        return p[0] <= 180.0 if keep_west else p[0] >= 180.0

    out: list[list[float]] = []
    pts = ring[:-1]
    for i, cur in enumerate(pts):
        prev = pts[i - 1]
        if inside(cur):
            if not inside(prev):
                t = (180.0 - prev[0]) / (cur[0] - prev[0])
                out.append([180.0, prev[1] + t * (cur[1] - prev[1])])
            out.append(list(cur))
        elif inside(prev):
            t = (180.0 - prev[0]) / (cur[0] - prev[0])
            out.append([180.0, prev[1] + t * (cur[1] - prev[1])])
    return out + [out[0]] if out else []


def cut_at_antimeridian(polygon: list[list[list[float]]]) -> dict:
    """A convex Polygon written with continuous longitudes (some past 180) as the RFC 7946
    MultiPolygon cut at 180: the west part up to 180, the east part from -180. Holes must lie on
    one side of the cut (a hole straddling it would have to become a notch)."""
    shell, holes = polygon[0], polygon[1:]
    west, east = _clip(shell, True), _clip(shell, False)
    east = [[x - 360.0, y] for x, y in east]
    parts = [[west], [east]]
    for h in holes:
        if all(x <= 180.0 for x, _y in h):
            parts[0].append(h)
        else:
            parts[1].append([[x - 360.0, y] for x, y in h])
    return {"type": "MultiPolygon", "coordinates": [p for p in parts if p[0]]}


def wrap(lon):
    """Longitudes into -180..180 (180 stays 180)."""
    lon = np.asarray(lon, float)
    return np.where(lon > 180.0, lon - 360.0, lon)


# --- workbooks written by hand (zip of SpreadsheetML, no spreadsheet library) ----------------------

def _cell(ref: str, v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b"><v>{int(v)}</v></c>'
    if isinstance(v, (int, float)):
        return f'<c r="{ref}"><v>{v}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(v)}</t></is></c>'


def write_xlsx(path: Path, sheets: dict[str, list[list]], extra: dict[str, bytes] | None = None) -> None:
    """A minimal SpreadsheetML workbook, written by hand (inline strings, numbers, booleans)."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                             for i in range(1, len(sheets) + 1)) + "</Types>")
        z.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}"><sheets>'
                   + "".join(f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(sheets, 1))
                   + "</sheets></workbook>")
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   + "".join(f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                             for i in range(1, len(sheets) + 1)) + "</Relationships>")
        for i, rows in enumerate(sheets.values(), 1):
            body = "".join(f'<row r="{r}">' + "".join(_cell(f"{chr(65 + j)}{r}", v) for j, v in enumerate(row)) + "</row>"
                           for r, row in enumerate(rows, 1) if row)
            z.writestr(f"xl/worksheets/sheet{i}.xml",
                       f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData>{body}</sheetData></worksheet>')
        for name, data in (extra or {}).items():
            z.writestr(name, data)


XLSX_MAP = """
tables:
  operators:
    file: inventar.xlsx
    sheet: Standorte
    header_row: 3
    distinct: true
    columns: {operator_id: Betreiber, name: Betreiber}
    constants: {country: DE}
  sites:
    file: inventar.xlsx
    sheet: Standorte
    header_row: 3
    columns: {site_id: Standort, operator_id: Betreiber, lat: Breite, lon: Länge, kind: Typ}
    values:
      kind: {Funk: cell, RZ: core_dc}
  elements:
    file: inventar.xlsx
    sheet: 2
    columns: {element_id: ID, site_id: Standort, role: Funktion, vendor: Hersteller, in_service: Aktiv,
              installed_on: Seit}
    values:
      role: {Funkmodul: ran.radio, MME: core.mme}
"""


def german_workbook(tmp_path: Path, role3: str = "MME", lat2=49.44) -> Path:
    """``inventar.xlsx`` as a German OSS exports it: a title above the sites' header (row 3), typed
    cells, legal vendor names, German dates; ``role3`` and ``lat2`` plant bad values."""
    p = tmp_path / "inventar.xlsx"
    write_xlsx(p, {
        "Standorte": [["Inventar Standorte (Export 2026-12-01)"], [],
                      ["Standort", "Betreiber", "Breite", "Länge", "Typ"],
                      [1001, "Telekom", 49.4443, 7.7689, "Funk"],
                      [1002, "Telekom", lat2, 7.6, "Funk"],
                      ["RZ-1", "Telekom", 50.11, 8.68, "RZ"]],
        "Elemente": [["ID", "Standort", "Funktion", "Hersteller", "Aktiv", "Seit"],
                     ["e1", 1001, "Funkmodul", "HUAWEI TECHNOLOGIES CO., LTD.", True, "11.03.2019"],
                     ["e2", 1002, "Funkmodul", "ZTE Corporation", False, "2020-01-31 00:00:00"],
                     ["e3", "RZ-1", role3, "Ericsson AB", True, None]],
    })
    return p


# --- a real `cleanpath serve` on loopback and a real chromium ---------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
#: Screenshots of the browser tests, for a person to look at.
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
BROWSER_TIMEOUT = 60.0
_LAUNCH = "import sys; from cleanpath.cli.main import cli; cli(sys.argv[1:], prog_name='cleanpath')"


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(ws_path: Path, *options: str, timeout: float = BROWSER_TIMEOUT) -> Iterator[str]:
    """``cleanpath serve`` on ``ws_path`` in a subprocess, yielding its URL once ``/health`` answers;
    terminated (SIGTERM, then SIGKILL) on exit."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", _LAUNCH, "serve", "-w", str(ws_path), "--port", str(port),
                             "--log-level", "warning", *options],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    end = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            raise AssertionError(f"cleanpath serve did not start: {proc.communicate()[0][-2000:]}")
        time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def require_chromium() -> None:
    """Fail, not skip: `make test` installs chromium, so its absence is a broken set-up to report."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `bash scripts/ensure-chromium.sh` (make test does)")


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless, driven by Playwright (one per test module)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser page whose script errors and console errors collect in ``page.errors``."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 850})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.errors = errors
    yield pg
    ctx.close()


def wait(pg, expr: str, timeout: float = BROWSER_TIMEOUT):
    """Poll a JS expression until it is truthy; returns its value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pg.evaluate(expr)
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {expr}; page errors: {pg.errors}")


def shot(pg, name: str) -> None:
    """A screenshot into test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / name))


def sign_in(pg, server: dict, role: str, *, ready: str = "window.cleanpath.state.sitesRenderedAt !== null") -> None:
    """Sign in to the dashboard at ``server["url"]`` with the token of ``role`` through the sign-in
    dialog, as a person does, and wait until the page is ``ready`` (by default: the map is drawn)."""
    pg.goto(server["url"] + "/")
    pg.wait_for_selector("#login[open]", timeout=BROWSER_TIMEOUT * 1000)
    pg.fill("#login-token", server["tokens"][role])
    pg.click("#login-form button[type=submit]")
    wait(pg, ready)
