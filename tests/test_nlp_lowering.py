"""The nonlinear lowering (optdsl.lower.nlp): oracles against closed forms and central finite
differences at seeded points, numpy and torch executors against each other, sparsity, deep DAGs,
the no-torch path for polynomial models, device errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from optdsl.errors import SolverError
from optdsl.ir.expr import NL, Expr
from optdsl.ir.labels import Domain, Labels
from optdsl.ir.model import ConBlock, ModelIR, ObjectiveIR, VarBlock
from optdsl.lower.nlp import NLPOracles, to_nlpform

INF = np.inf
HAVE_TORCH = True
try:
    import torch  # noqa: F401
except ImportError:  # pragma: no cover - torch is a test dependency here
    HAVE_TORCH = False
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed")
EXECUTORS = ["numpy", pytest.param("torch", marks=needs_torch)]


# ============================================================================ model builders
def V(*cols: int) -> Expr:
    return Expr.variables(np.asarray(cols, dtype=np.int64))


def K(v: float | np.ndarray, n: int = 1) -> Expr:
    return Expr.constant(v, n)


def pw(e: Expr, p: float | Expr) -> Expr:
    return e.apply("pow", p if isinstance(p, Expr) else K(p, e.n))


def total(e: Expr) -> Expr:
    return e.reduce_sum(np.zeros(e.n, dtype=np.int64), 1)


def model(n: int, obj: Expr | None = None, sense: str = "min", cons: tuple = (), lower: float = -INF,
          upper: float = INF, init: np.ndarray | None = None) -> ModelIR:
    ir = ModelIR(name="t")
    dom = Domain([Labels.of(list(range(1, n + 1)))])
    ir.variables = [VarBlock("x", dom, 0, n, np.full(n, lower, dtype=float), np.full(n, upper, dtype=float),
                             np.zeros(n, dtype=bool), None if init is None else np.asarray(init, float))]
    if obj is not None:
        ir.objectives = [ObjectiveIR("f", sense, obj)]
    for k, (e, lo, hi) in enumerate(cons):
        ir.constraints.append(ConBlock(f"c{k}", None, e, np.full(e.n, lo, dtype=float),
                                       np.full(e.n, hi, dtype=float)))
    return ir


def hs6() -> ModelIR:
    """Hock-Schittkowski 6: min (1 - x1)^2 s.t. 10 (x2 - x1^2) = 0."""
    x1, x2 = V(0), V(1)
    con = (x2 - pw(x1, 2)).scale(10.0)
    return model(2, pw(K(1.0) - x1, 2), cons=((con, 0.0, 0.0),), init=np.array([-1.2, 1.0]))


def rosenbrock(n: int) -> ModelIR:
    lo, hi = V(*range(n - 1)), V(*range(1, n))
    terms = pw(hi - pw(lo, 2), 2).scale(100.0) + pw(K(1.0, n - 1) - lo, 2)
    return model(n, total(terms))


def chained_constraints(n: int) -> ModelIR:
    """exp/log/sin/sqrt/div compositions on a chain, plus a trig objective."""
    a, b = V(*range(n - 1)), V(*range(1, n))
    c1 = a.apply("sin").apply("exp").times((K(1.0, n - 1) + b.times(b)).apply("log"))
    c2 = a.apply("sqrt").apply("div", K(2.0, n - 1) + b.apply("cos"))
    obj = total(V(*range(n)).apply("tanh")) + V(0).apply("atan") + V(1).apply("log10") \
        + V(2).scale(0.3).apply("tan") + V(3).apply("neg").apply("exp")
    return model(n, obj, cons=((c1, 0.0, 1.0), (c2, -INF, 2.0)))


def products(n: int = 6) -> ModelIR:
    """x^y, 2^x, x/y, a prod reduction over groups of 3, gathers onto a finer grid."""
    x = V(*range(n))
    xy = pw(V(0, 1, 2), V(3, 4, 5))
    two_x = pw(K(2.0, 3), V(0, 1, 2))
    ratio = V(0, 2, 4).apply("div", V(1, 3, 5))
    grp = np.repeat(np.arange(n // 3), 3)
    prod = x.apply("exp").times(K(0.5, n) + x).apply("sqrt")
    prod = Expr.from_nl(NL("prod", n // 3, [prod.to_nl()], data=(grp, n // 3)))
    gathered = (x.times(x).apply("sin") + x).gather(np.array([0, 0, 3, 5, 5, 5, 1]))
    obj = total(gathered.times(gathered.apply("cos")))
    return model(n, obj, cons=((xy, 0, 0), (two_x + ratio, 0, 0), (prod, 1, 1)))


def maximize() -> ModelIR:
    x = V(0, 1, 2)
    obj = total(pw(x - K(np.array([1.0, 2.0, 3.0]), 3), 2).scale(-1.0) + x.apply("log"))
    return model(3, obj, sense="max", cons=((total(x.times(x).apply("exp")), -INF, 50.0),))


def mixed() -> ModelIR:
    """Polynomial and DAG parts in one row; a quadratic hidden inside an affine DAG leaf; blocks
    without any DAG in between; duplicate linear terms."""
    x0, x1, x2, x3 = V(0), V(1), V(2), V(3)
    row = x0.times(x1) + x2.apply("exp") + x0.scale(3.0) + x0.scale(-1.0)
    inner = (x0.times(x1) + x2 + x3.times(x3)).apply("exp")  # affine leaf with a quadratic part
    lin = x0 + x1.scale(2.0) - x3
    quad = x2.times(x3) + x0.times(x0)
    obj = (x0.times(x2) + x1).apply("sin") + x3.times(x3) + x1.scale(2.0)
    return model(4, obj, cons=((lin, 0, 0), (row, -1, 1), (quad, 0, INF), (inner, 0, 5)))


def nonsmooth() -> ModelIR:
    """Subgradient ops, differentiable away from their kinks (FD points are seeded and generic)."""
    x = V(0, 1, 2, 3)
    mx = x.apply("max2", x.apply("sin").scale(2.0))
    mn = x.apply("min2", K(1.0, 4))
    grp = np.array([0, 0, 1, 1])
    red_max = Expr.from_nl(NL("max", 2, [x.times(x).to_nl()], data=(grp, 2)))
    red_min = Expr.from_nl(NL("min", 2, [x.apply("exp").to_nl()], data=(grp, 2)))
    obj = total((x - K(1.1, 4)).apply("abs") + x.times(x.apply("floor").apply("exp")))
    return model(4, obj, cons=((mx + mn, -INF, 3), (red_max + red_min, -INF, 9)))


MODELS = {
    "hs6": (hs6, (-1.5, 1.5)),
    "rosenbrock": (lambda: rosenbrock(6), (-1.5, 1.5)),
    "chained": (lambda: chained_constraints(6), (0.3, 1.3)),
    "products": (products, (0.4, 1.6)),
    "maximize": (maximize, (0.5, 2.0)),
    "mixed": (mixed, (-1.0, 1.0)),
    "nonsmooth": (nonsmooth, (0.2, 2.0)),
}


# ============================================================================ checks
def dense(M) -> np.ndarray:
    if isinstance(M, spla.LinearOperator):
        return M @ np.eye(M.shape[1])
    return M.toarray() if sp.issparse(M) else np.asarray(M)


def fd_check(F, x: np.ndarray, lam: np.ndarray, h: float = 1e-6, rtol: float = 2e-6) -> None:
    """grad, jac and hess_lag against central differences of f, c and grad + jac'lam."""
    n = F.n

    def close(a, b, what):
        err = np.max(np.abs(a - b)) if a.size else 0.0
        scale = 1.0 + np.max(np.abs(b)) if b.size else 1.0
        assert err <= rtol * scale, f"{what}: max error {err:.3e} (scale {scale:.3e})"

    E = np.eye(n) * h
    g_fd = np.array([(F.f(x + E[j]) - F.f(x - E[j])) / (2 * h) for j in range(n)])
    close(F.grad(x), g_fd, "grad")
    J_fd = np.array([(F.c(x + E[j]) - F.c(x - E[j])) / (2 * h) for j in range(n)]).T.reshape(F.m, n)
    close(dense(F.jac(x)), J_fd, "jac")

    def grad_lag(z):
        return F.grad(z) + dense(F.jac(z)).T @ lam

    H_fd = np.array([(grad_lag(x + E[j]) - grad_lag(x - E[j])) / (2 * h) for j in range(n)]).T
    H = dense(F.hess_lag(x, lam))
    close(H, H_fd, "hess_lag")
    np.testing.assert_allclose(H, H.T, atol=1e-12, err_msg="hess_lag is not symmetric")
    v = np.random.default_rng(1).standard_normal(n)
    np.testing.assert_allclose(F.hvp(x, lam, v), H @ v, rtol=1e-9, atol=1e-10, err_msg="hvp")


