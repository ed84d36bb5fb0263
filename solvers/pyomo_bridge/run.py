"""Solve a model with a Pyomo solver: build (build.py), solve, map values, duals and statuses back.

Row duals come from Pyomo's `dual` suffix and reduced costs from `rc`, where the solver fills
them; Pyomo reports them as the solver does, which for HiGHS (and the LP solvers Pyomo wraps) is
optdsl's convention (derivative of the optimal objective with respect to the bound).
"""

from __future__ import annotations

import contextlib
import io
import math
import time
from typing import Any

import numpy as np
from optdsl.solvers.pyomo_bridge.build import to_pyomo
from optdsl.solvers.pyomo_bridge.statuses import STATUS_MAP

from optdsl.backends import SolveOptions
from optdsl.errors import SolverError
from optdsl.ir.expr import Expr
from optdsl.ir.model import ConBlock, ModelIR, ObjectiveIR, VarBlock
from optdsl.lower.forms import LPForm, NLPForm
from optdsl.lower.lp import layout_of
from optdsl.results import Result, SolutionStatus, TerminationStatus

# The time-limit option of common Pyomo solvers (seconds).
TIME_OPTION = {
    "appsi_highs": "time_limit", "highs": "time_limit", "glpk": "tmlim", "cbc": "seconds",
    "appsi_cbc": "seconds", "gurobi": "TimeLimit", "gurobi_direct": "TimeLimit", "appsi_gurobi": "TimeLimit",
    "cplex": "timelimit", "cplex_direct": "timelimit", "appsi_cplex": "timelimit", "scip": "limits/time",
    "ipopt": "max_wall_time", "appsi_ipopt": "max_wall_time", "cyipopt": "max_wall_time", "xpress": "maxtime",
    "baron": "MaxTime", "mosek": "dparam.optimizer_max_time",
}  # fmt: skip
# Registered names that are meta-algorithms or plumbing rather than solvers a user names.
_META = ("gdpopt", "mindtpy", "multistart", "trustregion", "mpec_", "py", "asl", "contrib.", "scipy.", "_",
         "gams", "sas", "cp_optimizer", "path", "cuopt")


# Pyomo's appsi solvers, driven through their own API (no legacy results object, no symbol maps):
# name -> (class in pyomo.contrib.appsi.solvers, attribute holding the solver's native options).
APPSI = {
    "appsi_highs": ("Highs", "highs_options"), "appsi_gurobi": ("Gurobi", "gurobi_options"),
    "appsi_cbc": ("Cbc", "cbc_options"), "appsi_cplex": ("Cplex", "cplex_options"),
    "appsi_ipopt": ("Ipopt", "ipopt_options"),
}  # fmt: skip


def available_solvers() -> list[str]:
    """The solvers Pyomo's SolverFactory finds usable on this machine."""
    from pyomo.opt.base.solvers import SolverFactory

    out = []
    for name in sorted(SolverFactory):
        if name.startswith(_META) or "." in name:
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                if SolverFactory(name).available(exception_flag=False):
                    out.append(name)
        except Exception:  # a broken plugin is simply not available
            continue
    return out


def _solver(name: str) -> Any:
    from pyomo.opt import SolverFactory

    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            opt = SolverFactory(name)
            ok = opt is not None and opt.available(exception_flag=False)
    except Exception:
        ok = False
    if not ok:
        found = available_solvers()
        raise SolverError(
            f"Pyomo solver '{name}' is not available on this machine",
            hint=("Pyomo finds: " + ", ".join(f"pyomo:{s}" for s in found)) if found
            else "Pyomo finds no solver here; install one (e.g. pip install highspy)",
        )
    return opt


