"""The policy language: what a loaded policy is, as frozen data.

A policy file (YAML) is read by :mod:`cleanpath.policy.loader` into the objects below. Vendor sets
and scopes are small expression trees; every named reference has been resolved by then, so the
engine (:mod:`cleanpath.policy.engine`) never sees a name it has to look up. All objects are frozen
and hashable, which lets the engine cache a scope's element mask once per network and reuse it for
every rule (and every month of a timeline) that shares the scope.

The YAML keys, their types and meanings are declared once in :data:`PACK_KEYS`, :data:`RULE_KEYS`,
:data:`SCOPE_KEYS` and :data:`VENDOR_SET_KEYS`; the loader validates against them and
``cleanpath policy show --schema`` prints them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Union

from cleanpath.model.schema import DOMAINS, GENERATIONS, ROLES, SENSITIVE_KINDS, SITE_KINDS

SEVERITIES = ("info", "warning", "violation")
RULE_KINDS = ("forbid", "remove_by", "cap", "no_new", "funding", "clean_path")
CAP_MEASURES = ("sites", "elements", "subscribers", "traffic")
CAP_PER = ("operator", "network")
CONFIDENCE = ("high", "medium", "low")

#: 5G core network functions (roles that exist only in a 5G standalone core).
CORE_5G_ROLES = ("core.amf", "core.smf", "core.upf", "core.ausf", "core.udm", "core.pcf",
                 "core.nrf", "core.nssf")
#: 4G evolved packet core functions.
CORE_4G_ROLES = ("core.mme", "core.sgw", "core.pgw", "core.hss", "core.pcrf")


def severity_rank(severity: str) -> int:
    """0 for info, 1 for warning, 2 for violation."""
    return SEVERITIES.index(severity)


# --- citations ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Citation:
    """The legal or policy source of a rule.

    Attributes
    ----------
    instrument
        Name and reference of the act, order, direction or guideline.
    date
        Date it was adopted or announced.
    url
        Where to read about it (a primary source where one exists).
    fact
        Id of the entry in the shared facts file ``policy_timeline.yaml`` the rule rests on.
    """

    instrument: str
    date: dt.date
    url: str
    fact: str | None = None

    def text(self) -> str:
        """One line: ``instrument (date), url``."""
        return f"{self.instrument} ({self.date.isoformat()}), {self.url}"


# --- vendor sets --------------------------------------------------------------------------------

@dataclass(frozen=True)
class VendorIds:
    """Vendors by catalogue id."""

    ids: tuple[str, ...]


@dataclass(frozen=True)
class VendorCountry:
    """Vendors whose headquarters are in one of ``countries`` (ISO 3166-1 alpha-2)."""

    countries: tuple[str, ...]


@dataclass(frozen=True)
class ListEntry:
    """One entry of a dated vendor list: on the list from ``added`` (until ``removed``, if ever)."""

    vendor: str
    added: dt.date
    removed: dt.date | None = None
    note: str | None = None


@dataclass(frozen=True)
class VendorList:
    """Vendors on a dated list (e.g. the FCC Covered List) as of the audit date."""

    name: str
    entries: tuple[ListEntry, ...]


@dataclass(frozen=True)
class VendorAll:
    items: tuple["VendorExpr", ...]


@dataclass(frozen=True)
class VendorAny:
    items: tuple["VendorExpr", ...]


@dataclass(frozen=True)
class VendorNot:
    item: "VendorExpr"


VendorExpr = Union[VendorIds, VendorCountry, VendorList, VendorAll, VendorAny, VendorNot]


# --- scopes -------------------------------------------------------------------------------------

#: Scope fields that select elements by an attribute, and what they compare against.
SCOPE_FIELDS = {
    "domain": "the element's network domain (ran, transport, core, mgmt, security, gateway)",
    "role": "the element's role (ran.radio, core.amf, ...)",
    "generation": "the radio generation the element serves (2G ... 5G-SA, none)",
    "operator": "operator_id of the operator running the element's site",
    "country": "country (ISO 3166-1 alpha-2) of that operator",
    "site_kind": "kind of the element's site (cell, hub, aggregation, core_dc, exchange, gateway)",
    "region": "region of the element's site",
    "site": "site_id of the element's site",
    "funded_by": "the programme that paid for the element (case and punctuation ignored)",
}

#: Closed vocabularies of scope fields (others are free text).
SCOPE_VOCABULARY: dict[str, tuple[str, ...]] = {
    "domain": DOMAINS,
    "role": ROLES,
    "generation": GENERATIONS,
    "site_kind": SITE_KINDS,
}


@dataclass(frozen=True)
class ScopeEverything:
    """Every element."""


@dataclass(frozen=True)
class ScopeField:
    """Elements whose ``field`` (a key of :data:`SCOPE_FIELDS`) is one of ``values``."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ScopeNear:
    """Elements at sites within ``radius_m`` metres (great-circle) of sensitive sites of ``kinds``.

    With ``radius_m`` None each sensitive site's own ``radius_m`` is used, and a sensitive site
    that has a polygon ``geometry`` counts every site inside it as well.
    """

    kinds: tuple[str, ...]
    radius_m: float | None = None


