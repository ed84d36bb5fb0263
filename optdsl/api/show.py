"""`optdsl check`/`show` summaries: components, sizes, nonzeros, problem class."""

from __future__ import annotations

from typing import Any


def summary(model: Any) -> str:
    ir = model.ir
    lines = [f"model {model.name}: {ir.problem_class()}"]
    for name, dom in ir.sets.items():
        lines.append(f"  set {name:<20} {dom.n} members" + (f" (dimen {dom.dimen})" if dom.dimen > 1 else ""))
    for name, p in ir.params.items():
        size = 1 if p.domain is None else p.domain.n
        lines.append(f"  param {name:<18} {size} value{'s' if size != 1 else ''}")
    for v in ir.variables:
        kind = " integer" if v.integer.any() else ""
        level = f" (follower {v.level})" if v.level else ""
        lines.append(f"  var {v.name:<20} {v.size}{kind}{level}")
    for o in ir.objectives:
        lines.append(f"  {'minimize' if o.sense == 'min' else 'maximize'} {o.name:<15} {len(o.expr.vals)} terms"
                     f" ({ir.curvature_name(o.expr)})")
    for c in ir.constraints:
        lines.append(f"  s.t. {c.name:<19} {c.expr.n} rows, {len(c.expr.vals)} nonzeros"
                     f" ({ir.curvature_name(c.expr)})")
    for s in ir.structures:
        lines.append(f"  {s.kind} {s.name}")
    nnz = sum(len(c.expr.vals) for c in ir.constraints)
    lines.append(f"total: {ir.num_vars} variables, {sum(c.expr.n for c in ir.constraints)} constraints, "
                 f"{nnz} nonzeros")
    return "\n".join(lines)
