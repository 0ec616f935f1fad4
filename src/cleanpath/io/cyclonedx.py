"""Import CycloneDX 1.5 and 1.6 JSON bills of materials (hardware inventories).

An operator (or its integrator) can describe its installed equipment as a CycloneDX hardware BOM:
one ``device`` component per radio, baseband unit, router..., with the vendor in ``manufacturer``
(CycloneDX 1.6) or ``supplier``. CycloneDX has no fields for where a box stands or what it does
in the network, so cleanpath reads those from component ``properties`` in its own namespace.

Property namespace
------------------
On a component (``components[].properties``):

===================================  ===============================================================
``cleanpath:role``                   element role (``ran.radio``, ``transport.router``, ``core.upf``
                                     ... see ``cleanpath schema``); required for an element
``cleanpath:generation``             ``2G`` ``3G`` ``4G`` ``5G-NSA`` ``5G-SA`` ``none``
``cleanpath:installed_on``           installation date, ``YYYY-MM-DD``
``cleanpath:in_service``             ``true`` / ``false``
``cleanpath:unit_cost``              replacement cost in USD
``cleanpath:funded_by``              subsidy or programme that paid for it
``cleanpath:site``                   site id the element stands at
``cleanpath:site:kind``              site kind (``cell``, ``hub``, ``core_dc``...)
``cleanpath:site:lat``               site latitude (WGS84)
``cleanpath:site:lon``               site longitude (WGS84)
``cleanpath:site:region``            site's administrative region
``cleanpath:site:subscribers``       subscribers served from the site
``cleanpath:site:operator``          operator id running the site (default: the BOM's operator)
``cleanpath:link_kind``              how this component's ``dependsOn`` become links, see below;
                                     may be repeated
===================================  ===============================================================

On the BOM (``metadata.properties``): ``cleanpath:operator`` (operator id),
``cleanpath:operator:name`` and ``cleanpath:country`` (ISO 3166-1 alpha-2).

Mapping
-------
* **Elements.** Every component that carries ``cleanpath:role`` becomes an element, whatever its
  type: a virtualised core function (AMF, UPF) is usually of type ``application`` or
  ``container``, and its vendor matters as much as a radio's. ``element_id`` is the ``bom-ref``;
  a component without one gets ``cdx-`` and a hash of its content (stable across re-exports).
  ``vendor`` is ``manufacturer.name``, else ``supplier.name``, else ``unknown``, kept verbatim
  here and resolved against the vendor catalogue on import. ``model`` is the component ``name``
  (``version`` is a hardware or firmware revision, which the model has no column for).
* **Devices without a role.** A ``device`` that holds other components and has no element
  properties is an assembly (cabinet, shelf, site): its ``cleanpath:site*`` properties pass down
  to everything nested in it. A device nested in an element, with no ``cleanpath:`` properties, is
  a part of it (board, power supply, transceiver) and is skipped. Any other device without a role
  is an error: cleanpath cannot tell what it does.
* **Other components** (firmware, libraries, operating systems) without a role are ignored; the
  warnings count them.
* **Sites** are created for every ``cleanpath:site`` that some component gives attributes for
  (``cleanpath:site:kind``, ``:lat``...). A bare ``cleanpath:site`` only refers to a site, which
  must then exist in the snapshot already. The same attribute given twice with different values
  is an error.
* **Operator.** ``--operator``, else the BOM's ``cleanpath:operator`` property, else
  ``metadata.manufacturer.name`` (1.6: the organisation that made the BOM), else
  ``metadata.supplier.name``; a name becomes an id by lower-casing it and joining its words with
  ``-``. With a country (``--country`` or ``cleanpath:country``) an ``operators`` row is created;
  without one, the operator must exist in the snapshot already.
* **Links.** ``dependencies`` say that a component depends on others, not how, so only those
  whose dependent component says so become links: ``cleanpath:link_kind`` = ``transport`` (or
  ``control``, ``management``, ``anchor``) applies to every ``dependsOn`` of that component, and
  ``cleanpath:link_kind`` = ``control=<bom-ref>`` to one of them (repeatable, also for two
  kinds to one target, e.g. a 5G-NSA radio's ``transport=`` and ``anchor=`` its baseband; explicit
  kinds replace the default for that target). ``a`` is the dependent, ``b`` the component
  depended on, as the links table defines.
  Dependencies without a kind are not links (the warnings count them).

Problems point at the file, the line of the component and, in ``column``, a JSON pointer such as
``/components/3/properties``. Lines are found only when a problem needs one, by a pass of the
json module's C scanner over the text (see :class:`_Positions`), so a clean import pays nothing.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.io.guard import check_text, check_tree_size, json_tree_estimate, read_input
from cleanpath.io.registry import Imported, as_paths
from cleanpath.model.schema import LINK_KINDS
from cleanpath.model.validate import Source

SUPPORTED_VERSIONS = ("1.5", "1.6")
NS = "cleanpath:"

#: Component property -> elements column.
ELEMENT_PROPS = {
    "cleanpath:role": "role",
    "cleanpath:generation": "generation",
    "cleanpath:installed_on": "installed_on",
    "cleanpath:in_service": "in_service",
    "cleanpath:unit_cost": "unit_cost",
    "cleanpath:funded_by": "funded_by",
}
#: Component property -> sites column (``cleanpath:site`` itself is the element's site_id).
SITE_PROPS = {
    "cleanpath:site:kind": "kind",
    "cleanpath:site:lat": "lat",
    "cleanpath:site:lon": "lon",
    "cleanpath:site:region": "region",
    "cleanpath:site:subscribers": "subscribers",
    "cleanpath:site:operator": "operator_id",
}
SITE_ID = "cleanpath:site"
LINK_KIND = "cleanpath:link_kind"
#: BOM-level properties (metadata.properties).
BOM_PROPS = ("cleanpath:operator", "cleanpath:operator:name", "cleanpath:country")
COMPONENT_PROPS = (*ELEMENT_PROPS, SITE_ID, *SITE_PROPS, LINK_KIND)


# -- where things are in the text ----------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
#: How the first pass treats the BOM's top-level keys: list the items of an array (each item is
#: then skipped by the C scanner), or walk a small object completely.
_ROOT = {"components": "items", "dependencies": "items", "metadata": "deep"}


def _pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


class _Positions:
    """Where the JSON pointers a problem may name (``/components/3/properties``) are in the text.

    Nothing is computed until a line is asked for, so a clean import costs nothing. Then one pass
    over the already-valid text lists the top-level components and dependencies, skipping each
    with the json module's C scanner; a component is walked key by key only when a pointer inside
    it is asked for. A problem in a 100,000-component BOM so costs one fast pass, not a parse in
    Python.
    """

    def __init__(self, text: str):
        self.text = text
        self._at: dict[str, int] | None = None  # pointer -> offset of its key, or of the item
        self._value_at: dict[str, int] = {}     # pointer -> offset of its value
        self._expanded: set[str] = set()
        self._scan = json.JSONDecoder().scan_once
        self._newlines: np.ndarray | None = None

    # -- the passes ------------------------------------------------------------------------------
    def _skip(self, i: int) -> int:
        return _WS.match(self.text, i).end()

    def _record(self, ptr: str, at: int, value_at: int) -> None:
        self._at[ptr] = at
        self._value_at[ptr] = value_at

    def _value(self, i: int, ptr: str, mode: str | None) -> int:
        """Skip (mode None), list the items of (``items``) or walk (``deep``) the value at ``i``."""
        c = self.text[i]
        if mode == "deep" and c == "{":
            return self._object(i, ptr, lambda key: "deep")
        if mode in ("items", "deep") and c == "[":
            return self._array(i, ptr, None if mode == "items" else "deep")
        return self._scan(self.text, i)[1]

    def _object(self, i: int, ptr: str, mode_of) -> int:
        t = self.text
        i = self._skip(i + 1)
        if t[i] == "}":
            return i + 1
        while True:
            key, j = scanstring(t, i + 1)
            child = f"{ptr}/{_pointer_token(key)}"
            j = self._skip(self._skip(j) + 1)  # past the colon
            self._record(child, i, j)
            j = self._skip(self._value(j, child, mode_of(key)))
            if t[j] == "}":
                return j + 1
            i = self._skip(j + 1)

    def _array(self, i: int, ptr: str, item_mode: str | None) -> int:
        t = self.text
        i = self._skip(i + 1)
        if t[i] == "]":
            return i + 1
        k = 0
        while True:
            child = f"{ptr}/{k}"
            self._record(child, i, i)
            j = self._skip(self._value(i, child, item_mode))
            if t[j] == "]":
                return j + 1
            i, k = self._skip(j + 1), k + 1

    def _first_pass(self) -> None:
        self._at = {}
        codes = np.frombuffer(self.text.encode("utf-32-le"), dtype=np.uint32)
        self._newlines = np.flatnonzero(codes == 10)
        try:
            start = self._skip(0)
            if self.text[start] == "{":
                self._object(start, "", lambda key: _ROOT.get(key))
        except (RecursionError, StopIteration, IndexError):
            pass  # positions are a courtesy; problems then carry fewer lines

    def _expand(self, ptr: str) -> None:
        self._expanded.add(ptr)
        try:
            self._value(self._value_at[ptr], ptr, "deep")
        except (RecursionError, StopIteration, IndexError):
            pass

    # -- asking ----------------------------------------------------------------------------------
    def offset(self, ptr: str) -> int | None:
        """Character offset of a pointer, or of its nearest ancestor found; None if unknown."""
        if self._at is None:
            self._first_pass()
        while True:
            if ptr in self._at:
                return self._at[ptr]
            anc = ptr
            while anc and anc not in self._at:
                anc = anc.rsplit("/", 1)[0]
            if not anc:
                return None
            if anc in self._expanded:
                return self._at[anc]
            self._expand(anc)

    def line(self, ptr: str) -> int | None:
        """1-based line of a pointer (or of its nearest known ancestor), None if unknown."""
        off = self.offset(ptr)
        return None if off is None else int(np.searchsorted(self._newlines, off)) + 1

    def lines(self, ptrs: list[str]) -> np.ndarray:
        return np.array([self.line(p) or 1 for p in ptrs], dtype=np.int64)  # unknown: the start


# -- reading one BOM -------------------------------------------------------------------------------

@dataclass
class _Bom:
    """One file's contribution, in long form, before tables are built."""

    file: str
    pos: _Positions
    operator_id: str | None = None
    operator_name: str | None = None
    country: str | None = None
    elements: list[dict[str, Any]] = field(default_factory=list)
    site_records: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    ignored: int = 0
    parts: int = 0
    unlinked: int = 0
    kinds: dict[str, tuple[str | None, dict[str, list[str]]]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)


