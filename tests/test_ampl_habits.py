"""AMPL/GMPL habits that must not stop a file: solvers named by `option solver` that optdsl does
not have, AMPL environment options, and data files given after the model on the command line."""

from __future__ import annotations

import pytest

from optdsl.cli import main

MODEL = """set I; param a {I}; var x {I} >= 0;
minimize cost: sum {i in I} a[i] * x[i];
subject to need {i in I}: x[i] >= i_need[i];
param i_need {I} default 1;
"""
MODEL_OK = """set I; param a {I}; param need {I} default 1; var x {I} >= 0;
minimize cost: sum {i in I} a[i] * x[i];
subject to c {i in I}: x[i] >= need[i];
option solver cplex;
option cplex_options 'mipdisplay=2';
option solver_msg 0;
"""
DATA = "set I := a b; param a := a 1 b 2;\n"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "m.mod").write_text(MODEL_OK)
    (tmp_path / "m.dat").write_text(DATA)
    return tmp_path


def test_data_files_after_the_model(files, capsys):
    assert main(["solve", str(files / "m.mod"), str(files / "m.dat")]) == 0
    out = capsys.readouterr()
    assert "objective:       3" in out.out


def test_unknown_solver_warns_once_and_chooses(files, capsys):
    assert main(["solve", str(files / "m.mod"), "--data", str(files / "m.dat")]) == 0
    err = capsys.readouterr().err
    assert "option solver cplex: no such backend here; using highs" in err
    assert "cplex_options" not in err  # environment options are reported only with --verbose


def test_environment_options_reported_with_verbose(files, capsys):
    assert main(["solve", str(files / "m.mod"), str(files / "m.dat"), "--verbose"]) == 0
    err = capsys.readouterr().err
    assert "option cplex_options ignored" in err and "option solver_msg ignored" in err


def test_command_line_solver_is_still_checked(files, capsys):
    assert main(["solve", str(files / "m.mod"), str(files / "m.dat"), "--solver", "cplex"]) == 2
    assert "unknown solver 'cplex'" in capsys.readouterr().err


def test_assign_after_a_slice_in_data():
    # AMPL's oil.dat (ampl/mp tests): `set blend (P,*) := a b` and `param io [*,M,*] := …`
    from optdsl.api.model import parse_model

    r = parse_model("""set F; set I; set B within {F, I}; param io {I, {"M"}, F} default 0;
var x {B} >= 0, <= 1; maximize z: sum {(f, i) in B} io[i, "M", f] * x[f, i];
data;
set F := p q; set I := a b c;
set B (p,*) := a b (q,*) := c;
param io [*,M,*] := a p 2  b p 3  c q 5;
end;""").solve()
    assert r.objective == pytest.approx(2 + 3 + 5)  # every x at its upper bound 1


def test_defined_variables_stand_for_their_expressions(capsys, tmp_path):
    # AMPL's `var h = expr;` over variables (hs54.mod, rosenbr.mod in AMPL's tests): no column of
    # its own. min sum_i (y[i] - i)^2 + (t - 1)^2 with y[i] = 2 x[i], t = x[1] + x[2]: by hand,
    # y[i] = i exactly is reachable (x = (0.5, 1)) with t = 1.5, so the optimum trades the two:
    # minimize (2a-1)^2 + (2b-2)^2 + (a+b-1)^2, solved below with numpy's least squares.
    import numpy as np

    path = tmp_path / "d.mod"
    path.write_text("""set I := 1..2; var x {I};
var y {i in I} = 2 * x[i];
var t = x[1] + x[2];
minimize f: sum {i in I} (y[i] - i)^2 + (t - 1)^2;
s.t. cap: t <= 10;
solve;
printf "%.6f %.6f %.6f\\n", y[1], y[2], t;
""")
    assert main(["solve", str(path)]) == 0
    A, b = np.array([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]]), np.array([1.0, 2.0, 1.0])
    xs = np.linalg.lstsq(A, b, rcond=None)[0]
    want = f"{2 * xs[0]:.6f} {2 * xs[1]:.6f} {xs.sum():.6f}\n"
    out = capsys.readouterr().out
    assert want in out
    obj = float(next(ln for ln in out.splitlines() if ln.startswith("objective:")).split()[1])
    assert obj == pytest.approx(float(np.sum((A @ xs - b) ** 2)), rel=1e-6)


def test_defined_variable_with_bounds_is_refused(tmp_path, capsys):
    path = tmp_path / "b.mod"
    path.write_text("var x; var h >= 0, = x^2; minimize f: h;\n")
    assert main(["solve", str(path)]) == 2
    assert "defined variable 'h'" in capsys.readouterr().err


def test_var_default_and_var_blocks_in_data(tmp_path):
    # chemeq.mod: `var x {…} >= 0, default 0.1;`; blend.mod: `var: x := 1 0.04 …;` and `;;`
    from optdsl.api.model import parse_model

    m = parse_model("""set I; var x {I} >= 0, default 0.25; var y {I} default 0.5;
minimize f: sum {i in I} ((x[i] - 1)^2 + (y[i] + 1)^2);
data;
set I := 1 2 3;
var: x := 1 0.75  2 0.5 ;   ;
end;""")
    assert m.ir.var("x").init.tolist() == [0.75, 0.5, 0.25]
    assert m.ir.var("y").init.tolist() == [0.5, 0.5, 0.5]
    assert m.solve().objective == pytest.approx(0.0, abs=1e-8)


def test_numbers_and_words_in_one_set(tmp_path):
    # AMPL's dist13.dat: `set prod := 26179 04911 … w5112 …;` and `param wt := 26179 35.4 …`
    from optdsl.api.model import parse_model

    r = parse_model("""set P; param w {P} > 0; var x {P} >= 0; minimize z: sum {p in P} w[p] * x[p];
s.t. c: sum {p in P} x[p] >= 1;
data; set P := 26179 04911 w5112; param w := 26179 3  04911 2  w5112 5; end;""").solve()
    assert r.objective == pytest.approx(2.0)  # all of x on 04911 (= 4911), the cheapest
    assert r.value("x")[4911] == pytest.approx(1.0)


def test_data_files_replace_the_models_own_data(tmp_path, capsys):
    # glpsol -d: GLPK's sudoku.mod carries an example puzzle, sudoku.dat the puzzle to solve
    model, data = tmp_path / "m.mod", tmp_path / "m.dat"
    model.write_text("""set I; param c {I}; param k := 2; var x {I} >= 1; minimize z: k * sum {i in I} c[i] * x[i];
data; set I := a b; param c := a 1 b 2; end;
""")
    data.write_text("param c := a 10 b 20;\n")
    assert main(["solve", str(model), str(data)]) == 0
    cap = capsys.readouterr()
    assert "replace the model's data for c" in cap.err
    assert "objective:       60\n" in cap.out  # k (the model's) * (10 + 20) (the file's)
