"""Balans over HiGHS against HiGHS alone (and against the authors' Balans over SCIP) on hard MIPs.

For every instance of ../shared/corpora/hard-mip and every seed, one HiGHS-alone run at the
largest budget gives its incumbent trace (so its primal gap at 30, 60 and 120 s comes from one
run: HiGHS does not plan by its time limit), and one balans run per budget (balans does: its
first-incumbent phase and sub-MIP limits scale with the budget). Each run is its own Python
process, and a HiGHS run and a balans run of the same pair go side by side, so both see the same
machine load. Also: the portfolio with 2 workers against 1 (`--workers 1 2`), and the authors'
package `balans` 2.2.0 over PySCIPOpt (`--authors`, if it is installed: `pip install
"optdsl[bench-balans]"`). HiGHS runs with 1 thread everywhere.

Primal gap pg = |z - z*| / max(|z|, |z*|) (1 without a solution or with a sign mismatch), primal
integral PI = the integral of pg over [0, T]. z* is the best known value below; for instances
whose optimum is open here it is the best value any run of this benchmark found (marked).

    python benchmarks/bench_balans.py                                   # full: 3 seeds, 30/60/120 s
    python benchmarks/bench_balans.py --budgets 30 --seeds 1 --instances pk1 gen-ip054
    python benchmarks/bench_balans.py --report                          # table + plot from results

Writes JSON lines to benchmarks/results/balans_runs.jsonl, a markdown table to
benchmarks/results/balans.md and the operator-choice plot to docs/img/balans_operators.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPORA = Path(os.environ.get("OPTDSL_CORPORA", ROOT.parent / "shared" / "corpora"))
HARD = CORPORA / "hard-mip"
RUNS = HERE / "results" / "balans_runs.jsonl"
TABLE = HERE / "results" / "balans.md"
PLOT = ROOT / "docs" / "img" / "balans_operators.png"

# name -> (file, best known objective or None when open here); senses are the files' own
INSTANCES: dict[str, tuple[str, float | None]] = {
    "50v-10": ("50v-10.mps", 3311.18),
    "b1c1s1": ("b1c1s1.mps", None),
    "gen-ip054": ("gen-ip054.mps", 6840.96564179),
    "neos-5140963-mincio": ("neos-5140963-mincio.mps", None),
    "noswot": ("noswot.mps", -41.0),
    "pk1": ("pk1.mps", 11.0),
    "gisp_102": ("correctness_gisp_102.lp", None),
    "mis_2": ("correctness_mis_2.lp", None),
    "mk_5": ("correctness_mk_5.lp", 3752.0),
    "mvc_8": ("correctness_mvc_8.lp", 2365.0),
}


# --- one run, in its own process --------------------------------------------------------------


def run_highs(path: Path, budget: float, seed: int) -> dict:
    import highspy
    from optdsl.solvers.highs.backend import HighsBackend  # noqa: F401  (same HiGHS build as the backend)

    from optdsl.interchange import read_model_file

    form = read_model_file(path)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(path))
    for k, v in (("time_limit", budget), ("threads", 1), ("random_seed", seed), ("mip_rel_gap", 0.0)):
        h.setOptionValue(k, v)
    trace: list[tuple[float, float]] = []
    t0 = time.time()

    def improving(e) -> None:
        trace.append((time.time() - t0, float(e.data_out.objective_function_value)))

    h.cbMipImprovingSolution.subscribe(improving)
    h.run()
    elapsed = time.time() - t0
    info = h.getInfo()
    x = np.asarray(h.getSolution().col_value) if info.primal_solution_status == 2 else None
    return {"objective": trace[-1][1] if trace else None, "trace": trace, "elapsed": elapsed,
            "status": h.getModelStatus().name, "violation": _violation(form, x) if x is not None else None,
            "bound": float(info.mip_dual_bound)}


def run_balans(path: Path, budget: float, seed: int, workers: int, preset: str) -> dict:
    from optdsl.solvers.balans import BalansBackend

    from optdsl.backends import SolveOptions
    from optdsl.interchange import read_model_file

    form = read_model_file(path)
    opts = SolveOptions(time_limit=budget, seed=seed, threads=1,
                        backend_options={"workers": workers, "preset": preset, "progress": "off"})
    t0 = time.time()
    r = BalansBackend().solve(form, opts)
    elapsed = time.time() - t0
    h = r.history
    return {"objective": r.objective, "trace": list(zip(h.get("time", []), h.get("objective", []))),
            "first": r.stats.get("first_objective"), "first_s": r.stats.get("first_s"), "elapsed": elapsed,
            "status": r.status.value, "violation": _violation(form, r.x) if r.x is not None else None,
            "iterations": r.stats.get("alns_iterations"), "uses": r.stats.get("operator_uses"),
            "it_time": h.get("iteration_time", []), "it_operator": h.get("iteration_operator", []),
            "it_outcome": h.get("iteration_outcome", []), "it_worker": h.get("iteration_worker", [])}


def run_authors(path: Path, budget: float, seed: int) -> dict:
    """The authors' package with its IJCAI'25 softmax configuration, limits scaled to the budget
    (first solution and crossover 1/6, sub-MIP 1/6, local branching 1/4 of it; its own defaults are
    for an hour)."""
    from alns.accept import SimulatedAnnealing
    from alns.select import MABSelector
    from alns.stop import MaxRuntime
    from balans.solver import Balans, DestroyOperators, RepairOperators
    from mabwiser.mab import LearningPolicy

    ops = [DestroyOperators.Crossover, DestroyOperators.Mutation_25, DestroyOperators.Mutation_50,
           DestroyOperators.Mutation_75, DestroyOperators.Local_Branching_10, DestroyOperators.Local_Branching_25,
           DestroyOperators.Local_Branching_50, DestroyOperators.Proximity_005, DestroyOperators.Proximity_015,
           DestroyOperators.Proximity_030, DestroyOperators.Rens_25, DestroyOperators.Rens_50,
           DestroyOperators.Rens_75, DestroyOperators.Rins_25, DestroyOperators.Rins_50, DestroyOperators.Rins_75]
    selector = MABSelector(scores=[3, 2, 1, 0], num_destroy=len(ops), num_repair=1,
                           learning_policy=LearningPolicy.Softmax(tau=2.0), seed=seed)
    b = Balans(destroy_ops=ops, repair_ops=[RepairOperators.Repair], selector=selector,
               accept=SimulatedAnnealing(20, 1, 0.1, method="linear"), stop=MaxRuntime(budget),
               seed=seed, n_mip_jobs=1, mip_solver="scip", timelimit_first_solution=budget / 6,
               timelimit_alns_iteration=budget / 6, timelimit_local_branching_iteration=budget / 4,
               timelimit_crossover_random_feasible=budget / 6)
    t0 = time.time()
    res = b.solve(str(path))
    elapsed = time.time() - t0
    stats = res.statistics
    times = np.cumsum(np.diff(np.r_[stats.runtimes[0], stats.runtimes])) if len(stats.runtimes) else []
    objs = list(stats.objectives)
    best: list[tuple[float, float]] = []
    for t, o in zip(times, objs):
        if not best or o < best[-1][1]:
            best.append((float(t), float(o)))
    return {"objective": float(res.best_state.objective()), "trace": best, "elapsed": elapsed,
            "status": "done", "violation": None}


def _violation(form, x) -> float:
    ax = form.A @ x
    v = [np.max(np.maximum(form.row_lower - ax, ax - form.row_upper), initial=0.0),
         np.max(np.maximum(form.col_lower - x, x - form.col_upper), initial=0.0)]
    if form.integrality is not None:
        i = np.asarray(form.integrality, dtype=bool)
        v.append(np.max(np.abs(x[i] - np.round(x[i])), initial=0.0))
    return float(max(v))


def _one(args: argparse.Namespace) -> None:
    path = HARD / INSTANCES[args.instance][0]
    if args.one == "highs":
        out = run_highs(path, args.budget, args.seed)
    elif args.one == "balans":
        out = run_balans(path, args.budget, args.seed, args.workers_one, args.preset)
    else:
        out = run_authors(path, args.budget, args.seed)
    out.update(tool=args.one, instance=args.instance, budget=args.budget, seed=args.seed,
               workers=args.workers_one if args.one == "balans" else 1, preset=args.preset)
    print("RESULT " + json.dumps(out), flush=True)


# --- driving ----------------------------------------------------------------------------------


def _launch(tool: str, inst: str, budget: float, seed: int, workers: int = 1, preset: str = "auto"):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", tool, "--instance", inst, "--budget",
           str(budget), "--seed", str(seed), "--workers-one", str(workers), "--preset", preset]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def _collect(proc, timeout: float) -> dict | None:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return {"error": "timeout"}
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": (err or "").strip().splitlines()[-1:] or ["no output"]}


def drive(args: argparse.Namespace) -> None:
    RUNS.parent.mkdir(parents=True, exist_ok=True)
    tmax = max(args.budgets)
    with RUNS.open("a") as fh:
        for inst in args.instances:
            for seed in args.seeds:
                jobs = [("highs", tmax, 1)] + [("balans", b, w) for b in args.budgets for w in args.workers]
                if args.authors:
                    jobs += [("authors", b, 1) for b in args.budgets]
                # two at a time: HiGHS beside the first balans run, then the rest in pairs
                for i in range(0, len(jobs), 2):
                    batch = jobs[i:i + 2]
                    procs = [(j, _launch(j[0], inst, j[1], seed, j[2])) for j in batch]
                    for (tool, budget, workers), p in procs:
                        res = _collect(p, timeout=2 * budget + 120)
                        res.update(tool=tool, instance=inst, budget=budget, seed=seed, workers=workers)
                        res["machine"] = f"{platform.node()} {os.cpu_count()} cores"
                        fh.write(json.dumps(res) + "\n")
                        fh.flush()
                        print(f"{inst:22s} seed {seed} {tool:7s} {budget:5.0f}s w{workers}: "
                              f"{res.get('objective')} ({res.get('elapsed', 0):.1f}s) {res.get('error', '')}",
                              file=sys.stderr, flush=True)


# --- the report -------------------------------------------------------------------------------


def pg(z, ref) -> float:
    from optdsl.solvers.balans.metrics import primal_gap

    return primal_gap(z, ref)


def at(trace, t) -> float | None:
    """The incumbent at time t from a trace of (time, objective)."""
    best = None
    for ti, z in trace:
        if ti <= t + 1e-9:
            best = z
    return best


def integral(trace, ref, t) -> float:
    from optdsl.solvers.balans.metrics import primal_integral

    tr = [(a, b) for a, b in trace if a <= t]
    return primal_integral([a for a, _ in tr], [b for _, b in tr], ref, t)


def report(args: argparse.Namespace) -> str:
    runs = [json.loads(ln) for ln in RUNS.read_text().splitlines() if ln.strip()] if RUNS.exists() else []
    runs = [r for r in runs if "error" not in r and r.get("objective") is not None or r.get("tool") == "highs"]
    if not runs:
        return "no runs"
    refs: dict[str, tuple[float, bool]] = {}
    for inst, (_, known) in INSTANCES.items():
        found = [r["objective"] for r in runs if r["instance"] == inst and r.get("objective") is not None]
        if not found:
            continue
        maximize = inst in ("mis_2", "mk_5")
        best_seen = max(found) if maximize else min(found)
        if known is None:
            refs[inst] = (best_seen, True)
        else:
            better = best_seen > known if maximize else best_seen < known
            refs[inst] = (best_seen if better else known, better)
    lines = ["| instance | seed | T (s) | HiGHS pg | balans pg | authors pg | HiGHS PI | balans PI | "
             "balans first (s) | iters | balans ≤ HiGHS |", "|" + "---|" * 11]
    wins = total = bad = 0
    budgets = sorted({r["budget"] for r in runs if r["tool"] == "balans"})
    for inst in INSTANCES:
        if inst not in refs:
            continue
        ref = refs[inst][0]
        seeds = sorted({r["seed"] for r in runs if r["instance"] == inst})
        for seed in seeds:
            hs = [r for r in runs if r["tool"] == "highs" and r["instance"] == inst and r["seed"] == seed]
            for T in budgets:
                bs = [r for r in runs if r["tool"] == "balans" and r["instance"] == inst and r["seed"] == seed
                      and r["budget"] == T and r.get("workers", 1) == 1]
                au = [r for r in runs if r["tool"] == "authors" and r["instance"] == inst and r["seed"] == seed
                      and r["budget"] == T]
                hs_t = sorted((h for h in hs if h["budget"] >= T), key=lambda h: (h["budget"] != T, h["budget"]))
                if not bs or not hs_t:
                    continue
                h, b = hs_t[0], bs[-1]
                hz, bz = at(h["trace"], T), b["objective"]
                hp, bp = pg(hz, ref), pg(bz, ref)
                ok = bp <= hp + 1e-9
                worse_than_first = b.get("first") is not None and (
                    (bz < b["first"] - 1e-9) if inst in ("mis_2", "mk_5") else (bz > b["first"] + 1e-9))
                infeasible = b.get("violation") is None or b["violation"] > 1e-5
                bad += int(worse_than_first or infeasible)
                wins += int(ok)
                total += 1
                apg = f"{pg(au[-1]['objective'], ref):.3g}" if au else "–"
                lines.append(f"| {inst} | {seed} | {T:g} | {hp:.3g} | {bp:.3g} | {apg} | "
                             f"{integral(h['trace'], ref, T):.1f} | {integral(b['trace'], ref, T):.1f} | "
                             f"{b.get('first_s') or 0:.1f} | {b.get('iterations')} | {'yes' if ok else 'no'} |")
    lines.append("")
    lines.append(f"balans primal gap ≤ HiGHS alone on {wins}/{total} instance-seed-budget runs "
                 f"({100 * wins / max(total, 1):.0f}%); infeasible or worse than the first incumbent: {bad}.")
    for T in budgets:
        sel = [ln for ln in lines if ln.startswith("| ") and f"| {T:g} |" in ln and ln.endswith("|")]
        w = sum(ln.endswith("| yes |") for ln in sel)
        lines.append(f"At {T:g} s: {w}/{len(sel)}.")
    refs_text = ", ".join(f"{k} {v[0]:g}{' (best seen here)' if v[1] else ''}" for k, v in refs.items())
    lines.append(f"References z*: {refs_text}.")
    # portfolio: 2 workers against 1
    port = []
    for inst in INSTANCES:
        for seed in sorted({r["seed"] for r in runs}):
            for T in budgets:
                one = [r for r in runs if r["tool"] == "balans" and r["instance"] == inst and r["seed"] == seed
                       and r["budget"] == T and r.get("workers", 1) == 1]
                two = [r for r in runs if r["tool"] == "balans" and r["instance"] == inst and r["seed"] == seed
                       and r["budget"] == T and r.get("workers", 1) == 2]
                if one and two and inst in refs:
                    ref = refs[inst][0]
                    port.append(f"| {inst} | {seed} | {T:g} | {pg(one[-1]['objective'], ref):.3g} | "
                                f"{pg(two[-1]['objective'], ref):.3g} | {one[-1].get('iterations')} | "
                                f"{two[-1].get('iterations')} |")
    if port:
        lines += ["", "| instance | seed | T (s) | pg, 1 worker | pg, 2 workers | iters (1) | iters (2) |",
                  "|" + "---|" * 7, *port]
    text = "\n".join(lines)
    TABLE.write_text(text + "\n")
    _plot(runs)
    return text


def _plot(runs: list[dict]) -> None:
    """Operator chosen at each iteration over time, for the longest balans run of a few instances."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    picks = []
    for inst in INSTANCES:
        cand = [r for r in runs if r["tool"] == "balans" and r["instance"] == inst and r.get("workers", 1) == 1
                and r.get("it_operator")]
        if cand:
            picks.append(max(cand, key=lambda r: (r["budget"], len(r["it_operator"]))))
    picks = sorted(picks, key=lambda r: -len(r["it_operator"]))[:4]
    if not picks:
        return
    fig, axes = plt.subplots(len(picks), 1, figsize=(9, 2.6 * len(picks)), squeeze=False)
    colors = {"best": "tab:green", "better": "tab:blue", "accept": "tab:gray", "reject": "tab:red"}
    for ax, r in zip(axes[:, 0], picks):
        names = sorted(set(r["it_operator"]))
        y = [names.index(o) for o in r["it_operator"]]
        ax.scatter(r["it_time"], y, c=[colors.get(o, "k") for o in r["it_outcome"]], s=14)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_title(f"{r['instance']} (seed {r['seed']}, {r['budget']:g} s): operator per iteration; "
                     "green best, blue better, gray accept, red reject", fontsize=8)
        ax.set_xlim(0, r["budget"])
    axes[-1, 0].set_xlabel("seconds")
    fig.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", nargs="*", default=list(INSTANCES), choices=list(INSTANCES))
    ap.add_argument("--seeds", nargs="*", type=int, default=[1, 2, 3])
    ap.add_argument("--budgets", nargs="*", type=float, default=[30.0, 60.0, 120.0])
    ap.add_argument("--workers", nargs="*", type=int, default=[1])
    ap.add_argument("--authors", action="store_true", help="also run the authors' balans 2.2.0 over SCIP")
    ap.add_argument("--report", action="store_true", help="only print the table from the stored runs")
    ap.add_argument("--fresh", action="store_true", help="forget the stored runs first")
    ap.add_argument("--one", choices=["highs", "balans", "authors"], help=argparse.SUPPRESS)
    ap.add_argument("--instance", help=argparse.SUPPRESS)
    ap.add_argument("--budget", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--workers-one", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--preset", default="auto", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        _one(args)
        return
    if not HARD.is_dir():
        sys.exit(f"hard-mip corpus not found at {HARD} (set OPTDSL_CORPORA)")
    if args.fresh and RUNS.exists():
        RUNS.unlink()
    if not args.report:
        drive(args)
    print(report(args))


if __name__ == "__main__":
    main()
