"""The trust_constr backend's statuses and options schema (light to import)."""

from __future__ import annotations

from optdsl.backends import Option
from optdsl.results import TerminationStatus

_T = TerminationStatus

# scipy's OptimizeResult.status for trust-constr -> why it stopped. A small step (xtol) is not a
# proof of optimality: `run` reports it as optimal only when the first-order optimality it
# measured is within `gtol_check`, else as an error with the point (feasible or not).
STATUS_MAP: dict[str, TerminationStatus] = {
    "max_iter": _T.ITERATION_LIMIT,
    "gtol": _T.OPTIMAL,
    "xtol": _T.OPTIMAL,
    "callback": _T.TIME_LIMIT,
    "error": _T.ERROR,
}
STATUS_NAMES = {0: "max_iter", 1: "gtol", 2: "xtol", 3: "callback", -1: "error"}

OPTIONS: dict[str, Option] = {
    "gtol": Option(float, 1e-8, "tolerance on the norm of the Lagrangian gradient"),
    "xtol": Option(float, 1e-10, "tolerance on the trust radius"),
    "barrier_tol": Option(float, 1e-8, "tolerance on the barrier parameter"),
    "maxiter": Option(int, 3000, "maximum number of iterations"),
    "initial_tr_radius": Option(float, 1.0, "initial trust radius"),
    "initial_barrier_parameter": Option(float, 1e-3, "initial barrier parameter (scipy's 0.1 stops 1e-2 short on LPs)"),
    "initial_barrier_tolerance": Option(float, 1e-3, "initial tolerance of the barrier subproblem"),
    "gtol_check": Option(float, 1e-5, "optimality needed to call an xtol stop optimal"),
    "feas_tol": Option(float, 1e-6, "constraint violation accepted for a feasible point"),
}
