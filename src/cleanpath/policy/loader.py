"""Reading policy files: YAML to :mod:`cleanpath.policy.language` objects, checked key by key.

The file is parsed with :func:`yaml.compose`, which keeps every node's position, so each problem
names the file, line and column of the offending key or value. Problems are collected (up to
:data:`~cleanpath.errors.MAX_PROBLEMS`) and raised together as one
:class:`~cleanpath.errors.ValidationError`: a user writing a policy sees everything to fix at once.

Checked: unknown keys (with a "did you mean"), wrong types, bad dates, unknown vendors (resolved
through the vendor catalogue, aliases included), unknown vocabulary values, undefined or circular
named sets and scopes, include cycles, duplicate rule ids, rules without a complete citation.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cleanpath.errors import ProblemCollector, ValidationError
from cleanpath.geo.geometry import GeometryError, parse_area
from cleanpath.io.guard import check_text, read_input
from cleanpath.model.schema import SENSITIVE_KINDS
from cleanpath.model.vendors import VendorCatalogue, default_catalogue
from cleanpath.policy.language import (
    CAP_MEASURES, CAP_PER, CONFIDENCE, PACK_KEYS, RULE_KEYS, RULE_KINDS, SCOPE_FIELDS, SCOPE_KEYS,
    SCOPE_VOCABULARY, SEVERITIES, VENDOR_SET_KEYS, Citation, ListEntry, Policy, Polygon, Rule,
    ScopeAll, ScopeAny, ScopeEverything, ScopeExpr, ScopeField, ScopeInside, ScopeManages, ScopeNear,
    ScopeNot, VendorAll, VendorAny, VendorCountry, VendorExpr, VendorIds, VendorList, VendorNot,
)

#: Largest policy file accepted (bytes).
MAX_POLICY_BYTES = 4 << 20
#: Largest GeoJSON file a scope may read (bytes).
MAX_GEOJSON_BYTES = 64 << 20
#: Most polygon positions a scope may hold (GeoJSON file or inline).
MAX_POSITIONS = 1_000_000
#: Most YAML nodes walked in one file; guards against alias ("billion laughs") expansion.
MAX_NODES = 50_000

_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TAG = "tag:yaml.org,2002:"
_SCALAR_CONSTRUCTOR = yaml.constructor.SafeConstructor()
#: libyaml's parser when installed (about ten times faster); node positions are the same.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PACKS_DIR = "packs"


# --- where shipped packs live -------------------------------------------------------------------

def _packs_root():
    return resources.files("cleanpath.policy").joinpath(_PACKS_DIR)


def shipped_packs() -> list[str]:
    """Names of the packs shipped inside the package, sorted (library packs included)."""
    return sorted(p.name[:-5] for p in _packs_root().iterdir()
                  if p.name.endswith(".yaml") and not p.name.startswith("."))


def packs_for_network(net) -> list[str]:
    """The shipped, non-library packs whose jurisdiction covers a country of ``net``'s operators or
    sites (may be empty): the default packs of every question that takes packs."""
    countries = set(net.operators["country"].dropna().astype(str)) if len(net.operators) else set()
    if "country" in net.sites and len(net.sites):
        countries |= set(net.sites["country"].dropna().astype(str))
    return [name for name in shipped_packs()
            if not (p := load_policy(name)).library and countries & set(p.jurisdiction)]


def _is_pack_name(ref: str) -> bool:
    return bool(_NAME.match(ref)) and not ref.endswith((".yaml", ".yml"))


# --- node helpers -------------------------------------------------------------------------------

@dataclass
class _File:
    """One policy file being read: its name and the problems found in it."""

    label: str
    directory: Path | None
    problems: ProblemCollector
    nodes: int = 0

    def add(self, node: Node | None, reason: str, value: Any = None) -> None:
        line = col = None
        if node is not None:
            line, col = node.start_mark.line + 1, node.start_mark.column + 1
            if value is None and isinstance(node, ScalarNode):
                value = node.value
        self.problems.add(reason, file=self.label, line=line, column=col, value=value)

    def visit(self) -> bool:
        """Count a node; False once the file has more nodes than any policy needs."""
        self.nodes += 1
        if self.nodes == MAX_NODES:
            self.add(None, f"more than {MAX_NODES:,} YAML nodes (aliases expanding?); refusing the file")
        return self.nodes < MAX_NODES


def _tag(node: Node) -> str:
    return node.tag[len(_TAG):] if node.tag.startswith(_TAG) else node.tag


def _kind_name(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return {"str": "text", "int": "a whole number", "float": "a number", "bool": "true/false",
            "null": "nothing (null)", "timestamp": "a date"}.get(_tag(node), _tag(node))


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


class _Reader:
    """Typed access to composed YAML nodes; every failure becomes a located problem."""

    def __init__(self, f: _File):
        self.f = f

    def mapping(self, node: Node, allowed: Iterable[str], what: str, *,
                required: Iterable[str] = ()) -> dict[str, tuple[Node, Node]] | None:
        """The keys of a mapping node as ``{key: (key_node, value_node)}``."""
        if not self.f.visit():
            return None
        if not isinstance(node, MappingNode):
            self.f.add(node, f"{what} must be a mapping, not {_kind_name(node)}")
            return None
        allowed = allowed if isinstance(allowed, _AnyKeys) else list(allowed)
        out: dict[str, tuple[Node, Node]] = {}
        for k, v in node.value:
            if not isinstance(k, ScalarNode) or _tag(k) not in ("str", "int", "bool", "float", "null"):
                self.f.add(k, f"keys of {what} must be words")
                continue
            key = k.value
            if key in out:
                self.f.add(k, f"duplicate key {key!r} in {what}")
                continue
            if key not in allowed:
                self.f.add(k, f"unknown key {key!r} in {what}{_suggest(key, allowed)}"
                              + ("" if _suggest(key, allowed) else f"; allowed: {', '.join(allowed)}"))
                continue
            out[key] = (k, v)
        for r in required:
            if r not in out:
                self.f.add(node, f"{what} is missing the required key {r!r}", value="")
        return out

    def text(self, node: Node, what: str) -> str | None:
        if not self.f.visit():
            return None
        # a plain scalar YAML reads as a number or boolean ("title: no", "id: 2024") is still the
        # text the user wrote; only lists, mappings and empty values are wrong here
        if not isinstance(node, ScalarNode) or _tag(node) == "null" or not node.value.strip():
            self.f.add(node, f"{what} must be text, not {_kind_name(node)}"
                       if not (isinstance(node, ScalarNode) and _tag(node) != "null")
                       else f"{what} must not be empty")
            return None
        return node.value.strip()

    def name(self, node: Node, what: str) -> str | None:
        s = self.text(node, what)
        if s is not None and not _NAME.match(s):
            self.f.add(node, f"{what} must be 1-64 lower-case letters, digits, '_' or '-'")
            return None
        return s

    def choice(self, node: Node, options: Sequence[str], what: str) -> str | None:
        s = self.text(node, what)
        if s is not None and s not in options:
            self.f.add(node, f"{what} must be one of {', '.join(options)}{_suggest(s, options)}")
            return None
        return s

    def date(self, node: Node, what: str) -> dt.date | None:
        if not self.f.visit():
            return None
        if not isinstance(node, ScalarNode) or _tag(node) not in ("str", "timestamp"):
            self.f.add(node, f"{what} must be a date (YYYY-MM-DD), not {_kind_name(node)}")
            return None
        s = node.value.strip()
        if not _DATE.match(s):
            self.f.add(node, f"bad date for {what}: use YYYY-MM-DD (a full date; say in notes when "
                             "only the month or year is known)")
            return None
        try:
            return dt.date.fromisoformat(s)
        except ValueError as e:
            self.f.add(node, f"bad date for {what}: {e}")
            return None

    def number(self, node: Node, what: str, *, minimum: float | None = None,
               maximum: float | None = None, integer: bool = False) -> float | None:
        if not self.f.visit():
            return None
        ok = isinstance(node, ScalarNode) and _tag(node) in (("int",) if integer else ("int", "float"))
        if not ok:
            self.f.add(node, f"{what} must be {'a whole number' if integer else 'a number'}, "
                             f"not {_kind_name(node)}")
            return None
        v = _SCALAR_CONSTRUCTOR.construct_object(node)
        if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
            rng = f"{'' if minimum is None else minimum:g}..{'' if maximum is None else maximum:g}" \
                if minimum is not None and maximum is not None else \
                (f">= {minimum:g}" if minimum is not None else f"<= {maximum:g}")
            self.f.add(node, f"{what} must be {rng}")
            return None
        return v

    def boolean(self, node: Node, what: str) -> bool | None:
        if not self.f.visit():
            return None
        if not isinstance(node, ScalarNode) or _tag(node) != "bool":
            self.f.add(node, f"{what} must be true or false, not {_kind_name(node)}")
            return None
        return bool(_SCALAR_CONSTRUCTOR.construct_object(node))

    def seq(self, node: Node, what: str, *, allow_scalar: bool = True) -> list[Node] | None:
        """Items of a list node (a single scalar counts as a one-item list)."""
        if not self.f.visit():
            return None
        if isinstance(node, SequenceNode):
            if not node.value:
                self.f.add(node, f"{what} must not be an empty list", value="[]")
                return None
            return list(node.value)
        if allow_scalar and isinstance(node, ScalarNode) and _tag(node) == "str":
            return [node]
        self.f.add(node, f"{what} must be a list, not {_kind_name(node)}")
        return None

    def texts(self, node: Node, what: str, *, check: Callable[[Node, str], bool] | None = None
              ) -> tuple[str, ...] | None:
        items = self.seq(node, what)
        if items is None:
            return None
        out, ok = [], True
        for it in items:
            s = self.text(it, f"an item of {what}")
            if s is None or (check is not None and not check(it, s)):
                ok = False
                continue
            out.append(s)
        return tuple(dict.fromkeys(out)) if ok else None

    def country(self, node: Node, s: str) -> bool:
        """Check for ``texts``: an ISO 3166-1 alpha-2 code."""
        if not _COUNTRY.match(s):
            self.f.add(node, "a country must be an ISO 3166-1 alpha-2 code in upper case (e.g. DE)")
            return False
        return True


# --- definitions shared between a pack and the packs that include it ----------------------------

@dataclass
class _Definitions:
    """Named vendor lists, vendor sets and scopes visible to a pack (resolved expressions)."""

    lists: dict[str, VendorList] = field(default_factory=dict)
    sets: dict[str, VendorExpr] = field(default_factory=dict)
    scopes: dict[str, ScopeExpr] = field(default_factory=dict)

    def update(self, other: "_Definitions") -> None:
        self.lists.update(other.lists)
        self.sets.update(other.sets)
        self.scopes.update(other.scopes)


@dataclass
class _Loaded:
    policy: Policy
    exports: _Definitions


_LABELS = {"list": "vendor list", "set": "vendor set", "scope": "scope"}


class _PackReader(_Reader):
    """Reads one file's pack, resolving names against its own and its includes' definitions."""

    def __init__(self, f: _File, catalogue: VendorCatalogue, inherited: _Definitions,
                 raw_lists: dict[str, tuple[Node, Node]], raw_sets: dict[str, tuple[Node, Node]],
                 raw_scopes: dict[str, tuple[Node, Node]]):
        super().__init__(f)
        self.catalogue = catalogue
        self.defs = _Definitions()
        self.inherited = inherited
        self.raw = {"list": raw_lists, "set": raw_sets, "scope": raw_scopes}
        self.resolving: set[tuple[str, str]] = set()
        self.failed: set[tuple[str, str]] = set()

    # -- named definitions, resolved on demand (any order, cycles reported) --------------------
    def _named(self, kind: str, name: str, node: Node):
        store = {"list": self.defs.lists, "set": self.defs.sets, "scope": self.defs.scopes}[kind]
        inherited = {"list": self.inherited.lists, "set": self.inherited.sets,
                     "scope": self.inherited.scopes}[kind]
        if name in store:
            return store[name]
        key = (kind, name)
        if key in self.failed:
            return None
        if name in self.raw[kind]:
            if key in self.resolving:
                self.f.add(node, f"{_LABELS[kind]} {name!r} refers to itself (circular definition)")
                self.failed.add(key)
                return None
            self.resolving.add(key)
            kn, vn = self.raw[kind][name]
            value = {"list": self._vendor_list, "set": self.vendor_set, "scope": self.scope}[kind](
                vn, f"{kind} {name!r}", name=name)
            self.resolving.discard(key)
            if value is None:
                self.failed.add(key)
                return None
            store[name] = value
            return value
        if name in inherited:
            return inherited[name]
        known = sorted(set(self.raw[kind]) | set(inherited))
        label = _LABELS[kind]
        self.f.add(node, f"unknown {label} {name!r}{_suggest(name, known)}"
                   + ("" if _suggest(name, known) else
                      (f"; defined: {', '.join(known)}" if known else f"; this pack defines no {label}s")))
        self.failed.add(key)
        return None

    def resolve_all(self) -> None:
        for kind in ("list", "set", "scope"):
            for name, (kn, _vn) in self.raw[kind].items():
                self._named(kind, name, kn)

    # -- vendor lists ----------------------------------------------------------------------------
    def _vendor_list(self, node: Node, what: str, *, name: str) -> VendorList | None:
        m = self.mapping(node, ("title", "citation", "entries", "notes"), what, required=("entries",))
        if m is None:
            return None
        if "title" in m:
            self.text(m["title"][1], f"title of {what}")
        if "citation" in m:
            self.citation(m["citation"][1], what)
        if "notes" in m:
            self.text(m["notes"][1], f"notes of {what}")
        items = self.seq(m["entries"][1], f"entries of {what}", allow_scalar=False) if "entries" in m else None
        if items is None:
            return None
        entries, ok = [], True
        for it in items:
            e = self.mapping(it, ("vendor", "added", "removed", "note", "confidence"),
                             f"an entry of {what}", required=("vendor", "added"))
            if e is None or "vendor" not in e or "added" not in e:
                ok = False
                continue
            vendor = self.vendor_id(e["vendor"][1])
            added = self.date(e["added"][1], "added")
            removed = self.date(e["removed"][1], "removed") if "removed" in e else None
            note = self.text(e["note"][1], "note") if "note" in e else None
            if "confidence" in e:
                self.choice(e["confidence"][1], CONFIDENCE, "confidence")
            if vendor is None or added is None or ("removed" in e and removed is None):
                ok = False
                continue
            if removed is not None and removed < added:
                self.f.add(e["removed"][1], "removed is before added")
                ok = False
                continue
            entries.append(ListEntry(vendor, added, removed, note))
        return VendorList(name, tuple(entries)) if ok else None

    # -- vendor sets -----------------------------------------------------------------------------
    def vendor_id(self, node: Node) -> str | None:
        s = self.text(node, "vendor")
        if s is None:
            return None
        vid = self.catalogue.resolve(s)
        if vid is None:
            names = list(self.catalogue.ids) + list(self.catalogue.table["name"].astype(str))
            self.f.add(node, f"unknown vendor {s!r}{_suggest(s, names)} (not in the vendor "
                             "catalogue: see `cleanpath vendors`; a network's vendors table can add it)")
        return vid

    def vendor_set(self, node: Node, what: str, *, name: str | None = None) -> VendorExpr | None:
        if isinstance(node, ScalarNode) and _tag(node) == "str":
            ref = node.value.strip()
            if ref in self.raw["set"] or ref in self.inherited.sets or ref in self.defs.sets:
                return self._named("set", ref, node)
            vid = self.catalogue.resolve(ref)
            if vid is not None:  # a bare vendor name is a one-vendor set
                return VendorIds((vid,))
            known = sorted(set(self.raw["set"]) | set(self.inherited.sets))
            names = known + sorted(self.catalogue.ids)
            self.f.add(node, f"unknown vendor or vendor set {ref!r}{_suggest(ref, names)}"
                       + ("" if _suggest(ref, names) else
                          f"; vendor sets defined: {', '.join(known) or 'none'}"))
            return None
        m = self.mapping(node, VENDOR_SET_KEYS, what)
        if m is None:
            return None
        if not m:
            self.f.add(node, f"{what} is empty; give ids, hq_country, list, set, all, any or not", value="{}")
            return None
        parts: list[VendorExpr] = []
        ok = True
        for key, (kn, vn) in m.items():
            part: VendorExpr | None = None
            if key == "ids":
                items = self.seq(vn, "ids")
                ids = [self.vendor_id(it) for it in items] if items is not None else [None]
                part = VendorIds(tuple(dict.fromkeys(ids))) if all(ids) else None
            elif key == "hq_country":
                cs = self.texts(vn, "hq_country", check=self.country)
                part = VendorCountry(cs) if cs else None
            elif key == "list":
                ln = self.text(vn, "list")
                part = self._named("list", ln, vn) if ln else None
            elif key == "set":
                sn = self.text(vn, "set")
                part = self._named("set", sn, vn) if sn else None
            elif key in ("all", "any"):
                items = self.seq(vn, key, allow_scalar=False)
                subs = [self.vendor_set(it, f"an item of {key}") for it in items] if items else [None]
                part = (VendorAll if key == "all" else VendorAny)(tuple(subs)) if all(subs) else None
            elif key == "not":
                sub = self.vendor_set(vn, "not")
                part = VendorNot(sub) if sub is not None else None
            if part is None:
                ok = False
            else:
                parts.append(part)
        if not ok:
            return None
        return parts[0] if len(parts) == 1 else VendorAll(tuple(parts))

    # -- scopes ----------------------------------------------------------------------------------
    def scope(self, node: Node, what: str, *, name: str | None = None) -> ScopeExpr | None:
        if isinstance(node, ScalarNode) and _tag(node) == "str":
            return self._named("scope", node.value.strip(), node)
        m = self.mapping(node, SCOPE_KEYS, what)
        if m is None:
            return None
        if not m:
            return ScopeEverything()
        parts: list[ScopeExpr] = []
        ok = True
        for key, (kn, vn) in m.items():
            part: ScopeExpr | None = None
            if key in SCOPE_FIELDS:
                vocab = SCOPE_VOCABULARY.get(key)

                def check(n: Node, s: str, vocab=vocab, key=key) -> bool:
                    if key == "country":
                        return self.country(n, s)
                    if vocab is not None and s not in vocab:
                        self.f.add(n, f"unknown {key} {s!r}{_suggest(s, vocab)}"
                                   + ("" if _suggest(s, vocab) or len(vocab) > 12
                                      else f"; allowed: {', '.join(vocab)}"))
                        return False
                    return True

                vals = self.texts(vn, key, check=check)
                part = ScopeField(key, vals) if vals else None
            elif key == "near":
                part = self._near(vn)
            elif key == "inside":
                part = self._inside(vn)
            elif key == "manages":
                sub = self.scope(vn, "manages")
                part = ScopeManages(sub) if sub is not None else None
            elif key == "scope":
                sn = self.text(vn, "scope")
                part = self._named("scope", sn, vn) if sn else None
            elif key in ("all", "any"):
                items = self.seq(vn, key, allow_scalar=False)
                subs = [self.scope(it, f"an item of {key}") for it in items] if items else [None]
                part = (ScopeAll if key == "all" else ScopeAny)(tuple(subs)) if all(
                    s is not None for s in subs) else None
            elif key == "not":
                sub = self.scope(vn, "not")
                part = ScopeNot(sub) if sub is not None else None
            if part is None:
                ok = False
            else:
                parts.append(part)
        if not ok:
            return None
        return parts[0] if len(parts) == 1 else ScopeAll(tuple(parts))

    def _near(self, node: Node) -> ScopeNear | None:
        m = self.mapping(node, ("kind", "radius_m"), "near", required=("kind",))
        if m is None or "kind" not in m:
            return None

        def check(n: Node, s: str) -> bool:
            if s not in SENSITIVE_KINDS:
                self.f.add(n, f"unknown sensitive-site kind {s!r}{_suggest(s, SENSITIVE_KINDS)}; "
                              f"allowed: {', '.join(SENSITIVE_KINDS)}")
                return False
            return True

        kinds = self.texts(m["kind"][1], "kind", check=check)
        radius = self.number(m["radius_m"][1], "radius_m", minimum=0, maximum=20_037_509) \
            if "radius_m" in m else None
        if kinds is None or ("radius_m" in m and radius is None):
            return None
        return ScopeNear(kinds, None if radius is None else float(radius))

    def _inside(self, node: Node) -> ScopeInside | None:
        m = self.mapping(node, ("file", "type", "coordinates"), "inside")
        if m is None:
            return None
        if "file" in m:
            if len(m) > 1:
                self.f.add(node, "inside takes either file or an inline geometry (type, coordinates), not both")
                return None
            rel = self.text(m["file"][1], "file")
            if rel is None:
                return None
            path = (self.f.directory / rel) if self.f.directory is not None else Path(rel)
            try:
                data = read_input(path, limit=MAX_GEOJSON_BYTES)
                check_text(data, what="GeoJSON")
                gj = json.loads(data.data.decode("utf-8"))
            except ValidationError as e:
                self.f.add(m["file"][1], f"cannot read {rel!r}: {e.problems[0].reason}")
                return None
            except json.JSONDecodeError as e:
                self.f.add(m["file"][1], f"{rel!r} is not JSON: {e.msg} at line {e.lineno}")
                return None
            polys, err = _geojson_polygons(gj)
            if err:
                self.f.add(m["file"][1], f"{rel!r}: {err}")
                return None
            return ScopeInside(polys, label=rel)
        if "type" not in m or "coordinates" not in m:
            self.f.add(node, "inside needs file, or type and coordinates (a GeoJSON Polygon or MultiPolygon)")
            return None
        gtype = self.choice(m["type"][1], ("Polygon", "MultiPolygon"), "type")
        coords = _SCALAR_CONSTRUCTOR.construct_document(m["coordinates"][1])
        if gtype is None:
            return None
        polys, err = _geojson_polygons({"type": gtype, "coordinates": coords})
        if err:
            self.f.add(m["coordinates"][1], err, value="")
            return None
        return ScopeInside(polys, label="inline polygon")

    # -- citations and rules ---------------------------------------------------------------------
    def citation(self, node: Node, what: str) -> Citation | None:
        m = self.mapping(node, ("instrument", "date", "url", "fact"), f"citation of {what}",
                         required=("instrument", "date", "url"))
        if m is None or not {"instrument", "date", "url"} <= set(m):
            return None
        instrument = self.text(m["instrument"][1], "instrument")
        date = self.date(m["date"][1], "citation date")
        url = self.text(m["url"][1], "url")
        if url is not None and not re.match(r"^https?://\S+$", url):
            self.f.add(m["url"][1], "url must start with http:// or https:// and have no spaces")
            url = None
        fact = self.text(m["fact"][1], "fact") if "fact" in m else None
        if instrument is None or date is None or url is None:
            return None
        return Citation(instrument, date, url, fact)

    def rule(self, node: Node, pack: str, applies_to: ScopeExpr | None) -> Rule | None:
        m = self.mapping(node, RULE_KEYS, "a rule", required=("id", "kind", "title", "vendors", "citation"))
        if m is None:
            return None
        rid = self.name(m["id"][1], "rule id") if "id" in m else None
        what = f"rule {rid!r}" if rid else "a rule"
        kind = self.choice(m["kind"][1], RULE_KINDS, "kind") if "kind" in m else None
        ok = rid is not None and kind is not None and {"title", "vendors", "citation"} <= set(m)
        if kind is not None:
            for key, (kn, _vn) in m.items():
                kinds = RULE_KEYS[key][1]
                if kinds != "*" and kind not in kinds.split(","):
                    self.f.add(kn, f"key {key!r} does not apply to rule kind {kind!r} "
                                   f"(it applies to {kinds.replace(',', ', ')})")
                    ok = False
            needed = {"remove_by": ("deadline",), "no_new": ("installed_on_or_after",),
                      "funding": ("programmes",), "cap": ("max_percent", "measure"),
                      "clean_path": ("sensitive_kinds",)}.get(kind, ())
            for key in needed:
                if key not in m:
                    self.f.add(node, f"{what} of kind {kind!r} needs the key {key!r}", value="")
                    ok = False

        def get(key, fn, *args, **kw):
            nonlocal ok
            if key not in m:
                return None
            v = fn(m[key][1], *args, **kw)
            if v is None:
                ok = False
            return v

        title = get("title", self.text, "title")
        vendors = get("vendors", self.vendor_set, f"vendors of {what}")
        scope = get("scope", self.scope, f"scope of {what}")
        severity = get("severity", self.choice, SEVERITIES, "severity") or "violation"
        citation = get("citation", self.citation, what)
        start = get("from", self.date, "from")
        confidence = get("confidence", self.choice, CONFIDENCE, "confidence") or "high"
        notes = get("notes", self.text, "notes")
        deadline = get("deadline", self.date, "deadline")
        warn_days = get("warn_days", self.number, "warn_days", minimum=0, integer=True)
        since = get("installed_on_or_after", self.date, "installed_on_or_after")
        programmes = get("programmes", self.texts, "programmes") or ()
        max_pct = get("max_percent", self.number, "max_percent", minimum=0, maximum=100)
        measure = get("measure", self.choice, CAP_MEASURES, "measure")
        per = get("per", self.choice, CAP_PER, "per") or "operator"

        def sk_check(n: Node, s: str) -> bool:
            if s not in SENSITIVE_KINDS:
                self.f.add(n, f"unknown sensitive-site kind {s!r}{_suggest(s, SENSITIVE_KINDS)}")
                return False
            return True

        sensitive = get("sensitive_kinds", self.texts, "sensitive_kinds", check=sk_check) or ()
        if not ok or citation is None or vendors is None:
            return None
        start = start or citation.date
        if deadline is not None and deadline < start:
            self.f.add(m["deadline"][1], f"deadline {deadline} is before the rule is in force ({start})")
            return None
        return Rule(
            pack=pack, id=rid, kind=kind, title=title, severity=severity,
            vendors=vendors, vendors_label=_label(m["vendors"][1]),
            scope=scope if scope is not None else ScopeEverything(),
            scope_label=_label(m["scope"][1]) if "scope" in m else "all elements",
            citation=citation, start=start, deadline=deadline,
            warn_days=None if warn_days is None else int(warn_days),
            installed_on_or_after=since, programmes=tuple(programmes),
            max_percent=None if max_pct is None else float(max_pct), measure=measure, per=per,
            sensitive_kinds=tuple(sensitive), applies_to=applies_to, confidence=confidence,
            notes=notes, file=self.f.label, line=node.start_mark.line + 1,
        )


def _label(node: Node, limit: int = 60) -> str:
    """A short description of a vendor set or scope for messages: its name, or its keys."""

    def describe(n: Node) -> str:
        if isinstance(n, ScalarNode):
            return n.value.strip()
        if isinstance(n, SequenceNode):
            return ", ".join(describe(i) for i in n.value)
        if isinstance(n, MappingNode):
            parts = []
            for k, v in n.value:
                key = getattr(k, "value", "?")
                if key in ("all", "any", "not", "manages", "near", "inside"):
                    parts.append(f"{key}({describe(v)})")
                else:
                    parts.append(f"{key} {describe(v)}")
            return "; ".join(parts)
        return "?"

    text = describe(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _geojson_polygons(gj: Any) -> tuple[tuple[Polygon, ...], str | None]:
    """Polygons of a GeoJSON geometry, Feature or FeatureCollection, or an error message."""
    geoms: list[Any] = []
    if not isinstance(gj, dict):
        return (), "expected a GeoJSON object"
    t = gj.get("type")
    if t == "FeatureCollection":
        geoms = [f.get("geometry") for f in gj.get("features") or [] if isinstance(f, dict)]
    elif t == "Feature":
        geoms = [gj.get("geometry")]
    else:
        geoms = [gj]
    polys: list[Polygon] = []
    budget = [MAX_POSITIONS]  # YAML aliases can repeat a ring a million times in a few lines
    for g in geoms:
        if not isinstance(g, dict) or g.get("type") not in ("Polygon", "MultiPolygon"):
            return (), "only Polygon and MultiPolygon geometries are supported"
        parts = [g.get("coordinates")] if g["type"] == "Polygon" else (g.get("coordinates") or [])
        if not isinstance(parts, list):
            return (), "coordinates must be a list"
        total = 0
        for rings in parts:  # count first: cheap, and refuses repeated rings before walking them
            total += sum(len(r) for r in rings if isinstance(r, list)) if isinstance(rings, list) else 0
            if total > budget[0]:
                return (), f"more than {MAX_POSITIONS:,} polygon positions; simplify the geometry"
        budget[0] -= total
        # One validator for every polygon in the package (cleanpath.geo): closed rings, ranges,
        # no self-intersection, holes inside shells, rings across the antimeridian read the short way.
        try:
            parse_area({"type": g["type"], "coordinates": g.get("coordinates")})
        except GeometryError as e:
            return (), e.reason
        for rings in parts:
            polys.append(tuple(tuple((float(p[0]), float(p[1])) for p in ring) for ring in rings))
    if not polys:
        return (), "no polygon found (empty geometry)"
    return tuple(polys), None


# --- files and includes -------------------------------------------------------------------------

def _read_text(path: Path | None, label: str, text: str | None) -> str:
    if text is not None:
        return text
    data = read_input(path, limit=MAX_POLICY_BYTES)
    check_text(data, what="a YAML policy")
    return data.data.decode("utf-8")


def _compose(text: str, f: _File) -> Node | None:
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        f.problems.add(f"not valid YAML: {e.problem or e.context}", file=f.label,
                       line=None if mark is None else mark.line + 1,
                       column=None if mark is None else mark.column + 1)
        return None
    except yaml.YAMLError as e:
        f.problems.add(f"not valid YAML: {e}", file=f.label)
        return None
    if root is None:
        f.problems.add("the file is empty; expected a policy (pack, title, rules...)", file=f.label)
    return root


class _Loader:
    """Loads packs and their includes, detecting cycles, sharing one problem collector."""

    def __init__(self, catalogue: VendorCatalogue):
        self.catalogue = catalogue
        self.problems = ProblemCollector()
        self.done: dict[str, _Loaded] = {}

    def locate(self, ref: str, base: Path | None, shipped_base: bool) -> tuple[str, Path | None, str]:
        """(identity, path, label) of an include reference or a top-level spec."""
        if _is_pack_name(ref):
            res = _packs_root().joinpath(f"{ref}.yaml")
            return f"pack:{ref}", Path(str(res)), f"{ref}.yaml" if shipped_base else str(res)
        p = Path(ref)
        if not p.is_absolute() and base is not None:
            p = base / p
        return f"file:{p.resolve()}", p, str(p)

    def load(self, ident: str, path: Path | None, label: str, stack: list[str],
             text: str | None = None, at: tuple[_File, Node] | None = None) -> _Loaded | None:
        if ident in stack:
            chain = " -> ".join(s.split(":", 1)[1] for s in stack[stack.index(ident):] + [ident])
            if at is not None:
                at[0].add(at[1], f"include cycle: {chain}")
            else:
                self.problems.add(f"include cycle: {chain}", file=label)
            return None
        if ident in self.done:
            return self.done[ident]
        if text is None and (path is None or not path.exists()):
            reason = (f"unknown pack {ident[5:]!r}; shipped packs: {', '.join(shipped_packs())}"
                      if ident.startswith("pack:") else f"policy file not found: {label}")
            if at is not None:
                at[0].add(at[1], reason)
            else:
                self.problems.add(reason, file=label)
            return None
        try:
            content = _read_text(path, label, text)
        except ValidationError as e:
            if at is not None:
                at[0].add(at[1], f"cannot read included file: {e.problems[0].reason}")
            else:
                self.problems.extend(e.problems)
            return None
        f = _File(label, path.parent if path is not None else None, self.problems)
        loaded = self._read(f, content, stack + [ident], shipped=ident.startswith("pack:"))
        if loaded is not None:
            self.done[ident] = loaded
        return loaded

    def _read(self, f: _File, content: str, stack: list[str], shipped: bool) -> _Loaded | None:
        root = _compose(content, f)
        if root is None:
            return None
        r = _Reader(f)
        top = r.mapping(root, PACK_KEYS, "a policy file", required=("pack", "title"))
        if top is None:
            return None
        name = r.name(top["pack"][1], "pack") if "pack" in top else None
        title = r.text(top["title"][1], "title") if "title" in top else None
        description = r.text(top["description"][1], "description") if "description" in top else None
        notes = r.text(top["notes"][1], "notes") if "notes" in top else None
        library = bool(r.boolean(top["library"][1], "library")) if "library" in top else False
        facts = r.texts(top["facts"][1], "facts") if "facts" in top else ()
        jurisdiction: tuple[str, ...] = ()
        if "jurisdiction" in top:
            jurisdiction = r.texts(top["jurisdiction"][1], "jurisdiction", check=r.country) or ()

        # includes first: their definitions are visible here, and their rules come along
        includes: list[Policy] = []
        inherited = _Definitions()
        if "include" in top:
            for item in r.seq(top["include"][1], "include") or []:
                ref = r.text(item, "an include")
                if ref is None:
                    continue
                ident, path, label = self.locate(ref, f.directory, shipped)
                got = self.load(ident, path, label, stack, at=(f, item))
                if got is not None:
                    includes.append(got.policy)
                    inherited.update(got.exports)

        def raw(key: str, what: str) -> dict[str, tuple[Node, Node]]:
            if key not in top:
                return {}
            m = r.mapping(top[key][1], _AnyKeys(), what)
            if m is None:
                return {}
            for k, (kn, _vn) in list(m.items()):
                if not _NAME.match(k):
                    f.add(kn, f"{what} names must be 1-64 lower-case letters, digits, '_' or '-'")
                    del m[k]
            return m

        pr = _PackReader(f, self.catalogue, inherited, raw("vendor_lists", "vendor_lists"),
                         raw("vendor_sets", "vendor_sets"), raw("scopes", "scopes"))
        pr.resolve_all()
        applies_to = ScopeField("country", jurisdiction) if jurisdiction else None
        rules: list[Rule] = []
        seen: dict[str, int] = {}
        if "rules" in top:
            rnode = top["rules"][1]
            items = r.seq(rnode, "rules", allow_scalar=False) or []
            for item in items:
                rule = pr.rule(item, name or "?", applies_to)
                if rule is None:
                    continue
                if rule.id in seen:
                    f.add(item, f"duplicate rule id {rule.id!r} (first at line {seen[rule.id]})",
                          value=rule.id)
                    continue
                seen[rule.id] = rule.line or 0
                rules.append(rule)
        if name is None or title is None:
            return None
        exports = _Definitions()
        exports.update(inherited)
        exports.update(pr.defs)
        policy = Policy(name=name, title=title, rules=tuple(rules), jurisdiction=tuple(jurisdiction),
                        description=description, includes=tuple(includes), library=library,
                        notes=notes, file=f.label, facts=tuple(facts or ()))
        return _Loaded(policy, exports)


class _AnyKeys(list):
    """Allowed-keys stand-in for mappings whose keys are user-chosen names."""

    def __contains__(self, item: object) -> bool:  # every key is allowed
        return True


# --- public API ---------------------------------------------------------------------------------

def load_policy(ref: str | Path, *, text: str | None = None,
                catalogue: VendorCatalogue | None = None) -> Policy:
    """Load one policy: a shipped pack by name, or a YAML file (with its includes).

    Parameters
    ----------
    ref
        A shipped pack's name (``uk-tsa``) or a path to a policy file. With ``text``, the name
        shown in messages.
    text
        The policy's YAML text, instead of reading ``ref``.
    catalogue
        Vendor catalogue that vendor names are resolved in (default: the shipped catalogue; pass
        ``Network.catalogue`` to allow the network's own vendors).

    Returns
    -------
    Policy

    Raises
    ------
    ValidationError
        Every problem found, each with file, line, column and reason.
    """
    if catalogue is not None and catalogue is default_catalogue():
        catalogue = None  # a network without its own vendors table: the shipped packs' cache holds
    if text is None and catalogue is None and isinstance(ref, str) and _is_pack_name(ref):
        return _shipped(ref)
    ld = _Loader(catalogue or default_catalogue())
    if text is not None:
        ident, path, label = f"text:{ref}", None, str(ref)
    else:
        ident, path, label = ld.locate(str(ref), None, False)
    got = ld.load(ident, path, label, [], text=text)
    _raise_sorted(ld.problems)
    assert got is not None
    return got.policy


def _raise_sorted(problems: ProblemCollector) -> None:
    """Raise the problems, in file order of first appearance and line order within a file."""
    files = list(dict.fromkeys(p.file for p in problems.problems))
    problems.problems.sort(key=lambda p: (files.index(p.file), p.line or 0, p.column if isinstance(
        p.column, int) else 0))
    problems.raise_if_any()


@lru_cache(maxsize=64)
def _shipped(name: str) -> Policy:
    ld = _Loader(default_catalogue())
    ident, path, label = ld.locate(name, None, True)
    got = ld.load(ident, path, label, [])
    _raise_sorted(ld.problems)
    assert got is not None
    return got.policy


def load_policies(spec: str | Path | Policy | Sequence[str | Path | Policy], *,
                  catalogue: VendorCatalogue | None = None) -> list[Policy]:
    """Load the policies a user named.

    Parameters
    ----------
    spec
        ``"all"`` (every shipped pack), ``"uk-tsa,de-2024"`` (comma-separated pack names or
        files), a path, a loaded :class:`Policy`, or a list of any of these.
    catalogue
        Vendor catalogue for name resolution (see :func:`load_policy`).

    Returns
    -------
    list of Policy
        In the order given, each once; library packs given via ``all`` are left out.
    """
    items: list[str | Path | Policy] = []
    for s in (spec if isinstance(spec, (list, tuple)) else [spec]):
        if isinstance(s, str):
            items += [p.strip() for p in s.split(",") if p.strip()]
        else:
            items.append(s)
    out: list[Policy] = []
    problems = ProblemCollector()
    for it in items:
        if isinstance(it, Policy):
            out.append(it)
            continue
        if str(it) == "all":
            out += [p for p in (load_policy(n, catalogue=catalogue) for n in shipped_packs())
                    if not p.library]
            continue
        try:
            out.append(load_policy(it, catalogue=catalogue))
        except ValidationError as e:
            problems.extend(e.problems)
    problems.raise_if_any()
    if not out:
        raise ValidationError("no policy given; name shipped packs (see `cleanpath policy list`) or files")
    seen: dict[str, Policy] = {}
    for p in out:
        if p.name in seen and seen[p.name].file != p.file:
            raise ValidationError(f"two policies are named {p.name!r} ({seen[p.name].file} and {p.file}); "
                                  "rename one (the pack key)")
        seen.setdefault(p.name, p)
    return list(seen.values())


def rules_of(policies: Sequence[Policy]) -> list[Rule]:
    """Every rule of the policies and their includes, each once, in order."""
    seen: dict[str, Rule] = {}
    for p in policies:
        for r in p.all_rules():
            seen.setdefault(r.key, r)
    return list(seen.values())
