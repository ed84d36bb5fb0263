"""`notears` backend: options, the augmented-Lagrangian run and the Result."""

from __future__ import annotations

import time

import numpy as np

from optdsl.backends import SolveOptions, validate_options
from optdsl.dag.metrics import topological_order
from optdsl.errors import SolverError
from optdsl.lower.forms import DAGForm
from optdsl.results import Result

from .build import score_of
from .declarations import NOTEARS_OPTIONS
from .declarations import NOTEARS_STATUS_MAP as STATUS_MAP
from .notears import NotearsParams, notears
from .run import dag_result
from .threads import blas_threads


def solve_notears(form: DAGForm, options: SolveOptions) -> Result:
    if not isinstance(form, DAGForm):
        raise SolverError(f"notears takes a DAG form, got {type(form).__name__}")
    t0 = time.perf_counter()
    o = validate_options("notears", NOTEARS_OPTIONS, dict(options.backend_options or {}))
    with blas_threads(options.threads):
        score = score_of(form, generic=o["score"] == "generic")
        res = notears(score, NotearsParams(lambda1=o["lambda1"], max_iter=o["max_iter"], h_tol=o["h_tol"],
                                           rho_max=o["rho_max"], threshold=o["threshold"],
                                           time_limit=options.time_limit, verbose=options.verbose))
    W = res.W * (score.allowed if score.allowed is not None else 1.0)
    if topological_order(W != 0) is None:  # h not small enough: raise the threshold until acyclic
        A = np.abs(W)
        for t in np.unique(A[A > 0]):
            if topological_order(A > t) is not None:
                W = W * (A > t)
                break
    message = {"converged": f"h(W) = {res.h:.2e} <= h_tol before thresholding",
               "rho_max": f"penalty limit reached with h(W) = {res.h:.2e}",
               "iteration_limit": f"iteration limit with h(W) = {res.h:.2e}",
               "time_limit": f"time limit with h(W) = {res.h:.2e}"}[res.status]
    return dag_result(form, W, STATUS_MAP[res.status], "notears", {"h": res.h}, res.history, res.iterations,
                      time.perf_counter() - t0, message)
