"""The `sketch_newton` backend: AdaSketch-Newton for equality-constrained smooth NLPs.

Options (`--option sketch_newton.KEY=VALUE`, strings or numbers):

    sketch        kaczmarz | gaussian | block | direct     (default kaczmarz)
    block_size    columns of the block sketch              (8)
    block_kind    count | gaussian                         (count)
    eta1, eta2    initial merit penalties                  (1.0, 0.1)
    delta         initial accuracy parameter, (0, 1]       (0.1)
    beta          Armijo constant, (0, 0.5)                (0.1)
    nu            penalty growth factor, > 1               (1.5)
    xi_b          Hessian-modification margin              (0.1)
    tol           KKT tolerance on ||(grad_x L, c)||       (1e-4)
    max_iter      outer iterations                         (10000)
    max_inner     inner iterations per solve               (100000)
    superlinear   sharpen the accuracy condition           (false)
    theta_power   theta_k = min(1, ||grad L_k||^p)         (1.0)
    slacks        rewrite inequalities and bounds          (false)
    log_every     progress line every k iterations with --verbose (1 when verbose)
    seed          overrides the global seed

Row duals follow optdsl's convention (docs/results.md): the derivative of the optimal objective
with respect to the row's right-hand side. For L = f + lam^T (c(x) - rhs) that is -lam for a
minimization, and +lam for a maximization (whose f is the negated objective).
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from optdsl.backends import Backend, Option, SolveOptions
from optdsl.errors import SolverError
from optdsl.lower.forms import NLPForm
from optdsl.results import Result, SolutionStatus, TerminationStatus

from .options import OPTIONS

if TYPE_CHECKING:
    from .algorithm import Params

_STATUS = {
    "optimal": TerminationStatus.OPTIMAL,
    "iteration_limit": TerminationStatus.ITERATION_LIMIT,
    "time_limit": TerminationStatus.TIME_LIMIT,
    "interrupted": TerminationStatus.INTERRUPTED,
    "singular": TerminationStatus.ERROR,
    "penalty_limit": TerminationStatus.ERROR,
    "line_search": TerminationStatus.ERROR,
    "nan": TerminationStatus.ERROR,
}
KEYS = sorted(OPTIONS)


def parse_options(raw: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Typed Params fields from backend options (schema in options.py), and the `slacks` flag."""
    # choice names are case-insensitive ("Gaussian" is gaussian)
    raw = {k: v.strip().lower() if isinstance(v, str) and k in OPTIONS and OPTIONS[k].choices else v
           for k, v in raw.items()}  # fmt: skip
    fields = SketchNewtonBackend.validate_options(raw)
    slacks = bool(fields.pop("slacks", False))
    return fields, slacks


def make_params(options: SolveOptions) -> tuple[Params, bool]:
    fields, slacks = parse_options(dict(options.backend_options or {}))
    if "seed" not in fields:
        fields["seed"] = 0 if options.seed is None else int(options.seed)
    if options.time_limit is not None:
        fields["time_limit"] = float(options.time_limit)
    fields["device"] = str(options.device or "cpu")
    if options.verbose and not fields.get("log_every"):
        fields["log_every"] = 1
    from . import algorithm  # scipy: imported on solve, not when the backend is listed

    params = algorithm.Params(**fields)
    try:
        algorithm.check_params(params)
    except ValueError as exc:
        key = str(exc).split(" ", 1)[0]
        raise SolverError(f"sketch_newton option '{key}': {exc}") from None
    return params, slacks


