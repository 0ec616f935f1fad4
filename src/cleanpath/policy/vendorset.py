"""Vendor sets: the one grammar, parser and resolver behind every "which vendors" setting.

Every question that asks about a set of vendors (``--untrusted`` of clean-path, exposure, plan and
incentive; ``--vendor`` of outage; the REST ``trust`` fields; the dashboard's map) reads it here,
so one spelling means one set everywhere.

Grammar
-------
A setting is a list of *tokens* separated by ``,`` or ``;``. Whitespace around tokens is ignored.
Double quotes protect separators: ``"Cisco Systems, Inc.", zte``; a doubled quote inside quotes is
a literal quote. A comma fragment made only of legal-form words (``Ltd.``, ``Inc``, ``S.p.A.``;
see :func:`cleanpath.model.vendors.is_legal_form`) is glued back onto the token before it, so the
unquoted legal name ``Huawei Technologies Co., Ltd.`` is one token. A token is one of

``default``
    Vendors headquartered in China or Russia and their subsidiaries
    (:func:`cleanpath.model.vendors.default_untrusted`).
``country:CC`` (or ``country:CC+DD``)
    Every catalogue vendor headquartered in those countries (ISO 3166-1 alpha-2).
``only:A+B``
    Trust only these vendors: every other vendor of the catalogue and the network is in the set.
a vendor
    A catalogue id, name or alias in any spelling the catalogue folds (``huawei``, ``HUAWEI``,
    ``ZTE Corp``), or a vendor name some element of the network carries verbatim.
a policy pack
    A shipped pack's name (``us-clean-path``): the vendors its ``clean_path`` rules name (every
    rule's vendors if it has none), evaluated as of a date, so dated lists such as the FCC Covered
    List count from their entry. A policy *file* is a pack too, but only when the caller hands it in
    already loaded (``packs=``, see :func:`cleanpath.policy.packfiles.load_pack_files`): nothing
    here reads files.

The tokens are united. No setting (``None``, ``""``, an empty list) means ``default``. A name that
is none of these is a :class:`~cleanpath.errors.ValidationError` with suggestions, never an empty
set; a setting that resolves to no vendor at all is an error too.

Inputs
------
Functions here take a *spec*: text, a list of texts (each parsed, as if joined by commas), a
:class:`VendorSet`, or a ``frozenset`` of vendor ids that is already resolved and is returned as it
is (so a face or the suite can resolve once and hand the result to several questions). A list or
set whose items are all exact vendor ids (catalogue ids, or names the network's elements carry) is
taken as it is too, so a resolved set handed on as a list survives names with commas.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable, Mapping, Union

import pandas as pd

from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.model.vendors import VendorCatalogue, default_untrusted, is_legal_form

if TYPE_CHECKING:  # pragma: no cover
    from cleanpath.policy.language import Policy

__all__ = ["SETTING", "ResolvedVendorSet", "Token", "VendorSet", "VendorSpec", "describe_vendor_set",
           "explain_untrusted", "explain_vendor_set", "iso_countries", "looks_like_file", "names_nothing",
           "network_vendors", "parse_vendor_set", "resolve_untrusted", "resolve_vendor_set", "suggest"]

#: The option name every face uses for an untrusted-vendor setting (problems name it).
SETTING = "--untrusted"
#: Characters that end a token outside double quotes.
SEPARATORS = ",;"
#: Longest setting text accepted (a REST field or CLI option, not a file).
MAX_TEXT = 10_000
#: Vendors named in a label before it says "... (+N more)".
LABEL_VENDORS = 8

#: File-name endings that mark a token as a policy file rather than a name.
FILE_SUFFIXES = (".yaml", ".yml")

HELP = ("a setting lists vendor names or ids, policy packs, country:CC, only:A+B or default, "
        "separated by ',' or ';'; quote names that contain commas")


def looks_like_file(token: str) -> bool:
    """True for tokens written like a path (a separator or a ``.yaml``/``.yml`` ending).

    Only such tokens are policy files: a bare word is never read from disk, so ``huawei`` stays the
    vendor even if a file of that name exists.
    """
    t = str(token).strip()
    return any(c in t for c in "/\\") or t.lower().endswith(FILE_SUFFIXES)


# --- the parsed form ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    """One parsed token of a setting.

    Attributes
    ----------
    kind
        ``default``, ``country`` (codes in ``names``, upper case), ``only`` (vendor names in
        ``names``) or ``name`` (one vendor, pack or policy-file name in ``names``).
    names
        The token's names, stripped, each once.
    """

    kind: str
    names: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.kind == "default":
            return "default"
        if self.kind in ("country", "only"):
            return f"{self.kind}:" + "+".join(_quote(n) if _special(n, ',;"+') else n for n in self.names)
        n = self.names[0]
        # a legal-form-only name would be glued onto the token before it when read back
        return _quote(n) if _special(n, ',;"') or is_legal_form(n) else n


def _special(name: str, chars: str) -> bool:
    """True when ``name`` must be quoted to read back as itself."""
    return any(c in name for c in chars) or name != name.strip()


@dataclass(frozen=True)
class VendorSet:
    """A parsed vendor-set setting (see the module docstring for the grammar).

    Attributes
    ----------
    items
        The tokens in order, each once.
    text
        The setting as the user wrote it (lists joined by ``", "``); not part of equality.
    packs
        Policies already loaded for some name tokens (``(token, Policy)`` pairs; see
        :meth:`with_packs`); not part of equality.

    Notes
    -----
    ``str(vs)`` is the canonical text: tokens joined by ``", "``, quoted where needed, so that
    ``parse_vendor_set(str(vs)) == vs``. An empty set (no tokens) means the default set and prints
    as ``default``.
    """

    items: tuple[Token, ...]
    text: str = field(default="", compare=False)
    packs: tuple = field(default=(), compare=False, repr=False)

    @property
    def tokens(self) -> tuple[str, ...]:
        """The tokens' canonical texts."""
        return tuple(str(t) for t in self.items)

    @property
    def is_default(self) -> bool:
        """True when no token was given (the default set applies)."""
        return not self.items

    def names(self) -> tuple[str, ...]:
        """The name tokens (vendors, packs or policy files), not the keywords."""
        return tuple(t.names[0] for t in self.items if t.kind == "name")

    def with_packs(self, packs: Mapping[str, "Policy"]) -> "VendorSet":
        """The same setting with pre-loaded policies for some of its name tokens (policy files)."""
        merged = dict(self.packs)
        merged.update(packs)
        return replace(self, packs=tuple(merged.items()))

    def __str__(self) -> str:
        return ", ".join(self.tokens) if self.items else "default"


