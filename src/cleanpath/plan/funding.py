"""Funding programmes: who is eligible, in which priority group, and how much each applicant gets.

Programmes are YAML files (``cleanpath/data/programmes/*.yaml`` or the user's own) so other
countries' subsidies fit the same engine. The US reimbursement programme's rules are the model:
eligibility by customer count and equipment date, priority groups filled in order, and a single
pro-rata factor inside the group where the money runs out; later appropriations top up everyone
towards their approved amount.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from cleanpath.errors import Problem, ProblemCollector, ValidationError
from cleanpath.io.guard import InputFile, read_input
from cleanpath.result import Result
from cleanpath.units import parse_amount


@dataclass(frozen=True)
class Appropriation:
    """Money made available to a programme on a date."""

    date: dt.date
    amount: float
    admin_reserve: float = 0.0
    label: str = ""

    @property
    def allocatable(self) -> float:
        return self.amount - self.admin_reserve


@dataclass(frozen=True)
class PriorityGroup:
    """A priority group: by customer count, by applicant category, or the catch-all."""

    group: int
    label: str
    max_customers: int | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Programme:
    """A subsidy or reimbursement programme."""

    id: str
    name: str
    max_customers: int | None
    obtained_on_or_before: dt.date | None
    covered_vendors: tuple[str, ...]
    groups: tuple[PriorityGroup, ...]
    appropriations: tuple[Appropriation, ...]
    citation: dict[str, Any] = field(default_factory=dict)

    def allocatable(self, as_of: dt.date | None = None) -> float:
        """Money available for allocations from appropriations made on or before ``as_of``."""
        return float(sum(a.allocatable for a in self.appropriations if as_of is None or a.date <= as_of))


def _date(v: Any, where: str) -> dt.date:
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise ValidationError(Problem(f"not a date (YYYY-MM-DD): {v!r}", where)) from None


def load_programme(name_or_path: str | Path) -> Programme:
    """A shipped programme by id (``fcc-scrp``) or a programme YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") and p.exists():
        text, label = p.read_text(encoding="utf-8"), str(p)
    else:
        ref = resources.files("cleanpath.data").joinpath("programmes", f"{name_or_path}.yaml")
        if not ref.is_file():
            raise ValidationError(f"unknown programme {name_or_path!r}; shipped: {', '.join(shipped_programmes())}")
        text, label = ref.read_text(encoding="utf-8"), f"programmes/{name_or_path}.yaml"
    try:
        d = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ValidationError(Problem(f"not valid YAML: {getattr(e, 'problem', e)}", label,
                                      mark.line + 1 if mark else None)) from None
    try:
        elig = d.get("eligibility", {})
        groups = tuple(PriorityGroup(int(g["group"]), g.get("label", ""), g.get("max_customers"),
                                     tuple(g.get("categories", ()))) for g in d["priority_groups"])
        apps = tuple(Appropriation(_date(a["date"], label), float(a["amount"]), float(a.get("admin_reserve", 0)),
                                   a.get("label", "")) for a in d["appropriations"])
        cutoff = elig.get("obtained_on_or_before")
        return Programme(d["id"], d["name"], elig.get("max_customers"), _date(cutoff, label) if cutoff else None,
                         tuple(elig.get("covered_vendors", ())), groups,
                         tuple(sorted(apps, key=lambda a: a.date)), d.get("citation", {}))
    except (KeyError, TypeError) as e:
        raise ValidationError(Problem(f"programme is missing or has a malformed field: {e}", label)) from None


def shipped_programmes() -> list[str]:
    folder = resources.files("cleanpath.data").joinpath("programmes")
    return sorted(f.name[:-5] for f in folder.iterdir() if f.name.endswith(".yaml"))


APPLICATION_COLUMNS = ("applicant_id", "customers", "approved_amount")
OPTIONAL_COLUMNS = ("group", "category", "obtained_on", "name")


