"""External checks of the surrogate backends at reduced budgets (full runs: benchmarks/bench_surrogates.py).

Each problem trains its network here, seeded (benchmarks/surrogate_problems.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import surrogate_problems as sp  # noqa: E402

from optdsl.results import SolutionStatus  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_digits_both_approach_the_known_solution_and_the_hybrid_is_five_times_faster() -> None:
    P = sp.digits(K=20, seed=0)
    hybrid = P.model.solve("attack_dfo", seed=0, max_evals=1000)
    cdsm = P.model.solve("cdsm", seed=0, max_evals=5000)
    for r in (hybrid, cdsm):
        w = np.exp(r.x - r.x.max())
        w /= w.sum()
        assert r.x[0] == pytest.approx(10.0, abs=0.5) and w[0] > 1 - 1e-6  # softmax(x) ≈ e_1
        assert r.objective > -1e-10  # f(x*) = -‖Φ(x*) - Φ(img_1)‖² ≈ 0; f(x0) ≈ -0.3
    assert np.mean(np.abs(hybrid.x[1:] + 10.0)) < 1.0  # the others pushed to the lower bound
    five_thousand = sp.best_at(cdsm.history, 5000)
    assert sp.best_at(hybrid.history, 1000) >= five_thousand - 1e-15
    assert sp.best_at(hybrid.history, 100) > sp.best_at(cdsm.history, 100)


def test_analytic_maximizer_with_an_active_output_constraint() -> None:
    from scipy.optimize import minimize

    P = sp.analytic(seed=0)
    net = P.net

    def phi(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.as_tensor(x[None, :]))[0].numpy()

    # an independent solver on the same network: SLSQP with finite differences
    ref = minimize(lambda x: -phi(x)[0], np.array([0.5, 0.5]), method="SLSQP", bounds=[(0, 1), (0, 1)],
                   constraints=[{"type": "ineq", "fun": lambda x: 1.0 - phi(x)[1]}], options={"ftol": 1e-12})
    assert ref.success
    for solver in ("attack_dfo", "cdsm"):
        r = P.model.solve(solver, seed=0, max_evals=3000)
        assert r.solution_status == SolutionStatus.FEASIBLE
        assert phi(r.x)[1] <= 1.0 + 1e-6  # the output constraint, as the network computes it
        assert phi(r.x)[1] >= 1.0 - 1e-3  # ... and active
        assert np.max(np.abs(r.x - P.info["x_star"])) < 0.02  # the exact functions' maximizer
        assert abs(r.objective - P.info["g_star"]) < 0.03  # fit error of the network
        assert r.objective >= -ref.fun - 2e-4 and np.max(np.abs(r.x - ref.x)) < 1e-2


def test_reactor_hybrid_at_least_as_good_as_cdsm_over_five_seeds() -> None:
    P = sp.reactor(seed=0)
    at = {"attack_dfo": [], "cdsm": []}
    for solver in at:
        for seed in range(5):
            r = P.model.solve(solver, seed=seed, max_evals=1000)
            assert r.solution_status == SolutionStatus.FEASIBLE and r.x[0] * r.x[1] <= 500 + 1e-6
            at[solver].append([sp.best_at(r.history, 100), sp.best_at(r.history, 1000)])
    hybrid, cdsm = np.array(at["attack_dfo"]), np.array(at["cdsm"])
    assert np.all(hybrid.mean(axis=0) >= cdsm.mean(axis=0) - 1e-9)
    # the surrogate's optimum against the simulator: the true constrained yield is 0.784
    A, B = sp.reactor_simulate(np.array([r.x[0]]), np.array([r.x[1]]))[0]
    assert B == pytest.approx(0.784, abs=0.02)
