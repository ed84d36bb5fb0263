"""The shared conformance suite, run for the `sketch_newton` backend (equality-constrained NLP)."""

import pytest

from optdsl.conformance import CASES, Config, expected_skips_match, run_case

CONFIG = Config(
    backend="sketch_newton", rtol=1e-4, atol=1e-4, seed=0,
    exclude={"inequalities", "integer", "duals", "infeasible", "unbounded", "time_limit"},
)
EXPECTED_SKIPS = {
    "lp_transport": "needs inequalities",
    "lp_maximize": "needs inequalities",
    "lp_ranges_equalities": "needs inequalities",
    "lp_duals": "needs duals, inequalities",
    "lp_indexed_results": "needs inequalities",
    "milp_knapsack": "needs inequalities, integer",
    "milp_general_integer": "needs inequalities, integer",
    "qp_convex": "needs inequalities",
    "infeasible_lp": "needs inequalities, infeasible",
    "unbounded_lp": "needs inequalities, unbounded",
    "time_limit_milp": "needs inequalities, integer, time_limit",
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_conformance(case):
    run_case(case, CONFIG)


def test_skips_are_the_expected_ones():
    assert expected_skips_match(CONFIG, EXPECTED_SKIPS)
