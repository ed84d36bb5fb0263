"""cDSM's directions and radius rules, the evaluator's cache, budget and time limit, seeds."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from optdsl.solvers.cdsm.evaluator import Evaluator, OutOfBudget, box_scale  # noqa: E402
from optdsl.solvers.cdsm.steps import CDSM, householder, inf_sphere, poll_directions, regular_simplex  # noqa: E402

import optdsl as od  # noqa: E402
from optdsl.errors import SolverError  # noqa: E402
from optdsl.lower.surrogate import to_surrogate_form  # noqa: E402
from optdsl.lower.surrogate_penalty import PenalizedSurrogate  # noqa: E402


def test_directions() -> None:
    rng = np.random.default_rng(0)
    D = inf_sphere(rng, 50, 7)
    np.testing.assert_allclose(np.max(np.abs(D), axis=1), 1.0)
    H = householder(rng, 6)
    np.testing.assert_allclose(H @ H.T, np.eye(6), atol=1e-12)
    np.testing.assert_allclose(H, H.T)
    for n in (1, 2, 5, 12):
        S = regular_simplex(n)
        assert S.shape == (n + 1, n)
        G = S @ S.T
        np.testing.assert_allclose(np.diag(G), 1.0)
        off = G[~np.eye(n + 1, dtype=bool)]
        np.testing.assert_allclose(off, -1.0 / n, atol=1e-12)
    for kind, count in (("2n", 10), ("n+1", 6)):
        P = poll_directions(rng, 5, kind)
        assert P.shape == (count, 5)
        np.testing.assert_allclose(np.max(np.abs(P), axis=1), 1.0)
        # a positive spanning set: every direction g has a poll direction at an acute angle
        G = rng.standard_normal((2000, 5))
        Pn = P / np.linalg.norm(P, axis=1, keepdims=True)
        best = np.max((G / np.linalg.norm(G, axis=1, keepdims=True)) @ Pn.T, axis=1)
        assert best.min() > (1 / 5 if kind == "n+1" else 1 / np.sqrt(5)) - 1e-9


class _Quadratic:
    """f̃(u) = -|u - c|^2 with the evaluator interface CDSM uses."""

    def __init__(self, c: np.ndarray) -> None:
        self.c, self.calls = c, 0

    def __call__(self, U: np.ndarray) -> np.ndarray:
        self.calls += len(np.atleast_2d(U))
        return -np.sum((np.atleast_2d(U) - self.c) ** 2, axis=1)

    def clip(self, U: np.ndarray) -> np.ndarray:
        return U


def test_radius_rules() -> None:
    c = np.zeros(3)
    ev = _Quadratic(c)
    dsm = CDSM(ev, np.random.default_rng(0), c, 0.0, r0=1.0, r_min=0.1, r_max=4.0, cover=False, search=False)
    radii = []
    while not dsm.converged:
        assert dsm.iteration() is False  # nothing beats the maximizer
        radii.append(dsm.r)
    assert radii == [0.5, 0.25, 0.125, 0.1]
    assert ev.calls == 4 * 6  # the 2n poll, opportunistic: every point of each failed poll
    far = CDSM(_Quadratic(np.full(3, 50.0)), np.random.default_rng(0), np.zeros(3), -7500.0, r0=1.0, r_min=0.1,
               r_max=4.0, cover=False, search=False)
    seen = []
    for _ in range(4):
        assert far.iteration() is True
        seen.append(far.r)
    assert seen == [2.0, 4.0, 4.0, 4.0]


def _small_model() -> od.Model:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    m = od.Model("m")
    x = m.var("x", range(1, 3), lb=-2, ub=2)
    phi = m.surrogate("phi", net, n_in=2, n_out=1)
    m.maximize("g", phi(x)[1] - 0.1 * (x[1] ** 2 + x[2] ** 2))
    return m


def test_evaluator_cache_budget_and_projection() -> None:
    form = to_surrogate_form(_small_model().ir)
    pen = PenalizedSurrogate(form)
    scale = box_scale(form.col_lower, form.col_upper)
    np.testing.assert_allclose(scale, [0.2, 0.2])
    ev = Evaluator(pen, scale, max_evals=5)
    U = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [50.0, 0.0]])
    F = ev(U)
    assert ev.evals == 3 and F[0] == F[2]  # a repeated point is evaluated once
    assert ev.clip(U)[3].tolist() == [10.0, 0.0]  # projected onto x in [-2, 2]: u in [-10, 10]
    ev(U[:2])
    assert ev.evals == 3 and ev.cache_hits == 2
    with pytest.raises(OutOfBudget):
        ev(np.random.default_rng(0).uniform(-5, 5, (8, 2)))
    assert ev.evals == 5
    assert ev.history["evaluations"] == [3.0, 5.0]
    timed = Evaluator(pen, scale, max_evals=100, time_limit=0.0)
    with pytest.raises(OutOfBudget):
        timed(U)


@pytest.mark.parametrize("solver", ["cdsm", "attack_dfo"])
def test_seeds_budgets_and_limits(solver: str) -> None:
    m = _small_model()
    r1 = m.solve(solver, seed=3, max_evals=80, r_min=1e-9)
    r2 = m.solve(solver, seed=3, max_evals=80, r_min=1e-9)
    r3 = m.solve(solver, seed=4, max_evals=80, r_min=1e-9)
    assert r1.history["best"] == r2.history["best"] and r1.history["best"] != r3.history["best"]
    assert r1.stats["phi_evaluations"] == 80 and r1.status == od.TerminationStatus.ITERATION_LIMIT
    assert r1.solution_status == od.SolutionStatus.FEASIBLE
    assert np.all(np.diff(r1.history["best"]) >= 0) and r1.history["evaluations"][-1] == 80
    assert r1.objective == pytest.approx(r1.history["objective"][-1])
    timed = m.solve(solver, seed=0, time_limit=0.5, max_evals=10**9, r_min=1e-300, r_atk_min=1e-300) \
        if solver == "attack_dfo" else m.solve(solver, seed=0, time_limit=0.5, max_evals=10**9, r_min=1e-300)
    # it stops at the limit, unless the radius reached its minimum before
    assert timed.times["solve_s"] < 3.0
    assert timed.status == od.TerminationStatus.TIME_LIMIT or timed.times["solve_s"] < 0.5
    with pytest.raises(SolverError, match="has no option 'max_eval'"):
        m.solve(solver, max_eval=3)


def test_hybrid_accounting() -> None:
    m = _small_model()
    r = m.solve("attack_dfo", seed=0, max_evals=300)
    s = r.stats
    # every attack step without a sufficient increase is followed by one cDSM iteration
    assert s["dsm_iterations"] in (s["attack_steps"] - s["attack_sufficient"],
                                   s["attack_steps"] - s["attack_sufficient"] + 1)
    assert s["attack_backward"] == s["attack_steps"] and s["attack_forward"] >= s["attack_steps"]
    p = m.solve("attack_dfo", seed=0, max_evals=300, attack="pgd", pgd_steps=4)
    assert p.stats["attack_backward"] == 4 * p.stats["attack_steps"]
    fd = m.solve("attack_dfo", seed=0, max_evals=300, attack_gradient="fd")
    assert fd.stats["attack_backward"] == 0 and fd.stats["attack_gradient"] == "differences"
    assert fd.stats["attack_forward"] >= 3 * fd.stats["attack_steps"]


def test_cuda_request_without_a_gpu_is_a_clear_error() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    for solver in ("attack_dfo", "cdsm"):
        with pytest.raises(SolverError, match="torch sees no GPU"):
            _small_model().solve(solver, device="cuda", max_evals=10)
