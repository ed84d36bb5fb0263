"""The shared conformance suite, run for the `ipopt` backend; skips follow from its declarations
(IPOPT's infeasibility verdict is local, so it declares no certificates)."""

import pytest

from optdsl.backends import get
from optdsl.conformance import CASES, Config, expected_skips_match, run_case

pytestmark = pytest.mark.skipif(bool(get("ipopt").missing_packages()), reason="ipopt needs cyipopt")

CONFIG = Config(backend="ipopt", rtol=1e-6, atol=1e-6)
_INT = "ipopt cannot take integer (integer or binary variables)"
_CERT = "ipopt does not declare certificates"
EXPECTED_SKIPS = {
    "milp_knapsack": _INT, "milp_general_integer": _INT, "time_limit_milp": _INT,
    "infeasible_lp": _CERT, "unbounded_lp": _CERT,
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_conformance(case):
    run_case(case, CONFIG)


def test_skips_are_the_expected_ones():
    assert expected_skips_match(CONFIG, EXPECTED_SKIPS)
