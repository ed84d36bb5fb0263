"""Unit tests of the sketch_newton backend: sketches, the outer loop, statuses, options,
the squared-slack pass."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from optdsl.solvers.sketch_newton import algorithm
from optdsl.solvers.sketch_newton.backend import SketchNewtonBackend
from optdsl.solvers.sketch_newton.inner_solvers import make_sketch
from optdsl.solvers.sketch_newton.sketches import SKETCHES

from optdsl.backends import SolveOptions, get
from optdsl.errors import SolverError
from optdsl.lower.forms import NLPForm
from optdsl.lower.slacks import SquaredSlacks
from optdsl.results import SolutionStatus, TerminationStatus


# --- problems -------------------------------------------------------------------------------
def hs6() -> NLPForm:
    """HS6: min (1 - x1)^2 s.t. 10 (x2 - x1^2) = 0, x0 = (-1.2, 1); optimum 0 at (1, 1)."""
    return NLPForm(
        n=2,
        m=1,
        x0=np.array([-1.2, 1.0]),
        f=lambda x: (1.0 - x[0]) ** 2,
        grad=lambda x: np.array([-2.0 * (1.0 - x[0]), 0.0]),
        c=lambda x: np.array([10.0 * (x[1] - x[0] ** 2)]),
        jac=lambda x: np.array([[-20.0 * x[0], 10.0]]),
        hess_lag=lambda x, lam: np.array([[2.0 - 20.0 * lam[0], 0.0], [0.0, 0.0]]),
        name="hs6",
    )


def eq_qp(sense: str = "min") -> NLPForm:
    """min x^2 + y^2 s.t. x + y = 2 (optimum 2 at (1, 1), d f*/d rhs = 2). With sense "max",
    the same f is read as the negated objective of max -(x^2 + y^2)."""
    return NLPForm(
        n=2,
        m=1,
        x0=np.array([3.0, -1.0]),
        f=lambda x: float(x @ x),
        grad=lambda x: 2.0 * x,
        c=lambda x: np.array([x[0] + x[1]]),
        jac=lambda x: sp.csr_matrix([[1.0, 1.0]]),
        hess_lag=lambda x, lam: 2.0 * np.eye(2),
        con_lower=np.array([2.0]),
        con_upper=np.array([2.0]),
        sense=sense,
    )


def ineq_problem() -> NLPForm:
    """min (x1-2)^2 + (x2-1)^2 s.t. x1 + x2 <= 2, x1 >= -1, x2 <= 5.
    Optimum (1.5, 0.5), f = 0.5; the row is active with shadow price -1, bounds inactive."""
    return NLPForm(
        n=2,
        m=1,
        x0=np.array([0.0, 0.0]),
        f=lambda x: (x[0] - 2.0) ** 2 + (x[1] - 1.0) ** 2,
        grad=lambda x: np.array([2.0 * (x[0] - 2.0), 2.0 * (x[1] - 1.0)]),
        c=lambda x: np.array([x[0] + x[1]]),
        jac=lambda x: np.array([[1.0, 1.0]]),
        hess_lag=lambda x, lam: 2.0 * np.eye(2),
        con_lower=np.array([-np.inf]),
        con_upper=np.array([2.0]),
        col_lower=np.array([-1.0, -np.inf]),
        col_upper=np.array([np.inf, 5.0]),
        name="ineq",
    )


def solve(form: NLPForm, **backend_options) -> object:
    return SketchNewtonBackend().solve(form, SolveOptions(seed=0, backend_options=backend_options))


# --- sketches ---------------------------------------------------------------------------------
def _system(d: int = 20, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eig = rng.uniform(1.0, 3.0, d) * rng.choice([-1.0, 1.0], d)  # symmetric indefinite, cond <= 3
    return (Q * eig) @ Q.T, rng.standard_normal(d)


@pytest.mark.parametrize("name", SKETCHES)
@pytest.mark.parametrize("sparse", [False, True])
def test_sketch_reaches_requested_accuracy(name: str, sparse: bool) -> None:
    K, b = _system()
    target = 1e-8 * np.linalg.norm(b)
    solver = make_sketch(name, np.random.default_rng(0), block_size=4, n=K.shape[0])
    solver.setup(sp.csr_matrix(K) if sparse else K)
    out = solver.solve(b, target, max_iter=200_000)
    assert out.converged
    assert np.linalg.norm(K @ out.z - b) <= target * (1 + 1e-6) or name == "direct"
    assert np.allclose(out.z, np.linalg.solve(K, b), atol=1e-6)
    assert out.iterations >= 1 and out.flops > 0


@pytest.mark.parametrize("m", [30, 2000])  # dense and sparse factorizations of the Schur complement
def test_minres_on_kkt_with_diagonal_b_takes_a_few_steps(m: int) -> None:
    # With B diagonal the block preconditioner diag(B, G B^-1 G^T) leaves three eigenvalues:
    # MINRES ends in about three steps, on the true residual.
    rng = np.random.default_rng(1)
    n = 2 * m
    B = sp.diags(rng.uniform(0.1, 10.0, n))
    G = sp.random(m, n, density=min(1.0, 5.0 / n), random_state=2) + sp.hstack([sp.identity(m), sp.csr_matrix((m, m))])
    K = sp.bmat([[B, G.T], [G, None]], format="csr")
    b = rng.standard_normal(n + m)
    target = 1e-10 * np.linalg.norm(b)
    solver = make_sketch("minres", np.random.default_rng(0), n=n)
    solver.setup(K)
    out = solver.solve(b, target, max_iter=100)
    assert out.converged and out.iterations <= 6
    assert np.linalg.norm(K @ out.z - b) <= target
    with pytest.raises(ValueError, match="needs n"):
        make_sketch("minres", np.random.default_rng(0))


def test_minres_torch_path_matches_numpy() -> None:
    # "cpu:0" is a torch device: the products run in torch, as on "cuda".
    pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    n, m = 40, 15
    B = sp.diags(rng.uniform(0.5, 2.0, n)) + sp.random(n, n, density=0.05, random_state=1) * 0.1
    B = (B + B.T) / 2
    G = sp.random(m, n, density=0.3, random_state=2) + sp.hstack([sp.identity(m), sp.csr_matrix((m, n - m))])
    K = sp.bmat([[B, G.T], [G, None]], format="csr")
    b = rng.standard_normal(n + m)
    target = 1e-9 * np.linalg.norm(b)
    outs = []
    for device in ("cpu", "cpu:0"):
        solver = make_sketch("minres", np.random.default_rng(0), n=n, device=device)
        solver.setup(K)
        outs.append(solver.solve(b, target, max_iter=500))
    assert all(o.converged for o in outs)
    assert outs[0].iterations == outs[1].iterations
    assert np.allclose(outs[0].z, outs[1].z, atol=1e-8)
    assert np.linalg.norm(K @ outs[1].z - b) <= target


def test_sketch_respects_inner_cap_and_warm_start() -> None:
    K, b = _system()
    solver = make_sketch("kaczmarz", np.random.default_rng(0))
    solver.setup(K)
    out = solver.solve(b, 1e-14, max_iter=10)
    assert out.iterations == 10 and not out.converged
    again = solver.solve(b, 1e-8 * np.linalg.norm(b), z0=out.z, max_iter=200_000)
    assert again.converged


class _Recorder:
    """A Generator stand-in that records the sampled rows."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.drawn: list[np.ndarray] = []

    def integers(self, *args, **kwargs):
        out = self.rng.integers(*args, **kwargs)
        self.drawn.append(np.atleast_1d(out))
        return out


