"""The shared conformance suite, run for the `sketch_newton` backend (equality-constrained NLP).

Cases with inequalities or bounds reach it through the squared-slacks pass, as the chooser plans
them; skips follow from its declarations."""

import pytest

from optdsl.conformance import CASES, Config, expected_skips_match, run_case

CONFIG = Config(backend="sketch_newton", rtol=1e-4, atol=1e-4, seed=0)
_INT = "sketch_newton cannot take integer (integer or binary variables)"
_CERT = "sketch_newton does not declare certificates"
EXPECTED_SKIPS = {
    "milp_knapsack": _INT,
    "milp_general_integer": _INT,
    "time_limit_milp": _INT,
    "infeasible_lp": _CERT,
    "unbounded_lp": _CERT,
}
# Squared slacks on an LP: the merit's penalties reach their limits before a descent direction is
# found (docs/sketch_newton.md, squared slacks). Known failures, kept visible.
SLACK_LP_FAILURES = {"lp_transport", "lp_maximize"}


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=pytest.mark.xfail(reason="squared slacks on an LP stall at the penalty limits"))
     if c.name in SLACK_LP_FAILURES else c for c in CASES],
    ids=lambda c: c.name,
)
def test_conformance(case):
    run_case(case, CONFIG)


def test_skips_are_the_expected_ones():
    assert expected_skips_match(CONFIG, EXPECTED_SKIPS)
