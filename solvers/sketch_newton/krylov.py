"""A Krylov inner solver for the Newton system K z = b, beside the sketches (sketches.py).

Preconditioned MINRES on the symmetric indefinite K = [[B, G^T], [G, 0]] with the
block-diagonal positive definite preconditioner

    P = diag(D, S),   D = |diag(B)| (floored),   S = G D^{-1} G^T,

factored once per K (a dense Cholesky for small m, a sparse LU otherwise). When B is
diagonal, P^{-1} K has three distinct eigenvalues (Murphy, Golub and Wathen 2000) and MINRES
ends in three steps; for a general B it stays a good preconditioner as long as the diagonal
of B dominates. This is not in the paper: it exists so that the method pays on discretized
PDEs, where every sketch needs millions of steps per solve.

On a torch device (`--device cuda`) the products with K and the vector work run there, and
the Schur factor's solves on the CPU.

It is stopped by the same test as the sketches, ||K z - b|| <= target on the *true*
residual (one extra product with K per step, counted in the flops), so the outer method's
adaptive accuracy condition is met exactly as with a sketch.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .sketches import InnerResult, Matrix, Sketch

_DENSE_SCHUR = 1500  # factor S densely up to this many constraints


def pminres(matvec, precond, b, x, target: float, max_iter: int, deadline: float | None, dot, norm):
    """Preconditioned MINRES (Paige-Saunders recurrences as in Elman, Silvester and Wathen,
    Algorithm 4.1) for symmetric A and SPD preconditioner M, on numpy or torch vectors.

    Stops when the true residual ||A x - b|| <= target (computed every step: one extra
    product), at max_iter steps, or at the deadline. Returns (x, steps, ||Ax - b||, timed_out).
    """
    r = b - matvec(x)
    rn = norm(r)
    if rn <= target:
        return x, 0, rn, False
    v_old = r * 0.0
    v = r
    z = precond(v)
    gamma_old, gamma = 1.0, dot(z, v) ** 0.5
    eta = gamma
    exhausted = 1e-14 * gamma  # gamma below this: the Krylov space holds the solution
    s_old = s = 0.0
    c_old = c = 1.0
    w_old = w = r * 0.0
    for j in range(1, max_iter + 1):
        z = z / gamma
        Az = matvec(z)
        delta = dot(Az, z)
        v_new = Az - (delta / gamma) * v - (gamma / gamma_old) * v_old
        z_new = precond(v_new)
        gamma_new = max(dot(z_new, v_new), 0.0) ** 0.5
        a0 = c * delta - c_old * s * gamma
        a1 = (a0 * a0 + gamma_new * gamma_new) ** 0.5
        a2 = s * delta + c_old * c * gamma
        a3 = s_old * gamma
        c_old, c = c, a0 / a1
        s_old, s = s, gamma_new / a1
        w_new = (z - a3 * w_old - a2 * w) / a1
        x = x + (c * eta) * w_new
        eta = -s * eta
        w_old, w = w, w_new
        v_old, v = v, v_new
        z = z_new
        gamma_old, gamma = gamma, gamma_new
        rn = norm(b - matvec(x))
        if rn <= target or gamma <= exhausted:
            # Past exhaustion the recurrences only amplify rounding; the caller restarts
            # from x (a refinement step) if the test still fails.
            return x, j, rn, False
        if deadline is not None and time.perf_counter() > deadline:
            return x, j, rn, True
    return x, max_iter, rn, False


def _restarted(matvec, precond, b, x, target, max_iter, deadline, dot, norm):
    """pminres, restarted from its last iterate (iterative refinement) while the test fails,
    steps remain and each restart at least halves the residual."""
    total, best = 0, float("inf")
    cycle = len(b) + 2  # in exact arithmetic MINRES ends within d steps; past that it is rounding
    while True:
        x, steps, rn, timed_out = pminres(matvec, precond, b, x, target, min(max_iter - total, cycle), deadline,
                                          dot, norm)  # fmt: skip
        total += steps
        if rn <= target or timed_out or total >= max_iter or steps == 0 or rn > 0.5 * best:
            return x, total, rn, timed_out
        best = rn


class Minres(Sketch):
    """Block-diagonally preconditioned MINRES (see the module docstring)."""

    name = "minres"

    def __init__(self, rng: np.random.Generator, n: int, device: str = "cpu") -> None:
        super().__init__(rng)
        self.n = int(n)
        self.device = str(device or "cpu")

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
        self.dev = None
        if self.device != "cpu":
            self._to_device()
        return flops

    def _to_device(self) -> None:
        """K and D on the torch device; the Schur factor stays on the CPU (torch has no sparse
        factorization), so each preconditioner application moves one m-vector each way."""
        import torch

        from optdsl.eval.torch_eval import resolve_device

        self.dev = resolve_device(self.device)
        K = sp.csr_matrix(self.K)
        with warnings.catch_warnings():  # "sparse CSR support is in beta"
            warnings.simplefilter("ignore", UserWarning)
            self.Kt = torch.sparse_csr_tensor(
                torch.from_numpy(K.indptr.astype(np.int64)), torch.from_numpy(K.indices.astype(np.int64)),
                torch.from_numpy(K.data), size=K.shape, dtype=torch.float64, device=self.dev,
                check_invariants=False,
            )
        self.Dt = torch.from_numpy(self.D).to(self.dev)

    def _apply_inverse(self, v: np.ndarray) -> np.ndarray:
        n = self.n
        out = np.empty_like(v)
        out[:n] = v[:n] / self.D
        if self.m:
            kind, fac = self.schur
            out[n:] = sla.cho_solve(fac, v[n:], check_finite=False) if kind == "dense" else fac.solve(v[n:])
        return out

    def _apply_inverse_torch(self, v):
        import torch

        n = self.n
        parts = [v[:n] / self.Dt]
        if self.m:
            parts.append(torch.from_numpy(self._apply_inverse_schur(v[n:].cpu().numpy())).to(self.dev))
        return torch.cat(parts)

    def _apply_inverse_schur(self, y: np.ndarray) -> np.ndarray:
        kind, fac = self.schur
        return sla.cho_solve(fac, y, check_finite=False) if kind == "dense" else fac.solve(y)

    def _iterate(self, z, r, b, target, max_iter, deadline, flops) -> InnerResult:
        step = 4.0 * self.nnz + self.solve_flops + 2.0 * self.n + 20.0 * self.d
        if self.dev is None:
            K = self.K
            zk, steps, rn, timed_out = _restarted(
                lambda v: K @ v, self._apply_inverse, b, z, target, max_iter, deadline,
                dot=lambda a, c: float(a @ c), norm=lambda a: float(np.linalg.norm(a)),
            )  # fmt: skip
        else:
            import torch

            Kt = self.Kt
            bt = torch.from_numpy(np.ascontiguousarray(b)).to(self.dev)
            zt = torch.from_numpy(np.ascontiguousarray(z)).to(self.dev)
            zt, steps, rn, timed_out = _restarted(
                lambda v: Kt @ v, self._apply_inverse_torch, bt, zt, target, max_iter, deadline,
                dot=lambda a, c: float(torch.dot(a, c)), norm=lambda a: float(torch.linalg.vector_norm(a)),
            )  # fmt: skip
            zk = zt.cpu().numpy()
        flops += step * steps
        return InnerResult(zk, steps, flops, rn, rn <= target and not timed_out, timed_out=timed_out)
