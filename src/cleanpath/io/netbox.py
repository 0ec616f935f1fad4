"""Import an inventory from a live NetBox (4.x) through its REST API, with pynetbox.

Many operators keep their inventory in NetBox. ``cleanpath import netbox --url URL --token-env VAR``
reads it into model tables, which then land in a snapshot all or nothing like any other import.
The API token is read from the environment variable named by ``--token-env``, never from the
command line (where it would sit in shell history and ``ps`` output).

What becomes what
-----------------
* **Tenants -> operators.** Every tenant that owns a site becomes an operator: ``operator_id`` is
  the tenant's slug, ``name`` its name, ``country`` its ``country`` custom field, else the
  mapping's ``country``, else ``--country``. Sites without a tenant belong to the mapping's
  ``operator`` (or ``--operator``).
* **Sites -> sites.** ``site_id`` is the slug; ``lat``/``lon`` are NetBox's latitude and
  longitude (a site without them is an error naming it, unless the mapping says
  ``sites_without_coordinates: keep``); ``region`` is the region's name; ``subscribers`` the
  ``subscribers`` custom field. ``kind`` is the ``site_kind`` custom field, else the mapping's
  ``site_kinds`` entry for the site's group, else what its devices say: a site with core or
  management functions is a ``core_dc``, else one with a gateway a ``gateway``, else one with
  radio equipment a ``cell``, else (transport only, or empty) a ``hub``.
* **Devices -> elements.** ``element_id`` is the device name (``name@site`` where NetBox has the
  same name at several sites, ``netbox-device-<id>`` for unnamed devices); ``vendor`` is the
  device type's manufacturer resolved through the vendor catalogue (any spelling the catalogue
  knows, or the mapping's ``vendors``; a manufacturer it cannot resolve is an error with
  suggestions); ``model`` the device type's model; ``role`` from the mapping's ``device_types``
  (by device type slug or model), else its ``roles`` (by device role slug or name), else
  :data:`DEFAULT_ROLES`; ``generation``, ``installed_on``, ``unit_cost`` and ``funded_by`` from
  custom fields (names in :data:`DEFAULT_CUSTOM_FIELDS`); ``in_service`` is status ``active``.
* **Connections -> transport links.** Every pair of device interfaces NetBox knows to be connected
  (a cable, a path through patch panels, or a wireless link) is one ``transport`` link between
  the two devices; parallel connections between the same two devices are one link.

  - ``encrypted`` comes from the cables' ``encrypted`` custom field (a NetBox *Boolean* custom
    field on ``dcim.cable``; renamed with ``custom_fields: {encrypted: macsec}`` in the mapping).
    A link is encrypted only if **every** cable joining its two devices is marked true: one
    clear cable beside encrypted ones lets a reader on it see the traffic, so the link stays
    unencrypted (and a note counts such mixed links). The cables counted are those plugged into
    the two devices' interfaces (for a path through patch panels, the cable at each end; the
    trunk cables between panels are not read). A connection without a cable (a wireless link)
    and a cable with the field unset count as unencrypted. Any value other than true, false or
    empty (a text or number field of that name) is a problem naming the cable
    (``netbox:dcim/cables:17, column 'custom_fields.encrypted'``), and nothing lands.
  - ``capacity_gbps`` comes from the interfaces' ``speed`` (kbit/s): a connection runs at the
    slower of its two interfaces (an interface without a speed is ignored; with neither end
    known, the connection's speed is unknown), and parallel connections between the same two
    devices add up. A link with any connection of unknown speed has no capacity (empty), rather
    than a total that silently leaves a connection out.

Problems name the NetBox object: ``file`` is ``netbox:<endpoint>`` (``netbox:dcim/devices``),
``line`` the object's id, ``column`` its field (``custom_fields.generation``).

Reading is paginated with NetBox's largest page (1,000 objects) and pages are fetched in parallel
threads; only the fields used are requested (``?fields=``), and rows are plain dicts turned into
frames at once rather than pynetbox ``Record`` objects (which cost a Python object per nested
field: see ``bench/bench_netbox.py``).
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import yaml

from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.io.registry import Imported
from cleanpath.model.schema import ROLES, SITE_KINDS
from cleanpath.model.validate import Source
from cleanpath.model.vendors import default_catalogue, normalise_name

#: NetBox device role (slug or name, folded: lower case, words joined by ``-``) -> cleanpath role,
#: used when the mapping file says nothing about a role. A role spelled like cleanpath's own
#: (``ran.radio``, ``ran-radio``, ``core-amf``) maps to it too.
DEFAULT_ROLES: dict[str, str] = {
    **{k: "transport.router" for k in (
        "router", "core-router", "edge-router", "pe-router", "p-router", "pe", "aggregation-router",
        "access-router", "cell-site-router", "csr", "metro-router", "backbone-router")},
    **{k: "transport.switch" for k in (
        "switch", "access-switch", "core-switch", "distribution-switch", "aggregation-switch", "leaf",
        "spine", "tor-switch", "l2-switch")},
    **{k: "transport.microwave" for k in ("microwave", "microwave-radio", "mw", "mw-radio")},
    **{k: "transport.optical" for k in ("optical", "dwdm", "otn", "roadm", "olt", "optical-transport")},
    **{k: "security.firewall" for k in ("firewall", "fw")},
    **{k: "ran.radio" for k in ("radio", "rru", "rrh", "aau", "radio-unit", "ru", "antenna")},
    **{k: "ran.baseband" for k in ("baseband", "bbu", "enodeb", "gnodeb", "du", "cu", "baseband-unit")},
    **{k: "ran.controller" for k in ("bsc", "rnc", "ran-controller")},
    **{r.split(".")[1]: r for r in ROLES if r.startswith("core.")},
    **{k: "mgmt.oss" for k in ("oss",)},
    **{k: "mgmt.ems" for k in ("ems", "nms", "element-manager")},
    **{k: "gateway.internet" for k in ("internet-gateway", "peering", "peering-router", "border-router",
                                       "gateway", "transit")},
    **{k: "gateway.interconnect" for k in ("interconnect", "interconnect-gateway", "ipx")},
}

#: Which NetBox custom field holds what (the mapping's ``custom_fields`` overrides any of them).
DEFAULT_CUSTOM_FIELDS: dict[str, str] = {
    "generation": "generation",        # devices: 2G, 3G, 4G, 5G-NSA, 5G-SA, none
    "installed_on": "install_date",    # devices: date installed
    "unit_cost": "unit_cost",          # devices: replacement cost, USD
    "funded_by": "funded_by",          # devices: subsidy programme
    "site_kind": "site_kind",          # sites: cell, hub, aggregation, core_dc, exchange, gateway
    "subscribers": "subscribers",      # sites: subscribers served
    "country": "country",              # tenants: ISO 3166-1 alpha-2
    "encrypted": "encrypted",          # cables: Boolean, the link's traffic is encrypted (MACsec, IPsec)
}

MAPPING_KEYS = ("country", "operator", "roles", "device_types", "vendors", "site_kinds", "custom_fields",
                "sites_without_coordinates")

#: Objects per page: NetBox's default MAX_PAGE_SIZE, the most one request may return.
PAGE_SIZE = 1000
#: Seconds before a request to NetBox is given up.
TIMEOUT_S = 120.0

# The fields read per endpoint (NetBox's ``?fields=`` keeps responses small).
_FIELDS = {
    "tenancy/tenants": "id,slug,name,custom_fields",
    "dcim/sites": "id,slug,name,latitude,longitude,region,group,tenant,custom_fields",
    "dcim/manufacturers": "id,slug,name",
    "dcim/device-types": "id,slug,model,manufacturer",
    "dcim/device-roles": "id,slug,name",
    "dcim/devices": "id,name,site,role,device_type,status,custom_fields",
    "dcim/interfaces": "id,device,speed,cable,connected_endpoints,connected_endpoints_type",
    "dcim/cables": "id,custom_fields",
}


def _fold(text: Any) -> str:
    """A role, type or group spelling as a lookup key: ``"Core Router"`` -> ``"core-router"``."""
    return re.sub(r"[^0-9a-z.]+", "-", str(text).casefold()).strip("-")


# -- the mapping file ----------------------------------------------------------------------------------

@dataclass
class NetBoxMapping:
    """How NetBox's vocabulary maps onto the model (the ``--map`` YAML file; every key optional).

    Attributes
    ----------
    country
        Country of tenants without a ``country`` custom field.
    operator
        Operator id for sites without a tenant.
    roles
        Device role (slug or name) -> cleanpath role; adds to and overrides :data:`DEFAULT_ROLES`.
    device_types
        Device type (slug or model) -> cleanpath role; wins over the device's role.
    vendors
        Manufacturer (slug or name) -> vendor (any spelling the catalogue knows, or a new id).
    site_kinds
        Site group (slug or name) -> site kind.
    custom_fields
        Overrides of :data:`DEFAULT_CUSTOM_FIELDS`.
    keep_sites_without_coordinates
        ``sites_without_coordinates: keep``: import such sites without lat/lon (with a note)
        instead of refusing the import.
    file
        The mapping file, for problems about its entries.
    """

    country: str | None = None
    operator: str | None = None
    roles: dict[str, str] = field(default_factory=dict)
    device_types: dict[str, str] = field(default_factory=dict)
    vendors: dict[str, str] = field(default_factory=dict)
    site_kinds: dict[str, str] = field(default_factory=dict)
    custom_fields: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CUSTOM_FIELDS))
    keep_sites_without_coordinates: bool = False
    file: str | None = None


def load_mapping(source: str | Path | Mapping | None) -> NetBoxMapping:
    """Read a NetBox mapping (a YAML file, or the same content as a dict); None gives the defaults.

    Raises
    ------
    ValidationError
        Not YAML, unknown keys, roles or site kinds not in the model; each problem names the file
        and, for YAML, the line.
    """
    if source is None:
        return NetBoxMapping()
    file = None
    lines: dict[tuple, int] = {}
    if isinstance(source, Mapping):
        doc = dict(source)
    else:
        file = str(source)
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as e:
            raise ValidationError(Problem(f"cannot read the mapping file: {e.strerror or e}", file=file)) from None
        try:
            doc = yaml.safe_load(text) or {}
            lines = _key_lines(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            raise ValidationError(Problem(f"not valid YAML: {getattr(e, 'problem', None) or e}", file=file,
                                          line=None if mark is None else mark.line + 1)) from None
    problems = ProblemCollector(file)
    if not isinstance(doc, dict):
        raise ValidationError(Problem("a NetBox mapping is a YAML mapping of keys "
                                      f"({', '.join(MAPPING_KEYS)})", file=file, line=1))
    for k in doc:
        if k not in MAPPING_KEYS:
            close = difflib.get_close_matches(str(k), MAPPING_KEYS, n=1)
            problems.add(f"unknown key{f'; did you mean {close[0]!r}?' if close else ''} (known: "
                         f"{', '.join(MAPPING_KEYS)})", line=lines.get((k,)), column=str(k), value=k)
    m = NetBoxMapping(file=file)

    def table(key: str, allowed: tuple[str, ...] | None) -> dict[str, str]:
        got = doc.get(key) or {}
        if not isinstance(got, dict):
            problems.add(f"{key} must map NetBox names to values", line=lines.get((key,)), column=key)
            return {}
        out = {}
        for name, value in got.items():
            if allowed is not None and value not in allowed:
                close = difflib.get_close_matches(str(value), allowed, n=1)
                problems.add(f"{key}: {value!r} is not one of cleanpath's "
                             f"{'roles' if allowed is ROLES else 'site kinds'}"
                             f"{f'; did you mean {close[0]!r}?' if close else ''}",
                             line=lines.get((key, name)), column=f"{key}.{name}", value=value)
                continue
            out[_fold(name)] = str(value)
        return out

    m.roles = table("roles", ROLES)
    m.device_types = table("device_types", ROLES)
    m.site_kinds = table("site_kinds", SITE_KINDS)
    for k, v in table("vendors", None).items():  # looked up by slug, and by name in any spelling
        m.vendors[k] = v
        m.vendors[normalise_name(k)] = v
    cf = doc.get("custom_fields") or {}
    if isinstance(cf, dict):
        for k, v in cf.items():
            if k not in DEFAULT_CUSTOM_FIELDS:
                problems.add(f"custom_fields: unknown entry; known: {', '.join(DEFAULT_CUSTOM_FIELDS)}",
                             line=lines.get(("custom_fields", k)), column=f"custom_fields.{k}", value=k)
            else:
                m.custom_fields[k] = str(v)
    else:
        problems.add("custom_fields must map our names to NetBox custom field names",
                     line=lines.get(("custom_fields",)), column="custom_fields")
    m.country = None if doc.get("country") is None else str(doc["country"]).strip().upper()
    m.operator = None if doc.get("operator") is None else str(doc["operator"]).strip()
    policy = doc.get("sites_without_coordinates", "error")
    if policy not in ("error", "keep"):
        problems.add("sites_without_coordinates is 'error' (the default) or 'keep'",
                     line=lines.get(("sites_without_coordinates",)), column="sites_without_coordinates",
                     value=policy)
    m.keep_sites_without_coordinates = policy == "keep"
    problems.raise_if_any()
    return m


def _key_lines(text: str) -> dict[tuple, int]:
    """1-based line of every top-level key and every key one level below it."""
    out: dict[tuple, int] = {}
    node = yaml.compose(text)
    if not isinstance(node, yaml.MappingNode):
        return out
    for k, v in node.value:
        out[(k.value,)] = k.start_mark.line + 1
        if isinstance(v, yaml.MappingNode):
            for kk, _ in v.value:
                out[(k.value, kk.value)] = kk.start_mark.line + 1
    return out


# -- talking to NetBox -----------------------------------------------------------------------------------

class _Client:
    """pynetbox's API object with a timeout on every request, and errors in the user's terms."""

    def __init__(self, url: str, token: str, *, workers: int = 4, timeout: float = TIMEOUT_S):
        import pynetbox
        import requests

        class _Session(requests.Session):
            def request(self, *a, **kw):
                kw.setdefault("timeout", timeout)
                return super().request(*a, **kw)

        if not re.match(r"^https?://[^/\s]+", url or ""):
            raise ValidationError(Problem("the NetBox URL must start with http:// or https:// and name a host",
                                          file="netbox", column="url", value=url))
        self.url = url.rstrip("/")
        self.api = pynetbox.api(self.url, token=token, threading=True, max_workers=workers)
        self.api.http_session = _Session()
        self.workers = workers

    def _fail(self, e: Exception, what: str) -> ValidationError:
        import pynetbox
        import requests

        where = f"netbox:{what}"
        if isinstance(e, pynetbox.RequestError):
            code = e.req.status_code
            if code in (401, 403):
                reason = (f"NetBox at {self.url} refused the API token (HTTP {code}): check the token in "
                          "the environment variable (a v2 token looks like nbt_<key>.<secret>) and that it "
                          "may read DCIM and tenancy objects")
            elif code == 404:
                reason = f"{self.url}/api/{what}/ does not exist (HTTP 404): is this NetBox 4.x, and is the URL its root?"
            else:
                reason = f"NetBox at {self.url} answered HTTP {code} for {what}: {str(e.error)[:300]}"
        elif isinstance(e, pynetbox.ContentError):
            reason = f"{self.url} did not answer with JSON: is it a NetBox server?"
        elif isinstance(e, requests.Timeout):
            reason = f"NetBox at {self.url} did not answer within {TIMEOUT_S:.0f} s"
        elif isinstance(e, requests.ConnectionError):
            reason = f"cannot reach NetBox at {self.url}: {type(e).__name__} (is the URL right and the server up?)"
        elif isinstance(e, requests.RequestException):
            reason = f"cannot talk to NetBox at {self.url}: {e}"
        else:
            raise e
        return ValidationError(Problem(reason, file=where, column="url", value=self.url))

    def status(self) -> dict:
        try:
            st = self.api.status()
            # the status page may be public; reading one site proves the token is accepted
            from pynetbox.core.query import Request
            next(iter(Request(base=f"{self.api.base_url}/dcim/sites", http_session=self.api.http_session,
                              token=self.api.token, filters={"brief": 1}, limit=1, offset=0).get()), None)
        except Exception as e:  # noqa: BLE001 - turned into a ValidationError or re-raised
            raise self._fail(e, "status") from None
        return st

    def fetch(self, endpoint: str, **filters: Any) -> list[dict]:
        """Every object of an endpoint (``dcim/devices``) as plain dicts, pages fetched in parallel."""
        from pynetbox.core.query import Request

        req = Request(base=f"{self.api.base_url}/{endpoint}", http_session=self.api.http_session,
                      token=self.api.token, filters={"fields": _FIELDS[endpoint], **filters},
                      limit=PAGE_SIZE, threading=True, max_workers=self.workers)
        try:
            return list(req.get())
        except Exception as e:  # noqa: BLE001
            raise self._fail(e, endpoint) from None


# -- building the tables -----------------------------------------------------------------------------

def _nested(rows: list[dict], key: str, attr: str) -> list:
    return [(r.get(key) or {}).get(attr) if isinstance(r.get(key), dict) else None for r in rows]


def _custom(rows: list[dict], name: str) -> list:
    return [(r.get("custom_fields") or {}).get(name) for r in rows]


def _source(endpoint: str, ids: np.ndarray) -> Source:
    ids = np.asarray(ids, dtype=np.int64)
    return Source(f"netbox:{endpoint}", lambda rows: ids[np.asarray(rows, dtype=np.int64)])


def _suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(str(name), choices, n=3, cutoff=0.5)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def read_netbox(*, url: str, token: str, mapping: str | Path | Mapping | NetBoxMapping | None = None,
                operator_id: str | None = None, country: str | None = None,
                workers: int = 4) -> Imported:
    """Read a NetBox inventory into model tables (nothing is written anywhere).

    Parameters
    ----------
    url
        NetBox's root URL (``https://netbox.example.net``).
    token
        An API token that may read DCIM and tenancy objects.
    mapping
        A mapping file (YAML), its content as a dict, or a :class:`NetBoxMapping`; None uses the
        defaults described in the module docstring.
    operator_id
        Operator of sites without a tenant (the mapping's ``operator`` wins).
    country
        Country of tenants without a ``country`` custom field (the mapping's ``country`` wins).
    workers
        Pages fetched at once.

    Returns
    -------
    Imported
        ``operators``, ``sites``, ``elements`` and ``links`` with each row's NetBox object as its
        source (``file`` = ``netbox:<endpoint>``, ``line`` = object id).

    Raises
    ------
    ValidationError
        NetBox unreachable, the token refused, manufacturers the catalogue does not know, device
        roles with no cleanpath role, sites without coordinates, tenants without a country, cables
        whose encryption field is not a boolean...;
        up to 100 problems, each naming the NetBox object.
    """
    m = mapping if isinstance(mapping, NetBoxMapping) else load_mapping(mapping)
    client = _Client(url, token, workers=workers)
    st = client.status()
    version = str(st.get("netbox-version") or "")
    if not re.match(r"^[4-9]\.", version):
        raise ValidationError(Problem(f"NetBox {version or '(unknown version)'} is not supported: cleanpath reads "
                                      "NetBox 4.0 or newer", file="netbox:status", column="netbox-version",
                                      value=version))
    tenants = client.fetch("tenancy/tenants")
    sites = client.fetch("dcim/sites")
    manufacturers = client.fetch("dcim/manufacturers")
    types = client.fetch("dcim/device-types")
    roles = client.fetch("dcim/device-roles")
    devices = client.fetch("dcim/devices")
    interfaces = client.fetch("dcim/interfaces", connected="true")
    cables = client.fetch("dcim/cables")
    return _tables(m, operator_id=operator_id, country=country, tenants=tenants, sites=sites,
                   manufacturers=manufacturers, types=types, roles=roles, devices=devices,
                   interfaces=interfaces, cables=cables, version=version)


def _tables(m: NetBoxMapping, *, operator_id, country, tenants, sites, manufacturers, types, roles, devices,
            interfaces, cables, version) -> Imported:
    problems = ProblemCollector()
    warnings: list[str] = []
    cf = m.custom_fields
    cat = default_catalogue()

    # --- devices: role and vendor, resolved once per distinct role / type / manufacturer -------------
    dev = pd.DataFrame({
        "id": [d["id"] for d in devices],
        "name": [d.get("name") for d in devices],
        "site": _nested(devices, "site", "id"),
        "role": _nested(devices, "role", "id"),
        "type": _nested(devices, "device_type", "id"),
        "status": [(d.get("status") or {}).get("value") if isinstance(d.get("status"), dict) else d.get("status")
                   for d in devices],
        "generation": _custom(devices, cf["generation"]),
        "installed_on": _custom(devices, cf["installed_on"]),
        "unit_cost": _custom(devices, cf["unit_cost"]),
        "funded_by": _custom(devices, cf["funded_by"]),
    })
    typ = pd.DataFrame({"id": [t["id"] for t in types], "slug": [t.get("slug") for t in types],
                        "model": [t.get("model") for t in types],
                        "manufacturer": _nested(types, "manufacturer", "id")}).set_index("id")
    man = pd.DataFrame({"id": [x["id"] for x in manufacturers], "slug": [x.get("slug") for x in manufacturers],
                        "name": [x.get("name") for x in manufacturers]}).set_index("id")
    rol = pd.DataFrame({"id": [x["id"] for x in roles], "slug": [x.get("slug") for x in roles],
                        "name": [x.get("name") for x in roles]}).set_index("id")
    site = pd.DataFrame({
        "id": [s["id"] for s in sites], "slug": [s.get("slug") for s in sites],
        "lat": [s.get("latitude") for s in sites], "lon": [s.get("longitude") for s in sites],
        "region": _nested(sites, "region", "name"), "group_slug": _nested(sites, "group", "slug"),
        "group_name": _nested(sites, "group", "name"), "tenant": _nested(sites, "tenant", "id"),
        "kind": _custom(sites, cf["site_kind"]), "subscribers": _custom(sites, cf["subscribers"]),
    })
    used_types = typ.loc[typ.index.intersection(pd.Index(dev["type"].dropna().unique()))]

    # vendor per manufacturer
    spellings = list(cat.spellings())
    vendor_of: dict[int, str] = {}
    counts = dev["type"].map(typ["manufacturer"]).value_counts()
    for mid, row in man.loc[man.index.intersection(used_types["manufacturer"].dropna().unique())].iterrows():
        mapped = m.vendors.get(normalise_name(row["name"])) or m.vendors.get(_fold(row["name"])) \
            or m.vendors.get(_fold(row["slug"]))
        got = (cat.resolve(mapped) or mapped) if mapped else (cat.resolve(row["name"]) or cat.resolve(row["slug"]))
        if got is None:
            problems.add(f"manufacturer {row['name']!r} ({int(counts.get(mid, 0)):,} devices) is not in the vendor "
                         f"catalogue{_suggest(row['name'], spellings)} Map it under 'vendors:' in --map "
                         "(see `cleanpath vendors`)", file="netbox:dcim/manufacturers", line=int(mid),
                         column="name", value=row["name"])
        else:
            vendor_of[int(mid)] = got

    # role per (device type, device role)
    role_of_type = {int(i): m.device_types.get(_fold(r["slug"])) or m.device_types.get(_fold(r["model"]))
                    for i, r in used_types.iterrows()}
    role_of_role: dict[int, str | None] = {}
    role_counts = dev["role"].value_counts()
    for rid, r in rol.loc[rol.index.intersection(pd.Index(dev["role"].dropna().unique()))].iterrows():
        role_of_role[int(rid)] = _role(m, r["slug"], r["name"])
    dev_role = dev["type"].map(role_of_type)
    dev_role = dev_role.where(dev_role.notna(), dev["role"].map(role_of_role))
    unresolved = dev_role.isna()
    if unresolved.any():
        choices = sorted(set(DEFAULT_ROLES) | set(ROLES))
        for rid in dev.loc[unresolved, "role"].drop_duplicates().head(100):
            r = rol.loc[rid] if rid in rol.index else None
            name = r["name"] if r is not None else str(rid)
            n = int((dev["role"] == rid)[unresolved].sum()) if r is not None else int(role_counts.get(rid, 0))
            problems.add(f"device role {name!r} ({n:,} devices) has no cleanpath role"
                         f"{_suggest(_fold(name), choices)} Map it under 'roles:' (or the device types under "
                         "'device_types:') in --map; `cleanpath schema` lists the roles",
                         file="netbox:dcim/device-roles", line=int(rid) if pd.notna(rid) else None,
                         column="name", value=name)

    # element ids: the device name, made unique where NetBox repeats it across sites
    site_slug = pd.Series(site["slug"].to_numpy(), index=site["id"])
    dsite = dev["site"].map(site_slug)
    name = dev["name"].astype(object)
    named = name.notna() & (name.astype(str).str.strip() != "")
    dup = named & name.duplicated(keep=False)
    eid = name.where(~dup, name.astype(str) + "@" + dsite.astype(str))
    eid = eid.where(named, "netbox-device-" + dev["id"].astype(str))
    if dup.any():
        warnings.append(f"{int(dup.sum()):,} NetBox devices share a name with a device at another site: their "
                        "element ids are name@site")
    elements = pd.DataFrame({
        "element_id": eid, "site_id": dsite, "role": dev_role,
        "vendor": dev["type"].map(typ["manufacturer"]).map(vendor_of),
        "model": dev["type"].map(typ["model"]),
        "generation": dev["generation"], "installed_on": dev["installed_on"],
        "in_service": (dev["status"] == "active").map({True: "true", False: "false"}),
        "unit_cost": dev["unit_cost"], "funded_by": dev["funded_by"],
    })
    off = int((dev["status"] != "active").sum())
    if off:
        warnings.append(f"{off:,} NetBox devices whose status is not 'active' are imported as not in service")

    # --- sites ---------------------------------------------------------------------------------------
    tenant = pd.DataFrame({"id": [t["id"] for t in tenants], "slug": [t.get("slug") for t in tenants],
                           "name": [t.get("name") for t in tenants],
                           "country": _custom(tenants, cf["country"])}).set_index("id")
    default_op = m.operator or operator_id
    s_op = site["tenant"].map(tenant["slug"])
    s_op = s_op.where(s_op.notna(), default_op)
    for sid, slug in site.loc[s_op.isna(), ["id", "slug"]].itertuples(index=False):
        problems.add(f"site {slug!r} has no tenant: give it one in NetBox, or name its operator with "
                     "'operator:' in --map or --operator", file="netbox:dcim/sites", line=int(sid), column="tenant")
    nocoord = site["lat"].isna() | site["lon"].isna()
    if nocoord.any():
        if m.keep_sites_without_coordinates:
            warnings.append(f"{int(nocoord.sum()):,} NetBox sites have no latitude/longitude and are imported without "
                            "a location (questions that need one leave them out)")
        else:
            for sid, slug, lat in site.loc[nocoord, ["id", "slug", "lat"]].itertuples(index=False):
                problems.add(f"site {slug!r} has no {'latitude' if pd.isna(lat) else 'longitude'}: set it in "
                             "NetBox, or import such sites without a location with "
                             "'sites_without_coordinates: keep' in --map", file="netbox:dcim/sites", line=int(sid),
                             column="latitude" if pd.isna(lat) else "longitude")
    kind = site["kind"].astype(object)
    by_group = site["group_slug"].map(lambda g: m.site_kinds.get(_fold(g)) if g is not None else None)
    by_group = by_group.where(by_group.notna(),
                              site["group_name"].map(lambda g: m.site_kinds.get(_fold(g)) if g is not None else None))
    kind = kind.where(kind.notna(), by_group)
    kind = kind.where(kind.notna(), site["slug"].map(_inferred_kinds(elements)).fillna("hub"))
    sites_t = pd.DataFrame({"site_id": site["slug"], "operator_id": s_op, "kind": kind,
                            "lat": site["lat"], "lon": site["lon"], "region": site["region"],
                            "subscribers": site["subscribers"]})

    # --- operators: the tenants that own sites ----------------------------------------------------
    ctry = (m.country or country or "").strip().upper() or None
    used = tenant.loc[tenant.index.intersection(pd.Index(site["tenant"].dropna().unique()))]
    op_country = used["country"].where(used["country"].notna(), ctry)
    for tid, slug in used.loc[op_country.isna(), ["slug"]].itertuples():
        problems.add(f"tenant {slug!r} has no country: set its '{cf['country']}' custom field, or give "
                     "'country:' in --map or --country", file="netbox:tenancy/tenants", line=int(tid),
                     column=f"custom_fields.{cf['country']}")
    operators = pd.DataFrame({"operator_id": used["slug"].to_numpy(), "name": used["name"].to_numpy(),
                              "country": op_country.to_numpy()})
    op_ids = used.index.to_numpy(dtype=np.int64)
    if default_op is not None and s_op.eq(default_op).any() and default_op not in set(used["slug"]) and ctry:
        operators = pd.concat([operators, pd.DataFrame({"operator_id": [default_op], "name": [default_op],
                                                        "country": [ctry]})], ignore_index=True)
        op_ids = np.append(op_ids, 0)

    # --- links: interfaces connected to an interface of another device -----------------------------
    a_dev, b_dev, a_if, b_if, a_cab, b_cab = [], [], [], [], [], []
    other_kinds = 0
    for itf in interfaces:
        ends = itf.get("connected_endpoints") or []
        if itf.get("connected_endpoints_type") != "dcim.interface":
            other_kinds += bool(ends)
            continue
        mine = (itf.get("device") or {}).get("id")
        cab = (itf.get("cable") or {}).get("id")
        for e in ends:
            a_dev.append(mine)
            b_dev.append((e.get("device") or {}).get("id"))
            a_if.append(itf["id"])
            b_if.append(e.get("id"))
            a_cab.append(cab)
            b_cab.append((e.get("cable") or {}).get("id"))
    dev_eid = pd.Series(eid.to_numpy(), index=dev["id"])
    conns = pd.DataFrame({"a": a_dev, "b": b_dev, "iface": a_if, "far": b_if, "a_cab": a_cab, "b_cab": b_cab},
                         dtype=object).astype("float64").dropna(subset=["a", "b", "iface"])
    conns = conns.astype({"a": "int64", "b": "int64", "iface": "int64"})
    conns = conns[conns["a"] != conns["b"]]
    conns = conns.assign(a=np.minimum(conns["a"], conns["b"]), b=np.maximum(conns["a"], conns["b"]))
    enc, cap, mixed = _link_attributes(conns, interfaces, cables, cf["encrypted"], problems)
    pairs = conns.drop_duplicates(["a", "b"]).sort_values("iface")
    key = pd.MultiIndex.from_frame(pairs[["a", "b"]])
    links = pd.DataFrame({"a": pairs["a"].map(dev_eid).to_numpy(), "b": pairs["b"].map(dev_eid).to_numpy(),
                          "kind": "transport", "capacity_gbps": cap.reindex(key).to_numpy(),
                          "encrypted": enc.reindex(key, fill_value=False).to_numpy(dtype=bool)})
    if mixed:
        warnings.append(f"imported as not encrypted: {mixed:,} link(s) whose two devices are joined by cables of "
                        f"which only some have the custom field '{cf['encrypted']}' set true")
    if other_kinds:
        warnings.append(f"{other_kinds:,} NetBox interfaces connected to something other than a device interface "
                        "(circuits, provider networks) are not links")

    problems.raise_if_any()
    tables = {"operators": operators, "sites": sites_t, "elements": elements, "links": links}
    sources = {"operators": _source("tenancy/tenants", op_ids),
               "sites": _source("dcim/sites", site["id"].to_numpy()),
               "elements": _source("dcim/devices", dev["id"].to_numpy()),
               "links": _source("dcim/interfaces", pairs["iface"].to_numpy())}
    return Imported(tables, sources, warnings, locate=_locator(cf))


def _link_attributes(conns: pd.DataFrame, interfaces: list[dict], cables: list[dict], field_name: str,
                     problems: ProblemCollector) -> tuple[pd.Series, pd.Series, int]:
    """Per device pair (``a`` < ``b``, as in ``conns``): encrypted, capacity (Gbit/s) and how many
    pairs mix encrypted and clear cables.

    ``conns`` holds one row per connected interface and far end (each connection twice, once from
    each side), with the cable at each end (``a_cab``, ``b_cab``; NaN without a cable).
    """
    # encrypted: a Boolean custom field per cable; anything else is a problem naming the cable
    value = pd.Series(_custom(cables, field_name), index=[c["id"] for c in cables], dtype=object)
    bad = ~value.map(type).isin([bool, type(None)])
    for cid, v in value[bad].head(100).items():
        problems.add(f"not a boolean: the cables' '{field_name}' must be a Boolean custom field (true: the "
                     "link's traffic is encrypted; empty or false: it is not)", file="netbox:dcim/cables",
                     line=int(cid), column=f"custom_fields.{field_name}", value=v)
    marked = value.where(~bad, None).eq(True)
    marked = marked[~marked.index.duplicated()]
    ends = pd.concat([conns[["a", "b", "a_cab"]].rename(columns={"a_cab": "cab"}),
                      conns[["a", "b", "b_cab"]].rename(columns={"b_cab": "cab"})], ignore_index=True)
    ends["enc"] = ends["cab"].map(marked).fillna(False).astype(bool)  # no cable, or not marked: clear
    by_pair = ends.groupby(["a", "b"])["enc"]
    enc, some = by_pair.all(), by_pair.any()
    # capacity: the slower known end of each connection, summed over a pair's connections
    speed = pd.Series([i.get("speed") for i in interfaces], index=[i["id"] for i in interfaces], dtype="float64")
    speed = speed[~speed.index.duplicated()]
    one = conns.assign(lo=np.minimum(conns["iface"], conns["far"]), hi=np.maximum(conns["iface"], conns["far"]))
    one = one.drop_duplicates(["lo", "hi"])  # each connection once, not once from each side
    kbps = np.fmin(one["iface"].map(speed), one["far"].map(speed))
    g = one.assign(gbps=kbps / 1e6, unknown=kbps.isna()).groupby(["a", "b"])
    cap = g["gbps"].sum().where(~g["unknown"].any())
    return enc, cap, int((some & ~enc).sum())


def _role(m: NetBoxMapping, slug: Any, name: Any) -> str | None:
    for key in (_fold(slug), _fold(name)):
        if key in m.roles:
            return m.roles[key]
    for key in (_fold(slug), _fold(name)):
        if key in DEFAULT_ROLES:
            return DEFAULT_ROLES[key]
        dotted = key.replace("-", ".", 1)
        if key in ROLES:
            return key
        if dotted in ROLES:
            return dotted
    return None


def _inferred_kinds(elements: pd.DataFrame) -> pd.Series:
    """Site kind from what stands there (core or management -> core_dc, gateway, radio -> cell, else hub)."""
    domain = elements["role"].astype("string").str.split(".").str[0]
    has = pd.crosstab(elements["site_id"], domain).gt(0)
    kind = pd.Series("hub", index=has.index, dtype=object)
    for col, k in (("ran", "cell"), ("gateway", "gateway"), ("mgmt", "core_dc"), ("core", "core_dc")):
        if col in has.columns:  # later entries win: core beats gateway beats radio
            kind[has[col].to_numpy()] = k
    return kind


def _locator(cf: dict[str, str]):
    """Model columns in a validation problem -> the NetBox field they came from."""
    fields = {
        "netbox:dcim/devices": {"element_id": "name", "site_id": "site", "role": "role",
                                "vendor": "device_type.manufacturer", "model": "device_type.model",
                                "generation": f"custom_fields.{cf['generation']}",
                                "installed_on": f"custom_fields.{cf['installed_on']}", "in_service": "status",
                                "unit_cost": f"custom_fields.{cf['unit_cost']}",
                                "funded_by": f"custom_fields.{cf['funded_by']}"},
        "netbox:dcim/sites": {"site_id": "slug", "operator_id": "tenant", "kind": f"custom_fields.{cf['site_kind']}",
                              "lat": "latitude", "lon": "longitude", "region": "region",
                              "subscribers": f"custom_fields.{cf['subscribers']}"},
        "netbox:tenancy/tenants": {"operator_id": "slug", "name": "name", "country": f"custom_fields.{cf['country']}"},
        "netbox:dcim/interfaces": {"a": "device", "b": "connected_endpoints", "kind": "connected_endpoints_type",
                                   "capacity_gbps": "speed", "encrypted": f"cable.custom_fields.{cf['encrypted']}"},
    }

    def locate(p: Problem) -> Problem:
        col = fields.get(p.file or "", {}).get(p.column) if isinstance(p.column, str) else None
        if col is None:
            return p
        return Problem(p.reason, p.file, p.line, col, p.value)

    return locate


def import_netbox(paths=(), *, url: str | None = None, token: str | None = None, token_env: str | None = None,
                  mapping: str | Path | None = None, operator_id: str | None = None, country: str | None = None,
                  **_ignored) -> Imported:
    """The ``netbox`` importer for :func:`cleanpath.store.ingest.ingest`: :func:`read_netbox` with
    the token taken from the environment variable ``token_env`` (unless ``token`` is given).

    ``paths`` must be empty (NetBox is read over HTTP, not from files).

    Raises
    ------
    ValidationError
        No URL, files given, the environment variable unset or empty, or anything
        :func:`read_netbox` raises.
    """
    if list(paths):
        raise ValidationError(Problem("netbox reads from a server, not from files: give --url and --token-env "
                                      "and no paths", column="paths", value=", ".join(map(str, paths))))
    if not url:
        raise ValidationError(Problem("netbox needs --url (NetBox's root URL)", column="url"))
    if token is None:
        if not token_env:
            raise ValidationError(Problem("netbox needs --token-env VAR: the name of the environment variable that "
                                          "holds the API token", column="token-env"))
        token = os.environ.get(token_env)
        if not token or not token.strip():
            raise ValidationError(Problem(f"environment variable {token_env} is {'empty' if token is not None else 'not set'}: "
                                          "it must hold the NetBox API token (export it first)",
                                          column="token-env", value=token_env))
    return read_netbox(url=url, token=token.strip(), mapping=mapping, operator_id=operator_id, country=country)
