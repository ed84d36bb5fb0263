"""What the surrogate backends share: option schemas and parsing, the set-up of the penalized
problem and its evaluator, and the Result."""

from __future__ import annotations

from typing import Any

import numpy as np

from optdsl.backends import SolveOptions
from optdsl.errors import SolverError
from optdsl.lower.forms import SurrogateForm
from optdsl.lower.surrogate_penalty import SurrogatePenalty
from optdsl.results import Result, SolutionStatus

from .evaluator import Evaluator, box_scale
from .options import STATUS_MAP


def setup(form: Any, options: SolveOptions, opts: dict[str, Any]) -> tuple[Evaluator, np.random.Generator, str]:
    """Penalize (the surrogate_penalty pass), scale, and build the evaluator and the generator."""
    if not isinstance(form, SurrogateForm):
        raise SolverError("the surrogate backends take a surrogate form")
    for key in ("max_evals",):
        if opts[key] < 1:
            raise SolverError(f"option {key} must be at least 1")
    if not 0 < opts["r_min"] <= opts["r0"] <= opts["r_max"]:
        raise SolverError("radii must satisfy 0 < r_min <= r0 <= r_max")
    device = str(options.device or "cpu")
    if device != "cpu":  # the networks run where the search asks (values here, the attack's graph too)
        from optdsl.eval.torch_eval import resolve_device

        dev = resolve_device(device)
        for s in form.surrogates.values():
            s.to(dev)
    problem, _ = SurrogatePenalty(opts["penalty"], opts["bounds"]).apply(form)
    scale = box_scale(form.col_lower, form.col_upper, opts["scaling"])
    ev = Evaluator(problem, scale, opts["max_evals"], options.time_limit, project=opts["bounds"] == "project",
                   cache=opts["cache"], feas_tol=opts["feas_tol"], verbose=options.verbose)
    seed = opts.get("seed")
    seed = seed if seed is not None else (options.seed or 0)
    return ev, np.random.default_rng(seed), device


def poll_batch(opts: dict[str, Any], device: str, full: int) -> int:
    if opts["poll_batch"] > 0:
        return opts["poll_batch"]
    return full if device.startswith("cuda") else 1


def make_result(ev: Evaluator, backend: str, reason: str, iterations: int, extra: dict[str, Any]) -> Result:
    """The best point: the best f̃ when it is feasible, else the best feasible point seen, else
    the best f̃ (no solution). A heuristic never reports `optimal`."""
    form = ev.problem.form
    if ev.best_u is not None and ev.best_violation <= ev.feas_tol:
        u, obj, sol = ev.best_u, ev.best_objective, SolutionStatus.FEASIBLE
    elif ev.feasible_u is not None:
        u, obj, sol = ev.feasible_u, ev.feasible_objective, SolutionStatus.FEASIBLE
    else:
        u, obj, sol = ev.best_u, ev.best_objective, SolutionStatus.NONE
    status = STATUS_MAP[reason]
    x = None if u is None else u * ev.scale
    messages = {"radius": "the search radii reached their minimum", "budget": "evaluation budget spent",
                "time": "time limit reached"}
    stats = {"phi_evaluations": ev.evals, "cache_hits": ev.cache_hits, "batches": ev.batches,
             "attack_forward": ev.attack_forward, "attack_backward": ev.attack_backward,
             "best_ftilde": ev.best_f, "best_violation": ev.best_violation, "eval_time_s": ev.eval_time,
             "surrogate_calls": len(form.calls), "outputs": form.m}
    stats.update(extra)
    res = Result(status=status, solution_status=sol, backend=backend, objective=None if u is None else float(obj),
                 x=x, iterations=iterations, times={"solve_s": ev.elapsed}, stats=stats,
                 message=messages[reason] + ("" if sol != SolutionStatus.NONE else "; no feasible point found"),
                 layout=form.layout)
    res.history = {k: list(v) for k, v in ev.history.items()}  # best f̃ against evaluations and time
    return res
