"""The shared HiGHS adapter: one Highs model solved repeatedly while it changes."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from optdsl.solvers.highs.adapter import HighsModel

import optdsl as od
from optdsl.backends import SolveOptions
from optdsl.errors import SolverError
from optdsl.lower.lp import to_lpform
from optdsl.results import SolutionStatus, TerminationStatus

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
W = np.array([5.0, 4.0, 3.0, 4.0])  # examples/knapsack.opt
V = np.array([8.0, 6.0, 4.0, 5.0])


def _brute(value, keep=lambda s: True) -> float:
    """Best value over all 0/1 choices within the capacity 11 (an independent check)."""
    best = -np.inf
    for bits in itertools.product((0, 1), repeat=4):
        s = np.array(bits, dtype=float)
        if s @ W <= 11 and keep(s):
            best = max(best, float(value @ s))
    return best


@pytest.fixture
def hm():
    form = to_lpform(od.load(EXAMPLES / "knapsack.opt").ir)
    return HighsModel(form, SolveOptions(seed=1))


def test_solve_fix_restore(hm):
    r = hm.solve(time_limit=10)
    assert r.status == TerminationStatus.OPTIMAL and r.solution_status == SolutionStatus.OPTIMAL
    assert r.objective == _brute(V) == 15
    assert hm.status == TerminationStatus.OPTIMAL and hm.objective == 15 and hm.bound == pytest.approx(15)
    np.testing.assert_allclose(hm.solution(), [0, 1, 1, 1], atol=1e-9)
    assert r.variables["take"][2] == pytest.approx(1.0)  # mapped through the form's layout
    assert hm.h.getOptionValue("time_limit")[1] == np.inf  # the per-run limit was put back
    hm.fix([1], 0.0)  # take[2] = 0
    assert hm.solve().objective == _brute(V, lambda s: s[1] == 0) == 13
    assert hm.bounds()[1][1] == 0.0
    hm.restore_bounds()
    assert hm.solve().objective == 15


def test_add_rows_and_swap_objective(hm):
    rows = hm.add_rows(np.array([[1.0, 1.0, 0.0, 0.0]]), -np.inf, 1.0)  # at most one of items 1, 2
    assert rows.tolist() == [1] and hm.num_rows == 2
    assert hm.solve().objective == _brute(V, lambda s: s[0] + s[1] <= 1)
    hm.set_objective(np.ones(4), c0=0.5, sense="max")  # most items
    r = hm.solve()
    assert r.objective == _brute(np.ones(4), lambda s: s[0] + s[1] <= 1) + 0.5
    hm.delete_rows(rows)
    hm.set_objective(V)
    assert hm.solve().objective == 15.5  # the offset stays until changed


def test_relaxation_and_start(hm):
    hm.set_integrality(np.arange(4), False)
    r = hm.solve()
    assert r.objective == pytest.approx(8 + 6 + 4 * 2 / 3)  # fractional knapsack, greedy by ratio
    assert r.row_duals is not None  # an LP again: duals come back
    hm.set_integrality(np.arange(4), True)
    hm.set_start([0, 1, 1, 1])
    assert hm.solve().objective == 15


def test_refusals_name_the_problem(hm):
    with pytest.raises(SolverError, match="unknown HiGHS option 'time_limt'") as e:
        hm.set_option("time_limt", 3)
    assert "time_limit" in (e.value.hint or "")
    with pytest.raises(SolverError, match="takes a finite number"):
        hm.set_options(time_limit="soon")
    with pytest.raises(SolverError, match="the new rows have 3 columns, the model 4"):
        hm.add_rows(np.ones((1, 3)), 0, 1)
    with pytest.raises(SolverError, match="column index out of range"):
        hm.fix([7], 1.0)
    with pytest.raises(SolverError, match="objective sense"):
        hm.set_objective(V, sense="up")
