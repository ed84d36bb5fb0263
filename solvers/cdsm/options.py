"""Option schemas of the surrogate backends and their parsing (light: no numpy, no torch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optdsl.errors import SolverError, did_you_mean


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
