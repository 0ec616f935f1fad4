"""Shared test oracles and network builders: the one module tests import helpers from.

No test module imports another; what several test files need lives here: hand-built networks with
known answers (``make_network`` for the policy tests, ``make_net`` for the graph questions,
``small_tables``, ``two_operators``), random networks, and independent oracles written with plain
Python and networkx (``oracle_serving``, ``haversine``).
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd

import cleanpath

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
