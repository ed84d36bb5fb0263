"""Option schemas of the surrogate backends (light: no numpy, no torch at import)."""

from __future__ import annotations

from optdsl.backends import Option
from optdsl.results import TerminationStatus

COMMON: dict[str, Option] = {
    "max_evals": Option(int, 5000, "evaluation budget: distinct points at which Φ is evaluated"),
    "r0": Option(float, 1.0, "initial poll (and attack) radius, in scaled coordinates"),
    "r_min": Option(float, 1e-5, "cDSM stops once its poll radius is at most this"),
    "r_max": Option(float, 10.0, "largest poll and search radius"),
    "poll_batch": Option(int, 0, "poll points evaluated per batch (0: 1 on cpu, the whole poll set on cuda)"),
    "penalty": Option(float, 1000.0, "weight w of the squared ReLU penalty of the constraints"),
    "bounds": Option(str, "project", "variable bounds: project points onto the box, or penalize them",
                     ("project", "penalty")),
    "scaling": Option(str, "box", "search in x/scale with a finite box scaled to width 20, or in x",
                      ("box", "none")),
    "cache": Option(bool, True, "reuse the value of a point already evaluated"),
    "feas_tol": Option(float, 1e-6, "largest constraint violation of a point reported feasible"),
    "seed": Option(int, None, "random seed (default: the global --seed, else 0)"),
}

# why a search stops -> TerminationStatus. A radius at its minimum is a step-size stop of a
# heuristic, not a proof of optimality: it is reported as a limit, with a feasible solution.
STATUS_MAP = {
    "radius": TerminationStatus.ITERATION_LIMIT,
    "budget": TerminationStatus.ITERATION_LIMIT,
    "time": TerminationStatus.TIME_LIMIT,
}