def _slug(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "-", name.casefold()).strip("-") or name


def _org_name(org: Any) -> str | None:
    if isinstance(org, dict) and isinstance(org.get("name"), str) and org["name"].strip():
        return org["name"].strip()
    return None


def _load(path: Path, problems: ProblemCollector) -> tuple[dict | None, str, _Positions | None]:
    f = read_input(path)
    # Minified BOMs are one long line, so the line-length guard is off; size is still limited.
    check_text(f, what="CycloneDX JSON", max_line=len(f.data) + 1)
    check_tree_size(f, json_tree_estimate(f.data), what="CycloneDX JSON")
    text = f.data.decode("utf-8").lstrip("\ufeff")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        line_text = text.split("\n")[e.lineno - 1]  # JSON counts lines by "\n" alone
        problems.add(f"not valid JSON: {e.msg}", file=f.label, line=e.lineno, column=e.colno,
                     value=line_text[max(0, e.colno - 30): e.colno + 30])
        return None, f.label, None
    except RecursionError:
        problems.add("JSON is nested too deeply to be a BOM", file=f.label)
        return None, f.label, None
    pos = _Positions(text)
    if not isinstance(doc, dict):
        problems.add(f"not a CycloneDX BOM: the top level is a JSON {type(doc).__name__}, "
                     "not an object", file=f.label, line=1)
        return None, f.label, pos
    if "bomFormat" not in doc:
        hint = "; it looks like an SPDX document" if "spdxVersion" in doc else ""
        problems.add(f"not a CycloneDX BOM: there is no bomFormat{hint}", file=f.label, line=1,
                     column="/")
        return None, f.label, pos
    if doc["bomFormat"] != "CycloneDX":
        problems.add("not a CycloneDX BOM: bomFormat must be \"CycloneDX\"", file=f.label,
                     line=pos.line("/bomFormat"), column="/bomFormat", value=doc["bomFormat"])
        return None, f.label, pos
    version = doc.get("specVersion")
    if version not in SUPPORTED_VERSIONS:
        older = isinstance(version, str) and re.fullmatch(r"1\.[0-4]", version)
        reason = (f"CycloneDX {version} is not supported: export the BOM as CycloneDX 1.5 or 1.6 "
                  "(the CycloneDX CLI's convert command can upgrade it)" if older else
                  f"unsupported CycloneDX specVersion; supported: {', '.join(SUPPORTED_VERSIONS)}")
        problems.add(reason, file=f.label, line=pos.line("/specVersion"), column="/specVersion",
                     value=version)
        return None, f.label, pos
    return doc, f.label, pos