def read_applications(path: str | Path | InputFile) -> pd.DataFrame:
    """Read an applications CSV: applicant_id, customers, approved_amount [, group, category, obtained_on, name].

    Raises
    ------
    ValidationError
        Missing columns, non-numeric amounts, negative values, groups outside 1-4, bad dates,
        duplicate applicants; each with file, line, column and value.
    """
    from cleanpath.io.tables import read_csv_bytes

    f = path if isinstance(path, InputFile) else read_input(path)
    raw, src = read_csv_bytes(f)
    problems = ProblemCollector(f.label)
    for c in APPLICATION_COLUMNS:
        if c not in raw.columns:
            problems.add(f"required column {c!r} is missing", line=1, column=c)
    problems.raise_if_any()
    out = pd.DataFrame({"applicant_id": raw["applicant_id"].astype(object).str.strip()
                        if hasattr(raw["applicant_id"], "str") else raw["applicant_id"]})

    def number(col: str, *, integer: bool = False) -> np.ndarray:
        s = raw[col].astype(object)
        v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
        for r in np.flatnonzero(~np.isfinite(v) | (v < 0) | ((v != np.round(v)) if integer else False)):
            problems.add("not a non-negative " + ("whole number" if integer else "amount"),
                         line=int(src.line_of(np.array([r]))[0]), column=col, value=s.iloc[r])
        return v

    out["customers"] = number("customers", integer=True)
    out["approved_amount"] = number("approved_amount")
    if "group" in raw.columns:
        g = pd.to_numeric(raw["group"].astype(object), errors="coerce").to_numpy(dtype=float)
        present = raw["group"].notna().to_numpy()
        for r in np.flatnonzero(present & ~np.isin(g, [1, 2, 3, 4])):
            problems.add("group must be 1, 2, 3 or 4", line=int(src.line_of(np.array([r]))[0]),
                         column="group", value=raw["group"].iloc[r])
        out["group"] = np.where(present, g, np.nan)
    else:
        out["group"] = np.nan
    out["category"] = (raw["category"].astype(object).str.strip().str.lower()
                       if "category" in raw.columns else None)
    if "obtained_on" in raw.columns:
        d = pd.to_datetime(raw["obtained_on"].astype(object), format="%Y-%m-%d", errors="coerce")
        bad = raw["obtained_on"].notna().to_numpy() & d.isna().to_numpy()
        for r in np.flatnonzero(bad):
            problems.add("not a date (YYYY-MM-DD)", line=int(src.line_of(np.array([r]))[0]),
                         column="obtained_on", value=raw["obtained_on"].iloc[r])
        out["obtained_on"] = d.dt.date
    else:
        out["obtained_on"] = None
    out["name"] = raw["name"].astype(object) if "name" in raw.columns else None
    dup = out["applicant_id"].duplicated().to_numpy()
    for r in np.flatnonzero(dup):
        problems.add("duplicate applicant_id", line=int(src.line_of(np.array([r]))[0]),
                     column="applicant_id", value=out["applicant_id"].iloc[r])
    problems.raise_if_any()
    return out


