"""One HiGHS model of the MIP, always a minimization, that the neighbourhoods change and restore.

A maximization form goes in with its objective negated (c -> -c, c0 -> -c0), so every objective
value inside the search is "smaller is better"; `user_objective` turns one back. An operator's
changes go through `Changes` (fixed or tightened bounds, added rows, an added column, a swapped
objective); leaving the `with` block restores the model to the exact floats it started from:
bounds and costs are written back from the saved original arrays, added rows and columns are
deleted. `snapshot()` gives the arrays a test compares bit for bit.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from optdsl.errors import SolverError
from optdsl.lower.forms import LPForm

from . import highs_link

# A solution counts as feasible for the original model within these (HiGHS's own defaults are
# 1e-7 on rows and 1e-6 on integrality; rows get a relative part for large activities).
FEAS_TOL = 1e-6
INT_TOL = 1e-5


@dataclass
class SubSolve:
    """What one HiGHS run gave: a point (None if none), why it stopped, its dual bound."""

    x: np.ndarray | None
    status: str
    dual_bound: float | None
    seconds: float


class MipModel:
    """The MIP `form` as one `highspy.Highs` plus the arrays needed to check and restore it."""

    def __init__(self, form: LPForm, seed: int = 0, threads: int | None = None, verbose: bool = False) -> None:
        if form.is_qp:
            raise SolverError(
                "balans takes linear objectives only; this model has quadratic objective terms",
                hint="use --solver highs for a convex QP, or linearize the quadratic terms",
            )
        self.sign = -1.0 if form.sense == "max" else 1.0
        self.c = self.sign * np.asarray(form.c, dtype=np.float64)
        self.c0 = self.sign * float(form.c0)
        self.A = form.A.tocsr() if sp.issparse(form.A) else sp.csr_matrix(form.A)
        self.row_lower = np.asarray(form.row_lower, dtype=np.float64)
        self.row_upper = np.asarray(form.row_upper, dtype=np.float64)
        self.col_lower = np.asarray(form.col_lower, dtype=np.float64)
        self.col_upper = np.asarray(form.col_upper, dtype=np.float64)
        self.n, self.m = form.num_cols, form.num_rows
        integ = np.zeros(self.n, dtype=bool)
        if form.integrality is not None:
            integ[np.asarray(form.integrality, dtype=bool)] = True
        self.integer = integ
        self.discrete = np.flatnonzero(integ)
        is_bin = integ & (self.col_lower >= 0) & (self.col_upper <= 1)
        self.binary = np.flatnonzero(is_bin)
        self.general = np.flatnonzero(integ & ~is_bin)
        self.continuous = np.flatnonzero(~integ)

        internal = replace(form, c=self.c, c0=self.c0, sense="min", x0=None)
        self.h = highs_link.new_highs(verbose)
        highs_link.hand_over(self.h, internal)
        self._integrality = np.asarray(self.h.getLp().integrality_, dtype=np.int32).copy()
        if threads:
            highs_link.set_threads(self.h, int(threads))
        self._set("random_seed", int(seed) % 2147483647)
        self._set("mip_rel_gap", 0.0)

    # --- objective and feasibility -------------------------------------------------------
    def objective(self, x: np.ndarray) -> float:
        """The internal (minimized) objective of `x`, recomputed from the original costs."""
        return float(self.c @ x[: self.n] + self.c0)

    def user_objective(self, internal: float) -> float:
        return self.sign * internal

    def violation(self, x: np.ndarray) -> float:
        """The largest violation of a row, a bound or integrality by `x`, with integrality measured
        in units of INT_TOL / FEAS_TOL and rows relative to (1 + 1e-3 |activity|): feasible when at
        most FEAS_TOL."""
        x = x[: self.n]
        ax = self.A @ x
        row = np.maximum(self.row_lower - ax, ax - self.row_upper) / (1.0 + 1e-3 * np.abs(ax))
        col = np.maximum(self.col_lower - x, x - self.col_upper)
        d = x[self.discrete]
        frac = np.abs(d - np.round(d)) * (FEAS_TOL / INT_TOL)
        return max(0.0, *(float(np.max(v)) for v in (row, col, frac) if v.size))

    def is_feasible(self, x: np.ndarray) -> bool:
        return bool(np.all(np.isfinite(x[: self.n]))) and self.violation(x) <= FEAS_TOL

    def clean(self, x: np.ndarray) -> np.ndarray:
        """`x` with its discrete entries rounded, if rounding keeps it feasible."""
        x = np.array(x[: self.n], dtype=np.float64)
        if self.discrete.size:
            y = x.copy()
            y[self.discrete] = np.round(y[self.discrete])
            if self.is_feasible(y):
                return y
        return x

    # --- solving -------------------------------------------------------------------------
    def _set(self, key: str, value: Any) -> None:
        self.h.setOptionValue(key, value)

    def solve(self, time_limit: float, start: np.ndarray | None = None, first_solution: bool = False,
              heuristics: bool = True, relaxation: bool = False,
              stop: Any = None) -> SubSolve:
        """Run HiGHS on the model as it stands for at most `time_limit` seconds. `start` is a MIP
        start (over all current columns); `first_solution` stops at the first improving solution;
        `heuristics=False` turns HiGHS's primal heuristics off; `relaxation` solves the LP
        relaxation; `stop(event_data) -> bool` may interrupt a MIP solve from its callback."""
        h = self.h
        self._set("time_limit", max(float(time_limit), 1e-3))
        self._set("solve_relaxation", bool(relaxation))
        self._set("mip_max_improving_sols", 1 if first_solution else 2147483647)
        self._set("mip_heuristic_effort", 0.05 if heuristics else 0.0)
        if start is not None and not relaxation:
            idx = np.arange(start.size, dtype=np.int32)
            h.setSolution(int(start.size), idx, np.ascontiguousarray(start, dtype=np.float64))
        cb = None
        if stop is not None:
            def cb(event: Any) -> None:
                if stop(event.data_out):
                    event.interrupt()

            h.cbMipInterrupt.subscribe(cb)
        t0 = time.perf_counter()
        try:
            with highs_link.LogCapture(h):
                h.run()
        finally:
            if cb is not None:
                h.cbMipInterrupt.unsubscribe(cb)
            self._set("solve_relaxation", False)
        seconds = time.perf_counter() - t0
        info = h.getInfo()
        status = h.getModelStatus().name
        x = None
        if int(info.primal_solution_status) == 2:  # kSolutionStatusFeasible
            x = np.asarray(h.getSolution().col_value, dtype=np.float64)[: self.n].copy()
        bound = float(info.mip_dual_bound) if not relaxation else float(info.objective_function_value)
        if not np.isfinite(bound) or abs(bound) >= 1e20:
            bound = None
        return SubSolve(x=x, status=status, dual_bound=bound, seconds=seconds)

    # --- changing and restoring ----------------------------------------------------------
    @contextmanager
    def changes(self) -> Iterator[Changes]:
        """Changes made through the yielded object are undone when the block ends."""
        ch = Changes(self)
        try:
            yield ch
        finally:
            ch.undo()

    def snapshot(self) -> dict[str, np.ndarray]:
        """The model's arrays as HiGHS holds them (for the exact-restore check)."""
        lp = self.h.getLp()
        mat = lp.a_matrix_
        return {
            "num_col": np.array([lp.num_col_]), "num_row": np.array([lp.num_row_]),
            "col_cost": np.array(lp.col_cost_), "col_lower": np.array(lp.col_lower_),
            "col_upper": np.array(lp.col_upper_), "row_lower": np.array(lp.row_lower_),
            "row_upper": np.array(lp.row_upper_), "a_start": np.array(mat.start_),
            "a_index": np.array(mat.index_), "a_value": np.array(mat.value_),
            "a_format": np.array([int(mat.format_)]), "integrality": np.array([int(v) for v in lp.integrality_]),
            "offset": np.array([lp.offset_]), "sense": np.array([int(lp.sense_)]),
        }  # fmt: skip