def lp_to_ir(form: LPForm) -> ModelIR:
    """An LPForm as a one-block IR (for forms read from MPS/LP files)."""
    n = form.num_cols
    A = form.A.tocoo()
    con = ConBlock("c", None, Expr(form.num_rows, np.zeros(form.num_rows), A.row.astype(np.int64),
                                   A.col.astype(np.int64), A.data.astype(float)),
                   np.asarray(form.row_lower, float), np.asarray(form.row_upper, float))
    obj = Expr(1, np.array([float(form.c0)]), np.zeros(n, np.int64), np.arange(n, dtype=np.int64),
               np.asarray(form.c, float))
    if form.is_qp:
        Q = form.Q.tocoo()
        keep = Q.row <= Q.col  # 1/2 x'Qx: off-diagonal pairs once with Q_ij, diagonal with Q_ii / 2
        i, j, v = Q.row[keep], Q.col[keep], Q.data[keep]
        v = np.where(i == j, v / 2.0, v)
        obj.q_rows, obj.q_i, obj.q_j, obj.q_vals = np.zeros(len(v), np.int64), i.astype(np.int64), j.astype(
            np.int64), v.astype(float)
    integer = np.asarray(form.integrality, bool) if form.integrality is not None else np.zeros(n, bool)
    ir = ModelIR(variables=[VarBlock("x", None, 0, n, np.asarray(form.col_lower, float),
                                     np.asarray(form.col_upper, float), integer, form.x0)],
                 constraints=[con], objectives=[ObjectiveIR("objective", form.sense, obj)])
    return ir


def solve_pyomo(form: Any, solver: str, options: SolveOptions, backend: str) -> Result:
    import pyomo.environ as pe

    if isinstance(form, NLPForm):
        raise SolverError("the pyomo bridge takes the model's IR, not NLP oracles",
                          hint="solve the model itself with --solver pyomo:NAME")
    layout = form.layout if isinstance(form, LPForm) else None
    ir = lp_to_ir(form) if isinstance(form, LPForm) else form
    if not isinstance(ir, ModelIR):
        raise SolverError(f"the pyomo bridge takes a model, got {type(form).__name__}")
    if solver in APPSI:
        return _solve_appsi(ir, solver, options, backend, layout)
    opt = _solver(solver)
    t0 = time.perf_counter()
    built = to_pyomo(ir)
    m = built.model
    if not any(np.any(v.integer) for v in ir.variables):  # a MIP has no duals; some solvers refuse the suffix
        m.dual = pe.Suffix(direction=pe.Suffix.IMPORT)
        m.rc = pe.Suffix(direction=pe.Suffix.IMPORT)
    t_build = time.perf_counter() - t0
    if options.time_limit is not None and solver in TIME_OPTION:
        opt.options[TIME_OPTION[solver]] = float(options.time_limit)
    for key, value in (options.backend_options or {}).items():
        opt.options[str(key)] = value
    t1 = time.perf_counter()
    try:
        res = opt.solve(m, load_solutions=False, tee=bool(options.verbose))
    except Exception as exc:  # Pyomo and the solver raise many types; the message is what matters
        raise SolverError(f"Pyomo solver '{solver}' failed: {exc}") from exc
    wall = time.perf_counter() - t1
    result = _result(ir, built, res, backend, solver)
    result.times.update({"build_s": t_build, "solve_time": wall})
    if layout is not None:
        result.layout = layout
    return result


