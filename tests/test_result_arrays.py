"""Results as labelled arrays, look-ups by bare and numeric labels, and objective cleaning."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import optdsl as od
from optdsl.layout import Block, Layout
from optdsl.result_arrays import LabelledValues, labelled
from optdsl.results import Result, SolutionStatus, TerminationStatus, clean_objective

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def transport():
    return od.load(EXAMPLES / "transport.opt").solve()


def test_objective_is_cleaned_of_summation_noise(transport):
    assert transport.objective == 153.675  # HiGHS returns 153.67499999999998
    assert clean_objective(0.1 + 0.2) == 0.3
    assert clean_objective(1 / 3) == pytest.approx(1 / 3, rel=1e-15)
    assert clean_objective(float("inf")) == float("inf")
    r = Result(TerminationStatus.OPTIMAL, SolutionStatus.OPTIMAL, "t", objective=2.0000000000000004)
    r.best_bound = 7.000000000000001
    assert (r.objective, r.best_bound) == (2.0, 7.0)


def test_value_of_a_whole_component_is_a_series(transport):
    pd = pytest.importorskip("pandas")
    x = transport.value("x")
    assert isinstance(x, pd.Series) and isinstance(x.index, pd.MultiIndex)
    as_dict = transport.variables["x"]
    assert len(x) == len(as_dict) == 6
    for key, v in as_dict.items():
        assert x[key] == v
    assert x["San-Diego", "Topeka"] == transport.value("x", "San-Diego", "Topeka") == 275.0
    assert x.sum() == pytest.approx(900.0)  # all demand is met: 325 + 300 + 275
    d = transport.dual("demand")
    assert not isinstance(d.index, pd.MultiIndex) and list(d.index) == ["New-York", "Chicago", "Topeka"]
    assert d["Chicago"] == transport.duals["demand"][("Chicago",)]
    rc = transport.reduced_cost("x")
    assert rc["Seattle", "Topeka"] == pytest.approx(transport.reduced["x"][("Seattle", "Topeka")])
    assert transport.dual("demand", "Chicago") == pytest.approx(0.153)


def test_without_pandas_the_arrays_are_numpy(transport, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    x = transport.value("x")
    assert isinstance(x, LabelledValues) and x.name == "x"
    orig, dest = x.keys
    assert isinstance(orig, np.ndarray) and isinstance(x.values, np.ndarray)
    got = {(o, j): v for o, j, v in zip(orig, dest, x.values)}
    assert got == transport.variables["x"]


def test_bare_and_numeric_labels():
    r = od.load(EXAMPLES / "knapsack.opt").solve()
    assert r.objective == 15
    take = r.variables["take"]
    assert take[2] == take[2.0] == take["2"] == take[(2,)] == 1.0
    assert take[np.int64(3)] == 1.0 and 4 in take and "4" in take and 9 not in take
    assert take.get(9, "absent") == "absent"
    with pytest.raises(KeyError):
        take[9]
    assert r.value("take", "3") == r.value("take", 3.0) == r.value("take", (3,)) == 1.0
    with pytest.raises(KeyError, match="not an index"):
        r.value("take", 7)
    with pytest.raises(KeyError, match="components: take"):
        r.value("nothing")
    transport = od.load(EXAMPLES / "transport.opt").solve()
    assert transport.duals["demand"]["Chicago"] == transport.duals["demand"][("Chicago",)]
    assert transport.variables["x"]["Seattle", "Chicago"] == 300.0


def test_arrays_come_from_label_columns_not_tuples():
    def no_tuples():
        raise AssertionError("the per-entry tuples were built")

    n = 200_000
    block = Block("y", 0, n, keys=no_tuples, columns=lambda: [np.arange(n, dtype=np.float64) + 1])
    vals = np.linspace(0.0, 1.0, n)
    out = labelled(block, vals)
    if isinstance(out, LabelledValues):
        keys, got = out.keys[0], out.values
    else:
        keys, got = out.index.to_numpy(), out.to_numpy()
    assert keys.dtype.kind == "i" and keys[0] == 1 and keys[-1] == n
    np.testing.assert_array_equal(got, vals)
    r = Result(TerminationStatus.OPTIMAL, SolutionStatus.OPTIMAL, "t", x=vals, layout=Layout([block]))
    assert len(r.value("y")) == n


def test_readme_snippet_prints_what_it_promises(monkeypatch, capsys):
    """Runs README's Python snippet; every `print(...)  # text` line must print that text."""
    pytest.importorskip("pandas")
    root = Path(__file__).resolve().parent.parent
    text = (root / "README.md").read_text(encoding="utf-8")
    code = text.split("## From Python", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    promised = [line.split("#", 1)[1].strip() for line in code.splitlines()
                if line.startswith("print(") and "#" in line]
    assert len(promised) >= 3
    monkeypatch.chdir(root)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed == promised
