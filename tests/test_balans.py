"""The balans backend: operators restore the HiGHS model exactly, neighbourhoods are the package's,
options and presets, the returned point is feasible and never worse than the first incumbent,
maximization, time limits, portfolios (local processes and Ray), and the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from optdsl.backends import SolveOptions
from optdsl.errors import SolverError
from optdsl.lower.forms import LPForm

pytest.importorskip("highspy")
pytest.importorskip("alns")
pytest.importorskip("mabwiser")

from optdsl.solvers.balans import BalansBackend, option_values  # noqa: E402
from optdsl.solvers.balans import operators as ops  # noqa: E402
from optdsl.solvers.balans.config import PRESETS, build_config  # noqa: E402
from optdsl.solvers.balans.metrics import primal_gap, primal_integral  # noqa: E402
from optdsl.solvers.balans.mip import MipModel  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("OPTDSL_CORPORA", ROOT.parent / "shared" / "corpora"))
LPMIP = CORPORA / "lp-mip"
needs_corpus = pytest.mark.skipif(not (LPMIP / "highs").is_dir(), reason=f"LP/MIP corpus not found at {LPMIP}")


def read(rel: str) -> LPForm:
    from optdsl.interchange import read_model_file

    return read_model_file(LPMIP / rel)


def violation(form: LPForm, x: np.ndarray) -> float:
    """Independent feasibility measure on the original form's arrays."""
    ax = form.A @ x
    v = [np.max(np.maximum(form.row_lower - ax, ax - form.row_upper), initial=0.0),
         np.max(np.maximum(form.col_lower - x, x - form.col_upper), initial=0.0)]
    if form.integrality is not None:
        i = np.asarray(form.integrality, dtype=bool)
        v.append(np.max(np.abs(x[i] - np.round(x[i])), initial=0.0))
    return float(max(v))


def solve(form: LPForm, time_limit: float = 5.0, seed: int = 1, **opts) -> object:
    return BalansBackend().solve(form, SolveOptions(time_limit=time_limit, seed=seed, backend_options=opts))


# --- operator definitions ---------------------------------------------------------------------


def test_operator_names_follow_the_package():
    assert ops.parse_operator("Rins_25").delta == pytest.approx(0.25)
    assert ops.parse_operator("proximity_005").delta == pytest.approx(0.005)
    assert ops.parse_operator("proximity_05").delta == pytest.approx(0.05)
    assert ops.parse_operator("proximity_10").delta == pytest.approx(0.10)
    assert ops.parse_operator("local_branching_10").kind == "local_branching"
    assert ops.parse_operator("crossover").delta == 0.0
    with pytest.raises(SolverError, match="unknown balans operator") as e:
        ops.parse_operator("rinse_25")
    assert "rins" in (e.value.hint or "")
    with pytest.raises(SolverError, match="needs its size"):
        ops.parse_operator("mutation")
    with pytest.raises(SolverError, match="takes no size"):
        ops.parse_operator("dins_10")


ALL_OPS = ["mutation_25", "rins_50", "rens_50", "dins", "local_branching_25", "proximity_005", "crossover"]


@pytest.fixture(scope="module")
def bell5():
    """bell5: binaries, general integers and continuous columns; its first incumbent and LP point."""
    if not (LPMIP / "highs" / "bell5.mps").is_file():
        pytest.skip(f"LP/MIP corpus not found at {LPMIP}")
    form = read("highs/bell5.mps")
    m = MipModel(form, seed=3)
    first = m.solve(1.0, first_solution=True)
    x = m.clean(first.x)
    lp = m.solve(5.0, relaxation=True)
    assert lp.status == "kOptimal"
    return form, m, x, lp.x


def _ctx(m, x, x_lp, fix_continuous=True):
    d = m.discrete
    frac = d[np.abs(x_lp[d] - np.round(x_lp[d])) > 1e-6]
    return ops.Context(m, x, m.objective(x), x_lp, frac, 1000.0, fix_continuous, 1.0)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("name", ALL_OPS)
