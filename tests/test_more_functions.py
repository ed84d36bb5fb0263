"""sinh cosh asin acos asinh acosh atanh of variables: exact first and second derivatives (numpy
and torch executors) against central finite differences at seeded random points inside each
function's domain; one small NLP per function solved by ipopt, whose optimum is found
independently with scipy's bounded scalar minimizer; the Python API, LaTeX, from_pyomo and the
Pyomo bridge."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import optdsl as od
from optdsl.backends import get
from optdsl.errors import SolverError
from optdsl.lower.nlp import to_nlpform

# function -> (numpy function, an interval inside its domain)
FUNCS = {
    "sinh": (np.sinh, (-2.0, 2.0)),
    "cosh": (np.cosh, (-2.0, 2.0)),
    "asin": (np.arcsin, (-0.8, 0.8)),
    "acos": (np.arccos, (-0.8, 0.8)),
    "asinh": (np.arcsinh, (-3.0, 3.0)),
    "acosh": (np.arccosh, (1.2, 4.0)),
    "atanh": (np.arctanh, (-0.8, 0.8)),
}
EXECUTORS = ["numpy", pytest.param("torch", marks=pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="needs torch"))]
needs_ipopt = pytest.mark.skipif(bool(get("ipopt").missing_packages()), reason="ipopt needs cyipopt")


def _derivative_model(f: str, lo: float, hi: float) -> od.Model:
    """f in the objective (times another variable: cross terms in the Hessian) and in
    constraints, nested once (f(x)^2, f of an affine argument kept inside the domain)."""
    mid = (lo + hi) / 2
    return od.parse_model(f"""
        param lo := {lo}; param hi := {hi};
        var x {{1..3}} >= lo, <= hi;
        minimize o: sum {{i in 1..3}} {f}(x[i]) * x[(i mod 3) + 1] + {f}(x[1])^2;
        subject to c {{i in 1..2}}: {f}({mid} + 0.5 * (x[i] - {mid})) + x[i + 1] * {f}(x[i + 1]) <= 10;
        subject to d: exp({f}(x[3]) / 10) * {f}(x[1]) >= -100;
    """)


def _check_derivatives(F, x: np.ndarray, lam: np.ndarray) -> None:
    """Gradient, Jacobian and Lagrangian Hessian (both triangles stored) against central
    differences of f, c and of the gradient of the Lagrangian."""
    np.testing.assert_allclose(F.grad(x), _fd_grad(F.f, x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(F.jac(x).toarray(), _fd_grad(F.c, x), rtol=1e-6, atol=1e-6)
    lag_grad = lambda z: F.grad(z) + F.jac(z).T @ lam  # noqa: E731
    np.testing.assert_allclose(F.hess_lag(x, lam).toarray(), _fd_grad(lag_grad, x), rtol=1e-5, atol=1e-5)


def _fd_grad(fun, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    cols = []
    for k in range(len(x)):
        e = np.zeros_like(x)
        e[k] = h
        cols.append((np.asarray(fun(x + e)) - np.asarray(fun(x - e))) / (2 * h))
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("f", sorted(FUNCS))
def test_derivatives_match_finite_differences(f, executor):
    _, (lo, hi) = FUNCS[f]
    F = to_nlpform(_derivative_model(f, lo, hi).ir, executor=executor)
    rng = np.random.default_rng(11)
    margin = 0.05 * (hi - lo)  # finite-difference steps stay inside the domain
    for _ in range(4):
        _check_derivatives(F, rng.uniform(lo + margin, hi - margin, F.n), rng.normal(size=F.m))


def test_function_values_match_numpy():
    """The objective's value is numpy's function, on a row of points (vectorized path)."""
    for f, (npf, (lo, hi)) in FUNCS.items():
        m = od.parse_model(f"var x {{1..5}} >= {lo}, <= {hi}; minimize o: sum {{i in 1..5}} i * {f}(x[i]);")
        F = to_nlpform(m.ir, executor="numpy")
        x = np.random.default_rng(3).uniform(lo, hi, 5)
        assert F.f(x) == pytest.approx(float(np.sum(np.arange(1, 6) * npf(x))), rel=1e-12)


# function -> (objective text, its numpy twin, bounds); each is convex with one minimum in the bounds
NLPS = {
    "sinh": ("sinh(x) + (x - 1)^2", lambda x: np.sinh(x) + (x - 1) ** 2, (-1.0, 2.0)),
    "cosh": ("cosh(x) - 2 * x", lambda x: np.cosh(x) - 2 * x, (-3.0, 3.0)),
    "asin": ("asin(x) + (x - 0.8)^2", lambda x: np.arcsin(x) + (x - 0.8) ** 2, (-0.5, 1.0)),
    "acos": ("acos(x) + 2 * (x - 0.2)^2", lambda x: np.arccos(x) + 2 * (x - 0.2) ** 2, (-0.5, 0.8)),
    "asinh": ("asinh(x) + (x - 1)^2", lambda x: np.arcsinh(x) + (x - 1) ** 2, (-3.0, 3.0)),
    "acosh": ("acosh(x) + (x - 3)^2", lambda x: np.arccosh(x) + (x - 3) ** 2, (1.5, 5.0)),
    "atanh": ("atanh(x) + x^2 - 2 * x", lambda x: np.arctanh(x) + x**2 - 2 * x, (-0.5, 0.9)),
}


@needs_ipopt
@pytest.mark.parametrize("f", sorted(NLPS))
def test_small_nlp_reaches_the_independent_optimum(f):
    text, fun, (lo, hi) = NLPS[f]
    ref = minimize_scalar(fun, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    assert lo + 1e-3 < ref.x < hi - 1e-3  # an interior optimum: the derivatives matter
    r = od.parse_model(f"var x >= {lo}, <= {hi}; minimize o: {text};").solve(solver="ipopt")
    assert r.objective == pytest.approx(ref.fun, abs=1e-7)
    assert r.value("x") == pytest.approx(ref.x, abs=1e-5)


@needs_ipopt
def test_default_backend_is_ipopt():
    text, fun, (lo, hi) = NLPS["asin"]
    r = od.parse_model(f"var x >= {lo}, <= {hi}; minimize o: {text};").solve()
    assert r.backend == "ipopt"
    assert r.objective == pytest.approx(minimize_scalar(fun, bounds=(lo, hi), method="bounded").fun, abs=1e-6)


def test_python_api_twin_has_the_text_models_ir():
    text = od.parse_model("""
        var x {1..7} >= 1.1, <= 1.5;
        minimize o: sinh(x[1]) + cosh(x[2]) + asinh(x[5]) + acosh(x[6]);
        subject to c: asin(x[3] - 1) + acos(x[4] - 1) + atanh(x[7] - 1) <= 2;
    """)
    m = od.Model("twin")
    x = m.var("x", range(1, 8), lb=1.1, ub=1.5)
    m.minimize("o", od.sinh(x[1]) + od.cosh(x[2]) + od.asinh(x[5]) + od.acosh(x[6]))
    m.constraint("c", od.asin(x[3] - 1) + od.acos(x[4] - 1) + od.atanh(x[7] - 1) <= 2)
    assert m.print_ir() == text.print_ir()
    for f in FUNCS:
        assert f + "(" in m.print_ir()
    assert od.parse_model(m.to_opt()).print_ir() == text.print_ir()


def test_latex_names():
    tex = od.parse_model("var x >= 1.1, <= 1.5; minimize o: sinh(x) + asin(x - 1) + acosh(x);").to_latex()
    assert r"\sinh" in tex and r"\arcsin" in tex and r"\operatorname{arcosh}" in tex


def test_data_values():
    m = od.parse_model("param a := asin(0.5) + atan2(1, 1) + atan(1, 1) + acosh(1); var x >= 0, <= 1;"
                       "maximize z: a * x;")
    assert m.solve(solver="highs").objective == pytest.approx(np.pi / 6 + np.pi / 2, rel=1e-9)


# ------------------------------------------------------------------------------ atan2
ATAN2 = """
    var x {1..3} >= 0.3, <= 2; var y {1..3} >= -2, <= 2;
    minimize o: sum {i in 1..3} atan2(y[i], x[i]) * x[(i mod 3) + 1] + atan(y[1] * y[2], 1 + x[3]);
    subject to c {i in 1..2}: atan2(y[i] + y[i + 1], 2) + atan2(1, x[i]) * atan2(y[i], x[i + 1]) <= 3;
