"""Which vendors a question treats as untrusted: the ``--trust`` setting.

A trust setting is a comma-separated list of tokens, each one of

``default``
    The default untrusted set (:func:`cleanpath.model.vendors.default_untrusted`: vendors
    headquartered in China or Russia and their subsidiaries).
a policy pack name (``us-clean-path``, ``uk-tsa``...) or a policy file path
    The vendors the pack's ``clean_path`` rules name (every rule's vendors if it has none),
    evaluated as of a date, so dated lists such as the FCC Covered List count from their entry.
``country:CC``
    Every catalogue vendor headquartered in country ``CC`` (ISO 3166-1 alpha-2).
a vendor id or any spelling of one (``huawei``, ``HUAWEI``, ``ZTE Corp``)
    That vendor. Names the catalogue does not know count if some element carries them verbatim.
``only:V1+V2``
    Trust only these vendors: every other vendor in the catalogue and the network is untrusted.

The tokens are united. ``None`` or an empty setting means ``default``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterable

import numpy as np

from cleanpath.errors import ProblemCollector

#: Where problems with the setting are reported (the CLI option's name).
SETTING = "--trust"


def resolve_trust(net, trust: str | Iterable[str] | None = None, *,
                  as_of: dt.date | None = None) -> frozenset[str]:
    """The untrusted vendor ids a trust setting names.

    Parameters
    ----------
    net
        The network (its catalogue resolves spellings; its own vendors are candidates too).
    trust
        The setting (see the module docstring), or a collection of tokens.
    as_of
        Date for dated vendor lists in policy packs (default: today).

    Returns
    -------
    frozenset of str

    Raises
    ------
    ValidationError
        For tokens that are neither a vendor, a country, a pack nor a policy file.
    """
    from cleanpath.model.vendors import default_untrusted

    tokens = _tokens(trust)
    if not tokens:
        return frozenset(default_untrusted(net.catalogue))
    cat = net.catalogue
    known = _candidates(net)
    hq = dict(zip(cat.table["vendor_id"].astype(str), cat.table["hq_country"]))
    present = set(net.elements["vendor"].dropna().astype(str).unique())
    problems = ProblemCollector(SETTING)
    out: set[str] = set()
    for tok in tokens:
        low = tok.lower()
        if low == "default":
            out |= default_untrusted(cat)
        elif low.startswith("country:"):
            cc = tok.split(":", 1)[1].strip().upper()
            hits = {v for v, c in hq.items() if c == cc}
            if not hits:
                problems.add(f"no catalogue vendor is headquartered in {cc!r}", column=SETTING, value=tok)
            out |= hits
        elif low.startswith("only:"):
            keep = set()
            for name in tok.split(":", 1)[1].split("+"):
                v = _vendor(name.strip(), cat, present)
                if v is None:
                    problems.add("unknown vendor in only:...", column=SETTING, value=name)
                else:
                    keep.add(v)
            out |= set(known) - keep
        else:
            v = _vendor(tok, cat, present)
            if v is not None:
                out.add(v)
                continue
            pack = _pack_vendors(tok, net, known, as_of or dt.date.today(), problems)
            if pack is None:
                problems.add("not a vendor, country:CC, only:..., policy pack or policy file",
                             column=SETTING, value=tok)
            else:
                out |= pack
    problems.raise_if_any()
    return frozenset(out)


def _tokens(trust: str | Iterable[str] | None) -> list[str]:
    if trust is None:
        return []
    items = [trust] if isinstance(trust, str) else list(trust)
    return [t.strip() for s in items for t in str(s).split(",") if t.strip()]


def _candidates(net) -> np.ndarray:
    """Every vendor id a setting can name: the catalogue's and the network's own."""
    ids = set(net.catalogue.ids) | set(net.elements["vendor"].dropna().astype(str).unique())
    return np.asarray(sorted(ids), dtype=object)


def _vendor(name: str, cat, present: set[str]) -> str | None:
    if name in present:
        return name
    return cat.resolve(name)


def _pack_vendors(ref: str, net, candidates: np.ndarray, as_of: dt.date,
                  problems: ProblemCollector) -> set[str] | None:
    """Untrusted vendors of a policy pack or file, or None if ``ref`` is neither."""
    from cleanpath.errors import ValidationError
    from cleanpath.policy.engine import vendor_flags
    from cleanpath.policy.loader import load_policy, shipped_packs

    if ref not in shipped_packs() and not Path(ref).is_file():
        return None
    try:
        policy = load_policy(ref, catalogue=net.catalogue if Path(ref).is_file() else None)
    except ValidationError as e:
        problems.extend(e.problems)
        return set()
    rules = policy.all_rules()
    chosen = [r for r in rules if r.kind == "clean_path"] or rules
    out: set[str] = set()
    hq = dict(zip(net.catalogue.table["vendor_id"].astype(str), net.catalogue.table["hq_country"]))
    for r in chosen:
        out |= set(candidates[vendor_flags(r.vendors, candidates, as_of, hq)].tolist())
    return out
