"""The shared conformance suite, run for the `ipopt` backend (smooth NLP with inequalities and bounds)."""

import pytest

from optdsl.backends import get
from optdsl.conformance import CASES, Config, expected_skips_match, run_case

CONFIG = Config(backend="ipopt", rtol=1e-6, atol=1e-6, exclude={"integer"})
EXPECTED_SKIPS = {
    "milp_knapsack": "needs integer",
    "milp_general_integer": "needs integer",
    "time_limit_milp": "needs integer",
}

pytestmark = pytest.mark.skipif(bool(get("ipopt").missing_packages()), reason="ipopt needs " + ", ".join(get("ipopt").requires))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_conformance(case):
    run_case(case, CONFIG)


def test_skips_are_the_expected_ones():
    assert expected_skips_match(CONFIG, EXPECTED_SKIPS)