def test_operator_changes_the_model_and_restores_it_bit_for_bit(bell5, name):
    form, m, x, x_lp = bell5
    spec = ops.parse_operator(name)
    assert ops.applicable(spec, m) is None
    before = m.snapshot()
    rng = np.random.default_rng(7)
    with m.changes() as ch:
        start = ops.apply(spec, _ctx(m, x, x_lp), ch, rng)
        during = m.snapshot()
        sub = m.solve(1.0, start=start)
    after = m.snapshot()
    assert _same(before, after), f"{name} left the model changed"
    if name != "crossover" or not _same(before, during):  # crossover may draw the incumbent itself
        assert not _same(before, during), f"{name} did not change the model"
    # the neighbourhood contains the incumbent unless it is RENS's or crossover's, so HiGHS returns
    # at least as good a point from the start it was given
    if spec.kind not in ("rens", "crossover"):
        assert sub.x is not None
        assert m.objective(sub.x) <= m.objective(x) + 1e-6


def test_neighbourhoods_are_the_packages(bell5):
    form, m, x, x_lp = bell5
    rng = np.random.default_rng(0)
    ctx = _ctx(m, x, x_lp)

    def bounds():
        lp = m.h.getLp()
        return np.array(lp.col_lower_), np.array(lp.col_upper_)

    # mutation: a delta-fraction of the discrete columns free, everything else (continuous too) fixed
    with m.changes() as ch:
        ops.apply(ops.parse_operator("mutation_50"), ctx, ch, rng)
        lo, up = bounds()
    free = np.flatnonzero(lo < up)
    assert free.size == int(0.5 * m.discrete.size)
    assert set(free) <= set(m.discrete)
    fixed = np.setdiff1d(np.arange(m.n), free)
    assert np.allclose(lo[fixed], np.where(m.integer[fixed], np.round(x[fixed]), x[fixed]))
    # textbook variant: continuous columns stay free
    with m.changes() as ch:
        ops.apply(ops.parse_operator("mutation_50"), _ctx(m, x, x_lp, fix_continuous=False), ch, rng)
        lo, up = bounds()
    cont = m.continuous[m.col_lower[m.continuous] < m.col_upper[m.continuous]]
    assert np.all(lo[cont] < up[cont])
    # RINS: free columns only where incumbent and LP differ, at most delta |D| of them (with replacement)
    d = m.discrete
    differ = d[np.abs(x[d] - x_lp[d]) > 1e-6]
    with m.changes() as ch:
        ops.apply(ops.parse_operator("rins_50"), ctx, ch, rng)
        lo, up = bounds()
    free = np.flatnonzero(lo < up)
    assert set(free) <= set(differ) and 0 < free.size <= int(0.5 * differ.size)
    # RENS: chosen LP-fractional columns bounded to [floor, ceil] of the LP value
    with m.changes() as ch:
        ops.apply(ops.parse_operator("rens_50"), ctx, ch, rng)
        lo, up = bounds()
    free = np.flatnonzero(lo < up)
    assert set(free) <= set(ctx.fractional)
    assert np.array_equal(lo[free], np.maximum(np.floor(x_lp[free]), m.col_lower[free]))
    assert np.array_equal(up[free], np.minimum(np.ceil(x_lp[free]), m.col_upper[free]))
    # DINS: general integers far from the LP point get |x - x_lp| <= |x_inc - x_lp|, and contain x_inc
    with m.changes() as ch:
        ops.apply(ops.parse_operator("dins"), ctx, ch, rng)
        lo, up = bounds()
    free = np.flatnonzero(lo < up)
    assert set(free) <= set(m.general)
    assert np.all(lo[free] <= x[free] + 1e-9) and np.all(x[free] <= up[free] + 1e-9)
    # local branching: one row over the binaries, satisfied by the incumbent, k in the package's range
    b = m.binary
    with m.changes() as ch:
        ops.apply(ops.parse_operator("local_branching_25"), ctx, ch, rng)
        row = m.h.getRows(1, np.array([m.m], dtype=np.int32))
    ones = int(np.round(x[b]).sum())
    k = row[3][0] + ones  # upper bound = k - |{x_inc = 1}|
    assert int(0.05 * b.size) <= k <= int(0.25 * b.size)
    # proximity: one extra column z with cost big_m and the cutoff row with 2.2.0's right-hand side
    with m.changes() as ch:
        ops.apply(ops.parse_operator("proximity_005"), ctx, ch, rng)
        lp = m.h.getLp()
        cost = np.array(lp.col_cost_)
        rup = np.array(lp.row_upper_)
    assert lp.num_col_ == m.n + 1 and cost[-1] == 1000.0
    assert np.array_equal(np.abs(cost[b]), np.ones(b.size)) and np.all(cost[m.continuous] == 0)
    obj = m.objective(x)
    assert rup[-1] == pytest.approx(obj - 0.005 * abs(obj) - m.c0)


