"""The instantiated model: index sets, param arrays, variable blocks, objective and constraint
blocks as array-valued expressions, and structure (lower-level blocks, acyclic, surrogates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optdsl.ir.expr import CURVATURE_NAMES, LINEAR, QUADRATIC, Expr
from optdsl.ir.labels import Domain


@dataclass
class ParamValue:
    name: str
    domain: Domain | None  # None for a scalar
    values: np.ndarray  # float (or object for symbolic), aligned with domain positions
    symbolic: bool = False


@dataclass
class VarBlock:
    name: str
    domain: Domain | None
    start: int
    size: int
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray  # bool per position
    init: np.ndarray | None = None
    level: str | None = None  # name of the `lower` block that owns it; None for the leader

    @property
    def scalar(self) -> bool:
        return self.domain is None


@dataclass
class ConBlock:
    name: str
    domain: Domain | None
    expr: Expr  # one row per member
    lower: np.ndarray
    upper: np.ndarray
    level: str | None = None

    @property
    def scalar(self) -> bool:
        return self.domain is None


@dataclass
class ObjectiveIR:
    name: str
    sense: str  # "min" or "max"
    expr: Expr  # one row
    level: str | None = None


@dataclass
class Structure:
    """A structure node: `acyclic` on a square variable block, or a surrogate declaration."""

    kind: str  # "acyclic", "surrogate"
    name: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelIR:
    sets: dict[str, Domain] = field(default_factory=dict)
    params: dict[str, ParamValue] = field(default_factory=dict)
    variables: list[VarBlock] = field(default_factory=list)
    constraints: list[ConBlock] = field(default_factory=list)
    objectives: list[ObjectiveIR] = field(default_factory=list)
    structures: list[Structure] = field(default_factory=list)
    # piecewise-linear terms of variables (optdsl.ir.piecewise.PiecewiseTerm): their value
    # columns follow the num_vars columns of the model's variables
    piecewise: list[Any] = field(default_factory=list)
    lower_blocks: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    option_spans: dict[str, Any] = field(default_factory=dict, repr=False)  # option name -> Span of its statement
    decl_spans: dict[str, Any] = field(default_factory=dict, repr=False)  # var/constraint/objective -> Span
    name: str = "model"
    script: list[Any] = field(default_factory=list)  # display/printf/for statements run after solve
    evaluator: Any = field(default=None, repr=False)  # evaluates expressions over this model's data
    warned: set[str] = field(default_factory=set, repr=False)  # warnings already given for this model
    declare_late: Any = field(default=None, repr=False)  # runs a declaration that stands after `solve;`

    @property
    def num_vars(self) -> int:
        return sum(v.size for v in self.variables)

    @property
    def num_piecewise(self) -> int:
        """Value columns of piecewise-linear terms (after the num_vars columns)."""
        return sum(t.n for t in self.piecewise)

    def var(self, name: str) -> VarBlock:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(name)

    def constraint(self, name: str) -> ConBlock:
        for c in self.constraints:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def objective(self) -> ObjectiveIR | None:
        upper = [o for o in self.objectives if o.level is None]
        return upper[0] if upper else None

    # ------------------------------------------------------------------ classification
    def features(self) -> set[str]:
        """The features a backend must handle to solve this model."""
        feats = {"linear"}
        if any(np.any(v.integer) for v in self.variables):
            feats.add("integer")
        if self.lower_blocks:
            feats.add("bilevel")
        if self.piecewise:
            feats.add("piecewise")
        for s in self.structures:
            if s.kind == "acyclic":
                feats.add("acyclic")
            if s.kind == "surrogate":
                feats.add("surrogate")
        obj = self.objective
        exprs = [c.expr for c in self.constraints] + ([obj.expr] if obj else [])
        nonlinear_cons = any(c.expr.curvature > LINEAR for c in self.constraints)
        if obj is not None and obj.expr.curvature == QUADRATIC:
            feats.add("quadratic")
        if nonlinear_cons or any(e.curvature > QUADRATIC for e in exprs):
            feats.add("nonlinear")
            if any(e.curvature > 3 for e in exprs):
                feats.add("nonsmooth")
        if self.has_inequalities():
            feats.add("inequalities")
        return feats

    def has_inequalities(self) -> bool:
        for c in self.constraints:
            if np.any(c.lower != c.upper):
                return True
        for v in self.variables:
            if np.any(np.isfinite(v.lower)) or np.any(np.isfinite(v.upper)):
                return True
        return False

    def problem_class(self) -> str:
        f = self.features()
        if "piecewise" in f:  # what the piecewise_linear pass makes of it is decided per term
            return self._smooth_class(f - {"piecewise"}) + " with piecewise-linear terms"
        return self._smooth_class(f)

    def _smooth_class(self, f: set[str]) -> str:
        if "bilevel" in f:
            return "bilevel"
        if "acyclic" in f:
            return "DAG"
        if "surrogate" in f:
            return "surrogate"
        if "nonlinear" in f:
            return "NLP" if "inequalities" in f or "integer" in f else "NLP with equalities only"
        if "quadratic" in f:
            return "MIQP" if "integer" in f else "QP"
        return "MILP" if "integer" in f else "LP"

    def curvature_name(self, e: Expr) -> str:
        return CURVATURE_NAMES[e.curvature]