class Changes:
    """The edits one operator makes to a MipModel, remembered so that `undo` reverts them."""

    def __init__(self, model: MipModel) -> None:
        self.model = model
        self._bounds: list[np.ndarray] = []
        self._rows = 0
        self._cols = 0
        self._cost = False

    def bounds(self, idx: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Set the bounds of columns `idx` (clipped to their original bounds)."""
        mdl = self.model
        idx = np.ascontiguousarray(idx, dtype=np.int32)
        if idx.size == 0:
            return
        lo = np.maximum(np.asarray(lower, dtype=np.float64), mdl.col_lower[idx])
        up = np.minimum(np.asarray(upper, dtype=np.float64), mdl.col_upper[idx])
        up = np.maximum(up, lo)
        self._bounds.append(idx)
        mdl.h.changeColsBounds(int(idx.size), idx, np.ascontiguousarray(lo), np.ascontiguousarray(up))

    def fix(self, idx: np.ndarray, values: np.ndarray) -> None:
        """Fix columns `idx` at `values` (discrete ones rounded)."""
        v = np.array(values, dtype=np.float64)
        integ = self.model.integer[np.asarray(idx, dtype=np.int64)]
        v[integ] = np.round(v[integ])
        self.bounds(idx, v, v)

    def add_row(self, idx: np.ndarray, values: np.ndarray, lower: float, upper: float) -> None:
        idx = np.ascontiguousarray(idx, dtype=np.int32)
        vals = np.ascontiguousarray(values, dtype=np.float64)
        self.model.h.addRow(float(lower), float(upper), int(idx.size), idx, vals)
        self._rows += 1

    def add_col(self, cost: float, lower: float, upper: float) -> int:
        """A new column with no matrix entries yet; returns its index."""
        h = self.model.h
        j = int(h.getNumCol())
        h.addCol(float(cost), float(lower), float(upper), 0, np.zeros(0, np.int32), np.zeros(0, np.float64))
        self._cols += 1
        return j

    def cost(self, c: np.ndarray) -> None:
        """Replace the original columns' costs by `c`."""
        n = self.model.n
        self._cost = True
        self.model.h.changeColsCost(n, np.arange(n, dtype=np.int32), np.ascontiguousarray(c, dtype=np.float64))

    def undo(self) -> None:
        mdl, h = self.model, self.model.h
        if self._rows:
            m_now = int(h.getNumRow())
            h.deleteRows(self._rows, np.arange(m_now - self._rows, m_now, dtype=np.int32))
        if self._cols:
            n_now = int(h.getNumCol())
            h.deleteCols(self._cols, np.arange(n_now - self._cols, n_now, dtype=np.int32))
        if self._cost:
            h.changeColsCost(mdl.n, np.arange(mdl.n, dtype=np.int32), mdl.c)
        if self._bounds:
            idx = np.unique(np.concatenate(self._bounds)).astype(np.int32)
            h.changeColsBounds(int(idx.size), idx, mdl.col_lower[idx].copy(), mdl.col_upper[idx].copy())
        self._bounds, self._rows, self._cols, self._cost = [], 0, 0, False
