"""AMPL piecewise-linear terms `<<breakpoints; slopes>> arg`: parsing, values, and exact solves.

Every optimum is checked against an independent formulation built here with scipy: the *lambda*
(convex-combination) model over the graph's corner points, with one binary per segment where the
function is not convex in the optimized direction. optdsl itself uses the segment ("delta") model,
so the two share no code and no formulation.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from optdsl.api.model import parse_model
from optdsl.errors import OptdslError


def f_ref(bk: list[float], slopes: list[float], x: float, zero: float = 0.0) -> float:
    """The AMPL function by direct integration of its slope from the zero point to x."""
    def slope_at(t: float) -> float:
        return slopes[int(np.searchsorted(bk, t, side="right"))]
    pts = sorted({zero, x, *[b for b in bk if min(zero, x) < b < max(zero, x)]})
    total = sum(slope_at((a + b) / 2) * (b - a) for a, b in zip(pts, pts[1:]))
    return total if x >= zero else -total


class Lambda:
    """A row-wise MILP in scipy: continuous columns, and pwl terms added as lambda blocks."""

    def __init__(self, ncols: int, lo: list[float], hi: list[float]) -> None:
        self.lo, self.hi = list(lo), list(hi)
        self.integ = [0] * ncols
        self.c = [0.0] * ncols
        self.rows: list[tuple[dict[int, float], float, float]] = []

    def col(self, lo: float = 0.0, hi: float = np.inf, integer: bool = False) -> int:
        self.lo.append(lo)
        self.hi.append(hi)
        self.integ.append(int(integer))
        self.c.append(0.0)
        return len(self.c) - 1

    def row(self, coefs: dict[int, float], lo: float, hi: float) -> None:
        self.rows.append((coefs, lo, hi))

    def term(self, bk, slopes, arg: dict[int, float], lo: float, hi: float, zero: float = 0.0,
             binaries: bool = True) -> int:
        """A column v = f(arg) for arg in [lo, hi], as a convex combination of the graph's corners."""
        xs = [lo] + [b for b in bk if lo < b < hi] + [hi]
        lam = [self.col(0, 1) for _ in xs]
        v = self.col(-np.inf, np.inf)
        self.row({**{k: -a for k, a in arg.items()}, **dict(zip(lam, xs, strict=True))}, 0, 0)
        self.row({v: -1.0, **{j: f_ref(bk, slopes, x, zero) for j, x in zip(lam, xs, strict=True)}}, 0, 0)
        self.row(dict.fromkeys(lam, 1.0), 1, 1)
        if binaries:  # SOS2 through one binary per segment
            ys = [self.col(0, 1, True) for _ in xs[1:]]
            self.row(dict.fromkeys(ys, 1.0), 1, 1)
            for j, lj in enumerate(lam):
                near = [ys[k] for k in (j - 1, j) if 0 <= k < len(ys)]
                self.row({lj: 1.0, **dict.fromkeys(near, -1.0)}, -np.inf, 0)
        return v

    def solve(self, sense: str = "min") -> tuple[float, np.ndarray]:
        n = len(self.c)
        A = np.zeros((len(self.rows), n))
        for r, (coefs, _, _) in enumerate(self.rows):
            for k, a in coefs.items():
                A[r, k] += a
        sign = 1.0 if sense == "min" else -1.0
        res = milp(sign * np.asarray(self.c), integrality=self.integ, bounds=Bounds(self.lo, self.hi),
                   constraints=LinearConstraint(A, [r[1] for r in self.rows], [r[2] for r in self.rows]))
        assert res.status == 0, res.message
        return sign * res.fun, res.x


def solve(text: str, data: dict | None = None):
    r = parse_model(text, data=data).solve()
    assert r.status.value == "optimal", r.message
    return r


