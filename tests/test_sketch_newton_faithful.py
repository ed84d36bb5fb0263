"""sketch_newton: the reference code's choices (Frobenius norms, behaviour at the penalty limits,
the absolute singularity test) and the options beside them (spectral norms, the relative
singularity test, the auto inner solver, progress lines, the superlinear schedules)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from optdsl.solvers.sketch_newton import algorithm
from optdsl.solvers.sketch_newton.backend import SketchNewtonBackend

from optdsl.backends import SolveOptions
from optdsl.lower.forms import NLPForm
from optdsl.results import SolutionStatus, TerminationStatus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import nlp_models as models  # noqa: E402


def hs6(scale: float = 1.0) -> NLPForm:
    """HS6 with its constraint multiplied by `scale` (same solution (1, 1) for any scale)."""
    return NLPForm(
        n=2, m=1, x0=np.array([-1.2, 1.0]),
        f=lambda x: (1.0 - x[0]) ** 2,
        grad=lambda x: np.array([-2.0 * (1.0 - x[0]), 0.0]),
        c=lambda x: np.array([scale * 10.0 * (x[1] - x[0] ** 2)]),
        jac=lambda x: np.array([[-scale * 20.0 * x[0], scale * 10.0]]),
        hess_lag=lambda x, lam: np.array([[2.0 - scale * 20.0 * lam[0], 0.0], [0.0, 0.0]]),
        name="hs6",
    )  # fmt: skip


def solve(form: NLPForm, **opts):
    return SketchNewtonBackend().solve(form, SolveOptions(seed=0, time_limit=60, backend_options=opts))


def test_norms_are_frobenius_by_default_and_spectral_on_request() -> None:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 6))
    H, G = A + A.T, rng.standard_normal((2, 6))
    for norm, want in (("frobenius", "fro"), ("spectral", 2)):
        geo = algorithm._Geometry(algorithm.Params(norm=norm), dense=True)
        geo.update(H, G)
        assert geo.norm_g == pytest.approx(np.linalg.norm(G, want))
        assert geo.norm_k == pytest.approx(np.linalg.norm(geo.K, want), rel=1e-12 if norm == "frobenius" else 1e-9)
        if geo.modified:  # B = H + (xi_B + ||H||) I, with the same norm in the shift
            shift = 0.1 + np.linalg.norm(H, want)
            assert np.allclose(geo.B, H + shift * np.eye(6))
            if norm == "frobenius":
                assert geo.norm_b == pytest.approx(np.linalg.norm(geo.B, "fro"))


def test_relative_singularity_test_is_scale_invariant() -> None:
    # Scaling the constraint by 1e-3 puts lambda_min(G G^T) below the reference's absolute 1e-2.
    stopped = solve(hs6(1e-3))
    assert stopped.status == TerminationStatus.ERROR and "singular" in stopped.message
    assert stopped.objective is None and stopped.solution_status == SolutionStatus.NONE  # no result shown
    assert stopped.stats["last_objective"] is not None
    for scale in (1e-3, 1.0, 1e3):
        res = solve(hs6(scale), singular_test="relative", tol=1e-6, sketch="direct")
        assert res.status == TerminationStatus.OPTIMAL, (scale, res.message)
        assert np.allclose(res.x, [1.0, 1.0], atol=1e-4)


def test_penalty_limit_line_searches_the_direction() -> None:
    # One inner step per solve cannot pass the descent test; at the penalty limit the reference
    # line-searches the direction it has instead of stopping.
    p = algorithm.Params(sketch="kaczmarz", max_inner=1, eta1_max=1.0, max_iter=3, seed=0)
    out = algorithm.solve(hs6(), p, log=None)
    assert out.status != "penalty_limit"
    assert out.penalty_limit_hits >= 1 and out.iterations >= 1


def test_auto_switches_to_minres_when_the_sketch_stalls() -> None:
    # PDE control at N = 16 (n + m = 768 <= auto_size): Kaczmarz stalls at its cap, auto moves on.
    form = models.pde_problem(16)
    res = solve(form, max_inner=20_000, tol=1e-6, progress_after=-1)
    assert res.status == TerminationStatus.OPTIMAL
    assert res.stats["sketch"] == "minres" and res.stats["solver_switches"] == 1
    _, _, f_ref = models.pde_reference(16)
    assert res.objective == pytest.approx(f_ref, rel=1e-9)
    assert len(res.history["kkt"]) == res.iterations + 1


def test_auto_keeps_the_reference_sketch_on_small_problems() -> None:
    a, b = solve(hs6()), solve(hs6(), sketch="kaczmarz")
    assert a.stats["sketch"] == "kaczmarz" and a.iterations == b.iterations == 9  # the authors' 9
    assert a.stats["inner_iterations"] == b.stats["inner_iterations"]


def test_long_runs_print_progress() -> None:
    lines: list[str] = []
    algorithm.solve(hs6(), algorithm.Params(progress_after=0.0, progress_every=1e-9), log=lines.append)
    assert "still running" in lines[0] and any("kkt" in line for line in lines[1:])
    quiet: list[str] = []
    algorithm.solve(hs6(), algorithm.Params(progress_after=-1), log=quiet.append)
    assert quiet == []


@pytest.mark.parametrize(("schedule", "k", "kkt", "want"), [("kkt", 3, 1e-2, 1e-2), ("kkt", 0, 5.0, 1.0),
                                                            ("geometric", 3, 1.0, 0.125)])  # fmt: skip
def test_theta_schedules(schedule: str, k: int, kkt: float, want: float) -> None:
    p = algorithm.Params(superlinear=True, theta_schedule=schedule, theta_rate=0.5)
    assert algorithm.theta_k(p, k, kkt) == pytest.approx(want)
    assert algorithm.theta_k(algorithm.Params(), k, kkt) == 1.0


def test_oracle_counts_match_the_calls() -> None:
    calls = {"f": 0, "c": 0}
    base = hs6()

    def f(x):
        calls["f"] += 1
        return base.f(x)

    def c(x):
        calls["c"] += 1
        return base.c(x)

    form = NLPForm(n=2, m=1, x0=base.x0, f=f, grad=base.grad, c=c, jac=base.jac, hess_lag=base.hess_lag)
    out = algorithm.solve(form, algorithm.Params(), log=None)
    assert out.f_evals == calls["f"] and out.c_evals == calls["c"] and out.grad_evals == calls["f"]
    assert out.hess_evals == out.iterations


def test_spectral_norm_bound_at_scale_is_an_upper_bound() -> None:
    from optdsl.solvers.sketch_newton import linalg

    A = sp.random(3000, 3000, density=0.001, random_state=0)
    A = (A + A.T).tocsr()
    bound, _ = linalg.sym_norm(A, dense=False)
    exact = abs(sp.linalg.eigsh(A, k=1, which="LM", return_eigenvectors=False)[0])
    assert exact <= bound * (1 + 1e-9)
