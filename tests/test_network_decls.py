"""AMPL's network (node, arc) and column-wise (to_come, coeff, cover, obj) declarations.

Every answer is computed independently: the same problem is built here as plain numpy arrays and
solved with scipy's linprog/milp, or written row-wise in optdsl, never taken from optdsl's own
output of the column-wise model.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from optdsl.api.model import parse_model
from optdsl.api.to_opt import statement_text
from optdsl.errors import OptdslError
from optdsl.parse.parser import parse


def solve(text: str, data: dict | None = None):
    r = parse_model(text, data).solve()
    assert r.status.value == "optimal", r.message
    return r


# ------------------------------------------------------------------ a network with gains
def _network(seed: int):
    """A random transshipment network: city 0 supplies, the others demand; every link loses
    a share of what it carries (factor on `to`), some also cost extra at the origin (factor on
    `from`)."""
    rng = np.random.default_rng(seed)
    n = 7
    cities = [f"c{k}" for k in range(n)]
    links = [(i, j) for i in range(n) for j in range(n) if i != j and (j == i + 1 or rng.random() < 0.35)]
    cost = rng.uniform(1, 5, len(links)).round(2)
    cap = rng.uniform(60, 150, len(links)).round(0)
    gain = rng.uniform(0.85, 1.0, len(links)).round(3)  # arrives per unit shipped
    use = np.where(rng.random(len(links)) < 0.3, 1.1, 1.0)  # leaves the origin per unit shipped
    supply = np.zeros(n)
    supply[0] = 1000.0
    demand = np.r_[0.0, rng.uniform(10, 30, n - 1).round(0)]
    return cities, links, cost, cap, gain, use, supply, demand


def _network_data(seed: int) -> dict:
    cities, links, cost, cap, gain, use, supply, demand = _network(seed)
    L = [(cities[i], cities[j]) for i, j in links]
    return {
        "CITIES": cities, "LINKS": L,
        "cost": dict(zip(L, cost)), "cap": dict(zip(L, cap)), "gain": dict(zip(L, gain)),
        "use": dict(zip(L, use)), "supply": dict(zip(cities, supply)), "demand": dict(zip(cities, demand)),
    }


def _network_linprog(seed: int) -> float:
    cities, links, cost, cap, gain, use, supply, demand = _network(seed)
    n, m = len(cities), len(links)
    A = np.zeros((n, m))  # net inflow of each city
    for k, (i, j) in enumerate(links):
        A[j, k] += gain[k]
        A[i, k] -= use[k]
    # net_in >= demand - supply  <=>  -A x <= supply - demand
    res = linprog(cost, A_ub=-A, b_ub=supply - demand, bounds=list(zip(np.zeros(m), cap)), method="highs")
    assert res.status == 0
    return float(res.fun)


NETWORK = """
set CITIES;
set LINKS within CITIES cross CITIES;
param cost {LINKS}; param cap {LINKS}; param gain {LINKS}; param use {LINKS};
param supply {CITIES}; param demand {CITIES};
minimize Total_Cost;
node Balance {k in CITIES}: net_in >= demand[k] - supply[k];
arc Ship {(i,j) in LINKS} >= 0, <= cap[i,j],
   from Balance[i] use[i,j], to Balance[j] gain[i,j], obj Total_Cost cost[i,j];
"""

NETWORK_ROWWISE = """
set CITIES;
set LINKS within CITIES cross CITIES;
param cost {LINKS}; param cap {LINKS}; param gain {LINKS}; param use {LINKS};
param supply {CITIES}; param demand {CITIES};
var Ship {(i,j) in LINKS} >= 0, <= cap[i,j];
minimize Total_Cost: sum {(i,j) in LINKS} cost[i,j] * Ship[i,j];
subject to Balance {k in CITIES}:
   sum {(i,k) in LINKS} gain[i,k] * Ship[i,k] - sum {(k,j) in LINKS} use[k,j] * Ship[k,j] >= demand[k] - supply[k];