# ------------------------------------------------------------------------------ values
@pytest.mark.parametrize("x, zero", [(5.0, None), (5.0, 1.0), (-2.0, None), (1.5, 3.0), (0.5, -4.0)])
def test_value_of_a_term_on_data(x, zero):
    bk, sl = [1.0, 3.0], [2.0, -1.0, 0.5]
    arg = f"({x})" if zero is None else f"({x}, {zero})"
    r = solve(f"param p := <<1, 3; 2, -1, 0.5>> {arg};\nvar y >= p <= p;\nminimize o: y;")
    assert r.objective == pytest.approx(f_ref(bk, sl, x, zero or 0.0))


def test_indexed_lists_are_ragged_per_instance():
    # instance i has i breakpoints 1..i with slopes 0, 1, ..., i: value at 10 is sum_k (10 - k)
    text = """
    param n := 4;
    param v {i in 1..n} := <<{k in 1..i} k; {k in 0..i} k>> 10;
    var y {i in 1..n} >= v[i] <= v[i];
    minimize o: sum {i in 1..n} y[i] * i;
    """
    r = solve(text)
    want = sum(i * f_ref(list(range(1, i + 1)), list(range(i + 1)), 10.0) for i in range(1, 5))
    assert r.objective == pytest.approx(want)


# ------------------------------------------------------------------------------ objective
def test_convex_objective_is_an_lp():
    text = """
    var x >= -10 <= 10; var y >= -10 <= 10;
    minimize cost: <<-1, 2; -3, 0.5, 4>> x + <<0; -1, 2>> (y, 1) - x;
    s.t. c: x + y >= 3;
    """
    r = solve(text)
    ref = Lambda(2, [-10, -10], [10, 10])
    vx = ref.term([-1, 2], [-3, 0.5, 4], {0: 1.0}, -10, 10, binaries=False)
    vy = ref.term([0], [-1, 2], {1: 1.0}, -10, 10, zero=1.0, binaries=False)
    ref.c[vx], ref.c[vy], ref.c[0] = 1.0, 1.0, -1.0
    ref.row({0: 1, 1: 1}, 3, np.inf)
    obj, _ = ref.solve()
    assert r.objective == pytest.approx(obj)
    assert r.stats["piecewise_binaries"] == 0
    assert set(r.variables) == {"x", "y"}  # the segment columns stay hidden
    x, y = r.value("x"), r.value("y")
    assert f_ref([-1, 2], [-3, 0.5, 4], x) + f_ref([0], [-1, 2], y, 1) - x == pytest.approx(obj)


def test_nonconvex_objective_needs_binaries():
    # maximizing a convex function: the optimum sits at an end of the box
    text = """
    var x {1..3} >= -3 <= 2;
    maximize m: sum {i in 1..3} <<0, 1; -i, 1, 2>> x[i];
    s.t. budget: sum {i in 1..3} x[i] <= 1;
    """
    r = solve(text)
    ref = Lambda(3, [-3] * 3, [2] * 3)
    for i in range(1, 4):
        v = ref.term([0, 1], [-i, 1, 2], {i - 1: 1.0}, -3, 2)
        ref.c[v] = 1.0
    ref.row({0: 1, 1: 1, 2: 1}, -np.inf, 1)
    obj, _ = ref.solve("max")
    assert r.objective == pytest.approx(obj)
    assert r.stats["piecewise_binaries"] > 0


def test_unbounded_nonconvex_term_is_refused():
    with pytest.raises(OptdslError, match="no finite"):
        parse_model("var x >= 0; maximize m: <<1; 1, 2>> x; s.t. c: x <= 4;").solve()


# ------------------------------------------------------------------------------ constraints
@pytest.mark.parametrize("op, sense", [("<=", "max"), (">=", "max"), ("=", "min"), (">=", "min")])
def test_terms_in_constraints(op, sense):
    # convex term: `<=` keeps an LP, `>=` and `=` make the feasible set nonconvex (binaries)
    text = f"""
    var x >= -4 <= 6; var y >= -5 <= 5;
    {'maximize' if sense == 'max' else 'minimize'} o: x + 0.3 * y;
    s.t. c: <<-1, 1, 3; -2, 0, 1, 3>> x + y {op} 2;
    s.t. d: x - y <= 4;
    """
    r = solve(text)
    lo, hi = {"<=": (-np.inf, 2), ">=": (2, np.inf), "=": (2, 2)}[op]
    ref = Lambda(2, [-4, -5], [6, 5])
    v = ref.term([-1, 1, 3], [-2, 0, 1, 3], {0: 1.0}, -4, 6, binaries=op != "<=")
    ref.row({v: 1.0, 1: 1.0}, lo, hi)
    ref.row({0: 1.0, 1: -1.0}, -np.inf, 4)
    ref.c[0], ref.c[1] = 1.0, 0.3
    obj, _ = ref.solve(sense)
    assert r.objective == pytest.approx(obj)
    assert (r.stats["piecewise_binaries"] == 0) == (op == "<=")


