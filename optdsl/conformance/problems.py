"""Conformance problems: `.opt` text, the features they need, and their known answers.

Answers are worked out by hand (see each comment) or are classic published optima.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optdsl.results import TerminationStatus


@dataclass
class Case:
    name: str
    text: str
    features: set[str]
    status: TerminationStatus = TerminationStatus.OPTIMAL
    objective: float = 0.0
    values: dict[tuple[str, tuple], float] = field(default_factory=dict)
    duals: dict[tuple[str, tuple], float] = field(default_factory=dict)
    time_limit: float | None = None
    options: dict[str, Any] = field(default_factory=dict)


TRANSPORT = """
set I;  set J;
param a {I};  param b {J};  param d {I, J};  param f;
param c {i in I, j in J} := f * d[i,j] / 1000;
var x {I, J} >= 0;
minimize cost: sum {i in I, j in J} c[i,j] * x[i,j];
s.t. supply {i in I}: sum {j in J} x[i,j] <= a[i];
s.t. demand {j in J}: sum {i in I} x[i,j] >= b[j];
data;
set I := Seattle San-Diego;
set J := New-York Chicago Topeka;
param a := Seattle 350  San-Diego 600;
param b := New-York 325  Chicago 300  Topeka 275;
param d :  New-York Chicago Topeka :=
   Seattle    2.5  1.7  1.8
   San-Diego  2.5  1.8  1.4 ;
param f := 90;
end;
"""


def _markshare(m: int = 6, n: int = 50, seed: int = 7) -> str:
    """A market-split instance (Cornuejols-Dawande): tiny, and hard for branch and bound."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(m, n))
    b = a.sum(axis=1) // 2
    rows = "\n".join(f"  {i + 1} " + " ".join(str(v) for v in a[i]) for i in range(m))
    return f"""
param m := {m};  param n := {n};
param a {{1..m, 1..n}};  param b {{1..m}};
var x {{1..n}} binary;
var s {{1..m}} >= 0;
minimize slack: sum {{i in 1..m}} s[i];
s.t. split {{i in 1..m}}: sum {{j in 1..n}} a[i,j] * x[j] + s[i] = b[i];
data;
param a : {' '.join(str(j + 1) for j in range(n))} :=
{rows};
param b := {' '.join(f'{i + 1} {b[i]}' for i in range(m))};
end;
"""


