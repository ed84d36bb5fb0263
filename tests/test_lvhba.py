"""Bilevel models: lowering, routing, the lvhba backend against known solutions and against the
exact KKT reformulation solved by HiGHS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optdsl.api.model import load, parse_model
from optdsl.backends import SolveOptions
from optdsl.errors import SolverError
from optdsl.lower.bilevel import to_bilevel_form
from optdsl.lower.bilevel_kkt import BilevelKKT
from optdsl.results import SolutionStatus, TerminationStatus

pytest.importorskip("torch")

EX = Path(__file__).resolve().parent.parent / "examples"


def _kkt_solve(form):
    from optdsl.solvers.highs.backend import HighsBackend

    p = BilevelKKT()
    assert p.accepts(form) is None
    lp, inv = p.apply(form, SolveOptions())
    return p.invert(HighsBackend().solve(lp, SolveOptions()), inv)


def _vec(result, name):
    return np.array(list(result.variables[name].values()))


# ---------------------------------------------------------------------------- lowering, routing
def test_bilevel_form_splits_levels():
    form = to_bilevel_form(load(EX / "bilevel.opt").ir)
    assert form.follower == "follower"
    assert form.leader_idx.tolist() == [0, 1] and form.follower_idx.tolist() == [2, 3]
    assert [b.name for b in form.upper.blocks] == ["budget"]
    assert [b.name for b in form.lower.blocks] == ["g"]
    z = np.array([1.0, 2.0, 3.0, 4.0])
    assert form.upper.f(z) == pytest.approx(0 + 9 + 16)
    assert form.lower.f(z) == pytest.approx(4 + 4)
    assert form.lower.c(z).tolist() == [3 - 1, 4 - 1]


def test_lowering_refuses_what_it_cannot_take():
    with pytest.raises(SolverError, match="no `lower` block"):
        to_bilevel_form(parse_model("var x; minimize F: x^2;").ir)
    two = """var x; minimize F: x^2;
    lower a { var y; minimize f: (y - x)^2; }
    lower b { var w; minimize h: (w - x)^2; }"""
    with pytest.raises(SolverError, match="2 lower blocks"):
        to_bilevel_form(parse_model(two).ir)
    integer = "var x integer; minimize F: x^2 + y^2; lower a { var y; minimize f: (y - x)^2; }"
    with pytest.raises(SolverError, match="integer"):
        to_bilevel_form(parse_model(integer).ir)


def test_routing_picks_lvhba():
    from optdsl.pipeline import choose_backend

    assert choose_backend(load(EX / "bilevel.opt").ir).name == "lvhba"


def test_unknown_option_is_refused():
    m = load(EX / "bilevel_linear.opt")
    with pytest.raises(SolverError, match="has no option 'alpah'"):
        m.solve(alpah=0.1)
    with pytest.raises(SolverError, match="must be positive"):
        m.solve(alpha=-1)


def test_nonlinear_leader_constraint_is_refused():
    text = "var x; minimize F: x^2 + y^2; s.t. c: x^2 <= 1; lower a { var y; minimize f: (y - x)^2; }"
    with pytest.raises(SolverError, match="leader constraint 'c' is not linear"):
        parse_model(text).solve(max_iter=5)


# ---------------------------------------------------------------------------- known solutions
def test_toy_reduced_reaches_known_solution():
    """ALGORITHMS.md section 2, experiment 1 at n = 10: x* = -0.3, y1* = 0.7, y2* = -0.4."""
    n = 10
    m = load(EX / "bilevel_toy.opt", data={"n": n})
    r = m.solve(max_iter=2000)
    assert r.status == TerminationStatus.ITERATION_LIMIT
    assert r.solution_status == SolutionStatus.FEASIBLE
    x, y1, y2 = _vec(r, "x"), _vec(r, "y1"), _vec(r, "y2")
    err = np.linalg.norm(x + 0.3) / np.linalg.norm(np.full(n, 0.3))
    assert err <= 0.1
    assert np.linalg.norm(y1 - 0.7) / np.linalg.norm(np.full(n, 0.7)) <= 0.1
    assert abs(x.sum() + y1.sum() + y2.sum()) <= 1e-8  # the coupling row is in the projected set
    h = r.history
    assert len(h["F"]) == len(h["gap"]) == len(h["violation"]) == 2000
    assert r.stats["multipliers"][0] == pytest.approx(-1.0, abs=0.05)  # lambda* = -1 (free sign)
    # the exact answer of the same model through its KKT reformulation (a QP: no inequality)
    exact = _kkt_solve(to_bilevel_form(m.ir))
    assert exact.status == TerminationStatus.OPTIMAL
    assert np.allclose(exact.x[:n], -0.3, atol=1e-6)


def test_linear_leader_matches_kkt_mip():
    m = load(EX / "bilevel_linear.opt")
    exact = _kkt_solve(to_bilevel_form(m.ir))
    assert exact.status == TerminationStatus.OPTIMAL
    assert exact.objective == pytest.approx(-4.0, abs=1e-7)
    r = m.solve(max_iter=2000, alpha=0.02)
    assert r.status == TerminationStatus.OPTIMAL  # the stopping test held
    assert r.solution_status == SolutionStatus.LOCALLY_OPTIMAL
    assert r.objective == pytest.approx(exact.objective, abs=1e-3)
    assert r.value("x") == pytest.approx(exact.x[0], abs=1e-3)
    assert r.value("y") == pytest.approx(exact.x[1], abs=1e-3)


def test_kkt_pass_refuses_miqp_and_nonconvex():
    p = BilevelKKT()
    assert "MIQP" in p.accepts(to_bilevel_form(load(EX / "bilevel.opt").ir))
    nonconvex = "var x >= -1, <= 1; minimize F: x + y; lower a { var y >= -1, <= 1; minimize f: -y^2 + x*y; }"
    assert "not convex" in p.accepts(to_bilevel_form(parse_model(nonconvex).ir))


def test_batched_starts_and_seed_are_reproducible():
    m = load(EX / "bilevel_linear.opt")
    a = m.solve(max_iter=300, starts=3, start_noise=0.5, seed=4)
    b = m.solve(max_iter=300, starts=3, start_noise=0.5, seed=4)
    assert a.stats["starts_objective"] == b.stats["starts_objective"]
    assert len(set(a.stats["starts_objective"])) == 3  # the starts differ
    assert a.objective == pytest.approx(min(a.stats["starts_objective"]), rel=1e-14)


def test_time_limit_is_honored():
    m = load(EX / "bilevel_toy.opt", data={"n": 10})
    r = m.solve(max_iter=10**7, time_limit=0.5)
    assert r.status == TerminationStatus.TIME_LIMIT
    assert r.times["solve_time"] < 5.0


def test_json_output_has_history():
    from optdsl.report import render

    r = load(EX / "bilevel_linear.opt").solve(max_iter=50)
    import json

    d = json.loads(render(r, "json"))
    assert len(d["history"]["gap"]) == 50
    assert "lower_gap" in d["stats"]


# ---------------------------------------------------------------------------- applications (reduced)
def _tasks():
    import sys

    sys.path.insert(0, str(EX.parent / "benchmarks"))
    import lvhba_tasks

    return lvhba_tasks


def test_svm_hyperparameters_reduced_against_grid_search():
    """Experiment 3 at reduced size (200 train / 100 validation / rest test, one seed)."""
    pytest.importorskip("sklearn")
    T = _tasks()
    if not (T.CORPORA / "libsvm" / "diabetes_scale.txt").exists():
        pytest.skip(f"LIBSVM corpus not found under {T.CORPORA} (set OPTDSL_CORPORA)")
    X, y = T.libsvm("diabetes_scale.txt")
    tr, va, te = T.split(X, y, seed=3, n_train=200, n_val=100)
    grid = T.grid_search(tr, va, te)
    r = T.lvhba_svm(tr, va, te, seed=3, max_iter=200, c_start="zero", warm=True)
    majority = max(np.mean(te[1] > 0), np.mean(te[1] < 0))
    assert r["test_acc"] >= grid["test_acc"] - 0.05
    assert r["test_acc"] > majority + 0.05
    assert r["result"].stats["violation"] <= 1e-6  # the margins are in the projected set


def test_hyper_cleaning_reduced_beats_noisy_baseline():
    pytest.importorskip("sklearn")
    T = _tasks()
    r = T.cleaning_run(seed=2, max_iter=600)
    assert r["flip_auc"] > 0.8  # the learned weights single out the flipped labels
    assert r["cleaned_acc"] > r["baseline_acc"]


def test_cuda_request_without_a_gpu_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(SolverError, match="GPU|cuda"):
        load(EX / "bilevel_linear.opt").solve(device="cuda", max_iter=5)
