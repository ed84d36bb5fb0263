"""The HiGHS backend: an LPForm's arrays go straight into highspy, with no per-element Python
loop and no file round trip.

HiGHS solves  min/max  c'x + 1/2 x'Qx + c0  s.t.  row_lower <= A x <= row_upper,
col_lower <= x <= col_upper, x_j integer where integrality[j]  (LP, MILP, convex QP).

Dual sign convention (HiGHS's own, for the user's sense, unchanged by this backend): a row dual
is the derivative of the optimal objective with respect to the row's active bound, and a reduced
cost the derivative with respect to the variable's active bound. So for `minimize`, a binding
`>=` row has a dual >= 0 and a binding `<=` row a dual <= 0, and a variable at its lower bound has
a reduced cost >= 0; for `maximize` every sign flips (a binding `<=` row has a dual >= 0). The
reduced costs satisfy c - A'y - Qx = reduced_costs for both senses. MIPs have no duals (None).

The work is done by optdsl.solvers.highs.adapter (shared with other HiGHS-driven backends):
`to_highs(form, options)` gives the `highspy.Highs` object with the model handed over but not
solved (the Python API's `model.to_highs()`); `HighsBackend().solve(form, options)` solves it.
Importing this module does not import highspy (the registry lists backends without importing
their packages); the first use does.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

# The hand-over, options, log capture, status map and solution reading are shared with other
# HiGHS-driven backends (optdsl.solvers.highs.adapter); these names stay importable from here.
from optdsl.solvers.highs.adapter import (  # noqa: F401
    STATUS_MAP,
    LogCapture,
    _arrays,
    _convert,
    _hand_over,
    _interruptible,
    apply_options,
    collect,
    new_highs,
    option_names,
    run_interruptible,
    set_option,
    to_highs,
    warn_tiny_coefficients,
)

from optdsl.backends import Backend, SolveOptions
from optdsl.errors import SolverError
from optdsl.lower.forms import LPForm
from optdsl.results import Result, TerminationStatus

if TYPE_CHECKING:  # pragma: no cover
    import highspy

# --- the backend -------------------------------------------------------------------------------


class HighsBackend(Backend):
    """HiGHS (simplex / interior point LP, branch-and-cut MILP, active-set convex QP)."""

    name: ClassVar[str] = "highs"
    description: ClassVar[str] = "HiGHS: LP (simplex, IPM), MILP (branch and cut), convex QP"
    features: ClassVar[frozenset[str]] = frozenset({"linear", "integer", "quadratic", "inequalities"})
    form: ClassVar[str] = "lp"
    requires: ClassVar[tuple[str, ...]] = ("highspy",)
    priority: ClassVar[int] = 10
    passthrough: ClassVar[str | None] = "any HiGHS option by its HiGHS name, type-checked against HiGHS's own list"
    abilities: ClassVar[frozenset[str]] = frozenset({"duals", "bound", "certificates"})
    status_map: ClassVar[dict[str, TerminationStatus]] = STATUS_MAP

    def solve(self, form: LPForm, options: SolveOptions) -> Result:
        """Solve `form`; times are build_s (arrays), handover_s (passModel + options), solve_s."""
        if form.is_mip and form.is_qp:
            raise SolverError(
                "HiGHS cannot solve a quadratic objective with integer variables (MIQP)",
                hint="relax the integrality, or linearize the quadratic terms",
            )
        scale = _qp_objective_scale(form)
        if scale != 1.0:  # see _qp_objective_scale: HiGHS sees s·f, the result is mapped back
            form = replace(form, c=form.c * scale, c0=form.c0 * scale, Q=form.Q * scale)
        t0 = time.perf_counter()
        arrays = _arrays(form)
        t1 = time.perf_counter()
        h = new_highs(options.verbose)
        _hand_over(h, form, arrays)
        apply_options(h, options)
        warn_tiny_coefficients(form, arrays, float(h.getOptionValue("small_matrix_value")[1]))
        t2 = time.perf_counter()
        with LogCapture(h) as log, _interruptible(h):
            run_status = run_interruptible(h)
        t3 = time.perf_counter()
        result = self._collect(h, form, run_status, log)
        result.times = {"build_s": t1 - t0, "handover_s": t2 - t1, "solve_s": t3 - t2}
        if scale != 1.0:
            result = _unscaled(result, scale)
        return result

    def _collect(self, h: highspy.Highs, form: LPForm, run_status: Any, log: LogCapture) -> Result:
        """The Result of the run (optdsl.solvers.highs.adapter.collect with this backend's map)."""
        return collect(h, form, run_status, log, self.name, self.status_map)


def _qp_objective_scale(form: LPForm) -> float:
    """A power of two that brings a QP's largest objective coefficient to about 1, or 1.0.

    HiGHS's QP solver scales neither the costs nor the Hessian: on a portfolio QP whose
    coefficients are all below 1e-2 (AMPL's own test quadratic_obj.mod) it cycles at a non-optimal
    vertex for millions of iterations, and solves the same problem in 13 iterations once the
    objective is multiplied by 10 or more. Scaling by a power of two is exact in floating point."""
    if not form.is_qp or form.Q is None:
        return 1.0
    q = form.Q.tocoo() if hasattr(form.Q, "tocoo") else form.Q
    big = max(float(np.max(np.abs(form.c), initial=0.0)), float(np.max(np.abs(q.data), initial=0.0)))
    if not np.isfinite(big) or big == 0.0 or big >= 1e-2:
        return 1.0
    return float(2.0 ** -np.floor(np.log2(big)))


def _unscaled(result: Result, scale: float) -> Result:
    """The result of the problem as written, from the result of its objective times `scale`."""
    def back(v: Any) -> Any:
        return None if v is None else v / scale

    return replace(result, objective=back(result.objective), best_bound=back(result.best_bound),
                   row_duals=back(result.row_duals), reduced_costs=back(result.reduced_costs),
                   stats={**result.stats, "objective_scale": scale})
