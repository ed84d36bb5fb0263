"""The `pyomo` backend: `--solver pyomo:NAME` lowers the model to a Pyomo ConcreteModel and
solves it with Pyomo's solver NAME (`pyomo:appsi_highs`, `pyomo:ipopt`, `pyomo:glpk`,
`pyomo:scip`, ...), options passed through, results mapped back.

The registry resolves `pyomo:NAME` by `PyomoBackend.for_solver(NAME)`, a subclass whose features
are what that solver takes (SOLVER_FEATURES; an unlisted solver is assumed to take everything
the bridge can express, and says otherwise itself). Light module: Pyomo is imported in `solve`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from optdsl.backends import Backend, SolveOptions
from optdsl.errors import SolverError
from optdsl.results import Result, TerminationStatus

_T = TerminationStatus
_ALL = frozenset({"linear", "integer", "quadratic", "nonlinear", "inequalities", "nonsmooth"})
_LP_MIP_QP = frozenset({"linear", "integer", "quadratic", "inequalities"})
_LP_MIP = frozenset({"linear", "integer", "inequalities"})
_NLP = frozenset({"linear", "quadratic", "nonlinear", "inequalities"})

# What common Pyomo solvers take (objective-only quadratics for the LP/MIP/QP solvers).
SOLVER_FEATURES: dict[str, frozenset[str]] = {
    "appsi_highs": _LP_MIP, "highs": _LP_MIP_QP,  # Pyomo's appsi HiGHS interface takes no quadratic
    "glpk": _LP_MIP,
    "cbc": _LP_MIP, "appsi_cbc": _LP_MIP,
    "gurobi": _LP_MIP_QP, "gurobi_direct": _LP_MIP_QP, "gurobi_persistent": _LP_MIP_QP, "appsi_gurobi": _LP_MIP_QP,
    "cplex": _LP_MIP_QP, "cplex_direct": _LP_MIP_QP, "appsi_cplex": _LP_MIP_QP,
    "xpress": _LP_MIP_QP, "xpress_direct": _LP_MIP_QP, "mosek": _LP_MIP_QP, "mosek_direct": _LP_MIP_QP,
    "ipopt": _NLP, "appsi_ipopt": _NLP, "ipopt_v2": _NLP, "cyipopt": _NLP, "conopt": _NLP, "knitroampl": _ALL,
    "scip": _ALL, "baron": _ALL, "couenne": _ALL, "bonmin": _ALL, "gams": _ALL,
}  # fmt: skip

# Pyomo's TerminationCondition names -> why the solver stopped.
from optdsl.solvers.pyomo_bridge.statuses import STATUS_MAP  # noqa: E402

# Solvers whose infeasible/unbounded verdicts are proofs (simplex or branch and bound on an LP/MIP).
_CERTIFYING = {"appsi_highs", "highs", "glpk", "cbc", "appsi_cbc", "gurobi", "gurobi_direct", "appsi_gurobi",
               "cplex", "cplex_direct", "appsi_cplex", "xpress", "xpress_direct", "mosek", "mosek_direct", "scip"}


class PyomoBackend(Backend):
    name: ClassVar[str] = "pyomo"
    description: ClassVar[str] = "any solver Pyomo reaches: --solver pyomo:NAME (appsi_highs, ipopt, glpk, scip, ...)"
    # the bare name takes nothing, so the chooser never picks the bridge by itself; pyomo:NAME does
    features: ClassVar[frozenset[str]] = frozenset()
    form: ClassVar[str] = "ir"
    requires: ClassVar[tuple[str, ...]] = ("pyomo",)
    priority: ClassVar[int] = 90
    passthrough: ClassVar[str | None] = "any option of the Pyomo solver, handed to it by name"
    status_map: ClassVar[dict[str, TerminationStatus]] = STATUS_MAP
    abilities: ClassVar[frozenset[str]] = frozenset({"duals"})
    solver_name: ClassVar[str] = ""

    @classmethod
    def for_solver(cls, solver: str) -> type[PyomoBackend]:
        """The backend class for `pyomo:SOLVER`."""
        if not solver:
            raise SolverError("name the Pyomo solver: --solver pyomo:NAME (e.g. pyomo:appsi_highs)")
        feats = SOLVER_FEATURES.get(solver, _ALL)
        abilities = cls.abilities | ({"certificates"} if solver in _CERTIFYING else set())
        return type(f"PyomoBackend_{solver}", (cls,), {
            "name": f"pyomo:{solver}", "solver_name": solver, "features": feats, "abilities": frozenset(abilities),
            "description": f"Pyomo's solver '{solver}' through the Pyomo bridge", "__module__": cls.__module__,
        })

    def solve(self, form: Any, options: SolveOptions) -> Result:
        from optdsl.solvers.pyomo_bridge.run import solve_pyomo

        if not self.solver_name:
            raise SolverError("name the Pyomo solver: --solver pyomo:NAME (e.g. pyomo:appsi_highs)")
        return solve_pyomo(form, self.solver_name, options, backend=self.name)
