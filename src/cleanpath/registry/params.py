"""Question parameters declared as data, and the one converter every face uses.

A :class:`Param` says what a question takes: its name, kind, default, unit, bounds, choices and
help. The CLI builds its options from it, the REST service its request model, the dashboard its
form fields, and docs/cli.md its reference. :meth:`Param.convert` turns what a user typed (CLI
text) or sent (JSON) into the typed value the question function receives, so "5km", "1.895bn",
"huawei; zte" or "2027-01-01" mean the same thing in every face; anything it cannot read is a
:class:`~cleanpath.errors.ValidationError` naming the parameter, the value and the reason.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from cleanpath.errors import Problem, ValidationError
from cleanpath.units import parse_amount, parse_date


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: Default of a parameter the user must give.
REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Auto:
    """A default derived from the network or other parameters when the question runs.

    Attributes
    ----------
    text
        What the default is, in words (shown in help, docs and the dashboard).
    """

    text: str

    def __str__(self) -> str:
        return self.text


#: Parameter kinds and what they take (CLI text; JSON may also give the typed value).
KINDS: dict[str, str] = {
    "text": "text",
    "int": "a whole number",
    "float": "a finite number",
    "probability": "a probability in (1e-9, 1]",
    "bool": "true or false",
    "date": "a date YYYY-MM-DD",
    "month": "a month YYYY-MM",
    "amount": "an amount of money: 500m, 1.895bn, US$1.9 bn, 1900000000",
    "amounts": "one amount for every year, or one per year (100m,200m,...)",
    "distance": "a distance: 5km, 500m, 3mi, 2.5nmi (bare numbers are metres)",
    "vendorset": "a vendor set: vendors (any spelling; ';' or quotes for names with commas), packs, "
                 "country:CC, only:A+B, default",
    "packs": "policy packs: shipped pack ids, comma-separated, or 'all'",
    "choice": "one of the listed values",
    "choices": "any of the listed values, comma-separated",
    "list": "values, comma-separated or repeated",
    "snapshot": "a snapshot name",
    "snapshots": "snapshot names, comma-separated or repeated",
    "ids": "element ids (CLI: a file, one per line or a CSV with an element_id column)",
    "months": "FROM TO months (YYYY-MM)",
}

_DISTANCE_UNITS = {"m": 1.0, "km": 1000.0, "mi": 1609.344, "nmi": 1852.0}
#: Probabilities below this would make a Monte Carlo sample almost never fail anything and make
#: geometric gap draws overflow; the lower bound is part of the declaration, not of one face.
MIN_PROBABILITY = 1e-9


def parse_distance(value: Any, *, where: str = "distance") -> float:
    """Metres from ``5km``, ``500m``, ``3 mi``, ``2.5nmi`` or a bare number of metres."""
    if isinstance(value, bool):
        raise _bad(where, value, "not a distance; write e.g. 5km, 500m, 3mi")
    if isinstance(value, (int, float)):
        return float(value)
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", str(value))
    unit = m.group(2).lower() if m else None
    if not m or (unit and unit not in _DISTANCE_UNITS):
        raise _bad(where, value, "not a distance; write e.g. 5km, 500m, 3mi")
    return float(m.group(1)) * _DISTANCE_UNITS[unit or "m"]


def _number(v: float) -> str:
    """A bound as people write it: whole numbers in full (2200, 4294967295), others short."""
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"


def split_list(value: Any) -> list[str]:
    """Items of a list given as text (comma-separated), a list of texts, or nothing."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [t.strip() for s in items for t in str(s).split(",") if t.strip()]


def _bad(where: str, value: Any, reason: str) -> ValidationError:
    return ValidationError(Problem(reason, file=None, column=where, value=None if value is None else str(value)))