def test_batched_kaczmarz_equals_sequential_steps() -> None:
    K, b = _system(d=12)
    rec = _Recorder(7)
    solver = make_sketch("kaczmarz", rec)
    solver.setup(K)
    target = 1e-3 * np.linalg.norm(b)
    out = solver.solve(b, target, max_iter=100_000)
    rows = np.concatenate(rec.drawn)
    z = np.zeros(12)
    k = 0
    for i in rows:  # the textbook method, one row at a time
        k += 1
        z = z - (K[i] @ z - b[i]) / (K[i] @ K[i]) * K[i]
        if np.linalg.norm(K @ z - b) <= target:
            break
    assert k == out.iterations
    assert np.allclose(z, out.z, atol=1e-12)


# --- the outer loop ---------------------------------------------------------------------------
@pytest.mark.parametrize("sketch", SKETCHES)
def test_hs6_reaches_optimum(sketch: str) -> None:
    res = solve(hs6(), sketch=sketch)
    assert res.status == TerminationStatus.OPTIMAL
    assert res.solution_status == SolutionStatus.LOCALLY_OPTIMAL
    assert res.stats["kkt"] <= 1e-4
    assert abs(res.objective) <= 1e-6
    assert np.allclose(res.x, [1.0, 1.0], atol=1e-3)
    assert res.iterations <= 12  # the authors' RK run takes 9
    for key in ("flops", "grad_evals", "inner_iterations", "kkt_history_length"):
        assert res.stats[key] > 0
    assert res.stats["seed"] == 0 and res.stats["sketch"] == sketch


