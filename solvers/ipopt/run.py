"""Solve an NLPForm with IPOPT through cyipopt.

IPOPT solves  min f(x)  s.t.  g_L <= g(x) <= g_U,  x_L <= x <= x_U  with the Lagrangian
f + lam'g - z_L'(x - x_L) + z_U'(x - x_U). optdsl's duals (docs/results.md) are derivatives of
the optimal objective with respect to a bound, for the user's sense: a row dual is -lam for a
minimization and +lam for a maximization (whose f the lowering negated); a reduced cost is
z_L - z_U for a minimization and its negative for a maximization.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from typing import Any

import numpy as np
from optdsl.solvers.ipopt.declarations import OPTIONS, STATUS_CODES, STATUS_MAP
from optdsl.solvers.ipopt.structure import Callbacks, max_violation

from optdsl.backends import SolveOptions
from optdsl.errors import SolverError, did_you_mean
from optdsl.lower.forms import NLPForm
from optdsl.results import Result, SolutionStatus, TerminationStatus

_INF = 1e20  # IPOPT treats |bound| >= 1e19 as infinite (nlp_lower_bound_inf)


def _cyipopt():
    try:
        import cyipopt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SolverError("the ipopt backend needs cyipopt, which is not installed",
                          hint="pip install 'optdsl[ipopt]' (cyipopt with a bundled Ipopt)") from exc
    return cyipopt


def _bounds(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return np.clip(np.nan_to_num(v, nan=0.0, posinf=_INF, neginf=-_INF), -_INF, _INF)


def convert_option(key: str, value: Any) -> Any:
    """A value for an IPOPT option outside the typed schema: IPOPT's type guessed from the text."""
    if key in OPTIONS:
        return OPTIONS[key].convert(f"ipopt.{key}", value)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    text = str(value).strip()
    for cast in (int, float):
        with contextlib.suppress(ValueError):
            return cast(text)
    return text


def _add_option(nlp: Any, key: str, value: Any) -> None:
    try:
        nlp.add_option(key, value)
        return
    except (TypeError, ValueError):
        pass
    if isinstance(value, int):  # a numeric option written as an integer ("tol=1")
        with contextlib.suppress(TypeError, ValueError):
            nlp.add_option(key, float(value))
            return
    raise SolverError(f"IPOPT refused option {key}={value!r}", hint=did_you_mean(key, list(OPTIONS))
                      or "IPOPT's options: https://coin-or.github.io/Ipopt/OPTIONS.html")


def _viol_tol(user: dict[str, Any]) -> float:
    return float(user.get("constr_viol_tol") or 1e-4)


def solve_ipopt(form: NLPForm, options: SolveOptions, backend: str = "ipopt") -> Result:
    if not isinstance(form, NLPForm):
        raise SolverError(f"ipopt takes an NLP form, got {type(form).__name__}")
    cyipopt = _cyipopt()
    t0 = time.perf_counter()
    user = {str(k).removeprefix("ipopt."): v for k, v in (options.backend_options or {}).items() if v is not None}
    approx = str(user.get("hessian_approximation", "exact"))
    cb = Callbacks(form, hessian=approx == "exact")
    if not cb.exact_hessian:
        approx = "limited-memory"
    lb, ub = _bounds(form.col_lower), _bounds(form.col_upper)
    cl, cu = _bounds(form.con_lower), _bounds(form.con_upper)
    nlp = cyipopt.Problem(n=form.n, m=form.m, problem_obj=cb, lb=lb, ub=ub, cl=cl, cu=cu)
    _add_option(nlp, "print_level", 5 if options.verbose else 0)
    _add_option(nlp, "sb", "yes")  # the banner
    _add_option(nlp, "hessian_approximation", approx)
    if options.time_limit is not None:
        _add_option(nlp, "max_wall_time", float(max(options.time_limit, 1e-3)))
    for key, value in user.items():
        if key == "hessian_approximation":
            continue
        _add_option(nlp, key, convert_option(key, value))
    x0 = np.asarray(form.x0, dtype=float).copy()
    lam0 = np.asarray(form.lam0, dtype=float) if form.lam0 is not None and form.m else None
    t_setup = time.perf_counter() - t0
    t1 = time.perf_counter()
    stream = sys.stdout if options.verbose else None
    try:
        with _stdout_to(stream):
            x, info = nlp.solve(x0, lagrange=lam0) if lam0 is not None else nlp.solve(x0)
    except SolverError:
        raise
    except Exception as exc:  # an exception from an oracle surfaces here
        raise SolverError(f"IPOPT stopped on an error in the model's functions: {exc}") from exc
    wall = time.perf_counter() - t1
    return _result(form, cb, x, info, backend, t_setup, wall, _viol_tol(user))


def _result(form: NLPForm, cb: Callbacks, x: np.ndarray, info: dict, backend: str, t_setup: float,
            wall: float, viol_tol: float) -> Result:
    code = int(info["status"])
    name = STATUS_CODES.get(code, "Internal_Error")
    status = STATUS_MAP.get(name, TerminationStatus.ERROR)
    sign = -1.0 if form.sense == "max" else 1.0
    x = np.asarray(x, dtype=float)
    finite = bool(np.all(np.isfinite(x)))
    viol = max_violation(form, x) if finite else float("inf")
    f = float(info.get("obj_val", float("nan")))
    if status == TerminationStatus.OPTIMAL and name != "Feasible_Point_Found":
        sol = SolutionStatus.LOCALLY_OPTIMAL
    elif status == TerminationStatus.INFEASIBLE:
        sol = SolutionStatus.NONE
    elif finite and viol <= viol_tol and math.isfinite(f):
        sol = SolutionStatus.FEASIBLE
    else:
        sol = SolutionStatus.NONE
    has = sol != SolutionStatus.NONE
    lam = np.asarray(info.get("mult_g", np.zeros(form.m)), dtype=float)
    zl = np.asarray(info.get("mult_x_L", np.zeros(form.n)), dtype=float)
    zu = np.asarray(info.get("mult_x_U", np.zeros(form.n)), dtype=float)
    msg = info.get("status_msg", b"")
    msg = msg.decode(errors="replace") if isinstance(msg, bytes) else str(msg)
    return Result(
        status=status,
        solution_status=sol,
        backend=backend,
        objective=sign * f if has else None,
        x=x if has or status == TerminationStatus.INFEASIBLE else None,
        row_duals=-sign * lam if has else None,
        reduced_costs=sign * (zl - zu) if has else None,
        iterations=cb.iterations,
        times={"setup_s": t_setup, "solve_time": wall},
        stats={"ipopt_status": name, "max_violation": viol, "exact_hessian": cb.exact_hessian,
               "jac_nnz": cb.jac_pattern.nnz,
               "hess_nnz": cb.hess_pattern.nnz if cb.hess_pattern is not None else None,
               **{f"{k}_evals": v for k, v in cb.evals.items()}},
        message=f"{name}: {msg}",
        layout=form.layout,
    )


@contextlib.contextmanager
def _stdout_to(stream: Any):
    """IPOPT prints from C to file descriptor 1: silence it unless the log is wanted."""
    if stream is not None:
        yield
        return
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no usable fd 1
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None).fflush(None)
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
