"""A Balans solve from start to Result: budget, first incumbent, one search or a portfolio, the
checks on the returned point, the incumbent trace and the primal-gap metrics."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from optdsl.backends import SolveOptions
from optdsl.errors import SolverError
from optdsl.lower.forms import LPForm
from optdsl.results import Result, SolutionStatus, TerminationStatus

from . import highs_link
from .config import Config, build_config, variant
from .metrics import primal_gap, primal_integral
from .mip import MipModel
from .portfolio import LocalPool, RayPool, WorkerResult, bare_form, ray_address, run_worker
from .search import Progress, Start, first_incumbent

_T = TerminationStatus
DEFAULT_TIME_LIMIT = 60.0


def _warm_imports() -> None:
    """alns and MABWiser take seconds to import (MABWiser pulls in scikit-learn and pandas); this
    runs in a thread while HiGHS, which releases the GIL, looks for the first incumbent."""
    try:
        import alns  # noqa: F401
        import mabwiser.mab  # noqa: F401
    except ImportError:  # reported when the search needs them
        pass


def solve(form: LPForm, options: SolveOptions, values: dict[str, Any], backend: str) -> Result:
    t0 = time.time()
    budget = float(options.time_limit if options.time_limit is not None else values.get("time_limit") or
                   DEFAULT_TIME_LIMIT)
    if budget <= 0:
        raise SolverError(f"the time limit must be positive; got {budget:g}")
    deadline = t0 + budget
    cfg = build_config(values, seed=options.seed)
    workers = int(values.get("workers") or 1)
    if workers < 1:
        raise SolverError(f"balans.workers must be at least 1; got {workers}")
    max_iterations = values.get("max_iterations")
    max_iterations = int(max_iterations) if max_iterations not in (None, "", 0) else None
    show = str(values.get("progress", "auto")).lower()
    progress_on = options.verbose or show in ("true", "on", "yes", "1") or (show == "auto" and budget >= 30)
    reference = values.get("reference")
    reference = float(reference) if reference not in (None, "") else None

    warm = threading.Thread(target=_warm_imports, daemon=True)
    warm.start()
    pool: Any = None
    address = ray_address(values.get("ray_address", ""))
    try:
        if workers > 1:
            pool = RayPool(workers, form.num_cols, address) if address else LocalPool(workers, form.num_cols)
        model = MipModel(form, seed=cfg.seed, threads=options.threads, verbose=False)
        prog = Progress(model, t0, enabled=progress_on, every_iteration=options.verbose)
        x0 = None if form.x0 is None else np.asarray(form.x0, dtype=float)
        if x0 is not None and not np.all(np.isfinite(x0)):
            x0 = None
        need_lp = any(s.uses_lp for s in cfg.operators)
        start = first_incumbent(model, cfg, deadline, need_lp, prog, x0=x0, ready=lambda: not warm.is_alive(),
                                t0=t0)
        if start.x is None:
            return _no_solution(model, start, backend, t0, form)
        results: list[Any] = []
        if not start.proven_optimal:
            warm.join(timeout=max(deadline - time.time(), 0.0))
            futures = []
            if pool is not None:
                sent = bare_form(form)
                for k in range(1, workers):
                    futures.append(pool.submit(k, sent, variant(cfg, k), start, deadline, t0, progress_on,
                                               options.verbose, max_iterations))
            board = pool.board if pool is not None else None
            results.append(run_worker(0, form, cfg, start, deadline, t0, board, progress_on, options.verbose,
                                      max_iterations, model=model))
            if pool is not None:
                results.extend(pool.gather(futures, deadline))
        return _result(model, cfg, start, results, backend, t0, budget, reference, workers, form)
    finally:
        if pool is not None:
            pool.close()


def _no_solution(model: MipModel, start: Start, backend: str, t0: float, form: LPForm) -> Result:
    status = highs_link.STATUS_MAP.get(start.status, _T.ERROR)
    if status == _T.OPTIMAL:  # HiGHS's point failed the feasibility check on the original model
        status = _T.ERROR
        msg = "HiGHS reported a solution that violates the original model beyond the tolerances"
    else:
        msg = f"no solution found (HiGHS: {start.status})"
    bound = None if start.dual_bound is None else model.user_objective(start.dual_bound)
    return Result(status=status, solution_status=SolutionStatus.NONE, backend=backend, best_bound=bound,
                  message=msg, times={"solve_s": time.time() - t0, "first_s": start.first_s},
                  stats={"first_status": start.status}, layout=form.layout)


def _result(model: MipModel, cfg: Config, start: Start, results: list[Any], backend: str, t0: float,
            budget: float, reference: float | None, workers: int, form: LPForm) -> Result:
    end = time.time() - t0
    best_x, best_obj = start.x, float(start.objective)
    errors = [r for r in results if not isinstance(r, WorkerResult)]
    done = [r for r in results if isinstance(r, WorkerResult)]
    for r in done:
        tol = 1e-9 * max(1.0, abs(best_obj))
        if r.objective < best_obj - tol and model.is_feasible(r.x):
            best_x, best_obj = r.x, r.objective
    if not model.is_feasible(best_x):  # pragma: no cover - every accepted point was checked already
        raise SolverError("balans: the best point violates the model (internal error)")
    first_obj = float(start.objective)
    assert best_obj <= first_obj + 1e-9 * max(1.0, abs(first_obj))

    # the global incumbent trace: the first incumbent, then each improvement of any worker
    events = [(t, o, "first", -1) for t, o in start.trace] or [(start.first_s, first_obj, "first", -1)]
    for r in done:
        events += [(t, o, op, r.worker) for t, o, op in zip(r.trace.inc_time, r.trace.inc_objective,
                                                           r.trace.inc_operator)]
    events.sort(key=lambda e: e[0])
    trace: list[tuple[float, float, str, int]] = []
    for e in events:
        if not trace or e[1] < trace[-1][1] - 1e-9 * max(1.0, abs(trace[-1][1])):
            trace.append(e)
    user = model.user_objective
    history: dict[str, list[Any]] = {
        "time": [e[0] for e in trace], "objective": [user(e[1]) for e in trace],
        "operator": [e[2] for e in trace], "worker": [e[3] for e in trace],
    }  # fmt: skip
    its = sorted((t, op, out, rw, user(ob), r.worker) for r in done for t, op, out, rw, ob in zip(
        r.trace.it_time, r.trace.it_operator, r.trace.it_outcome, r.trace.it_reward, r.trace.it_objective))
    for key, pos in (("iteration_time", 0), ("iteration_operator", 1), ("iteration_outcome", 2),
                     ("iteration_reward", 3), ("iteration_objective", 4), ("iteration_worker", 5)):
        history[key] = [it[pos] for it in its]

    objective = user(best_obj)
    bound = None if start.dual_bound is None else user(start.dual_bound)
    proven = start.proven_optimal or (
        start.dual_bound is not None and best_obj - start.dual_bound <= 1e-6 + 1e-9 * abs(best_obj))
    iterations = sum(r.iterations for r in done)
    stats: dict[str, Any] = {
        "first_objective": user(first_obj), "first_s": start.first_s, "lp_s": start.lp_s,
        "first_status": start.status, "workers": workers, "alns_iterations": iterations,
        "operators": [s.name for s in cfg.operators], "policy": cfg.policy, "acceptance": cfg.accept,
        "seed": cfg.seed, "stop_reasons": [r.stop_reason for r in done],
        "worker_start_s": [round(r.started, 3) for r in done],
    }  # fmt: skip
    dropped = {k: v for r in done for k, v in r.dropped.items()}
    if dropped:
        stats["dropped_operators"] = dropped
    if errors:
        stats["worker_errors"] = [f"{type(e).__name__}: {e}" for e in errors]
    counts: dict[str, list[float]] = {}
    for op, rw in zip(history["iteration_operator"], history["iteration_reward"]):
        counts.setdefault(op, []).append(rw)
    stats["operator_uses"] = {op: len(v) for op, v in counts.items()}
    stats["operator_mean_reward"] = {op: float(np.mean(v)) for op, v in counts.items()}
    if reference is not None:
        history["primal_gap"] = [primal_gap(o, reference) for o in history["objective"]]
        stats["reference"] = reference
        stats["primal_gap"] = primal_gap(objective, reference)
        stats["primal_integral"] = primal_integral(history["time"], history["objective"], reference, end)
    gap = None
    if bound is not None:
        gap = abs(objective - bound) / max(abs(objective), 1e-10)
    status = _T.OPTIMAL if proven else _T.TIME_LIMIT
    max_hit = not proven and bool(done) and all(r.stop_reason == "iteration_limit" for r in done)
    if max_hit:
        status = _T.ITERATION_LIMIT
    sol = SolutionStatus.OPTIMAL if proven else SolutionStatus.FEASIBLE
    msg = ("optimal (the incumbent meets HiGHS's bound)" if proven else
           "iteration limit" if max_hit else "time limit reached")
    res = Result(status=status, solution_status=sol, backend=backend, objective=objective, best_bound=bound,
                 gap=gap, x=np.array(best_x), iterations=iterations,
                 times={"solve_s": end}, stats=stats, message=msg, layout=form.layout)
    res.history = history
    return res
