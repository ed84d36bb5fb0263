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
from typing import Any, ClassVar

import numpy as np

from optdsl.backends import Backend, SolveOptions
from optdsl.errors import SolverError, did_you_mean
from optdsl.lower.forms import NLPForm
from optdsl.results import Result, SolutionStatus, TerminationStatus

from . import algorithm
from .sketches import SKETCHES

_FLOAT_KEYS = {
    "eta1", "eta2", "delta", "beta", "nu", "xi_b", "tol", "theta_power", "singular_tol", "singular_rtol",
    "progress_after", "progress_every", "theta_rate",
}  # fmt: skip
_INT_KEYS = {"max_iter", "max_inner", "block_size", "log_every", "seed", "dense_limit", "auto_size"}
_BOOL_KEYS = {"superlinear", "slacks"}
_CHOICE_KEYS = {
    "sketch": ("auto", *SKETCHES),
    "block_kind": ("count", "gaussian"),
    "norm": algorithm.NORMS,
    "singular_test": algorithm.SINGULAR_TESTS,
    "theta_schedule": algorithm.THETA_SCHEDULES,
}
KEYS = sorted(_FLOAT_KEYS | _INT_KEYS | _BOOL_KEYS | set(_CHOICE_KEYS))

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


def _bad(key: str, value: Any, want: str) -> SolverError:
    return SolverError(f"sketch_newton option '{key}' must be {want}, got {value!r}")


def _parse_bool(key: str, value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise _bad(key, value, "true or false")


def _parse_int(key: str, value: Any) -> int:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise _bad(key, value, "an integer") from None
    if not math.isfinite(v) or v != int(v):
        raise _bad(key, value, "an integer")
    return int(v)


def _parse_float(key: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise _bad(key, value, "a number") from None
    if math.isnan(v):
        raise _bad(key, value, "a number")
    return v


def parse_options(raw: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Typed Params fields from backend options, and the `slacks` flag."""
    fields: dict[str, Any] = {}
    slacks = False
    for key, value in raw.items():
        if key in _FLOAT_KEYS:
            fields[key] = _parse_float(key, value)
        elif key in _INT_KEYS:
            fields[key] = _parse_int(key, value)
        elif key == "superlinear":
            fields[key] = _parse_bool(key, value)
        elif key == "slacks":
            slacks = _parse_bool(key, value)
        elif key in _CHOICE_KEYS:
            text = str(value).strip().lower()
            if text not in _CHOICE_KEYS[key]:
                raise _bad(key, value, "one of " + ", ".join(_CHOICE_KEYS[key]))
            fields[key] = text
        else:
            raise SolverError(
                f"unknown sketch_newton option '{key}'; known options: {', '.join(KEYS)}",
                hint=did_you_mean(key, KEYS),
            )
    return fields, slacks


def make_params(options: SolveOptions) -> tuple[algorithm.Params, bool]:
    fields, slacks = parse_options(dict(options.backend_options or {}))
    if "seed" not in fields:
        fields["seed"] = 0 if options.seed is None else int(options.seed)
    if options.time_limit is not None:
        fields["time_limit"] = float(options.time_limit)
    if options.verbose and "log_every" not in fields:
        fields["log_every"] = 1
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
    passthrough: ClassVar[str | None] = "the options listed in docs/sketch_newton.md, checked by the backend"
    abilities: ClassVar[frozenset[str]] = frozenset({"duals"})
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
        t0 = time.perf_counter()
        log = _stderr_line
        with _blas_threads(options.threads):
            out = algorithm.solve(form, params, log=log)
        result = self._result(form, out, time.perf_counter() - t0, params.tol)
        if chain is not None:
            result = chain.invert(result, inverse)
        return result

    def _result(self, form: NLPForm, out: algorithm.Output, wall: float, tol: float) -> Result:
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
        )

