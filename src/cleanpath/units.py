"""Quantities as people write them: the one reader of amounts of money.

Every face (CLI options, REST fields, dashboard forms, report settings) and every question that
takes money reads it here, so ``1.895bn``, ``3080m``, ``US$1.9 bn``, ``500k`` and ``1895000000``
mean the same everywhere, and a negative, empty or non-finite amount is refused everywhere with the
same reason. This module imports nothing of cleanpath but :mod:`cleanpath.errors`, so the lowest
layers (``plan``, ``analysis``) may use it.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from typing import Any

from cleanpath.errors import Problem, ValidationError

#: Multipliers of the suffixes an amount may carry (longest first: ``bn`` before ``b``).
AMOUNT_SUFFIXES: tuple[tuple[str, float], ...] = (("bn", 1e9), ("b", 1e9), ("m", 1e6), ("k", 1e3))
#: What an amount looks like, for messages and help.
AMOUNT_EXAMPLES = "e.g. 1.895bn, 3080m, US$1.9 bn, 500k, 1900000000"
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?")


def parse_date(value: Any, *, where: str = "date") -> dt.date:
    """A date from ``YYYY-MM-DD`` text, a date or a datetime.

    Raises
    ------
    ValidationError
        Anything else, naming ``where`` and the value.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise _bad(where, value, "not a date (use YYYY-MM-DD)") from None


def _bad(where: str, value: Any, reason: str) -> ValidationError:
    shown = None if value is None else str(value)
    return ValidationError(Problem(reason, column=where, value=shown))


def parse_amount(value: Any, *, where: str = "amount") -> float:
    """An amount of money (a non-negative finite number) from a number or text.

    Parameters
    ----------
    value
        A number, or text such as ``1.895bn``, ``3080m``, ``US$1.9 bn``, ``500k``, ``1,900,000``
        (case, spaces, ``$``/``US$``, thousands separators and ``_`` do not matter).
    where
        The parameter's name, for the error.

    Returns
    -------
    float
        The amount in currency units.

    Raises
    ------
    ValidationError
        Empty, not a number, negative, NaN, infinite, or too large for a float (``1e400``,
        ``10**400``); the problem names ``where``, the value and the reason.
    """
    if value is None or isinstance(value, bool):
        raise _bad(where, value, f"not an amount ({AMOUNT_EXAMPLES})")
    if isinstance(value, numbers.Real):
        try:
            number = float(value)
        except OverflowError:  # an int beyond float range
            raise _bad(where, value, "too large to be an amount (beyond the range of a float)") from None
    else:
        raw = str(value)
        t = raw.strip().lower()
        if not t:
            raise _bad(where, value, f"empty; give an amount ({AMOUNT_EXAMPLES})")
        for junk in ("us$", "$", ",", " ", "_"):
            t = t.replace(junk, "")
        if t in ("nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"):
            raise _bad(where, value, "an amount must be a finite number")
        mult = 1.0
        for suffix, m in AMOUNT_SUFFIXES:
            # "1e3m" is 1e3 millions; a bare exponent "1e5" has no suffix ("e" + suffix never is one)
            if t.endswith(suffix) and not t.endswith("e" + suffix):
                t, mult = t[: -len(suffix)], m
                break
        if not _NUMBER.fullmatch(t):
            raise _bad(where, value, f"not an amount ({AMOUNT_EXAMPLES})")
        number = float(t) * mult
        if not math.isfinite(number):
            raise _bad(where, value, "too large to be an amount (beyond the range of a float)")
    if math.isnan(number):
        raise _bad(where, value, "an amount must be a finite number, not NaN")
    if not math.isfinite(number):
        raise _bad(where, value, "an amount must be finite")
    if number < 0:
        raise _bad(where, value, "an amount cannot be negative")
    return number + 0.0  # -0.0 becomes 0.0


__all__ = ["parse_amount", "AMOUNT_SUFFIXES", "AMOUNT_EXAMPLES"]