def test_constraint_body_after_solve_counts_the_term():
    text = """
    var x >= 0 <= 10;
    maximize o: x;
    s.t. c: <<2; 1, 3>> x <= 8;
    solve;
    printf "%.6f\\n", c.body;
    """
    import io

    from optdsl.script import run_script

    m = parse_model(text)
    r = m.solve()
    assert r.value("x") == pytest.approx(4.0)  # 2 + 3 (x - 2) = 8
    out = io.StringIO()
    run_script(m, r, out)
    assert float(out.getvalue()) == pytest.approx(8.0)


# ------------------------------------------------------------------------------ AMPL book style
TRANSPL = """
set ORIG; set DEST;
param supply {ORIG} >= 0; param demand {DEST} >= 0;
param npiece {ORIG, DEST} integer >= 1;
param rate {i in ORIG, j in DEST, p in 1..npiece[i,j]} >= if p = 1 then 0 else rate[i,j,p-1];
param limit {i in ORIG, j in DEST, p in 1..npiece[i,j]-1} > if p = 1 then 0 else limit[i,j,p-1];
var Trans {ORIG, DEST} >= 0;
minimize Total_Cost:
   sum {i in ORIG, j in DEST}
      <<{p in 1..npiece[i,j]-1} limit[i,j,p]; {p in 1..npiece[i,j]} rate[i,j,p]>> Trans[i,j];
subject to Supply {i in ORIG}: sum {j in DEST} Trans[i,j] = supply[i];
subject to Demand {j in DEST}: sum {i in ORIG} Trans[i,j] = demand[j];
"""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_transportation_with_piecewise_costs(seed):
    rng = np.random.default_rng(seed)
    O, D = ["o1", "o2", "o3"], ["d1", "d2", "d3", "d4"]
    demand = rng.integers(10, 40, len(D)).astype(float)
    supply = np.full(len(O), demand.sum() / len(O))
    npiece, rate, limit = {}, {}, {}
    for i in O:
        for j in D:
            k = int(rng.integers(1, 4))
            npiece[i, j] = k
            r = np.cumsum(rng.uniform(1, 5, k))  # increasing rates: convex costs, as in the book
            lim = np.cumsum(rng.uniform(3, 12, k - 1))
            for p in range(1, k + 1):
                rate[i, j, p] = float(r[p - 1])
            for p in range(1, k):
                limit[i, j, p] = float(lim[p - 1])
    data = {"ORIG": O, "DEST": D, "supply": dict(zip(O, supply, strict=True)),
            "demand": dict(zip(D, demand, strict=True)), "npiece": npiece, "rate": rate, "limit": limit}
    r = solve(TRANSPL, data)
    cols = {(i, j): k for k, (i, j) in enumerate((i, j) for i in O for j in D)}
    ref = Lambda(len(cols), [0] * len(cols), [float(demand.sum())] * len(cols))
    for (i, j), k in cols.items():
        bk = [limit[i, j, p] for p in range(1, npiece[i, j])]
        sl = [rate[i, j, p] for p in range(1, npiece[i, j] + 1)]
        v = ref.term(bk, sl, {k: 1.0}, 0, float(demand.sum()), binaries=False)
        ref.c[v] = 1.0
    for a, i in enumerate(O):
        ref.row({cols[i, j]: 1.0 for j in D}, supply[a], supply[a])
    for b, j in enumerate(D):
        ref.row({cols[i, j]: 1.0 for i in O}, demand[b], demand[b])
    obj, _ = ref.solve()
    assert r.objective == pytest.approx(obj, rel=1e-7)
    assert r.stats["piecewise_binaries"] == 0


