"""Words and numbers for people: column labels, units and value formatting of the report.

The registry declares labels and units where a column's name alone does not say them
(:class:`cleanpath.registry.TableSpec` ``columns``); every other column is read from its name by
the conventions the questions follow: ``_m`` metres, ``_km`` kilometres, ``_gbps``, ``cost`` and
``..._cost`` / ``..._amount`` US dollars, ``..._share`` a fraction (shown as a percentage),
``..._percent`` a percentage, ``year`` a calendar year (printed without a thousands separator:
2027, never "2,027").
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Mapping

import pandas as pd

from cleanpath.result import jsonable

USD = "USD"
#: Display units: what a value in a declared or inferred unit is shown as.
PERCENT_OF_FRACTION = "share"   # a fraction 0..1 shown as a percentage
PERCENT = "%"
YEAR = "year"
KM_FROM_M = "m"                 # metres, shown as kilometres

#: Money columns whose names do not end in _cost or _amount.
_MONEY = {"cost", "budget", "funding", "allocatable", "allocated", "approved_demand", "shortfall",
          "stranded_value", "programme_pays", "allocatable_total", "funding_drawn", "amount",
          "net_cost_to_operators", "net_cost_to_operator"}
#: Columns that are years.
_YEARS = {"year", "start", "start_year", "holds_from_year", "end_year", "last_year", "first_year"}
#: Words written differently for people.
_WORDS = {"id": "", "ran": "RAN", "mgmt": "management", "ems": "EMS", "oss": "OSS", "hq": "HQ",
          "usd": "USD", "milp": "MILP", "ids": "", "5g": "5G", "4g": "4G", "nsa": "NSA", "sa": "SA",
          "dc": "data centre", "km": "km", "gbps": "Gbps", "mbps": "Mbps", "upf": "UPF", "udm": "UDM",
          "hss": "HSS", "amf": "AMF", "smf": "SMF", "mme": "MME", "ok": "OK"}
#: Whole-name labels for the identifiers every table uses.
_NAMES = {"operator_id": "Operator", "sensitive_id": "Sensitive site", "site_id": "Site",
          "element_id": "Element", "unit_id": "Replacement unit", "applicant_id": "Applicant",
          "nearest_untrusted_id": "Nearest untrusted site", "rule_id": "Rule", "pack": "Policy pack",
          "hq_country": "Headquarters", "in_catalogue": "In catalogue", "vendor_name": "Vendor name",
          "days_to_deadline": "Days to deadline", "kind": "Kind"}
#: Suffixes naming a unit, stripped from the label (the unit goes in brackets instead).
_SUFFIX_UNITS = (("_m", KM_FROM_M), ("_km", "km"), ("_gbps", "Gbps"), ("_mbps", "Mbps"),
                 ("_seconds", "s"), ("_percent", PERCENT), ("_usd", USD))


def humanise(name: str) -> str:
    """``untrusted_elements_within`` -> ``Untrusted elements within``; ``operator_id`` -> ``Operator``."""
    if name in _NAMES:
        return _NAMES[name]
    base = re.sub(r"_(a|b)$", "", name)
    words = [_WORDS.get(w, w) for w in base.split("_")]
    text = " ".join(w for w in words if w).strip().replace("break even", "break-even") or name
    text = text[0].upper() + text[1:]
    if base != name:
        text += f" ({name[-1].upper()})"
    return text


def unit_of(name: str, declared: Mapping[str, tuple[str, str | None]] | None = None) -> str | None:
    """The unit of a column or summary key: declared by the registry, else read from its name."""
    if declared and name in declared and declared[name][1]:
        return declared[name][1]
    n = name.lower()
    if n in _YEARS or n.endswith("_year"):
        return YEAR
    for suffix, unit in _SUFFIX_UNITS:
        if n.endswith(suffix):
            return unit
    if n in _MONEY or n.endswith("_cost") or n.endswith("_amount") or n.startswith("cost_"):
        return USD
    if n.endswith("_share") or n.endswith("share_readable") or n == "share" or n == "factor" \
            or n.startswith("factor_"):
        return PERCENT_OF_FRACTION
    if n.startswith("days_") or n.endswith("_days"):
        return "days"
    return None


def label_of(name: str, declared: Mapping[str, tuple[str, str | None]] | None = None, *,
             with_unit: bool = True) -> str:
    """A column's label for people, with its unit in brackets where the values do not show it."""
    if declared and name in declared:
        text = declared[name][0]
        text = text[0].upper() + text[1:]
    else:
        text = humanise(name)
        for suffix, _u in _SUFFIX_UNITS:
            if name.endswith(suffix):
                text = humanise(name[: -len(suffix)])
                break
    unit = unit_of(name, declared)
    shown = {KM_FROM_M: "km", "km": "km", "Gbps": "Gbps", "Mbps": "Mbps", "s": "s", "days": "days"}.get(unit or "")
    if with_unit and shown and shown.lower() not in text.lower().split():
        text += f" ({shown})"
    return text