@dataclass(frozen=True)
class Param:
    """One parameter of a question.

    Attributes
    ----------
    name
        Keyword of the question function, REST field, dashboard field (``as_of``); the CLI option
        is ``--as-of`` unless ``cli`` says otherwise.
    kind
        One of :data:`KINDS`.
    help
        What it means, in one or two sentences.
    default
        The default value, :data:`REQUIRED`, or an :class:`Auto` derived when the question runs.
    unit
        Unit of a physical quantity (``m``, ``USD``, ``s``, ``years``).
    min, max
        Bounds (inclusive unless ``min_open``); kept in every face.
    min_open
        The lower bound is exclusive.
    choices
        Allowed values of ``choice``/``choices`` kinds.
    value_aliases
        Older spellings of choices and what they mean (``disable`` -> ``fail``).
    choice_help
        What each choice means, in one line (help texts, the dashboard's options).
    max_length
        Longest text accepted (REST and CLI alike).
    max_items
        Most items of a list kind.
    cli
        CLI option name (default ``--`` + name with dashes); ``None`` with ``argument``.
    cli_aliases
        Older option names, kept working and hidden from help.
    argument
        A positional CLI argument instead of an option.
    faces
        Where it is offered: ``cli``, ``rest`` (and so the dashboard). Files and output paths are
        CLI-only; the service never reads a path a request names.
    metavar
        Placeholder in CLI help.
    """

    name: str
    kind: str
    help: str
    default: Any = None
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    min_open: bool = False
    choices: tuple[str, ...] | None = None
    value_aliases: dict[str, str] = field(default_factory=dict)
    choice_help: dict[str, str] = field(default_factory=dict)
    max_length: int = 255
    max_items: int = 10_000
    cli: str | None = ""
    cli_aliases: tuple[str, ...] = ()
    argument: bool = False
    faces: frozenset[str] = frozenset({"cli", "rest"})
    metavar: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"param {self.name}: unknown kind {self.kind!r}")
        if self.kind in ("choice", "choices") and not self.choices:
            raise ValueError(f"param {self.name}: a {self.kind} needs choices")

    # -- description -------------------------------------------------------------------------------------------

    @property
    def option(self) -> str:
        return self.cli or "--" + self.name.replace("_", "-")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def default_text(self) -> str | None:
        """The default as a user reads it (None when there is none to show)."""
        d = self.default
        if d is REQUIRED or d is None:
            return None
        if isinstance(d, Auto):
            return d.text
        if isinstance(d, bool):
            return "true" if d else "false"
        if isinstance(d, (list, tuple)):
            return ",".join(map(str, d)) if d else None
        return str(d)

    def bounds_text(self) -> str | None:
        if self.kind == "probability":
            return f"in ({MIN_PROBABILITY:g}, 1]"
        lo, hi = self.min, self.max
        if lo is None and hi is None:
            return None
        low = f"{'>' if self.min_open else '>='} {_number(lo)}" if lo is not None else None
        high = f"<= {_number(hi)}" if hi is not None else None
        return ", ".join(x for x in (low, high) if x)

    def describe(self) -> dict[str, Any]:
        """The declaration as JSON (served at ``/api/questions`` for the dashboard's forms)."""
        return {"name": self.name, "kind": self.kind, "help": self.help, "required": self.required,
                "default": None if (self.default is REQUIRED or isinstance(self.default, Auto)) else self.default,
                "default_text": self.default_text(), "unit": self.unit, "min": self.min, "max": self.max,
                "min_open": self.min_open, "choices": list(self.choices) if self.choices else None,
                "value_aliases": dict(self.value_aliases) or None, "choice_help": dict(self.choice_help) or None,
                "max_length": self.max_length,
                "cli": None if self.argument else self.option, "faces": sorted(self.faces)}

    # -- conversion ----------------------------------------------------------------------------------------------

    def convert(self, value: Any) -> Any:
        """The typed value of what a user gave (CLI text or JSON).

        ``None`` stays ``None`` (the question applies the default).

        Raises
        ------
        ValidationError
            The value cannot be read, is out of bounds or not among the choices.
        """
        if value is None:
            return None
        where = self.name
        if isinstance(value, str) and len(value) > self.max_length and self.kind not in ("ids",):
            raise _bad(where, value[:80], f"longer than {self.max_length} characters")
        k = self.kind
        if k in ("text", "snapshot"):
            out = str(value).strip()
            if not out:
                raise _bad(where, value, "empty")
            return out
        if k == "bool":
            if isinstance(value, bool):
                return value
            t = str(value).strip().lower()
            if t in ("true", "yes", "1", "on"):
                return True
            if t in ("false", "no", "0", "off"):
                return False
            raise _bad(where, value, "not true or false")
        if k == "int":
            try:
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError
                out = int(str(value).strip()) if not isinstance(value, (int, float)) else int(value)
            except (ValueError, OverflowError):
                raise _bad(where, value, "not a whole number") from None
            return self._bounded(out, value)
        if k in ("float", "probability"):
            try:
                out = float(value) if not isinstance(value, bool) else math.nan
            except (TypeError, ValueError):
                raise _bad(where, value, "not a number") from None
            if not math.isfinite(out):
                raise _bad(where, value, "must be a finite number")
            if k == "probability":
                if not (MIN_PROBABILITY < out <= 1.0):
                    raise _bad(where, value, f"a probability must lie in ({MIN_PROBABILITY:g}, 1]")
                return out
            return self._bounded(out, value)
        if k == "amount":
            return self._bounded(parse_amount(value, where=where), value)
        if k == "amounts":
            parts = value if isinstance(value, list) else (
                split_list(value) if isinstance(value, str) else [value])
            if not parts:
                raise _bad(where, value, "no amount given")
            amounts = [self._bounded(parse_amount(p, where=where), p) for p in parts]
            return amounts[0] if len(amounts) == 1 else amounts
        if k == "distance":
            return self._bounded(parse_distance(value, where=where), value)
        if k == "date":
            return parse_date(value, where=where)
        if k == "month":
            t = str(value).strip()
            if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", t):
                raise _bad(where, value, "not a month YYYY-MM")
            return t
        if k == "months":
            items = value if isinstance(value, (list, tuple)) else str(value).split()
            if len(items) != 2:
                raise _bad(where, value, "give two months: FROM TO (YYYY-MM)")
            months = [Param(self.name, "month", self.help).convert(m) for m in items]
            if months[0] > months[1]:
                raise _bad(where, value, "FROM is after TO")
            return months
        if k in ("choice",):
            t = str(value).strip()
            t = self.value_aliases.get(t, t)
            if t not in (self.choices or ()):
                raise _bad(where, value, f"not one of {', '.join(self.choices or ())}")
            return t
        if k == "choices":
            items = split_list(value)
            bad = [t for t in items if t not in (self.choices or ()) and t != "none"]
            if bad:
                raise _bad(where, ", ".join(bad), f"not among {', '.join(self.choices or ())}")
            return [] if items == ["none"] else list(dict.fromkeys(items))
        if k in ("list", "ids", "snapshots"):
            items = split_list(value) if k in ("list", "snapshots") else (
                [str(v).strip() for v in value] if isinstance(value, (list, tuple)) else split_list(value))
            items = [i for i in items if i]
            if len(items) > self.max_items:
                raise _bad(where, f"{len(items)} items", f"at most {self.max_items:,} items")
            too_long = [i for i in items if len(i) > self.max_length]
            if too_long:
                raise _bad(where, too_long[0][:80], f"an item is longer than {self.max_length} characters")
            return list(dict.fromkeys(items))
        if k == "packs":
            items = split_list(value)
            if not items:
                raise _bad(where, value, "no policy pack given")
            return items
        if k == "vendorset":
            from cleanpath.policy.vendorset import parse_vendor_set

            return parse_vendor_set(value, setting=self.option if "cli" in self.faces else self.name)
        raise AssertionError(k)  # pragma: no cover - every kind is handled above

    def _bounded(self, out: float, raw: Any) -> Any:
        lo, hi = self.min, self.max
        if lo is not None and (out < lo or (self.min_open and out == lo)):
            raise _bad(self.name, raw, f"must be {'>' if self.min_open else '>='} {_number(lo)}"
                       + (f" {self.unit}" if self.unit else ""))
        if hi is not None and out > hi:
            raise _bad(self.name, raw, f"must be <= {_number(hi)}" + (f" {self.unit}" if self.unit else ""))
        return out
