"""The shared conformance suite, run for the `trust_constr` backend (smooth NLP with inequalities and bounds).

scipy's trust-constr ends its barrier iterations about 1e-4 short of a vertex on LPs (measured in
docs/ipopt.md), so values are checked at 1e-3 and its duals (as accurate as that) are not checked; it does not detect infeasible or unbounded models
(it reports error or iteration_limit), so those cases are excluded."""

import pytest

from optdsl.backends import get
from optdsl.conformance import CASES, Config, expected_skips_match, run_case

CONFIG = Config(backend="trust_constr", rtol=1e-3, atol=1e-3, exclude={"integer", "infeasible", "unbounded", "duals"})
EXPECTED_SKIPS = {
    "milp_knapsack": "needs integer",
    "milp_general_integer": "needs integer",
    "lp_duals": "needs duals",
    "nlp_bound_duals": "needs duals",
    "infeasible_lp": "needs infeasible",
    "unbounded_lp": "needs unbounded",
    "time_limit_milp": "needs integer",
}

pytestmark = pytest.mark.skipif(bool(get("trust_constr").missing_packages()), reason="trust_constr needs " + ", ".join(get("trust_constr").requires))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_conformance(case):
    run_case(case, CONFIG)


def test_skips_are_the_expected_ones():
    assert expected_skips_match(CONFIG, EXPECTED_SKIPS)