def _properties(comp: dict, ptr: str, bom: _Bom, problems: ProblemCollector,
                allowed: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """The ``cleanpath:`` properties of an object: single values by name, and link kinds."""
    props = comp.get("properties", [])
    out: dict[str, str] = {}
    kinds: list[str] = []
    if not isinstance(props, list):
        problems.add("properties must be a list of {name, value}", file=bom.file,
                     line=bom.pos.line(f"{ptr}/properties"), column=f"{ptr}/properties")
        return out, kinds
    for k, prop in enumerate(props):
        pp = f"{ptr}/properties/{k}"
        if not isinstance(prop, dict) or not isinstance(prop.get("name"), str):
            problems.add("a property needs a string name", file=bom.file, line=bom.pos.line(pp),
                         column=pp, value=json.dumps(prop)[:80])
            continue
        name = prop["name"].strip()
        if not name.startswith(NS):
            continue  # other namespaces (cdx:device:..., vendors' own) are not ours to judge
        value = prop.get("value")
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif value is not None and not isinstance(value, str):
            value = json.dumps(value)
        value = None if value is None else value.strip()
        if name not in allowed:
            close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.75)
            problems.add("unknown cleanpath property" + (f"; did you mean {close[0]!r}?" if close else
                         f"; known: {', '.join(allowed)}"), file=bom.file, line=bom.pos.line(pp),
                         column=f"{pp}/name", value=name)
            continue
        if not value:
            problems.add(f"{name} has no value", file=bom.file, line=bom.pos.line(pp),
                         column=f"{pp}/value")
            continue
        if name == LINK_KIND:
            kinds.append(value)
        elif name in out and out[name] != value:
            problems.add(f"{name} is given twice with different values ({out[name]!r} first)",
                         file=bom.file, line=bom.pos.line(pp), column=f"{pp}/value", value=value)
        else:
            out[name] = value
    return out, kinds


