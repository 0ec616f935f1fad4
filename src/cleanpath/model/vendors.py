"""The vendor catalogue and vendor-name matching.

Real inventories spell one vendor many ways ("HUAWEI", "Huawei Technologies Co., Ltd."). Matching
folds case, punctuation and legal suffixes, then looks the result up among every vendor's id, name
and aliases. Names that match nothing are kept verbatim and reported as unknown, never dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import yaml

from cleanpath.model.schema import VENDORS

UNKNOWN = "unknown"

# Legal-form words that carry no identity ("Ericsson AB" is Ericsson).
_LEGAL = {
    "co", "corp", "corporation", "company", "inc", "incorporated", "ltd", "limited", "llc", "plc",
    "ab", "ag", "gmbh", "oyj", "sa", "spa", "s", "p", "a", "nv", "bv", "kk", "srl", "group",
    "holdings", "holding", "the", "technologies", "technology", "oy", "asa", "kg", "se", "sas",
    "sarl", "pte", "pty", "bhd", "ltda", "kft", "sro",
}


def normalise_name(name: str) -> str:
    """Fold a vendor spelling to its matching key.

    Examples
    --------
    >>> normalise_name("Huawei Technologies Co., Ltd.")
    'huawei'
    """
    s = unicodedata.normalize("NFKC", str(name)).casefold()
    s = re.sub(r"[^\w]+", " ", s).strip()
    words = s.split()
    core = [w for w in words if w not in _LEGAL]
    return " ".join(core or words)


def is_legal_form(text: str) -> bool:
    """True when ``text`` has words and every one is a legal-form word (``Ltd.``, ``Co., Ltd.``, ``S.p.A.``).

    Such a fragment names no vendor by itself: a vendor-set parser glues it back onto the name
    before its comma (``Huawei Technologies Co., Ltd.``).

    Examples
    --------
    >>> is_legal_form(" Ltd."), is_legal_form("S.p.A."), is_legal_form("ZTE"), is_legal_form("?")
    (True, True, False, False)
    """
    words = re.sub(r"[^\w]+", " ", unicodedata.normalize("NFKC", str(text)).casefold()).split()
    return bool(words) and all(w in _LEGAL for w in words)


@dataclass(frozen=True)
class VendorCatalogue:
    """Known vendors and the lookup from any spelling to a ``vendor_id``.

    Attributes
    ----------
    table
        One row per vendor, in the ``vendors`` model table's columns.
    """

    table: pd.DataFrame
    _lookup: dict[str, str]

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> "VendorCatalogue":
        lookup: dict[str, str] = {}
        for row in table.itertuples(index=False):
            names = [row.vendor_id, row.name]
            if isinstance(row.aliases, str) and row.aliases:
                names += row.aliases.split("|")
            for n in names:
                key = normalise_name(n)
                if key:
                    lookup.setdefault(key, row.vendor_id)
        return cls(table.reset_index(drop=True), lookup)

    def extended(self, extra: pd.DataFrame | None) -> "VendorCatalogue":
        """A catalogue where rows of ``extra`` (a ``vendors`` table) add to or override this one."""
        if extra is None or len(extra) == 0:
            return self
        base = self.table[~self.table["vendor_id"].isin(extra["vendor_id"])]
        merged = pd.concat([extra[VENDORS.column_names].astype(object),
                            base[VENDORS.column_names].astype(object)], ignore_index=True)
        return VendorCatalogue.from_table(merged)

    @property
    def ids(self) -> set[str]:
        return set(self.table["vendor_id"])

    def spellings(self) -> dict[str, str]:
        """Every id, name and alias the catalogue lists, mapped to its ``vendor_id`` (for suggestions)."""
        out: dict[str, str] = {}
        for row in self.table.itertuples(index=False):
            names = [row.vendor_id, row.name]
            if isinstance(row.aliases, str) and row.aliases:
                names += row.aliases.split("|")
            for n in names:
                if isinstance(n, str) and n.strip():
                    out.setdefault(n.strip(), row.vendor_id)
        return out

    def resolve(self, name: str) -> str | None:
        """The ``vendor_id`` a spelling refers to, or None when it is not in the catalogue."""
        if name is None or (isinstance(name, float) and np.isnan(name)):
            return None
        return self._lookup.get(normalise_name(name))

    def resolve_series(self, names: pd.Series) -> tuple[pd.Series, pd.Series]:
        """Resolve a column of spellings at once.

        Returns
        -------
        vendor ids
            Canonical ids; unknown spellings are kept verbatim (stripped).
        known
            Boolean mask of the spellings the catalogue knows.
        """
        codes, uniques = pd.factorize(names, use_na_sentinel=True)
        mapped = [self.resolve(u) for u in uniques]  # once per distinct spelling, not per row
        canon = np.array([m if m is not None else str(u).strip() for m, u in zip(mapped, uniques)],
                         dtype=object)
        known_u = np.array([m is not None for m in mapped], dtype=bool)
        out = pd.Series(canon[codes] if len(canon) else np.array([], dtype=object),
                        index=names.index, dtype=object)
        known = pd.Series(known_u[codes] if len(known_u) else np.array([], dtype=bool),
                          index=names.index)
        out[codes < 0] = None
        known[codes < 0] = False
        return out, known

    def hq_country(self, vendor_id: str) -> str | None:
        row = self.table.loc[self.table["vendor_id"] == vendor_id, "hq_country"]
        return None if row.empty or pd.isna(row.iloc[0]) else row.iloc[0]


@lru_cache(maxsize=1)
def default_catalogue() -> VendorCatalogue:
    """The catalogue shipped in ``cleanpath/data/vendors.yaml``."""
    text = resources.files("cleanpath.data").joinpath("vendors.yaml").read_text(encoding="utf-8")
    rows = []
    for v in yaml.safe_load(text)["vendors"]:
        rows.append({
            "vendor_id": v["vendor_id"],
            "name": v["name"],
            "aliases": "|".join(v.get("aliases", [])) or None,
            "hq_country": v.get("hq_country"),
            "parent": v.get("parent"),
        })
    return VendorCatalogue.from_table(pd.DataFrame(rows, columns=VENDORS.column_names))


#: HQ countries whose vendors are untrusted by default. The EU Commission (2023-06-15) named Huawei
#: and ZTE materially higher-risk suppliers; the US Covered List names Chinese and Russian firms.
#: Questions take an explicit trust setting; this is only the default for maps and demos.
DEFAULT_UNTRUSTED_COUNTRIES = ("CN", "RU")


def default_untrusted(catalogue: VendorCatalogue | None = None) -> set[str]:
    """Vendor ids untrusted by default: headquartered in China or Russia, or owned by such a vendor."""
    cat = (catalogue or default_catalogue()).table
    bad = set(cat.loc[cat["hq_country"].isin(DEFAULT_UNTRUSTED_COUNTRIES), "vendor_id"])
    bad |= set(cat.loc[cat["parent"].isin(bad), "vendor_id"])
    return bad