def test_operators_are_dropped_where_the_package_drops_them():
    form = LPForm(c=np.array([1.0, 1.0]), A=sp.csr_matrix(np.array([[1.0, 1.0]])), row_lower=np.array([1.0]),
                  row_upper=np.array([np.inf]), col_lower=np.zeros(2), col_upper=np.array([1.0, 5.0]),
                  integrality=np.array([True, False]))
    m = MipModel(form)
    assert ops.applicable(ops.parse_operator("dins"), m) == "no general integer variables"
    assert ops.applicable(ops.parse_operator("local_branching_10"), m) is None
    form2 = replace(form, col_upper=np.array([3.0, 5.0]))
    m2 = MipModel(form2)
    assert ops.applicable(ops.parse_operator("proximity_005"), m2) == "no binary variables"


# --- options and presets ----------------------------------------------------------------------


def test_presets_are_the_ijcai25_configurations():
    cfg = build_config(option_values({"preset": "ijcai25_softmax"}))
    assert len(cfg.operators) == 16 and {s.kind for s in cfg.operators} == set(ops.KINDS) - {"dins"}
    assert (cfg.policy, cfg.tau, cfg.scores) == ("softmax", 2.0, (3.0, 2.0, 1.0, 0.0))
    assert (cfg.accept, cfg.sa_start, cfg.sa_end, cfg.sa_step, cfg.temperature) == (
        "simulated_annealing", 20.0, 1.0, 0.1, "absolute")
    assert (cfg.first_time, cfg.crossover_time, cfg.iteration_time, cfg.lb_time) == (20, 20, 60, 150)
    ts = build_config(option_values({"preset": "ijcai25_thompson"}))
    assert ts.policy == "thompson" and ts.scores == (1.0, 1.0, 0.0, 0.0)
    assert set(PRESETS) >= {"auto", "ijcai25_softmax", "ijcai25_thompson", "package_default"}
    # user values override the preset
    cfg = build_config(option_values({"preset": "ijcai25_softmax", "tau": "0.5", "operators": "rins_25"}))
    assert cfg.tau == 0.5 and [s.name for s in cfg.operators] == ["rins_25"]


def test_bad_options_are_refused_with_a_hint():
    with pytest.raises(SolverError, match="unknown balans option 'polcy'") as e:
        option_values({"polcy": "softmax"})
    assert "policy" in (e.value.hint or "")
    with pytest.raises(SolverError, match="balans.workers takes int"):
        option_values({"workers": "two"})
    with pytest.raises(SolverError, match="must be one of"):
        option_values({"policy": "ucb"})
    with pytest.raises(SolverError, match="Thompson sampling needs binary rewards"):
        build_config(option_values({"policy": "thompson", "scores": "3,2,1,0"}))
    with pytest.raises(SolverError, match="unknown balans preset"):
        build_config({"preset": "ijcai_softmax"})


def test_primal_gap_and_integral():
    assert primal_gap(11.0, 11.0) == 0.0
    assert primal_gap(15.0, 11.0) == pytest.approx(4 / 15)
    assert primal_gap(-40.0, -41.0) == pytest.approx(1 / 41)
    assert primal_gap(None, 3.0) == 1.0 and primal_gap(-1.0, 2.0) == 1.0
    # pg = 1 on [0, 2), 0.5 on [2, 6), 0 after: 2 + 2 = 4 at T = 10
    assert primal_integral([2.0, 6.0], [20.0, 10.0], 10.0, 10.0) == pytest.approx(4.0)


