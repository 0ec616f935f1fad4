"""The one shape every question returns, and its JSON form.

``{"question", "snapshot", "params", "summary", "tables": {name: [row, ...]}}`` is the contract
the CLI's ``--format json``, the REST service and the report all share.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


def jsonable(v: Any) -> Any:
    """A value made safe for JSON: NaN/NA -> None, dates -> ISO text, numpy -> Python."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, np.ndarray)):
        return [jsonable(x) for x in v]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) or math.isinf(v) else float(v)
    if isinstance(v, (dt.date, dt.datetime, pd.Timestamp)):
        return v.isoformat()
    return v


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a frame as JSON-safe dicts."""
    cols = list(df.columns)
    out = []
    for row in df.astype(object).itertuples(index=False, name=None):
        out.append({c: jsonable(v) for c, v in zip(cols, row)})
    return out


@dataclass
class Result:
    """What a question answers.

    Attributes
    ----------
    question
        Name of the question (``info``, ``audit``, ``outage``...).
    snapshot
        The snapshot asked about, if any.
    params
        The parameters it was asked with.
    summary
        Headline figures (JSON-safe scalars and lists).
    tables
        Result tables by name; the first is the main one.
    """

    question: str
    snapshot: str | None
    params: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "snapshot": self.snapshot,
            "params": jsonable(self.params),
            "summary": jsonable(self.summary),
            "tables": {k: records(v) for k, v in self.tables.items()},
        }
