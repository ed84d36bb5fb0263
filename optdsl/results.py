"""Solve results: why the solver stopped, apart from what the solution is.

Sign convention for duals (documented in docs/results.md): a row dual is the derivative of the
optimal objective with respect to the row's bound (the shadow price), as HiGHS reports it for
the user's sense; a reduced cost is the derivative with respect to the variable's active bound.
For `minimize`, a binding `<=` row has a dual <= 0 and a binding `>=` row a dual >= 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from optdsl.layout import Block, Layout
from optdsl.result_arrays import IndexedValues, LabelledValues, find_position, labelled

__all__ = ["IndexedValues", "LabelledValues", "Result", "SolutionStatus", "TerminationStatus", "clean_objective"]


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

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _CLEANED and value is not None:
            value = clean_objective(value)
        object.__setattr__(self, name, value)

    @property
    def has_solution(self) -> bool:
        return self.solution_status != SolutionStatus.NONE and self.x is not None

    # --- values by component -------------------------------------------------------------
    def _block(self, blocks: list[Block], name: str) -> Block:
        for b in blocks:
            if b.name == name:
                return b
        known = ", ".join(b.name for b in blocks) or "none"
        raise KeyError(f"no component named '{name}' in this result (components: {known})")

    def _by_name(self, blocks: list[Block], flat: np.ndarray | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if flat is None:
            return out
        for b in blocks:
            vals = flat[b.start : b.start + b.size]
            if b.scalar:
                out[b.name] = float(vals[0]) if b.size else None
            else:
                out[b.name] = IndexedValues(zip(map(tuple, b.index_tuples()), vals.tolist()))
        return out

    @property
    def variables(self) -> dict[str, Any]:
        """{name: value} for scalars and {name: {index tuple: value}} for indexed variables; a
        variable over one set is also looked up by the bare label (`r.variables["take"][2]`)."""
        return self._by_name(self.layout.variables if self.layout else [], self.x)

    @property
    def duals(self) -> dict[str, Any]:
        return self._by_name(self.layout.constraints if self.layout else [], self.row_duals)

    @property
    def reduced(self) -> dict[str, Any]:
        return self._by_name(self.layout.variables if self.layout else [], self.reduced_costs)

    def value(self, name: str, *index: Any) -> Any:
        """A variable's values. `value("x", "Seattle", "Chicago")` and `value("z")` (a scalar) give
        one float; `value("x")` of an indexed variable gives all of them as a labelled array: a
        pandas Series (MultiIndex over the index sets) when pandas is installed, else a
        `LabelledValues` of numpy arrays."""
        if self.x is None:
            raise ValueError(f"no solution available (status {self.status.value})")
        return self._pick(self.layout.variables if self.layout else [], self.x, name, index, "variable")

    def dual(self, name: str, *index: Any) -> Any:
        """A constraint's duals (shadow prices), as `value` gives a variable's values."""
        if self.row_duals is None:
            raise ValueError(f"no duals available from backend '{self.backend}' (status {self.status.value})")
        return self._pick(self.layout.constraints if self.layout else [], self.row_duals, name, index, "constraint")

    def reduced_cost(self, name: str, *index: Any) -> Any:
        """A variable's reduced costs, as `value` gives its values."""
        if self.reduced_costs is None:
            raise ValueError(f"no reduced costs available from backend '{self.backend}' "
                             f"(status {self.status.value})")
        return self._pick(self.layout.variables if self.layout else [], self.reduced_costs, name, index, "variable")

    def _pick(self, blocks: list[Block], flat: np.ndarray, name: str, index: tuple, kind: str) -> Any:
        b = self._block(blocks, name)
        if b.scalar:
            if index:
                raise KeyError(f"{kind} '{name}' is not indexed; write value('{name}')")
            return float(flat[b.start])
        vals = flat[b.start : b.start + b.size]
        if not index:
            return labelled(b, vals)
        if len(index) == 1 and isinstance(index[0], tuple):
            index = index[0]
        pos = find_position(b, index)
        if pos < 0:
            raise KeyError(f"{name}{list(index)} is not an index of '{name}'")
        return float(vals[pos])

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


# Objective values are cleaned of floating-point noise: a double carries 15-17 significant digits,
# and the last one or two depend on the order in which the solver summed the terms (153.675 comes
# back as 153.67499999999998). Rounding to 15 significant digits removes that noise and nothing
# the solver's tolerances (1e-7 and up) could have made meaningful. x, duals and reduced costs are
# returned as the solver gave them.
_CLEANED = ("objective", "best_bound")


def clean_objective(v: Any) -> Any:
    """`v` rounded to 15 significant digits (finite floats only; anything else unchanged)."""
    if isinstance(v, (float, np.floating)) and math.isfinite(v):
        return float(f"{float(v):.15g}")
    return v


def _lab(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)