"""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_arcs_with_factors_match_linprog(seed: int) -> None:
    data = _network_data(seed)
    r = solve(NETWORK, data)
    assert r.objective == pytest.approx(_network_linprog(seed), rel=1e-7)


def test_arcs_match_the_rowwise_model() -> None:
    data = _network_data(3)
    a, b = solve(NETWORK, data), solve(NETWORK_ROWWISE, data)
    assert a.objective == pytest.approx(b.objective, rel=1e-9)
    assert a.objective == pytest.approx(_network_linprog(3), rel=1e-7)


def test_node_rows_are_ordinary_coefficients() -> None:
    """A -> B -> C with gains: the Balance block holds exactly the hand-built matrix."""
    text = """
set N; set L within N cross N;
param g {L} default 0.5;
minimize cost: to_come + 0;
node Balance {k in N}: net_in >= if k = "C" then 1 else if k = "A" then -100 else 0;
arc x {(i,j) in L} >= 0, from Balance[i], to Balance[j] g[i,j], obj cost 3;
data; set N := A B C; set L := (A,B) (B,C); end;
"""
    ir = parse_model(text).ir
    (con,) = ir.constraints
    dense = np.zeros((con.expr.n, 2))
    np.add.at(dense, (np.asarray(con.expr.rows), np.asarray(con.expr.cols)), con.expr.vals)
    want = np.array([[-1.0, 0.0],   # A: x[A,B] leaves
                     [0.5, -1.0],   # B: half of x[A,B] arrives, x[B,C] leaves
                     [0.0, 0.5]])   # C: half of x[B,C] arrives
    assert np.array_equal(dense, want)
    assert np.array_equal(con.lower, [-100, 0, 1]) and np.all(np.isinf(con.upper))
    obj = ir.objectives[0].expr
    assert sorted(zip(np.asarray(obj.cols).tolist(), obj.vals.tolist())) == [(0, 3.0), (1, 3.0)]
    # C needs 1, so B sends 2 and A sends 4: cost 3 * (4 + 2)
    assert solve(text).objective == pytest.approx(18.0)


# ------------------------------------------------------------------ node forms
DATA = """
data;
param cap := 50;
param:  lo  hi  c  price :=
  w1    10  20  2  5
  w2    15  40  3  4 ;
set W := w1 w2;
end;
"""


def test_net_out_inequalities_and_ranges() -> None:
    """One plant with capacity, two warehouses with demand ranges, plant throughput two-sided."""
    text = """
set W; param cap; param lo {W}; param hi {W}; param c {W}; param price {W};
maximize Profit;
node Plant: 30 <= net_out <= cap;
node Whse {w in W}: lo[w] <= net_in <= hi[w];
node Sink {w in W}: net_in >= 0;
arc Ship {w in W} >= 0, from Plant, to Whse[w], obj Profit price[w] - c[w];
arc Out {w in W} >= 0, <= 1000, from Whse[w], to Sink[w];
""" + DATA
    # row-wise: Ship feeds the warehouse; Out takes it away again, so Whse's net_in is Ship - Out
    rowwise = """
set W; param cap; param lo {W}; param hi {W}; param c {W}; param price {W};
var Ship {W} >= 0; var Out {W} >= 0, <= 1000;
maximize Profit: sum {w in W} (price[w] - c[w]) * Ship[w];
s.t. Plant: 30 <= sum {w in W} Ship[w] <= cap;
s.t. Whse {w in W}: lo[w] <= Ship[w] - Out[w] <= hi[w];
s.t. Sink {w in W}: Out[w] >= 0;
""" + DATA
    assert solve(text).objective == pytest.approx(solve(rowwise).objective)
    # w2 must keep 15 (margin 1); Out lets w1 take the other 35 of the plant's 50 (margin 3)
    assert solve(text).objective == pytest.approx(35 * 3 + 15 * 1)


def test_node_without_relation_conserves_flow_and_maximum_flow() -> None:
    text = """
set V; set E within V cross V; param u {E};
param src symbolic in V; param snk symbolic in V;
node Pass {k in V};
arc In >= 0, to Pass[src];
arc Out >= 0, from Pass[snk];
arc Flow {(i,j) in E} >= 0, <= u[i,j], from Pass[i], to Pass[j];
maximize Total: In;
data;
set V := s a b t;
param: E: u := s a 4  s b 2  a b 3  a t 1  b t 5;
param src := s; param snk := t;
end;
"""
    # max flow s->t: cut {s,a} | {b,t} has capacity 2 + 3 + 1 = 6; cut {s} has 4 + 2 = 6
    assert solve(text).objective == pytest.approx(6.0)


def test_to_come_with_other_terms_in_constraints_and_objectives() -> None:
    text = """
