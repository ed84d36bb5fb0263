"""A Krylov inner solver for the Newton system K z = b, beside the sketches (sketches.py).

Preconditioned MINRES on the symmetric indefinite K = [[B, G^T], [G, 0]] with the
block-diagonal positive definite preconditioner

    P = diag(D, S),   D = |diag(B)| (floored),   S = G D^{-1} G^T,

factored once per K (a dense Cholesky for small m, a sparse LU otherwise). When B is
diagonal, P^{-1} K has three distinct eigenvalues (Murphy, Golub and Wathen 2000) and MINRES
ends in three steps; for a general B it stays a good preconditioner as long as the diagonal
of B dominates. This is not in the paper: it exists so that the method pays on discretized
PDEs, where every sketch needs millions of steps per solve.

It is stopped by the same test as the sketches, ||K z - b|| <= target on the *true*
residual (one extra product with K per step, counted in the flops), so the outer method's
adaptive accuracy condition is met exactly as with a sketch.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .sketches import InnerResult, Matrix, Sketch

_DENSE_SCHUR = 1500  # factor S densely up to this many constraints


class _Stop(Exception):
    """Raised from the MINRES callback when the accuracy test holds (or time is up)."""

    def __init__(self, z: np.ndarray, rn: float, timed_out: bool = False) -> None:
        super().__init__()
        self.z, self.rn, self.timed_out = z, rn, timed_out


class Minres(Sketch):
    """Block-diagonally preconditioned MINRES (see the module docstring)."""

    name = "minres"

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        super().__init__(rng)
        self.n = int(n)

    def setup(self, K: Matrix) -> float:
        super().setup(K)
        n, d = self.n, self.d
        m = d - n
        K = self.K
        diag = np.asarray(K.diagonal()[:n], dtype=float)
        dabs = np.abs(diag)
        floor = max(1e-8 * float(dabs.max()) if n else 0.0, 1e-12)
        self.D = np.maximum(dabs, floor)
        flops = float(n)
        self.schur = None
        if m:
            G = K[n:, :n]
            if sp.issparse(G):
                S = (G @ sp.diags(1.0 / self.D) @ G.T).tocsc()
                flops += 2.0 * float(G.nnz) * max(G.nnz / max(m, 1), 1.0)
                if m <= _DENSE_SCHUR:
                    Sd = S.toarray()
                    self.schur = ("dense", sla.cho_factor(Sd + 1e-14 * np.trace(Sd) / m * np.eye(m)))
                    self.solve_flops = 2.0 * m * m
                    flops += m**3 / 3.0
                else:
                    lu = spla.splu(S, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                                   options={"SymmetricMode": True})  # fmt: skip
                    fill = float(lu.L.nnz + lu.U.nnz)
                    self.schur = ("lu", lu)
                    self.solve_flops = 2.0 * fill
                    flops += fill * fill / m
            else:
                Gd = np.asarray(G)
                Sd = (Gd / self.D) @ Gd.T
                self.schur = ("dense", sla.cho_factor(Sd + 1e-14 * np.trace(Sd) / m * np.eye(m)))
                self.solve_flops = 2.0 * m * m
                flops += 2.0 * m * m * n + m**3 / 3.0
        else:
            self.solve_flops = 0.0
        self.m = m
        self.P = spla.LinearOperator((d, d), matvec=self._apply_inverse, dtype=float)
        self.Kop = spla.aslinearoperator(K)
        return flops

    def _apply_inverse(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=float).ravel()
        n = self.n
        out = np.empty_like(v)
        out[:n] = v[:n] / self.D
        if self.m:
            kind, fac = self.schur
            out[n:] = sla.cho_solve(fac, v[n:], check_finite=False) if kind == "dense" else fac.solve(v[n:])
        return out

    def _iterate(self, z, r, b, target, max_iter, deadline, flops) -> InnerResult:
        K = self.K
        steps = [0]

        def check(xk: np.ndarray) -> None:
            steps[0] += 1
            rk = K @ xk - b
            rn = float(np.linalg.norm(rk))
            if rn <= target:
                raise _Stop(np.array(xk), rn)
            if deadline is not None and time.perf_counter() > deadline:
                raise _Stop(np.array(xk), rn, timed_out=True)

        step = 4.0 * self.nnz + self.solve_flops + 2.0 * self.n + 20.0 * self.d
        try:
            zk, _ = spla.minres(self.Kop, b, x0=z, rtol=1e-16, maxiter=max_iter, M=self.P, callback=check)
        except _Stop as stop:
            flops += step * steps[0]
            return InnerResult(stop.z, steps[0], flops, stop.rn, not stop.timed_out, timed_out=stop.timed_out)
        # MINRES ended on its own (its rounding-level test or the cap): judge the true residual.
        r, rn = self._confirm(zk, b)
        flops += step * steps[0] + 2.0 * self.nnz
        return InnerResult(zk, steps[0], flops, rn, rn <= target)
