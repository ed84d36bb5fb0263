"""Whole-process time of solving the small transportation LP, against PuLP and Pyomo.

    python benchmarks/bench_startup.py [--repeat 10]

Each tool solves GMPL's transportation example (examples/transport.opt: 6 variables, 5 rows,
optimum 153.675) with HiGHS in a fresh process, and prints the objective:

  optdsl   `python -m optdsl.cli solve examples/transport.opt` (what the `optdsl` command runs)
  PuLP     the same model in PuLP, solved by pulp.HiGHS (highspy)
  Pyomo    the same model in Pyomo, solved by appsi_highs (highspy)

Reported: the best wall-clock time of `--repeat` runs (start of the process to its exit, imports
included), and the CPU time (user + system) of that run. Bytecode is compiled once into a
private cache (PYTHONPYCACHEPREFIX) before timing, as an installed package has it. A tool that
is not installed is reported as such. Writes benchmarks/results/startup.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PULP = r"""
import pulp
I = ["Seattle", "San-Diego"]; J = ["New-York", "Chicago", "Topeka"]
a = {"Seattle": 350, "San-Diego": 600}; b = {"New-York": 325, "Chicago": 300, "Topeka": 275}
d = {("Seattle", "New-York"): 2.5, ("Seattle", "Chicago"): 1.7, ("Seattle", "Topeka"): 1.8,
     ("San-Diego", "New-York"): 2.5, ("San-Diego", "Chicago"): 1.8, ("San-Diego", "Topeka"): 1.4}
f = 90
p = pulp.LpProblem("transport", pulp.LpMinimize)
x = pulp.LpVariable.dicts("x", [(i, j) for i in I for j in J], lowBound=0)
p += pulp.lpSum(f * d[i, j] / 1000 * x[i, j] for i in I for j in J)
for i in I:
    p += pulp.lpSum(x[i, j] for j in J) <= a[i]
for j in J:
    p += pulp.lpSum(x[i, j] for i in I) >= b[j]
p.solve(pulp.HiGHS(msg=False))
print(pulp.LpStatus[p.status], pulp.value(p.objective))
"""

PYOMO = r"""
import pyomo.environ as pe
I = ["Seattle", "San-Diego"]; J = ["New-York", "Chicago", "Topeka"]
a = {"Seattle": 350, "San-Diego": 600}; b = {"New-York": 325, "Chicago": 300, "Topeka": 275}
d = {("Seattle", "New-York"): 2.5, ("Seattle", "Chicago"): 1.7, ("Seattle", "Topeka"): 1.8,
     ("San-Diego", "New-York"): 2.5, ("San-Diego", "Chicago"): 1.8, ("San-Diego", "Topeka"): 1.4}
f = 90
m = pe.ConcreteModel()
m.I = pe.Set(initialize=I); m.J = pe.Set(initialize=J)
m.x = pe.Var(m.I, m.J, within=pe.NonNegativeReals)
m.cost = pe.Objective(expr=sum(f * d[i, j] / 1000 * m.x[i, j] for i in I for j in J))
m.supply = pe.Constraint(m.I, rule=lambda m, i: sum(m.x[i, j] for j in J) <= a[i])
m.demand = pe.Constraint(m.J, rule=lambda m, j: sum(m.x[i, j] for i in I) >= b[j])
res = pe.SolverFactory("appsi_highs").solve(m)
print(res.solver.termination_condition, pe.value(m.cost))
"""


def _commands(tmp: Path) -> dict[str, list[str]]:
    (tmp / "pulp_transport.py").write_text(PULP)
    (tmp / "pyomo_transport.py").write_text(PYOMO)
    return {
        "optdsl": [sys.executable, "-m", "optdsl.cli", "solve", "examples/transport.opt"],
        "PuLP": [sys.executable, str(tmp / "pulp_transport.py")],
        "Pyomo": [sys.executable, str(tmp / "pyomo_transport.py")],
    }


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, its stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if out.returncode != 0:
        raise RuntimeError((out.stderr or out.stdout).strip().splitlines()[-1] if (out.stderr or out.stdout) else
                           f"exit {out.returncode}")
    return wall, cpu, out.stdout


def _objective(tool: str, stdout: str) -> str:
    if tool == "optdsl":
        line = next((ln for ln in stdout.splitlines() if ln.startswith("objective:")), "")
        return line.split(":", 1)[1].strip()
    return stdout.strip().split()[-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--tools", nargs="+", default=["optdsl", "PuLP", "Pyomo"])
    args = ap.parse_args()
    lines = ["| tool | best wall (s) | CPU of that run (s) | objective |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        cmds = _commands(Path(tmp))
        for tool in args.tools:
            try:
                _run(cmds[tool], env)  # compiles the bytecode cache
                runs = [_run(cmds[tool], env) for _ in range(args.repeat)]
            except RuntimeError as err:
                lines.append(f"| {tool} | not run: {err} | | |")
                print(lines[-1], flush=True)
                continue
            wall, cpu, stdout = min(runs, key=lambda r: r[0])
            lines.append(f"| {tool} | {wall:.3f} | {cpu:.3f} | {_objective(tool, stdout)} |")
            print(lines[-1], flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    text = "\n".join(lines) + f"\n\nBest of {args.repeat}; load average at the end: {load:.1f}.\n"
    out = Path(__file__).parent / "results" / "startup.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
