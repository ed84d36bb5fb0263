"""The `optdsl` command line: outputs, exit statuses, errors without tracebacks."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from optdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
TRANSPORT = str(ROOT / "examples" / "transport.opt")
KNAPSACK = str(ROOT / "examples" / "knapsack.opt")

INFEASIBLE = """var x >= 0; var y >= 0;
minimize z: x + y;
s.t. c1: x + y <= 1;
s.t. c2: x + y >= 2;
"""


def run(capsys, *args):
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_solve_text_output(capsys):
    rc, out, err = run(capsys, "solve", TRANSPORT)
    assert rc == 0, err
    assert "status:          optimal" in out
    assert "objective:       153.675" in out
    assert "backend:         highs" in out
    assert "Seattle,Chicago" in out and "300" in out


def test_solve_json_output(capsys):
    rc, out, _ = run(capsys, "solve", TRANSPORT, "--output", "json")
    assert rc == 0
    data = json.loads(out)
    assert data["status"] == "optimal" and data["solution_status"] == "optimal"
    assert data["backend"] == "highs"
    assert data["objective"] == pytest.approx(153.675, rel=1e-9)
    assert data["variables"]["x"]["Seattle,Chicago"] == pytest.approx(300.0)
    assert data["duals"]["demand"]["New-York"] == pytest.approx(0.225, abs=1e-9)
    assert "iterations" in data["stats"]


def test_solve_csv_to_file(capsys, tmp_path):
    out_file = tmp_path / "r.csv"
    rc, out, _ = run(capsys, "solve", KNAPSACK, "--output", "csv", "-o", str(out_file))
    assert rc == 0 and out == ""
    lines = out_file.read_text().splitlines()
    assert lines[0] == "kind,component,index,value"
    assert "variable,take,2,1.0" in lines
    assert any(line.startswith("objective,,,15") for line in lines)


def test_infeasible_exits_1(capsys, tmp_path):
    model = tmp_path / "inf.opt"
    model.write_text(INFEASIBLE)
    rc, out, _ = run(capsys, "solve", str(model))
    assert rc == 1
    assert "status:          infeasible" in out


def test_syntax_error_exits_2_without_traceback(tmp_path):
    model = tmp_path / "bad.opt"
    model.write_text("var x >= 0\nminimize z: x;\n")
    p = subprocess.run([sys.executable, "-m", "optdsl.cli", "solve", str(model)], capture_output=True, text=True)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert f"{model}:1:11: error:" in p.stderr


def test_debug_shows_traceback(tmp_path):
    model = tmp_path / "bad.opt"
    model.write_text("var x >= 0\nminimize z: x;\n")
    p = subprocess.run([sys.executable, "-m", "optdsl.cli", "--debug", "solve", str(model)],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "Traceback" in p.stderr


def test_missing_file_and_bad_option(capsys):
    rc, _, err = run(capsys, "solve", "no-such-model.opt")
    assert rc == 2 and "no such file: no-such-model.opt" in err
    rc, _, err = run(capsys, "solve", TRANSPORT, "--option", "highs.no_such_option=1")
    assert rc == 2 and "no_such_option" in err
    rc, _, err = run(capsys, "solve", TRANSPORT, "--option", "presolve")
    assert rc == 2 and "--option takes KEY=VALUE" in err
    rc, _, err = run(capsys, "solve", TRANSPORT, "--solver", "higs")
    assert rc == 2 and "did you mean 'highs'?" in err


def test_backend_option_and_time_limit(capsys):
    rc, out, _ = run(capsys, "solve", TRANSPORT, "--option", "highs.presolve=off", "--time-limit", "30")
    assert rc == 0 and "objective:       153.675" in out


def test_convert_and_solve_interchange(capsys, tmp_path):
    for suffix in (".mps", ".lp"):
        target = tmp_path / f"transport{suffix}"
        rc, out, _ = run(capsys, "convert", TRANSPORT, "-o", str(target))
        assert rc == 0 and target.exists()
        rc, out, _ = run(capsys, "solve", str(target), "--output", "json")
        assert rc == 0
        assert json.loads(out)["objective"] == pytest.approx(153.675, rel=1e-9)


def test_check_and_show(capsys):
    rc, out, _ = run(capsys, "check", TRANSPORT)
    assert rc == 0
    assert "var x                    6" in out
    assert "total: 6 variables, 5 constraints, 12 nonzeros" in out
    rc, out, _ = run(capsys, "show", TRANSPORT)
    assert rc == 0 and "model transport: LP" in out and "backend: highs (lp form)" in out
    rc, out, _ = run(capsys, "show", TRANSPORT, "--ir")
    assert "subject to supply[Seattle]: 1 x[Seattle,New-York] + 1 x[Seattle,Chicago] + 1 x[Seattle,Topeka] <= 350" in out
    rc, out, _ = run(capsys, "show", TRANSPORT, "--latex")
    assert rc == 0 and "\\sum" in out


def test_small_lp_imports_neither_torch_nor_pyomo():
    code = (
        "import sys; from optdsl.cli import main; "
        f"rc = main(['solve', {TRANSPORT!r}]); "
        "heavy = [m for m in ('torch', 'pyomo', 'sympy') if m in sys.modules]; "
        "assert rc == 0 and not heavy, heavy"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_script_statements_after_solve(capsys, tmp_path):
    model = tmp_path / "s.opt"
    model.write_text(
        "set N := 1..3;\nvar x {N} >= 0, <= 2;\nmaximize z: sum {i in N} x[i];\n"
        "s.t. c: sum {i in N} i * x[i] <= 4;\nsolve;\n"
        'for {i in N: i <= 2} { printf "x%d=%g\\n", i, x[i]; }\ndisplay z;\nend;\n'
    )
    rc, out, _ = run(capsys, "solve", str(model))
    assert rc == 0
    # greedy by weight: x1 = 2 (uses 2), x2 = 1 (uses 2), x3 = 0: z = 3
    assert "x1=2\nx2=1\n" in out
    assert "z = 3\n" in out


def test_display_sets_and_printf_objective(capsys, tmp_path):
    model = tmp_path / "d.opt"
    model.write_text(
        'set I := {"a","b"};\nset P := {(1,"x"),(2,"y")};\nvar x {I} >= 0, <= 1;\n'
        'maximize z: sum {i in I} x[i];\nsolve;\ndisplay I, P;\nprintf "z=%g\\n", z;\n'
    )
    rc, out, _ = run(capsys, "solve", str(model))
    assert rc == 0
    assert out.endswith("I := a b;\nP := (1,x) (2,y);\nz=2\n")
