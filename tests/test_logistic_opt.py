"""Constrained logistic regression written as a `.opt` model (examples/logistic.opt) on real data:
LIBSVM's breast-cancer_scale from the shared corpora and scikit-learn's breast_cancer, solved by
`sketch_newton` through the language and checked against scipy's SLSQP on the same numbers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize

import optdsl as od

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("OPTDSL_CORPORA", ROOT.parent / "shared" / "corpora"))
BREAST_CANCER_SCALE = CORPORA / "libsvm" / "breast-cancer_scale.txt"
MODEL = (ROOT / "examples" / "logistic.opt").read_text().replace('data "logistic.json";', "")


def read_libsvm(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Dense features and +-1 labels from a LIBSVM text file (`label idx:value ...`)."""
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    y = np.array([float(r[0]) for r in rows])
    pairs = [[p.split(":") for p in r[1:]] for r in rows]
    n = max(int(i) for r in pairs for i, _ in r)
    X = np.zeros((len(rows), n))
    for k, r in enumerate(pairs):
        for i, v in r:
            X[k, int(i) - 1] = float(v)
    labels = np.unique(y)
    return X, np.where(y == labels.max(), 1.0, -1.0)


def constraints(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n)), rng.standard_normal(m)


def slsqp_reference(X, y, A, b) -> float:
    def f(w):
        return float(np.mean(np.logaddexp(0.0, -y * (X @ w))))

    cons = [{"type": "eq", "fun": lambda w: A @ w - b}, {"type": "eq", "fun": lambda w: w @ w - 1.0}]
    res = minimize(f, np.ones(X.shape[1]), method="SLSQP", constraints=cons,
                   options={"ftol": 1e-14, "maxiter": 1000})
    assert res.success, res.message
    return float(res.fun)


def solve_opt(X, y, A, b, **options) -> od.Result:
    N, n = X.shape
    data = {"N": N, "n": n, "m": A.shape[0], "X": X, "y": y, "A": A, "b": b}
    model = od.parse_model(MODEL, data=data, name="logistic.opt")
    assert model.problem_class == "NLP with equalities only"
    return model.solve(**options)


@pytest.mark.skipif(not BREAST_CANCER_SCALE.is_file(), reason=f"LIBSVM data not found at {BREAST_CANCER_SCALE}")
def test_libsvm_breast_cancer_scale_as_opt_model():
    X, y = read_libsvm(BREAST_CANCER_SCALE)
    A, b = constraints(X.shape[1], 5, seed=1)  # 10 features: 5 random rows plus the sphere stay feasible
    r = solve_opt(X, y, A, b, solver="sketch_newton")  # its default Kaczmarz sketch
    assert r.backend == "sketch_newton"
    assert r.status.value == "optimal", r.message
    assert r.objective == pytest.approx(slsqp_reference(X, y, A, b), abs=1e-4)
    w = np.array([r.value("w", k) for k in range(1, X.shape[1] + 1)])
    assert np.allclose(A @ w, b, atol=1e-4) and abs(w @ w - 1) < 1e-4


def test_sklearn_breast_cancer_as_opt_model():
    datasets = pytest.importorskip("sklearn.datasets")
    raw = datasets.load_breast_cancer()
    X = (raw.data - raw.data.mean(axis=0)) / raw.data.std(axis=0)
    y = np.where(raw.target == 1, 1.0, -1.0)
    A, b = constraints(X.shape[1], 10, seed=0)
    # nearly collinear standardized features: the outer method with exact inner solves
    r = solve_opt(X, y, A, b, solver="sketch_newton", sketch="direct", tol=1e-8)
    assert r.status.value == "optimal", r.message
    assert r.objective == pytest.approx(slsqp_reference(X, y, A, b), abs=1e-7)