# --- solving ----------------------------------------------------------------------------------


@needs_corpus
def test_solution_is_feasible_and_never_worse_than_the_first_incumbent():
    form = read("miplib3/p0201.mps.gz")  # optimum 7615
    t = time.time()
    r = solve(form, time_limit=6.0, first_time=0.3, iteration_time=1.0, reference=7615.0)
    assert time.time() - t < 6.0 + 1.0 + 1.0
    assert r.has_solution and violation(form, r.x) <= 1e-6
    assert r.objective == pytest.approx(float(form.c @ r.x + form.c0), abs=1e-6)
    assert 7615 - 1e-6 <= r.objective <= r.stats["first_objective"] + 1e-9
    assert r.solution_status.value in ("feasible", "optimal")
    h = r.history
    assert h["operator"][0] == "first" and h["objective"][-1] == pytest.approx(r.objective)
    assert all(b <= a for a, b in zip(h["objective"], h["objective"][1:]))  # minimization: decreasing
    assert h["primal_gap"][-1] == pytest.approx(r.stats["primal_gap"])
    assert 0 <= r.stats["primal_integral"] <= r.times["solve_s"] + 1e-9
    assert len(h["iteration_operator"]) == r.stats["alns_iterations"] > 0


@needs_corpus
def test_maximization_is_negated_inside_and_reported_in_the_users_sense():
    base = read("miplib3/p0201.mps.gz")
    form = replace(base, c=-base.c, c0=-base.c0, sense="max")  # max -f: optimum -7615
    r = solve(form, time_limit=4.0, first_time=0.3, iteration_time=1.0, reference=-7615.0)
    assert r.has_solution and violation(form, r.x) <= 1e-6
    assert r.objective == pytest.approx(float(form.c @ r.x + form.c0), abs=1e-6)
    assert r.stats["first_objective"] - 1e-9 <= r.objective <= -7615 + 1e-6
    h = r.history
    assert all(b >= a for a, b in zip(h["objective"], h["objective"][1:]))  # maximization: increasing
    if r.best_bound is not None:
        assert r.best_bound >= r.objective - 1e-6


@needs_corpus
def test_time_limit_is_honored_within_one_sub_mip(tmp_path):
    form = read("miplib3/pk1.mps.gz")
    t = time.time()
    r = solve(form, time_limit=3.0, iteration_time=1.0, lb_time=1.0, crossover_time=0.5)
    elapsed = time.time() - t
    assert elapsed <= 3.0 + 1.0 + 1.0, elapsed
    assert r.status.value == "time_limit" and r.solution_status.value == "feasible"


@needs_corpus
def test_iteration_limit_and_seed_reproduce_the_operator_sequence():
    form = read("miplib3/p0201.mps.gz")
    kw = dict(time_limit=30.0, first_time=0.2, max_iterations=6, operators="mutation_25,rins_50,crossover",
              policy="epsilon_greedy", epsilon="0.5")
    a, b = solve(form, seed=5, **kw), solve(form, seed=5, **kw)
    ha = a.history
    hb = b.history
    assert a.status.value in ("iteration_limit", "optimal")
    if a.status.value == "iteration_limit":
        assert len(ha["iteration_operator"]) == 6
        assert ha["iteration_operator"] == hb["iteration_operator"]


def test_quadratic_objective_is_refused():
    form = LPForm(c=np.zeros(1), A=sp.csr_matrix((0, 1)), row_lower=np.zeros(0), row_upper=np.zeros(0),
                  col_lower=np.zeros(1), col_upper=np.ones(1), Q=sp.csc_matrix(np.eye(1)),
                  integrality=np.array([True]))
    with pytest.raises(SolverError, match="linear objectives only"):
        solve(form)


