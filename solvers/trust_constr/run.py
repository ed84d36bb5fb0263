"""Solve an NLPForm with scipy's trust-constr.

scipy's Lagrangian is f + v'c (rows) + v_b'x (bounds), so v >= 0 at a binding upper bound. In
optdsl's convention (docs/results.md) a row dual is -v for a minimization and +v for a
maximization (whose f the lowering negated); a reduced cost is -v_b, sign-flipped likewise.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np
from optdsl.solvers.ipopt.structure import constraint_hessian, max_violation
from optdsl.solvers.trust_constr.declarations import OPTIONS, STATUS_MAP, STATUS_NAMES

from optdsl.backends import SolveOptions
from optdsl.errors import SolverError, did_you_mean
from optdsl.lower.forms import NLPForm
from optdsl.results import Result, SolutionStatus, TerminationStatus


def _typed(user: dict[str, Any]) -> dict[str, Any]:
    """The options with defaults filled in and types checked (also for calls that bypass the
    registry's validation)."""
    out = {k: o.default for k, o in OPTIONS.items()}
    for key, value in user.items():
        key = str(key).removeprefix("trust_constr.")
        if key not in OPTIONS:
            raise SolverError(f"unknown trust_constr option '{key}'",
                              hint=did_you_mean(key, list(OPTIONS)) or f"options: {', '.join(OPTIONS)}")
        out[key] = OPTIONS[key].convert(f"trust_constr.{key}", value)
    return out


def solve_trust_constr(form: NLPForm, options: SolveOptions, backend: str = "trust_constr") -> Result:
    if not isinstance(form, NLPForm):
        raise SolverError(f"trust_constr takes an NLP form, got {type(form).__name__}")
    from scipy.optimize import Bounds, NonlinearConstraint, OptimizeWarning, minimize

    opts = _typed(options.backend_options or {})
    gtol_check, feas_tol = opts.pop("gtol_check"), opts.pop("feas_tol")
    opts["verbose"] = 2 if options.verbose else 0
    constraints = []
    if form.m:
        constraints.append(NonlinearConstraint(form.c, form.con_lower, form.con_upper, jac=form.jac,
                                               hess=constraint_hessian(form)))
    lo, hi = np.asarray(form.col_lower, float), np.asarray(form.col_upper, float)
    bounded = bool(np.any(np.isfinite(lo)) or np.any(np.isfinite(hi)))
    zeros = np.zeros(form.m)
    t0 = time.perf_counter()
    deadline = None if options.time_limit is None else t0 + float(options.time_limit)
    history: dict[str, list[float]] = {"f": [], "violation": [], "optimality": []}

    stopped = [False]

    def callback(intermediate_result) -> None:
        history["f"].append(float(intermediate_result.fun))
        history["violation"].append(float(intermediate_result.constr_violation))
        history["optimality"].append(float(intermediate_result.optimality))
        if deadline is not None and time.perf_counter() > deadline:
            stopped[0] = True
            raise StopIteration

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        warnings.simplefilter("ignore", UserWarning)  # "delta_grad == 0.0" on linear problems
        try:
            res = minimize(form.f, np.asarray(form.x0, float), jac=form.grad,
                           hess=lambda x: form.hess_lag(x, zeros), method="trust-constr",
                           constraints=constraints, bounds=Bounds(lo, hi) if bounded else None,
                           callback=callback, options=opts)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
            raise SolverError(f"trust-constr failed: {exc}") from exc
    wall = time.perf_counter() - t0
    if stopped[0]:
        res.status = 3
    return _result(form, res, backend, wall, gtol_check, feas_tol, history)


def _result(form: NLPForm, res: Any, backend: str, wall: float, gtol_check: float, feas_tol: float,
            history: dict[str, list[float]]) -> Result:
    name = STATUS_NAMES.get(int(res.status), "error")
    status = STATUS_MAP[name]
    x = np.asarray(res.x, dtype=float)
    viol = max_violation(form, x) if np.all(np.isfinite(x)) else float("inf")
    feasible = viol <= feas_tol and math.isfinite(float(res.fun))
    opt = float(res.optimality)
    message = str(res.message)
    if name == "xtol" and not (opt <= gtol_check * max(1.0, abs(float(res.fun))) and feasible):
        status = TerminationStatus.ERROR
        message = f"stalled (step below xtol) at optimality {opt:.2e}, violation {viol:.2e}"
    if status == TerminationStatus.OPTIMAL and feasible:
        sol = SolutionStatus.LOCALLY_OPTIMAL
    elif status == TerminationStatus.OPTIMAL:  # converged to an infeasible stationary point
        status, sol = TerminationStatus.ERROR, SolutionStatus.NONE
        message = f"converged to a point that violates the constraints by {viol:.2e}"
    else:
        sol = SolutionStatus.FEASIBLE if feasible else SolutionStatus.NONE
    sign = -1.0 if form.sense == "max" else 1.0
    v = list(res.v) if getattr(res, "v", None) is not None else []
    has = sol != SolutionStatus.NONE
    row = np.asarray(v[0], float) if form.m and v else None
    bnd = np.asarray(v[-1], float) if len(v) > (1 if form.m else 0) else np.zeros(form.n)
    return Result(
        status=status,
        solution_status=sol,
        backend=backend,
        objective=sign * float(res.fun) if has else None,
        x=x if has else None,
        row_duals=-sign * row if has and row is not None else None,
        reduced_costs=-sign * bnd if has else None,
        iterations=int(res.nit),
        times={"solve_time": wall},
        stats={"scipy_status": name, "optimality": opt, "max_violation": viol, "f_evals": int(res.nfev),
               "jac_evals": int(getattr(res, "njev", 0)), "hess_evals": int(getattr(res, "nhev", 0))},
        message=message,
        layout=form.layout,
    )