set I := 1..3; param cap {i in I} := i + 3; param w {i in I} := i;
var y >= 0, <= 2;
maximize Value: to_come - 0.5 * y;
subject to Cap {i in I}: to_come + y <= cap[i];
var x {i in I} >= 0, obj Value w[i], coeff Cap[i] 2;
"""
    rowwise = """
set I := 1..3; param cap {i in I} := i + 3; param w {i in I} := i;
var y >= 0, <= 2; var x {I} >= 0;
maximize Value: sum {i in I} w[i] * x[i] - 0.5 * y;
subject to Cap {i in I}: 2 * x[i] + y <= cap[i];
"""
    a = solve(text).objective
    assert a == pytest.approx(solve(rowwise).objective)
    # independent: y = 0 is best (each unit of y costs 0.5 and lowers every x), x = cap / 2
    assert a == pytest.approx(sum(w * c / 2 for w, c in ((1, 4), (2, 5), (3, 6))))


def test_several_objectives_and_selection() -> None:
    text = """
set A := {"a", "b"};
param c1 {j in A} := if j = "a" then 1 else 3; param c2 {j in A} := if j = "a" then 4 else 1;
minimize First; minimize Second;
subject to Need: to_come >= 2;
var x {j in A} >= 0, <= 1.5, obj First c1[j], obj Second c2[j], cover Need;
"""
    assert solve(text).objective == pytest.approx(1.5 * 1 + 0.5 * 3)
    assert solve(text + "objective Second;\n").objective == pytest.approx(1.5 * 1 + 0.5 * 4)


def test_from_and_to_repeated_over_their_own_indexing() -> None:
    """A hyperarc: one unit of `mix` takes 1 of each input and makes 2 of the product."""
    text = """
set IN := {"p", "q"};
param have {i in IN} := if i = "p" then 5 else 3;
maximize Made: to_come;
node Stock {i in IN}: net_out <= have[i];
node Product: net_in >= 0;
arc mix >= 0, from {i in IN} Stock[i], to Product 2, obj Made 2;
"""
    assert solve(text).objective == pytest.approx(6.0)  # q runs out after 3 units


# ------------------------------------------------------------------ set covering (sched-style)
def _covering(seed: int):
    rng = np.random.default_rng(seed)
    n_shift, n_sched = 8, 14
    member = rng.random((n_shift, n_sched)) < 0.35
    member[rng.integers(0, n_shift, n_sched), np.arange(n_sched)] = True  # no empty schedule
    member[np.arange(n_shift), rng.integers(0, n_sched, n_shift)] = True  # every shift coverable
    rate = rng.integers(2, 9, n_sched).astype(float)
    required = rng.integers(1, 6, n_shift).astype(float)
    return member, rate, required


def _covering_data(seed: int) -> dict:
    member, rate, required = _covering(seed)
    shifts = [f"s{i}" for i in range(member.shape[0])]
    return {
        "SHIFTS": shifts, "Nsched": member.shape[1],
        "SHIFT_LIST": {j + 1: [shifts[i] for i in np.flatnonzero(member[:, j])] for j in range(member.shape[1])},
        "rate": {j + 1: rate[j] for j in range(member.shape[1])},
        "required": dict(zip(shifts, required)),
    }


SCHED = """
set SHIFTS;
param Nsched;
set SCHEDS := 1..Nsched;
set SHIFT_LIST {SCHEDS} within SHIFTS;
param rate {SCHEDS} > 0;
param required {SHIFTS} > 0;
minimize Total_Cost;
subject to Shift_Needs {i in SHIFTS}: to_come >= required[i];
var Work {j in SCHEDS} >= 0, integer,
   obj Total_Cost rate[j],
   {COLUMN};
