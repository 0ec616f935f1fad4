"""The cost model (moved to :mod:`cleanpath.model.costs`, so that analysis can price equipment
without importing plan); re-exported here for the planner and existing callers."""

from cleanpath.model.costs import CostModel, load_costs

__all__ = ["CostModel", "load_costs"]