def _solve_appsi(ir: ModelIR, solver: str, options: SolveOptions, backend: str, layout: Any) -> Result:
    from pyomo.contrib.appsi import solvers as appsi

    cls_name, attr = APPSI[solver]
    opt = getattr(appsi, cls_name)()
    if not opt.available():
        _solver(solver)  # raises the error that lists what Pyomo finds
    t0 = time.perf_counter()
    built = to_pyomo(ir)
    t_build = time.perf_counter() - t0
    opt.config.load_solution = False
    opt.config.stream_solver = bool(options.verbose)
    if options.time_limit is not None:
        opt.config.time_limit = float(options.time_limit)
    native = getattr(opt, attr)
    for key, value in (options.backend_options or {}).items():
        native[str(key)] = value
    t1 = time.perf_counter()
    try:
        res = opt.solve(built.model)
    except Exception as exc:  # Pyomo and the solver raise many types; the message is what matters
        raise SolverError(f"Pyomo solver '{solver}' failed: {exc}") from exc
    wall = time.perf_counter() - t1
    tc = res.termination_condition.name
    status = STATUS_MAP.get(tc, TerminationStatus.ERROR)
    x = duals = rc = None
    objective = res.best_feasible_objective
    if objective is not None:
        primals = res.solution_loader.get_primals()
        x = np.array([primals[v] for v in built.var_data], dtype=float)
        discrete = any(np.any(v.integer) for v in ir.variables)
        if status == TerminationStatus.OPTIMAL and not discrete:
            with contextlib.suppress(Exception):  # solvers without duals, or not for this model
                d = res.solution_loader.get_duals()
                duals = np.array([float(d.get(c, 0.0)) if c is not None else 0.0 for c in built.con_data])
            with contextlib.suppress(Exception):
                r = res.solution_loader.get_reduced_costs()
                rc = np.array([float(r.get(v, 0.0)) for v in built.var_data])
    if status == TerminationStatus.OPTIMAL and x is not None:
        sol = SolutionStatus.LOCALLY_OPTIMAL if "nonlinear" in ir.features() else SolutionStatus.OPTIMAL
    elif x is not None:
        sol = SolutionStatus.FEASIBLE
    else:
        sol = SolutionStatus.NONE
    return Result(
        status=status, solution_status=sol, backend=backend, objective=None if x is None else float(objective),
        best_bound=getattr(res, "best_objective_bound", None), x=x, row_duals=duals, reduced_costs=rc,
        times={"build_s": t_build, "solve_time": wall},
        stats={"pyomo_solver": solver, "termination_condition": tc}, message=f"{solver}: {tc}",
        layout=layout if layout is not None else layout_of(ir),
    )


def _result(ir: ModelIR, built: Any, res: Any, backend: str, solver: str) -> Result:
    import pyomo.environ as pe

    tc = str(getattr(res.solver.termination_condition, "name", res.solver.termination_condition))
    status = STATUS_MAP.get(tc, TerminationStatus.ERROR)
    has_solution = len(getattr(res, "solution", [])) > 0 and status not in (
        TerminationStatus.INFEASIBLE, TerminationStatus.UNBOUNDED, TerminationStatus.INFEASIBLE_OR_UNBOUNDED)
    x = duals = rc = objective = None
    if has_solution:
        try:
            import logging

            log = logging.getLogger("pyomo.core")
            level = log.level
            log.setLevel(logging.ERROR)  # "loading a solution with an 'aborted' status" at limits
            try:
                built.model.solutions.load_from(res)
            finally:
                log.setLevel(level)
        except Exception:  # the solver reported a solution it could not hand over
            has_solution = False
    if has_solution:
        x = np.array([np.nan if v.value is None else float(v.value) for v in built.var_data], dtype=float)
        if built.objective is not None:
            objective = float(pe.value(built.objective, exception=False) or 0.0)
        else:
            objective = 0.0
        dual = getattr(built.model, "dual", None)
        if dual is not None and len(dual):
            duals = np.array([float(dual.get(c, 0.0)) if c is not None else 0.0 for c in built.con_data])
        if getattr(built.model, "rc", None) is not None and len(built.model.rc):
            rc = np.array([float(built.model.rc.get(v, 0.0)) for v in built.var_data])
    if status == TerminationStatus.OPTIMAL and has_solution:
        discrete = any(np.any(v.integer) for v in ir.variables)
        nonlinear = "nonlinear" in ir.features()
        global_ = tc == "globallyOptimal" or (tc == "optimal" and not nonlinear)
        sol = SolutionStatus.OPTIMAL if global_ or (discrete and not nonlinear) else SolutionStatus.LOCALLY_OPTIMAL
    elif has_solution and x is not None and not np.isnan(x).any():
        sol = SolutionStatus.FEASIBLE
    else:
        sol = SolutionStatus.NONE
    if objective is not None and not math.isfinite(objective):
        objective = None
    msg = str(getattr(res.solver, "message", "") or "")
    msg = "" if msg == "<undefined>" else msg
    return Result(
        status=status, solution_status=sol, backend=backend, objective=objective if sol != SolutionStatus.NONE
        else None, x=x if sol != SolutionStatus.NONE else None, row_duals=duals, reduced_costs=rc,
        stats={"pyomo_solver": solver, "termination_condition": tc}, message=f"{solver}: {tc}. {msg}".strip(),
        layout=layout_of(ir),
    )
