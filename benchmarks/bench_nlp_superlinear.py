"""Local rate of sketch_newton with the accuracy condition sharpened (superlinear variant)
against theta_k = 1, on a few CUTEst problems: KKT residual per iteration down to 1e-10.

    python benchmarks/bench_nlp_superlinear.py        # writes benchmarks/results/superlinear.{md,png}

The plot needs matplotlib (the `bench` extra); without it only the table is written.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ["HS6", "BT9", "HS7", "MWRIGHT", "BT2", "HS100LNP"]
VARIANTS = {
    "theta = 1 (paper, linear)": {},
    "theta_k = min(1, ||grad L_k||)": {"superlinear": True, "theta_schedule": "kkt", "theta_power": 1.0},
    "theta_k = min(1, ||grad L_k||^0.5)": {"superlinear": True, "theta_schedule": "kkt", "theta_power": 0.5},
    "theta_k = 0.5^k": {"superlinear": True, "theta_schedule": "geometric", "theta_rate": 0.5},
}


def run(name: str, extra: dict) -> tuple[list[float], int]:
    from optdsl.solvers.sketch_newton import algorithm

    from optdsl.lower.cutest import load_cutest

    p = algorithm.Params(sketch="kaczmarz", tol=1e-10, time_limit=120.0, seed=0, **extra)
    out = algorithm.solve(load_cutest(name), p, log=None)
    return out.kkt_history, out.inner_iterations


def local_order(h: list[float]) -> float:
    """Median of log(e_{k+1}/e_k) / log(e_k/e_{k-1}) over the last steps with e < 1e-2 (1 = linear)."""
    e = [v for v in h if 0 < v < 1e-2]
    q = [math.log(e[i + 1] / e[i]) / math.log(e[i] / e[i - 1]) for i in range(1, len(e) - 1)
         if e[i] < e[i - 1] and e[i + 1] < e[i]]  # fmt: skip
    return float(np.median(q)) if q else math.nan


def main() -> int:
    rows, traces = [], {}
    for name in PROBLEMS:
        for label, extra in VARIANTS.items():
            h, inner = run(name, extra)
            traces[(name, label)] = h
            rows.append((name, label, len(h) - 1, inner, h[-1], local_order(h)))
            print(f"{name:9s} {label:36s} iters {len(h) - 1:3d} inner {inner:9d} kkt {h[-1]:.1e} "
                  f"order {rows[-1][-1]:.2f}", flush=True)  # fmt: skip
    out = ROOT / "benchmarks" / "results"
    lines = ["| problem | accuracy factor | iterations to KKT <= 1e-10 | inner steps | final KKT | local order |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    lines += [f"| {a} | {b} | {c} | {d} | {e:.1e} | {f:.2f} |" for a, b, c, d, e, f in rows]
    (out / "superlinear.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)", file=sys.stderr)
        return 0
    fig, axes = plt.subplots(2, 3, figsize=(12, 7), sharey=True)
    for ax, name in zip(axes.ravel(), PROBLEMS):
        for label in VARIANTS:
            h = traces[(name, label)]
            ax.semilogy(range(len(h)), np.maximum(h, 1e-16), marker="o", ms=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("iteration")
        ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].set_ylabel("KKT residual")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "superlinear.png", dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main())
