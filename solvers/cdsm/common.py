"""What the surrogate backends share: option schemas and parsing, the set-up of the penalized
problem and its evaluator, and the Result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optdsl.backends import SolveOptions
from optdsl.errors import SolverError, did_you_mean
from optdsl.lower.forms import SurrogateForm
from optdsl.lower.surrogate_penalty import SurrogatePenalty
from optdsl.results import Result, SolutionStatus, TerminationStatus

from .evaluator import Evaluator, box_scale


@dataclass(frozen=True)
class Spec:
    type: type
    default: Any
    help: str
    choices: tuple | None = None


COMMON: dict[str, Spec] = {
    "max_evals": Spec(int, 5000, "evaluation budget: distinct points at which Φ is evaluated"),
    "r0": Spec(float, 1.0, "initial poll radius (scaled coordinates)"),
    "r_min": Spec(float, 1e-5, "the search stops once the poll radius is at most this"),
    "r_max": Spec(float, 10.0, "largest poll and search radius"),
    "poll_batch": Spec(int, 0, "poll points evaluated per batch (0: 1 on cpu, the whole poll set on cuda)"),
    "penalty": Spec(float, 1000.0, "weight w of the squared ReLU penalty of the constraints"),
    "bounds": Spec(str, "project", "variable bounds: project points onto the box, or penalize",
                   ("project", "penalty")),
    "scaling": Spec(str, "box", "search in x/scale with a finite box scaled to width 20, or in x",
                    ("box", "none")),
    "cache": Spec(bool, True, "reuse the value of a point already evaluated"),
    "feas_tol": Spec(float, 1e-6, "largest constraint violation of a point reported feasible"),
    "seed": Spec(int, 0, "random seed (overrides the global seed)"),
}


def parse(specs: dict[str, Spec], given: dict[str, Any], backend: str) -> dict[str, Any]:
    """Options with defaults filled in and strings converted; unknown keys refused."""
    out = {k: s.default for k, s in specs.items()}
    for key, value in (given or {}).items():
        if key not in specs:
            raise SolverError(f"unknown option '{key}' for {backend}", hint=did_you_mean(key, specs)
                              or "known options: " + ", ".join(sorted(specs)))
        spec = specs[key]
        try:
            if spec.type is bool and isinstance(value, str):
                low = value.strip().lower()
                if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(value)
                v: Any = low in ("1", "true", "yes", "on")
            else:
                v = spec.type(float(value)) if spec.type is int and isinstance(value, str) else spec.type(value)
        except (TypeError, ValueError) as exc:
            raise SolverError(f"option {backend}.{key} takes a {spec.type.__name__}, got {value!r}") from exc
        if spec.choices and v not in spec.choices:
            raise SolverError(f"option {backend}.{key} is one of {', '.join(spec.choices)}, got {v!r}")
        out[key] = v
    return out


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
    problem, _ = SurrogatePenalty(opts["penalty"], opts["bounds"]).apply(form)
    scale = box_scale(form.col_lower, form.col_upper, opts["scaling"])
    ev = Evaluator(problem, scale, opts["max_evals"], options.time_limit, project=opts["bounds"] == "project",
                   cache=opts["cache"], feas_tol=opts["feas_tol"], verbose=options.verbose)
    seed = opts["seed"] if "seed" in (options.backend_options or {}) else (options.seed or 0)
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
    status = {"radius": _converged(), "budget": TerminationStatus.ITERATION_LIMIT,
              "time": TerminationStatus.TIME_LIMIT}[reason]
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
    history = {k: list(v) for k, v in ev.history.items()}
    if "history" in Result.__dataclass_fields__:
        res.history = history
    else:  # older Result without the field: keep it with the statistics
        res.stats["history"] = history
    return res


def _converged() -> TerminationStatus:
    # the poll radius at its minimum: a step-size stop, not a proof of optimality
    for name in ("CONVERGED", "STALLED", "STEP_LIMIT"):
        if hasattr(TerminationStatus, name):
            return getattr(TerminationStatus, name)
    return TerminationStatus.ITERATION_LIMIT
