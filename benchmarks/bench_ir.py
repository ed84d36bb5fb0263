"""Build the transportation model into the IR: time and peak memory, by door and data format.

    python benchmarks/bench_ir.py [--sizes 100 300 1000]

Rows: `.opt` + JSON data file (nested array), `.opt` + CSV data file (matrix), and the Python API
with numpy data. Each measurement runs in a fresh process (so imports and caches do not leak
between rows); "IR s" is load + parse + data + instantiation, "LP s" adds the lowering to
LPForm (best of three runs). Peak memory is tracemalloc's peak (numpy buffers included) during
the build, from a separate traced run.
Writes benchmarks/results/ir.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

MODEL = """set I; set J;
param a {I}; param b {J}; param d {I, J}; param f;
param c {i in I, j in J} := f * d[i,j] / 1000;
var x {I, J} >= 0;
minimize cost: sum {i in I, j in J} c[i,j] * x[i,j];
s.t. supply {i in I}: sum {j in J} x[i,j] <= a[i];
s.t. demand {j in J}: sum {i in I} x[i,j] >= b[j];
"""


def make_data(n: int, folder: Path) -> dict[str, Path]:
    rng = np.random.default_rng(n)
    d = np.round(rng.uniform(1, 5, (n, n)), 3)
    a = np.round(rng.uniform(20, 30, n), 2)
    b = np.round(rng.uniform(10, 20, n), 2)
    I = [f"s{i}" for i in range(n)]
    J = [f"d{j}" for j in range(n)]
    (folder / "transport.opt").write_text(MODEL)
    (folder / "transport_csv.opt").write_text(MODEL + 'data "d.csv" as d;\n')
    payload = {"I": I, "J": J, "a": a.tolist(), "b": b.tolist(), "d": d.tolist(), "f": 90}
    (folder / "all.json").write_text(json.dumps(payload))
    (folder / "sets.json").write_text(json.dumps({k: payload[k] for k in ("I", "J", "a", "b", "f")}))
    np.savetxt(folder / "d.csv", d, delimiter=",", fmt="%.3f")
    np.savez(folder / "arrays.npz", d=d, a=a, b=b)
    return {"folder": folder}


RUNNER = r"""
import sys, time, tracemalloc, json
import numpy as np
mode, folder, n, trace = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
import optdsl, optdsl.api.model, optdsl.ir.instantiate, optdsl.lower.lp, optdsl.parse.parser  # imports excluded
from optdsl.parse.parser import parse
parse("param warm;", "warm.opt")  # the grammar tables are built/loaded once per process
if trace:
    tracemalloc.start()
t0 = time.perf_counter()
if mode == "opt+json":
    m = optdsl.api.model.load(f"{folder}/transport.opt", data=f"{folder}/all.json")
elif mode == "opt+csv":
    m = optdsl.api.model.load(f"{folder}/transport_csv.opt", data=f"{folder}/sets.json")
else:
    import optdsl as od
    arr = np.load(f"{folder}/arrays.npz")
    I = [f"s{i}" for i in range(n)]; J = [f"d{j}" for j in range(n)]
    m = od.Model("transport")
    Iset = m.set("I", I); Jset = m.set("J", J)
    a = m.param("a", Iset, arr["a"]); b = m.param("b", Jset, arr["b"])
    d = m.param("d", (Iset, Jset), arr["d"]); f = m.param("f", 90)
    x = m.var("x", (Iset, Jset), lb=0)
    m.minimize("cost", (f * d / 1000 * x).sum())
    m.constraint("supply", x.sum("J") <= a)
    m.constraint("demand", x.sum("I") >= b)
ir = m.ir
t1 = time.perf_counter()
lp = optdsl.lower.lp.to_lpform(ir)
t2 = time.perf_counter()
peak = tracemalloc.get_traced_memory()[1] if trace else 0
print(json.dumps({"ir_s": t1 - t0, "lp_s": t2 - t0, "peak_mb": peak / 2**20, "nnz": int(lp.A.nnz),
                  "cols": lp.num_cols}))
"""


def _once(mode: str, folder: Path, n: int, trace: bool) -> dict:
    out = subprocess.run([sys.executable, "-c", RUNNER, mode, str(folder), str(n), "1" if trace else "0"],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(mode: str, folder: Path, n: int, repeat: int = 3) -> dict:
    """Best time of `repeat` untraced runs; peak memory from one traced run (tracing slows it)."""
    runs = [_once(mode, folder, n, False) for _ in range(repeat)]
    if any("error" in r for r in runs):
        return next(r for r in runs if "error" in r)
    best = min(runs, key=lambda r: r["lp_s"])
    best["peak_mb"] = _once(mode, folder, n, True).get("peak_mb", float("nan"))
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 300, 1000])
    ap.add_argument("--modes", nargs="+", default=["opt+json", "opt+csv", "python-api"])
    args = ap.parse_args()
    lines = ["| size | door | variables | nonzeros | to IR (s) | to LPForm (s) | peak memory (MiB) |",
             "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            folder = Path(tmp) / str(n)
            folder.mkdir()
            make_data(n, folder)
            for mode in args.modes:
                r = run(mode, folder, n)
                if "error" in r:
                    lines.append(f"| {n}² | {mode} | | | error: {r['error']} | | |")
                else:
                    lines.append(f"| {n}² | {mode} | {r['cols']} | {r['nnz']} | {r['ir_s']:.3f} | "
                                 f"{r['lp_s']:.3f} | {r['peak_mb']:.0f} |")
                print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    out = Path(__file__).parent / "results" / "ir.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