def _keyword(token: str) -> str | None:
    low = token.lower()
    if low == "default":
        return "default"
    for k in ("country:", "only:"):
        if low.startswith(k):
            return k
    return None


def _quote(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


# --- parsing --------------------------------------------------------------------------------------

def _scan(text: str, problems: ProblemCollector, setting: str
          ) -> list[tuple[list[str], list[bool], bool, str]]:
    """Split one text at unquoted separators.

    Returns
    -------
    list of (chars, quoted, any_quote, separator before)
        Each fragment's characters with a flag per character (inside quotes), whether it had
        quotes at all, and the separator that ended the fragment before it ("" for the first).
    """
    out = []
    chars: list[str] = []
    quoted: list[bool] = []
    any_q, sep_before = False, ""
    i, n, in_q = 0, len(text), False
    while i < n:
        c = text[i]
        if in_q:
            if c == '"' and i + 1 < n and text[i + 1] == '"':
                chars.append('"')
                quoted.append(True)
                i += 2
                continue
            if c == '"':
                in_q = False
            else:
                chars.append(c)
                quoted.append(True)
        elif c == '"':
            in_q = any_q = True
        elif c in SEPARATORS:
            out.append((chars, quoted, any_q, sep_before))
            chars, quoted, any_q, sep_before = [], [], False, c
        else:
            chars.append(c)
            quoted.append(False)
        i += 1
    if in_q:
        problems.add("unbalanced double quote (close it, or double it inside a quoted name)",
                     column=setting, value=text)
    out.append((chars, quoted, any_q, sep_before))
    return out


def _strip(chars: list[str], quoted: list[bool], *, left: bool = True) -> tuple[list[str], list[bool]]:
    """Without unquoted surrounding whitespace (only on the right with ``left=False``)."""
    a, b = 0, len(chars)
    while left and a < b and not quoted[a] and chars[a].isspace():
        a += 1
    while b > a and not quoted[b - 1] and chars[b - 1].isspace():
        b -= 1
    return chars[a:b], quoted[a:b]


def _split_plus(chars: list[str], quoted: list[bool]) -> list[str]:
    """``A+B`` names of ``only:``/``country:``, split at unquoted ``+`` and stripped."""
    parts, cur = [], []
    for c, q in zip(chars, quoted):
        if c == "+" and not q:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur).strip())
    return parts


