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