#: A polygon: rings of (lon, lat) positions, the first ring the outline, the rest holes.
Polygon = tuple[tuple[tuple[float, float], ...], ...]


@dataclass(frozen=True)
class ScopeInside:
    """Elements at sites inside any of ``polygons`` (lon/lat, GeoJSON ring order)."""

    polygons: tuple[Polygon, ...]
    label: str = "polygon"


@dataclass(frozen=True)
class ScopeManages:
    """Management systems that manage at least one element of ``scope`` (management links)."""

    scope: "ScopeExpr"


@dataclass(frozen=True)
class ScopeAll:
    items: tuple["ScopeExpr", ...]


@dataclass(frozen=True)
class ScopeAny:
    items: tuple["ScopeExpr", ...]


@dataclass(frozen=True)
class ScopeNot:
    item: "ScopeExpr"


ScopeExpr = Union[ScopeEverything, ScopeField, ScopeNear, ScopeInside, ScopeManages, ScopeAll,
                  ScopeAny, ScopeNot]


# --- rules and policies -------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """One checkable rule of a policy.

    Attributes
    ----------
    pack
        Name of the policy the rule is written in.
    id
        Identifier, unique within the pack.
    kind
        One of :data:`RULE_KINDS`.
    title
        One line saying what the rule demands.
    severity
        What a breach is (``info``, ``warning``, ``violation``). For ``remove_by`` and a ``cap``
        with a deadline this is the severity after the deadline; before it a breach is a warning.
    vendors, vendors_label
        The vendor set the rule is about, and its name for messages.
    scope, scope_label
        The elements the rule looks at, and a name for messages.
    citation
        The legal source.
    start
        The rule is in force from this date (default: the citation's date).
    deadline
        ``remove_by`` and ``cap``: the last day the vendor's equipment may remain (or the share may
        exceed the cap); a violation from the day after.
    warn_days
        ``remove_by``: warn only within this many days of the deadline (None: from ``start``).
    installed_on_or_after
        ``no_new`` and ``funding``: only elements installed on or after this date.
    programmes
        ``funding``: programme names matched against elements' ``funded_by``.
    max_percent, measure, per
        ``cap``: the largest allowed share (%), of what it is measured, and per what group.
    sensitive_kinds
        ``clean_path``: sensitive-site kinds that must have a clean path.
    applies_to
        The pack's jurisdiction as a scope (operators in its countries), None for no limit.
    confidence
        How sure the underlying facts are (``high``, ``medium``, ``low``).
    notes
        What is uncertain, approximated or not encoded.
    file, line
        Where the rule is written.
    """

    pack: str
    id: str
    kind: str
    title: str
    severity: str
    vendors: VendorExpr
    vendors_label: str
    scope: ScopeExpr
    scope_label: str
    citation: Citation
    start: dt.date
    deadline: dt.date | None = None
    warn_days: int | None = None
    installed_on_or_after: dt.date | None = None
    programmes: tuple[str, ...] = ()
    max_percent: float | None = None
    measure: str | None = None
    per: str = "operator"
    sensitive_kinds: tuple[str, ...] = ()
    applies_to: ScopeExpr | None = None
    confidence: str = "high"
    notes: str | None = None
    file: str | None = None
    line: int | None = None

    @property
    def key(self) -> str:
        """``pack/id``, unique across loaded policies."""
        return f"{self.pack}/{self.id}"


@dataclass(frozen=True)
class Policy:
    """A policy pack: rules with their sources, plus the packs it includes.

    Attributes
    ----------
    name
        Pack name (shipped packs: ``us-fcc``, ``uk-tsa``...).
    title, description
        What the pack encodes.
    jurisdiction
        Countries (ISO 3166-1 alpha-2) whose operators the rules apply to; empty for no limit.
    rules
        The pack's own rules (see :meth:`all_rules` for those of included packs too).
    includes
        Packs included by this one.
    library
        True for packs that only define vendor sets, lists and scopes for others to include.
    notes
        What the pack does not encode, and why.
    file
        The file it was read from.
    """

    name: str
    title: str
    rules: tuple[Rule, ...]
    jurisdiction: tuple[str, ...] = ()
    description: str | None = None
    includes: tuple["Policy", ...] = ()
    library: bool = False
    notes: str | None = None
    file: str | None = None
    facts: tuple[str, ...] = field(default=())

    def all_rules(self) -> list[Rule]:
        """This pack's rules and those of every included pack, each once."""
        seen: dict[str, Rule] = {}
        for inc in self.includes:
            for r in inc.all_rules():
                seen.setdefault(r.key, r)
        for r in self.rules:
            seen.setdefault(r.key, r)
        return list(seen.values())


