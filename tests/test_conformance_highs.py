"""The shared conformance suite, run for the `highs` backend; skips follow from its declarations."""

import pytest

from optdsl.conformance import CASES, Config, expected_skips_match, run_case

CONFIG = Config(backend="highs")
_NL = "highs cannot take nonlinear (smooth nonlinear functions)"
EXPECTED_SKIPS = {"nlp_hs6": _NL, "nlp_circle": _NL, "nlp_exp_indexed": _NL, "nlp_hs71": _NL, "nlp_bound_duals": _NL}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_conformance(case):
    run_case(case, CONFIG)


def test_skips_are_the_expected_ones():
    assert expected_skips_match(CONFIG, EXPECTED_SKIPS)
