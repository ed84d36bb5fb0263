"""The `ipopt` (cyipopt) and `trust_constr` backends: statuses, duals and reduced costs against
hand-derived values, options, the time limit, --verbose, and the automatic choice."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

import optdsl as od
from optdsl import backends
from optdsl.cli import main
from optdsl.errors import SolverError
from optdsl.lower import chain
from optdsl.results import SolutionStatus, TerminationStatus

HAS_IPOPT = importlib.util.find_spec("cyipopt") is not None
needs_ipopt = pytest.mark.skipif(not HAS_IPOPT, reason="needs cyipopt (pip install 'optdsl[ipopt]')")
NLP_BACKENDS = [pytest.param("ipopt", marks=needs_ipopt), "trust_constr"]

# min (x - 2)^2 + (y - 1)^2 + exp(z) - z  s.t.  x + y <= 2 (row),  z >= 0.5 (bound):
# on x + y = 2: x = 1.5, y = 0.5, row multiplier 1, so the row dual (d obj / d rhs) is -1;
# z = 0.5 at its bound (unconstrained minimizer 0), reduced cost exp(0.5) - 1.
BOUNDED = """
var x := 0; var y := 0; var z >= 0.5, := 1;
minimize f: (x - 2)^2 + (y - 1)^2 + exp(z) - z;
s.t. budget: x + y <= 2;
"""
F_STAR = 0.25 + 0.25 + math.exp(0.5) - 0.5


@pytest.mark.parametrize("solver", NLP_BACKENDS)
def test_duals_and_reduced_costs(solver):
    tol = 1e-6 if solver == "ipopt" else 1e-3
    r = od.parse_model(BOUNDED).solve(solver=solver)
    assert r.status == TerminationStatus.OPTIMAL
    assert r.solution_status == SolutionStatus.LOCALLY_OPTIMAL
    assert r.objective == pytest.approx(F_STAR, abs=tol)
    assert r.value("x") == pytest.approx(1.5, abs=tol)
    assert r.duals["budget"] == pytest.approx(-1.0, abs=10 * tol)
    assert r.reduced["z"] == pytest.approx(math.exp(0.5) - 1.0, abs=10 * tol)
    assert r.reduced["x"] == pytest.approx(0.0, abs=10 * tol)


@pytest.mark.parametrize("solver", NLP_BACKENDS)
def test_maximize_flips_signs(solver):
    # max -(x-2)^2 - (y-1)^2 s.t. x + y <= 2: value -0.5; relaxing the row raises it: dual +1
    text = "var x; var y; maximize g: -(x - 2)^2 - (y - 1)^2 - exp(x) + exp(x); s.t. budget: x + y <= 2;"
    r = od.parse_model(text).solve(solver=solver)
    tol = 1e-6 if solver == "ipopt" else 1e-3
    assert r.objective == pytest.approx(-0.5, abs=tol)
    assert r.duals["budget"] == pytest.approx(1.0, abs=10 * tol)


@needs_ipopt
def test_infeasible_is_reported_as_ipopt_detects_it():
    text = "var x; var y; minimize f: x^2 + y^2 + exp(x); s.t. a: x^2 + y^2 <= 1; s.t. b: x >= 2;"
    r = od.parse_model(text).solve(solver="ipopt")
    assert r.status == TerminationStatus.INFEASIBLE
    assert r.solution_status == SolutionStatus.NONE
    assert r.objective is None
    assert "Infeasible_Problem_Detected" in r.message


@needs_ipopt
def test_options_pass_through_and_bad_ones_are_refused():
    m = od.parse_model(BOUNDED)
    r = m.solve(solver="ipopt", max_iter=1)
    assert r.status == TerminationStatus.ITERATION_LIMIT
    assert r.stats["ipopt_status"] == "Maximum_Iterations_Exceeded"
    r = m.solve(solver="ipopt", tol="1e-12", mu_strategy="adaptive")
    assert r.objective == pytest.approx(F_STAR, abs=1e-7)  # IPOPT relaxes bounds by 1e-8 (bound_relax_factor)
    with pytest.raises(SolverError, match="IPOPT refused option"):
        m.solve(solver="ipopt", no_such_option=3)
    with pytest.raises(SolverError, match="takes an integer"):
        m.solve(solver="ipopt", max_iter="lots")


def test_trust_constr_unknown_option():
    with pytest.raises(SolverError, match="has no option .tol."):
        od.parse_model(BOUNDED).solve(solver="trust_constr", tol=1)


@needs_ipopt
def test_limited_memory_hessian():
    r = od.parse_model(BOUNDED).solve(solver="ipopt", hessian_approximation="limited-memory")
    assert r.objective == pytest.approx(F_STAR, abs=1e-6)
    assert r.stats["exact_hessian"] is False


@needs_ipopt
def test_time_limit_is_honored():
    # a 40-variable chained Rosenbrock with a tiny wall-clock limit stops with time_limit
    text = """set N := 1..40; var x {N} >= -5, <= 5, := -1.2;
    minimize f: sum {i in 1..39} (100 * (x[i+1] - x[i]^2)^2 + (1 - x[i])^2);"""
    r = od.parse_model(text).solve(solver="ipopt", time_limit=1e-3)
    assert r.status == TerminationStatus.TIME_LIMIT


@pytest.mark.parametrize("solver", NLP_BACKENDS)
def test_history_and_iterations(solver):
    r = od.parse_model(BOUNDED).solve(solver=solver)
    assert r.iterations and r.iterations > 0


def test_default_for_a_bounded_nlp():
    m = od.parse_model(BOUNDED)
    assert "inequalities" in m.ir.features()
    r = m.solve()
    assert r.backend == ("ipopt" if HAS_IPOPT else "trust_constr")
    assert r.objective == pytest.approx(F_STAR, abs=1e-3)


def test_fallback_when_cyipopt_is_missing(monkeypatch):
    ipopt = backends.get("ipopt")
    monkeypatch.setattr(ipopt, "missing_packages", classmethod(lambda cls: ["cyipopt"]))
    assert chain.choose({"linear", "nonlinear", "inequalities"})[0].backend.name == "trust_constr"
    with pytest.raises(SolverError, match="needs the package"):
        chain.choose({"linear", "nonlinear", "inequalities"}, "ipopt")


def test_equality_only_nlp_goes_to_ipopt_when_installed(monkeypatch):
    # measured on the 34 equality-constrained CUTEst problems: docs/ipopt.md, "Equality-only models"
    assert chain.choose({"linear", "nonlinear"})[0].backend.name == ("ipopt" if HAS_IPOPT else "sketch_newton")
    monkeypatch.setattr(backends.get("ipopt"), "missing_packages", classmethod(lambda cls: ["cyipopt"]))
    assert chain.choose({"linear", "nonlinear"})[0].backend.name == "sketch_newton"


@needs_ipopt
def test_cli_out_of_the_box_and_verbose_log(tmp_path, capfd):
    path = tmp_path / "bounded.opt"
    path.write_text(BOUNDED)
    assert main(["solve", str(path)]) == 0
    out = capfd.readouterr().out
    assert "ipopt" in out and "locally_optimal" in out
    assert main(["solve", str(path), "--verbose", "--option", "ipopt.tol=1e-9"]) == 0
    out = capfd.readouterr().out
    assert "iter    objective" in out  # IPOPT's own iteration log


@needs_ipopt
def test_sparse_structure_of_a_larger_model():
    # 200 coupled rows: the Jacobian structure found by probing equals the model's sparsity
    text = """set N := 1..200; var x {N} >= 0, := 1;
    minimize f: sum {i in N} (x[i] - i / 100)^2 * exp(x[i] / 10);
    s.t. pair {i in 1..199}: x[i] * x[i+1] <= 1;"""
    r = od.parse_model(text).solve(solver="ipopt")
    assert r.status == TerminationStatus.OPTIMAL
    assert r.stats["jac_nnz"] == 2 * 199
    assert r.stats["hess_nnz"] == 200 + 199  # diagonal plus the x[i] x[i+1] couplings (lower triangle)
    x = r.x
    assert np.all(x[:-1] * x[1:] <= 1 + 1e-6)


def test_example_hs71_solves_with_the_default_backend(tmp_path):
    import json
    from pathlib import Path

    out = tmp_path / "r.json"
    example = Path(__file__).resolve().parents[1] / "examples" / "hs71.opt"
    assert main(["solve", str(example), "--output", "json", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["status"] == "optimal"
    assert doc["objective"] == pytest.approx(17.0140173, rel=1e-7)
