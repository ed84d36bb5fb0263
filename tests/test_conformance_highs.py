"""The shared conformance suite, run for the `highs` backend."""

import pytest

from optdsl.conformance import CASES, Config, expected_skips_match, run_case

CONFIG = Config(backend="highs", exclude={"nonlinear"})
EXPECTED_SKIPS = {
    "nlp_hs6": "needs nonlinear",
    "nlp_circle": "needs nonlinear",
    "nlp_exp_indexed": "needs nonlinear",
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_conformance(case):
    run_case(case, CONFIG)


def test_skips_are_the_expected_ones():
    assert expected_skips_match(CONFIG, EXPECTED_SKIPS)