@lru_cache(maxsize=1)
def iso_countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (from the shipped ``country_names.csv``)."""
    from cleanpath.io.topologyzoo import country_names

    return frozenset(country_names().values())


#: Codes people write that ISO 3166-1 spells otherwise (the EU's "EL" for Greece, "UK").
_COUNTRY_HINTS = {"UK": "GB", "EL": "GR", "EN": "GB"}


def names_nothing(spec: "VendorSpec") -> bool:
    """True when a spec gives no token at all (None, blank text, an empty list): the default set.

    Unlike ``parse_vendor_set(spec).is_default`` it never raises, and a frozenset counts as given.
    """
    if isinstance(spec, VendorSet):
        return spec.is_default
    if spec is None:
        return True
    if isinstance(spec, frozenset):
        return False
    items = [spec] if isinstance(spec, str) else list(spec)
    return all(not str(s).strip() for s in items)


def parse_vendor_set(spec: "VendorSpec" = None, *, setting: str = SETTING) -> VendorSet:
    """Parse a vendor-set setting.

    Parameters
    ----------
    spec
        Text (``"huawei, zte"``, ``'us-clean-path; "Cisco Systems, Inc."'``), a list of texts (each
        parsed; legal-form fragments glue across items, so a list split at every comma still
        works), a :class:`VendorSet` (returned as is), or None / empty for the default set.
    setting
        Option name reported in problems (``--untrusted``, ``--vendor``, ``trust``).

    Returns
    -------
    VendorSet

    Raises
    ------
    ValidationError
        For an empty token (two separators in a row, a trailing separator), an unbalanced quote,
        ``only:`` or ``country:`` with no (or an empty) name. Names and country codes are checked
        when the set is resolved.
    """
    if isinstance(spec, VendorSet):
        return spec
    if isinstance(spec, (frozenset, set)):
        items = sorted(str(s) for s in spec)
    elif spec is None:
        items = []
    elif isinstance(spec, str):
        items = [spec]
    else:
        items = [str(s) for s in spec]
    if all(not s.strip() for s in items):
        return VendorSet((), text="")
    text = ", ".join(items)
    if len(text) > MAX_TEXT:
        raise ValidationError(Problem(f"a vendor setting of more than {MAX_TEXT:,} characters",
                                      column=setting, value=text))
    problems = ProblemCollector()
    raw: list[tuple[list[str], list[bool]]] = []
    for item in items:
        for k, (chars, quoted, any_q, sep) in enumerate(_scan(item, problems, setting)):
            body, bq = _strip(chars, quoted)
            if not body:
                problems.add("empty quoted name" if any_q else
                             "empty name (two separators in a row, or one at the start or end)",
                             column=setting, value=item)
                continue
            if raw and not any_q and (sep == "," or k == 0) and is_legal_form("".join(body)):
                # "Huawei Technologies Co., Ltd.": the comma belongs to the legal name. Within a
                # text the original spelling is kept; across list items a comma is put back.
                glue, gq = _strip(chars, quoted, left=False) if k else ([" "] + body, [False] + bq)
                pc, pq = raw[-1]
                raw[-1] = (pc + [","] + glue, pq + [True] + gq)
                continue
            raw.append((body, bq))
    out: list[Token] = []
    for chars, quoted in raw:
        tok = "".join(chars)
        kw = _keyword(tok)
        if kw is None:
            out.append(Token("name", (tok,)))
        elif kw == "default":
            out.append(Token("default"))
        else:
            names = _split_plus(chars[len(kw):], quoted[len(kw):])
            if not any(names):
                example = "country:CN" if kw == "country:" else "only:ericsson+nokia"
                problems.add(f"{kw} needs {'country codes' if kw == 'country:' else 'vendor names'} "
                             f"after it (e.g. {example})", column=setting, value=tok)
            elif not all(names):
                problems.add(f"empty name in {kw}... (two '+' in a row, or one at the start or end)",
                             column=setting, value=tok)
            elif kw == "country:":
                out.append(Token("country", tuple(dict.fromkeys(c.upper() for c in names))))
            else:
                out.append(Token("only", tuple(dict.fromkeys(names))))
    problems.raise_if_any()
    return VendorSet(tuple(dict.fromkeys(out)), text=text)


# --- resolving ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResolvedVendorSet:
    """A resolved setting: the vendor ids, and which token brought which.

    Attributes
    ----------
    spec
        The parsed setting (None when a frozenset of ids was handed in).
    vendors
        The vendor ids of the set.
    parts
        ``(token, vendor ids)`` per token, in order (``("default", ...)`` for the default set).
    """

    spec: VendorSet | None
    vendors: frozenset[str]
    parts: tuple[tuple[str, frozenset[str]], ...]

    @property
    def label(self) -> str:
        """A short human description (``us-clean-path -> huawei, zte``) for ``Result.params``."""
        return "; ".join(_part_label(tok, ids) for tok, ids in self.parts) or "no vendors"


def _part_label(token: str, ids: frozenset[str]) -> str:
    names = sorted(ids)
    if names == [token]:
        return token
    shown = ", ".join(names[:LABEL_VENDORS])
    if len(names) > LABEL_VENDORS:
        shown += f", ... (+{len(names) - LABEL_VENDORS} more)"
    return f"{token} -> {shown or 'nothing'}"


VendorSpec = Union[str, Iterable[str], VendorSet, frozenset, None]


class _Resolver:
    def __init__(self, catalogue: VendorCatalogue, present: Iterable[str], as_of: dt.date | str | None,
                 packs: Mapping[str, "Policy"], setting: str):
        self.cat = catalogue
        self.ids = catalogue.ids
        self.present = {p for p in present if isinstance(p, str)}
        if isinstance(as_of, dt.datetime):
            as_of = as_of.date()
        elif isinstance(as_of, str):
            try:
                as_of = dt.date.fromisoformat(as_of.strip())
            except ValueError:
                raise ValidationError(Problem("not a date (YYYY-MM-DD)", column="as_of", value=as_of)) from None
        self.as_of = as_of or dt.date.today()
        self.packs = dict(packs)
        self.setting = setting
        self.hq = dict(zip(catalogue.table["vendor_id"].astype(str), catalogue.table["hq_country"]))
        self.problems = ProblemCollector()

    def vendor(self, name: str) -> str | None:
        # an exact id or a verbatim network name first: folding could map an id onto another
        # vendor's alias, and a network's own spelling is what its elements carry
        if name in self.ids or name in self.present:
            return name
        return self.cat.resolve(name)

    def universe(self) -> set[str]:
        return self.ids | self.present

    def pack(self, token: str) -> frozenset[str] | None:
        from cleanpath.policy.engine import untrusted_vendors
        from cleanpath.policy.loader import load_policy, shipped_packs

        policy = self.packs.get(token)
        if policy is None:
            low = token.lower()
            if low not in shipped_packs():
                return None
            policy = load_policy(low)
        rules = policy.all_rules()
        chosen = [r for r in rules if r.kind == "clean_path"] or rules
        if not chosen:
            self.problems.add(f"policy pack {policy.name!r} has no rules (a library pack); name a pack "
                              "with rules", column=self.setting, value=token)
            return frozenset()
        return frozenset(untrusted_vendors(chosen, as_of=self.as_of, catalogue=self.cat,
                                           extra=sorted(self.present)))

    def unknown(self, name: str, *, what: str = "not a vendor, policy pack or keyword") -> None:
        hint = suggest(name, self.cat, self.present, self.packs)
        if looks_like_file(name):
            reason = ("looks like a policy file, which this setting does not read here: the command "
                      "line loads policy files; the REST service takes shipped packs only")
        else:
            reason = what + (f"; did you mean {hint}?" if hint else "") + f" ({HELP})"
        self.problems.add(reason, column=self.setting, value=name)

    def token(self, tok: Token) -> frozenset[str]:
        if tok.kind == "default":
            return frozenset(default_untrusted(self.cat))
        if tok.kind == "country":
            out: set[str] = set()
            for cc in tok.names:
                hits = {v for v, c in self.hq.items() if c == cc}
                if cc not in iso_countries():
                    hint = _COUNTRY_HINTS.get(cc)
                    self.problems.add("not an ISO 3166-1 alpha-2 country code" + (
                        f"; did you mean country:{hint}?" if hint else " (e.g. CN, RU, DE)"),
                        column=self.setting, value=f"country:{cc}")
                elif not hits:
                    have = ", ".join(sorted({c for c in self.hq.values() if isinstance(c, str)}))
                    self.problems.add(f"no catalogue vendor is headquartered in {cc} (vendors are "
                                      f"headquartered in: {have})", column=self.setting, value=str(tok))
                out |= hits
            return frozenset(out)
        if tok.kind == "only":
            keep: set[str] = set()
            for name in tok.names:
                v = self.vendor(name)
                if v is None:
                    self.unknown(name, what="unknown vendor in only:...")
                else:
                    keep.add(v)
            return frozenset(self.universe() - keep)
        name = tok.names[0]
        v = self.vendor(name) if name not in self.packs else None
        if v is not None:
            return frozenset({v})
        got = self.pack(name)
        if got is None:
            self.unknown(name)
            return frozenset()
        return got


def explain_vendor_set(spec: VendorSpec, *, catalogue: VendorCatalogue, present: Iterable[str] = (),
                       as_of: dt.date | None = None, packs: Mapping[str, "Policy"] | None = None,
                       setting: str = SETTING) -> ResolvedVendorSet:
    """Resolve a setting to vendor ids, keeping which token brought which (see :func:`resolve_vendor_set`)."""
    if isinstance(spec, frozenset):
        ids = frozenset(str(v) for v in spec)
        return ResolvedVendorSet(None, ids, (("vendor ids", ids),) if ids else ())
    if isinstance(spec, (list, tuple, set)) and spec and all(isinstance(v, str) for v in spec):
        # a collection of exact vendor ids (a resolved set handed on as a list) is taken as it is:
        # re-reading it as text would split a network's own vendor name at its comma
        exact = catalogue.ids | {p for p in present if isinstance(p, str)}
        if all(v in exact for v in spec):
            order = sorted(spec) if isinstance(spec, set) else dict.fromkeys(spec)
            return ResolvedVendorSet(None, frozenset(spec), tuple((v, frozenset({v})) for v in order))
    vs = parse_vendor_set(spec, setting=setting)
    merged = dict(vs.packs)
    merged.update(packs or {})
    r = _Resolver(catalogue, present, as_of, merged, setting)
    parts = tuple((str(t), r.token(t)) for t in (vs.items or (Token("default"),)))
    r.problems.raise_if_any()
    vendors = frozenset().union(*(p for _, p in parts))
    if not vendors:
        when = f" as of {r.as_of.isoformat()}" if vs.names() else ""
        raise ValidationError(Problem(f"names no vendor at all{when}; an empty set would make every "
                                      "answer look clean", column=setting, value=str(vs)))
    return ResolvedVendorSet(vs, vendors, parts)


def resolve_vendor_set(spec: VendorSpec, *, catalogue: VendorCatalogue, present: Iterable[str] = (),
                       as_of: dt.date | None = None, packs: Mapping[str, "Policy"] | None = None,
                       setting: str = SETTING) -> frozenset[str]:
    """The vendor ids a setting names.

    Parameters
    ----------
    spec
        Text, list of texts, :class:`VendorSet`, None (default set), or a frozenset of vendor ids
        (already resolved: returned unchanged).
    catalogue
        Resolves spellings, gives headquarters countries and the ``only:`` universe.
    present
        Vendor names elements carry (verbatim names count as vendors; ``only:`` covers them).
    as_of
        Date for dated vendor lists in packs (default: today).
    packs
        Already-loaded policies by token (policy files; see
        :func:`cleanpath.policy.packfiles.load_pack_files`). Shipped packs need not be given.
    setting
        Option name reported in problems.

    Returns
    -------
    frozenset of str

    Raises
    ------
    ValidationError
        Parse errors (see :func:`parse_vendor_set`); unknown names (with suggestions); countries
        without catalogue vendors; a setting that names no vendor at all.
    """
    return explain_vendor_set(spec, catalogue=catalogue, present=present, as_of=as_of, packs=packs,
                              setting=setting).vendors


def network_vendors(net) -> tuple[str, ...]:
    """The distinct vendor names a network's elements carry (sorted; cached on the network)."""
    got = net.cache.get("vendor_names")
    if got is None:
        # hash-based unique on the Arrow-backed column: one pass, no sort of a million strings
        u = pd.unique(net.elements["vendor"].dropna())
        got = net.cache["vendor_names"] = tuple(sorted(str(x) for x in u))
    return got


