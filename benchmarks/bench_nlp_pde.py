"""PDE-constrained control (benchmarks/nlp_models.py): time versus N for every sketch_newton
inner solver, next to scipy trust-constr and IPOPT (through cyipopt, when it imports).

    python benchmarks/bench_nlp_pde.py                      # N = 3, 16, 32, 64, 128, 256
    python benchmarks/bench_nlp_pde.py --sizes 64,128 --solvers auto,direct

Every run stops at KKT <= 1e-6. The sketches use the reference code's inner caps (1e5 steps for
Kaczmarz, 1e6 for the Gaussian sketch); sketches and external solvers get --time-limit seconds.
Writes the markdown to stdout and to benchmarks/results/nlp_pde.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_nlp as bn  # noqa: E402
import nlp_models as models  # noqa: E402
from optdsl.solvers.sketch_newton.backend import SketchNewtonBackend  # noqa: E402

from optdsl.backends import SolveOptions  # noqa: E402

TOL = 1e-6
CAPS = {"kaczmarz": 100_000, "gaussian": 1_000_000, "block": 100_000}


def run_sketch(form, sketch: str, time_limit: float) -> dict:
    opts = {"sketch": sketch, "tol": TOL, "progress_after": -1}
    if sketch in CAPS:
        opts["max_inner"] = CAPS[sketch]
    t0 = time.perf_counter()
    res = SketchNewtonBackend().solve(form, SolveOptions(seed=0, time_limit=time_limit, backend_options=opts))
    st = res.stats
    return {"status": res.status.value, "iters": res.iterations, "inner": st["inner_iterations"],
            "kkt": st["kkt"], "f": st["last_objective"], "time": time.perf_counter() - t0,
            "flops": st["flops"], "solver": st["sketch"]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="3,16,32,64,128,256")
    ap.add_argument("--solvers", default="auto,minres,direct,kaczmarz,gaussian,block")
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--no-external", action="store_true")
    ap.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "nlp_pde.md"))
    args = ap.parse_args(argv)
    sizes = [int(v) for v in args.sizes.split(",")]
    lines = ["| N | n + m | method | status | iters | inner steps | KKT | rel. error of f | time (s) |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for N in sizes:
        form = models.pde_problem(N)
        _, _, f_ref = models.pde_reference(N)
        runs = [(f"sketch_newton[{s}]", lambda f, s=s: run_sketch(f, s, args.time_limit))
                for s in args.solvers.split(",")]  # fmt: skip
        if not args.no_external:
            runs.append(("scipy trust-constr", lambda f: bn.run_trust_constr(f, args.time_limit)))
            if bn.have_ipopt():
                runs.append(("IPOPT (cyipopt)", lambda f: bn.run_ipopt(f, args.time_limit)))
        for label, fn in runs:
            r = fn(form)
            err = abs(r["f"] - f_ref) / abs(f_ref) if r["f"] is not None else float("nan")
            if "solver" in r and label.endswith("[auto]"):
                label += f" → {r['solver']}"
            lines.append(f"| {N} | {form.n + form.m} | {label} | {r['status']} | {r['iters']} | "
                         f"{bn.fmt(r['inner'])} | {r['kkt']:.1e} | {err:.1e} | {r['time']:.2f} |")  # fmt: skip
            print(lines[-1], file=sys.stderr, flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
