"""`--solver pyomo:NAME`: the model lowered to a Pyomo ConcreteModel and solved by a Pyomo solver.

External check: every example Pyomo can express with a solver available here (LP, MILP, QP)
reaches the native `highs` backend's objective through `pyomo:appsi_highs` (`pyomo:highs` for
quadratic objectives, which appsi's HiGHS interface does not take). The nonlinear examples, for
which no Pyomo NLP solver is installed here, are checked by evaluating the Pyomo expressions the
bridge builds against optdsl's own NLP oracles at seeded random points.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import optdsl as od
from optdsl import backends
from optdsl.cli import main
from optdsl.errors import SolverError
from optdsl.results import SolutionStatus, TerminationStatus

pytestmark = pytest.mark.skipif(importlib.util.find_spec("pyomo") is None, reason="needs pyomo")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
LINEAR = ["diet", "knapsack", "options", "portfolio", "production", "transport", "transport_csv", "pde_control"]
NONLINEAR = ["hs6", "hs71", "hs_equality", "logistic"]


@pytest.mark.parametrize("name", LINEAR)
def test_examples_match_native_highs(name):
    model = od.load(EXAMPLES / f"{name}.opt")
    native = model.solve(solver="highs")
    solver = "pyomo:highs" if "quadratic" in model.ir.features() else "pyomo:appsi_highs"
    bridged = model.solve(solver=solver)
    assert bridged.status == native.status == TerminationStatus.OPTIMAL, bridged.message
    assert bridged.backend == solver
    assert bridged.objective == pytest.approx(native.objective, rel=1e-7, abs=1e-7)
    # the primal values map back to the same names (an optimum may not be unique: check feasibility
    # through the objective and compare the values only where the model's LP optimum is unique)
    assert set(bridged.variables) == set(native.variables)


def test_transport_duals_and_values_match_native():
    model = od.load(EXAMPLES / "transport.opt")
    native, bridged = model.solve(solver="highs"), model.solve(solver="pyomo:appsi_highs")
    assert bridged.solution_status == SolutionStatus.OPTIMAL
    np.testing.assert_allclose(bridged.x, native.x, atol=1e-7)
    np.testing.assert_allclose(bridged.row_duals, native.row_duals, atol=1e-9)


@pytest.mark.parametrize("name", NONLINEAR)
def test_nonlinear_examples_build_the_same_functions(name):
    """Pyomo's value of every objective and constraint row at random points equals the NLP oracles."""
    import pyomo.environ as pe
    from optdsl.solvers.pyomo_bridge.build import to_pyomo

    from optdsl.lower.nlp import to_nlpform

    ir = od.load(EXAMPLES / f"{name}.opt").ir
    form = to_nlpform(ir)
    built = to_pyomo(ir)
    rng = np.random.default_rng(7)
    rows = [c for c in built.con_data if c is not None]
    assert len(rows) == form.m
    for _ in range(3):
        x = form.x0 + rng.uniform(-0.5, 0.5, form.n)
        for v, val in zip(built.var_data, x, strict=True):
            v.set_value(float(val), skip_validation=True)
        sign = -1.0 if form.sense == "max" else 1.0
        assert pe.value(built.objective) == pytest.approx(sign * form.f(x), rel=1e-10, abs=1e-10)
        np.testing.assert_allclose([pe.value(c.body) for c in rows], form.c(x), rtol=1e-10, atol=1e-10)


def test_unavailable_solver_lists_what_pyomo_finds():
    model = od.load(EXAMPLES / "transport.opt")
    with pytest.raises(SolverError) as err:
        model.solve(solver="pyomo:no_such_solver")
    assert "not available" in err.value.message
    assert "pyomo:appsi_highs" in err.value.hint


def test_solver_that_cannot_take_the_model_is_refused_before_building():
    model = od.load(EXAMPLES / "hs6.opt")
    with pytest.raises(SolverError) as err:
        model.solve(solver="pyomo:appsi_highs")
    assert "lacks nonlinear" in err.value.message


def test_pyomo_without_solver_name():
    # the bare name takes no model (it declares no features), so the chooser never picks it alone
    with pytest.raises(SolverError, match="solver 'pyomo' cannot take this model"):
        od.load(EXAMPLES / "transport.opt").solve(solver="pyomo")
    with pytest.raises(SolverError, match="name the Pyomo solver"):
        backends.get("pyomo").for_solver("")


def test_options_reach_the_solver():
    # HiGHS's mip_max_nodes = 0 stops branch and bound at the root: an iteration limit
    r = od.load(EXAMPLES / "knapsack.opt").solve(solver="pyomo:appsi_highs", mip_max_nodes=0)
    assert r.status == TerminationStatus.ITERATION_LIMIT


def test_lpform_from_a_file_solves_through_pyomo():
    from optdsl.backends import SolveOptions
    from optdsl.lower.lp import to_lpform

    model = od.load(EXAMPLES / "transport.opt")
    form = to_lpform(model.ir)
    r = backends.get("pyomo:appsi_highs")().solve(form, SolveOptions())
    assert r.objective == pytest.approx(153.675, rel=1e-9)
    assert r.value("x", "Seattle", "Chicago") == pytest.approx(300.0)


def test_cli_solver_pyomo(capsys):
    rc = main(["solve", str(EXAMPLES / "transport.opt"), "--solver", "pyomo:appsi_highs"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "153.675" in out


def test_glpk_when_installed():
    from optdsl.solvers.pyomo_bridge.run import available_solvers

    if "glpk" not in available_solvers():
        pytest.skip("glpk is not installed on this machine")
    r = od.load(EXAMPLES / "knapsack.opt").solve(solver="pyomo:glpk")
    assert r.objective == pytest.approx(od.load(EXAMPLES / "knapsack.opt").solve(solver="highs").objective)