def explain_untrusted(net, spec: VendorSpec = None, *, as_of: dt.date | None = None,
                      packs: Mapping[str, "Policy"] | None = None, setting: str = SETTING
                      ) -> ResolvedVendorSet:
    """:func:`explain_vendor_set` with a network's catalogue and vendors."""
    return explain_vendor_set(spec, catalogue=net.catalogue, present=network_vendors(net), as_of=as_of,
                              packs=packs, setting=setting)


def resolve_untrusted(net, spec: VendorSpec = None, *, as_of: dt.date | None = None,
                      packs: Mapping[str, "Policy"] | None = None, setting: str = SETTING
                      ) -> frozenset[str]:
    """The vendor ids a setting names in a network (its catalogue; its verbatim vendor names count).

    See :func:`resolve_vendor_set` for the parameters; ``None`` gives the default set.
    """
    return explain_untrusted(net, spec, as_of=as_of, packs=packs, setting=setting).vendors


def describe_vendor_set(spec: VendorSpec, *, catalogue: VendorCatalogue, present: Iterable[str] = (),
                        as_of: dt.date | None = None, packs: Mapping[str, "Policy"] | None = None) -> str:
    """A short label of what a setting resolves to (``us-clean-path -> huawei, zte``)."""
    return explain_vendor_set(spec, catalogue=catalogue, present=present, as_of=as_of, packs=packs).label


