"""Derivative evaluation time of the nonlinear lowering: numpy (sparse forward mode) against torch
(autograd, compressed by row coloring), on a chained nonlinear model with N terms:

    minimize   sum_i  exp(x_i - x_{i+1}) + sin(x_i) x_{i+1}^2 + log(1 + x_i^2)        i = 1..N-1
    subject to x_{i+1} exp(x_i) - cos(x_{i+2}) / (2 + x_i^2) = 0                         i = 1..N-2

built the way instantiation builds it (array-valued DAG nodes, a handful of nodes for any N).
For each executor and N: the one-time lowering (and, for torch, the first call which colors the
patterns), then the median of `--repeat` timed calls of jac(x) + grad(x), and of hess_lag(x, lam).

    python benchmarks/bench_nlp_lowering.py                 # N = 1e3, 1e4, 1e5
    python benchmarks/bench_nlp_lowering.py --sizes 1000 --device cuda

Writes a markdown table to stdout and to benchmarks/results/nlp_lowering.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from optdsl.ir.expr import Expr
from optdsl.ir.model import ConBlock, ModelIR, ObjectiveIR, VarBlock
from optdsl.lower.nlp import to_nlpform

RESULTS = Path(__file__).resolve().parent / "results" / "nlp_lowering.md"


def chained(n: int) -> ModelIR:
    def v(lo: int, hi: int) -> Expr:
        return Expr.variables(np.arange(lo, hi))

    def k(val: float, rows: int) -> Expr:
        return Expr.constant(val, rows)

    a, b = v(0, n - 1), v(1, n)
    terms = (a - b).apply("exp") + a.apply("sin").times(b.times(b)) + (k(1.0, n - 1) + a.times(a)).apply("log")
    obj = terms.reduce_sum(np.zeros(n - 1, dtype=np.int64), 1)
    a, b, c = v(0, n - 2), v(1, n - 1), v(2, n)
    con = b.times(a.apply("exp")) - c.apply("cos").apply("div", k(2.0, n - 2) + a.times(a))
    ir = ModelIR(name=f"chained{n}")
    ir.variables = [VarBlock("x", None, 0, n, np.full(n, -np.inf), np.full(n, np.inf), np.zeros(n, bool))]
    ir.objectives = [ObjectiveIR("f", "min", obj)]
    ir.constraints = [ConBlock("c", None, con, np.zeros(n - 2), np.zeros(n - 2))]
    return ir


def measure(n: int, executor: str, device: str, repeat: int) -> dict[str, float]:
    ir = chained(n)
    t0 = time.perf_counter()
    F = to_nlpform(ir, device=device, executor=executor)
    lower_s = time.perf_counter() - t0
    rng = np.random.default_rng(n)
    x = rng.uniform(-1, 1, n)
    lam = rng.standard_normal(F.m)
    t0 = time.perf_counter()
    F.jac(x)
    F.grad(x)
    F.hess_lag(x, lam)
    first_s = time.perf_counter() - t0
    jg, hs = [], []
    for _ in range(repeat):
        x = rng.uniform(-1, 1, n)  # a new point each time: no cached passes
        t0 = time.perf_counter()
        J = F.jac(x)
        F.grad(x)
        jg.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        H = F.hess_lag(x, lam)
        hs.append(time.perf_counter() - t0)
    return {"lower_s": lower_s, "first_s": first_s, "jac_grad_s": statistics.median(jg),
            "hess_s": statistics.median(hs), "jac_nnz": J.nnz, "hess_nnz": H.nnz}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--executors", nargs="+", default=["numpy", "torch"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--torch-threads", type=int, default=1,
                    help="torch intra-op threads (numpy/scipy run on one core; 1 keeps it like for like)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    if "torch" in args.executors:
        import torch

        torch.set_num_threads(args.torch_threads)
    lines = [
        f"Chained nonlinear model, device {args.device}, torch threads {args.torch_threads}; "
        f"median of {args.repeat} calls at fresh points. "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}.",
        "",
        "| N | executor | lower (s) | first call (s) | jac+grad (ms) | hess_lag (ms) | jac nnz | hess nnz |",
        "|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for n in args.sizes:
        for ex in args.executors:
            r = measure(n, ex, args.device, args.repeat)
            row = (f"| {n:,} | {ex} | {r['lower_s']:.3f} | {r['first_s']:.3f} | {1e3 * r['jac_grad_s']:.1f} "
                   f"| {1e3 * r['hess_s']:.1f} | {r['jac_nnz']:,} | {r['hess_nnz']:,} |")
            lines.append(row)
            print(row, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
