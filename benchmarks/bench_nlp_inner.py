"""Per-step cost of the batched Kaczmarz sketch (sketches.py) against a plain one-row-at-a-time
loop with the same exact stop (the residual norm tested after every step), on the PDE's KKT
matrix (sparse) and a dense random KKT matrix, at several sizes d = n + m.

    python benchmarks/bench_nlp_inner.py          # writes benchmarks/results/nlp_inner.md

Best of three interleaved runs each. Both run the same number of steps on the same K with an
unreachable target, so what is timed is the step itself plus the per-step stopping test.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import nlp_models as models  # noqa: E402
from optdsl.solvers.sketch_newton.sketches import make_sketch  # noqa: E402


def pde_kkt(N: int) -> sp.csr_matrix:
    form = models.pde_problem(N)
    H, G = form.hess_lag(form.x0, form.lam0), form.jac(form.x0)
    return sp.bmat([[H, G.T], [G, None]], format="csr")


def dense_kkt(d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = 2 * d // 3
    A = rng.standard_normal((n, n))
    G = rng.standard_normal((d - n, n))
    return np.block([[A @ A.T / n + np.eye(n), G.T], [G, np.zeros((d - n, d - n))]])


def plain_loop(K, b: np.ndarray, steps: int, target: float, seed: int = 0) -> float:
    """Seconds per step of the textbook loop: one row, incremental residual, norm tested each step."""
    rng = np.random.default_rng(seed)
    sparse = sp.issparse(K)
    M = (K @ K.T).tocsr() if sparse else K @ K.T
    diag = M.diagonal() if sparse else np.diag(M).copy()
    z, r = np.zeros(K.shape[0]), -b.copy()
    rows = rng.integers(0, K.shape[0], size=steps)
    rn2 = float(r @ r)
    t0 = time.perf_counter()
    for i in rows:
        t = r[i] / diag[i]
        if sparse:
            lo, hi = M.indptr[i], M.indptr[i + 1]
            idx, val = M.indices[lo:hi], M.data[lo:hi]
            old = r[idx]
            new = old - t * val
            rn2 += float(new @ new - old @ old)
            r[idx] = new
            klo, khi = K.indptr[i], K.indptr[i + 1]
            z[K.indices[klo:khi]] -= t * K.data[klo:khi]
        else:
            r -= t * M[i]
            rn2 = float(r @ r)
            z -= t * K[i]
        if rn2 <= target * target:
            break
    return (time.perf_counter() - t0) / steps


def batched(K, b: np.ndarray, steps: int, target: float) -> float:
    solver = make_sketch("kaczmarz", np.random.default_rng(0))
    solver.setup(K)
    t0 = time.perf_counter()
    out = solver.solve(b, target, max_iter=steps)
    return (time.perf_counter() - t0) / out.iterations


def main() -> int:
    lines = ["| K | d | batched (µs/step) | plain loop (µs/step) | ratio |", "|---|---|---|---|---|"]
    cases = [(f"PDE N={N}", pde_kkt(N)) for N in (4, 8, 16, 32, 64)]
    cases += [(f"dense d={d}", dense_kkt(d)) for d in (60, 300, 1200)]
    for label, K in cases:
        d = K.shape[0]
        b = np.random.default_rng(1).standard_normal(d)
        steps = 20_000
        # best of three, interleaved: the machine is shared
        tb = tp = float("inf")
        for _ in range(3):
            tb = min(tb, batched(K, b, steps, 1e-300))
            tp = min(tp, plain_loop(K, b, steps, 1e-300))
        lines.append(f"| {label} | {d} | {tb * 1e6:.1f} | {tp * 1e6:.1f} | {tb / tp:.2f} |")
        print(lines[-1], flush=True)
    out = ROOT / "benchmarks" / "results" / "nlp_inner.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
