"""The executive summary: one sentence and one figure per report section, in plain words.

Built from each result's summary (the registry's headline keys first) and its parameters. Each
question that the suite asks has its own wording below; any other question (one registered
later) gets a sentence made from its headline keys and their human labels, so nothing is left
out of page one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from cleanpath.report.format import fmt, label_of, money, number, percent, unit_of
from cleanpath.result import Result


@dataclass(frozen=True)
class Card:
    """One section on page one.

    Attributes
    ----------
    anchor
        The section it summarises (its id in the page).
    heading
        The section's human title.
    figure, figure_label
        The one number that tells the story, and what it counts.
    sentence
        One sentence in plain words.
    tone
        ``bad``, ``good`` or ``neutral``: how the figure is coloured.
    """

    anchor: str
    heading: str
    figure: str
    figure_label: str
    sentence: str
    tone: str = "neutral"


#: Section headings for people, per question (the outage adds its mode).
HEADINGS = {
    "info": "The network",
    "audit": "Compliance with the law",
    "clean-path": "Clean paths from sensitive sites",
    "outage": "If the vendor's equipment stops",
    "exposure": "Equipment around sensitive sites",
    "plan": "Replacement plan",
    "compare": "Before and after the plan",
    "funding": "Funding programme",
    "incentive": "What it costs operators; the break-even subsidy",
    "explain": "Why one site serves (or not)",
}
_OUTAGE = {"fail": "If {v}'s equipment fails", "kill": "If {v} turns hostile and switches off what it can",
           "intercept": "What {v} could read"}


def _vendor(r: Result) -> str:
    v = r.params.get("vendor") or r.params.get("vendors")
    if isinstance(v, (list, tuple)):
        v = ", ".join(map(str, v))
    return str(v).replace("_", " ").title() if v else "the vendor"


def heading_of(r: Result, fallback: str) -> str:
    """The human heading of a result's section."""
    if r.question == "outage" and r.params.get("mode") in _OUTAGE:
        return _OUTAGE[r.params["mode"]].format(v=_vendor(r))
    return HEADINGS.get(r.question, fallback[:1].upper() + fallback[1:])


def _n(x) -> int:
    if isinstance(x, (list, tuple, dict)):
        return len(x)
    try:
        return int(x or 0)
    except (TypeError, ValueError):
        return 0


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{number(n)} {one if n == 1 else (many or one + 's')}"


def _info(r: Result, s: dict) -> tuple[str, str, str, str]:
    ops = _n(s.get("operators"))
    sentence = (f"The network holds {_count(_n(s.get('elements')), 'element')} at {_count(_n(s.get('sites')), 'site')}"
                + (f" of {_count(ops, 'operator')}" if ops else "")
                + f"; {_count(_n(s.get('sensitive_sites')), 'sensitive site')} are checked"
                + (f", and {_count(_n(s.get('non_serving_elements')), 'element')} cannot serve."
                   if _n(s.get("non_serving_elements")) else "."))
    return number(_n(s.get("elements"))), "elements", sentence, "neutral"


def _audit(r: Result, s: dict) -> tuple[str, str, str, str]:
    v, w = _n(s.get("violations")), _n(s.get("warnings"))
    packs = ", ".join(s.get("packs") or r.params.get("policy") or [])
    day = fmt(s.get("as_of") or r.params.get("as_of"))
    sentence = (f"As of {day}, the rules of {packs or 'the chosen policies'} find {_count(v, 'violation')} "
                f"and {_count(w, 'warning')}"
                + (f"; {_count(_n(s.get('elements_in_violation')), 'element')} break a rule now." if v
                   else "; no element breaks a rule yet." if w else "."))
    return number(v), "violations" if v != 1 else "violation", sentence, "bad" if v else ("neutral" if w else "good")


