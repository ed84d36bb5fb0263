"""The model corpus in tests/models: every model checks cleanly and solves to its optimum.

Each optimum is computed here independently of optdsl: the LP/MILP is rebuilt from numpy arrays
written out in this file (the same numbers as the .dat/.json/.csv files, typed in again) and
solved with scipy.optimize.linprog / milp, or worked out by hand in the model's comments.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from optdsl.api.model import load
from optdsl.cli import main

MODELS = Path(__file__).resolve().parent / "models"
INF = np.inf


# ------------------------------------------------------------------------------------------
# Independent references


def _lp(c, A_ub=None, b_ub=None, A_eq=None, b_eq=None, bounds=(0, None)) -> float:
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs")
    assert res.status == 0, res.message
    return float(res.fun)


def _milp(c, integrality, lb, ub, rows: list[tuple[np.ndarray, float, float]]) -> float:
    A = np.array([r[0] for r in rows])
    cons = LinearConstraint(A, [r[1] for r in rows], [r[2] for r in rows])
    res = milp(c, integrality=integrality, bounds=Bounds(lb, ub), constraints=cons,
               options={"mip_rel_gap": 0.0})
    assert res.status == 0, res.message
    return float(res.fun)


def ref_transport_links() -> float:
    supply = {"GARY": 1400, "CLEV": 2600, "PITT": 2900}
    demand = {"FRA": 900, "DET": 1200, "LAN": 600, "WIN": 400, "STL": 1700, "FRE": 1100, "LAF": 1000}
    cost = {
        ("GARY", "DET"): 14, ("GARY", "LAN"): 11, ("GARY", "STL"): 16, ("GARY", "LAF"): 8,
        ("CLEV", "FRA"): 27, ("CLEV", "DET"): 9, ("CLEV", "LAN"): 12, ("CLEV", "WIN"): 9,
        ("CLEV", "STL"): 26, ("CLEV", "LAF"): 17,
        ("PITT", "FRA"): 24, ("PITT", "WIN"): 13, ("PITT", "STL"): 28, ("PITT", "FRE"): 99,
        ("PITT", "LAF"): 20,
    }
    links = list(cost)
    A, b = [], []
    for o, s in supply.items():
        A.append([1.0 if i == o else 0.0 for i, _ in links])
        b.append(s)
    for d, q in demand.items():
        A.append([-1.0 if j == d else 0.0 for _, j in links])
        b.append(-q)
    return _lp([cost[k] for k in links], A, b)


def ref_diet() -> float:
    foods = ["BEEF", "CHK", "FISH", "HAM", "MCH", "MTL", "SPG", "TUR"]
    cost = [3.19, 2.59, 2.29, 2.89, 1.89, 1.99, 1.99, 2.49]
    # rows: foods; columns: A C B1 B2
    amt = np.array([[60, 20, 10, 15], [8, 0, 20, 20], [8, 10, 15, 10], [40, 40, 35, 10],
                    [15, 35, 15, 15], [70, 30, 15, 15], [25, 50, 25, 15], [60, 20, 15, 10]], float)
    assert len(foods) == amt.shape[0]
    n_min, n_max = np.full(4, 700.0), np.full(4, 10000.0)
    A = np.vstack([amt.T, -amt.T])
    b = np.concatenate([n_max, -n_min])
    return _lp(cost, A, b, bounds=[(0, 100)] * 8)


def ref_prodplan() -> float:
    prods, T = ["bands", "coils"], 4
    rate = {"bands": 200, "coils": 140}
    inv0 = {"bands": 10, "coils": 0}
    prodcost = {"bands": 10, "coils": 11}
    invcost = {"bands": 2.5, "coils": 3}
    avail = [40, 40, 32, 40]
    maint = [0, 50, 2, 0]
    revenue = {"bands": [25, 26, 27, 27], "coils": [30, 35, 37, 39]}
    market = {"bands": [6000, 6000, 4000, 6500], "coils": [4000, 2500, 3500, 4200]}
    hours = [max(a - m, 0) for a, m in zip(avail, maint)]
    # variable order: Make[p,t], Inv[p,t], Sell[p,t]
    idx = {}
    for kind in ("Make", "Inv", "Sell"):
        for p in prods:
            for t in range(T):
                idx[kind, p, t] = len(idx)
    n = len(idx)
    c = np.zeros(n)
    bounds = [(0, None)] * n
    for p in prods:
        for t in range(T):
            hold = 2 * invcost[p] if t == T - 1 else invcost[p]
            c[idx["Sell", p, t]] = -revenue[p][t]          # maximize -> minimize the negation
            c[idx["Make", p, t]] = prodcost[p]
            c[idx["Inv", p, t]] = hold
            bounds[idx["Sell", p, t]] = (0, market[p][t])
    A_ub, b_ub = [], []
    for t in range(T):
        row = np.zeros(n)
        for p in prods:
            row[idx["Make", p, t]] = 1 / rate[p]
        A_ub.append(row)
        b_ub.append(hours[t])
    A_eq, b_eq = [], []
    for p in prods:
        for t in range(T):
            row = np.zeros(n)
            row[idx["Make", p, t]] = 1
            row[idx["Sell", p, t]] = -1
            row[idx["Inv", p, t]] = -1
            if t > 0:
                row[idx["Inv", p, t - 1]] = 1
            A_eq.append(row)
            b_eq.append(-inv0[p] if t == 0 else 0.0)
    return -_lp(c, A_ub, b_ub, A_eq, b_eq, bounds)


def ref_multicommodity() -> float:
    cap = {("s1", "a"): 30, ("s1", "b"): 20, ("s2", "a"): 15, ("s2", "b"): 25, ("a", "b"): 10,
           ("b", "a"): 10, ("a", "t1"): 25, ("a", "t2"): 20, ("b", "t1"): 20, ("b", "t2"): 30}
    cost = {
        "oil": {("s1", "a"): 2, ("s1", "b"): 4, ("s2", "a"): 3, ("s2", "b"): 1, ("a", "b"): 1,
                ("a", "t1"): 5, ("a", "t2"): 6, ("b", "a"): 2, ("b", "t1"): 4, ("b", "t2"): 3},
        "gas": {("s1", "a"): 3, ("s1", "b"): 3, ("s2", "a"): 2, ("s2", "b"): 2, ("a", "b"): 1,
                ("a", "t1"): 2, ("a", "t2"): 7, ("b", "t1"): 6, ("b", "t2"): 2},   # b -> a: default 1
    }
    supply = {"oil": {"s1": 30, "s2": 10, "t1": -25, "t2": -15},
              "gas": {"s1": 15, "s2": 25, "t1": -20, "t2": -20}}
    arcs = list(cap)
    nodes = sorted({i for i, _ in arcs} | {j for _, j in arcs})
    ks = list(cost)
    var = [(k, a) for k in ks for a in arcs]
    c = [cost[k].get(a, 1) for k, a in var]
    A_eq, b_eq = [], []
    for k in ks:
        for v in nodes:
            A_eq.append([(1.0 if (kk == k and a[0] == v) else 0.0) - (1.0 if (kk == k and a[1] == v) else 0.0)
                         for kk, a in var])
            b_eq.append(supply[k].get(v, 0))
    A_ub = [[1.0 if a == arc else 0.0 for _, a in var] for arc in arcs]
    return _lp(c, A_ub, [cap[a] for a in arcs], A_eq, b_eq)


def ref_jobshop() -> float:
    jobs, machs = ["J1", "J2", "J3"], ["lathe", "mill", "drill"]
    route = {"J1": ["lathe", "mill", "drill"], "J2": ["mill", "drill", "lathe"],
             "J3": ["drill", "lathe", "mill"]}
    proc = {"J1": {"lathe": 3, "mill": 2, "drill": 2}, "J2": {"lathe": 2, "mill": 4, "drill": 1},
            "J3": {"lathe": 4, "mill": 3, "drill": 3}}
    bigm = sum(sum(p.values()) for p in proc.values())
    pairs = [(j, k) for a, j in enumerate(jobs) for k in jobs[a + 1:]]
    S = {(j, m): i for i, (j, m) in enumerate((j, m) for j in jobs for m in machs)}
    cmax = len(S)
    Y = {(j, k, m): cmax + 1 + i for i, (j, k, m) in enumerate((j, k, m) for j, k in pairs for m in machs)}
    n = cmax + 1 + len(Y)
    rows = []

    def row(coefs):
        r = np.zeros(n)
        for i, v in coefs:
            r[i] += v
        return r

    for j in jobs:
        for a, b in zip(route[j], route[j][1:]):                   # start[b] - start[a] >= proc[a]
            rows.append((row([(S[j, b], 1), (S[j, a], -1)]), proc[j][a], INF))
        last = route[j][-1]
        rows.append((row([(cmax, 1), (S[j, last], -1)]), proc[j][last], INF))
    for j, k in pairs:
        for m in machs:
            y = Y[j, k, m]
            # S_j + p_j <= S_k + M (1 - y)   ->   S_k - S_j - M y >= p_j - M
            rows.append((row([(S[k, m], 1), (S[j, m], -1), (y, -bigm)]), proc[j][m] - bigm, INF))
            # S_k + p_k <= S_j + M y         ->   S_j - S_k + M y >= p_k
            rows.append((row([(S[j, m], 1), (S[k, m], -1), (y, bigm)]), proc[k][m], INF))
    c = np.zeros(n)
    c[cmax] = 1
    integ = np.zeros(n)
    integ[cmax + 1:] = 1
    ub = np.full(n, INF)
    ub[cmax + 1:] = 1
    return _milp(c, integ, np.zeros(n), ub, rows)


def ref_staff() -> float:
    req = [17, 13, 15, 19, 14, 16, 11]
    rows = []
    for d in range(7):                       # day d is worked by shifts started on d-4..d
        r = np.zeros(7)
        for s in range(5):
            r[(d - s) % 7] = 1
        rows.append((r, req[d], INF))
    return _milp(np.ones(7), np.ones(7), np.zeros(7), np.full(7, INF), rows)


def ref_assign() -> float:
    cost = {("ann", 1): 7, ("ann", 2): 3, ("ann", 5): 6, ("bob", 1): 4, ("bob", 3): 8, ("bob", 4): 5,
            ("cat", 2): 2, ("cat", 3): 6, ("cat", 6): 9, ("dan", 4): 4, ("dan", 5): 5, ("dan", 6): 3,
            ("eve", 1): 5, ("eve", 6): 4}
    pairs = list(cost)
    n = len(pairs)
    rows = [(np.array([1.0 if p[1] == t else 0.0 for p in pairs]), 1, 1) for t in range(1, 7)]
    rows += [(np.array([1.0 if p[0] == w else 0.0 for p in pairs]), -INF, 2)
             for w in ("ann", "bob", "cat", "dan", "eve")]
    return _milp(np.array([cost[p] for p in pairs], float), np.ones(n), np.zeros(n), np.ones(n), rows)


BLEND = {  # name: (cost, protein, fat, stock), as in blend_ingredients.csv
    "corn": (0.30, 0.09, 0.02, 80), "soy": (0.90, 0.50, 0.01, 40),
    "fish": (1.60, 0.60, 0.10, 10), "oats": (0.45, 0.12, 0.07, 60),
}


def _blend_lp():
    vals = np.array(list(BLEND.values()))
    res = linprog(vals[:, 0], A_ub=[-vals[:, 1], vals[:, 2]], b_ub=[-22.0, 6.0],
                  A_eq=[np.ones(4)], b_eq=[100.0], bounds=[(0, s) for s in vals[:, 3]], method="highs")
    assert res.status == 0
    return res


def ref_blend() -> float:
    return float(_blend_lp().fun)


@dataclass
class Entry:
    model: str
    data: tuple[str, ...]
    reference: Callable[[], float]
    solver: str = "highs"


CORPUS = [
    Entry("transport_links.mod", ("transport_links.dat",), ref_transport_links),
    Entry("diet.mod", ("diet.dat",), ref_diet),
    Entry("prodplan.mod", ("prodplan.dat",), ref_prodplan),
    Entry("multicommodity.mod", ("multicommodity.dat",), ref_multicommodity),
    Entry("jobshop.mod", ("jobshop.dat",), ref_jobshop),
    Entry("staff.mod", ("staff.dat",), ref_staff),
    Entry("assign.opt", (), ref_assign),
    Entry("blend_table.mod", (), ref_blend),
    Entry("features.opt", (), lambda: 44.0),   # worked out by hand in the model's comments
]
IDS = [e.model for e in CORPUS]


def _args(e: Entry) -> list[str]:
    out = [str(MODELS / e.model)]
    for d in e.data:
        out += ["--data", str(MODELS / d)]
    return out


def test_corpus_covers_every_model_file():
    files = {p.name for p in MODELS.iterdir() if p.suffix in (".mod", ".opt")}
    assert files == {e.model for e in CORPUS}


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
def test_model_checks(entry: Entry, capsys):
    assert main(["check", *_args(entry)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"model {Path(entry.model).stem}:")


@pytest.mark.parametrize("entry", CORPUS, ids=IDS)
def test_model_solves_to_reference(entry: Entry):
    ref = entry.reference()
    model = load(MODELS / entry.model, data=[MODELS / d for d in entry.data] or None)
    result = model.solve(solver=entry.solver, time_limit=30)
    assert result.status.value == "optimal", result.message
    assert result.objective == pytest.approx(ref, rel=1e-6, abs=1e-9)


# ------------------------------------------------------------------------------------------
# Known optima of the classics, and solution details


def test_classic_optima_match_the_literature():
    # independent of scipy too: the AMPL book's diet (88.2) and Winston's post office (23)
    assert ref_diet() == pytest.approx(88.2, rel=1e-9)
    assert ref_staff() == pytest.approx(23.0)
    # the job shop cannot finish before J3's own work (4 + 3 + 3), and does not need longer
    assert ref_jobshop() == pytest.approx(10.0)


def test_multicommodity_flow_is_conserved():
    m = load(MODELS / "multicommodity.mod", data=MODELS / "multicommodity.dat")
    r = m.solve(solver="highs")
    flows = r.variables["Flow"]
    for k, src, total in (("oil", "s1", 30), ("gas", "s2", 25)):
        out = sum(v for (kk, i, _), v in flows.items() if kk == k and i == src)
        assert out == pytest.approx(total)
    # joint capacity of a -> b holds for the two commodities together
    assert r.value("Flow", "oil", "a", "b") + r.value("Flow", "gas", "a", "b") <= 10 + 1e-7


def test_staff_cover_uses_cyclic_days():
    r = load(MODELS / "staff.mod", data=MODELS / "staff.dat").solve(solver="highs")
    start = [r.value("Start", d) for d in range(1, 8)]
    req = [17, 13, 15, 19, 14, 16, 11]
    for d in range(7):          # Sunday (d = 6) is covered by shifts starting Wed..Sun
        assert sum(start[(d - s) % 7] for s in range(5)) >= req[d] - 1e-7
    assert all(abs(v - round(v)) < 1e-7 for v in start)


def test_jobshop_schedule_respects_routes():
    r = load(MODELS / "jobshop.mod", data=MODELS / "jobshop.dat").solve(solver="highs")
    s = r.variables["Start"]
    assert s["J3", "drill"] + 3 <= s["J3", "lathe"] + 1e-7
    assert s["J3", "lathe"] + 4 <= s["J3", "mill"] + 1e-7
    assert r.value("Makespan") == pytest.approx(10.0)


# ------------------------------------------------------------------------------------------
# The command line: JSON output and the script statements


def test_cli_json_output(tmp_path: Path):
    out = tmp_path / "assign.json"
    rc = main(["solve", str(MODELS / "assign.opt"), "--output", "json", "-o", str(out)])
    assert rc == 0
    doc = json.loads(out.read_text())
    assert doc["status"] == "optimal"
    assert doc["backend"] == "highs"
    assert doc["objective"] == pytest.approx(ref_assign())
    assign = doc["variables"]["Assign"]
    assert len(assign) == 14                                   # one per allowed pair
    chosen = sorted(k for k, v in assign.items() if v > 0.5)
    assert len(chosen) == 6
    assert sorted(int(k.split(",")[1]) for k in chosen) == [1, 2, 3, 4, 5, 6]
    for w in ("ann", "bob", "cat", "dan", "eve"):
        assert sum(1 for k in chosen if k.startswith(w + ",")) <= 2


def test_cli_json_has_duals_for_an_lp(tmp_path: Path):
    out = tmp_path / "diet.json"
    rc = main(["solve", str(MODELS / "diet.mod"), "--data", str(MODELS / "diet.dat"),
               "--output", "json", "-o", str(out)])
    assert rc == 0
    doc = json.loads(out.read_text())
    assert doc["objective"] == pytest.approx(88.2, rel=1e-6)
    buy = doc["variables"]["Buy"]
    assert set(buy) == {"BEEF", "CHK", "FISH", "HAM", "MCH", "MTL", "SPG", "TUR"}
    assert buy["MCH"] == pytest.approx(46 + 2 / 3, rel=1e-6)
    assert "Diet" in doc["duals"]


def test_script_statements_print_after_solve(capsys):
    rc = main(["solve", str(MODELS / "blend_table.mod")])
    assert rc == 0
    out = capsys.readouterr().out
    res = _blend_lp()
    lines = out.splitlines()
    assert f"cost {res.fun:.4f}" in lines
    for name, x in zip(BLEND, res.x):
        assert f"use {name} {x:.4f}" in lines
    assert [ln for ln in lines if ln.startswith("rich ")] == ["rich soy", "rich fish"]
    assert any(ln.startswith("Use[corn] = ") for ln in lines)      # display Use;


def test_check_statement_failure_names_the_index(tmp_path: Path, capsys):
    bad = (MODELS / "staff.dat").read_text().replace("7   11   Sun", "7   11   Xun")
    (tmp_path / "staff.dat").write_text(bad)
    rc = main(["check", str(MODELS / "staff.mod"), "--data", str(tmp_path / "staff.dat")])
    assert rc == 2
    assert "check failed" in capsys.readouterr().err


def test_within_violation_is_reported(tmp_path: Path, capsys):
    dat = (MODELS / "transport_links.dat").read_text().replace("PITT FRE 99", "PITT ROME 99")
    (tmp_path / "t.dat").write_text(dat)
    rc = main(["check", str(MODELS / "transport_links.mod"), "--data", str(tmp_path / "t.dat")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "ROME" in err


# ------------------------------------------------------------------------------------------
# Language bugs found while writing the corpus (reported; see the reasons)


def test_range_by_stops_at_the_upper_limit():
    from optdsl.api.model import parse_model

    m = parse_model("set B := 2..10 by 3;\nvar x {B} >= 0, <= 1;\nmaximize z: sum {b in B} x[b];")
    assert m.solve(solver="highs").objective == pytest.approx(3.0)


def test_card_of_indexed_set_follows_the_dummy():
    from optdsl.api.model import parse_model

    m = parse_model("""set C;
set NEAR {C} within C;
param nn {c in C} := card(NEAR[c]);
var x {C} >= 0, <= 1;
maximize z: sum {c in C} nn[c] * x[c];
data;
set C := A B D;
set NEAR[A] := B D;
set NEAR[B] := A;
set NEAR[D] := ;
end;""")
    assert m.solve(solver="highs").objective == pytest.approx(3.0)    # 2 + 1 + 0


def test_option_seed_seeds_random_data():
    from optdsl.api.model import parse_model

    text = "param r := Uniform01();\nvar x >= 0, <= 1;\nmaximize z: r * x;"
    with_option = parse_model("option seed 7;\n" + text).solve(solver="highs").objective
    with_arg = parse_model(text, seed=7).solve(solver="highs").objective
    assert with_option == pytest.approx(with_arg)


def test_functions_the_checker_accepts_are_evaluated():
    from optdsl.api.model import parse_model

    m = parse_model("param a := asin(0.5);\nvar x >= 0, <= 1;\nmaximize z: a * x;")
    assert m.solve(solver="highs").objective == pytest.approx(np.arcsin(0.5))
