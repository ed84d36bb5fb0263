"""Solver termination names, as Pyomo reports them, mapped to optdsl's statuses."""

from __future__ import annotations

from optdsl.results import TerminationStatus

_T = TerminationStatus

STATUS_MAP: dict[str, TerminationStatus] = {
    "optimal": _T.OPTIMAL, "globallyOptimal": _T.OPTIMAL, "locallyOptimal": _T.OPTIMAL,
    "feasible": _T.INTERRUPTED, "infeasible": _T.INFEASIBLE, "invalidProblem": _T.ERROR,
    "unbounded": _T.UNBOUNDED, "infeasibleOrUnbounded": _T.INFEASIBLE_OR_UNBOUNDED,
    "maxTimeLimit": _T.TIME_LIMIT, "maxIterations": _T.ITERATION_LIMIT,
    "maxEvaluations": _T.ITERATION_LIMIT, "minFunctionValue": _T.INTERRUPTED, "minStepLength": _T.ERROR,
    "maxSolutions": _T.ITERATION_LIMIT, "maxNodes": _T.ITERATION_LIMIT, "userInterrupt": _T.INTERRUPTED,
    "resourceInterrupt": _T.INTERRUPTED, "licensingProblems": _T.ERROR, "solverFailure": _T.ERROR,
    "internalSolverError": _T.ERROR, "error": _T.ERROR, "noSolution": _T.ERROR, "other": _T.ERROR,
    "unknown": _T.ERROR, "intermediateNonInteger": _T.INTERRUPTED, "objectiveLimit": _T.INTERRUPTED,
    "interrupted": _T.INTERRUPTED,
}  # fmt: skip

