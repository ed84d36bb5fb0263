"""LP/MILP build, hand-over and solve: the same seeded data through several tools, each
measurement in a fresh Python process (so peak RSS is honest and no tool warms another's caches).

Problems
  transport  n sources x n sinks, seeded costs, supplies and demands balanced so it is feasible;
             n*n variables, 2n rows, 2n^2 nonzeros.  Sizes 100, 300, 1000.
  facility   capacitated facility location MILP, F facilities x 4F customers, strong linking
             rows x[f,c] <= y[f].  Size 50 (50 x 200).

Each tool is a function `(size) -> (build_s, handover_s, solve_s, objective)` registered in
BUILDERS[problem][tool]. `build` is making the tool's model object from the data arrays,
`handover` is getting it into a highspy.Highs, `solve` is HiGHS's run (Pyomo: its solve call,
which also loads the values back). All tools run HiGHS with 1 thread and its default options.
Each process first builds and solves a tiny instance with the same tool, so that one-time lazy
imports are not counted; peak RSS is ru_maxrss, and "delta" its growth over the RSS after that.

    python benchmarks/bench_lp.py                      # every problem, size and tool
    python benchmarks/bench_lp.py --problems transport --sizes 100 300 --tools linopy

Writes a markdown table to stdout and to benchmarks/results/lp.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

Measure = Callable[[int], tuple[float, float, float, float]]
RESULTS = Path(__file__).resolve().parent / "results" / "lp.md"
SEED = 20240601
THREADS = 1


# --- data (identical for every tool) -----------------------------------------------------------


def transport_data(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """cost (n, n), supply (n,), demand (n,) with sum(supply) == sum(demand)."""
    rng = np.random.default_rng(SEED + n)
    cost = rng.uniform(1.0, 100.0, size=(n, n)).round(2)
    supply = rng.integers(50, 150, size=n).astype(float)
    demand = rng.integers(50, 150, size=n).astype(float)
    demand *= supply.sum() / demand.sum()  # balanced, hence feasible
    return cost, supply, demand


def facility_data(F: int) -> dict[str, np.ndarray]:
    """Capacitated facility location: F facilities, 4F customers on the unit square."""
    rng = np.random.default_rng(SEED + 7 * F)
    C = 4 * F
    fac, cust = rng.uniform(size=(F, 2)), rng.uniform(size=(C, 2))
    demand = rng.integers(5, 35, size=C).astype(float)
    capacity = rng.integers(150, 350, size=F).astype(float)
    capacity *= 3.0 * demand.sum() / capacity.sum()  # total capacity 3x total demand
    fixed = rng.uniform(300.0, 700.0, size=F).round(1)
    dist = np.sqrt(((fac[:, None, :] - cust[None, :, :]) ** 2).sum(-1))
    cost = (10.0 * dist * demand[None, :]).round(3)  # serving all of c's demand from f
    return {"fixed": fixed, "capacity": capacity, "demand": demand, "cost": cost}


# --- (1) highspy with prebuilt numpy arrays ----------------------------------------------------


def _highspy_run(n_col, n_row, c, lo, hi, rlo, rhi, A, integrality=None):
    import highspy

    t1 = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", THREADS)
    integ = np.zeros(n_col, dtype=np.int32) if integrality is None else integrality.astype(np.int32)
    h.passModel(
        n_col, n_row, A.nnz, int(highspy.MatrixFormat.kColwise), int(highspy.ObjSense.kMinimize), 0.0,
        c, lo, hi, rlo, rhi, A.indptr.astype(np.int32), A.indices.astype(np.int32), A.data, integ,
    )  # fmt: skip
    t2 = time.perf_counter()
    h.run()
    t3 = time.perf_counter()
    return t1, t2, t3, h.getInfo().objective_function_value


def highspy_transport(n: int):
    import highspy  # noqa: F401  (imports stay outside the timed region, for every tool)
    import scipy.sparse as sp

    cost, supply, demand = transport_data(n)
    t0 = time.perf_counter()
    N = n * n
    col = np.arange(N)
    rows = np.concatenate([col // n, n + col % n])  # supply row i, demand row n + j
    A = sp.csc_matrix((np.ones(2 * N), (rows, np.concatenate([col, col]))), shape=(2 * n, N))
    inf = np.inf
    args = (N, 2 * n, cost.ravel(), np.zeros(N), np.full(N, inf),
            np.r_[np.full(n, -inf), demand], np.r_[supply, np.full(n, inf)], A)  # fmt: skip
    t1, t2, t3, obj = _highspy_run(*args)
    return t1 - t0, t2 - t1, t3 - t2, obj


def highspy_facility(F: int):
    import highspy  # noqa: F401
    import scipy.sparse as sp

    d = facility_data(F)
    t0 = time.perf_counter()
    C = 4 * F
    nx = F * C  # x[f, c] at f*C + c, then y[f] at nx + f
    fx = np.repeat(np.arange(F), C)
    cx = np.tile(np.arange(C), F)
    xs = np.arange(nx)
    # rows: assign[c] (C), capacity[f] (F), link[f, c] (F*C)
    r = np.concatenate([cx, C + fx, C + np.arange(F), C + F + xs, C + F + xs])
    k = np.concatenate([xs, xs, nx + np.arange(F), xs, nx + fx])
    v = np.concatenate([np.ones(nx), d["demand"][cx], -d["capacity"], np.ones(nx), -np.ones(nx)])
    A = sp.csc_matrix((v, (r, k)), shape=(C + F + nx, nx + F))
    inf = np.inf
    args = (nx + F, C + F + nx, np.r_[d["cost"].ravel(), d["fixed"]], np.zeros(nx + F), np.ones(nx + F),
            np.r_[np.ones(C), np.full(F + nx, -inf)], np.r_[np.ones(C), np.zeros(F + nx)], A,
            np.r_[np.zeros(nx), np.ones(F)])  # fmt: skip
    t1, t2, t3, obj = _highspy_run(*args)
    return t1 - t0, t2 - t1, t3 - t2, obj


# --- (2) linopy --------------------------------------------------------------------------------


def _linopy_finish(m, t0):
    t1 = time.perf_counter()
    h = m.to_highspy()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", THREADS)
    t2 = time.perf_counter()
    h.run()
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, h.getInfo().objective_function_value


def linopy_transport(n: int):
    import highspy  # noqa: F401
    import linopy
    import pandas as pd
    import xarray as xr

    cost, supply, demand = transport_data(n)
    t0 = time.perf_counter()
    I, J = [f"s{i}" for i in range(n)], [f"d{j}" for j in range(n)]
    c = xr.DataArray(cost, coords={"i": I, "j": J})
    a = xr.DataArray(supply, coords={"i": I})
    b = xr.DataArray(demand, coords={"j": J})
    m = linopy.Model()
    x = m.add_variables(lower=0, coords=[pd.Index(I, name="i"), pd.Index(J, name="j")], name="x")
    m.add_constraints(x.sum("j") <= a, name="supply")
    m.add_constraints(x.sum("i") >= b, name="demand")
    m.add_objective((c * x).sum())
    return _linopy_finish(m, t0)


def linopy_facility(F: int):
    import highspy  # noqa: F401
    import linopy
    import pandas as pd
    import xarray as xr

    d = facility_data(F)
    t0 = time.perf_counter()
    Fs, Cs = [f"f{i}" for i in range(F)], [f"c{j}" for j in range(4 * F)]
    cost = xr.DataArray(d["cost"], coords={"f": Fs, "c": Cs})
    dem = xr.DataArray(d["demand"], coords={"c": Cs})
    cap = xr.DataArray(d["capacity"], coords={"f": Fs})
    fixed = xr.DataArray(d["fixed"], coords={"f": Fs})
    m = linopy.Model()
    f_index, c_index = pd.Index(Fs, name="f"), pd.Index(Cs, name="c")
    x = m.add_variables(lower=0, upper=1, coords=[f_index, c_index], name="x")
    y = m.add_variables(coords=[f_index], binary=True, name="y")
    m.add_constraints(x.sum("f") == 1, name="assign")
    m.add_constraints((dem * x).sum("c") - cap * y <= 0, name="capacity")
    m.add_constraints(x - y <= 0, name="link")
    m.add_objective((cost * x).sum() + (fixed * y).sum())
    return _linopy_finish(m, t0)


# --- (3) Pyomo through APPSI's HiGHS interface --------------------------------------------------


def _pyomo_finish(model, t0):
    from pyomo.contrib.appsi.solvers import Highs  # imported by the caller before t0

    t1 = time.perf_counter()
    opt = Highs()
    opt.config.stream_solver = False
    opt.highs_options = {"threads": THREADS}
    opt.set_instance(model)  # walks the Pyomo model and hands it to highspy
    cfg = opt.update_config  # the model is unchanged: skip APPSI's change detection in solve
    for flag in ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                 "check_for_new_or_removed_params", "check_for_new_objective", "update_constraints",
                 "update_vars", "update_params", "update_named_expressions", "update_objective"):  # fmt: skip
        setattr(cfg, flag, False)
    t2 = time.perf_counter()
    res = opt.solve(model)
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, res.best_feasible_objective


def pyomo_transport(n: int):
    import pyomo.contrib.appsi.solvers  # noqa: F401
    import pyomo.environ as pyo

    cost, supply, demand = transport_data(n)
    t0 = time.perf_counter()
    m = pyo.ConcreteModel()
    m.I = pyo.RangeSet(0, n - 1)
    m.J = pyo.RangeSet(0, n - 1)
    m.x = pyo.Var(m.I, m.J, within=pyo.NonNegativeReals)
    m.supply = pyo.Constraint(m.I, rule=lambda m, i: sum(m.x[i, j] for j in m.J) <= supply[i])
    m.demand = pyo.Constraint(m.J, rule=lambda m, j: sum(m.x[i, j] for i in m.I) >= demand[j])
    m.cost = pyo.Objective(expr=sum(cost[i, j] * m.x[i, j] for i in m.I for j in m.J))
    return _pyomo_finish(m, t0)


def pyomo_facility(F: int):
    import pyomo.contrib.appsi.solvers  # noqa: F401
    import pyomo.environ as pyo

    d = facility_data(F)
    cost, dem, cap, fixed = d["cost"], d["demand"], d["capacity"], d["fixed"]
    t0 = time.perf_counter()
    m = pyo.ConcreteModel()
    m.F = pyo.RangeSet(0, F - 1)
    m.C = pyo.RangeSet(0, 4 * F - 1)
    m.x = pyo.Var(m.F, m.C, bounds=(0, 1))
    m.y = pyo.Var(m.F, within=pyo.Binary)
    m.assign = pyo.Constraint(m.C, rule=lambda m, c: sum(m.x[f, c] for f in m.F) == 1)
    m.capacity = pyo.Constraint(m.F, rule=lambda m, f: sum(dem[c] * m.x[f, c] for c in m.C) <= cap[f] * m.y[f])
    m.link = pyo.Constraint(m.F, m.C, rule=lambda m, f, c: m.x[f, c] <= m.y[f])
    m.cost = pyo.Objective(
        expr=sum(cost[f, c] * m.x[f, c] for f in m.F for c in m.C) + sum(fixed[f] * m.y[f] for f in m.F)
    )
    return _pyomo_finish(m, t0)


# --- the registry: the lead adds the optdsl rows here -------------------------------------------

# --- (4) optdsl: from .opt text + a data file, and from the Python API ---------------------------

TRANSPORT_OPT = """set I; set J;
param cost {I, J}; param supply {I}; param demand {J};
var x {I, J} >= 0;
minimize total: sum {i in I, j in J} cost[i,j] * x[i,j];
s.t. sup {i in I}: sum {j in J} x[i,j] <= supply[i];
s.t. dem {j in J}: sum {i in I} x[i,j] >= demand[j];
"""

FACILITY_OPT = """param F; param C;
set FAC := 1..F; set CUST := 1..C;
param fixed {FAC}; param capacity {FAC}; param demand {CUST}; param cost {FAC, CUST};
var x {FAC, CUST} >= 0, <= 1;
var y {FAC} binary;
minimize total: sum {f in FAC, c in CUST} cost[f,c] * x[f,c] + sum {f in FAC} fixed[f] * y[f];
s.t. assign {c in CUST}: sum {f in FAC} x[f,c] = 1;
s.t. capac {f in FAC}: sum {c in CUST} demand[c] * x[f,c] <= capacity[f] * y[f];
s.t. link {f in FAC, c in CUST}: x[f,c] <= y[f];
"""


def _optdsl_finish(model, t0: float):
    """Lower to LPForm, hand the arrays to HiGHS, solve: (build, handover, solve, objective)."""
    from optdsl.solvers.highs.backend import to_highs

    from optdsl.backends import SolveOptions
    from optdsl.lower.lp import to_lpform

    form = to_lpform(model.ir)
    t1 = time.perf_counter()
    h = to_highs(form, SolveOptions(threads=THREADS))
    t2 = time.perf_counter()
    h.run()
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, h.getInfo().objective_function_value


def _files(name: str, text: str, data: dict) -> tuple[Path, Path]:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="optdsl-bench-"))
    (folder / f"{name}.opt").write_text(text)
    (folder / f"{name}.json").write_text(json.dumps(data))
    return folder / f"{name}.opt", folder / f"{name}.json"


def optdsl_file_transport(n: int):
    import optdsl.api.model as api

    cost, supply, demand = transport_data(n)
    labels_i, labels_j = [f"s{i}" for i in range(n)], [f"d{j}" for j in range(n)]
    model, data = _files("transport", TRANSPORT_OPT, {
        "I": labels_i, "J": labels_j, "cost": cost.tolist(), "supply": supply.tolist(), "demand": demand.tolist()})
    t0 = time.perf_counter()  # writing the files is not building: reading them is
    return _optdsl_finish(api.load(model, data=data), t0)


def optdsl_csv_transport(n: int):
    """The cost matrix as a plain numeric CSV (`data "cost.csv" as cost;`), the rest in JSON."""
    import optdsl.api.model as api

    cost, supply, demand = transport_data(n)
    labels_i, labels_j = [f"s{i}" for i in range(n)], [f"d{j}" for j in range(n)]
    model, data = _files("transport", TRANSPORT_OPT + 'data "cost.csv" as cost;\n', {
        "I": labels_i, "J": labels_j, "supply": supply.tolist(), "demand": demand.tolist()})
    np.savetxt(model.parent / "cost.csv", cost, delimiter=",", fmt="%.2f")
    t0 = time.perf_counter()
    return _optdsl_finish(api.load(model, data=data), t0)


def optdsl_api_transport(n: int):
    import optdsl as od

    cost, supply, demand = transport_data(n)
    t0 = time.perf_counter()
    m = od.Model("transport")
    I = m.set("I", [f"s{i}" for i in range(n)])
    J = m.set("J", [f"d{j}" for j in range(n)])
    c = m.param("cost", (I, J), cost)
    a = m.param("supply", I, supply)
    b = m.param("demand", J, demand)
    x = m.var("x", (I, J), lb=0)
    m.minimize("total", (c * x).sum())
    m.constraint("sup", x.sum("J") <= a)
    m.constraint("dem", x.sum("I") >= b)
    return _optdsl_finish(m, t0)


def _facility_json(F: int) -> dict:
    d = facility_data(F)
    return {"F": F, "C": 4 * F, "fixed": d["fixed"].tolist(), "capacity": d["capacity"].tolist(),
            "demand": d["demand"].tolist(), "cost": d["cost"].tolist()}


def optdsl_file_facility(F: int):
    import optdsl.api.model as api

    model, data = _files("facility", FACILITY_OPT, _facility_json(F))
    t0 = time.perf_counter()
    return _optdsl_finish(api.load(model, data=data), t0)


def optdsl_api_facility(F: int):
    import optdsl as od

    d = facility_data(F)
    t0 = time.perf_counter()
    m = od.Model("facility")
    FAC = m.set("FAC", range(1, F + 1))
    CUST = m.set("CUST", range(1, 4 * F + 1))
    fixed = m.param("fixed", FAC, d["fixed"])
    cap = m.param("capacity", FAC, d["capacity"])
    dem = m.param("demand", CUST, d["demand"])
    cost = m.param("cost", (FAC, CUST), d["cost"])
    x = m.var("x", (FAC, CUST), lb=0, ub=1)
    y = m.var("y", FAC, binary=True)
    m.minimize("total", (cost * x).sum() + (fixed * y).sum())
    m.constraint("assign", x.sum("FAC") == 1)
    m.constraint("capac", (dem * x).sum("CUST") <= cap * y)
    m.constraint("link", x <= y)
    return _optdsl_finish(m, t0)


BUILDERS: dict[str, dict[str, Measure | None]] = {
    "transport": {
        "highspy (numpy arrays)": highspy_transport,
        "linopy": linopy_transport,
        "pyomo (appsi_highs)": pyomo_transport,
        "optdsl .opt + JSON file": optdsl_file_transport,
        "optdsl .opt + CSV file": optdsl_csv_transport,
        "optdsl Python API": optdsl_api_transport,
    },
    "facility": {
        "highspy (numpy arrays)": highspy_facility,
        "linopy": linopy_facility,
        "pyomo (appsi_highs)": pyomo_facility,
        "optdsl .opt + JSON file": optdsl_file_facility,
        "optdsl Python API": optdsl_api_facility,
    },
}
SIZES = {"transport": [100, 300, 1000], "facility": [50]}
WARMUP = {"transport": 5, "facility": 2}


# --- running each measurement in its own process ------------------------------------------------


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kilobytes


def _worker(problem: str, tool: str, size: int) -> None:
    fn = BUILDERS[problem][tool]
    fn(WARMUP[problem])  # one-time lazy imports and first-call set-up are not what we measure
    base = _rss_mb()
    build, handover, solve, obj = fn(size)
    print(json.dumps({"build": build, "handover": handover, "solve": solve, "objective": obj,
                      "peak_mb": _rss_mb(), "base_mb": base}))  # fmt: skip


def measure(problem: str, tool: str, size: int, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--worker", problem, tool, str(size)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout {timeout:.0f} s"}
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["failed"])[-1][:80]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def _fmt(v: float) -> str:
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def table(rows: list[tuple[str, int, str, dict]]) -> str:
    head = ("| problem | size | tool | build s | hand-over s | solve s | total s | objective | "
            "peak RSS MB | Δ RSS MB |\n|---|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    out = [head]
    for problem, size, tool, r in rows:
        label = f"{size}x{size}" if problem == "transport" else f"{size}x{4 * size}"
        if "error" in r:
            out.append(f"| {problem} | {label} | {tool} | {r['error']} | | | | | | |")
            continue
        times = [r["build"], r["handover"], r["solve"]]
        cells = [problem, label, tool, *map(_fmt, times), _fmt(sum(times)), f"{r['objective']:.9g}",
                 f"{r['peak_mb']:.0f}", f"{r['peak_mb'] - r['base_mb']:.0f}"]  # fmt: skip
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs=3, metavar=("PROBLEM", "TOOL", "SIZE"), help=argparse.SUPPRESS)
    ap.add_argument("--problems", nargs="*", default=list(BUILDERS))
    ap.add_argument("--sizes", nargs="*", type=int, help="override the sizes of every chosen problem")
    ap.add_argument("--tools", nargs="*", help="substrings of tool names to run")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement")
    ap.add_argument("--no-write", action="store_true", help="print only; leave results/lp.md alone")
    args = ap.parse_args(argv)
    if args.worker:
        _worker(args.worker[0], args.worker[1], int(args.worker[2]))
        return 0
    rows = []
    for problem in args.problems:
        for size in args.sizes or SIZES[problem]:
            for tool, fn in BUILDERS[problem].items():
                if fn is None or (args.tools and not any(t in tool for t in args.tools)):
                    continue
                r = measure(problem, tool, size, args.timeout)
                rows.append((problem, size, tool, r))
                print(f"  {problem} {size} {tool}: {r}", file=sys.stderr, flush=True)
    from importlib.metadata import version

    text = (
        f"# LP/MILP build, hand-over and solve\n\n"
        f"Python {platform.python_version()}, highspy {version('highspy')}, linopy {version('linopy')}, "
        f"pyomo {version('pyomo')}; HiGHS threads={THREADS}; "
        f"{platform.machine()} with {_cpus()} CPUs; one fresh process per row; peak RSS is the process's "
        f"ru_maxrss, Δ RSS its growth over the RSS after a warm-up solve of a tiny instance.\n\n"
        f"{table(rows)}\n"
    )
    print(text)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text)
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