def _blas_threads(threads: int | None):
    """Small dense systems run faster on one BLAS thread (no fork/join per tiny product)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads or 1, user_api="blas")


def _stderr_line(text: str) -> None:
    """Progress goes to stderr, so that it never mixes with the solution on stdout."""
    print(text, file=sys.stderr, flush=True)


class SketchNewtonBackend(Backend):
    name: ClassVar[str] = "sketch_newton"
    description: ClassVar[str] = (
        "AdaSketch-Newton: Newton-SQP for equality-constrained NLPs with randomized sketching "
        "inner solves and an exact augmented Lagrangian merit (Hong, Na, Mahoney, Kolar 2023)"
    )
    features: ClassVar[frozenset[str]] = frozenset({"linear", "quadratic", "nonlinear"})
    form: ClassVar[str] = "nlp"
    requires: ClassVar[tuple[str, ...]] = ()
    priority: ClassVar[int] = 30
    options: ClassVar[dict[str, Option]] = OPTIONS
    abilities: ClassVar[frozenset[str]] = frozenset({"duals", "history"})
    status_map: ClassVar[dict[str, TerminationStatus]] = _STATUS

    def solve(self, form: NLPForm, options: SolveOptions) -> Result:
        if not isinstance(form, NLPForm):
            raise SolverError(f"sketch_newton takes an NLP form, got {type(form).__name__}")
        params, slacks = make_params(options)
        chain = None
        if not form.equality_only:
            if not slacks:
                raise SolverError(
                    f"sketch_newton solves equality-constrained problems only, but model '{form.name}' "
                    "has inequalities or variable bounds",
                    hint=(
                        "use a backend that takes them ('highs' for LP/QP models), or rewrite them with "
                        "squared slacks: --option sketch_newton.slacks=true"
                    ),
                )
            from optdsl.lower.slacks import SquaredSlacks

            chain = SquaredSlacks()
            form, inverse = chain.apply(form)
        from . import algorithm

        t0 = time.perf_counter()
        log = _stderr_line

        with _blas_threads(options.threads):
            out = algorithm.solve(form, params, log=log)
        result = self._result(form, out, time.perf_counter() - t0, params.tol)
        if chain is not None:
            result = chain.invert(result, inverse)
        return result

    def _result(self, form: NLPForm, out: Any, wall: float, tol: float) -> Result:
        status = _STATUS[out.status]
        sign = -1.0 if form.sense == "max" else 1.0
        feasible = False
        if out.x is not None and form.m:
            cval = np.asarray(form.c(out.x), dtype=float) - np.asarray(form.con_lower, dtype=float)
            feasible = bool(np.all(np.isfinite(cval))) and float(np.max(np.abs(cval))) <= tol
        elif out.x is not None:
            feasible = True
        if status == TerminationStatus.OPTIMAL:
            sol = SolutionStatus.LOCALLY_OPTIMAL
        elif feasible and math.isfinite(out.f):
            sol = SolutionStatus.FEASIBLE
        else:
            sol = SolutionStatus.NONE
        # No objective beside a failed solution: the last iterate's value goes to stats only.
        objective = sign * out.f if math.isfinite(out.f) and sol != SolutionStatus.NONE else None
        message = out.message
        if out.status == "singular":
            message = "singular: " + message
        return Result(
            status=status,
            solution_status=sol,
            backend=self.name,
            objective=objective,
            x=out.x,
            row_duals=-sign * out.lam,
            iterations=out.iterations,
            times={"solve_time": wall},
            stats={
                "kkt": out.kkt,
                "kkt_history_length": len(out.kkt_history),
                "flops": out.flops,
                "flops_inner": out.flops_inner,
                "f_evals": out.f_evals,
                "grad_evals": out.grad_evals,
                "hess_evals": out.hess_evals,
                "c_evals": out.c_evals,
                "jac_evals": out.jac_evals,
                "inner_iterations": out.inner_iterations,
                "inner_cap_hits": out.inner_cap_hits,
                "hessian_modifications": out.hessian_modifications,
                "penalty_updates": out.penalty_updates,
                "eta1": out.eta1,
                "eta2": out.eta2,
                "sketch": out.sketch,
                "solver_switches": out.solver_switches,
                "penalty_limit_hits": out.penalty_limit_hits,
                "last_objective": sign * out.f if math.isfinite(out.f) else None,
                "seed": out.seed,
            },
            message=message,
            layout=form.layout,
            history={"kkt": list(out.kkt_history), "inner_steps": list(out.inner_history),
                     "step": list(out.alpha_history)},  # fmt: skip
        )

