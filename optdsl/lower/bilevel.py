"""Lowering of a model with a `lower` block to BilevelForm.

The leader's objective F and constraints (level None) become `upper`, the follower's objective f
and constraints (the block's level) become `lower`; both are NLPForms over all variables z, so a
backend may differentiate either level in x and y alike. Each level's form is a `LevelForm`: an
NLPForm that also keeps the IR objective and constraint blocks it came from, so that a backend can
compile its own evaluator (torch, batched) or read polynomial coefficients (the KKT pass).

Refused, with the structure named: several `lower` blocks, a missing objective at either level,
integer variables, acyclicity or surrogate structures.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from optdsl.errors import SolverError
from optdsl.ir.model import ConBlock, ModelIR, ObjectiveIR
from optdsl.lower.forms import BilevelForm, NLPForm
from optdsl.lower.lp import layout_of


@dataclass
class LevelForm(NLPForm):
    """An NLPForm of one level plus the IR blocks it was lowered from (rows in the same order)."""

    objective: ObjectiveIR | None = None
    blocks: list[ConBlock] = field(default_factory=list)

    @property
    def objective_sign(self) -> float:
        """+1 for minimize, -1 for maximize: sign * objective is minimized."""
        return -1.0 if self.objective is not None and self.objective.sense == "max" else 1.0


def _level_form(ir: ModelIR, objective: ObjectiveIR, blocks: list[ConBlock]) -> LevelForm:
    from optdsl.lower.nlp import to_nlpform

    sub = replace(ir, objectives=[replace(objective, level=None)], constraints=list(blocks), lower_blocks=[])
    nlp = to_nlpform(sub, device="cpu")
    fields = {k: getattr(nlp, k) for k in NLPForm.__dataclass_fields__}
    return LevelForm(**fields, objective=objective, blocks=list(blocks))


def _positions(ir: ModelIR, level: str | None) -> np.ndarray:
    parts = [np.arange(v.start, v.start + v.size, dtype=np.int64) for v in ir.variables if v.level == level]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def to_bilevel_form(ir: ModelIR, opts: Any = None) -> BilevelForm:
    """The BilevelForm of `ir` (a model with exactly one `lower` block). `opts` (SolveOptions) is
    accepted for the lowering interface; the forms' oracles run on numpy (backends compile their
    own device code from the kept IR blocks)."""
    if not ir.lower_blocks:
        raise SolverError("the model has no `lower` block, so it is not a bilevel problem",
                          hint="a bilevel backend needs `lower NAME { var ...; minimize ...; }`")
    if len(ir.lower_blocks) > 1:
        raise SolverError(
            f"the model has {len(ir.lower_blocks)} lower blocks ({', '.join(ir.lower_blocks)}); "
            "the bilevel lowering takes one follower",
            hint="merge the followers into one `lower` block if they form one problem",
        )
    follower = ir.lower_blocks[0]
    upper_obj = ir.objective
    if upper_obj is None:
        raise SolverError("the bilevel model has no leader objective (a minimize/maximize outside the lower block)")
    lower_objs = [o for o in ir.objectives if o.level == follower]
    if len(lower_objs) != 1:
        raise SolverError(f"lower block '{follower}' must have exactly one objective, it has {len(lower_objs)}")
    for v in ir.variables:
        if np.any(v.integer):
            raise SolverError(f"variable '{v.name}' is integer; the bilevel lowering takes continuous variables",
                              hint="relax the integrality, or use a MIP formulation of the bilevel problem")
    for s in ir.structures:
        raise SolverError(f"the bilevel lowering does not take the '{s.kind}' structure '{s.name}'")
    others = [c.name for c in ir.constraints if c.level not in (None, follower)]
    if others:
        raise SolverError(f"constraints {', '.join(others)} belong to no known level")
    for o in ir.objectives:
        if o.expr.n != 1:
            raise SolverError(f"objective '{o.name}' has {o.expr.n} rows; it must be a scalar")
    leader_idx = _positions(ir, None)
    follower_idx = _positions(ir, follower)
    if follower_idx.size == 0:
        raise SolverError(f"lower block '{follower}' declares no variables")
    upper = _level_form(ir, upper_obj, [c for c in ir.constraints if c.level is None])
    lower = _level_form(ir, lower_objs[0], [c for c in ir.constraints if c.level == follower])
    layout = layout_of(ir)
    layout.objective_name = upper_obj.name
    return BilevelForm(
        upper=upper, lower=lower, leader_idx=leader_idx, follower_idx=follower_idx,
        col_lower=np.asarray(upper.col_lower, dtype=np.float64).copy(),
        col_upper=np.asarray(upper.col_upper, dtype=np.float64).copy(),
        x0=np.asarray(upper.x0, dtype=np.float64).copy(), layout=layout, follower=follower,
    )
