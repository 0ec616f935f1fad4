"""The cost model: what replacing an element costs, per role and generation, with overrides.

It lives in the model layer because two questions price equipment the same way: the planner
(:mod:`cleanpath.plan`) and the clean-path remediation (:mod:`cleanpath.analysis.remediation`),
and analysis must not import plan. :mod:`cleanpath.plan.costs` re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from cleanpath.errors import Problem, ValidationError
from cleanpath.model.schema import GENERATIONS, ROLES


@dataclass(frozen=True)
class CostModel:
    """Replacement cost per role, generation factors and the per-site visit cost (US$)."""

    roles: dict[str, float]
    generation_factor: dict[str, float]
    site_visit: float

    def element_costs(self, elements: pd.DataFrame) -> np.ndarray:
        """Cost of replacing each element: its ``unit_cost`` where given, else the default."""
        # Look up once per distinct role and generation, then broadcast by code.
        rcode, roles = pd.factorize(elements["role"])
        gcode, gens = pd.factorize(elements["generation"].fillna("none"))
        rcost = np.array([self.roles.get(str(r), np.nan) for r in roles] + [np.nan], dtype=float)
        gfac = np.array([self.generation_factor.get(str(g), 1.0) for g in gens] + [1.0], dtype=float)
        base = rcost[rcode]
        factor = gfac[gcode]
        given = elements["unit_cost"].to_numpy(dtype=float, na_value=np.nan)
        return np.where(np.isfinite(given), given, base * factor)


@lru_cache(maxsize=1)
def _shipped_cached() -> dict:
    return yaml.safe_load(resources.files("cleanpath.data").joinpath("costs.yaml").read_text("utf-8"))


def _shipped() -> dict:
    """The shipped defaults, parsed once per process (every question prices with them)."""
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in _shipped_cached().items()}


def load_costs(path: str | Path | None = None) -> CostModel:
    """The shipped cost model, or one read from ``path`` (missing keys fall back to the defaults)."""
    default = _shipped()
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in default.items()}
    if path is not None:
        p = Path(path)
        try:
            user = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ValidationError(Problem(f"cannot read cost file: {e}", str(p))) from None
        if not isinstance(user, dict):
            raise ValidationError(Problem("cost file must be a mapping", str(p)))
        unknown = set(user.get("roles", {})) - set(ROLES)
        unknown_g = set(user.get("generation_factor", {})) - set(GENERATIONS)
        if unknown or unknown_g:
            raise ValidationError(Problem(f"unknown role or generation: {', '.join(sorted(unknown | unknown_g))}",
                                          str(p)))
        for k in ("roles", "generation_factor"):
            data[k] = {**default[k], **user.get(k, {})}
        if "site_visit" in user:
            data["site_visit"] = user["site_visit"]
    for k, v in list(data["roles"].items()) + list(data["generation_factor"].items()):
        if not isinstance(v, (int, float)) or v < 0:
            raise ValidationError(Problem(f"cost of {k} must be a non-negative number", str(path or "costs.yaml"),
                                          value=v))
    return CostModel({k: float(v) for k, v in data["roles"].items()},
                     {k: float(v) for k, v in data["generation_factor"].items()}, float(data["site_visit"]))