def _clean_path(r: Result, s: dict) -> tuple[str, str, str, str]:
    total = _n(s.get("sensitive_sites"))
    with_ = _n(s.get("sites_with_clean_path")) if "sites_with_clean_path" in s \
        else total - _n(s.get("sites_without_clean_path"))
    without = total - with_
    sentence = (f"{number(with_)} of {_count(total, 'sensitive site')} have a path free of untrusted vendors on "
                f"at least one operator ({number(_n(s.get('clean_pairs')))} of {number(_n(s.get('pairs')))} "
                "site–operator pairs)")
    fix, cost = _n(s.get("pairs_needing_fix")), s.get("shared_fix_cost")
    if fix and cost is not None:
        exact = s.get("shared_fix_optimal", True) is True
        sentence += (f"; opening the {_count(fix, 'pair')} that only untrusted equipment blocks costs "
                     f"{'' if exact else 'at most '}{money(float(cost), long=True)}.")
    else:
        sentence += "."
    return f"{number(without)} of {number(total)}", "sites without a clean path", sentence, \
        "bad" if without else "good"


def _names(r: Result, ids) -> list[str]:
    """Sensitive sites' names for their ids, where a table of the result has them."""
    ids = list(ids) if isinstance(ids, (list, tuple)) else [ids]
    for t in r.tables.values():
        if "sensitive_id" in t and "name" in t:
            m = dict(zip(t["sensitive_id"].astype(object), t["name"].astype(object)))
            return [str(m.get(i) or i) for i in ids]
    return [str(i) for i in ids]


def _outage(r: Result, s: dict) -> tuple[str, str, str, str]:
    v = _vendor(r)
    mode = r.params.get("mode")
    cut = s.get("sensitive_without_service")
    if mode == "intercept":
        t = s.get("intercept_traffic_share")
        sentence = (f"{v}'s equipment sees {percent(float(t or 0))} of user traffic and "
                    f"{percent(float(s.get('intercept_signalling_share') or 0))} of signalling"
                    + (f"; {_count(_n(s.get('keys_exposed_subscribers')), 'subscriber')}' keys sit in its "
                       "subscriber databases." if _n(s.get("keys_exposed_subscribers")) else
                       "; no subscriber keys sit in its subscriber databases."))
        return percent(float(t or 0)), "of traffic readable", sentence, "bad" if t else "good"
    lost = _n(s.get("lost_subscribers"))
    sentence = (f"{_count(_n(s.get('lost_sites')), 'site')} and {_count(lost, 'subscriber')} lose service"
                + (f"; {_count(_n(cut), 'sensitive site')} ({fmt(_names(r, cut), max_items=2)}) are left with "
                   "no operator."
                   if _n(cut) else "; every sensitive site keeps an operator."))
    if mode == "kill":
        k = _n(s.get("killable_elements"))
        sentence = f"{v} could switch off {_count(k, 'element')} (its own and what its management reaches): " \
            + sentence[0].lower() + sentence[1:]
        return number(k), "elements it can switch off", sentence, "bad" if k else "good"
    return number(lost), "subscribers lose service", sentence, "bad" if lost else "good"


def _exposure(r: Result, s: dict) -> tuple[str, str, str, str]:
    total, near = _n(s.get("sensitive_sites")), _n(s.get("with_untrusted_within"))
    d = s.get("median_nearest_untrusted_m")
    sentence = (f"{number(near)} of {_count(total, 'sensitive site')} have untrusted equipment within their radius"
                + (f"; the nearest untrusted site is {fmt(d, 'm')} km away (median)." if d is not None else "."))
    return f"{number(near)} of {number(total)}", "sites with untrusted equipment near", sentence, \
        "bad" if near else "good"


def _plan(r: Result, s: dict) -> tuple[str, str, str, str]:
    start = r.params.get("start") or r.params.get("start_year")
    horizon = r.params.get("horizon")
    span = (f" from {int(start)} to {int(start) + int(horizon) - 1}" if start is not None and horizon is not None
            else "")
    cost = float(s.get("total_cost") or 0.0)
    left = _n(s.get("violations_at_end"))
    status = str(s.get("status") or "").lower()
    sentence = (f"The cheapest schedule{span} replaces {_count(_n(s.get('units_replaced')), 'unit')} for "
                f"{money(cost, long=True)}"
                + (f" and leaves {_count(left, 'violation')} at the end" if left else " and meets every deadline")
                + (f" (solver: {status})." if status and status != "optimal" else "."))
    return money(cost), "total cost", sentence, "bad" if left else "good"