# --- suggestions ----------------------------------------------------------------------------------

def suggest(name: str, catalogue: VendorCatalogue, present: Iterable[str] = (),
            packs: Mapping[str, object] | None = None, n: int = 3) -> str:
    """Close spellings of ``name`` among vendors, packs and keywords, as ``'a', 'b' or 'c'`` (or "")."""
    from cleanpath.policy.loader import shipped_packs

    pool = list(catalogue.spellings()) + sorted(set(present)) + shipped_packs() + list(packs or {}) \
        + ["default"]
    low = name.strip().casefold()
    if ":" in low:
        head = low.split(":", 1)[0]
        kw = difflib.get_close_matches(head, ["country", "only"], n=1, cutoff=0.5)
        if kw:
            return repr(f"{kw[0]}:{name.split(':', 1)[1].strip()}")
    folded: dict[str, str] = {}
    for p in pool:
        folded.setdefault(p.casefold(), p)
    close = difflib.get_close_matches(low, list(folded), n=n, cutoff=0.6)
    # a prefix of a longer spelling ("hikvis") is as good a hint as an edit-distance one
    if len(close) < n and len(low) >= 3:
        close += [k for k in folded if k.startswith(low) and k not in close][:n - len(close)]
    words = [repr(folded[c]) for c in close]
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