def test_hs6_superlinear_option() -> None:
    res = solve(hs6(), superlinear="true", theta_power=1.0, tol=1e-8)
    assert res.status == TerminationStatus.OPTIMAL and res.stats["kkt"] <= 1e-8


def test_same_seed_same_run() -> None:
    a, b = solve(hs6()), solve(hs6())
    assert a.stats["inner_iterations"] == b.stats["inner_iterations"]
    assert np.array_equal(a.x, b.x)


def test_equality_rhs_duals_and_max_sense() -> None:
    res = solve(eq_qp(), tol=1e-9)
    assert np.allclose(res.x, [1.0, 1.0], atol=1e-8)
    assert res.objective == pytest.approx(2.0, abs=1e-8)
    # shadow price: f*(r) = r^2 / 2, so d f*/d r = 2 at r = 2 (lam of f + lam (c - r) is -2)
    assert res.row_duals[0] == pytest.approx(2.0, abs=1e-6)
    mx = solve(eq_qp("max"), tol=1e-9)
    assert mx.objective == pytest.approx(-2.0, abs=1e-8)
    assert mx.row_duals[0] == pytest.approx(-2.0, abs=1e-6)


def test_status_iteration_limit() -> None:
    res = solve(hs6(), max_iter=2)
    assert res.status == TerminationStatus.ITERATION_LIMIT
    assert res.iterations == 2 and res.x is not None


def test_status_time_limit() -> None:
    res = SketchNewtonBackend().solve(
        hs6(), SolveOptions(time_limit=1e-9, backend_options={"max_inner": 10**9, "tol": 1e-300})
    )
    assert res.status == TerminationStatus.TIME_LIMIT


def test_status_singular_jacobian() -> None:
    form = NLPForm(
        n=3,
        m=2,
        x0=np.zeros(3),
        f=lambda x: float(x @ x),
        grad=lambda x: 2.0 * x,
        c=lambda x: np.array([x[0] + x[1] - 1.0, 2.0 * x[0] + 2.0 * x[1] - 2.0]),
        jac=lambda x: np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 0.0]]),
        hess_lag=lambda x, lam: 2.0 * np.eye(3),
    )
    res = solve(form)
    assert res.status == TerminationStatus.ERROR
    assert "singular" in res.message and res.solution_status == SolutionStatus.NONE


def test_callback_interrupts_and_log_lines() -> None:
    lines: list[str] = []
    seen: list[algorithm.IterInfo] = []

    def cb(info: algorithm.IterInfo) -> bool:
        seen.append(info)
        return info.k >= 1

    out = algorithm.solve(hs6(), algorithm.Params(log_every=1), callback=cb, log=lines.append)
    assert out.status == "interrupted" and out.iterations == 2
    assert len(seen) == 2 and len(lines) == 2 and "kkt" in lines[0]