def _compare(r: Result, s: dict) -> tuple[str, str, str, str]:
    res, new = _n(s.get("findings_resolved")), _n(s.get("findings_new"))
    sentence = (f"The plan changes the vendor of {_count(_n(s.get('revendored')), 'element')}, resolves "
                f"{_count(res, 'finding')} and adds {number(new)}"
                + (f"; audited as of {fmt(r.params.get('as_of'))}, violations go from "
                   f"{number(_n(s.get('violations_a')))} without it to {number(_n(s.get('violations_b')))} with it."
                   if "violations_a" in s else "."))
    return number(res), "findings resolved", sentence, "good" if res and not new else "neutral"


def _funding(r: Result, s: dict) -> tuple[str, str, str, str]:
    alloc, demand = float(s.get("allocatable") or 0), float(s.get("approved_demand") or 0)
    factors = s.get("factor_by_group") or {}
    low = min((float(x) for x in factors.values()), default=1.0)
    prog = str(s.get("programme") or r.params.get("programme") or "The programme")
    sentence = (f"{prog} has {money(alloc, long=True)} for {money(demand, long=True)} of approved claims: "
                + ("every claim is paid in full." if low >= 1.0 else
                   f"the lowest priority group is paid {percent(low)} of its claims."))
    return money(alloc), "available", sentence, "good" if low >= 1.0 else "bad"


def _incentive(r: Result, s: dict) -> tuple[str, str, str, str]:
    share = s.get("break_even_subsidy_share")
    sentence = (f"Replacing the untrusted equipment costs operators {money(float(s.get('replacement_cost') or 0), long=True)}; "
                f"counting what they would spend anyway, compliance costs {money(float(s.get('compliance_cost') or 0), long=True)}"
                + (f", so a subsidy of {percent(float(share))} of the replacement cost makes it break even."
                   if share is not None else "."))
    return (percent(float(share)) if share is not None else "–"), "break-even subsidy", sentence, "neutral"


def _explain(r: Result, s: dict) -> tuple[str, str, str, str]:
    target = s.get("target") or r.params.get("target")
    serves = bool(s.get("serves"))
    sentence = (f"{str(s.get('kind') or 'element').capitalize()} {target} "
                + ("serves: every element it depends on serves." if serves else
                   f"does not serve; the first broken link is {fmt(s.get('first_broken'))}."))
    return ("serves" if serves else "cut off"), str(target), sentence, "good" if serves else "bad"


SENTENCES: dict[str, Callable[[Result, dict], tuple[str, str, str, str]]] = {
    "info": _info, "audit": _audit, "clean-path": _clean_path, "outage": _outage, "exposure": _exposure,
    "plan": _plan, "compare": _compare, "funding": _funding, "incentive": _incentive, "explain": _explain,
}


def _generic(r: Result, s: dict, keys: tuple[str, ...]) -> tuple[str, str, str, str]:
    keys = tuple(k for k in keys if k in s) or tuple(list(s)[:3])
    if not keys:
        return "–", "", "No figures.", "neutral"
    parts = [f"{label_of(k, with_unit=False).lower()}: {fmt(s[k], unit_of(k))}" for k in keys]
    first = keys[0]
    text = "; ".join(parts)
    return fmt(s[first], unit_of(first)), label_of(first, with_unit=False).lower(), \
        text[:1].upper() + text[1:] + ".", "neutral"


def card_for(r: Result, anchor: str, title: str, headline: tuple[str, ...] = ()) -> Card:
    """The summary card of one result.

    Parameters
    ----------
    r
        The result.
    anchor, title
        Its section's id and title (:func:`cleanpath.suite.section_keys`).
    headline
        The registry's headline keys, for questions without their own wording.
    """
    s: dict[str, Any] = dict(r.summary)
    fn = SENTENCES.get(r.question)
    try:
        figure, label, sentence, tone = fn(r, s) if fn else _generic(r, s, headline)
    except (TypeError, ValueError, KeyError):
        # a summary shaped differently from what the wording expects: say it plainly instead
        figure, label, sentence, tone = _generic(r, s, headline)
    return Card(anchor, heading_of(r, title), figure, label, sentence, tone)


__all__ = ["Card", "HEADINGS", "SENTENCES", "card_for", "heading_of"]
