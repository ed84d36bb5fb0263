"""The `notears` backend: NOTEARS's augmented Lagrangian with h(W) = tr(exp(W o W)) - d
(Zheng et al., NeurIPS 2018), on the same DAGForm as `topo`: a baseline and an initializer."""

from __future__ import annotations

from typing import Any, ClassVar

from optdsl.backends import Backend, Option, SolveOptions
from optdsl.results import Result, TerminationStatus

NOTEARS_OPTIONS: dict[str, Option] = {
    "lambda1": Option(float, 0.0, "extra l1 weight on W (added to the model's own abs() terms)", None),
    "max_iter": Option(int, 100, "augmented-Lagrangian iterations", None),
    "h_tol": Option(float, 1e-8, "stop when h(W) <= h_tol", None),
    "rho_max": Option(float, 1e16, "stop when the penalty reaches rho_max", None),
    "threshold": Option(float, 0.3, "drop |W_ij| below this at the end", None),
    "score": Option(str, "auto", "auto: the recognized score; generic: the model's objective as is",
                    ("auto", "generic")),
}

STATUS_MAP: dict[str, TerminationStatus] = {
    "converged": TerminationStatus.OPTIMAL,
    "rho_max": TerminationStatus.ITERATION_LIMIT,
    "iteration_limit": TerminationStatus.ITERATION_LIMIT,
    "time_limit": TerminationStatus.TIME_LIMIT,
}


class NotearsBackend(Backend):
    name: ClassVar[str] = "notears"
    description: ClassVar[str] = "NOTEARS: augmented Lagrangian with h(W) = tr(exp(W o W)) - d, thresholded"
    features: ClassVar[frozenset[str]] = frozenset(
        {"linear", "quadratic", "nonlinear", "nonsmooth", "inequalities", "acyclic"})
    form: ClassVar[str] = "dag"
    requires: ClassVar[tuple[str, ...]] = ("scipy",)
    priority: ClassVar[int] = 60
    options: ClassVar[dict[str, Option]] = NOTEARS_OPTIONS
    status_map: ClassVar[dict[str, TerminationStatus]] = STATUS_MAP
    abilities: ClassVar[frozenset[str]] = frozenset({"history"})

    def solve(self, form: Any, options: SolveOptions) -> Result:
        from .run import solve_notears

        return solve_notears(form, options)
