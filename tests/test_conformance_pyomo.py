"""The shared conformance suite for both Pyomo bridges.

- `pyomo:appsi_highs` (optdsl -> Pyomo ConcreteModel -> HiGHS through Pyomo): the LP/MIP cases;
  `pyomo:highs` the quadratic ones (Pyomo's appsi HiGHS interface takes no quadratic objective).
- The reverse door: each case's model built as a Pyomo model by the forward bridge, turned back
  by `optdsl.from_pyomo`, and solved by optdsl's own backends: every case that has an optimum.
"""

import importlib.util

import pytest

from optdsl.conformance import CASES, Config, expected_skips_match, run_case
from optdsl.results import SolutionStatus, TerminationStatus

pytestmark = pytest.mark.skipif(importlib.util.find_spec("pyomo") is None, reason="needs pyomo")

CONFIG = Config(backend="pyomo:appsi_highs")
_QP = "pyomo:appsi_highs cannot take quadratic (a convex quadratic objective)"
_NL = "pyomo:appsi_highs cannot take nonlinear (smooth nonlinear functions)"
EXPECTED_SKIPS = {
    "qp_convex": _QP, "qp_equality": _QP,
    "nlp_hs6": "pyomo:appsi_highs cannot take nonlinear (smooth nonlinear functions), quadratic (a convex "
               "quadratic objective)",
    "nlp_circle": _NL, "nlp_exp_indexed": _NL, "nlp_hs71": _NL, "nlp_bound_duals": _NL,
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_conformance_pyomo_appsi_highs(case):
    run_case(case, CONFIG)


@pytest.mark.parametrize("case", [c for c in CASES if c.name.startswith("qp_")], ids=lambda c: c.name)
def test_conformance_pyomo_highs_quadratic(case):
    """Pyomo's `highs` interface (pyomo.contrib.solver) takes the quadratic objectives."""
    run_case(case, Config(backend="pyomo:highs"))


def test_skips_are_the_expected_ones():
    assert expected_skips_match(CONFIG, EXPECTED_SKIPS)


@pytest.mark.parametrize("case", [c for c in CASES if c.status == TerminationStatus.OPTIMAL], ids=lambda c: c.name)
def test_round_trip_through_pyomo(case):
    """optdsl model -> Pyomo model (to_pyomo) -> from_pyomo -> optdsl's default backend: the
    case's known optimum and values."""
    from optdsl.solvers.pyomo_bridge.build import to_pyomo

    from optdsl.api.from_pyomo import from_pyomo
    from optdsl.api.model import parse_model

    model = parse_model(case.text, name=f"{case.name}.opt", seed=0)
    back = from_pyomo(to_pyomo(model.ir).model)
    result = back.solve(time_limit=60, **case.options)
    assert result.status == TerminationStatus.OPTIMAL, (case.name, result.status, result.message)
    assert result.solution_status in (SolutionStatus.OPTIMAL, SolutionStatus.LOCALLY_OPTIMAL)
    assert abs(result.objective - case.objective) <= 1e-6 + 1e-6 * abs(case.objective), (case.name, result.objective)
    flat = result.x  # the forward bridge names variables by block, positions 0..size-1
    for (name, index), value in case.values.items():
        block = model.ir.var(name)
        pos = 0 if block.scalar else list(map(tuple, block.domain.tuples())).index(tuple(index))
        got = back.ir.var(name)
        assert got.size == block.size
        assert abs(flat[got.start + pos] - value) <= 1e-5 + 1e-5 * abs(value), (case.name, name, index)
