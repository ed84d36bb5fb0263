"""The Python API: both building styles reach the .opt model's IR; alignment errors; data from
Python objects; to_opt round trips; LaTeX; solving a Python-built model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import optdsl as od
from optdsl.data.pydata import data_from_python, param_data
from optdsl.data.store import Declared
from optdsl.errors import DataError, ModelError
from optdsl.parse import ast

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.opt"))
SOURCES = ["Seattle", "San-Diego"]
SINKS = ["New-York", "Chicago", "Topeka"]
DIST = np.array([[2.5, 1.7, 1.8], [2.5, 1.8, 1.4]])

pd = pytest.importorskip("pandas")

KNAPSACK = """
set ITEMS := 1..4;
param w {ITEMS};  param v {ITEMS};
var take {ITEMS} binary;
maximize value: sum {i in ITEMS} v[i] * take[i];
subject to cap: sum {i in ITEMS} w[i] * take[i] <= 11;
data;
param w := 1 5  2 4  3 3  4 4;
param v := 1 8  2 6  3 4  4 5;
end;
"""


def ir_of_file(name: str) -> str:
    return od.load(ROOT / "examples" / name).print_ir()


def _transport_data(m: od.Model):
    I = m.set("I", SOURCES)
    J = m.set("J", SINKS)
    a = m.param("a", I, {"Seattle": 350, "San-Diego": 600})
    b = m.param("b", J, [325, 300, 275])
    d = m.param("d", (I, J), DIST)
    f = m.param("f", 90)
    return I, J, a, b, d, f


def transport_generator() -> od.Model:
    m = od.Model("transport")
    I, J, a, b, d, f = _transport_data(m)
    c = m.param("c", (I, J), lambda i, j: f * d[i, j] / 1000)
    x = m.var("x", (I, J), lb=0)
    m.minimize("cost", od.sum(c[i, j] * x[i, j] for i, j in od.each(I, J)))
    m.constraint("supply", lambda i: od.sum(x[i, j] for j in J) <= a[i], over=I)
    m.constraint("demand", lambda j: od.sum(x[i, j] for i in I) >= b[j], over=J)
    return m


def transport_vectorized() -> od.Model:
    m = od.Model("transport")
    I, J, a, b, d, f = _transport_data(m)
    c = m.param("c", (I, J), f * d / 1000)
    x = m.var("x", (I, J), lb=0)
    m.minimize("cost", (c * x).sum())
    m.constraint("supply", x.sum("J") <= a)
    m.constraint("demand", x.sum("I") >= b)
    return m


# ------------------------------------------------------------------ same IR as the .opt models
@pytest.mark.parametrize("build", [transport_generator, transport_vectorized])
def test_transport_ir_matches_opt(build):
    assert build().print_ir() == ir_of_file("transport.opt")


def test_transport_to_opt_reads_like_the_source():
    text = transport_vectorized().to_opt()
    decls = text.split("\ndata;")[0]
    assert decls == (
        "set I;\nset J;\nparam a {I};\nparam b {J};\nparam d {I, J};\nparam f;\n"
        "param c {i in I, j in J} := f * d[i, j] / 1000;\n"
        "var x {I, J} >= 0;\n"
        "minimize cost: sum {i in I, j in J} c[i, j] * x[i, j];\n"
        "subject to supply {i in I}: sum {j in J} x[i, j] <= a[i];\n"
        "subject to demand {j in J}: sum {i in I} x[i, j] >= b[j];\n"
    )
    assert transport_generator().to_opt() == text


def knapsack_generator() -> od.Model:
    m = od.Model("knapsack")
    items = m.set("ITEMS", range(1, 5))
    w = m.param("w", items, {1: 5, 2: 4, 3: 3, 4: 4})
    v = m.param("v", items, np.array([8, 6, 4, 5]))
    take = m.var("take", items, binary=True)
    m.maximize("value", od.sum(v[i] * take[i] for i in items))
    m.constraint("cap", od.sum(w[i] * take[i] for i in items) <= 11)
    return m


def knapsack_vectorized() -> od.Model:
    m = od.Model("knapsack")
    items = m.set("ITEMS", range(1, 5))
    w = m.param("w", items, pd.Series([5, 4, 3, 4], index=[1, 2, 3, 4]))
    v = m.param("v", items, [8, 6, 4, 5])
    take = m.var("take", items, binary=True)
    m.maximize("value", (v * take).sum())
    m.constraint("cap", (w * take).sum() <= 11)
    return m


@pytest.mark.parametrize("build", [knapsack_generator, knapsack_vectorized])
def test_knapsack_ir_matches_opt(build):
    assert build().print_ir() == od.parse_model(KNAPSACK).print_ir()
    assert "set ITEMS := 1 .. 4;" in build().to_opt()
    assert "maximize value: sum {i in ITEMS} v[i] * take[i];" in build().to_opt()


def test_hs6_nlp_matches_opt():
    m = od.Model("hs6")
    x1 = m.var("x1", init=-1.2)
    x2 = m.var("x2", init=1)
    m.minimize("f", (1 - x1) ** 2)
    m.constraint("c", 10 * (x2 - x1 ** 2) == 0)
    assert m.print_ir() == ir_of_file("hs6.opt")
    assert m.to_opt() == ("var x1 := -1.2;\nvar x2 := 1;\nminimize f: (1 - x1) ^ 2;\n"
                          "subject to c: 10 * (x2 - x1 ^ 2) = 0;\n")


# ------------------------------------------------------------------------ alignment rules
@pytest.fixture
def comps():
    m = od.Model("align")
    I = m.set("I", ["a", "b"])
    J = m.set("J", [1, 2, 3])
    K = m.set("K", ["k"])
    x = m.var("x", (I, J))
    y = m.var("y", (J, K))
    p = m.param("p", J, [1, 2, 3])
    return m, I, J, K, x, y, p


def test_broadcast_of_a_subset_takes_the_larger_operand_order(comps):
    m, I, J, K, x, y, p = comps
    e = p * x
    assert [d.set for d in e.dims] == ["I", "J"]
    m.constraint("c", p * x <= 1)
    assert "subject to c {i in I, j in J}: p[j] * x[i, j] <= 1;" in m.to_opt()


def test_disjoint_dims_are_an_error_that_says_what_to_write(comps):
    m, I, J, K, x, y, p = comps
    with pytest.raises(ModelError) as err:
        x + y
    assert err.value.message == (
        "cannot add x (over I, J) and y (over J, K): each is indexed over a set the other lacks (I on the "
        "left; K on the right). Index sets are matched by name, never guessed: sum the extra sets away, e.g. "
        "x.sum(\"I\") + y.sum(\"K\"), or repeat each side along the other's sets on purpose, e.g. "
        "x.expand(\"K\") + y.expand(\"I\")")
    with pytest.raises(ModelError, match=r"cannot compare x \(over I, J\) and y \(over J, K\)"):
        m.constraint("bad", x <= y)
    # both remedies are accepted
    m.constraint("sums", x.sum("I") <= y.sum("K"))
    m.constraint("outer", x.expand("K") <= y.expand("I"))
    text = m.to_opt()
    assert "subject to sums {j in J}: sum {i in I} x[i, j] <= sum {k in K} y[j, k];" in text
    assert "subject to outer {i in I, j in J, k in K}: x[i, j] <= y[j, k];" in text


def test_set_used_twice_is_an_error():
    m = od.Model("w")
    V = m.set("V", [1, 2])
    W = m.var("W", (V, V))
    with pytest.raises(ModelError) as err:
        W.sum()
    assert err.value.message == (
        "W is indexed over V twice, so its index positions cannot be told apart by set name; index it with "
        "dummies instead, e.g. od.sum(W[i1, i2] for i1, i2 in od.each(V, V))")
    m.minimize("o", od.sum(W[i, j] for i, j in od.each(V, V)))
    assert "minimize o: sum {v in V, v1 in V} W[v, v1];" in m.to_opt()


def test_other_alignment_messages(comps):
    m, I, J, K, x, y, p = comps
    with pytest.raises(ModelError) as err:
        x.sum("K")
    assert err.value.message == "x has no index set K to sum over; its index sets are I, J"
    with pytest.raises(ModelError) as err:
        m.minimize("o", x)
    assert err.value.message == ("objective 'o' is indexed over I, J, but an objective is one number: sum it, "
                                 "e.g. m.minimize(\"o\", x.sum())")
    with pytest.raises(ModelError) as err:
        m.constraint("c", x.sum("J") <= 1, over=J)
    assert err.value.message == ("constraint 'c': over= lists J but the relation is indexed over I; give the same "
                                 "sets (in any order), or write a function of the dummies: m.constraint(name, "
                                 "lambda i: ..., over=...)")
    with pytest.raises(ModelError) as err:
        x * np.ones(3)
    assert err.value.message == ("a numpy array has no named index sets, so it cannot be aligned with model "
                                 "components; declare it as a param first, e.g. p = m.param(\"p\", (I, J), data)")
    with pytest.raises(ModelError, match="^error: iterating I gives a symbolic dummy index"):
        sum(x[i, 1] for i in I)  # Python's sum, not od.sum
    with pytest.raises(ModelError, match=r"^error: an optdsl comparison has no truth value in Python: for a range"):
        m.constraint("r", 0 <= x["a", 1] <= 1)
    with pytest.raises(ModelError, match=r"strict <, > and != are filters only"):
        m.constraint("s", x < 3)


def test_over_reorders_dims(comps):
    m, I, J, K, x, y, p = comps
    m.constraint("c", x <= 5, over=(J, I))
    assert "subject to c {j in J, i in I}: x[i, j] <= 5;" in m.to_opt()


# --------------------------------------------------------------------------- dummies, filters
def test_nested_sums_get_distinct_deterministic_names(comps):
    m, I, J, K, x, y, p = comps
    m.constraint("n", lambda i: od.sum(od.sum(x[i2, j] for i2 in I) * x[i, j] for j in J) <= 5, over=I)
    m.constraint("v", (x.sum("J") * x).sum("J") <= 10)
    text = m.to_opt()
    assert "subject to n {i in I}: sum {j in J} (sum {i1 in I} x[i1, j]) * x[i, j] <= 5;" in text
    assert "subject to v {i in I}: sum {j in J} (sum {j1 in J} x[i, j1]) * x[i, j] <= 10;" in text
    assert od.parse_model(text).print_ir() == m.print_ir()


def test_dummy_names_avoid_components():
    m = od.Model("names")
    I = m.set("I", [1, 2])
    items = m.set("ITEMS", [1])
    m.param("i", 3)
    x = m.var("x", (I, items))
    m.minimize("o", x.sum())
    assert "minimize o: sum {i1 in I, i2 in ITEMS} x[i1, i2];" in m.to_opt()
    assert od.parse_model(m.to_opt()).print_ir() == m.print_ir()


def test_renaming_avoids_reserved_words():
    from optdsl.api.names import resolve

    stmt = ast.Objective("minimize", "o", ast.Iterated("sum", ast.Indexing(
        (ast.IndexEntry(("%g1:in",), ast.Ref("I")), ast.IndexEntry(("%g2:exp",), ast.Ref("I")))),
        ast.Ref("x", (ast.Ref("%g1:in"), ast.Ref("%g2:exp")))))
    out = resolve(stmt, frozenset({"x", "I"}))
    assert out.expr.indexing.entries[0].dummies == ("in1",)
    assert out.expr.body == ast.Ref("x", (ast.Ref("in1"), ast.Ref("exp1")))


def test_filters_in_generators():
    m = od.Model("f")
    I = m.set("I", ["a", "b", "c"])
    J = m.set("J", [1, 2])
    d = m.param("d", (I, J), np.array([[1, 0], [2, 3], [0, 4]]))
    x = m.var("x", (I, J), lb=0)
    m.constraint("c1", od.sum(x[i, j] for i in I for j in J if d[i, j] > 0) >= 1)
    m.constraint("c2", od.sum(x[i, j] for i in I for j in J if d[i, j] >= 1 and d[i, j] <= 3) >= 1)
    m.constraint("c3", od.sum(x[i, j] for i, j in od.each(I, J, where=lambda i, j: (d[i, j] > 1) | (d[i, j] < 1)))
                 >= 1)
    m.constraint("c4", x <= 3, where=d > 0)
    text = m.to_opt()
    assert "subject to c1: sum {i in I, j in J: d[i, j] > 0} x[i, j] >= 1;" in text
    assert "subject to c2: sum {i in I, j in J: d[i, j] >= 1 and d[i, j] <= 3} x[i, j] >= 1;" in text
    assert "subject to c3: sum {i in I, j in J: d[i, j] > 1 or d[i, j] < 1} x[i, j] >= 1;" in text
    assert "subject to c4 {i in I, j in J: d[i, j] > 0}: x[i, j] <= 3;" in text
    assert "subject to c2: 1 x[a,1] + 1 x[b,1] + 1 x[b,2] >= 1" in m.print_ir()
    with pytest.raises(ModelError, match=r"^error: write 'or' and 'not' in a filter as \| and ~"):
        od.sum(x[i, 1] for i in I if d[i, 1] > 0 or d[i, 2] > 0)
    with pytest.raises(ModelError, match=r"^error: write 'or' and 'not' in a filter as \| and ~"):
        od.sum(x[i, 1] for i in I if not d[i, 1] > 0)


def test_filtered_component_carries_its_filter():
    m = od.Model("sparse")
    I = m.set("I", ["a", "b"])
    J = m.set("J", [1, 2])
    d = m.param("d", (I, J), {("a", 1): 1, ("a", 2): 0, ("b", 1): 0, ("b", 2): 2})
    flow = m.var("flow", od.each(I, J, where=d > 0), lb=0)
    m.constraint("out", flow.sum("J") <= 1)
    m.minimize("o", (d * flow).sum())
    text = m.to_opt()
    assert "var flow {i in I, j in J: d[i, j] > 0} >= 0;" in text
    assert "subject to out {i in I}: sum {j in J: d[i, j] > 0} flow[i, j] <= 1;" in text
    assert "minimize o: sum {i in I, j in J: d[i, j] > 0} d[i, j] * flow[i, j];" in text
    assert od.parse_model(text).print_ir() == m.print_ir()


def test_leaked_dummy_is_an_error():
    m = od.Model("leak")
    I = m.set("I", [1, 2])
    x = m.var("x", I)
    leaked = []
    od.sum(leaked.append(i) or x[i] for i in I)
    with pytest.raises(ModelError, match="the dummy index 'i' is used outside the od.sum"):
        m.minimize("o", x[leaked[0]])


# ------------------------------------------------------------------------------ data
def test_param_data_from_python_objects():
    two = Declared("param", 2, ("I", "J"))
    dense = param_data("d", DIST, two)
    assert dense.dense is not None and dense.dense.shape == (2, 3)
    df = param_data("d", pd.DataFrame(DIST, index=SOURCES, columns=SINKS), two)
    assert list(df.keys[0]) == ["Seattle"] * 3 + ["San-Diego"] * 3
    assert list(df.keys[1]) == SINKS * 2 and df.values.tolist() == DIST.ravel().tolist()
    nested = param_data("d", {"a": {1: 2.0, 2: 3.0}}, two)
    assert list(nested.keys[1]) == [1, 2] and nested.keys[1].dtype == np.int64
    one = Declared("param", 1, ("I",))
    s = param_data("a", pd.Series([1.5, None], index=["x", "y"]), one)
    assert np.isnan(s.values[1])
    assert param_data("a", 7, one).default == 7
    assert param_data("f", np.float64(90), Declared("param", 0)).value == 90.0
    with pytest.raises(DataError, match="dict keys must be 2-tuples"):
        param_data("d", {"a": 1}, two)
    with pytest.raises(DataError, match="'x' is not a number"):
        param_data("a", {"p": "x"}, one)


def test_set_data_and_unknown_names():
    schema = {"I": Declared("set", 1), "L": Declared("set", 2), "a": Declared("param", 1, ("I",))}
    store = data_from_python({"I": pd.Index(["p", "q"]), "L": np.array([[1, 2], [3, 4]]),
                              "a": {"p": 1, "q": 2}}, schema)
    assert store.sets["I"].members == ["p", "q"]
    assert store.sets["L"].members == [(1, 2), (3, 4)]
    with pytest.raises(DataError, match="'b' is not declared in the model"):
        data_from_python({"b": 1}, schema)


def test_parse_model_with_python_data():
    text = (ROOT / "examples" / "transport.opt").read_text().split("data;")[0]
    data = {"I": SOURCES, "J": pd.Index(SINKS), "a": pd.Series([350, 600], index=SOURCES),
            "b": {"New-York": 325, "Chicago": 300, "Topeka": 275},
            "d": pd.DataFrame(DIST, index=SOURCES, columns=SINKS), "f": np.float64(90)}
    assert od.parse_model(text, data=data).print_ir() == ir_of_file("transport.opt")


def test_builder_data_errors_and_aux_params():
    m = od.Model("m")
    I = m.set("I", ["a", "b"])
    with pytest.raises(DataError, match=r"param 'p': data of shape \(3,\) do not match its index sets I \(2\)"):
        m.param("p", I, [1, 2, 3])
    x = m.var("x", I, ub=np.array([4.0, 5.0]), lb=-np.inf)
    assert x.name == "x"
    text = m.to_opt()
    assert "param x_ub {I};" in text and "var x {i in I} <= x_ub[i];" in text
    assert "var x[b] in [-inf, 5]" in m.print_ir()


# ----------------------------------------------------------------------------- to_opt
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_round_trip(path):
    from optdsl.parse.parser import parse

    m = od.load(path)
    text = m.to_opt()
    again = parse(text, "again.opt")
    skip = (ast.DataSection, ast.DataFile, ast.EndStmt, ast.TableStmt)
    assert [s for s in again.statements if not isinstance(s, skip)] == \
        [s for s in m.statements if not isinstance(s, skip)]
    assert od.parse_model(text).print_ir() == m.print_ir()


def test_python_models_round_trip():
    for build in (transport_generator, transport_vectorized, knapsack_generator, knapsack_vectorized):
        m = build()
        assert od.parse_model(m.to_opt()).print_ir() == m.print_ir()


def test_printer_parentheses_round_trip():
    from optdsl.parse.parser import parse

    text = """
    set I := {1, 2, 3};
    param p {i in I} := if i > 1 then i else -i;
    var x {I};
    minimize o: (sum {i in I} x[i]) * 2 + sum {i in I} (x[i] + 1) - (-x[1]) ^ 2 + 2 ^ -x[2] - (x[1] - x[2])
        + (if p[1] > 0 then x[1] else x[2]) * 3 + max(x[1], x[2]) / (x[3] + 1) - x[1] ^ 2 ^ 2;
    subject to r: -1 <= x[1] - x[2] <= 1;
    subject to s {i in I: i != 2 and not (i in {3})}: x[i] >= p[i] - 2 * (p[i] - 1);
    """
    tree = parse(text, "p.opt")
    again = parse(od.Model("p", _ast=tree).to_opt(), "q.opt")
    assert again.statements == tree.statements


def test_every_statement_kind_round_trips():
    from optdsl.api.to_opt import model_to_opt
    from optdsl.parse.parser import parse

    text = """
    set I := 1..3 by 1;
    set J ordered default {1, 2};
    param p {i in I} integer, >= 0, <= 10, default 1;
    param s symbolic in {"a", "b"} := "a";
    var x {I} integer >= 0 <= 5 := 1;
    var z = 3;
    check {i in I}: p[i] >= 0;
    check card(I) > 0;
    maximize o: sum {i in I} x[i] + z;
    subject to c {i in I}: x[i] <= p[i] + (if s = "a" then 1 else 0);
    option solver highs;
    option highs.presolve off;
    option s "a b";
    lower f { var y; minimize g: y ^ 2; }
    solve;
    display x, z;
    display {i in I}: x[i] * 2;
    printf {i in I}: "x[%d] = %g\\n", i, x[i];
    for {i in I} { printf "%d", i; display x[i]; }
    table T {i in I} OUT "CSV" "out.csv": i, x[i] ~ xval;
    end;
    """
    tree = parse(text, "all.opt")
    out = model_to_opt(tree)
    assert "for {i in I} {\n  printf \"%d\", i;\n  display x[i];\n}" in out
    again = parse(out, "again.opt")
    assert again.statements == tuple(s for s in tree.statements if not isinstance(s, ast.EndStmt))


def test_data_section_labels_and_forms():
    text = """
    set NODES;
    set LINKS within NODES cross NODES;
    param cost {LINKS} default 1;
    param kind {NODES} symbolic;
    set S {NODES};
    var flow {LINKS} >= 0;
    minimize c: sum {(i, j) in LINKS} cost[i, j] * flow[i, j] + sum {n in NODES, k in S[n]} 0 * k;
    subject to out {n in NODES: kind[n] = "src"}: sum {(n, j) in LINKS} flow[n, j] >= 1;
    data;
    set NODES := "New York" '123' end2 a;
    set LINKS := ("New York", '123') ('123', end2) (end2, a);
    param cost default 2 := "New York" '123' 3.5;
    param kind := "New York" src '123' "mid dle" end2 sink a sink;
    set S["New York"] := 1 2;
    set S['123'] := ;
    set S[end2] := 3;
    set S[a] := 4;
    end;
    """
    m = od.parse_model(text)
    out = m.to_opt()
    assert 'set NODES := "New York" "123" end2 a;' in out
    assert 'set LINKS := ("New York", "123") ("123", end2) (end2, a);' in out
    assert 'param cost default 2 :=\n  "New York" "123" 3.5;' in out
    assert 'set S["123"] := ;' in out
    assert od.parse_model(out).print_ir() == m.print_ir()


def test_long_sums_print_without_recursion():
    from optdsl.api.to_opt import model_to_opt

    m = od.Model("long")
    N = m.set("N", range(1, 2001))
    x = m.var("x", N, lb=0, ub=1)
    m.maximize("obj", od.sum([k * x[k] for k in range(1, 2001)]))
    text = model_to_opt(m._ast, m._data)
    assert text.count(" + ") == 1999 and "2000 * x[2000];" in text
    assert len(m.to_latex()) > 20000


# ------------------------------------------------------------------------------ LaTeX
def test_transport_latex():
    tex = transport_vectorized().to_latex()
    assert r"\min & \sum_{i \in I, j \in J} c_{i,j} x_{i,j}" in tex
    assert r"\text{s.t.} & \sum_{j \in J} x_{i,j} \le a_{i} & \forall i \in I & \text{(supply)}" in tex
    assert r"\sum_{i \in I} x_{i,j} \ge b_{j} & \forall j \in J" in tex
    assert r"x_{i,j} \ge 0 & \forall i \in I, j \in J" in tex
    assert r"c_{i,j} = \frac{f d_{i,j}}{1000}" in tex
    assert tex.startswith(r"\begin{array}") and tex.endswith(r"\end{array}")


def test_latex_domains_and_functions():
    tex = knapsack_vectorized().to_latex()
    assert r"\mathit{take}_{i} \in \{0, 1\} & \forall i \in \mathit{ITEMS}" in tex
    m = od.Model("nl")
    lam = m.param("lambda", 2)
    x = m.var("x", lb=0, ub=1)
    m.minimize("o", lam * od.sqrt(x) + od.exp(-x) + od.abs(x - 1) / 2)
    tex = m.to_latex()
    assert r"\lambda \sqrt{x} + \exp\left(-x\right) + \frac{\left|x - 1\right|}{2}" in tex
    assert r"0 \le x \le 1" in tex


# ------------------------------------------------------------------------ other statements
def test_bilevel_acyclic_surrogate_options_build_the_parsed_ast():
    from optdsl.parse.parser import parse

    m = od.Model("b")
    x = m.var("x", range(1, 3), lb=0)
    with m.lower("follower"):
        y = m.var("y", range(1, 3))
        m.minimize("f", od.sum((y[j] - x[j]) ** 2 for j in od.each(range(1, 3))))
    m.minimize("F", (x[1] - 1) ** 2 + od.sum(y[k] ** 2 for k in [1, 2]))  # a Python loop: two terms
    V = m.set("V", range(1, 4))
    W = m.var("W", (V, V))
    m.constraint("dag", od.acyclic(W))
    phi = m.surrogate("phi", "surrogate.pt")
    z = m.var("z", range(1, 5), lb=0, ub=1)
    m.constraint("risk", phi(z)[2] <= 0.3)
    m.option("solver", "highs")
    m.option("time_limit", 60)
    text = m.to_opt()
    assert "lower follower {\n  var y {1 .. 2};\n  minimize f: sum {i in 1 .. 2} (y[i] - x[i]) ^ 2;\n}" in text
    assert "subject to dag: acyclic(W);" in text and "subject to risk: phi(z)[2] <= 0.3;" in text
    assert "option solver highs;\noption time_limit 60;" in text
    assert parse(text, "b.opt").statements == m.statements


def test_handles_of_a_parsed_model():
    m = od.load(ROOT / "examples" / "transport.opt")
    x, J = m["x"], m["J"]
    assert J.members == SINKS
    m.constraint("cap", x.sum("I") <= 400)
    assert "subject to cap[Topeka]: 1 x[Seattle,Topeka] + 1 x[San-Diego,Topeka] <= 400" in m.print_ir()
    with pytest.raises(ModelError, match="no set, param or variable 'y'"):
        m["y"]


# ------------------------------------------------------------------------------ solving
def _highs_available() -> bool:
    return importlib.util.find_spec("highspy") is not None and \
        importlib.util.find_spec("optdsl.solvers.highs.backend") is not None


@pytest.mark.skipif(not _highs_available(), reason="HiGHS backend (highspy / optdsl.solvers.highs) not importable")
@pytest.mark.parametrize("build", [transport_generator, transport_vectorized])
def test_solve_python_built_transport(build):
    r = build().solve()
    assert r.objective == pytest.approx(153.675, rel=1e-9)


@pytest.mark.skipif(not _highs_available(), reason="HiGHS backend (highspy / optdsl.solvers.highs) not importable")
def test_solve_python_built_knapsack():
    assert knapsack_vectorized().solve().objective == pytest.approx(15)


def test_strict_bounds_and_value_sets_on_params():
    m = od.Model("checks")
    m.param("n", 3, integer=True, gt=0)
    m.param("y", range(1, 4), [1, -1, 1], within=[-1, 1])
    assert m.to_opt().startswith("param n integer, > 0;\nparam y {1 .. 3} in {-1, 1};\n")
    assert m.ir.params["y"].values.tolist() == [1.0, -1.0, 1.0]
    bad = od.Model("bad")
    bad.param("y", range(1, 4), [1, -1, 2], within=[-1, 1])
    with pytest.raises(od.OptdslError) as info:
        _ = bad.ir
    assert info.value.render() == "error: param y[3] = 2 violates its 'in' set"
    zero = od.Model("zero")
    zero.param("n", 0, gt=0)
    with pytest.raises(od.OptdslError, match=r"param n = 0 violates the declared bound > 0"):
        _ = zero.ir
