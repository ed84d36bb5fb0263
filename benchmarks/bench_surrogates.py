"""Surrogate benchmark: best f̃ against Φ evaluations and against time for the hybrid
(attack_dfo), cDSM alone, a random line search and NOMAD (pynomadbbo, when installed), over seeds,
on the three problems of surrogate_problems.py. Writes benchmarks/results/surrogates.{json,md}
and one figure per problem in docs/figures/.

    python benchmarks/bench_surrogates.py                 # 5 seeds, 5000 evaluations, K = 100
    python benchmarks/bench_surrogates.py --quick         # 2 seeds, 500 evaluations, K = 20
    python benchmarks/bench_surrogates.py --device cuda   # the GPU run (Φ and the attack on the GPU)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import surrogate_problems as sp  # noqa: E402
from optdsl.solvers.cdsm.evaluator import Evaluator, OutOfBudget, box_scale  # noqa: E402
from optdsl.solvers.cdsm.steps import inf_sphere  # noqa: E402

from optdsl.backends import SolveOptions  # noqa: E402
from optdsl.lower.surrogate import to_surrogate_form  # noqa: E402
from optdsl.lower.surrogate_penalty import PenalizedSurrogate  # noqa: E402

MARKS = (100, 1000, 5000, 20000)


# ------------------------------------------------------------------------------ baselines
def _evaluator(form: Any, max_evals: int) -> Evaluator:
    pen = PenalizedSurrogate(form)
    return Evaluator(pen, box_scale(form.col_lower, form.col_upper), max_evals)


def random_line_search(form: Any, seed: int, max_evals: int, r0: float = 1.0, r_min: float = 1e-5,
                       r_max: float = 10.0) -> dict[str, list[float]]:
    """A derivative-free random line search: along a random ∞-sphere direction (and its opposite)
    try x + r·d; on success keep doubling the step while it improves, r <- min(2r, r_max); on
    failure r <- r/2. Stops at r < r_min or the budget."""
    ev = _evaluator(form, max_evals)
    rng = np.random.default_rng(seed)
    u = ev.clip(form.x0 / ev.scale)
    try:
        fu = float(ev(u[None])[0])
        r = r0
        while r >= r_min:
            d = inf_sphere(rng, 1, form.n)[0]
            F = ev(np.stack([u + r * d, u - r * d]))
            j = int(np.argmax(F))
            if F[j] <= fu:
                r /= 2.0
                continue
            d = d if j == 0 else -d
            u, fu, step = ev.clip(u + r * d), float(F[j]), 2.0 * r
            while True:
                f2 = float(ev((u + step * d)[None])[0])
                if f2 <= fu:
                    break
                u, fu = ev.clip(u + step * d), f2
                step *= 2.0
            r = min(2.0 * r, r_max)
    except OutOfBudget:
        pass
    return ev.history


def nomad(form: Any, seed: int, max_evals: int) -> dict[str, list[float]] | None:
    try:
        import PyNomad
    except ImportError:
        return None
    ev = _evaluator(form, max_evals)
    lo, hi = ev.lower, ev.upper

    def bb(point: Any) -> int:
        u = np.array([point.get_coord(i) for i in range(point.size())])
        try:
            f = -float(ev(u[None])[0])
        except OutOfBudget:
            f = -ev.best_f
        point.setBBO(str(f).encode("UTF-8"))
        return 1

    u0 = ev.clip(form.x0 / ev.scale)
    PyNomad.optimize(bb, u0.tolist(), lo.tolist(), hi.tolist(),
                     ["BB_OUTPUT_TYPE OBJ", f"MAX_BB_EVAL {max_evals}", "DISPLAY_DEGREE 0", f"SEED {seed + 1}"])
    return ev.history


# ------------------------------------------------------------------------------ runs
def run_problem(P: sp.Problem, seeds: int, evals: int, device: str, methods: list[str]) -> dict[str, list]:
    out: dict[str, list] = {m: [] for m in methods}
    form = None
    for method in methods:
        for seed in range(seeds):
            t = time.perf_counter()
            if method in ("attack_dfo", "cdsm"):
                r = P.model.solve(method, seed=seed, max_evals=evals, device=device)
                hist = r.history
                extra = {"phi_evaluations": r.stats["phi_evaluations"], "attack_forward": r.stats["attack_forward"],
                         "attack_backward": r.stats["attack_backward"], "status": r.status.value}
            else:
                if form is None:
                    form = to_surrogate_form(P.model.ir, SolveOptions())
                hist = random_line_search(form, seed, evals) if method == "line_search" else nomad(form, seed, evals)
                if hist is None:
                    break
                extra = {"phi_evaluations": hist["evaluations"][-1], "attack_forward": 0, "attack_backward": 0}
            extra["wall_s"] = time.perf_counter() - t
            out[method].append({"seed": seed, "history": hist, **extra})
            print(f"  {P.name:9s} {method:11s} seed {seed}: best f~ {hist['best'][-1]:.6g} after "
                  f"{int(hist['evaluations'][-1])} evaluations, {extra['wall_s']:.1f} s", file=sys.stderr)
    return {m: v for m, v in out.items() if v}


def best_at(h: dict[str, list[float]], k: int) -> float:
    return sp.best_at(h, k)


def table(results: dict[str, dict[str, list]], evals: int) -> str:
    marks = [k for k in MARKS if k <= evals]
    head = "| problem | method | " + " | ".join(f"{k} ev" for k in marks) + \
        " | final (evals) | time s | attack fwd/bwd |"
    lines = [head, "|" + "---|" * (len(marks) + 5)]
    for prob, by_method in results.items():
        for method, runs in by_method.items():
            cells = [f"{np.median([best_at(r['history'], k) for r in runs]):.4g}" for k in marks]
            final = np.median([r["history"]["best"][-1] for r in runs])
            ev = int(np.median([r["history"]["evaluations"][-1] for r in runs]))
            t = np.median([r["wall_s"] for r in runs])
            atk = f"{int(np.median([r['attack_forward'] for r in runs]))}/" \
                  f"{int(np.median([r['attack_backward'] for r in runs]))}"
            lines.append(f"| {prob} | {method} | " + " | ".join(cells) + f" | {final:.4g} ({ev}) | {t:.1f} | {atk} |")
    return "\n".join(lines)


def plot(results: dict[str, dict[str, list]], figdir: Path, tag: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for prob, by_method in results.items():
        top = max(max(r["history"]["best"]) for runs in by_method.values() for r in runs)
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        for method, runs in by_method.items():
            for ax, key in zip(axes, ("evaluations", "time")):
                grid = np.unique(np.concatenate([r["history"][key] for r in runs]))
                curves = []
                for r in runs:
                    x, y = np.asarray(r["history"][key]), np.asarray(r["history"]["best"])
                    idx = np.searchsorted(x, grid, side="right") - 1
                    curves.append(np.where(idx >= 0, top - y[np.maximum(idx, 0)], np.nan) + 1e-16)
                C = np.array(curves)
                med = np.nanmedian(C, axis=0)
                ax.plot(grid, med, label=method)
                ax.fill_between(grid, np.nanmin(C, axis=0), np.nanmax(C, axis=0), alpha=0.2)
        for ax, key in zip(axes, ("Φ evaluations", "time (s)")):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(key)
            ax.set_ylabel("best f̃ found - best f̃ (gap, log)")
            ax.grid(alpha=0.3)
        axes[0].legend()
        fig.suptitle(f"{prob}: median and range over seeds ({tag})")
        fig.tight_layout()
        path = figdir / f"surrogates_{prob}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int)
    ap.add_argument("--evals", type=int)
    ap.add_argument("--K", type=int, help="images in the digits problem")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--problems", default="digits,analytic,reactor")
    ap.add_argument("--methods", default="attack_dfo,cdsm,line_search,nomad")
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--figures", default=str(HERE.parent / "docs" / "figures"))
    args = ap.parse_args()
    seeds = args.seeds or (2 if args.quick else 5)
    evals = args.evals or (500 if args.quick else 5000)
    K = args.K or (20 if args.quick else 100)
    torch.set_num_threads(1)
    builders = {"digits": lambda: sp.digits(K=K), "analytic": sp.analytic, "reactor": sp.reactor}
    results = {}
    t0 = time.perf_counter()
    for name in args.problems.split(","):
        P = builders[name]()
        results[name] = run_problem(P, seeds, evals, args.device, args.methods.split(","))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.device == "cpu" and not args.quick else f"_{args.device}{'_quick' if args.quick else ''}"
    (out / f"surrogates{suffix}.json").write_text(json.dumps(
        {"seeds": seeds, "evals": evals, "K": K, "device": args.device, "results": results}))
    md = table(results, evals)
    (out / f"surrogates{suffix}.md").write_text(
        f"Surrogate benchmark ({seeds} seeds, {evals} evaluations, digits K = {K}, device {args.device}); "
        "median best f̃ over seeds.\n\n" + md + "\n")
    print(md)
    if not args.quick and args.device == "cpu":
        figdir = Path(args.figures)
        figdir.mkdir(parents=True, exist_ok=True)
        for p in plot(results, figdir, f"{seeds} seeds"):
            print(f"wrote {p}", file=sys.stderr)
    print(f"total {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
