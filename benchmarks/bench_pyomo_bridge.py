"""The transportation LP with |I| x |J| variables (10^6 at the default 1000 x 1000) solved by
HiGHS through Pyomo's appsi interface, the model built two ways:

- optdsl: the `.opt` model instantiated from numpy data, then lowered to a Pyomo ConcreteModel
  by the bridge (`--solver pyomo:appsi_highs`);
- Pyomo: the same model written in Pyomo as its documentation does (Sets, Params, rule-based
  Constraints with `quicksum`).

Both hand the model to `SolverFactory("appsi_highs")`; native optdsl `highs` is shown for scale.

    python benchmarks/bench_pyomo_bridge.py               # 1000 x 1000
    python benchmarks/bench_pyomo_bridge.py --size 300    # 300 x 300 (quick)

Writes markdown to stdout and to benchmarks/results/pyomo_bridge.md.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

MODEL = """
set I; set J;
param a {I}; param b {J}; param c {I, J};
var x {I, J} >= 0;
minimize cost: sum {i in I, j in J} c[i, j] * x[i, j];
s.t. supply {i in I}: sum {j in J} x[i, j] <= a[i];
s.t. demand {j in J}: sum {i in I} x[i, j] >= b[j];
"""


def data(n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    a = rng.uniform(50, 150, n)
    b = rng.uniform(40, 100, n)
    b *= 0.9 * a.sum() / b.sum()
    return {"I": [f"p{i}" for i in range(n)], "J": [f"m{j}" for j in range(n)], "a": a, "b": b,
            "c": rng.uniform(1, 10, (n, n))}


def via_optdsl(d: dict) -> dict:
    from optdsl.solvers.pyomo_bridge.run import solve_pyomo

    import optdsl as od
    from optdsl.pipeline import solve_options

    t0 = time.perf_counter()
    ir = od.parse_model(MODEL, data=d).ir
    t1 = time.perf_counter()
    r = solve_pyomo(ir, "appsi_highs", solve_options(ir), backend="pyomo:appsi_highs")
    t2 = time.perf_counter()
    return {"instantiate_s": t1 - t0, "build_s": r.times["build_s"], "solve_s": r.times["solve_time"],
            "total_s": t2 - t0, "objective": r.objective}


def via_pyomo(d: dict) -> dict:
    import pyomo.environ as pe

    t0 = time.perf_counter()
    m = pe.ConcreteModel()
    m.I = pe.Set(initialize=d["I"])
    m.J = pe.Set(initialize=d["J"])
    m.a = pe.Param(m.I, initialize=dict(zip(d["I"], d["a"].tolist())))
    m.b = pe.Param(m.J, initialize=dict(zip(d["J"], d["b"].tolist())))
    c = d["c"]
    m.c = pe.Param(m.I, m.J, initialize={(i, j): c[p, q] for p, i in enumerate(d["I"]) for q, j in enumerate(d["J"])})
    m.x = pe.Var(m.I, m.J, within=pe.NonNegativeReals)
    m.cost = pe.Objective(expr=pe.quicksum(m.c[i, j] * m.x[i, j] for i in m.I for j in m.J))
    m.supply = pe.Constraint(m.I, rule=lambda m, i: pe.quicksum(m.x[i, j] for j in m.J) <= m.a[i])
    m.demand = pe.Constraint(m.J, rule=lambda m, j: pe.quicksum(m.x[i, j] for i in m.I) >= m.b[j])
    t1 = time.perf_counter()
    res = pe.SolverFactory("appsi_highs").solve(m)
    t2 = time.perf_counter()
    assert str(res.solver.termination_condition) == "optimal"
    return {"instantiate_s": 0.0, "build_s": t1 - t0, "solve_s": t2 - t1, "total_s": t2 - t0,
            "objective": pe.value(m.cost)}


def via_native(d: dict) -> dict:
    import optdsl as od

    t0 = time.perf_counter()
    m = od.parse_model(MODEL, data=d)
    _ = m.ir
    t1 = time.perf_counter()
    r = m.solve(solver="highs")
    t2 = time.perf_counter()
    return {"instantiate_s": t1 - t0, "build_s": 0.0, "solve_s": t2 - t1, "total_s": t2 - t0,
            "objective": r.objective}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1000)
    args = ap.parse_args(argv)
    d = data(args.size)
    import optdsl.solvers.pyomo_bridge.run  # noqa: F401

    import optdsl as od

    _ = od.parse_model(MODEL, data=data(2)).ir  # the grammar is compiled once per process
    import pyomo.contrib.appsi.solvers  # noqa: F401  imports are paid once, outside both timings
    import pyomo.environ  # noqa: F401

    rows = {"optdsl -> pyomo:appsi_highs": via_optdsl(d), "Pyomo model -> appsi_highs": via_pyomo(d),
            "optdsl -> highs (native)": via_native(d)}
    ref = rows["optdsl -> highs (native)"]["objective"]
    lines = [f"# Transportation LP, {args.size} x {args.size} = {args.size**2:,} variables, {2 * args.size} rows", "",
             f"Measured on a shared 2-core machine ({platform.machine()}); seconds.", "",
             "| route | instantiate | build Pyomo model | solve (incl. Pyomo's hand-over) | total | objective |",
             "|---|---|---|---|---|---|"]
    for k, v in rows.items():
        assert abs(v["objective"] - ref) <= 1e-6 * abs(ref), (k, v["objective"], ref)
        lines.append(f"| {k} | {v['instantiate_s']:.2f} | {v['build_s']:.2f} | {v['solve_s']:.2f} | "
                     f"{v['total_s']:.2f} | {v['objective']:.6f} |")
    o, p = rows["optdsl -> pyomo:appsi_highs"], rows["Pyomo model -> appsi_highs"]
    lines += ["", f"Model construction, optdsl (instantiate + bridge) vs Pyomo: "
              f"{o['instantiate_s'] + o['build_s']:.2f} s vs {p['build_s']:.2f} s "
              f"({p['build_s'] / (o['instantiate_s'] + o['build_s']):.2f}x faster); end to end "
              f"{o['total_s']:.2f} s vs {p['total_s']:.2f} s."]
    text = "\n".join(lines) + "\n"
    print(text)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / ("pyomo_bridge.md" if args.size == 1000 else f"pyomo_bridge_{args.size}.tmp")).write_text(text)


if __name__ == "__main__":
    main()