def _element_id(comp: dict, seen: dict[str, int]) -> str:
    ref = comp.get("bom-ref")
    if isinstance(ref, str) and ref.strip():
        return ref.strip()
    body = {k: v for k, v in comp.items() if k != "components"}
    digest = hashlib.sha1(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    base = f"cdx-{digest[:16]}"
    # Identical devices without a bom-ref (two of the same radio) get -2, -3... in BOM order.
    seen[base] = seen.get(base, 0) + 1
    return base if seen[base] == 1 else f"{base}-{seen[base]}"


def _link_kinds(values: list[str], ptr: str, bom: _Bom, problems: ProblemCollector
                ) -> tuple[str | None, dict[str, list[str]]]:
    default: str | None = None
    per_target: dict[str, list[str]] = {}
    for v in values:
        kind, _, target = v.partition("=")
        kind, target = kind.strip(), target.strip()
        if kind not in LINK_KINDS:
            problems.add(f"unknown link kind {kind!r}; use one of {', '.join(LINK_KINDS)}, "
                         "optionally as kind=<bom-ref>", file=bom.file,
                         line=bom.pos.line(f"{ptr}/properties"), column=f"{ptr}/properties", value=v)
        elif target:
            per_target.setdefault(target, []).append(kind)
        else:
            default = kind
    return default, per_target


def _walk(comps: Any, ptr: str, bom: _Bom, problems: ProblemCollector, *, inherited: dict[str, str],
          in_element: bool, seen: dict[str, int]) -> None:
    """Flatten (nested) components into element and site records."""
    if not isinstance(comps, list):
        problems.add("components must be a list", file=bom.file, line=bom.pos.line(ptr), column=ptr)
        return
    for k, comp in enumerate(comps):
        cp = f"{ptr}/{k}"
        if not isinstance(comp, dict):
            problems.add("a component must be an object", file=bom.file, line=bom.pos.line(cp), column=cp)
            continue
        ctype = comp.get("type")
        props, kinds = _properties(comp, cp, bom, problems, COMPONENT_PROPS)
        site_props = {p: v for p, v in props.items() if p == SITE_ID or p in SITE_PROPS}
        here = {**inherited, **site_props}
        children = comp.get("components")
        ref = comp.get("bom-ref")
        if isinstance(ref, str):
            bom.types[ref.strip()] = str(ctype)
        role = props.get("cleanpath:role")
        element_props = [p for p in props if p in ELEMENT_PROPS] + ([LINK_KIND] if kinds else [])
        is_element = role is not None
        if not is_element:
            if element_props or (ctype == "device" and not children and not in_element):
                problems.add(f"{'device' if ctype == 'device' else 'component'} has no cleanpath:role "
                             "property, so cleanpath cannot tell what it does (e.g. ran.radio, "
                             "transport.router; see `cleanpath schema`)",
                             file=bom.file, line=bom.pos.line(f"{cp}/properties"),
                             column=f"{cp}/properties", value=comp.get("bom-ref") or comp.get("name"))
            elif ctype == "device" and in_element:
                bom.parts += 1
            elif ctype != "device":
                bom.ignored += 1
            # else: an assembly (cabinet, shelf, site) whose site properties pass down
        else:
            eid = _element_id(comp, seen)
            vendor = (_org_name(comp.get("manufacturer")) or _org_name(comp.get("supplier"))
                      or "unknown")
            rec = {"element_id": eid, "site_id": here.get(SITE_ID), "vendor": vendor,
                   "model": comp.get("name") if isinstance(comp.get("name"), str) else None,
                   "_ptr": cp, "_file": bom.file}
            rec.update({col: props.get(p) for p, col in ELEMENT_PROPS.items()})
            bom.elements.append(rec)
            if kinds:
                bom.kinds[eid] = _link_kinds(kinds, cp, bom, problems)
            attrs = {col: here.get(p) for p, col in SITE_PROPS.items()}
            if here.get(SITE_ID) and any(v is not None for v in attrs.values()):
                bom.site_records.append({"site_id": here[SITE_ID], **attrs, "_ptr": cp, "_file": bom.file})
            elif any(v is not None for v in attrs.values()):
                problems.add("site attributes without a cleanpath:site id", file=bom.file,
                             line=bom.pos.line(f"{cp}/properties"), column=f"{cp}/properties")
        if children is not None:
            _walk(children, f"{cp}/components", bom, problems, inherited=here,
                  in_element=is_element or in_element, seen=seen)


def _dependencies(doc: dict, bom: _Bom, problems: ProblemCollector) -> None:
    deps = doc.get("dependencies", [])
    if not isinstance(deps, list):
        problems.add("dependencies must be a list", file=bom.file, line=bom.pos.line("/dependencies"),
                     column="/dependencies")
        return
    element_ids = {e["element_id"] for e in bom.elements}
    for k, dep in enumerate(deps):
        dp = f"/dependencies/{k}"
        if not isinstance(dep, dict) or not isinstance(dep.get("ref"), str):
            problems.add("a dependency needs a string ref", file=bom.file, line=bom.pos.line(dp), column=dp)
            continue
        targets = dep.get("dependsOn", [])
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            problems.add("dependsOn must be a list of bom-refs", file=bom.file,
                         line=bom.pos.line(f"{dp}/dependsOn"), column=f"{dp}/dependsOn")
            continue
        ref = dep["ref"].strip()
        if ref not in element_ids:
            continue  # the dependent is firmware, a library or the BOM's subject: not a link
        default, per_target = bom.kinds.get(ref, (None, {}))
        for t in map(str.strip, targets):
            if t in bom.types and t not in element_ids:
                continue  # depends on a non-element (firmware, a part)
            kinds = per_target.get(t, [default] if default else [])
            if not kinds:
                bom.unlinked += 1
            for kind in kinds:
                bom.links.append({"a": ref, "b": t, "kind": kind, "_ptr": dp, "_file": bom.file})
    # A per-target kind must name something the component depends on, or it is a typo.
    listed = {(d.get("ref", "").strip(), t.strip()) for d in deps if isinstance(d, dict)
              and isinstance(d.get("ref"), str) and isinstance(d.get("dependsOn"), list)
              for t in d["dependsOn"] if isinstance(t, str)}
    for e in bom.elements:
        for target in bom.kinds.get(e["element_id"], (None, {}))[1]:
            if (e["element_id"], target) not in listed:
                problems.add(f"cleanpath:link_kind names {target!r}, which no dependencies entry of "
                             "this component lists in dependsOn", file=bom.file,
                             line=bom.pos.line(f"{e['_ptr']}/properties"),
                             column=f"{e['_ptr']}/properties", value=target)


def _read_bom(path: Path, problems: ProblemCollector, *, operator_id: str | None,
              country: str | None) -> _Bom | None:
    doc, label, pos = _load(path, problems)
    if doc is None:
        return None
    bom = _Bom(label, pos)
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    mprops, _ = _properties(meta, "/metadata", bom, problems, BOM_PROPS)
    org = _org_name(meta.get("manufacturer")) or _org_name(meta.get("supplier"))
    bom.operator_id = operator_id or mprops.get("cleanpath:operator") or (_slug(org) if org else None)
    bom.operator_name = mprops.get("cleanpath:operator:name") or org or bom.operator_id
    c = country or mprops.get("cleanpath:country")
    bom.country = c.strip().upper() if c else None
    for other in [meta.get("component")] + list(doc.get("services") or []):
        # Refs that name the BOM's subject or a service are not elements: never links.
        if isinstance(other, dict) and isinstance(other.get("bom-ref"), str):
            bom.types[other["bom-ref"].strip()] = "other"
    _walk(doc.get("components", []), "/components", bom, problems, inherited={}, in_element=False,
          seen={})
    _dependencies(doc, bom, problems)
    for rec in bom.site_records:
        if rec["operator_id"] is None:
            rec["operator_id"] = bom.operator_id
            if bom.operator_id is None:
                problems.add(f"site {rec['site_id']!r} has no operator: pass --operator, set "
                             "cleanpath:site:operator, or name the operator in metadata.manufacturer, "
                             "metadata.supplier or a cleanpath:operator property", file=bom.file,
                             line=pos.line(rec["_ptr"]), column=f"{rec['_ptr']}/properties")
    return bom


# -- tables ------------------------------------------------------------------------------------------

def _lines(boms: dict[str, _Bom], frame: pd.DataFrame) -> np.ndarray:
    """Line of each row's JSON pointer (``_ptr``) in its file (``_file``)."""
    out = np.zeros(len(frame), dtype=np.int64)
    for file, idx in frame.groupby("_file", sort=False).indices.items():
        out[idx] = boms[file].pos.lines(frame["_ptr"].iloc[idx].tolist())
    return out


def _source(frame: pd.DataFrame, boms: dict[str, _Bom]) -> Source:
    """Where a table's rows came from; lines are looked up only for rows a problem names."""
    files = list(dict.fromkeys(frame["_file"]))
    label = files[0] if len(files) == 1 else " | ".join(files)
    where = frame[["_ptr", "_file"]].reset_index(drop=True)
    file_col = where["_file"].to_numpy(dtype=object)
    return Source(label, lambda rows: _lines(boms, where.iloc[np.asarray(rows, dtype=np.int64)]),
                  file_of=lambda rows: file_col[np.asarray(rows, dtype=np.int64)].tolist())


def _frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(records, columns=[*columns, "_ptr", "_file"])


def _sites(records: pd.DataFrame, boms: dict[str, _Bom], problems: ProblemCollector) -> pd.DataFrame:
    """One row per site (first mention first); an attribute given two values is a problem."""
    attrs = list(SITE_PROPS.values())
    long = records.assign(_order=np.arange(len(records))).melt(
        id_vars=["site_id", "_ptr", "_file", "_order"], value_vars=attrs,
        var_name="attr", value_name="value").dropna(subset=["value"]).sort_values("_order", kind="stable")
    distinct = long.drop_duplicates(["site_id", "attr", "value"])
    first = distinct.drop_duplicates(["site_id", "attr"])
    clash = distinct[~distinct.index.isin(first.index)]
    if len(clash):
        firsts = first.set_index(["site_id", "attr"])
        for row in clash.head(100).to_dict("records"):
            f = firsts.loc[(row["site_id"], row["attr"])]
            prop = next(p for p, c in SITE_PROPS.items() if c == row["attr"])
            problems.add(f"site {row['site_id']!r}: {prop} is {row['value']!r} here but {f['value']!r} "
                         f"at {Path(f['_file']).name}:{boms[f['_file']].pos.line(f['_ptr'])}",
                         file=row["_file"], line=boms[row["_file"]].pos.line(row["_ptr"]),
                         column=f"{row['_ptr']}/properties", value=row["value"])
        problems.truncated |= len(clash) > 100
    head = records.drop_duplicates("site_id").set_index("site_id")
    wide = first.pivot(index="site_id", columns="attr", values="value").reindex(head.index)
    return wide.reindex(columns=attrs).join(head[["_ptr", "_file"]]).reset_index()


def import_cyclonedx(paths, *, operator_id: str | None = None, country: str | None = None,
                     **_ignored) -> Imported:
    """Read CycloneDX 1.5/1.6 JSON BOMs into model tables.

    Parameters
    ----------
    paths
        One or more ``.json`` (or ``.json.gz``) BOM files.
    operator_id
        Operator of the imported sites (default: from the BOM, see the module docstring).
    country
        ISO 3166-1 alpha-2 country of the operator (default: the BOM's ``cleanpath:country``).
    **_ignored
        Options meant for other importers.

    Returns
    -------
    Imported
        ``elements``, ``sites``, ``links`` and (when the country is known) ``operators``, raw
        text values for validation, with each row's file and line.

    Raises
    ------
    ValidationError
        Not JSON, not CycloneDX, an unsupported version, devices without a role, unknown
        ``cleanpath:`` properties, conflicting site attributes...; up to 100 problems.
    """
    problems = ProblemCollector()
    boms: dict[str, _Bom] = {}
    for p in as_paths(paths):
        try:
            bom = _read_bom(p, problems, operator_id=operator_id, country=country)
        except ValidationError as e:
            problems.extend(e.problems)
            problems.truncated |= e.truncated
            continue
        if bom is not None:
            boms[bom.file] = bom
    problems.raise_if_any()
    if not boms:
        raise ValidationError("no input files")

    elements = _frame([e for b in boms.values() for e in b.elements],
                      ["element_id", "site_id", "vendor", "model", *ELEMENT_PROPS.values()])
    links = _frame([lk for b in boms.values() for lk in b.links], ["a", "b", "kind"])
    links = links.drop_duplicates(["a", "b", "kind"]).reset_index(drop=True)
    records = _frame([r for b in boms.values() for r in b.site_records], ["site_id", *SITE_PROPS.values()])
    sites = _sites(records, boms, problems) if len(records) else None
    problems.raise_if_any()

    tables: dict[str, pd.DataFrame] = {}
    sources: dict[str, Source] = {}
    warnings: list[str] = []
    if len(elements) == 0:
        raise ValidationError(Problem("the BOM has no components with a cleanpath:role; nothing to "
                                      "import (see `cleanpath import --help` for the properties)",
                                      " | ".join(boms)))
    tables["elements"] = elements.drop(columns=["_ptr", "_file"])
    sources["elements"] = _source(elements, boms)
    if sites is not None:
        tables["sites"] = sites[["site_id", *SITE_PROPS.values()]]
        sources["sites"] = _source(sites, boms)
    if len(links):
        tables["links"] = links.drop(columns=["_ptr", "_file"])
        sources["links"] = _source(links, boms)
    ops = {}
    for b in boms.values():
        if b.operator_id and b.country:
            ops.setdefault(b.operator_id, (b.operator_name or b.operator_id, b.country, b.file))
        elif b.operator_id and b.site_records:
            warnings.append(f"{b.file}: no country for operator {b.operator_id!r} (pass --country or "
                            "set cleanpath:country), so it is not created and must exist already")
    if ops:
        tables["operators"] = pd.DataFrame([(k, n, c) for k, (n, c, _) in ops.items()],
                                           columns=["operator_id", "name", "country"])
        where = pd.DataFrame({"_ptr": "/metadata", "_file": [f for (_, _, f) in ops.values()]})
        sources["operators"] = _source(where, boms)
    for b in boms.values():
        if b.ignored:
            warnings.append(f"{b.file}: {b.ignored} component(s) without cleanpath:role that are not "
                            "devices (firmware, software...) ignored")
        if b.parts:
            warnings.append(f"{b.file}: {b.parts} device(s) nested in an element without cleanpath "
                            "properties treated as its parts")
        if b.unlinked:
            warnings.append(f"{b.file}: {b.unlinked} dependsOn entr{'y' if b.unlinked == 1 else 'ies'} "
                            "between elements without a cleanpath:link_kind are not links")
    return Imported(tables, sources, warnings)
