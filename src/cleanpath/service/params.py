"""Request bodies of the question routes: the CLI's options, as JSON.

Field names follow the CLI's long options (``--as-of`` is ``as_of``, ``--all-operators`` is
``all_operators``). What the service does not take: file paths on the server (policy files,
``--costs``, ``--elements`` files, sensitive-site files, ``--cells``); give element ids as a list and
an applications CSV as text instead. Bounds keep one request from occupying the server for long.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SnapshotName = Field(default="main", min_length=1, max_length=64, description="Snapshot to ask.")
PolicyText = Field(min_length=1, max_length=500, description="Shipped policy packs, comma-separated, or 'all' "
                                                             "(GET /api/policies lists them).")
TrustText = Field(default=None, max_length=500,
                  description="Which vendors are untrusted: a shipped pack (us-clean-path), vendors "
                              "(huawei,zte), country:CC, only:V1+V2, or 'default' (HQ in China or Russia).")


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuditParams(_Params):
    """``cleanpath audit``."""

    snapshot: str = SnapshotName
    policy: str = PolicyText
    as_of: dt.date | None = Field(default=None, description="Judge the network as of this date (default today).")
    timeline: list[str] | None = Field(default=None, min_length=2, max_length=2,
                                       description="[FROM, TO] (YYYY-MM): compliance month by month instead.")
    all_operators: bool = Field(default=False, description="Apply every rule to every operator.")


class CleanPathParams(_Params):
    """``cleanpath clean-path``."""

    snapshot: str = SnapshotName
    sensitive: list[str] = Field(default_factory=list, max_length=10_000,
                                 description="Sensitive-site kinds or sensitive_id values (default: all).")
    trust: str | None = TrustText
    operator: str | None = Field(default=None, max_length=500, description="Only these operator ids (comma-separated).")
    shared: bool = Field(default=True, description="Also compute one shared remediation for all sites.")


class OutageParams(_Params):
    """``cleanpath outage``."""

    snapshot: str = SnapshotName
    vendor: str | None = Field(default=None, max_length=500,
                               description="Switch off (or turn hostile) every element of these vendors "
                                           "(comma-separated).")
    elements: list[str] | None = Field(default=None, max_length=1_000_000, description="Element ids to switch off.")
    region: str | None = Field(default=None, max_length=500,
                               description="Region name(s) of sites.region, or 'lat,lon,radius_km'.")
    random: float | None = Field(default=None, gt=0, le=1,
                                 description="Monte Carlo: each element in scope fails with this probability.")
    samples: int | None = Field(default=None, ge=1, le=10_000, description="Monte Carlo samples (default 1000).")
    mode: Literal["disable", "compromise"] = "disable"
    seed: int = Field(default=0, ge=0, le=2**32 - 1)


class ExposureParams(_Params):
    """The exposure question (``run_exposure``) on a snapshot's sites and elements."""

    snapshot: str = SnapshotName
    sensitive: list[str] = Field(default_factory=list, max_length=10_000,
                                 description="Sensitive-site kinds or sensitive_id values (default: all).")
    radius_m: float | None = Field(default=None, gt=0, le=2_000_000,
                                   description="Radius for every point site, replacing each site's own.")
    by: list[Literal["vendor", "operator", "generation"]] = Field(
        default_factory=lambda: ["vendor", "operator", "generation"], max_length=3, description="Breakdown tables.")
    trust: str | None = TrustText


class PlanParams(_Params):
    """``cleanpath plan``."""

    snapshot: str = SnapshotName
    policy: str = PolicyText
    start: int = Field(ge=1990, le=2200, description="First plan year.")
    horizon: int = Field(default=8, ge=1, le=50, description="Number of years.")
    budget: float | list[float] | str = Field(
        description="Money per year net of funding: one amount (500m, 5e8) or one per year.")
    crews: float | None = Field(default=None, gt=0, le=1e9, description="Crew-jobs per region per year.")
    funding: str | None = Field(default=None, max_length=100, description="Funding programme id (e.g. fcc-scrp).")
    objective: Literal["cost", "risk", "balanced"] = "balanced"
    trust: str | None = Field(default=None, max_length=500,
                              description="Vendors to remove besides those the policies name (comma-separated ids).")
    discount_rate: float = Field(default=0.05, ge=0, le=1)
    gap: float = Field(default=0.01, ge=0, le=1)
    time_limit: float = Field(default=60.0, gt=0, le=300,
                              description="Solver time limit, seconds (at most 300: a running question holds "
                                          "the workspace).")
    explain: bool = False


class FundingParams(_Params):
    """``cleanpath funding``."""

    programme: str = Field(default="fcc-scrp", max_length=100, description="Shipped programme id.")
    applications_csv: str | None = Field(
        default=None, max_length=20_000_000,
        description="Applications CSV text (applicant_id, customers, approved_amount [, group, category, "
                    "obtained_on, name]); default: the shipped set calibrated to the FCC's aggregates.")
    appropriation: float | str | None = Field(default=None, description="Money available (e.g. 1.895bn).")
    as_of: dt.date | None = Field(default=None, description="Only count appropriations made by this date.")


class IncentiveParams(_Params):
    """``cleanpath incentive``."""

    snapshot: str = SnapshotName
    as_of: dt.date | None = Field(default=None, description="Decision date (default today).")
    funding: str | None = Field(default=None, max_length=100, description="Funding programme id.")
    premium: float = Field(default=0.15, ge=0, le=10)
    lifetime: float = Field(default=8.0, gt=0, le=100)
    trust: str | None = Field(default=None, max_length=500, description="Vendors to replace (comma-separated ids).")


class CompareParams(_Params):
    """``cleanpath compare``."""

    a: str = Field(min_length=1, max_length=64, description="The 'before' snapshot.")
    b: str = Field(min_length=1, max_length=64, description="The 'after' snapshot.")
    policy: str | None = Field(default=None, min_length=1, max_length=500,
                               description="Shipped packs to audit both with (comma-separated, or 'all').")
    as_of: dt.date | None = None
    all_operators: bool = False


class TokenRequest(_Params):
    """A token to create."""

    role: Literal["viewer", "analyst", "admin"]
    name: str | None = Field(default=None, max_length=200, description="Who or what the token is for.")
