"""The lowering chain: refusals instead of silent drops, passes chosen from declarations, plug-ins
through entry points, option schemas."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from optdsl import backends
from optdsl.api.model import load, parse_model
from optdsl.cli import main
from optdsl.conformance import CASES, Config, expected_skips_match, run_case
from optdsl.errors import SolverError
from optdsl.lower import chain
from optdsl.results import TerminationStatus

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

ACYCLIC_LP = """
set V := 1..3;
var W {V, V} >= -1, <= 1;
maximize s: sum {i in V, j in V} W[i,j];
subject to dag: acyclic(W);
"""

BOUNDED_NLP = """
var x >= 1.5, := 3;
var y := 2;
minimize f: (x - 1)^2 + (y - 2)^4 + exp(y - 2);
subject to c: x + y >= 2;
"""


# --- what must never be dropped ------------------------------------------------------------------
def test_convert_refuses_a_bilevel_model(tmp_path, capsys):
    out = tmp_path / "x.lp"
    assert main(["convert", str(EXAMPLES / "bilevel.opt"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bilevel (a lower-level (follower) problem)" in err and "needs an LP/MILP/QP" in err
    assert not out.exists()


def test_convert_and_to_highs_refuse_acyclic(tmp_path, capsys):
    path = tmp_path / "dag.opt"
    path.write_text(ACYCLIC_LP)
    assert main(["convert", str(path), "-o", str(tmp_path / "d.mps")]) == 2
    assert "acyclic" in capsys.readouterr().err
    with pytest.raises(SolverError, match="acyclic"):
        load(path).to_highs()


def test_lp_lowering_refuses_structure_it_would_drop():
    from optdsl.lower.lp import to_lpform

    with pytest.raises(SolverError, match="lp form cannot express"):
        to_lpform(load(EXAMPLES / "bilevel.opt").ir)
    with pytest.raises(SolverError, match="acyclic"):
        to_lpform(parse_model(ACYCLIC_LP).ir)


def test_solver_highs_refuses_acyclic_with_alternatives():
    m = parse_model(ACYCLIC_LP)
    with pytest.raises(SolverError) as err:
        m.solve(solver="highs")
    assert "acyclic" in err.value.message


# --- passes chosen by the chooser ----------------------------------------------------------------
def test_slacks_chain_solves_a_bounded_nlp_when_only_sketch_newton_can(monkeypatch):
    only = {n: backends._registry()[n] for n in ("highs", "sketch_newton")}
    monkeypatch.setattr(backends, "_REGISTRY", only)
    m = parse_model(BOUNDED_NLP)
    plan = chain.choose(m.ir.features())[0]
    assert plan.text == "squared_slacks → sketch_newton"
    r = m.solve(tol=1e-8)
    assert r.status == TerminationStatus.OPTIMAL and r.backend == "sketch_newton"
    # optimum: x at its bound 1.5, y minimizes (y-2)^4 + exp(y-2) -> y < 2 solves 4t^3 + e^t = 0
    from scipy.optimize import brentq

    t = brentq(lambda t: 4 * t**3 + np.exp(t), -2, 0)
    assert r.value("x") == pytest.approx(1.5, abs=1e-6)
    assert r.value("y") == pytest.approx(2 + t, abs=1e-5)
    assert r.x.shape == (2,)  # slacks mapped back out
    assert r.reduced["x"] == pytest.approx(1.0, abs=1e-4)  # d f*/d(bound 1.5) = 2 (1.5 - 1)
    assert r.stats["chain"] == "squared_slacks → sketch_newton"


def test_requested_backend_gets_the_pass_it_needs():
    m = parse_model(BOUNDED_NLP)
    plans = chain.choose(m.ir.features(), "sketch_newton")
    assert [p.name for p in plans[0].passes] == ["squared_slacks"]


def test_show_prints_the_chain(tmp_path, capsys):
    path = tmp_path / "b.opt"
    path.write_text(BOUNDED_NLP)
    assert main(["show", str(path), "--solver", "sketch_newton"]) == 0
    assert "chain:   squared_slacks → sketch_newton" in capsys.readouterr().out
    assert main(["show", str(EXAMPLES / "transport.opt")]) == 0
    assert "chain:   highs" in capsys.readouterr().out


def test_plans_prefer_short_chains_then_priority():
    feats = {"linear", "inequalities"}
    first = chain.plans(feats)[0]
    assert first.backend.name == "highs" and first.passes == ()
    assert all(len(a.passes) <= len(b.passes) for a, b in zip(chain.plans(feats), chain.plans(feats)[1:]))


def test_a_pass_that_refuses_moves_on_to_the_next_plan(monkeypatch):
    from optdsl.lower.slacks import SquaredSlacks

    monkeypatch.setattr(SquaredSlacks, "accepts", lambda self, form: "refused for the test")
    only = {n: backends._registry()[n] for n in ("highs", "sketch_newton")}
    monkeypatch.setattr(backends, "_REGISTRY", only)
    with pytest.raises(SolverError, match="squared_slacks → sketch_newton: refused for the test"):
        parse_model(BOUNDED_NLP).solve()


# --- options schema ----------------------------------------------------------------------------
def test_help_backend(capsys):
    assert main(["solve", "--help-backend", "highs"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("highs: HiGHS") and "features: inequalities, integer, linear, quadratic" in out


# --- plug-ins through the entry-point mechanism -----------------------------------------------
@pytest.fixture
def toy_plugin(tmp_path):
    """Install the toy backend as an outside distribution would: a dist-info with an entry point."""
    dist = tmp_path / "optdsl_toy_backend-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: optdsl-toy-backend\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[optdsl.backends]\ntoy_linprog = optdsl_toy_backend:ToyLinprog\n")
    sys.path[:0] = [str(tmp_path), str(Path(__file__).parent / "plugins")]
    chain.refresh()
    yield "toy_linprog"
    sys.path.remove(str(tmp_path))
    sys.path.remove(str(Path(__file__).parent / "plugins"))
    sys.modules.pop("optdsl_toy_backend", None)
    chain.refresh()


def test_toy_plugin_is_discovered(toy_plugin):
    assert toy_plugin in backends.names()
    assert backends.get(toy_plugin).__module__ == "optdsl_toy_backend"
    # it is never preferred over highs, but it can be asked for
    assert chain.choose({"linear", "inequalities"})[0].backend.name == "highs"
    r = load(EXAMPLES / "transport.opt").solve(solver=toy_plugin)
    assert r.objective == pytest.approx(153.675) and r.backend == toy_plugin


def test_toy_plugin_option_schema(toy_plugin):
    m = load(EXAMPLES / "transport.opt")
    with pytest.raises(SolverError) as err:
        m.solve(solver=toy_plugin, methd="highs-ds")
    assert "its options are: method" in err.value.message and err.value.hint == "did you mean 'method'?"
    with pytest.raises(SolverError, match="must be one of highs-ds, highs-ipm"):
        m.solve(solver=toy_plugin, method="simplex")
    assert m.solve(solver=toy_plugin, method="highs-ipm").objective == pytest.approx(153.675, rel=1e-6)


TOY_SKIPS_NL = "toy_linprog cannot take nonlinear (smooth nonlinear functions)"
TOY_SKIPS = {
    "lp_duals": "toy_linprog does not declare duals",
    "milp_knapsack": "toy_linprog cannot take integer (integer or binary variables)",
    "milp_general_integer": "toy_linprog cannot take integer (integer or binary variables)",
    "time_limit_milp": "toy_linprog cannot take integer (integer or binary variables)",
    "qp_convex": "toy_linprog cannot take quadratic (a convex quadratic objective)",
    "qp_equality": "toy_linprog cannot take quadratic (a convex quadratic objective)",
    "nlp_hs6": "toy_linprog cannot take nonlinear (smooth nonlinear functions), quadratic (a convex quadratic objective)",
    "nlp_circle": TOY_SKIPS_NL, "nlp_exp_indexed": TOY_SKIPS_NL, "nlp_hs71": TOY_SKIPS_NL, "nlp_bound_duals": TOY_SKIPS_NL,
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_toy_plugin_conformance(toy_plugin, case):
    run_case(case, Config(backend=toy_plugin))


def test_toy_plugin_skips_follow_its_declarations(toy_plugin):
    assert expected_skips_match(Config(backend=toy_plugin), TOY_SKIPS)


def test_choosing_imports_no_solver():
    import subprocess

    code = ("import sys; from optdsl.lower import chain; from optdsl.api.model import load; "
            f"m = load({str(EXAMPLES / 'hs6.opt')!r}); chain.choose(m.ir.features()); "
            "print(sorted(k for k in ('torch', 'highspy', 'pyomo') if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
