"""The `ipopt` backend: IPOPT (Wächter & Biegler's interior-point filter line search) through
`cyipopt`, fed with the exact sparse derivatives of the NLP lowering.

This module is light (no cyipopt, scipy or torch at import); `solve` imports `.run`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from optdsl.solvers.ipopt.declarations import OPTIONS, STATUS_CODES, STATUS_MAP  # noqa: F401 (re-exported)

from optdsl.backends import Backend, Option, SolveOptions
from optdsl.results import Result, TerminationStatus


class IpoptBackend(Backend):
    name: ClassVar[str] = "ipopt"
    description: ClassVar[str] = (
        "IPOPT interior-point method (cyipopt) for smooth NLPs with equalities, inequalities and bounds, "
        "exact sparse first and second derivatives"
    )
    features: ClassVar[frozenset[str]] = frozenset({"linear", "quadratic", "nonlinear", "inequalities"})
    form: ClassVar[str] = "nlp"
    requires: ClassVar[tuple[str, ...]] = ("cyipopt",)
    # after highs (10), before sketch_newton (30): an LP/QP goes to HiGHS, every smooth NLP to ipopt
    # when cyipopt is installed -- on the 34 equality-constrained CUTEst problems of tests/cutest it
    # solves 33 in 2.4 s against sketch_newton's 31 in 58 s (benchmarks/results/equality_choice.md)
    priority: ClassVar[int] = 25
    options: ClassVar[dict[str, Option]] = OPTIONS
    passthrough: ClassVar[str | None] = "any IPOPT option by its IPOPT name, checked by IPOPT"
    status_map: ClassVar[dict[str, TerminationStatus]] = STATUS_MAP
    abilities: ClassVar[frozenset[str]] = frozenset({"duals", "history"})

    def solve(self, form: Any, options: SolveOptions) -> Result:
        from optdsl.solvers.ipopt.run import solve_ipopt

        return solve_ipopt(form, options, backend=self.name)