def test_concave_costs_in_transportation_need_binaries():
    # falling rates (volume discounts) are concave: minimizing them is a MIP
    data = {"ORIG": ["a", "b"], "DEST": ["x", "y"], "supply": {"a": 10, "b": 10},
            "demand": {"x": 12, "y": 8}, "npiece": {("a", "x"): 2, ("a", "y"): 2, ("b", "x"): 1, ("b", "y"): 2},
            "rate": {("a", "x", 1): 5, ("a", "x", 2): 1, ("a", "y", 1): 4, ("a", "y", 2): 1,
                     ("b", "x", 1): 3, ("b", "y", 1): 6, ("b", "y", 2): 0.5},
            "limit": {("a", "x", 1): 4, ("a", "y", 1): 3, ("b", "y", 1): 2}}
    with pytest.raises(OptdslError, match="declared bound"):  # the book's bounds ask for rising rates
        _ = parse_model(TRANSPL, data=data).ir
    text = TRANSPL.replace("var Trans {ORIG, DEST} >= 0;", "var Trans {ORIG, DEST} >= 0 <= 20;")
    text = text.replace(" >= if p = 1 then 0 else rate[i,j,p-1]", "")
    r = solve(text, data)
    cols = {("a", "x"): 0, ("a", "y"): 1, ("b", "x"): 2, ("b", "y"): 3}
    ref = Lambda(4, [0] * 4, [20] * 4)
    for (i, j), k in cols.items():
        n = data["npiece"][i, j]
        v = ref.term([data["limit"][i, j, p] for p in range(1, n)], [data["rate"][i, j, p] for p in range(1, n + 1)],
                     {k: 1.0}, 0, 20)
        ref.c[v] = 1.0
    for i in "ab":
        ref.row({cols[i, j]: 1.0 for j in "xy"}, 10, 10)
    ref.row({cols["a", "x"]: 1, cols["b", "x"]: 1}, 12, 12)
    ref.row({cols["a", "y"]: 1, cols["b", "y"]: 1}, 8, 8)
    obj, _ = ref.solve()
    assert r.objective == pytest.approx(obj)
    assert r.stats["piecewise_binaries"] > 0


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("text, match", [
    ("var x; minimize o: <<1, 2; 1, 2>> x;", "one more slope"),
    ("var x; minimize o: <<2, 1; 1, 2, 3>> x;", "must increase"),
    ("var x; var y; minimize o: <<y; 1, 2>> x;", "variable 'y' cannot appear"),
    ("var x; minimize o: <<1; 1, 2>> (x * x);", "must be linear"),
    ("var x; minimize o: <<1; 1, 2>> (x, 1, 2);", "argument, zero point"),
    ("set S := {1, 2}; var x; minimize o: <<S; 1, 2>> x;", "arithmetic"),
])
def test_errors_are_named_and_located(text, match):
    with pytest.raises(OptdslError, match=match) as err:
        _ = parse_model(text).ir
    assert err.value.span is not None


def test_nlp_backends_refuse_piecewise_terms():
    m = parse_model("var x >= -1 <= 1; minimize o: <<0; -1, 1>> x;")
    with pytest.raises(OptdslError, match="piecewise"):
        m.solve(solver="ipopt")


def test_export_refuses_instead_of_dropping_the_terms():
    m = parse_model("var x >= -1 <= 1; minimize o: <<0; -1, 1>> x;")
    with pytest.raises(OptdslError, match="piecewise"):
        m.to_highs()


