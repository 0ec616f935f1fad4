"""The network model's tables, declared once as data.

Everything that needs to know what a column is (validation, defaults, the interchange reader and
writer, the workspace's DuckDB tables, ``cleanpath schema`` and docs/schema.md) reads it from
:data:`TABLES`. Change a column here and all of them follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

DType = Literal["str", "int", "float", "bool", "date"]

ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
}

DUCKDB_TYPES: dict[str, str] = {
    "str": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
}

# --- vocabularies -------------------------------------------------------------------------------

SITE_KINDS = ("cell", "hub", "aggregation", "core_dc", "exchange", "gateway")
GENERATIONS = ("2G", "3G", "4G", "5G-NSA", "5G-SA", "none")
LINK_KINDS = ("transport", "control", "management", "anchor")
SENSITIVE_KINDS = ("military", "diplomatic", "government", "critical_infrastructure", "industrial")

#: Element roles; the prefix before the dot is the network domain.
ROLES = (
    "ran.radio", "ran.baseband", "ran.controller",
    "transport.router", "transport.switch", "transport.microwave", "transport.optical",
    "core.mme", "core.sgw", "core.pgw", "core.hss", "core.pcrf",
    "core.amf", "core.smf", "core.upf", "core.ausf", "core.udm", "core.pcf", "core.nrf",
    "core.nssf", "core.ims",
    "mgmt.oss", "mgmt.ems",
    "security.firewall",
    "gateway.internet", "gateway.interconnect",
)
DOMAINS = tuple(dict.fromkeys(r.split(".")[0] for r in ROLES))

#: Core functions that carry user traffic (the rest are control plane).
USER_PLANE_ROLES = ("core.sgw", "core.pgw", "core.upf")
CONTROL_PLANE_ROLES = tuple(r for r in ROLES if r.startswith("core.") and r not in USER_PLANE_ROLES)

#: The word a demand uses for "any internet gateway" instead of a site id.
GATEWAY_DEMAND = "gateway"


@dataclass(frozen=True)
class Column:
    """One column of a model table.

    Attributes
    ----------
    name
        Column name, exactly as in the interchange files.
    dtype
        One of ``str``, ``int``, ``float``, ``bool``, ``date`` (ISO ``YYYY-MM-DD``).
    required
        The column must be present and every value non-empty.
    default
        Value used where the column is absent or a value is empty.
    unit
        Physical unit, also carried in the name as a suffix (``_m``, ``_gbps``).
    allowed
        Closed vocabulary of values, if any.
    minimum, maximum
        Inclusive numeric bounds.
    references
        ``"table.column"`` this column must point into (a foreign key).
    description
        What the column means, for docs and ``--help``.
    """

    name: str
    dtype: DType
    description: str
    required: bool = False
    default: Any = None
    unit: str | None = None
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    references: str | None = None
    pattern: str | None = None

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.dtype]


@dataclass(frozen=True)
class Table:
    """One model table.

    Attributes
    ----------
    name
        Table name; interchange files are ``<name>.csv`` or ``<name>.parquet``.
    key
        Column(s) that identify a row; duplicates are an error.
    optional
        The table may be absent from an import (it is then empty).
    """

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    optional: bool = False
    extra_references: tuple[tuple[str, str, tuple[str, ...]], ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=not c.required) for c in self.columns])


C = Column

OPERATORS = Table(
    "operators",
    "Mobile network operators (one row per operator and country).",
    (
        C("operator_id", "str", "Stable identifier of the operator.", required=True),
        C("name", "str", "Operator's trading name.", required=True),
        C("country", "str", "ISO 3166-1 alpha-2 country code (upper case).", required=True,
          pattern=r"^[A-Z]{2}$"),
        C("mcc", "int", "Mobile country code.", minimum=1, maximum=999),
        C("mnc", "int", "Mobile network code.", minimum=0, maximum=999),
        C("subscribers", "int", "Subscriber count.", minimum=0, unit="subscribers"),
    ),
    key=("operator_id",),
)

SITES = Table(
    "sites",
    "Physical locations that hold network elements: cell sites, hubs, data centres, exchanges.",
    (
        C("site_id", "str", "Stable identifier of the site.", required=True),
        C("operator_id", "str", "Operator that runs the site.", required=True,
          references="operators.operator_id"),
        C("kind", "str", "What the site is.", required=True, allowed=SITE_KINDS),
        C("lat", "float", "WGS84 latitude.", unit="deg", minimum=-90, maximum=90),
        C("lon", "float", "WGS84 longitude.", unit="deg", minimum=-180, maximum=180),
        C("region", "str", "Administrative region (state, province) the site lies in."),
        C("subscribers", "int", "Subscribers served from this site (cell sites).", minimum=0,
          unit="subscribers"),
    ),
    key=("site_id",),
)

ELEMENTS = Table(
    "elements",
    "Network equipment: one row per radio, router, core function, management system or gateway.",
    (
        C("element_id", "str", "Stable identifier of the element.", required=True),
        C("site_id", "str", "Site the element is installed at.", required=True,
          references="sites.site_id"),
        C("role", "str", "What the element does; the prefix is its domain.", required=True,
          allowed=ROLES),
        C("vendor", "str", "Vendor id from the catalogue (aliases are resolved on import; unknown "
          "vendors are kept verbatim and flagged).", required=True),
        C("model", "str", "Vendor's product or model name."),
        C("generation", "str", "Radio generation the element serves.", default="none",
          allowed=GENERATIONS),
        C("installed_on", "date", "Date the element was installed (YYYY-MM-DD)."),
        C("in_service", "bool", "Whether the element is in service.", default=True),
        C("unit_cost", "float", "Cost to replace this element.", unit="USD", minimum=0),
        C("funded_by", "str", "Subsidy or funding programme that paid for the element."),
    ),
    key=("element_id",),
)

LINKS = Table(
    "links",
    "Typed dependencies between elements.",
    (
        C("a", "str", "First element (the dependent one for control, management and anchor).",
          required=True, references="elements.element_id"),
        C("b", "str", "Second element (the one depended on for control, management and anchor).",
          required=True, references="elements.element_id"),
        C("kind", "str", "transport: user traffic both ways; control: a is homed on control-plane "
          "function b; management: a is managed by b; anchor: 5G-NSA radio a depends on 4G anchor b.",
          required=True, allowed=LINK_KINDS),
        C("capacity_gbps", "float", "Link capacity.", unit="Gbit/s", minimum=0),
        C("encrypted", "bool", "Transport links only: user traffic crosses this link encrypted (IPsec or "
          "MACsec towards the core), so an element reading only ciphertext on it cannot read the traffic; "
          "the RAN baseband and the core user plane always see traffic in clear.", default=False),
    ),
)

SENSITIVE_SITES = Table(
    "sensitive_sites",
    "Places whose communications matter: bases, embassies, ministries, plants.",
    (
        C("sensitive_id", "str", "Stable identifier.", required=True),
        C("name", "str", "Name.", required=True),
        C("kind", "str", "Kind of site.", required=True, allowed=SENSITIVE_KINDS),
        C("country", "str", "ISO 3166-1 alpha-2 country code.", pattern=r"^[A-Z]{2}$"),
        C("lat", "float", "WGS84 latitude.", required=True, unit="deg", minimum=-90, maximum=90),
        C("lon", "float", "WGS84 longitude.", required=True, unit="deg", minimum=-180, maximum=180),
        C("radius_m", "float", "Radius of the area that must be served.", default=5000.0,
          unit="m", minimum=0),
        C("weight", "float", "Relative importance.", default=1.0, minimum=0),
        C("geometry", "str", "Optional GeoJSON (Multi)Polygon of the area, replacing the radius.",
          ),
        C("source", "str", "Where the location comes from (provenance)."),
    ),
    key=("sensitive_id",),
    optional=True,
)

DEMANDS = Table(
    "demands",
    "Traffic between two sites, or between a site and any gateway.",
    (
        C("a_site", "str", "Origin site.", required=True, references="sites.site_id"),
        C("b_site", "str", "Destination site, or the word 'gateway'.", required=True),
        C("volume", "float", "Traffic volume.", required=True, unit="Gbit/s", minimum=0),
    ),
    optional=True,
    extra_references=(("b_site", "sites.site_id", (GATEWAY_DEMAND,)),),
)

VENDORS = Table(
    "vendors",
    "Vendor catalogue entries; imported rows extend or override the shipped catalogue.",
    (
        C("vendor_id", "str", "Stable identifier (lower case).", required=True),
        C("name", "str", "Vendor's name.", required=True),
        C("aliases", "str", "Other spellings as found in inventories, |-separated."),
        C("hq_country", "str", "ISO 3166-1 alpha-2 country of the headquarters.",
          pattern=r"^[A-Z]{2}$"),
        C("parent", "str", "vendor_id of the parent company, if any."),
    ),
    key=("vendor_id",),
    optional=True,
)

#: All model tables in dependency order (a table only references tables before it).
TABLES: dict[str, Table] = {
    t.name: t for t in (OPERATORS, SITES, ELEMENTS, LINKS, SENSITIVE_SITES, DEMANDS, VENDORS)
}


def domain_of(role: str) -> str:
    """The network domain of a role (``"ran.radio"`` -> ``"ran"``)."""
    return role.split(".", 1)[0]


def schema_markdown() -> str:
    """The model as Markdown, for docs/schema.md and ``cleanpath schema``."""
    out = ["# The cleanpath network model", "",
           "Generated from `cleanpath.model.schema`; `*` marks required columns.", ""]
    for t in TABLES.values():
        out += [f"## `{t.name}`{' (optional)' if t.optional else ''}", "", t.description, ""]
        if t.key:
            out += [f"Key: `{', '.join(t.key)}`", ""]
        out += ["| column | type | unit | default | allowed / range | description |",
                "|---|---|---|---|---|---|"]
        for c in t.columns:
            rng = ", ".join(c.allowed) if c.allowed else ""
            if c.minimum is not None or c.maximum is not None:
                rng = f"{'' if c.minimum is None else c.minimum} .. {'' if c.maximum is None else c.maximum}"
            if c.references:
                rng = (rng + "; " if rng else "") + f"refers to {c.references}"
            out.append(f"| {c.name}{'*' if c.required else ''} | {c.dtype} | {c.unit or ''} | "
                       f"{'' if c.default is None else c.default} | {rng} | {c.description} |")
        out.append("")
    out += ["## Roles", "", "| domain | roles |", "|---|---|"]
    for d in DOMAINS:
        out.append(f"| {d} | {', '.join(r for r in ROLES if domain_of(r) == d)} |")
    out.append("")
    return "\n".join(out)
