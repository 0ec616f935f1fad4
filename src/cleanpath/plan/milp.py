"""A small mixed-integer programme solved with HiGHS, built from sparse triplets.

The planner describes variables and rows; this module turns them into a HiGHS model, solves it
with the options that matter (gap, time limit, presolve), and hands back values, row activities and
the solver's own status. Nothing here knows about networks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np

from cleanpath.solver import new_highs  # noqa: F401  (also re-exported for plan users)

INF = highspy.kHighsInf


@dataclass
class Model:
    """Columns (variables) and rows (constraints) of a minimisation problem."""

    cost: list[np.ndarray] = field(default_factory=list)
    lower: list[np.ndarray] = field(default_factory=list)
    upper: list[np.ndarray] = field(default_factory=list)
    integer: list[np.ndarray] = field(default_factory=list)
    rows_lo: list[float] = field(default_factory=list)
    rows_hi: list[float] = field(default_factory=list)
    row_names: list[str] = field(default_factory=list)
    _ri: list[np.ndarray] = field(default_factory=list)
    _ci: list[np.ndarray] = field(default_factory=list)
    _v: list[np.ndarray] = field(default_factory=list)
    n_cols: int = 0

    @property
    def n_rows(self) -> int:
        """Number of rows so far."""
        return len(self.rows_lo)

    def add_columns(self, cost, lower, upper, *, integer: bool) -> np.ndarray:
        """Add variables; returns their column indices."""
        cost = np.asarray(cost, dtype=float)
        n = len(cost)
        self.cost.append(cost)
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), n).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), n).copy())
        self.integer.append(np.full(n, integer))
        idx = np.arange(self.n_cols, self.n_cols + n)
        self.n_cols += n
        return idx

    def add_rows(self, row_of_entry, cols, vals, lo, hi, names) -> np.ndarray:
        """Add rows given entries (local row number, column, value) and bounds per row."""
        base = len(self.rows_lo)
        self._ri.append(np.asarray(row_of_entry, dtype=np.int64) + base)
        self._ci.append(np.asarray(cols, dtype=np.int64))
        self._v.append(np.asarray(vals, dtype=float))
        lo = np.asarray(lo, dtype=float)
        hi = np.asarray(hi, dtype=float)
        self.rows_lo.extend(lo.tolist())
        self.rows_hi.extend(hi.tolist())
        self.row_names.extend(names)
        return np.arange(base, base + len(lo))


@dataclass
class Solution:
    """What HiGHS found."""

    status: str
    optimal: bool
    feasible: bool
    values: np.ndarray
    row_activity: np.ndarray
    objective: float
    gap: float
    seconds: float
    row_duals: np.ndarray | None = None
    infeasible: bool = False
    nodes: int = 0


def solve(model: Model, *, gap: float = 0.01, time_limit: float = 60.0, presolve: str = "on",
          threads: int | None = None, lp_relaxation: bool = False, verbose: bool = False) -> Solution:
    """Solve with HiGHS.

    Parameters
    ----------
    gap
        Relative MIP gap at which to stop (0.01 = within 1 % of the best bound).
    time_limit
        Seconds.
    presolve
        ``on``, ``off`` or ``choose``: measured to matter on these models (see bench/results_plan.md).
    threads
        HiGHS threads (default: HiGHS's own choice).
    lp_relaxation
        Drop integrality (for duals, and for quick bounds).
    verbose
        Write HiGHS's log to stderr (never to stdout, which carries results only).
    """
    h = new_highs(verbose=verbose)
    h.setOptionValue("mip_rel_gap", float(gap))
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("presolve", presolve)
    if threads:
        h.setOptionValue("threads", int(threads))
    n = model.n_cols
    cost = np.concatenate(model.cost) if model.cost else np.zeros(0)
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = len(model.rows_lo)
    lp.col_cost_ = cost
    lp.col_lower_ = np.concatenate(model.lower) if n else np.zeros(0)
    lp.col_upper_ = np.concatenate(model.upper) if n else np.zeros(0)
    lp.row_lower_ = np.asarray(model.rows_lo, dtype=float)
    lp.row_upper_ = np.asarray(model.rows_hi, dtype=float)
    ri = np.concatenate(model._ri) if model._ri else np.zeros(0, dtype=np.int64)
    ci = np.concatenate(model._ci) if model._ci else np.zeros(0, dtype=np.int64)
    v = np.concatenate(model._v) if model._v else np.zeros(0)
    order = np.lexsort((ri, ci))
    ri, ci, v = ri[order], ci[order], v[order]
    start = np.searchsorted(ci, np.arange(n + 1)).astype(np.int32)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = ri.astype(np.int32)
    lp.a_matrix_.value_ = v
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = lp.num_row_
    if not lp_relaxation:
        integ = np.concatenate(model.integer) if n else np.zeros(0, dtype=bool)
        kinds = np.array([highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger], dtype=object)
        lp.integrality_ = kinds[integ.astype(np.int64)].tolist()
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    name = h.modelStatusToString(status)
    info = h.getInfo()
    sol = h.getSolution()
    has_values = info.primal_solution_status == 2  # kSolutionStatusFeasible
    values = np.asarray(sol.col_value) if has_values else np.zeros(n)
    activity = np.asarray(sol.row_value) if has_values else np.zeros(lp.num_row_)
    duals = np.asarray(sol.row_dual) if (lp_relaxation and sol.dual_valid) else None
    gap_value = float(info.mip_gap) if not lp_relaxation and np.isfinite(info.mip_gap) else 0.0
    infeasible = status in (highspy.HighsModelStatus.kInfeasible,
                            highspy.HighsModelStatus.kUnboundedOrInfeasible)
    return Solution(name, status == highspy.HighsModelStatus.kOptimal, has_values, values, activity,
                    float(info.objective_function_value) if has_values else float("nan"), gap_value,
                    float(h.getRunTime()), duals, infeasible,
                    int(info.mip_node_count) if not lp_relaxation else 0)
