"""The `topo` backend, DAG learning by topological swaps (Deng et al., ICML 2023), and `notears`.

Takes a DAGForm (a score over W with acyclic(W)); the search and its inner solvers live in the
modules beside this one and are imported by `solve` only (this module imports no scipy or torch).
Options: `optdsl solve --help-backend topo`, or TOPO_OPTIONS below.
"""

from __future__ import annotations

from typing import Any, ClassVar

from optdsl.backends import Backend, Option, SolveOptions
from optdsl.results import Result, TerminationStatus

from .declarations import NOTEARS_OPTIONS, NOTEARS_STATUS_MAP, STATUS_MAP, TOPO_OPTIONS


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
        if str((options.backend_options or {}).get("model", "linear")).lower() == "mlp":
            from optdsl.backends import validate_options

            from .mlp import solve_mlp
            from .threads import blas_threads

            opts = validate_options("topo", TOPO_OPTIONS, dict(options.backend_options or {}))
            seed = opts["seed"] if opts["seed"] >= 0 else (options.seed or 0)
            with blas_threads(options.threads):
                return solve_mlp(form, options, opts, seed)
        from .run import solve_topo

        return solve_topo(form, options)


class NotearsBackend(Backend):
    name: ClassVar[str] = "notears"
    description: ClassVar[str] = "NOTEARS: augmented Lagrangian with h(W) = tr(exp(W o W)) - d, thresholded"
    features: ClassVar[frozenset[str]] = frozenset(
        {"linear", "quadratic", "nonlinear", "nonsmooth", "inequalities", "acyclic"})
    form: ClassVar[str] = "dag"
    requires: ClassVar[tuple[str, ...]] = ("scipy",)
    priority: ClassVar[int] = 60
    options: ClassVar[dict[str, Option]] = NOTEARS_OPTIONS
    status_map: ClassVar[dict[str, TerminationStatus]] = NOTEARS_STATUS_MAP
    abilities: ClassVar[frozenset[str]] = frozenset({"history"})

    def solve(self, form: Any, options: SolveOptions) -> Result:
        from .notears_run import solve_notears

        return solve_notears(form, options)
