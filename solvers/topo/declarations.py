"""Options and status maps of the `topo` and `notears` backends (light to import)."""

from __future__ import annotations

from optdsl.backends import Option
from optdsl.results import TerminationStatus

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


NOTEARS_OPTIONS: dict[str, Option] = {
    "lambda1": Option(float, 0.0, "extra l1 weight on W (added to the model's own abs() terms)", None),
    "max_iter": Option(int, 100, "augmented-Lagrangian iterations", None),
    "h_tol": Option(float, 1e-8, "stop when h(W) <= h_tol", None),
    "rho_max": Option(float, 1e16, "stop when the penalty reaches rho_max", None),
    "threshold": Option(float, 0.3, "drop |W_ij| below this at the end", None),
    "score": Option(str, "auto", "auto: the recognized score; generic: the model's objective as is",
                    ("auto", "generic")),
}

NOTEARS_STATUS_MAP: dict[str, TerminationStatus] = {
    "converged": TerminationStatus.OPTIMAL,
    "rho_max": TerminationStatus.ITERATION_LIMIT,
    "iteration_limit": TerminationStatus.ITERATION_LIMIT,
    "time_limit": TerminationStatus.TIME_LIMIT,
}
