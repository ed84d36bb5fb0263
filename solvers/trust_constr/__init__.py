"""The `trust_constr` backend: scipy's trust-region interior-point method
(`scipy.optimize.minimize(method="trust-constr")`, Byrd-Hribar-Nocedal with an equality SQP
core) for smooth NLPs with inequalities and bounds. It needs nothing beyond scipy, so it is the
fallback when cyipopt is not installed. Light module: `solve` imports `.run`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from optdsl.backends import Backend, Option, SolveOptions
from optdsl.results import Result, TerminationStatus

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


class TrustConstrBackend(Backend):
    name: ClassVar[str] = "trust_constr"
    description: ClassVar[str] = (
        "scipy trust-constr (trust-region interior point) for smooth NLPs with inequalities and bounds; "
        "needs only scipy"
    )
    features: ClassVar[frozenset[str]] = frozenset({"linear", "quadratic", "nonlinear", "inequalities"})
    form: ClassVar[str] = "nlp"
    requires: ClassVar[tuple[str, ...]] = ()
    priority: ClassVar[int] = 45  # the fallback: after ipopt (40)
    options: ClassVar[dict[str, Option]] = OPTIONS
    status_map: ClassVar[dict[str, TerminationStatus]] = STATUS_MAP
    # duals are returned, at the barrier's accuracy (about 1e-4), so "duals" is not declared
    abilities: ClassVar[frozenset[str]] = frozenset({"history"})

    def solve(self, form: Any, options: SolveOptions) -> Result:
        from optdsl.solvers.trust_constr.run import solve_trust_constr

        return solve_trust_constr(form, options, backend=self.name)
