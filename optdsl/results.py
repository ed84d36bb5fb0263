"""Solve results: why the solver stopped, apart from what the solution is.

Sign convention for duals (documented in docs/results.md): a row dual is the derivative of the
optimal objective with respect to the row's bound (the shadow price), as HiGHS reports it for
the user's sense; a reduced cost is the derivative with respect to the variable's active bound.
For `minimize`, a binding `<=` row has a dual <= 0 and a binding `>=` row a dual >= 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from optdsl.lower.forms import Block, Layout


class TerminationStatus(str, Enum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    TIME_LIMIT = "time_limit"
    ITERATION_LIMIT = "iteration_limit"
    INTERRUPTED = "interrupted"
    ERROR = "error"


class SolutionStatus(str, Enum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    LOCALLY_OPTIMAL = "locally_optimal"
    NONE = "none"


@dataclass
class Result:
    """What a backend returns, mapped back to the model's names by `layout`."""

    status: TerminationStatus
    solution_status: SolutionStatus
    backend: str
    objective: float | None = None
    best_bound: float | None = None
    gap: float | None = None
    x: np.ndarray | None = None  # flat primal values
    row_duals: np.ndarray | None = None
    reduced_costs: np.ndarray | None = None
    iterations: int | None = None
    times: dict[str, float] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    layout: Layout | None = None
    history: dict[str, list[Any]] = field(default_factory=dict)  # per-iteration traces (numbers or names)

    @property
    def has_solution(self) -> bool:
        return self.solution_status != SolutionStatus.NONE and self.x is not None

    # --- values by component -------------------------------------------------------------
    def _block(self, blocks: list[Block], name: str) -> Block:
        for b in blocks:
            if b.name == name:
                return b
        raise KeyError(f"no component named '{name}' in this result")

    def _by_name(self, blocks: list[Block], flat: np.ndarray | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if flat is None:
            return out
        for b in blocks:
            vals = flat[b.start : b.start + b.size]
            if b.scalar:
                out[b.name] = float(vals[0]) if b.size else None
            else:
                out[b.name] = {tuple(k): float(v) for k, v in zip(b.index_tuples(), vals)}
        return out

    @property
    def variables(self) -> dict[str, Any]:
        """{name: value} for scalars and {name: {index tuple: value}} for indexed variables."""
        return self._by_name(self.layout.variables if self.layout else [], self.x)

    @property
    def duals(self) -> dict[str, Any]:
        return self._by_name(self.layout.constraints if self.layout else [], self.row_duals)

    @property
    def reduced(self) -> dict[str, Any]:
        return self._by_name(self.layout.variables if self.layout else [], self.reduced_costs)

    def value(self, name: str, *index) -> float:
        """One value: `result.value("x", "Seattle", "Chicago")` or `result.value("z")`."""
        if self.x is None:
            raise ValueError(f"no solution available (status {self.status.value})")
        b = self._block(self.layout.variables if self.layout else [], name)
        if b.scalar:
            return float(self.x[b.start])
        keys = b.index_tuples()
        want = tuple(index)
        for pos, k in enumerate(keys):
            if tuple(k) == want or tuple(map(str, k)) == tuple(map(str, want)):
                return float(self.x[b.start + pos])
        raise KeyError(f"{name}{list(index)} is not an index of '{name}'")

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of `optdsl solve --output json`."""

        def num(v):  # NaN/inf stay: optdsl.report.strict_json writes them as null with a note
            return v

        def keyed(d: dict[str, Any]) -> dict[str, Any]:
            out = {}
            for name, v in d.items():
                if isinstance(v, dict):
                    out[name] = {",".join(_lab(x) for x in k): num(val) for k, val in v.items()}
                else:
                    out[name] = num(v)
            return out

        return {
            "status": self.status.value,
            "solution_status": self.solution_status.value,
            "objective": num(self.objective),
            "best_bound": num(self.best_bound),
            "gap": num(self.gap),
            "backend": self.backend,
            "message": self.message,
            "variables": keyed(self.variables) if self.has_solution else {},
            "duals": keyed(self.duals) if self.row_duals is not None else {},
            "reduced_costs": keyed(self.reduced) if self.reduced_costs is not None else {},
            "stats": {"iterations": self.iterations, **self.times, **self.stats},
            "history": {k: [v if isinstance(v, str) else num(float(v)) for v in vals]
                        for k, vals in self.history.items()},
        }


def _lab(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)
