"""A backend that lives outside optdsl, as a third-party plug-in would: an LP solver over
scipy's `linprog`, registered through the `optdsl.backends` entry-point group by the tests."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from optdsl.backends import Backend, Option, SolveOptions
from optdsl.results import Result, SolutionStatus, TerminationStatus


class ToyLinprog(Backend):
    name: ClassVar[str] = "toy_linprog"
    description: ClassVar[str] = "scipy.optimize.linprog, as an outside plug-in"
    features: ClassVar[frozenset[str]] = frozenset({"linear", "inequalities"})
    form: ClassVar[str] = "lp"
    requires: ClassVar[tuple[str, ...]] = ("scipy",)
    priority: ClassVar[int] = 90
    options: ClassVar[dict[str, Option]] = {
        "method": Option(str, "highs-ds", "linprog method", choices=("highs-ds", "highs-ipm")),
    }
    status_map: ClassVar[dict[str, TerminationStatus]] = {
        "0": TerminationStatus.OPTIMAL, "1": TerminationStatus.ITERATION_LIMIT,
        "2": TerminationStatus.INFEASIBLE, "3": TerminationStatus.UNBOUNDED,
    }
    abilities: ClassVar[frozenset[str]] = frozenset({"certificates"})

    def solve(self, form, options: SolveOptions) -> Result:
        import scipy.sparse as sp
        from scipy.optimize import linprog

        sign = -1.0 if form.sense == "max" else 1.0
        A = sp.csr_matrix(form.A)
        lo, hi = np.asarray(form.row_lower), np.asarray(form.row_upper)
        eq = lo == hi
        up, dn = np.isfinite(hi) & ~eq, np.isfinite(lo) & ~eq
        A_ub = sp.vstack([A[up], -A[dn]]) if (up.any() or dn.any()) else None
        b_ub = np.concatenate([hi[up], -lo[dn]]) if A_ub is not None else None
        res = linprog(sign * form.c, A_ub=A_ub, b_ub=b_ub, A_eq=A[eq] if eq.any() else None,
                      b_eq=lo[eq] if eq.any() else None,
                      bounds=np.column_stack([form.col_lower, form.col_upper]),
                      method=options.backend_options["method"])
        status = self.status_map.get(str(res.status), TerminationStatus.ERROR)
        ok = status == TerminationStatus.OPTIMAL
        return Result(status=status, solution_status=SolutionStatus.OPTIMAL if ok else SolutionStatus.NONE,
                      backend=self.name, objective=sign * res.fun + form.c0 if ok else None,
                      x=res.x if ok else None, message=res.message)