"""


@pytest.mark.parametrize("column", ["coeff {i in SHIFT_LIST[j]} Shift_Needs[i] 1",
                                    "cover {i in SHIFT_LIST[j]} Shift_Needs[i]"])
@pytest.mark.parametrize("seed", [0, 1])
def test_set_covering_matches_milp(column: str, seed: int) -> None:
    member, rate, required = _covering(seed)
    want = milp(rate, constraints=LinearConstraint(member.astype(float), lb=required),
                integrality=np.ones_like(rate), bounds=Bounds(0, np.inf))
    assert want.status == 0
    r = solve(SCHED.replace("{COLUMN}", column), _covering_data(seed))
    assert r.objective == pytest.approx(want.fun)


# ------------------------------------------------------------------ input-output (iocol-style)
def _io(seed: int):
    rng = np.random.default_rng(seed)
    n_mat, n_act, n_fin = 6, 5, 2
    io = np.where(rng.random((n_mat, n_act)) < 0.5, -rng.uniform(0.5, 2, (n_mat, n_act)), 0.0).round(2)
    io[:n_fin] = np.where(rng.random((n_fin, n_act)) < 0.7, rng.uniform(1, 3, (n_fin, n_act)), 0.0).round(2)
    cost = rng.uniform(1, 4, n_act).round(2)
    act_max = rng.uniform(5, 20, n_act).round(0)
    revenue = rng.uniform(8, 20, n_fin).round(2)
    price = rng.uniform(0.5, 3, n_mat).round(2)  # raw materials are bought
    return io, cost, act_max, revenue, price


IOCOL = """
set MAT; set ACT; set MATF within MAT;
param io {MAT, ACT} default 0;
param cost {ACT}; param act_max {ACT}; param revenue {MATF}; param price {MAT};
maximize Net_Profit;
subject to Balance {i in MAT}: to_come = 0;
var X {j in ACT} >= 0, <= act_max[j], obj Net_Profit -cost[j], coeff {i in MAT} Balance[i] io[i,j];
var Sell {i in MATF} >= 0, obj Net_Profit revenue[i], coeff Balance[i] -1;
var Buy {i in MAT diff MATF} >= 0, obj Net_Profit -price[i], coeff Balance[i] 1;
"""

IOROW = """
set MAT; set ACT; set MATF within MAT;
param io {MAT, ACT} default 0;
param cost {ACT}; param act_max {ACT}; param revenue {MATF}; param price {MAT};
var X {j in ACT} >= 0, <= act_max[j]; var Sell {MATF} >= 0; var Buy {MAT diff MATF} >= 0;
maximize Net_Profit: sum {i in MATF} revenue[i] * Sell[i] - sum {j in ACT} cost[j] * X[j]
   - sum {i in MAT diff MATF} price[i] * Buy[i];
subject to Balance {i in MAT}: sum {j in ACT} io[i,j] * X[j] - (if i in MATF then Sell[i])
   + (if i not in MATF then Buy[i]) = 0;
"""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_input_output_matches_linprog_and_rowwise(seed: int) -> None:
    io, cost, act_max, revenue, price = _io(seed)
    n_mat, n_act = io.shape
    n_fin = len(revenue)
    mats, acts = [f"m{i}" for i in range(n_mat)], [f"a{j}" for j in range(n_act)]
    data = {"MAT": mats, "ACT": acts, "MATF": mats[:n_fin],
            "io": {(mats[i], acts[j]): io[i, j] for i in range(n_mat) for j in range(n_act) if io[i, j]},
            "cost": dict(zip(acts, cost)), "act_max": dict(zip(acts, act_max)),
            "revenue": dict(zip(mats[:n_fin], revenue)), "price": dict(zip(mats, price))}
    # columns: X (n_act), Sell (n_fin), Buy (n_mat - n_fin); maximize -> minimize the negative
    n_buy = n_mat - n_fin
    A = np.hstack([io, -np.eye(n_mat)[:, :n_fin], np.eye(n_mat)[:, n_fin:]])
    c = -np.r_[-cost, revenue, -price[n_fin:]]
    bounds = [(0, u) for u in act_max] + [(0, None)] * (n_fin + n_buy)
    want = linprog(c, A_eq=A, b_eq=np.zeros(n_mat), bounds=bounds, method="highs")
    assert want.status == 0
    a = solve(IOCOL, data).objective
    assert a == pytest.approx(-want.fun, rel=1e-7, abs=1e-9)
    assert a == pytest.approx(solve(IOROW, data).objective, rel=1e-9, abs=1e-9)


# ------------------------------------------------------------------ the words stay names elsewhere
def test_network_words_are_names_outside_their_declarations() -> None:
    text = """