# --- the schema of the YAML, for validation and docs --------------------------------------------

#: Top-level keys of a policy file: key -> (type, required, meaning).
PACK_KEYS: dict[str, tuple[str, bool, str]] = {
    "pack": ("name", True, "the pack's name: lower-case letters, digits and '-'"),
    "title": ("text", True, "what the pack encodes, in one line"),
    "description": ("text", False, "longer description"),
    "jurisdiction": ("country list", False, "ISO 3166-1 alpha-2 codes; the rules apply to operators "
                     "of these countries (omit for no limit, e.g. rules about US embassies abroad)"),
    "library": ("bool", False, "true when the pack only defines sets, lists and scopes for others"),
    "include": ("list of pack names or paths", False, "packs whose rules and definitions this one "
                "takes over (paths are relative to this file)"),
    "facts": ("list of text", False, "ids in the shared facts file (policy_timeline.yaml) the pack rests on"),
    "vendor_lists": ("mapping name -> list", False, "dated vendor lists: {title, citation, entries: "
                     "[{vendor, added, removed?, note?}]}"),
    "vendor_sets": ("mapping name -> vendor set", False, "named vendor sets"),
    "scopes": ("mapping name -> scope", False, "named scopes"),
    "rules": ("list of rules", False, "the rules"),
    "notes": ("text", False, "what the pack does not encode, and why"),
}

#: Keys of a rule: key -> (type, kinds it belongs to ("*" for all), meaning).
RULE_KEYS: dict[str, tuple[str, str, str]] = {
    "id": ("name", "*", "identifier, unique in the pack (required)"),
    "kind": ("one of " + "|".join(RULE_KINDS), "*", "what the rule checks (required)"),
    "title": ("text", "*", "what the rule demands (required)"),
    "vendors": ("vendor set or its name", "*", "the vendors the rule is about (required)"),
    "scope": ("scope or its name", "*", "the elements looked at (default: all)"),
    "severity": ("info|warning|violation", "*", "what a breach is (default violation)"),
    "citation": ("{instrument, date, url, fact?}", "*", "the legal source (required)"),
    "from": ("date", "*", "in force from (default: the citation's date)"),
    "confidence": ("high|medium|low", "*", "how sure the facts are (default high)"),
    "notes": ("text", "*", "what is uncertain or approximated"),
    "deadline": ("date", "remove_by,cap", "last day allowed; a violation from the day after "
                 "(required for remove_by)"),
    "warn_days": ("int", "remove_by", "warn only this many days before the deadline"),
    "installed_on_or_after": ("date", "no_new,funding", "elements installed on or after this date "
                              "(required for no_new)"),
    "programmes": ("list of text", "funding", "programme names matched to funded_by (required)"),
    "max_percent": ("number 0-100", "cap", "largest allowed share in percent (required)"),
    "measure": ("|".join(CAP_MEASURES), "cap", "what the share is of (required)"),
    "per": ("|".join(CAP_PER), "cap", "share per operator (default) or over the whole network"),
    "sensitive_kinds": ("list of " + "|".join(SENSITIVE_KINDS), "clean_path",
                        "sensitive-site kinds that must have a clean path (required)"),
}

#: Keys of a scope mapping (several keys in one mapping must all hold).
SCOPE_KEYS: dict[str, str] = {
    **{k: f"list: {v}" for k, v in SCOPE_FIELDS.items()},
    "near": "{kind: [sensitive kinds], radius_m?}: sites within radius_m metres of such sensitive "
            "sites, measured from a polygon site's edge (default: each sensitive site's own radius, "
            "or inside its polygon)",
    "inside": "{file: GeoJSON path} or a GeoJSON Polygon/MultiPolygon {type, coordinates}",
    "manages": "scope: management systems that manage an element of that scope",
    "scope": "name of another scope",
    "all": "list of scopes that must all hold",
    "any": "list of scopes of which one must hold",
    "not": "a scope that must not hold",
}

