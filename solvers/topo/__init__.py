"""The `topo` backend: DAG structure learning by TOPO's topological swaps (Deng et al., ICML 2023).

Takes a DAGForm (a score over W with acyclic(W)); the search and its inner solvers live in the
modules beside this one and are imported by `solve` only (this module imports no scipy or torch).
Options: `optdsl solve --help-backend topo`, or TOPO_OPTIONS below.
"""

from __future__ import annotations

from typing import Any, ClassVar

from optdsl.backends import Backend, Option, SolveOptions
from optdsl.results import Result, TerminationStatus

TOPO_OPTIONS: dict[str, Option] = {
    "init": Option(str, "random", "start order: a random permutation, NOTEARS's graph, or the graph of W's := values",
             ("random", "notears", "start")),
    "order": Option(str, "", "a start order: node labels separated by commas (overrides init)", None),
    "size_small": Option(int, 0, "small candidate set (0: dagrad's min(1.5d, sqrt(d)(d-1)log10 d))", None),
    "size_large": Option(int, 0, "large candidate set (0: dagrad's max(1.5d, ...), at most d(d-1)/2)", None),
    "large_searches": Option(int, 5, "how many times the large set may be searched", None),
    "xi": Option(float, 0.0, "keep candidates with |grad Q_ij| >= xi only (the paper's Algorithm 2); 0 = off", None),
    "threshold": Option(float, 0.3, "drop |W_ij| below this at the end (0.5 for the MLP variant)", None),
    "refit": Option(bool, True, "refit the weights on the thresholded graph", None),
    "max_iter": Option(int, 100000, "outer iterations", None),
    "score": Option(str, "auto", "auto: the recognized per-node score; generic: the model's objective as is",
              ("auto", "generic")),
    "model": Option(str, "linear", "linear weights, or one MLP per node (NOTEARS-MLP style; needs the data param)",
              ("linear", "mlp")),
    "hidden": Option(int, 10, "MLP hidden units per node", None),
    "mlp_lambda1": Option(float, 0.01, "MLP l1 weight on the first layer", None),
    "mlp_lambda2": Option(float, 0.01, "MLP l2 weight on all layers", None),
    "mlp_iter": Option(int, 300, "L-BFGS steps per MLP fit", None),
    "seed": Option(int, -1, "seed (-1: the global --seed, else 0)", None),
}

STATUS_MAP: dict[str, TerminationStatus] = {
    "local_optimum": TerminationStatus.OPTIMAL,
    "time_limit": TerminationStatus.TIME_LIMIT,
    "iteration_limit": TerminationStatus.ITERATION_LIMIT,
}


class TopoBackend(Backend):
    name: ClassVar[str] = "topo"
    description: ClassVar[str] = ("TOPO: local search over topological orders with swaps chosen from grad h, "
                                  "for scores with acyclic(W) (Deng, Bello, Aragam, Ravikumar 2023)")
    features: ClassVar[frozenset[str]] = frozenset(
        {"linear", "quadratic", "nonlinear", "nonsmooth", "inequalities", "acyclic"})
    form: ClassVar[str] = "dag"
    requires: ClassVar[tuple[str, ...]] = ("scipy",)
    priority: ClassVar[int] = 20
    options: ClassVar[dict[str, Option]] = TOPO_OPTIONS
    status_map: ClassVar[dict[str, TerminationStatus]] = STATUS_MAP
    abilities: ClassVar[frozenset[str]] = frozenset({"history"})

    def solve(self, form: Any, options: SolveOptions) -> Result:
        from .run import solve_topo

        return solve_topo(form, options)
