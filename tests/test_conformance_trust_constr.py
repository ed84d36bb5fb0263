"""The shared conformance suite, run for the `trust_constr` backend; skips follow from its
declarations.

scipy's trust-constr ends its barrier iterations about 1e-4 short of a vertex on LPs (measured in
docs/ipopt.md), so values are checked at 1e-3; its duals are as accurate as that, so it does not
declare `duals`, and it does not detect infeasible or unbounded models (no certificates)."""

import pytest

from optdsl.conformance import CASES, Config, expected_skips_match, run_case

CONFIG = Config(backend="trust_constr", rtol=1e-3, atol=1e-3)
_INT = "trust_constr cannot take integer (integer or binary variables)"
_CERT = "trust_constr does not declare certificates"
_DUALS = "trust_constr does not declare duals"
EXPECTED_SKIPS = {
    "lp_duals": _DUALS, "nlp_bound_duals": _DUALS,
    "milp_knapsack": _INT, "milp_general_integer": _INT, "time_limit_milp": _INT,
    "infeasible_lp": _CERT, "unbounded_lp": _CERT,
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_conformance(case):
    run_case(case, CONFIG)


def test_skips_are_the_expected_ones():
    assert expected_skips_match(CONFIG, EXPECTED_SKIPS)