def test_infeasible_model_reports_infeasible():
    form = LPForm(c=np.ones(2), A=sp.csr_matrix(np.array([[1.0, 1.0]])), row_lower=np.array([3.0]),
                  row_upper=np.array([np.inf]), col_lower=np.zeros(2), col_upper=np.ones(2),
                  integrality=np.array([True, True]))
    r = solve(form, time_limit=2.0)
    assert r.status.value == "infeasible" and not r.has_solution


# --- portfolios -------------------------------------------------------------------------------


@needs_corpus
def test_a_worker_adopts_the_boards_better_incumbent_without_crediting_its_operator():
    import multiprocessing as mp

    from optdsl.solvers.balans.portfolio import SharedBoard
    from optdsl.solvers.balans.search import Progress, Search, Start

    form = read("miplib3/p0201.mps.gz")
    m = MipModel(form, seed=1)
    worse = m.solve(0.5, first_solution=True, heuristics=False)
    best = m.solve(30.0)  # HiGHS proves the optimum 7615 quickly
    assert best.status == "kOptimal"
    xw, xb = m.clean(worse.x), m.clean(best.x)
    assert m.objective(xw) > m.objective(xb)
    board = SharedBoard(m.n, mp.get_context("spawn"))
    board.offer(m.objective(xb), xb)
    t0 = time.time()
    start = Start(x=xw, objective=m.objective(xw), x_lp=None, dual_bound=None, proven_optimal=False,
                  status="kTimeLimit", first_s=0.0, lp_s=0.0)
    cfg = build_config(option_values({"operators": "mutation_25", "accept": "hill_climbing"}))
    s = Search(m, cfg, start, t0 + 20.0, t0, Progress(m, t0, False, False), board=board, max_iterations=2)
    s.run()
    assert s.best_obj == pytest.approx(7615.0)
    assert s.trace.inc_operator[0] == "shared"
    assert s.trace.it_reward[0] == cfg.scores[2]  # credited as "accept", not as a new best
    assert board.best_objective() == pytest.approx(7615.0)


@needs_corpus
@pytest.mark.slow
def test_local_portfolio_of_two_workers_shares_one_incumbent():
    form = read("miplib3/p0201.mps.gz")
    # spawned workers import alns, MABWiser and scikit-learn first: seconds on a loaded machine
    r = solve(form, time_limit=25.0, workers=2, first_time=0.3, iteration_time=1.0)
    assert r.has_solution and violation(form, r.x) <= 1e-6
    assert r.stats["workers"] == 2 and "worker_errors" not in r.stats
    h = r.history
    assert set(h["iteration_worker"]) == {0, 1}
    assert r.objective <= r.stats["first_objective"] + 1e-9


@needs_corpus
@pytest.mark.slow
def test_ray_portfolio_on_a_local_ray_instance():
    ray = pytest.importorskip("ray")
    form = read("miplib3/p0201.mps.gz")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        r = solve(form, time_limit=25.0, workers=2, ray_address="auto", first_time=0.3, iteration_time=1.0)
    finally:
        ray.shutdown()
    assert r.has_solution and violation(form, r.x) <= 1e-6
    assert "worker_errors" not in r.stats, r.stats.get("worker_errors")
    h = r.history
    assert set(h["iteration_worker"]) == {0, 1}


def test_backend_module_is_light():
    code = ("import sys, optdsl.solvers.balans as b; heavy = {'highspy', 'alns', 'mabwiser', 'ray', 'torch', "
            "'sklearn', 'pandas'} & set(sys.modules); print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the command line -------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optdsl.cli", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_solves_an_opt_model_with_balans():
    out = _cli("solve", "examples/knapsack.opt", "--solver", "balans", "--time-limit", "5", "--output", "json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["backend"] == "balans" and res["objective"] == pytest.approx(15.0)  # optimum: items 2, 3, 4


@needs_corpus
def test_cli_solves_an_mps_file_with_balans():
    out = _cli("solve", str(LPMIP / "highs" / "egout.mps"), "--solver", "balans", "--time-limit", "5",
               "--option", "balans.first_time=0.5", "--output", "json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["backend"] == "balans" and res["objective"] >= 568.1007 - 1e-4
