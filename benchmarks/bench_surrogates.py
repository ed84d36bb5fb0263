"""Surrogate benchmark: best f̃ against Φ evaluations and against time for the hybrid
(attack_dfo), cDSM alone, a random line search and NOMAD (pynomadbbo, when installed), over seeds,
on the problems of surrogate_problems.py (digits also with its target image moved to the middle,
digits_mid). Writes benchmarks/results/surrogates.{json,md}
and one figure per problem in docs/figures/.

    python benchmarks/bench_surrogates.py                 # 5 seeds, 20000 evaluations, K = 100
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


LINE_STEPS = (1.2, 1.0, 1.0 / 1.2)  # step multipliers tried along each direction, longest first


def random_line_search(form: Any, seed: int, max_evals: int, r0: float = 1.0, r_min: float = 1e-5,
                       r_max: float = 10.0, directions: int = 2) -> dict[str, list[float]]:
    """The reference's derivative-free baseline, a random line search: each iteration draws
    `directions` random ∞-sphere directions d and tries x + m·r·d for m in LINE_STEPS, one point
    at a time, taking the first that improves (opportunistic). A success sets r to the step's
    ∞-norm m·r (within [r_min, r_max]); a failure counts a stall, and once more than n + 1
    iterations in a row have failed each further failure divides r by 1.2. Stops at r <= r_min
    or the budget."""
    ev = _evaluator(form, max_evals)
    rng = np.random.default_rng(seed)
    u = ev.clip(form.x0 / ev.scale)
    try:
        fu = float(ev(u[None])[0])
        r, stalls = r0, 0
        while r > r_min:
            step = None
            for d in inf_sphere(rng, directions, form.n):
                for mult in LINE_STEPS:
                    trial = ev.clip(u + mult * r * d)
                    f = float(ev(trial[None])[0])
                    if f > fu:
                        step = (trial, f, mult * r)
                        break
                if step is not None:
                    break
            if step is not None:
                u, fu = step[0], step[1]
                r, stalls = min(r_max, max(r_min, step[2])), 0
            else:
                stalls += 1
                if stalls > form.n + 1:
                    r = max(r_min, r / 1.2)
    except OutOfBudget:
        pass
    return ev.history


# NOMAD 4.6's defaults build quadratic models that cost far more than Φ in high dimension: the
# default poll DIRECTION_TYPE ORTHO N+1 QUAD optimizes a quadratic model for its (n+1)-th
# direction, EVAL_QUEUE_SORT QUADRATIC_MODEL fits one to sort every poll, and the Nelder-Mead
# search (NM_SEARCH) stalls: with the defaults, 300 evaluations of a 100-variable quadratic were
# not done in 200 s, and each of the three alone stalls it (docs/surrogates.md). Above
# NOMAD_DEFAULTS_MAX_N we run plain OrthoMADS 2n (the poll cDSM runs alone) with the speculative
# search; at and below it, NOMAD's defaults.
NOMAD_DEFAULTS_MAX_N = 10
NOMAD_HIGH_DIM = ["DIRECTION_TYPE ORTHO 2N", "QUAD_MODEL_SEARCH no", "NM_SEARCH no",
                  "EVAL_QUEUE_SORT DIR_LAST_SUCCESS"]


def _nomad_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("pynomadbbo")
    except Exception:
        return None


def nomad_params(n: int) -> list[str]:
    return [] if n <= NOMAD_DEFAULTS_MAX_N else list(NOMAD_HIGH_DIM)


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
    params = ["BB_OUTPUT_TYPE OBJ", f"MAX_BB_EVAL {max_evals}", "DISPLAY_DEGREE 0", f"SEED {seed + 1}"]
    PyNomad.optimize(bb, u0.tolist(), lo.tolist(), hi.tolist(), params + nomad_params(form.n))
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
            hist = thin(hist)
            out[method].append({"seed": seed, "history": hist, **extra})
            print(f"  {P.name:9s} {method:11s} seed {seed}: best f~ {hist['best'][-1]:.6g} after "
                  f"{int(hist['evaluations'][-1])} evaluations, {extra['wall_s']:.1f} s", file=sys.stderr)
    return {m: v for m, v in out.items() if v}


def thin(h: dict[str, list[float]], per_decade: int = 40) -> dict[str, list[float]]:
    """A stored history: the best-so-far value is a step function, so keep the entries where it
    changes, and of those only the last one before each point of a geometric grid of evaluation
    counts (`per_decade` a decade) that includes MARKS and the end. The best value at every grid
    point, so at each table column, stays exact; between grid points the curve lags a little."""
    e = np.asarray(h["evaluations"], dtype=np.float64)
    b = np.asarray(h["best"], dtype=np.float64)
    if len(b) == 0:
        return h
    changed = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    top = max(e[-1], 1.0)
    grid = np.unique(np.r_[np.geomspace(1.0, top, int(per_decade * np.log10(top)) + 2), MARKS, e[-1]])
    last = np.searchsorted(e[changed], grid, side="right") - 1
    keep = np.unique(np.r_[0, changed[last[last >= 0]], len(b) - 1])
    fmt = {"evaluations": "{:.0f}", "time": "{:.4f}"}  # 12 digits keep gaps of 1e-12 relative
    return {k: [float(fmt.get(k, "{:.12g}").format(v[i])) for i in keep] for k, v in h.items()}


def best_at(h: dict[str, list[float]], k: int) -> float:
    return sp.best_at(h, k)


def _spread(values: list[float]) -> str:
    """Median over seeds and the range [min, max] when the seeds differ."""
    v = np.asarray(values)
    med = f"{np.median(v):.2g}"
    return med if np.ptp(v) == 0 else f"{med} [{v.min():.2g}, {v.max():.2g}]"


def table(results: dict[str, dict[str, list]], evals: int) -> str:
    """The authors' table shape (median best f̃ after k evaluations, final value and evaluations,
    time), then the gap to the best f̃ any run found with its spread over seeds."""
    marks = [k for k in MARKS if k <= evals]
    cols = " | ".join(f"{k} ev" for k in marks)
    rule = "|" + "---|" * (len(marks) + 5)
    best = [f"| problem | method | {cols} | final (evals) | time s | attack fwd/bwd |", rule]
    gaps = [f"| problem | method | {cols} | final | reached ≤ 1e-6 | stops before budget |", rule]
    for prob, by_method in results.items():
        top = reference(by_method)
        for method, runs in by_method.items():
            at = [[best_at(r["history"], k) for r in runs] for k in marks]
            finals = [r["history"]["best"][-1] for r in runs]
            ev = int(np.median([r["history"]["evaluations"][-1] for r in runs]))
            t = np.median([r["wall_s"] for r in runs])
            atk = f"{int(np.median([r['attack_forward'] for r in runs]))}/" \
                  f"{int(np.median([r['attack_backward'] for r in runs]))}"
            best.append(f"| {prob} | {method} | " + " | ".join(f"{np.median(a):.5g}" for a in at) +
                        f" | {np.median(finals):.5g} ({ev}) | {t:.1f} | {atk} |")
            reached = sum(top - f <= 1e-6 * max(1.0, abs(top)) for f in finals)
            early = sum(r["history"]["evaluations"][-1] < evals for r in runs)
            gaps.append(f"| {prob} | {method} | " + " | ".join(_spread([top - v for v in a]) for a in at) +
                        f" | {_spread([top - f for f in finals])} | {reached}/{len(runs)} | {early}/{len(runs)} |")
    return "\n".join(best) + "\n\nGap to the best f̃ any run found (median [min, max] over seeds):\n\n" + "\n".join(gaps)


def reference(by_method: dict[str, list]) -> float:
    """The best f̃ any run found: the gaps are measured from it."""
    return max(max(r["history"]["best"]) for runs in by_method.values() for r in runs)


def plot(results: dict[str, dict[str, list]], figdir: Path, tag: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for prob, by_method in results.items():
        top = reference(by_method)
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        for method, runs in by_method.items():
            for ax, key in zip(axes, ("evaluations", "time")):
                grid = np.unique(np.concatenate([r["history"][key] for r in runs]))
                curves = []
                for r in runs:
                    x, y = np.asarray(r["history"][key]), np.asarray(r["history"]["best"])
                    idx = np.searchsorted(x, grid, side="right") - 1
                    # a run is drawn up to its own end, not carried past it
                    gap = np.where(idx >= 0, top - y[np.maximum(idx, 0)], np.nan) + 1e-16
                    curves.append(np.where(grid <= x[-1], gap, np.nan))
                C = np.array(curves)
                alive = np.sum(np.isfinite(C), axis=0) * 2 > len(runs)  # the median is defined
                with np.errstate(all="ignore"):
                    med = np.where(alive, np.nanmedian(C, axis=0), np.nan)
                    lo, hi = np.nanmin(C, axis=0), np.nanmax(C, axis=0)
                line, = ax.plot(grid, med, label=method, drawstyle="steps-post")
                ax.fill_between(grid, lo, hi, alpha=0.15, color=line.get_color(), step="post")
        for ax, key in zip(axes, ("Φ evaluations", "wall time (s), shared machine")):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(key)
            ax.set_ylabel("gap to the best f̃ found")
            ax.grid(alpha=0.3)
        axes[0].legend()
        fig.suptitle(f"{prob}: median (line) and range (band) over {tag}; reference f̃ = {top:.6g}")
        fig.tight_layout()
        path = figdir / f"surrogates_{prob}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def write(data: dict[str, Any], out: Path, suffix: str, figdir: Path | None) -> None:
    results, seeds, evals = data["results"], data["seeds"], data["evals"]
    out.mkdir(parents=True, exist_ok=True)
    (out / f"surrogates{suffix}.json").write_text(json.dumps(data))
    md = table(results, evals)
    refs = ", ".join(f"{p} {reference(bm):.6g}" for p, bm in results.items())
    groups: dict[str, list[str]] = {}
    for p, params in data.get("nomad_params", {}).items():
        groups.setdefault(params, []).append(p)
    nomad = "; ".join(f"{', '.join(ps)}: {'`' + params + '`' if params != 'defaults' else 'defaults'}"
                      for params, ps in groups.items())
    (out / f"surrogates{suffix}.md").write_text(
        f"# Surrogate benchmark\n\n{seeds} seeds, at most {evals} Φ evaluations, digits K = {data['K']} "
        f"(digits_mid: the same problem with the target image at position {data['K'] // 2 + 1}), "
        f"device {data['device']}, `python benchmarks/bench_surrogates.py`. "
        f"NOMAD (pynomadbbo {data.get('nomad_version', '?')}) parameters: {nomad}. "
        f"Best f̃ found by any run (the reference of the gaps): {refs}. Times are wall seconds on a "
        "shared, loaded 2-core machine, one torch thread.\n\n"
        "Median over seeds of the best f̃ after k evaluations (the authors' table shape):\n\n" + md + "\n")
    print(md)
    if figdir is not None:
        figdir.mkdir(parents=True, exist_ok=True)
        for p in plot(results, figdir, f"{seeds} seeds"):
            print(f"wrote {p}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int)
    ap.add_argument("--evals", type=int)
    ap.add_argument("--K", type=int, help="images in the digits problem")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--problems", default="digits,digits_mid,analytic,reactor")
    ap.add_argument("--methods", default="attack_dfo,cdsm,line_search,nomad")
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--figures", default=str(HERE.parent / "docs" / "figures"))
    ap.add_argument("--from-json", help="rewrite the table and the figures from a stored run")
    args = ap.parse_args()
    if args.from_json:
        data = json.loads(Path(args.from_json).read_text())
        for by_method in data["results"].values():
            for runs in by_method.values():
                for r in runs:
                    r["history"] = thin(r["history"])
        write(data, Path(args.out), "", Path(args.figures))
        return
    seeds = args.seeds or (2 if args.quick else 5)
    evals = args.evals or (500 if args.quick else 20000)
    K = args.K or (20 if args.quick else 100)
    torch.set_num_threads(1)
    builders = {"digits": lambda: sp.digits(K=K), "digits_mid": lambda: sp.digits(K=K, target=K // 2 + 1),
                "analytic": sp.analytic, "reactor": sp.reactor}
    results, sizes = {}, {}
    t0 = time.perf_counter()
    for name in args.problems.split(","):
        P = builders[name]()
        sizes[name] = P.n
        results[name] = run_problem(P, seeds, evals, args.device, args.methods.split(","))
    suffix = "" if args.device == "cpu" and not args.quick else f"_{args.device}{'_quick' if args.quick else ''}"
    data = {"seeds": seeds, "evals": evals, "K": K, "device": args.device, "nomad_version": _nomad_version(),
            "nomad_params": {p: " | ".join(nomad_params(n)) or "defaults" for p, n in sizes.items()},
            "results": results}
    write(data, Path(args.out), suffix, Path(args.figures) if not args.quick and args.device == "cpu" else None)
    print(f"total {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
