"""The HiGHS backend on hand-built LPForms with known answers."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from optdsl.solvers.highs.backend import STATUS_MAP, HighsBackend, _convert, to_highs

from optdsl import backends
from optdsl.backends import SolveOptions
from optdsl.errors import SolverError
from optdsl.lower.forms import Block, Layout, LPForm
from optdsl.results import SolutionStatus, TerminationStatus

pytest.importorskip("highspy")

INF = np.inf
T = TerminationStatus


def solve(form: LPForm, **kw) -> object:
    return HighsBackend().solve(form, SolveOptions(**kw))


# --- models ------------------------------------------------------------------------------------

SOURCES = ["Seattle", "San-Diego"]
SINKS = ["New-York", "Chicago", "Topeka"]


def transportation(sense: str = "min") -> LPForm:
    """GMPL's transportation LP (LANGUAGE.md §6): x[i,j] flat in row-major order over I×J,
    rows supply[i] (<= a) then demand[j] (>= b)."""
    a = np.array([350.0, 600.0])
    b = np.array([325.0, 300.0, 275.0])
    d = np.array([[2.5, 1.7, 1.8], [2.5, 1.8, 1.4]])
    c = (90 * d / 1000).ravel()
    A = sp.vstack([sp.kron(sp.eye(2), np.ones((1, 3))), sp.kron(np.ones((1, 2)), sp.eye(3))]).tocsr()
    layout = Layout(
        variables=[Block("x", 0, 6, keys=lambda: [(i, j) for i in SOURCES for j in SINKS])],
        constraints=[
            Block("supply", 0, 2, keys=lambda: [(i,) for i in SOURCES]),
            Block("demand", 2, 3, keys=lambda: [(j,) for j in SINKS]),
        ],
        objective_name="cost",
    )
    return LPForm(
        c=c if sense == "min" else -c,
        A=A,
        row_lower=np.r_[np.full(2, -INF), b],
        row_upper=np.r_[a, np.full(3, INF)],
        col_lower=np.zeros(6),
        col_upper=np.full(6, INF),
        sense=sense,
        layout=layout,
    )


def knapsack() -> LPForm:
    """LANGUAGE.md §6: maximize value, weight <= 11; optimum 15 with items 2, 3, 4."""
    return LPForm(
        c=np.array([8.0, 6, 4, 5]),
        A=sp.csr_matrix(np.array([[5.0, 4, 3, 4]])),
        row_lower=np.array([-INF]),
        row_upper=np.array([11.0]),
        col_lower=np.zeros(4),
        col_upper=np.ones(4),
        sense="max",
        integrality=np.ones(4, dtype=bool),
        layout=Layout(variables=[Block("take", 0, 4, keys=lambda: [(i,) for i in range(1, 5)])]),
    )


def constrained_qp() -> LPForm:
    """min (x1-1)^2 + (x2-2.5)^2 s.t. three linear rows, x >= 0 (scipy's SLSQP example).
    By hand: (1, 2.5) violates only x1 - 2 x2 >= -2; its projection onto that line is
    (1, 2.5) - (2/5)(-1, 2) = (1.4, 1.7), feasible for the others; objective 0.16 + 0.64 = 0.8."""
    return LPForm(
        c=np.array([-2.0, -5.0]),
        c0=7.25,
        Q=sp.csc_matrix(2 * np.eye(2)),
        A=sp.csr_matrix(np.array([[1.0, -2], [-1, -2], [-1, 2]])),
        row_lower=np.array([-2.0, -6, -2]),
        row_upper=np.full(3, INF),
        col_lower=np.zeros(2),
        col_upper=np.full(2, INF),
    )


def markshare(m: int = 5, n: int = 40, seed: int = 0) -> LPForm:
    """A market-split MIP (Cornuéjols–Dawande): tiny and notoriously hard for branch and bound."""
    rng = np.random.default_rng(seed)
    W = rng.integers(0, 100, size=(m, n)).astype(float)
    rhs = np.floor(W.sum(axis=1) / 2)
    A = sp.hstack([sp.csr_matrix(W), sp.eye(m), -sp.eye(m)]).tocsr()
    N = n + 2 * m
    return LPForm(
        c=np.r_[np.zeros(n), np.ones(2 * m)],
        A=A,
        row_lower=rhs,
        row_upper=rhs,
        col_lower=np.zeros(N),
        col_upper=np.r_[np.ones(n), np.full(2 * m, INF)],
        integrality=np.r_[np.ones(n, dtype=bool), np.zeros(2 * m, dtype=bool)],
    )


def one_var(c: float, lo: float, hi: float, row_lo: float, row_hi: float, integer: bool = False) -> LPForm:
    return LPForm(
        c=np.array([c]),
        A=sp.csr_matrix(np.array([[1.0]])),
        row_lower=np.array([row_lo]),
        row_upper=np.array([row_hi]),
        col_lower=np.array([lo]),
        col_upper=np.array([hi]),
        integrality=np.array([integer]),
    )


# --- class data and registry -------------------------------------------------------------------


def test_registry_and_class_data():
    assert backends.get("highs") is HighsBackend
    assert HighsBackend.features == frozenset({"linear", "integer", "quadratic", "inequalities"})
    assert HighsBackend.form == "lp" and HighsBackend.gives_duals
    assert HighsBackend.requires == ("highspy",)
    import highspy

    # every HiGHS model status is mapped, and to one of ours
    assert set(highspy.HighsModelStatus.__members__) == set(STATUS_MAP)
    assert HighsBackend.status_map["kUnboundedOrInfeasible"] is T.INFEASIBLE_OR_UNBOUNDED


def test_import_pulls_in_neither_torch_nor_pyomo_nor_highspy():
    code = (
        "import sys, optdsl.solvers.highs.backend, optdsl.interchange\n"
        "bad = [m for m in ('torch', 'pyomo', 'highspy') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_silent_unless_verbose():
    """HiGHS prints a banner from C at the first construction; a quiet solve prints nothing."""
    code = (
        "import numpy as np, scipy.sparse as sp\n"
        "from optdsl.lower.forms import LPForm\n"
        "from optdsl.backends import SolveOptions\n"
        "from optdsl.solvers.highs.backend import HighsBackend\n"
        "f = LPForm(c=np.ones(1), A=sp.csr_matrix(np.ones((1, 1))), row_lower=np.ones(1),\n"
        "           row_upper=np.full(1, np.inf), col_lower=np.zeros(1), col_upper=np.full(1, np.inf))\n"
        "r = HighsBackend().solve(f, SolveOptions(verbose={v}))\n"
        "print('objective', r.objective)\n"
    )
    quiet = subprocess.run([sys.executable, "-c", code.format(v=False)], capture_output=True, text=True)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "objective 1.0\n"
    assert quiet.stderr == ""
    loud = subprocess.run([sys.executable, "-c", code.format(v=True)], capture_output=True, text=True)
    assert "Running HiGHS" in loud.stdout and "Model status" in loud.stdout


# --- LP: transportation, duals -----------------------------------------------------------------


def test_transportation_optimum_and_values():
    r = solve(transportation())
    assert r.status is T.OPTIMAL and r.solution_status is SolutionStatus.OPTIMAL
    assert r.objective == pytest.approx(153.675, rel=1e-9)
    assert r.best_bound == pytest.approx(153.675) and r.gap == 0.0
    x = r.variables["x"]
    assert sum(x[("Seattle", j)] for j in SINKS) <= 350 + 1e-9
    assert x[("San-Diego", "Topeka")] == pytest.approx(275)
    assert r.value("x", "Seattle", "Chicago") == pytest.approx(300)
    assert r.iterations and r.iterations > 0 and r.stats["highs_model_status"] == "kOptimal"
    assert set(r.times) == {"build_s", "handover_s", "solve_s"}
    out = r.to_dict()
    assert out["variables"]["x"]["San-Diego,Topeka"] == pytest.approx(275)
    assert out["duals"]["demand"]["Chicago"] == pytest.approx(0.153)


def test_dual_signs_min():
    """For a min LP a binding >= row has a dual >= 0, a <= row a dual <= 0, and a variable at its
    lower bound a reduced cost >= 0; c - A'y = reduced costs."""
    form = transportation()
    r = solve(form)
    y, d = r.row_duals, r.reduced_costs
    assert r.duals["demand"] == {
        ("New-York",): pytest.approx(0.225),
        ("Chicago",): pytest.approx(0.153),
        ("Topeka",): pytest.approx(0.126),
    }
    assert np.all(y[2:] >= 0) and np.all(y[:2] <= 1e-12)
    at_lower = r.x <= 1e-9
    assert np.all(d[at_lower] >= -1e-12) and np.any(d[at_lower] > 1e-6)
    np.testing.assert_allclose(form.c - form.A.T @ y, d, atol=1e-12)
    # the dual is the derivative of the optimum in the row's bound: raise Chicago's demand by 1
    bumped = transportation()
    bumped.row_lower[3] += 1
    assert solve(bumped).objective - r.objective == pytest.approx(y[3])


def test_dual_signs_max():
    """maximize -cost: the same optimum negated, and every dual sign flips."""
    form = transportation("max")
    r = solve(form)
    assert r.objective == pytest.approx(-153.675)
    assert np.all(r.row_duals[2:] <= 0) and r.row_duals[3] == pytest.approx(-0.153)
    np.testing.assert_allclose(form.c - form.A.T @ r.row_duals, r.reduced_costs, atol=1e-12)


# --- MIP ---------------------------------------------------------------------------------------


def test_knapsack_mip():
    r = solve(knapsack())
    assert r.status is T.OPTIMAL and r.objective == pytest.approx(15)
    assert r.variables["take"] == {(1,): 0, (2,): 1, (3,): 1, (4,): 1}
    assert r.best_bound == pytest.approx(15) and r.gap == pytest.approx(0)
    assert r.row_duals is None and r.reduced_costs is None  # MIPs have no duals
    assert "mip_nodes" in r.stats


def test_mip_time_limit():
    r = solve(markshare(), time_limit=0.05, threads=1, seed=1)
    assert r.status is T.TIME_LIMIT
    assert r.stats["highs_model_status"] == "kTimeLimit"
    if r.solution_status is SolutionStatus.FEASIBLE:  # an incumbent exists: bound and gap known
        assert r.objective is not None and r.x is not None
        assert r.best_bound is not None and r.best_bound <= r.objective + 1e-9
        assert r.gap is not None and r.gap > 0
    else:
        assert r.solution_status is SolutionStatus.NONE and r.x is None


def test_mip_start_is_an_incumbent():
    """x0 hands HiGHS a (partial) MIP start: binaries all 0, slacks left for HiGHS to complete;
    even with no time to search, that start is the incumbent."""
    form = markshare()
    form.x0 = np.r_[np.zeros(40), np.full(10, np.nan)]
    r = solve(form, time_limit=0.0, threads=1)
    assert r.status is T.TIME_LIMIT and r.solution_status is SolutionStatus.FEASIBLE
    assert r.objective == pytest.approx(form.row_lower.sum())


def test_mip_infeasible():
    form = one_var(1.0, 0, INF, 1, 1, integer=True)
    form.A = sp.csr_matrix(np.array([[2.0]]))  # 2 x = 1 has no integer solution
    r = solve(form)
    assert r.status is T.INFEASIBLE and r.solution_status is SolutionStatus.NONE
    assert r.objective is None and r.best_bound is None


# --- QP ----------------------------------------------------------------------------------------


def test_convex_qp_against_scipy():
    from scipy.optimize import minimize

    form = constrained_qp()
    r = solve(form)
    assert r.status is T.OPTIMAL
    assert r.objective == pytest.approx(0.8, rel=1e-6)
    np.testing.assert_allclose(r.x, [1.4, 1.7], atol=1e-5)
    # the same problem by SLSQP, independently
    A = form.A.toarray()
    ref = minimize(
        lambda x: (x[0] - 1) ** 2 + (x[1] - 2.5) ** 2,
        x0=[2.0, 0.0],
        method="SLSQP",
        bounds=[(0, None), (0, None)],
        constraints=[{"type": "ineq", "fun": lambda x, i=i: A[i] @ x - form.row_lower[i]} for i in range(3)],
    )
    assert r.objective == pytest.approx(ref.fun, rel=1e-6)


def test_qp_off_diagonal_and_max_sense():
    """min 1/2 x'Qx - x1 - x2, Q = [[2,1],[1,2]]: x = (1/3, 1/3), optimum -1/3. Checks that the
    lower triangle is what HiGHS gets (a full square would double the cross term)."""
    Q = sp.csc_matrix(np.array([[2.0, 1], [1, 2]]))
    form = LPForm(
        c=np.array([-1.0, -1]),
        A=sp.csr_matrix((0, 2)),
        row_lower=np.zeros(0),
        row_upper=np.zeros(0),
        col_lower=np.full(2, -INF),
        col_upper=np.full(2, INF),
        Q=Q,
    )
    r = solve(form)
    assert r.objective == pytest.approx(-1 / 3, rel=1e-9)
    np.testing.assert_allclose(r.x, [1 / 3, 1 / 3], atol=1e-6)
    form.sense, form.c, form.Q = "max", -form.c, -Q
    r = solve(form)
    assert r.status is T.OPTIMAL and r.objective == pytest.approx(1 / 3, rel=1e-9)


def test_nonconvex_qp_is_an_error_result():
    form = constrained_qp()
    form.Q = -form.Q
    r = solve(form)
    assert r.status is T.ERROR and r.solution_status is SolutionStatus.NONE
    assert "non-convex" in r.message


def test_miqp_is_refused():
    form = constrained_qp()
    form.integrality = np.array([True, False])
    with pytest.raises(SolverError, match=r"quadratic objective with integer variables \(MIQP\)"):
        solve(form)


# --- infeasible, unbounded, empty ---------------------------------------------------------------


def test_infeasible_lp():
    r = solve(one_var(1.0, 0, 1, 2, INF))
    assert r.status is T.INFEASIBLE and r.solution_status is SolutionStatus.NONE
    assert r.x is None and r.objective is None and not r.has_solution


def test_unbounded_lp():
    r = solve(one_var(-1.0, 0, INF, 0, INF))
    assert r.status is T.UNBOUNDED and r.objective is None


def test_unbounded_mip_reports_either():
    """HiGHS's MIP solver does not tell unbounded from infeasible here; the status says so."""
    r = solve(one_var(-1.0, 0, INF, 0, INF, integer=True))
    assert r.status in (T.UNBOUNDED, T.INFEASIBLE_OR_UNBOUNDED)


def test_empty_model_is_its_constant():
    form = LPForm(
        c=np.zeros(0),
        A=sp.csr_matrix((0, 0)),
        row_lower=np.zeros(0),
        row_upper=np.zeros(0),
        col_lower=np.zeros(0),
        col_upper=np.zeros(0),
        c0=4.0,
    )
    r = solve(form)
    assert r.status is T.OPTIMAL and r.objective == 4.0


# --- bad input ---------------------------------------------------------------------------------


def test_nan_is_refused_with_its_name():
    form = transportation()
    form.c[4] = np.nan
    with pytest.raises(SolverError, match=r"objective coefficient of x\[San-Diego,Chicago\] is NaN"):
        solve(form)
    form = transportation()
    form.A = form.A.copy()
    form.A.data[-1] = np.nan
    with pytest.raises(SolverError, match=r"coefficient of x\[San-Diego,Topeka\] in constraint demand\[Topeka\] is NaN"):
        solve(form)


def test_infinite_coefficient_is_refused_with_its_name():
    form = one_var(1.0, 0, 1, 0, 1)
    form.A = sp.csr_matrix(np.array([[INF]]))
    with pytest.raises(SolverError, match=r"coefficient of .* in constraint .* is infinite"):
        solve(form)


def test_shape_mismatch():
    form = transportation()
    form.col_upper = np.ones(5)
    with pytest.raises(SolverError, match=r"LPForm.col_upper has shape \(5,\), expected \(6,\)"):
        solve(form)


def test_duplicate_matrix_entries_are_summed():
    form = one_var(1.0, 0, INF, 3, INF)
    form.A = sp.csr_matrix((np.array([1.0, 2.0]), np.array([0, 0]), np.array([0, 2])), shape=(1, 1))
    assert solve(form).objective == pytest.approx(1.0)  # 3 x >= 3


# --- options -----------------------------------------------------------------------------------


def test_unknown_option_names_it_with_hint():
    with pytest.raises(SolverError) as err:
        solve(transportation(), backend_options={"time_limt": "3"})
    assert err.value.message == "unknown HiGHS option 'time_limt'"
    assert err.value.hint == "did you mean 'time_limit'?"
    with pytest.raises(SolverError) as err:
        solve(transportation(), backend_options={"mip_gap": "0.1"})
    assert err.value.hint == "did you mean 'mip_rel_gap'?"


def test_option_type_conversion():
    assert _convert("presolve", "off", "kString") == "off"
    assert _convert("output_flag", "False", "kBool") is False
    assert _convert("output_flag", "on", "kBool") is True
    assert _convert("output_flag", 1, "kBool") is True
    assert _convert("threads", "2", "kInt") == 2
    assert _convert("simplex_iteration_limit", "1e3", "kInt") == 1000
    assert _convert("time_limit", "2.5", "kDouble") == 2.5
    assert _convert("objective_bound", "inf", "kDouble") == INF  # not a limit or tolerance
    for key, value, kind, want in [
        ("threads", "two", "kInt", "an integer"),
        ("threads", "1.5", "kInt", "an integer"),
        ("time_limit", "soon", "kDouble", "a finite number"),
        ("time_limit", "inf", "kDouble", "a finite number"),  # NaN/inf limits and tolerances are refused
        ("time_limit", "nan", "kDouble", "a finite number"),
        ("mip_rel_gap", "nan", "kDouble", "a finite number"),
        ("primal_feasibility_tolerance", "-inf", "kDouble", "a finite number"),
        ("output_flag", "maybe", "kBool", "true/false"),
    ]:
        with pytest.raises(SolverError, match=f"HiGHS option '{key}' takes {want}; got '{value}'"):
            _convert(key, value, kind)


def test_options_reach_highs():
    opts = SolveOptions(
        time_limit=7,
        mip_gap=0.25,
        seed=11,
        threads=1,
        backend_options={
            "presolve": "off",
            "simplex_iteration_limit": "1e3",
            "highs.primal_feasibility_tolerance": "1e-8",  # the CLI's prefix is accepted
            "mip_heuristic_effort": 0.2,
        },
    )
    h = to_highs(knapsack(), opts)
    got = {k: h.getOptionValue(k)[1] for k in (
        "time_limit", "mip_rel_gap", "random_seed", "threads", "output_flag", "presolve",
        "simplex_iteration_limit", "primal_feasibility_tolerance", "mip_heuristic_effort",
    )}  # fmt: skip
    assert got == {
        "time_limit": 7.0, "mip_rel_gap": 0.25, "random_seed": 11, "threads": 1, "output_flag": False,
        "presolve": "off", "simplex_iteration_limit": 1000, "primal_feasibility_tolerance": 1e-8,
        "mip_heuristic_effort": 0.2,
    }  # fmt: skip


def test_option_value_highs_rejects():
    with pytest.raises(SolverError, match=r"HiGHS rejected option presolve=maybe: .*not one of"):
        solve(transportation(), backend_options={"presolve": "maybe"})
    with pytest.raises(SolverError, match=r"HiGHS rejected option mip_rel_gap=-1: .*below lower bound"):
        solve(transportation(), backend_options={"mip_rel_gap": "-1"})


def test_thread_count_can_change_between_solves():
    """HiGHS refuses to run when `threads` differs from its started thread pool; the backend
    resizes the pool."""
    for threads in (1, 2, 1):
        assert solve(knapsack(), threads=threads).objective == pytest.approx(15)
    assert solve(knapsack()).objective == pytest.approx(15)


def test_iteration_limit_status():
    r = solve(transportation(), backend_options={"simplex_iteration_limit": 0, "presolve": "off"})
    assert r.status is T.ITERATION_LIMIT


# --- to_highs ----------------------------------------------------------------------------------


def test_to_highs_hands_over_without_solving():
    import highspy

    h = to_highs(transportation())
    assert h.getModelStatus() == highspy.HighsModelStatus.kNotset
    assert (h.getNumCol(), h.getNumRow(), h.getNumNz()) == (6, 5, 12)
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(153.675)


def test_qp_with_tiny_objective_coefficients_is_scaled_and_mapped_back():
    """A mean-variance portfolio whose costs and covariances are all below 1e-2 (the shape of AMPL's
    test quadratic_obj.mod, on which HiGHS's unscaled QP solver cycles): HiGHS gets the objective
    times a power of two; the objective, bound and duals come back for the problem as written,
    checked against scipy and against the KKT conditions."""
    from optdsl.solvers.highs.backend import _qp_objective_scale
    from scipy.optimize import minimize

    rng = np.random.default_rng(7)
    n = 12
    F = rng.normal(size=(n, n)) * 0.03
    C = F @ F.T / n + 2e-4 * np.eye(n)          # covariance, entries ~1e-4
    r = rng.uniform(1e-3, 2.5e-3, size=n)       # expected returns
    form = LPForm(
        c=-0.5 * r, col_lower=np.zeros(n), col_upper=np.full(n, INF),
        A=sp.csr_matrix(np.ones((1, n))), row_lower=np.array([1.0]), row_upper=np.array([1.0]),
        Q=sp.csc_matrix(C),  # 0.5 x'Cx, lambda = 0.5 folded in
    )
    scale = _qp_objective_scale(form)
    assert scale > 1.0 and np.log2(scale).is_integer()
    res = solve(form)
    assert res.status == T.OPTIMAL
    f = lambda w: 0.5 * w @ C @ w - 0.5 * r @ w  # noqa: E731
    ref = minimize(f, np.full(n, 1 / n), method="SLSQP", bounds=[(0, None)] * n,
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
                   options={"ftol": 1e-15, "maxiter": 1000})
    assert res.objective == pytest.approx(ref.fun, rel=1e-7, abs=1e-12)
    assert res.best_bound == pytest.approx(res.objective)
    grad = C @ res.x - 0.5 * r  # stationarity: grad = A'y + z, with HiGHS's signs
    assert np.allclose(grad, res.row_duals[0] + res.reduced_costs, atol=1e-9)
