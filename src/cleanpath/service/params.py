"""Request bodies of the question routes, generated from the question registry.

Field names are the registry's parameter names (the CLI's long options with ``_``: ``--as-of`` is
``as_of``); types, bounds, choices, defaults and descriptions come from the same declarations the
CLI uses, and every value is converted by the registry's own converter when the question runs, so
a request means what the same CLI options mean. What the service does not take: paths on the
server (policy files, ``--costs``, ``--elements`` files, sensitive-site files, ``--cells``); give
element ids as a list and an applications CSV as text instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, create_model

from cleanpath.registry import REQUIRED, Auto, Param, QuestionSpec
from cleanpath.registry.params import MIN_PROBABILITY


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _field(p: Param) -> tuple[Any, Any]:
    """The pydantic type and Field of one parameter."""
    k = p.kind
    kw: dict[str, Any] = {"description": p.help + (f" Unit: {p.unit}." if p.unit else "")
                          + (f" Default: {p.default_text()}." if p.default_text() else "")}
    if p.required:
        default: Any = ...
    elif p.default is None or isinstance(p.default, Auto):
        default = None
    else:
        default = list(p.default) if isinstance(p.default, (list, tuple)) else p.default
    if k in ("text", "snapshot", "vendorset", "packs", "month"):
        t: Any = str
        kw.update(min_length=1, max_length=p.max_length)
        if k == "month":
            kw["pattern"] = r"^\d{4}-(0[1-9]|1[0-2])$"
        if k == "packs":
            t = str | list[str]
            kw.pop("min_length")
    elif k == "int":
        t = int
        kw.update({"ge" if not p.min_open else "gt": p.min} if p.min is not None else {})
        kw.update({"le": p.max} if p.max is not None else {})
    elif k in ("float", "probability"):
        t = float
        kw["allow_inf_nan"] = False
        if k == "probability":
            kw.update(gt=MIN_PROBABILITY, le=1.0)
        else:
            kw.update({"ge" if not p.min_open else "gt": p.min} if p.min is not None else {})
            kw.update({"le": p.max} if p.max is not None else {})
    elif k == "bool":
        t = bool
    elif k == "date":
        t = dt.date
    elif k == "months":
        t = list[str]
        kw.update(min_length=2, max_length=2)
    elif k in ("amount", "distance"):
        t = float | str
    elif k == "amounts":
        t = float | str | list[float | str]
    elif k == "choice":
        t = Literal[tuple(list(p.choices or ()) + list(p.value_aliases))]  # type: ignore[misc]
    elif k == "choices":
        t = list[Literal[tuple(list(p.choices or ()) + ["none"])]]  # type: ignore[misc]
        kw["max_length"] = len(p.choices or ()) + 1
    elif k in ("list", "ids", "snapshots"):
        t = list[str] if k == "ids" else (str | list[str])
        if k == "ids":
            kw["max_length"] = p.max_items
    else:  # pragma: no cover - every kind is mapped above
        raise AssertionError(k)
    if default is None and not p.required:
        t = t | None
    aliases = [a.strip("-").replace("-", "_") for a in p.cli_aliases]
    if aliases:
        kw["validation_alias"] = AliasChoices(p.name, *aliases)
    return t, Field(default, **kw)


def question_model(spec: QuestionSpec) -> type[BaseModel]:
    """The request model of a question: its REST parameters, as declared in the registry."""
    fields = {p.name: _field(p) for p in spec.params_for("rest")}
    name = "".join(w.capitalize() for w in spec.name.replace("-", "_").split("_")) + "Params"
    model = create_model(name, __base__=_Params, __doc__=f"``cleanpath {spec.name}``: {spec.title}", **fields)
    return model


class TokenRequest(_Params):
    """A token to create."""

    role: Literal["viewer", "analyst", "admin"]
    name: str | None = Field(default=None, max_length=200, description="Who or what the token is for.")


__all__ = ["question_model", "TokenRequest", "REQUIRED"]