def assign_groups(apps: pd.DataFrame, programme: Programme) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Eligibility and priority group of every application.

    Returns
    -------
    group
        Priority group (1-based), taken from the file where given, else derived: a category group
        when the applicant's category names one, else the first group whose customer limit fits,
        else the last (catch-all) group.
    eligible
        Boolean mask.
    reason
        Why an application is ineligible ('' when eligible).
    """
    n = len(apps)
    customers = apps["customers"].to_numpy(dtype=float)
    category = apps["category"].astype(object).fillna("").to_numpy() if "category" in apps else np.full(n, "")
    derived = np.full(n, programme.groups[-1].group, dtype=float)
    assigned = np.zeros(n, dtype=bool)
    # A named category (education, health, library) decides first: such applicants are not
    # "providers" for the customer-count group even when they are small.
    for g in programme.groups:
        if g.categories:
            take = np.isin(category, list(g.categories)) & ~assigned
            derived[take] = g.group
            assigned |= take
    for g in programme.groups:
        if g.max_customers is not None:
            take = (customers <= g.max_customers) & ~assigned
            derived[take] = g.group
            assigned |= take
    given = apps["group"].to_numpy(dtype=float)
    group = np.where(np.isfinite(given), given, derived).astype(int)
    reason = np.full(n, "", dtype=object)
    if programme.max_customers is not None:
        reason[customers > programme.max_customers] = f"more than {programme.max_customers:,} customers"
    if programme.obtained_on_or_before is not None and "obtained_on" in apps:
        obtained = pd.to_datetime(apps["obtained_on"]).to_numpy()
        late = ~pd.isna(obtained) & (obtained > np.datetime64(programme.obtained_on_or_before))
        reason[late & (reason == "")] = f"equipment obtained after {programme.obtained_on_or_before}"
    return group, reason == "", list(reason)


def allocate(approved: np.ndarray, group: np.ndarray, eligible: np.ndarray, money: float
             ) -> tuple[np.ndarray, dict[int, float]]:
    """Fill priority groups in order; pro-rate the group where the money runs out.

    Returns
    -------
    allocated
        Amount per application.
    factors
        Share of approved demand paid, per group (1.0 full, 0.0 nothing).
    """
    allocated = np.zeros(len(approved))
    factors: dict[int, float] = {}
    left = float(money)
    for g in sorted(set(group.tolist())):
        m = (group == g) & eligible
        demand = float(approved[m].sum())
        if demand <= 0:
            factors[g] = 1.0
            continue
        if left >= demand:
            f, left = 1.0, left - demand
        else:  # the money runs out in this group: everyone in it gets the same share, later groups none
            f, left = max(left, 0.0) / demand, 0.0
        allocated[m] = approved[m] * f
        factors[g] = f
    return allocated, factors


def run_funding(applications: pd.DataFrame, *, programme: str | Programme = "fcc-scrp",
                appropriation: float | None = None, as_of: dt.date | None = None) -> Result:
    """Allocate a programme's money to its applications.

    Parameters
    ----------
    applications
        As returned by :func:`read_applications`.
    programme
        A shipped programme id or a loaded :class:`Programme`.
    appropriation
        Money available for allocation (a finite number >= 0, or text such as ``1.895bn``); default:
        every appropriation of the programme made on or before ``as_of`` (all of them when ``as_of``
        is None), less administrative reserves.
    as_of
        Date for choosing appropriations.

    Raises
    ------
    ValidationError
        ``appropriation`` negative, NaN, infinite or not an amount.

    Returns
    -------
    Result
        Table ``allocations`` (applicant_id, group, eligible, reason, approved_amount,
        allocated_amount, factor), ``groups`` (demand and factor per group) and ``tranches`` (what
        each appropriation in turn brought); the summary has the factor per group.
    """
    prog = programme if isinstance(programme, Programme) else load_programme(programme)
    approved = applications["approved_amount"].to_numpy(dtype=float)
    group, eligible, reason = assign_groups(applications, prog)
    # a non-finite or negative appropriation would pay everyone in full (inf, nan) or nothing with
    # a negative "shortfall": refuse it here, whatever face or caller passed it
    money = prog.allocatable(as_of) if appropriation is None else parse_amount(appropriation, where="appropriation")
    allocated, factors = allocate(approved, group, eligible, money)
    table = pd.DataFrame({
        "applicant_id": applications["applicant_id"].to_numpy(),
        "group": group,
        "eligible": eligible,
        "reason": reason,
        "approved_amount": approved,
        "allocated_amount": allocated,
        "factor": np.where(approved > 0, allocated / np.where(approved > 0, approved, 1), 1.0),
    })
    groups = pd.DataFrame([{
        "group": g, "label": next((pg.label for pg in prog.groups if pg.group == g), ""),
        "applications": int(((group == g) & eligible).sum()),
        "approved_demand": float(approved[(group == g) & eligible].sum()),
        "allocated": float(allocated[(group == g) & eligible].sum()), "factor": f,
    } for g, f in factors.items()])
    tranche_rows, cumulative = [], 0.0
    for a in prog.appropriations:
        if as_of is not None and a.date > as_of:
            continue
        cumulative += a.allocatable
        _, f = allocate(approved, group, eligible, cumulative)
        tranche_rows.append({"date": a.date, "label": a.label, "amount": a.amount,
                             "allocatable_total": cumulative,
                             **{f"factor_group_{g}": v for g, v in f.items()}})
    demand = float(approved[eligible].sum())
    return Result(
        "funding", None,
        params={"programme": prog.id, "appropriation": money, "as_of": as_of},
        summary={"programme": prog.name, "allocatable": money, "eligible_applications": int(eligible.sum()),
                 "ineligible_applications": int((~eligible).sum()), "approved_demand": demand,
                 "allocated": float(allocated.sum()), "shortfall": max(0.0, demand - money),
                 "factor_by_group": {str(g): round(f, 6) for g, f in factors.items()},
                 "citation": prog.citation.get("instrument")},
        tables={"allocations": table, "groups": groups, "tranches": pd.DataFrame(tranche_rows)},
    )


def programme_factor(programme: Programme, *, as_of: dt.date) -> float:
    """The share of an approved dollar the programme pays as of a date.

    Computed by allocating the programme's shipped calibrated application set (if it has one) with
    the appropriations made by ``as_of``: priority group 1's factor. Without such a set, 1.0.
    """
    ref = resources.files("cleanpath.data").joinpath("programmes", f"{programme.id}-applications.csv")
    if not ref.is_file():
        return 1.0
    apps = read_applications(InputFile(f"{programme.id}-applications.csv", ref.read_bytes()))
    group, eligible, _ = assign_groups(apps, programme)
    _, factors = allocate(apps["approved_amount"].to_numpy(dtype=float), group, eligible,
                          programme.allocatable(as_of))
    return float(factors.get(programme.groups[0].group, 1.0))


def read_applications_text(text: str, label: str = "<applications>") -> pd.DataFrame:
    """:func:`read_applications` for text already in memory (uploads, tests)."""
    return read_applications(InputFile(label, text.encode("utf-8")))


__all__ = ["Programme", "load_programme", "shipped_programmes", "read_applications",
           "read_applications_text", "run_funding", "allocate", "assign_groups", "programme_factor"]