set node := 1..3;
param from {i in node} := i;
param obj := 2;
var to {node} >= 0;
var arc {i in node} >= from[i];
s.t. cover {i in node}: to[i] >= from[i] + arc[i] - obj;
minimize coeff: sum {i in node} (to[i] + arc[i]);
"""
    # arc[i] = from[i] (its bound); to[i] >= max(0, 2 from[i] - 2) = 0, 2, 4
    assert solve(text).objective == pytest.approx((1 + 2 + 3) + (0 + 2 + 4))
    # a constraint named by a network word, without `subject to`
    assert solve("var x; node {i in 1..2}: x >= i; arc: x >= 1.5; minimize o: x;").objective == 2.0


def test_declared_to_come_is_a_name() -> None:
    text = "param to_come := 3; var x; minimize o: x; s.t. c: x >= to_come;"
    assert solve(text).objective == pytest.approx(3.0)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(("text", "message"), [
    ("node N; arc x >= 0, from M;", "'from' names no node 'M'"),
    ("set I := 1..2; node N {I}; arc x >= 0, to N;", "'N' takes 1 subscript, got 0"),
    ("var y; s.t. c: y >= 0; arc x >= 0, from c;", "'from' needs a node, but 'c' is a constraint"),
    ("var y; s.t. c: y >= 1; var x >= 0, coeff c 2;", "constraint 'c' does not use to_come"),
    ("var y; minimize o: y; var x >= 0, obj o 2;", "objective 'o' does not use to_come"),
    ("var x >= 0, obj o 2; minimize o;", "objective 'o' is declared after 'x'"),
    ("var y; s.t. c: net_in >= 0;", "'net_in' stands in a node declaration"),
    ("set I := 1..2; s.t. c: sum {i in I} to_come >= 0;", "'to_come' must stand as a term"),
    ("node N: abs(net_in) <= 1;", "'net_in' must stand as a term"),
    ("var y; node N: y >= 0;", "node 'N' does not use net_in or net_out"),
    ("param p := to_come;", "'to_come' stands in a constraint or objective"),
    ("var z; minimize o; var x >= 0, obj o z;", "variable 'z' cannot appear in a coefficient"),
    ("set I := 1..2; node N {I}; arc x >= 0, to N[3];", "outside the index set of 'N'"),
])
def test_errors_are_named_and_located(text: str, message: str) -> None:
    with pytest.raises(OptdslError) as err:
        _ = parse_model(text).ir
    assert message in err.value.render() and err.value.span is not None


def test_from_in_a_var_declaration_asks_for_arc() -> None:
    with pytest.raises(OptdslError, match="declare 'x' with 'arc'"):
        parse("node N; var x >= 0, from N;")


# ------------------------------------------------------------------ printing
@pytest.mark.parametrize("text", [NETWORK, SCHED.replace("{COLUMN}", "cover {i in SHIFT_LIST[j]} Shift_Needs[i]"),
                                  IOCOL, "set I; node N {I}; node P: 1 <= net_out <= 2;\n"
                                  "arc a {i in I} >= 0, from P 1.5, to N[i] -(if i = 1 then 2 else 3);"])
def test_printed_declarations_read_back_the_same(text: str) -> None:
    model = parse(text)
    again = parse("\n".join(statement_text(s) for s in model.statements))
    assert again.statements == model.statements


def test_obj_entries_of_an_indexed_objective() -> None:
    text = """
set K := {"a", "b"}; set J := 1..3;
param c {k in K, j in J} := if k = "a" then j else 4 - j;
minimize Cost {k in K}: to_come;
subject to Need: to_come >= 1;
var x {j in J} >= 0, <= 1, obj {k in K} Cost[k] c[k,j], cover Need;
"""
    assert solve(text).objective == pytest.approx(1.0)  # Cost["a"]: x[1] at cost 1
    assert solve(text + 'objective Cost["b"];\n').objective == pytest.approx(1.0)  # x[3] at 4 - 3
    two = text.replace("to_come >= 1", "to_come >= 2")
    assert solve(two + 'objective Cost["b"];\n').objective == pytest.approx(1.0 + 2.0)  # x[3], x[2]
