"""The surrogate benchmark's own pieces: the digits problem's target position, the history
thinning behind the stored results, and the two baselines (random line search, NOMAD)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_surrogates as bs  # noqa: E402
import surrogate_problems as sp  # noqa: E402

from optdsl.backends import SolveOptions  # noqa: E402
from optdsl.lower.surrogate import to_surrogate_form  # noqa: E402


def _form(P: sp.Problem):
    return to_surrogate_form(P.model.ir, SolveOptions())


def test_moving_the_target_image_permutes_the_coordinates() -> None:
    K, t = 12, 5
    first, moved = sp.digits(K=K), sp.digits(K=K, target=t)
    np.testing.assert_allclose(first.info["target"], moved.info["target"])
    assert moved.info["x_star"][t - 1] == 10.0 and np.sum(moved.info["x_star"] == 10.0) == 1
    X = np.random.default_rng(0).uniform(-10, 10, (6, K))
    perm = list(range(1, K))
    perm.insert(t - 1, 0)  # column j of the moved problem is column perm[j] of the first
    with torch.no_grad():
        a = first.net(torch.as_tensor(X)).numpy()
        b = moved.net(torch.as_tensor(X[:, perm])).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_thinning_keeps_the_best_value_at_the_table_columns() -> None:
    rng = np.random.default_rng(3)
    n = 30000
    best = np.maximum.accumulate(rng.standard_normal(n) + np.linspace(0, 20, n))
    h = {"evaluations": list(np.arange(1.0, n + 1)), "best": list(best), "objective": list(best),
         "time": list(np.linspace(0, 2, n))}
    t = bs.thin(h)
    assert len(t["best"]) < 400 and t["evaluations"][-1] == n and t["best"][-1] == pytest.approx(best[-1])
    for k in (*bs.MARKS, n):
        assert bs.best_at(t, k) == pytest.approx(bs.best_at(h, k), rel=1e-11)
    for k in rng.integers(1, n, 50):  # elsewhere the stored curve may only lag
        assert bs.best_at(t, int(k)) <= bs.best_at(h, int(k)) + 1e-9


def test_random_line_search_improves_within_its_budget() -> None:
    P = sp.digits(K=20)
    form = _form(P)
    h = bs.random_line_search(form, seed=0, max_evals=1500)
    assert h["evaluations"][-1] <= 1500
    assert h["best"][0] < -0.1 and h["best"][-1] > -1e-3  # f(x0) ≈ -0.3; f(x*) ≈ 0
    assert np.all(np.diff(h["best"]) >= 0)


def test_nomad_in_100_dimensions_spends_its_budget() -> None:
    pytest.importorskip("PyNomad")
    assert bs.nomad_params(2) == [] and "DIRECTION_TYPE ORTHO 2N" in bs.nomad_params(100)
    # with NOMAD's defaults 300 evaluations at n = 100 take minutes (quadratic models)
    P = sp.digits(K=100, target=51)
    h = bs.nomad(_form(P), seed=0, max_evals=300)
    assert h["evaluations"][-1] == 300
    assert h["best"][-1] > h["best"][0]