def money(v: float, *, long: bool = False) -> str:
    """``11494600`` -> ``$11.5 m`` (``US$11.5 million`` with ``long``)."""
    a = abs(v)
    sign = "-" if v < 0 else ""
    for size, short, word in ((1e9, "bn", "billion"), (1e6, "m", "million")):
        if a >= size:
            x = a / size
            num = f"{x:,.1f}" if x < 100 else f"{x:,.0f}"
            return f"{sign}US${num} {word}" if long else f"{sign}${num} {short}"
    return f"{sign}US${a:,.0f}" if long else f"{sign}${a:,.0f}"


def percent(fraction: float) -> str:
    """A fraction as a percentage: 0.5422 -> ``54.2 %``; tiny non-zero values keep two digits."""
    p = 100.0 * fraction
    if p == 0 or abs(p) >= 10:
        return f"{p:,.0f} %" if p == int(p) or abs(p) >= 100 else f"{p:.1f} %"
    return f"{p:.2g} %"


def number(v: float) -> str:
    """Counts with separators, other numbers to three significant digits."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e15):
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def fmt(value: Any, unit: str | None = None, *, max_items: int = 3) -> str:
    """A value for a table cell or a sentence, in its unit.

    Lists show their first ``max_items`` entries and how many more there are; missing values are
    an en dash.
    """
    if pd.api.types.is_scalar(value) and not isinstance(value, str) and pd.isna(value):  # None, NaN, NaT, NA
        return "–"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    v = jsonable(value)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        if not v:
            return "none"
        head = ", ".join(fmt(x, unit) for x in v[:max_items])
        return head + (f" and {len(v) - max_items:,} more" if len(v) > max_items else "")
    if isinstance(v, dict):
        items = list(v.items())
        head = "; ".join(f"{k}: {fmt(x, unit)}" for k, x in items[:max_items])
        return head + (f"; {len(items) - max_items:,} more" if len(items) > max_items else "")
    if isinstance(v, (int, float)):
        if unit == YEAR and float(v).is_integer():
            return str(int(v))
        if unit == USD:
            return money(float(v))
        if unit == PERCENT_OF_FRACTION:
            return percent(float(v))
        if unit == PERCENT:
            return f"{number(float(v))} %"
        if unit == KM_FROM_M:
            km = float(v) / 1000.0
            return f"{km:,.1f}" if km < 100 else f"{km:,.0f}"
        return number(v)
    text = str(v)
    # ISO timestamps read as dates
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(T00:00:00)?", text):
        return text[:10]
    return text


def short(text: str, n: int = 48) -> str:
    """``text`` cut to ``n`` characters with an ellipsis."""
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def site_label(name: str, n: int = 28) -> str:
    """A sensitive site's name short enough for a map or chart label: the part before a bracket,
    a slash or a comma ("Patch Barracks, Stuttgart-Vaihingen (EUCOM HQ)" -> "Patch Barracks")."""
    for sep in (" (", " / ", ", "):
        if sep in name:
            name = name.split(sep)[0]
    return short(name, n)
