"""The ipopt backend's declarations: IPOPT's statuses and the options schema (light to import)."""

from __future__ import annotations

from optdsl.backends import Option
from optdsl.results import TerminationStatus

_T = TerminationStatus

# IPOPT's ApplicationReturnStatus names -> why it stopped.
STATUS_MAP: dict[str, TerminationStatus] = {
    "Solve_Succeeded": _T.OPTIMAL,
    "Solved_To_Acceptable_Level": _T.OPTIMAL,
    "Infeasible_Problem_Detected": _T.INFEASIBLE,
    "Search_Direction_Becomes_Too_Small": _T.ERROR,
    "Diverging_Iterates": _T.UNBOUNDED,
    "User_Requested_Stop": _T.INTERRUPTED,
    "Feasible_Point_Found": _T.OPTIMAL,
    "Maximum_Iterations_Exceeded": _T.ITERATION_LIMIT,
    "Restoration_Failed": _T.ERROR,
    "Error_In_Step_Computation": _T.ERROR,
    "Maximum_CpuTime_Exceeded": _T.TIME_LIMIT,
    "Maximum_WallTime_Exceeded": _T.TIME_LIMIT,
    "Not_Enough_Degrees_Of_Freedom": _T.ERROR,
    "Invalid_Problem_Definition": _T.ERROR,
    "Invalid_Option": _T.ERROR,
    "Invalid_Number_Detected": _T.ERROR,
    "Unrecoverable_Exception": _T.ERROR,
    "NonIpopt_Exception_Thrown": _T.ERROR,
    "Insufficient_Memory": _T.ERROR,
    "Internal_Error": _T.ERROR,
}

# IPOPT's return codes (IpReturnCodes.h) -> names.
STATUS_CODES: dict[int, str] = {
    0: "Solve_Succeeded", 1: "Solved_To_Acceptable_Level", 2: "Infeasible_Problem_Detected",
    3: "Search_Direction_Becomes_Too_Small", 4: "Diverging_Iterates", 5: "User_Requested_Stop",
    6: "Feasible_Point_Found", -1: "Maximum_Iterations_Exceeded", -2: "Restoration_Failed",
    -3: "Error_In_Step_Computation", -4: "Maximum_CpuTime_Exceeded", -5: "Maximum_WallTime_Exceeded",
    -10: "Not_Enough_Degrees_Of_Freedom", -11: "Invalid_Problem_Definition", -12: "Invalid_Option",
    -13: "Invalid_Number_Detected", -100: "Unrecoverable_Exception", -101: "NonIpopt_Exception_Thrown",
    -102: "Insufficient_Memory", -199: "Internal_Error",
}  # fmt: skip

# The options most models need, typed; any other IPOPT option passes through to IPOPT, which
# refuses names it does not know (https://coin-or.github.io/Ipopt/OPTIONS.html). Defaults of None
# leave IPOPT's own default.
OPTIONS: dict[str, Option] = {
    "tol": Option(float, None, "relative convergence tolerance (IPOPT: 1e-8)"),
    "acceptable_tol": Option(float, None, "'acceptable' convergence tolerance (IPOPT: 1e-6)"),
    "constr_viol_tol": Option(float, None, "absolute tolerance on the constraint violation (IPOPT: 1e-4)"),
    "max_iter": Option(int, None, "maximum number of iterations (IPOPT: 3000)"),
    "print_level": Option(int, None, "output verbosity 0..12 (5 with --verbose, else 0)"),
    "mu_strategy": Option(str, None, "barrier update (IPOPT: monotone)", ("monotone", "adaptive")),
    "hessian_approximation": Option(str, "exact", "exact second derivatives or L-BFGS",
                                    ("exact", "limited-memory")),
    "linear_solver": Option(str, None, "the sparse symmetric indefinite solver (the bundled build: mumps)"),
    "nlp_scaling_method": Option(str, None, "none, user-scaling, gradient-based, equilibration-based"),
    "bound_push": Option(float, None, "how far the start is pushed inside the bounds (IPOPT: 1e-2)"),
    "max_wall_time": Option(float, None, "wall-clock limit in seconds (--time-limit sets it)"),
    "derivative_test": Option(str, None, "check the derivatives", ("none", "first-order", "second-order")),
}
