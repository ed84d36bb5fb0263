"""sketch_newton on the PDE control problem, on a torch device against the CPU.

    python benchmarks/bench_nlp_device.py --sizes 256,512 --devices cpu,cuda

The inner solver is minres (what sketch=auto picks at these sizes and on any torch device);
on a device its products with K and its vector work run there. One line per run on stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import nlp_models as models  # noqa: E402
from optdsl.solvers.sketch_newton.backend import SketchNewtonBackend  # noqa: E402

from optdsl.backends import SolveOptions  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="256,512")
    ap.add_argument("--devices", default="cpu,cuda")
    ap.add_argument("--time-limit", type=float, default=200.0)
    args = ap.parse_args(argv)
    print("| N | n + m | device | status | iters | inner steps | KKT | time (s) | inner solver |")
    print("|---|---|---|---|---|---|---|---|---|", flush=True)
    for N in (int(v) for v in args.sizes.split(",")):
        form = models.pde_problem(N)
        for device in args.devices.split(","):
            opts = SolveOptions(seed=0, time_limit=args.time_limit, device=device,
                                backend_options={"sketch": "auto", "tol": 1e-6})  # fmt: skip
            t0 = time.perf_counter()
            r = SketchNewtonBackend().solve(form, opts)
            st = r.stats
            print(f"| {N} | {form.n + form.m} | {device} | {r.status.value} | {r.iterations} | "
                  f"{st['inner_iterations']} | {st['kkt']:.1e} | {time.perf_counter() - t0:.2f} | "
                  f"{st['sketch']} |", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
