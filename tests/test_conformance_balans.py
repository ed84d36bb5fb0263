"""The shared conformance suite, run for the `balans` backend (a heuristic: a feasible point at a
limit passes when it is no better than the optimum); skips follow from its declarations."""

import pytest

from optdsl.conformance import CASES, Config, expected_skips_match, run_case

pytest.importorskip("alns")
pytest.importorskip("mabwiser")

CONFIG = Config(backend="balans", time_limit=5.0, heuristic=True, gap=0.0, seed=1)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_conformance(case):
    run_case(case, CONFIG)


_QP = "balans cannot take quadratic (a convex quadratic objective)"
_NL = "balans cannot take nonlinear (smooth nonlinear functions)"
EXPECTED_SKIPS = {
    "lp_duals": "balans does not declare duals", "qp_convex": _QP, "qp_equality": _QP,
    "nlp_hs6": "balans cannot take nonlinear (smooth nonlinear functions), quadratic (a convex quadratic objective)",
    "nlp_circle": _NL, "nlp_exp_indexed": _NL, "nlp_hs71": _NL, "nlp_bound_duals": _NL,
    "infeasible_lp": "balans does not declare certificates", "unbounded_lp": "balans does not declare certificates",
}  # fmt: skip


def test_skips_are_the_expected_ones():
    assert expected_skips_match(CONFIG, EXPECTED_SKIPS)
