"""Installation bans of the shipped packs: which equipment could not have been installed when.

A ``no_new`` rule of violation severity says that equipment of its vendors in its scope installed on
or after a date breaks the law of the pack's countries. Generated networks must not invent such
installations (a generated UK network with Huawei 5G radios installed in 2023 would show violations
no operator has), so the generator asks this module, per country, which elements of a network a
ban covers and from which day, and dates them before it. The packs are read, never restated: a new
ban in a pack reaches the generator without a code change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from cleanpath.model.network import Network

#: "No ban" in :func:`first_banned_day` (int32 days since 1970-01-01).
NO_BAN = np.iinfo(np.int32).max


@dataclass(frozen=True)
class InstallBan:
    """One installation ban: the rule and the first day installations are banned."""

    pack: str
    rule_id: str
    title: str
    first_day: dt.date


def installation_bans(country: str, *, catalogue=None) -> list:
    """The violation-severity ``no_new`` rules of the shipped packs in force in ``country``.

    Parameters
    ----------
    country
        ISO 3166-1 alpha-2 code.
    catalogue
        Vendor catalogue for the packs' names (default: the shipped one).

    Returns
    -------
    list of Rule
        Rules of packs whose jurisdiction lists ``country`` (packs without a jurisdiction, such as
        the EU toolbox read as advice or a user's own file, are not shipped as bans).
    """
    from cleanpath.policy.language import severity_rank
    from cleanpath.policy.loader import load_policy, shipped_packs

    out = []
    cc = str(country).upper()
    for name in shipped_packs():
        p = load_policy(name, catalogue=catalogue)
        if p.library or cc not in tuple(p.jurisdiction or ()):
            continue
        out += [r for r in p.rules
                if r.kind == "no_new" and severity_rank(r.severity) >= severity_rank("violation")]
    return out


def first_banned_day(net: Network, rules) -> tuple[np.ndarray, list[InstallBan]]:
    """For each element, the first day a ban covers it (:data:`NO_BAN` for none).

    An element is covered by a ``no_new`` rule when it is in the rule's scope and jurisdiction and
    its vendor is in the rule's vendor set on the ban's first day, exactly as the audit judges it.

    Returns
    -------
    days, bans
        int32 day numbers per element (the earliest ban that covers it), and the bans that cover
        at least one element.
    """
    from cleanpath.policy.engine import AuditContext, day_number
    from cleanpath.policy.language import ScopeAll

    ctx = AuditContext.of(net)
    best = np.full(ctx.n, NO_BAN, dtype=np.int64)
    used = []
    for r in rules:
        # the audit flags installations on or after this day whatever day it audits (from start)
        first = r.installed_on_or_after or r.start
        scope = ScopeAll((r.scope, r.applies_to)) if r.applies_to is not None else r.scope
        hit = ctx.scope_mask(scope) & ctx.vendor_mask(r.vendors, first)
        if not hit.any():
            continue
        used.append(InstallBan(r.pack, r.id, r.title, first))
        best = np.where(hit, np.minimum(best, day_number(first)), best)
    return best.astype(np.int32), used


__all__ = ["installation_bans", "first_banned_day", "InstallBan", "NO_BAN"]