# --- registry and options ---------------------------------------------------------------------
def test_registered_backend_facts() -> None:
    cls = get("sketch_newton")
    assert cls is SketchNewtonBackend
    assert cls.form == "nlp" and cls.requires == ()
    assert cls.features == frozenset({"linear", "quadratic", "nonlinear"})


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"skech": "kaczmarz"}, "skech"),
        ({"sketch": "lanczos"}, "sketch"),
        ({"eta1": "big"}, "eta1"),
        ({"beta": 0.7}, "beta"),
        ({"nu": "1"}, "nu"),
        ({"max_iter": "2.5"}, "max_iter"),
        ({"superlinear": "maybe"}, "superlinear"),
        ({"slacks": "perhaps"}, "slacks"),
        ({"block_size": 0}, "block_size"),
        ({"tol": "-1"}, "tol"),
    ],
)
def test_option_errors_name_the_key(options: dict, key: str) -> None:
    with pytest.raises(SolverError) as err:
        solve(hs6(), **options)
    msg = err.value.message
    assert f"'{key}'" in msg or f"sketch_newton.{key}'" in msg


def test_unknown_option_hint() -> None:
    with pytest.raises(SolverError) as err:
        solve(hs6(), skech="kaczmarz")
    assert err.value.hint == "did you mean 'sketch'?"


def test_options_accept_strings() -> None:
    res = solve(hs6(), sketch="Gaussian", eta1="2", eta2="0.05", tol="1e-6", max_iter="1e3")
    assert res.status == TerminationStatus.OPTIMAL and res.stats["kkt"] <= 1e-6


def test_inequalities_need_slacks_option() -> None:
    with pytest.raises(SolverError) as err:
        solve(ineq_problem())
    text = err.value.render()
    assert "inequalities or variable bounds" in text
    assert "'highs'" in text and "--option sketch_newton.slacks=true" in text


# --- squared slacks ---------------------------------------------------------------------------
def test_slack_pass_form_derivatives() -> None:
    form = ineq_problem()
    pas = SquaredSlacks()
    assert pas.accepts(form) is None
    new, inv = pas.apply(form)
    assert new.equality_only
    assert (new.n, new.m) == (5, 3)  # 3 slacks: the row's upper side and two bounds
    rng = np.random.default_rng(1)
    z, lam, eps = rng.standard_normal(5), rng.standard_normal(3), 1e-6
    J = new.jac(z).toarray()
    fd = np.column_stack([(new.c(z + eps * e) - new.c(z - eps * e)) / (2 * eps) for e in np.eye(5)])
    assert np.allclose(J, fd, atol=1e-6)

    def grad_lag(v: np.ndarray) -> np.ndarray:
        return new.grad(v) + new.jac(v).T @ lam

    H = new.hess_lag(z, lam).toarray()
    fdh = np.column_stack([(grad_lag(z + eps * e) - grad_lag(z - eps * e)) / (2 * eps) for e in np.eye(5)])
    assert np.allclose(H, fdh, atol=1e-5)


def test_slack_round_trip_solves_to_known_optimum() -> None:
    form = ineq_problem()
    res = solve(form, slacks="true", tol=1e-8)
    assert res.status == TerminationStatus.OPTIMAL
    assert res.x.shape == (2,)
    assert np.allclose(res.x, [1.5, 0.5], atol=1e-6)
    assert res.objective == pytest.approx(0.5, abs=1e-8)
    assert res.row_duals[0] == pytest.approx(-1.0, abs=1e-5)  # d f*/d(upper bound 2)
    assert np.allclose(res.reduced_costs, 0.0, atol=1e-5)  # inactive bounds
    assert res.stats["slacks"] == 3 and res.layout is form.layout


def test_slack_pass_active_bound_reduced_cost() -> None:
    """min (x - 3)^2 s.t. x <= u = 1 (a bound): x* = 1, reduced cost d f*/d u = 2 (u - 3) = -4."""
    form = NLPForm(
        n=1,
        m=0,
        x0=np.array([0.0]),
        f=lambda x: float((x[0] - 3.0) ** 2),
        grad=lambda x: np.array([2.0 * (x[0] - 3.0)]),
        c=lambda x: np.zeros(0),
        jac=lambda x: np.zeros((0, 1)),
        hess_lag=lambda x, lam: np.array([[2.0]]),
        col_upper=np.array([1.0]),
    )
    res = solve(form, slacks=True, tol=1e-9)
    assert res.status == TerminationStatus.OPTIMAL
    assert res.x[0] == pytest.approx(1.0, abs=1e-7)
    assert res.reduced_costs[0] == pytest.approx(-4.0, abs=1e-5)