#: Keys of a vendor-set mapping (several keys in one mapping must all hold).
VENDOR_SET_KEYS: dict[str, str] = {
    "ids": "list of vendor ids or names (resolved through the catalogue and its aliases)",
    "hq_country": "list of ISO 3166-1 alpha-2 countries of the vendor's headquarters",
    "list": "name of a vendor list (membership counts from each entry's date)",
    "set": "name of another vendor set",
    "all": "list of vendor sets that must all hold",
    "any": "list of vendor sets of which one must hold",
    "not": "a vendor set that must not hold",
}


# --- reference documentation ----------------------------------------------------------------------

KIND_SEMANTICS: dict[str, str] = {
    "forbid": "elements of the vendor set in the scope are a finding (at the rule's severity) from `from`",
    "remove_by": "a *warning* with the days left up to and including `deadline` (only within "
                 "`warn_days` of it, if given), the rule's severity from the day after",
    "cap": "per operator (or network) the vendor set's share of the scope's `measure` (sites with any "
           "of its elements, elements, subscribers or traffic of the sites, split by element share) "
           "must be <= `max_percent` (compared exactly: 35.0 % passes a 35 % cap); with a `deadline`, "
           "an excess before it is a warning",
    "no_new": "elements installed on or after `installed_on_or_after` are a finding; elements without "
              "an installation date are counted as unchecked",
    "funding": "elements whose `funded_by` matches one of `programmes` (case and punctuation ignored) "
               "are a finding, optionally only if installed on or after `installed_on_or_after`",
    "clean_path": "each sensitive site of `sensitive_kinds` needs an end-to-end path free of the vendor "
                  "set; evaluated by the clean-path engine (an info finding 'not evaluated' without one)",
}

EXAMPLE = """\
pack: my-rules
title: Our own rules on top of the UK direction
jurisdiction: [GB]
include: [uk-tsa]                 # its rules, vendor sets and scopes come along
vendor_sets:
  chinese: {hq_country: [CN]}
scopes:
  near_bases: {near: {kind: [military], radius_m: 10000}}
rules:
  - id: no-chinese-near-bases
    kind: remove_by
    title: No Chinese equipment within 10 km of a base
    vendors: chinese
    scope: {all: [near_bases, {not: {domain: [gateway]}}]}
    deadline: 2026-12-31
    warn_days: 365
    citation: {instrument: "Board decision 2025-04", date: 2025-04-01, url: "https://intranet.example/decision"}
"""


def policy_markdown() -> str:
    """The policy language as Markdown (for docs/policy.md)."""
    out = ["# The cleanpath policy language", "",
           "Generated from `cleanpath.policy.language`. Check a file with `cleanpath policy check FILE`; "
           "every problem is reported with file, line and column.", "", "## Example", "", "```yaml",
           EXAMPLE.rstrip(), "```", "", "## A policy file", "", "| key | type | required | meaning |",
           "|---|---|---|---|"]
    out += [f"| `{k}` | {t} | {'yes' if req else ''} | {m} |" for k, (t, req, m) in PACK_KEYS.items()]
    out += ["", "## A rule", "", "| key | type | kinds | meaning |", "|---|---|---|---|"]
    out += [f"| `{k}` | {t} | {kinds} | {m} |" for k, (t, kinds, m) in RULE_KEYS.items()]
    out += ["", "## Rule kinds", "", "| kind | finding |", "|---|---|"]
    out += [f"| `{k}` | {v} |" for k, v in KIND_SEMANTICS.items()]
    out += ["", "## Scopes", "",
            "A scope is a name (of the pack's `scopes` or an included pack's) or a mapping; the keys "
            "of one mapping must all hold. Elements out of service, or installed after the audit date, "
            "are never judged.", "", "| key | meaning |", "|---|---|"]
    out += [f"| `{k}` | {v} |" for k, v in SCOPE_KEYS.items()]
    out += ["", "## Vendor sets", "",
            "A vendor set is a name (of `vendor_sets`), a vendor name, or a mapping; the keys of one "
            "mapping must all hold.", "", "| key | meaning |", "|---|---|"]
    out += [f"| `{k}` | {v} |" for k, v in VENDOR_SET_KEYS.items()]
    out.append("")
    return "\n".join(out)