PROBLEMS: list[Case] = [
    Case(
        "lp_transport", TRANSPORT, {"linear", "inequalities"}, objective=153.675,
        # the classic solution: Seattle ships 50 to New-York and 300 to Chicago, San-Diego 275 to NY and Topeka
        values={("x", ("Seattle", "Chicago")): 300.0, ("x", ("San-Diego", "Topeka")): 275.0},
    ),
    Case(
        "lp_maximize",
        # max 3x + 2y s.t. x + y <= 4, x + 3y <= 6, x <= 3: vertex (3, 1), value 11
        """var x >= 0, <= 3; var y >= 0;
        maximize z: 3*x + 2*y;
        s.t. c1: x + y <= 4;
        s.t. c2: x + 3*y <= 6;""",
        {"linear", "inequalities"}, objective=11.0, values={("x", ()): 3.0, ("y", ()): 1.0},
    ),
    Case(
        "lp_ranges_equalities",
        # min x + 2y + 3z s.t. 2 <= x + y <= 5, y + z = 3, x - z >= -1, all >= 0:
        # z = 3 - y; x >= 2 - y and x >= 2 - y (from x >= z - 1 = 2 - y); cost = x + 2y + 9 - 3y = x - y + 9
        # with x = max(0, 2 - y), y <= 3 (z >= 0): y = 3, x = 0 -> cost 6; check x+y = 3 in [2,5].
        """var x >= 0; var y >= 0; var z >= 0;
        minimize cost: x + 2*y + 3*z;
        s.t. r: 2 <= x + y <= 5;
        s.t. e: y + z = 3;
        s.t. g: x - z >= -1;""",
        {"linear", "inequalities"}, objective=6.0, values={("y", ()): 3.0, ("z", ()): 0.0},
    ),
    Case(
        "lp_duals",
        # min x + y s.t. x + 2y >= 4, 3x + y >= 6: x = 1.6, y = 1.2, value 2.8;
        # dual: y1 + 3 y2 = 1, 2 y1 + y2 = 1 -> y1 = 0.4, y2 = 0.2 (>= rows of a min: nonnegative)
        """var x >= 0; var y >= 0;
        minimize z: x + y;
        s.t. c1: x + 2*y >= 4;
        s.t. c2: 3*x + y >= 6;""",
        {"linear", "inequalities", "duals"}, objective=2.8, values={("x", ()): 1.6, ("y", ()): 1.2},
        duals={("c1", ()): 0.4, ("c2", ()): 0.2},
    ),
    Case(
        "lp_indexed_results",
        # min sum_i i * x[i] s.t. sum x = 10, x[i] <= 4: fill cheapest first: x = (4, 4, 2, 0), value 4+8+6 = 18
        """set N := 1..4;
        var x {N} >= 0, <= 4;
        minimize cost: sum {i in N} i * x[i];
        s.t. total: sum {i in N} x[i] = 10;""",
        {"linear", "inequalities"}, objective=18.0,
        values={("x", (1,)): 4.0, ("x", (2,)): 4.0, ("x", (3,)): 2.0, ("x", (4,)): 0.0},
    ),
    Case(
        "milp_knapsack",
        """set ITEMS := 1..4;
        param w {ITEMS};  param v {ITEMS};
        var take {ITEMS} binary;
        maximize value: sum {i in ITEMS} v[i] * take[i];
        subject to cap: sum {i in ITEMS} w[i] * take[i] <= 11;
        data;
        param w := 1 5  2 4  3 3  4 4;
        param v := 1 8  2 6  3 4  4 5;
        end;""",
        {"linear", "integer", "inequalities"}, objective=15.0,
        # items 2, 3, 4 (weight 11, value 15) beat every other subset within weight 11
        values={("take", (1,)): 0.0, ("take", (2,)): 1.0, ("take", (3,)): 1.0, ("take", (4,)): 1.0},
    ),
    Case(
        "milp_general_integer",
        # max x + y s.t. 2x + 2y <= 7, x, y integer >= 0: LP bound 3.5, integer optimum 3
        """var x integer >= 0; var y integer >= 0;
        maximize z: x + y;
        s.t. c: 2*x + 2*y <= 7;""",
        {"linear", "integer", "inequalities"}, objective=3.0,
    ),
    Case(
        "qp_convex",
        # min (x-1)^2 + (y-2)^2 s.t. x + y <= 2: projection of (1,2) onto x+y=2 -> (0.5, 1.5), value 0.5
        """var x; var y;
        minimize dist: (x - 1)^2 + (y - 2)^2;
        s.t. half: x + y <= 2;""",
        {"linear", "quadratic", "inequalities"}, objective=0.5, values={("x", ()): 0.5, ("y", ()): 1.5},
    ),
    Case(
        "qp_equality",
        # min x1^2 + x2^2 s.t. x1 + x2 = 1: (0.5, 0.5), value 0.5 (an equality-constrained QP)
        """var x1 := 3; var x2 := -1;
        minimize f: x1^2 + x2^2;
        s.t. c: x1 + x2 = 1;""",
        {"linear", "quadratic"}, objective=0.5, values={("x1", ()): 0.5, ("x2", ()): 0.5},
    ),
    Case(
        "nlp_hs6",
        # Hock-Schittkowski 6: min (1-x1)^2 s.t. 10(x2 - x1^2) = 0; optimum 0 at (1, 1)
        """var x1 := -1.2;
        var x2 := 1;
        minimize f: (1 - x1)^2;
        subject to c: 10 * (x2 - x1^2) = 0;""",
        {"nonlinear"}, objective=0.0, values={("x1", ()): 1.0, ("x2", ()): 1.0},
    ),
    Case(
        "nlp_circle",
        # min x + y s.t. x^2 + y^2 = 2: optimum -2 at (-1, -1) (local method from a nearby start)
        """var x := -0.5; var y := -1.5;
        minimize f: x + y;
        subject to circle: x^2 + y^2 = 2;""",
        {"nonlinear"}, objective=-2.0, values={("x", ()): -1.0, ("y", ()): -1.0},
    ),
    Case(
        "nlp_exp_indexed",
        # min sum_i exp(x[i]) - 2 x[i]... with sum x = 3 over 3 vars: by symmetry x = 1,
        # value 3(e - 2) = 3e - 6 (the Lagrangian stationarity exp(x_i) - 2 = lambda is identical for all i)
        """set N := 1..3;
        var x {N} := 0;
        minimize f: sum {i in N} (exp(x[i]) - 2 * x[i]);
        subject to total: sum {i in N} x[i] = 3;""",
        {"nonlinear"}, objective=3 * float(np.e) - 6.0, values={("x", (2,)): 1.0},
    ),
    Case(
        "nlp_hs71",
        # Hock-Schittkowski 71: bounds, a product inequality and a sphere equality; optimum
        # 17.0140173 at (1, 4.7429994, 3.8211503, 1.3794082) (published)
        """param x0 {1..4};
        var x {i in 1..4} >= 1, <= 5, := x0[i];
        minimize f: x[1] * x[4] * (x[1] + x[2] + x[3]) + x[3];
        s.t. product: x[1] * x[2] * x[3] * x[4] >= 25;
        s.t. sphere: sum {i in 1..4} x[i]^2 = 40;
        data;
        param x0 := 1 1  2 5  3 5  4 1;
        end;""",
        {"nonlinear", "inequalities"}, objective=17.0140173, values={("x", (2,)): 4.7429994},
    ),
    Case(
        "nlp_bound_duals",
        # min (x - 2)^2 + exp(y) - y s.t. x <= 1, y >= 0 free otherwise: x = 1 (bound active), y = 0 where
        # d/dy (exp(y) - y) = 0; value 1 + 1 = 2. Shadow price of the row x + 0 <= 1: 2(x - 2) = -2.
        """var x := 0; var y >= -5;
        minimize f: (x - 2)^2 + exp(y) - y;
        s.t. cap: x <= 1;""",
        {"nonlinear", "inequalities", "duals"}, objective=2.0, values={("x", ()): 1.0, ("y", ()): 0.0},
        duals={("cap", ()): -2.0},
    ),
    Case(
        "infeasible_lp",
        """var x >= 0; var y >= 0;
        minimize z: x + y;
        s.t. c1: x + y <= 1;
        s.t. c2: x + y >= 2;""",
        {"linear", "inequalities", "infeasible"}, status=TerminationStatus.INFEASIBLE,
    ),
    Case(
        "unbounded_lp",
        """var x >= 0; var y >= 0;
        maximize z: x + y;
        s.t. c1: x - y <= 1;""",
        {"linear", "inequalities", "unbounded"}, status=TerminationStatus.UNBOUNDED,
    ),
    Case(
        "time_limit_milp", _markshare(), {"linear", "integer", "inequalities", "time_limit"},
        status=TerminationStatus.TIME_LIMIT, time_limit=0.5,
    ),
]