"""


@pytest.mark.parametrize("executor", EXECUTORS)
def test_atan2_derivatives_match_finite_differences(executor):
    F = to_nlpform(od.parse_model(ATAN2).ir, executor=executor)
    rng = np.random.default_rng(17)
    for _ in range(4):
        x = np.concatenate([rng.uniform(0.4, 1.9, 3), rng.uniform(-1.9, 1.9, 3)])
        _check_derivatives(F, x, rng.normal(size=F.m))


@needs_ipopt
def test_atan2_nlp_and_api_twin():
    from scipy.optimize import minimize

    text = od.parse_model("var x >= 0.5, <= 2; var y >= -1, <= 2; minimize o: (x - 1)^2 + (y - 1)^2 + atan2(y, x);")
    ref = minimize(lambda z: (z[0] - 1) ** 2 + (z[1] - 1) ** 2 + np.arctan2(z[1], z[0]), [1.0, 1.0],
                   bounds=[(0.5, 2), (-1, 2)], method="L-BFGS-B", options={"ftol": 1e-14, "gtol": 1e-12})
    r = text.solve(solver="ipopt")
    assert r.objective == pytest.approx(ref.fun, abs=1e-7)
    assert [r.value("x"), r.value("y")] == pytest.approx(list(ref.x), abs=1e-5)
    m = od.Model("twin")
    x, y = m.var("x", lb=0.5, ub=2), m.var("y", lb=-1, ub=2)
    m.minimize("o", (x - 1) ** 2 + (y - 1) ** 2 + od.atan2(y, x))
    assert m.print_ir() == text.print_ir()
    assert "atan2(" in m.print_ir()


# ------------------------------------------------------------------------------- Pyomo
needs_pyomo = pytest.mark.skipif(importlib.util.find_spec("pyomo") is None, reason="needs pyomo")


@needs_pyomo
def test_from_pyomo_translates_the_functions():
    import pyomo.environ as pe

    from optdsl.api.from_pyomo import from_pyomo

    pm = pe.ConcreteModel()
    pm.x = pe.Var(bounds=(1.2, 1.5), initialize=1.3)
    pm.o = pe.Objective(expr=pe.sinh(pm.x) + pe.cosh(pm.x) + pe.asin(pm.x - 1) + pe.acos(pm.x - 1)
                        + pe.asinh(pm.x) + pe.acosh(pm.x) + pe.atanh(pm.x - 1))
    om = from_pyomo(pm)
    F = to_nlpform(om.ir, executor="numpy")
    for v in np.random.default_rng(5).uniform(1.2, 1.5, 4):
        pm.x.set_value(float(v))
        assert F.f(np.array([v])) == pytest.approx(pe.value(pm.o), rel=1e-12)


@needs_pyomo
def test_pyomo_bridge_builds_the_same_functions():
    import pyomo.environ as pe
    from optdsl.solvers.pyomo_bridge.build import to_pyomo

    for f, (_, (lo, hi)) in FUNCS.items():
        ir = _derivative_model(f, lo, hi).ir
        form = to_nlpform(ir, executor="numpy")
        built = to_pyomo(ir)
        rows = [c for c in built.con_data if c is not None]
        for x in np.random.default_rng(9).uniform(lo, hi, (3, form.n)):
            for v, val in zip(built.var_data, x, strict=True):
                v.set_value(float(val), skip_validation=True)
            assert pe.value(built.objective) == pytest.approx(form.f(x), rel=1e-10)
            np.testing.assert_allclose([pe.value(c.body) for c in rows], form.c(x), rtol=1e-10)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_lvhba_batched_rows_evaluate_the_functions():
    """The bilevel backend's batched torch rows agree with the numpy executor, point by point."""
    import torch
    from optdsl.solvers.lvhba.torch_model import BatchedRows

    for f, (_, (lo, hi)) in FUNCS.items():
        ir = _derivative_model(f, lo, hi).ir
        form = to_nlpform(ir, executor="numpy")
        rows = BatchedRows([c.expr for c in ir.constraints], form.n, torch.device("cpu"))
        X = np.random.default_rng(13).uniform(lo, hi, (form.n, 4))
        got = rows(torch.as_tensor(X)).numpy()
        want = np.stack([form.c(X[:, b]) for b in range(4)], axis=1)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@needs_pyomo
def test_pyomo_bridge_refuses_atan2():
    from optdsl.solvers.pyomo_bridge.build import to_pyomo

    ir = od.parse_model("var x >= 0.5, <= 2; var y; minimize o: atan2(y, x) + y^2;").ir
    with pytest.raises(SolverError, match="cannot express 'atan2'"):
        to_pyomo(ir)
