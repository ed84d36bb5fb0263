"""The `lvhba` backend: LV-HBA (Yao, Yu, Zeng, Zhang, ICLR 2024) for bilevel models with a
`lower` block whose constraints may couple leader and follower variables.

This module is light: it imports optdsl core modules and numpy only; torch is imported by
`solve()` through the algorithm module. Options: `optdsl solve --help-backend lvhba` or
docs/lvhba.md; `--option lvhba.KEY=VALUE` / `option lvhba.KEY VALUE;`.
"""

from __future__ import annotations

import math
import time
from typing import Any, ClassVar

import numpy as np

from optdsl.backends import Backend, Option, SolveOptions
from optdsl.errors import SolverError
from optdsl.results import Result, SolutionStatus, TerminationStatus

from . import options as _options

_T = TerminationStatus

STATUS_MAP: dict[str, TerminationStatus] = {
    "converged": _T.OPTIMAL,  # the stopping test held; the solution is reported as locally optimal
    "iteration_limit": _T.ITERATION_LIMIT,
    "time_limit": _T.TIME_LIMIT,
    "nan": _T.ERROR,
}


class LVHBABackend(Backend):
    name: ClassVar[str] = "lvhba"
    description: ClassVar[str] = (
        "LV-HBA: single-loop Hessian-free method for constrained bilevel problems through the proximal "
        "Lagrangian value function (Yao, Yu, Zeng, Zhang, ICLR 2024); torch autograd, batched, CPU or CUDA"
    )
    features: ClassVar[frozenset[str]] = frozenset(
        {"linear", "quadratic", "nonlinear", "inequalities", "bilevel", "nonsmooth"})
    form: ClassVar[str] = "bilevel"
    requires: ClassVar[tuple[str, ...]] = ("torch",)
    priority: ClassVar[int] = 50
    status_map: ClassVar[dict[str, TerminationStatus]] = STATUS_MAP
    abilities: ClassVar[frozenset[str]] = frozenset({"history"})
    options: ClassVar[dict[str, Option]] = {
        k: Option(typ, None if k == "seed" else default, text,
                  choices=("gauss_seidel", "jacobi") if k == "inner" else None)
        for k, (typ, default, text) in _options.SCHEMA.items()
    }

    @staticmethod
    def options_help() -> str:
        return _options.help_text()

    def solve(self, form: Any, options: SolveOptions) -> Result:
        from optdsl.lower.forms import BilevelForm

        if not isinstance(form, BilevelForm):
            raise SolverError(f"lvhba takes a bilevel form, got {type(form).__name__}")
        raw = {k: v for k, v in (options.backend_options or {}).items() if v is not None}
        if "seed" not in raw and options.seed is not None:
            raw["seed"] = int(options.seed)
        o = _options.parse(raw)
        from . import algorithm  # torch is imported here

        t0 = time.perf_counter()
        with algorithm.cpu_threads(options.threads, int(form.col_lower.shape[0]) * int(o["starts"])):
            out = algorithm.solve(form, o, device=options.device or "cpu", time_limit=options.time_limit,
                                  verbose=options.verbose)
        wall = time.perf_counter() - t0
        return self._result(form, out, o, wall)

    def _result(self, form: Any, out: Any, o: dict[str, Any], wall: float) -> Result:
        status = STATUS_MAP[out.status]
        finite = out.w is not None and bool(np.all(np.isfinite(out.w))) and math.isfinite(out.F)
        feasible = finite and out.violation <= max(o["tol_feas"], 1e-6) * 100
        if status == _T.OPTIMAL and feasible:
            sol = SolutionStatus.LOCALLY_OPTIMAL
        elif feasible:
            sol = SolutionStatus.FEASIBLE
        else:
            sol = SolutionStatus.NONE
        message = {
            "converged": "small step, small lower-level gap and feasible: a stationary point of the penalized problem",
            "iteration_limit": f"stopped after {out.iterations} iterations",
            "time_limit": f"time limit reached after {out.iterations} iterations",
            "nan": "the iterates became non-finite; try smaller steps (alpha, eta)",
        }[out.status]
        return Result(
            status=status, solution_status=sol, backend=self.name,
            objective=out.F if finite else None,
            x=out.w, iterations=out.iterations,
            times={"solve_time": wall, "per_1000_iterations_s": 1000.0 * wall / max(out.iterations, 1)},
            stats={
                "lower_objective": out.f,
                "lower_gap": out.gap,
                "violation": out.violation,
                "follower": form.follower,
                "multipliers": [float(v) for v in out.lam],
                "best_start": out.best_start,
                "starts_objective": out.starts_F,
                "projection": out.projection,
                **out.projection_stats,
                "c_final": o["c_lower"] * out.iterations ** o["p"] if out.iterations else o["c_lower"],
            },
            message=message, layout=form.layout, history=out.history,
        )