def points(rng: np.random.Generator, n: int, box: tuple[float, float], k: int = 3) -> list[np.ndarray]:
    return [rng.uniform(box[0], box[1], n) for _ in range(k)]


# ============================================================================ finite differences
@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("name", list(MODELS))
def test_oracles_match_finite_differences(name: str, executor: str) -> None:
    build, box = MODELS[name]
    F = to_nlpform(build(), executor=executor)
    rng = np.random.default_rng(20240601)
    for x in points(rng, F.n, box):
        fd_check(F, x, rng.standard_normal(F.m))


def test_finite_difference_check_can_fail() -> None:
    """The tolerances above detect a 1e-4 relative error in a derivative."""
    F = to_nlpform(rosenbrock(4), executor="numpy")
    good = F.grad
    F.grad = lambda z: good(z) * (1 + 1e-4)
    x = np.random.default_rng(0).uniform(-1, 1, 4)
    with pytest.raises(AssertionError, match="grad"):
        fd_check(F, x, np.zeros(0))


# ============================================================================ closed forms
@pytest.mark.parametrize("executor", EXECUTORS)
def test_hs6_closed_form(executor: str) -> None:
    F = to_nlpform(hs6(), executor=executor)
    assert (F.n, F.m, F.sense) == (2, 1, "min")
    np.testing.assert_array_equal(F.x0, [-1.2, 1.0])
    rng = np.random.default_rng(6)
    for _ in range(3):
        x1, x2 = x = rng.standard_normal(2)
        lam = rng.standard_normal(1)
        assert F.f(x) == pytest.approx((1 - x1) ** 2, rel=1e-14)
        np.testing.assert_allclose(F.grad(x), [-2 * (1 - x1), 0.0], rtol=1e-14)
        np.testing.assert_allclose(F.c(x), [10 * (x2 - x1**2)], rtol=1e-13)
        np.testing.assert_allclose(dense(F.jac(x)), [[-20 * x1, 10.0]], rtol=1e-13)
        np.testing.assert_allclose(dense(F.hess_lag(x, lam)), [[2 - 20 * lam[0], 0], [0, 0]], rtol=1e-13,
                                   atol=1e-14)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_rosenbrock_closed_form(executor: str) -> None:
    n = 7
    F = to_nlpform(rosenbrock(n), executor=executor)
    x = np.random.default_rng(7).uniform(-1.2, 1.2, n)
    a, b = x[:-1], x[1:]
    f = np.sum(100 * (b - a**2) ** 2 + (1 - a) ** 2)
    g = np.zeros(n)
    g[:-1] += -400 * a * (b - a**2) - 2 * (1 - a)
    g[1:] += 200 * (b - a**2)
    H = np.zeros((n, n))
    idx = np.arange(n - 1)
    H[idx, idx] += 1200 * a**2 - 400 * b + 2
    H[idx + 1, idx + 1] += 200
    H[idx, idx + 1] += -400 * a
    H[idx + 1, idx] += -400 * a
    assert F.f(x) == pytest.approx(f, rel=1e-13)
    np.testing.assert_allclose(F.grad(x), g, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dense(F.hess_lag(x, np.zeros(0))), H, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_products_powers_closed_form(executor: str) -> None:
    F = to_nlpform(products(), executor=executor)
    x = np.random.default_rng(3).uniform(0.5, 1.5, 6)
    c = F.c(x)
    np.testing.assert_allclose(c[:3], x[:3] ** x[3:], rtol=1e-13)
    np.testing.assert_allclose(c[3:6], 2.0 ** x[:3] + x[[0, 2, 4]] / x[[1, 3, 5]], rtol=1e-13)
    u = np.sqrt(np.exp(x) * (0.5 + x))
    np.testing.assert_allclose(c[6:], [u[:3].prod(), u[3:].prod()], rtol=1e-13)
    J = dense(F.jac(x))
    # d/dx0 of x0^x3 and d/dx3
    assert J[0, 0] == pytest.approx(x[3] * x[0] ** (x[3] - 1), rel=1e-13)
    assert J[0, 3] == pytest.approx(x[0] ** x[3] * np.log(x[0]), rel=1e-13)
    # prod: d/du_r prod = prod / u_r, and du/dx = u (1 + 1/(0.5 + x)) / 2
    du = u * (1 + 1 / (0.5 + x)) / 2
    np.testing.assert_allclose(J[6, :3], u[:3].prod() / u[:3] * du[:3], rtol=1e-12)
    assert np.all(J[6, 3:] == 0) and np.all(J[7, :3] == 0)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_prod_with_a_zero_factor(executor: str) -> None:
    """prod derivatives are exact when a factor is zero (no division by it)."""
    x = V(0, 1, 2)
    prod = Expr.from_nl(NL("prod", 1, [x.to_nl()], data=(np.zeros(3, dtype=np.int64), 1)))
    F = to_nlpform(model(3, prod), executor=executor)
    z = np.array([0.0, 2.0, 3.0])
    np.testing.assert_allclose(F.grad(z), [6.0, 0.0, 0.0])
    np.testing.assert_allclose(dense(F.hess_lag(z, np.zeros(0))), [[0, 3, 2], [3, 0, 0], [2, 0, 0]])


@pytest.mark.parametrize("executor", EXECUTORS)
def test_maximize_objective_is_negated(executor: str) -> None:
    F = to_nlpform(maximize(), executor=executor)
    assert F.sense == "max"
    x = np.array([1.5, 1.0, 2.5])
    user = -np.sum((x - [1, 2, 3]) ** 2) + np.sum(np.log(x))
    assert F.f(x) == pytest.approx(-user, rel=1e-14)
    np.testing.assert_allclose(F.grad(x), 2 * (x - [1, 2, 3]) - 1 / x, rtol=1e-13)
    H = dense(F.hess_lag(x, np.zeros(1)))
    np.testing.assert_allclose(H, np.diag(2 + 1 / x**2), rtol=1e-13)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_subgradient_conventions(executor: str) -> None:
    """abs -> sign (0 at 0); max2/min2 ties go to the first argument."""
    x = V(0, 1)
    e = total(x.apply("abs")) + total(x.apply("max2", K(0.0, 2)))
    F = to_nlpform(model(2, e), executor=executor)
    np.testing.assert_allclose(F.grad(np.array([0.0, -2.0])), [1.0, -1.0])
    np.testing.assert_allclose(F.grad(np.array([0.0, 3.0])), [1.0, 2.0])


# ============================================================================ executors agree
@needs_torch
@pytest.mark.parametrize("name", list(MODELS))
def test_numpy_and_torch_agree(name: str) -> None:
    build, box = MODELS[name]
    Fn = to_nlpform(build(), executor="numpy")
    Ft = to_nlpform(build(), executor="torch")
    rng = np.random.default_rng(11)
    for x in points(rng, Fn.n, box):
        lam = rng.standard_normal(Fn.m)
        v = rng.standard_normal(Fn.n)
        assert Fn.f(x) == pytest.approx(Ft.f(x), rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(Fn.grad(x), Ft.grad(x), rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(Fn.c(x), Ft.c(x), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dense(Fn.jac(x)), dense(Ft.jac(x)), rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(dense(Fn.hess_lag(x, lam)), dense(Ft.hess_lag(x, lam)), rtol=1e-10,
                                   atol=1e-11)
        np.testing.assert_allclose(Fn.hvp(x, lam, v), Ft.hvp(x, lam, v), rtol=1e-10, atol=1e-11)


@needs_torch
def test_torch_hessian_fallbacks() -> None:
    """Too many colors: the numpy executor's sparse Hessian; too many entries: a LinearOperator
    of exact HVPs."""
    ir = rosenbrock(8)
    x = np.random.default_rng(2).uniform(-1, 1, 8)
    ref = dense(to_nlpform(ir, executor="numpy").hess_lag(x, np.zeros(0)))
    O = NLPOracles(ir, executor="torch")
    O.dag.exec.max_hessian_colors = 1
    H = O.hess_lag(x, np.zeros(0))
    assert sp.issparse(H)
    np.testing.assert_allclose(dense(H), ref, rtol=1e-12, atol=1e-12)
    O = NLPOracles(ir, executor="torch")
    O.dag.exec.max_explicit_nnz = 3
    H = O.hess_lag(x, np.zeros(0))
    assert isinstance(H, spla.LinearOperator)
    np.testing.assert_allclose(dense(H), ref, rtol=1e-11, atol=1e-11)


# ============================================================================ sparsity and size
@pytest.mark.parametrize("executor", EXECUTORS)
def test_jacobian_and_hessian_are_sparse(executor: str) -> None:
    n = 3000
    F = to_nlpform(chained_constraints(n), executor=executor)
    x = np.random.default_rng(5).uniform(0.3, 1.3, n)
    J = F.jac(x)
    H = F.hess_lag(x, np.ones(F.m))
    assert sp.issparse(J) and J.shape == (2 * (n - 1), n)
    assert J.nnz <= 4 * (n - 1)
    assert sp.issparse(H) and H.nnz <= 3 * n + 10
    # a column of the dense Jacobian, spot-checked against central differences
    j, h = n // 2, 1e-6
    e = np.zeros(n)
    e[j] = h
    np.testing.assert_allclose(J[:, j].toarray().ravel(), (F.c(x + e) - F.c(x - e)) / (2 * h), atol=2e-7)


def _deep_chain(depth: int) -> ModelIR:
    """y_{k+1} = sin(y_k) + 0.5 x1, y_0 = x0: a DAG `2 * depth` nodes deep."""
    y = V(0)
    for _ in range(depth):
        y = y.apply("sin") + V(1).scale(0.5)
    return model(2, y, cons=((y.times(y).apply("exp"), -INF, 10),))


@pytest.mark.parametrize("executor", EXECUTORS)
def test_deep_chain_has_no_recursion(executor: str) -> None:
    depth = 5000
    F = to_nlpform(_deep_chain(depth), executor=executor)
    x = np.array([0.7, 0.2])
    # forward-mode reference by hand: value, gradient and Hessian of y along the chain
    y, g, H = x[0], np.array([1.0, 0.0]), np.zeros((2, 2))
    for _ in range(depth):
        s, c = np.sin(y), np.cos(y)
        H = -s * np.outer(g, g) + c * H
        g = c * g + np.array([0.0, 0.5])
        y = s + 0.5 * x[1]
    assert F.f(x) == pytest.approx(y, rel=1e-12)
    np.testing.assert_allclose(F.grad(x), g, rtol=1e-10)
    lam = np.array([0.3])
    ey = np.exp(y * y)
    Hc = ey * (2 * np.outer(g, g) * (1 + 2 * y * y) + 2 * y * H)
    np.testing.assert_allclose(dense(F.hess_lag(x, lam)), H + lam[0] * Hc, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dense(F.jac(x)), [2 * y * ey * g], rtol=1e-10, atol=1e-300)


# ============================================================================ form contents
def test_bounds_start_point_and_layout() -> None:
    ir = model(3, total(V(0, 1, 2).apply("exp")), lower=1.0, upper=2.0, init=np.array([0.0, 1.5, 9.0]),
               cons=((V(0, 1).apply("sin"), np.array([-1, -2]), 0.5),))
    F = to_nlpform(ir)
    np.testing.assert_array_equal(F.x0, [1.0, 1.5, 2.0])  # clipped into the bounds
    np.testing.assert_array_equal(F.col_lower, [1, 1, 1])
    np.testing.assert_array_equal(F.con_lower, [-1, -2])
    np.testing.assert_array_equal(F.con_upper, [0.5, 0.5])
    assert [b.name for b in F.layout.variables] == ["x"]
    assert [(b.name, b.start, b.size) for b in F.layout.constraints] == [("c0", 0, 2)]
    assert F.layout.objective_name == "f"
    assert not F.equality_only
    # no initial value: 0 clipped into [1, 2]
    ir.variables[0].init = None
    np.testing.assert_array_equal(to_nlpform(ir).x0, [1.0, 1.0, 1.0])


def test_polynomial_only_model_is_exact() -> None:
    """A QP with equality constraints: closed-form oracles, constant Hessian."""
    x = V(0, 1, 2)
    obj = total(x.times(x)) + V(0).times(V(1)).scale(2.0) + V(2).scale(-1.0)
    F = to_nlpform(model(3, obj, cons=((total(x), 1, 1), (V(0).times(V(2)), 0, 0))))
    z = np.array([0.3, -0.2, 0.7])
    assert F.f(z) == pytest.approx(0.09 + 0.04 + 0.49 - 0.12 - 0.7)
    np.testing.assert_allclose(F.grad(z), [0.6 - 0.4, -0.4 + 0.6, 1.4 - 1])
    np.testing.assert_allclose(dense(F.jac(z)), [[1, 1, 1], [0.7, 0, 0.3]])
    np.testing.assert_allclose(dense(F.hess_lag(z, np.array([5.0, 2.0]))), [[2, 2, 2], [2, 2, 0], [2, 0, 2]])
    assert F.equality_only


def test_no_objective_and_no_constraints() -> None:
    F = to_nlpform(model(2))
    assert F.f(np.ones(2)) == 0.0 and F.m == 0
    assert F.jac(np.ones(2)).shape == (0, 2)
    assert dense(F.hess_lag(np.ones(2), np.zeros(0))).shape == (2, 2)


def test_surrogate_call_needs_the_surrogate_backend() -> None:
    call = Expr.from_nl(NL("call", 1, [NL("var", 2, data=np.array([0, 1]))], data=("net", 1)))
    with pytest.raises(SolverError, match="surrogate models need the surrogate backend"):
        to_nlpform(model(2, call))


def test_unknown_executor() -> None:
    with pytest.raises(SolverError, match="unknown nonlinear executor 'jax'"):
        to_nlpform(hs6(), executor="jax")


@needs_torch
def test_cuda_without_gpu_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SolverError) as err:
        to_nlpform(hs6(), device="cuda")
    assert err.value.message == "device 'cuda' requested but torch sees no GPU"


@needs_torch
@pytest.mark.skipif(not HAVE_TORCH or not __import__("torch").cuda.is_available(), reason="no GPU here")
def test_cuda_executor_matches_numpy() -> None:
    Fn = to_nlpform(chained_constraints(50), executor="numpy")
    Fg = to_nlpform(chained_constraints(50), device="cuda")
    x = np.random.default_rng(4).uniform(0.3, 1.3, 50)
    lam = np.ones(Fn.m)
    np.testing.assert_allclose(Fg.c(x), Fn.c(x), rtol=1e-12)
    np.testing.assert_allclose(dense(Fg.jac(x)), dense(Fn.jac(x)), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(dense(Fg.hess_lag(x, lam)), dense(Fn.hess_lag(x, lam)), rtol=1e-10, atol=1e-11)


def _run_isolated(code: str) -> None:
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr


def test_polynomial_models_do_not_import_torch() -> None:
    _run_isolated("""
        import sys
        import numpy as np
        from optdsl.ir.expr import Expr
        from optdsl.ir.model import ConBlock, ModelIR, ObjectiveIR, VarBlock
        from optdsl.lower.nlp import to_nlpform
        ir = ModelIR()
        ir.variables = [VarBlock("x", None, 0, 3, np.full(3, -np.inf), np.full(3, np.inf), np.zeros(3, bool))]
        x = Expr.variables(np.arange(3))
        ir.objectives = [ObjectiveIR("f", "min", x.times(x).reduce_sum(np.zeros(3, dtype=np.int64), 1))]
        ir.constraints = [ConBlock("c", None, x.reduce_sum(np.zeros(3, dtype=np.int64), 1), np.ones(1), np.ones(1))]
        F = to_nlpform(ir)
        z = np.ones(3)
        F.f(z); F.grad(z); F.c(z); F.jac(z); F.hess_lag(z, np.ones(1)); F.hvp(z, np.ones(1), z)
        assert 'torch' not in sys.modules, 'torch was imported'
        """)


def test_auto_executor_on_cpu_does_not_import_torch() -> None:
    _run_isolated("""
        import sys
        import numpy as np
        from optdsl.ir.expr import Expr
        from optdsl.ir.model import ModelIR, ObjectiveIR, VarBlock
        from optdsl.lower.nlp import to_nlpform
        ir = ModelIR()
        ir.variables = [VarBlock("x", None, 0, 2, np.full(2, -np.inf), np.full(2, np.inf), np.zeros(2, bool))]
        e = Expr.variables(np.arange(2)).apply("exp").reduce_sum(np.zeros(2, dtype=np.int64), 1)
        ir.objectives = [ObjectiveIR("f", "min", e)]
        F = to_nlpform(ir)
        F.grad(np.ones(2)); F.hess_lag(np.ones(2), np.zeros(0))
        assert 'torch' not in sys.modules, 'torch was imported'
        """)


# ============================================================================ from model text
TEXT_MODEL = """set N := 1..5;
param a {i in N} := i / 2;
var x {i in N} >= 0.1, <= 3 := a[i];
var y >= 2;
maximize f: sum {i in N} (log(x[i]) - a[i] * x[i]^3) + prod {i in N} sqrt(x[i]) - (y - 3)^2;
subject to chain {i in N: i < 5}: exp(sin(x[i])) * x[i+1] / (1 + x[i]^2) <= 2;
subject to mx {i in N}: max(x[i], 1) + abs(x[i] - 2) <= 4;
subject to pw: sum {i in N} x[i]^1.5 + y^y = 9;
subject to tot: sum {i in N} x[i] * x[i] <= 10;
"""


def _parse(text: str) -> ModelIR:
    from optdsl.api.model import parse_model

    return parse_model(text).ir


@pytest.mark.parametrize("executor", EXECUTORS)
def test_text_model_oracles(executor: str) -> None:
    ir = _parse(TEXT_MODEL)
    F = to_nlpform(ir, executor=executor)
    assert (F.n, F.m, F.sense) == (6, 11, "max")
    np.testing.assert_array_equal(F.x0, [0.5, 1.0, 1.5, 2.0, 2.5, 2.0])  # y: 0 clipped to its bound 2
    np.testing.assert_array_equal(F.con_lower, [-INF] * 9 + [9, -INF])
    np.testing.assert_array_equal(F.con_upper, [2] * 4 + [4] * 5 + [9, 10])
    assert [(b.name, b.start, b.size) for b in F.layout.constraints] == [
        ("chain", 0, 4), ("mx", 4, 5), ("pw", 9, 1), ("tot", 10, 1)]
    x = np.array([0.7, 1.3, 0.4, 2.2, 1.7, 2.6])
    a = np.arange(1, 6) / 2
    xs, y = x[:5], x[5]
    user = np.sum(np.log(xs) - a * xs**3) + np.prod(np.sqrt(xs)) - (y - 3) ** 2
    assert F.f(x) == pytest.approx(-user, rel=1e-13)
    c = F.c(x)
    np.testing.assert_allclose(c[:4], np.exp(np.sin(xs[:4])) * xs[1:] / (1 + xs[:4] ** 2), rtol=1e-13)
    np.testing.assert_allclose(c[4:9], np.maximum(xs, 1) + np.abs(xs - 2), rtol=1e-13)
    assert c[9] == pytest.approx(np.sum(xs**1.5) + y**y, rel=1e-13)
    rng = np.random.default_rng(8)
    for z in points(rng, 6, (0.3, 2.5)):
        fd_check(F, z, rng.standard_normal(F.m))


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("text, x_opt, lam_opt", [
    # Hock-Schittkowski 6 (from text: a polynomial model, no DAG)
    ("var x1 := -1.2; var x2 := 1; minimize f: (1 - x1)^2; subject to c: 10 * (x2 - x1^2) = 0;",
     [1.0, 1.0], [0.0]),
    # min x + y s.t. x^2 + y^2 = 2: optimum (-1, -1) with multiplier 1/2
    ("var x := -0.5; var y := -1.5; minimize f: x + y; subject to circle: x^2 + y^2 = 2;",
     [-1.0, -1.0], [0.5]),
    # min sum exp(x_i) - 2 x_i s.t. sum x = 3: x = 1, multiplier 2 - e
    ("set N := 1..3; var x {N} := 0; minimize f: sum {i in N} (exp(x[i]) - 2 * x[i]);"
     " subject to total: sum {i in N} x[i] = 3;", [1.0, 1.0, 1.0], [2 - np.e]),
])
def test_known_optima_satisfy_kkt(text: str, x_opt: list, lam_opt: list, executor: str) -> None:
    """At the known optimum: c(x*) = 0 and grad f + J' lam* = 0."""
    F = to_nlpform(_parse(text), executor=executor)
    x, lam = np.array(x_opt), np.array(lam_opt)
    np.testing.assert_allclose(F.c(x), F.con_lower, atol=1e-14)
    np.testing.assert_allclose(F.grad(x) + dense(F.jac(x)).T @ lam, 0.0, atol=1e-14)
    fd_check(F, x + 0.1, np.ones(F.m))
