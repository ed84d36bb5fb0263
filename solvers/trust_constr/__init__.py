"""The `trust_constr` backend: scipy's trust-region interior-point method
(`scipy.optimize.minimize(method="trust-constr")`, Byrd-Hribar-Nocedal with an equality SQP
core) for smooth NLPs with inequalities and bounds. It needs nothing beyond scipy, so it is the
fallback when cyipopt is not installed. Light module: `solve` imports `.run`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from optdsl.solvers.trust_constr.declarations import OPTIONS, STATUS_MAP, STATUS_NAMES  # noqa: E402, F401

from optdsl.backends import Backend, Option, SolveOptions
from optdsl.results import Result, TerminationStatus


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