def test_python_api_builds_the_same_model_as_the_text():
    import optdsl as od

    m = od.Model("pw")
    J = m.set("J", ["a", "b", "c"])
    lim = m.param("lim", J, [1.0, 2.0, 3.0])
    x = m.var("x", J, lb=-4, ub=4)
    m.minimize("cost", od.sum(od.piecewise([lim[j]], [-1, 2], x[j]) for j in J)
               + od.piecewise([0, 1], [1, -1, 0.5], x["a"], zero=2))
    m.constraint("c", x["a"] + x["b"] + x["c"] >= 2)
    text = m.to_opt()
    assert "<<lim[" in text and ">> (x['a'], 2)" in text.replace('"', "'")
    r_api = m.solve()
    r_text = parse_model(text).solve()
    assert r_api.objective == pytest.approx(r_text.objective)
    ref = Lambda(3, [-4] * 3, [4] * 3)
    for k, b in enumerate([1.0, 2.0, 3.0]):
        ref.c[ref.term([b], [-1, 2], {k: 1.0}, -4, 4)] = 1.0
    ref.c[ref.term([0, 1], [1, -1, 0.5], {0: 1.0}, -4, 4, zero=2)] += 1.0
    ref.row({0: 1, 1: 1, 2: 1}, 2, np.inf)
    assert r_api.objective == pytest.approx(ref.solve()[0])


def test_value_columns_report_the_function_even_when_not_pushed():
    # a term in a slack `<=` row may take any value the relaxation allows above f(x); invert
    # reports f(x) itself, and drops the segment columns and added rows
    from optdsl.lower.lp import to_lpform
    from optdsl.lower.piecewise import PiecewiseLinear
    from optdsl.results import Result, SolutionStatus, TerminationStatus

    ir = parse_model("var x >= 0 <= 3; minimize o: x; s.t. c: <<2; 1, 3>> x <= 100;").ir
    form = to_lpform(ir)
    p = PiecewiseLinear()
    new, inverse = p.apply(form)
    assert new.num_cols > form.num_cols and new.num_rows > form.num_rows
    x = np.zeros(new.num_cols)
    x[0], x[1] = 2.5, 99.0  # x, and its term's value column far above f(2.5) = 3.5
    r = Result(TerminationStatus.OPTIMAL, SolutionStatus.OPTIMAL, "test", objective=2.5, x=x,
               row_duals=np.zeros(new.num_rows))
    back = p.invert(r, inverse)
    assert back.x.tolist() == pytest.approx([2.5, f_ref([2], [1, 3], 2.5)])
    assert len(back.row_duals) == form.num_rows


def test_nested_terms_and_bilevel_refusal():
    # the inner term's value is the outer term's argument: wanted both ways, so binaries
    r = solve("var x >= -2 <= 2; minimize o: <<1; -1, 1>> (<<0; -1, 2>> x) + 0.1 * x;")
    xs = np.linspace(-2, 2, 4001)
    brute = min(f_ref([1], [-1, 1], f_ref([0], [-1, 2], x)) + 0.1 * x for x in xs)
    assert r.objective == pytest.approx(brute, abs=1e-6)
    with pytest.raises(OptdslError):
        parse_model("var x >= 0 <= 1; minimize o: x; lower f { var y >= 0 <= 1; "
                    "minimize g: <<0.5; 1, 2>> y - x; }").solve()


def test_printers_write_the_terms_back():
    from optdsl.api.opt_text import expr_text
    from optdsl.parse import ast
    from optdsl.parse.parser import parse

    text = TRANSPL + "s.t. z {i in ORIG}: <<1; 0, -2>> (Trans[i, first(DEST)] - 1, 3) <= 5;\n"
    model = parse(text)
    again = parse("\n".join(f"minimize o{k}: {expr_text(s.expr)};" if isinstance(s, ast.Objective) else ""
                            for k, s in enumerate(model.statements)))
    objs = [s for s in model.statements if isinstance(s, ast.Objective)]
    assert [s.expr for s in again.statements] == [o.expr for o in objs]
    zero = next(s for s in model.statements if isinstance(s, ast.ConstraintDecl)
                and s.name == "z").relation.lhs
    assert parse(f"minimize o: {expr_text(zero)};").statements[0].expr == zero


def test_latex_names_the_function():
    m = parse_model("var x >= -1 <= 1; minimize o: <<{k in 1..2} k; 0, 1, 2>> (x, 1);")
    tex = m.to_latex()
    assert r"\operatorname{pwl}" in tex and r"\text{ at } 1" in tex
