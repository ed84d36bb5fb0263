"""Iterative sketching solvers for the Newton system K z = b, as plug-ins.

Every solver has the same small interface::

    solver = make_sketch("kaczmarz", rng)
    setup_flops = solver.setup(K)                 # once per outer iteration (K changes)
    out = solver.solve(b, target, z0=None, max_iter=100_000, deadline=None)

`solve` iterates until the supplied accuracy test ``||K z - b|| <= target`` holds (the outer
loop turns its adaptive accuracy condition into this residual threshold), the inner iteration
cap is reached, or the deadline passes. It returns z, the inner iterations, the flops and the
final residual norm.

Flops count the work that runs: the per-step updates plus, for the batched forms, the
batch's Gram block, its triangular solve and the residual block of the exact stop. Sequential
semantics are kept exactly: a batch of s Kaczmarz (or Gaussian-vector) projections is evaluated in one
go by a forward substitution with the s x s Gram block, which gives the same iterates as s
single steps, and the first step in the batch that meets the accuracy test ends the solve.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .options import SKETCHES as _SKETCHES

Matrix = np.ndarray | sp.spmatrix

# Above this many rows a batch's per-step residual norms (a d x s dense block) get expensive;
# large systems check the accuracy test once per batch instead (overshoot < one batch).
_EXACT_STOP_LIMIT = 4096
# Kaczmarz above this many rows runs a plain step loop instead of batches (measured crossover).
_BATCH_LIMIT = 256


@dataclass
class InnerResult:
    z: np.ndarray
    iterations: int
    flops: float
    residual: float  # ||K z - b||
    converged: bool  # the accuracy test holds
    timed_out: bool = False


def _nnz_rows(K: Matrix) -> np.ndarray:
    if sp.issparse(K):
        return np.diff(K.tocsr().indptr).astype(float)
    return np.count_nonzero(K, axis=1).astype(float)


def _nnz(K: Matrix) -> int:
    return int(K.nnz) if sp.issparse(K) else int(np.count_nonzero(K))


class Sketch(ABC):
    """Base class: subclasses implement `setup` and `_iterate`."""

    name = ""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.K: Matrix | None = None
        self.d = 0
        self.nnz = 0

    def setup(self, K: Matrix) -> float:
        """Take a new matrix; return the flops of any precomputation."""
        self.K = K.tocsr() if sp.issparse(K) else np.asarray(K, dtype=float)
        self.d = K.shape[0]
        self.nnz = _nnz(K)
        return 0.0

    def solve(
        self,
        b: np.ndarray,
        target: float,
        z0: np.ndarray | None = None,
        max_iter: int = 100_000,
        deadline: float | None = None,
    ) -> InnerResult:
        if self.K is None:
            raise RuntimeError("call setup(K) before solve")
        z = np.zeros(self.d) if z0 is None else np.array(z0, dtype=float)
        r = self.K @ z - b
        flops = 2.0 * self.nnz
        rn = float(np.linalg.norm(r))
        if rn <= target:
            return InnerResult(z, 0, flops, rn, True)
        return self._iterate(z, r, b, target, max_iter, deadline, flops)

    @abstractmethod
    def _iterate(self, z, r, b, target, max_iter, deadline, flops) -> InnerResult:
        """Iterate from z (residual r = Kz - b) until ||r|| <= target or a cap is reached."""

    def _confirm(self, z: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float]:
        """The true residual (the incremental one drifts by rounding)."""
        r = self.K @ z - b
        return r, float(np.linalg.norm(r))


def _first_hit(R: np.ndarray, target: float) -> tuple[int, np.ndarray]:
    """Index of the first column of R whose norm is <= target (or -1), and the column norms."""
    norms = np.sqrt(np.einsum("ij,ij->j", R, R))
    hits = np.flatnonzero(norms <= target)
    return (int(hits[0]) if hits.size else -1), norms


class Kaczmarz(Sketch):
    """Randomized Kaczmarz with uniform row sampling.

    A step projects z onto the hyperplane of row i: z <- z - (r_i / ||K_i||^2) K_i^T. The
    residual r = Kz - b is updated incrementally, r <- r - t (K K^T)_{:, i}, using the Gram
    matrix M = K K^T formed once per K, so a step costs O(nnz(K_i) + nnz(M_i)), not a mat-vec.
    Zero rows are never sampled (they carry no information; for a consistent system b_i = 0).
    """

    name = "kaczmarz"

    def setup(self, K: Matrix) -> float:
        super().setup(K)
        K = self.K
        if sp.issparse(K):
            M = (K @ K.T).tocsr()
            self.M = M
            self.diag = M.diagonal()
            row_nnz = _nnz_rows(K)
            # K K^T costs 2 * sum_k nnz(col k) * nnz(row k) multiply-adds; K is square here.
            col_nnz = np.diff(K.tocsc().indptr).astype(float)
            flops = 2.0 * float(col_nnz @ row_nnz)
        else:
            M = K @ K.T
            self.M = M
            self.diag = np.diag(M).copy()
            flops = 2.0 * self.d**3
        self.rows = np.flatnonzero(self.diag > 0)
        self.step_flops = 2.0 * _nnz_rows(K) + 4.0 * _nnz_rows(M) + 3.0
        return flops

    def _iterate(self, z, r, b, target, max_iter, deadline, flops) -> InnerResult:
        if self.rows.size and self.d > _BATCH_LIMIT:
            return self._loop(z, r, b, target, max_iter, deadline, flops)
        K, M, d = self.K, self.M, self.d
        sparse = sp.issparse(K)
        exact_stop = d <= _EXACT_STOP_LIMIT
        batch = int(np.clip(8 * d, 64, 1024)) if exact_stop else 128
        it, rn = 0, float(np.linalg.norm(r))
        since_sync = 0
        if self.rows.size == 0:
            return InnerResult(z, 0, flops, rn, rn <= target)
        while it < max_iter:
            if deadline is not None and time.perf_counter() > deadline:
                return InnerResult(z, it, flops, rn, False, timed_out=True)
            s = min(batch, max_iter - it)
            idx = self.rows[self.rng.integers(0, self.rows.size, size=s)]
            # t_k = (r_{i_k} after steps 1..k-1) / M_{i_k i_k}: forward substitution with
            # the lower triangle of M[I, I] reproduces the s sequential projections.
            if sparse:
                MI = M[idx]  # rows of M = columns (M is symmetric)
                T = MI[:, idx].toarray()  # solve_triangular reads only the lower triangle
            else:
                MI = M[idx]
                T = MI[:, idx]
            t = sla.solve_triangular(T, r[idx], lower=True, check_finite=False)
            k = s
            if exact_stop:
                C = MI.T.toarray() if sparse else MI.T  # d x s
                R = r[:, None] - np.cumsum(C * t, axis=1)
                hit, _ = _first_hit(R, target)
                if hit >= 0:
                    k = hit + 1
                    t = t[:k]
                    r = R[:, hit].copy()
                else:
                    r = R[:, -1].copy()
            else:
                r = r - MI.T @ t
            z = z - (K[idx[:k]].T @ t)
            # What ran: the sequential updates, plus the s x s triangular solve and, for the
            # exact stop, the d x s block of residuals and their norms (4 d per step).
            flops += float(self.step_flops[idx[:k]].sum()) + float(s * s) + (4.0 * d * s if exact_stop else 0.0)
            it += k
            since_sync += k
            rn = float(np.linalg.norm(r))
            if rn <= target or since_sync >= 4 * d:
                since_sync = 0
                r, rn = self._confirm(z, b)
                flops += 2.0 * self.nnz
                if rn <= target:
                    return InnerResult(z, it, flops, rn, True)
        return InnerResult(z, it, flops, rn, rn <= target)


    def _loop(self, z, r, b, target, max_iter, deadline, flops) -> InnerResult:
        """One row at a time, the residual norm kept incrementally and tested after every step.

        Above _BATCH_LIMIT rows this is faster than the batched form, whose exact stop needs a
        d x s block of residuals per batch (benchmarks/bench_nlp_inner.py)."""
        K, M, d = self.K, self.M, self.d
        sparse = sp.issparse(K)
        if sparse:
            mp, mi, mv = M.indptr, M.indices, M.data
            kp, ki, kv = K.indptr, K.indices, K.data
        diag, t2 = self.diag, target * target
        rn2 = float(r @ r)
        it, since_sync, chunk = 0, 0, 4096
        while it < max_iter:
            if deadline is not None and time.perf_counter() > deadline:
                return InnerResult(z, it, flops, float(np.sqrt(max(rn2, 0.0))), False, timed_out=True)
            s = min(chunk, max_iter - it)
            idx = self.rows[self.rng.integers(0, self.rows.size, size=s)]
            k = 0
            for i in idx:
                k += 1
                t = r[i] / diag[i]
                if sparse:
                    lo, hi = mp[i], mp[i + 1]
                    cols = mi[lo:hi]
                    old = r[cols]
                    new = old - t * mv[lo:hi]
                    rn2 += float(new @ new - old @ old)
                    r[cols] = new
                    lo, hi = kp[i], kp[i + 1]
                    z[ki[lo:hi]] -= t * kv[lo:hi]
                else:
                    r -= t * M[i]
                    rn2 = float(r @ r)
                    z -= t * K[i]
                if rn2 <= t2:
                    break
            flops += float(self.step_flops[idx[:k]].sum())
            it += k
            since_sync += k
            if rn2 <= t2 or since_sync >= 4 * d:
                since_sync = 0
                r, rn = self._confirm(z, b)  # the incremental norm drifts by rounding
                rn2 = rn * rn
                flops += 2.0 * self.nnz
                if rn <= target:
                    return InnerResult(z, it, flops, rn, True)
        rn = float(np.sqrt(max(rn2, 0.0)))
        return InnerResult(z, it, flops, rn, rn <= target)


class GaussianVector(Sketch):
    """Gaussian sketch-and-project with one column: S ~ N(0, I),
    z <- z - (S^T r)/(S^T K K^T S) K^T S.

    A batch draws s columns, forms W = K^T S and V = K W with two mat-mats, and solves the
    lower-triangular Gram system (W^T W) for the s sequential step lengths, since
    S_k^T K K^T S_j = w_k^T w_j. The counted cost per step is the sequential one: two mat-vecs
    (K^T S and K w) plus O(d) vector work.
    """

    name = "gaussian"

    def setup(self, K: Matrix) -> float:
        super().setup(K)
        self.KT = self.K.T.tocsr() if sp.issparse(self.K) else self.K.T
        return 0.0

    def _iterate(self, z, r, b, target, max_iter, deadline, flops) -> InnerResult:
        d = self.d
        exact_stop = d <= _EXACT_STOP_LIMIT
        batch = int(np.clip(4 * d, 32, 512)) if exact_stop else 8
        step = 4.0 * self.nnz + 10.0 * d
        it, rn, since_sync = 0, float(np.linalg.norm(r)), 0
        while it < max_iter:
            if deadline is not None and time.perf_counter() > deadline:
                return InnerResult(z, it, flops, rn, False, timed_out=True)
            s = min(batch, max_iter - it)
            S = self.rng.standard_normal((d, s))
            W = np.asarray(self.KT @ S)
            V = np.asarray(self.K @ W)
            gram = W.T @ W
            if np.any(np.diag(gram) <= 0):  # K^T S = 0: only when K = 0
                break
            t = sla.solve_triangular(gram, S.T @ r, lower=True, check_finite=False)
            k = s
            if exact_stop:
                R = r[:, None] - np.cumsum(V * t, axis=1)
                hit, _ = _first_hit(R, target)
                if hit >= 0:
                    k = hit + 1
                    t = t[:k]
                    r = R[:, hit].copy()
                else:
                    r = R[:, -1].copy()
            else:
                r = r - V @ t
            z = z - W[:, :k] @ t
            # What ran: the sequential work of k steps, plus the batch's s x s Gram block W^T W,
            # its triangular solve and (exact stop) the d x s residual block with its norms.
            flops += step * k + 2.0 * d * s * s + s * s + (4.0 * d * s if exact_stop else 0.0)
            it += k
            since_sync += k
            rn = float(np.linalg.norm(r))
            if rn <= target or since_sync >= 4 * d:
                since_sync = 0
                r, rn = self._confirm(z, b)
                flops += 2.0 * self.nnz
                if rn <= target:
                    return InnerResult(z, it, flops, rn, True)
        return InnerResult(z, it, flops, rn, rn <= target)


class Block(Sketch):
    """Block sketch-and-project with q columns:
    z <- z - K^T S (S^T K K^T S)^+ S^T r, with S a count sketch (each row of K hashed to one of
    q buckets with a random sign; K^T S then costs nnz(K) additions) or a d x q Gaussian.

    A batch of s steps is evaluated at once: with W_k = K^T S_k, the step y_k solves
    (W_k^T W_k) y_k = S_k^T r_0 - sum_{j<k} (W_k^T W_j) y_j, a block forward substitution
    with the pseudo-inverted diagonal blocks (an empty bucket gives a zero column of W_k).
    """

    name = "block"

    def __init__(self, rng: np.random.Generator, block_size: int = 8, kind: str = "count") -> None:
        super().__init__(rng)
        if kind not in ("count", "gaussian"):
            raise ValueError(f"block sketch kind must be 'count' or 'gaussian', not {kind!r}")
        if int(block_size) < 1:
            raise ValueError("block size must be at least 1")
        self.q = int(block_size)
        self.kind = kind

    def setup(self, K: Matrix) -> float:
        super().setup(K)
        self.KT = self.K.T.tocsr() if sp.issparse(self.K) else self.K.T
        return 0.0

    def _sketches(self, s: int, q: int) -> Matrix:
        """[S_1 ... S_s], d x (s q)."""
        d = self.d
        if self.kind == "gaussian":
            return self.rng.standard_normal((d, s * q))
        cols = self.rng.integers(0, q, size=(d, s)) + q * np.arange(s)
        signs = self.rng.choice(np.array([-1.0, 1.0]), size=(d, s))
        if sp.issparse(self.K):
            return sp.csr_matrix(
                (signs.ravel(), cols.ravel(), np.arange(0, d * s + 1, s)), shape=(d, s * q)
            )
        S = np.zeros((d, s * q))
        S[np.arange(d)[:, None], cols] = signs
        return S

    def _iterate(self, z, r, b, target, max_iter, deadline, flops) -> InnerResult:
        d, q = self.d, min(self.q, self.d)
        exact_stop = d <= _EXACT_STOP_LIMIT
        batch = int(np.clip(8 * d // q, 16, 128)) if exact_stop else 4
        sketch_flops = float(self.nnz) if self.kind == "count" else 2.0 * self.nnz * q
        step = sketch_flops + 2.0 * d * q * q + q**3 + 4.0 * d * q + 2.0 * self.nnz + 4.0 * d
        it, rn, since_sync = 0, float(np.linalg.norm(r)), 0
        while it < max_iter:
            if deadline is not None and time.perf_counter() > deadline:
                return InnerResult(z, it, flops, rn, False, timed_out=True)
            s = min(batch, max_iter - it)
            S = self._sketches(s, q)
            W = self.KT @ S
            W = W.toarray() if sp.issparse(W) else np.asarray(W)
            V = np.asarray(self.K @ W)
            gram = W.T @ W
            rhs = np.asarray(S.T @ r).ravel()
            blocks = gram.reshape(s, q, s, q)[np.arange(s), :, np.arange(s), :]
            P = np.linalg.pinv(blocks, rcond=1e-12, hermitian=True)
            y = np.zeros(s * q)
            for k in range(s):
                sl = slice(k * q, (k + 1) * q)
                y[sl] = P[k] @ (rhs[sl] - gram[sl, : k * q] @ y[: k * q])
            k = s
            if exact_stop:
                steps = (V * y).reshape(d, s, q).sum(axis=2)
                R = r[:, None] - np.cumsum(steps, axis=1)
                hit, _ = _first_hit(R, target)
                if hit >= 0:
                    k = hit + 1
                    r = R[:, hit].copy()
                else:
                    r = R[:, -1].copy()
            else:
                r = r - V @ y
            z = z - W[:, : k * q] @ y[: k * q]
            # What ran: k sequential steps plus the batch's (sq) x (sq) Gram matrix, the block
            # pseudo-inverses, the forward substitution and (exact stop) the d x s residual block.
            sq = s * q
            flops += step * k + 2.0 * d * sq * sq + 10.0 * s * q**3 + sq * sq + (4.0 * d * s if exact_stop else 0.0)
            it += k
            since_sync += k
            rn = float(np.linalg.norm(r))
            if rn <= target or since_sync >= 4 * d:
                since_sync = 0
                r, rn = self._confirm(z, b)
                flops += 2.0 * self.nnz
                if rn <= target:
                    return InnerResult(z, it, flops, rn, True)
        return InnerResult(z, it, flops, rn, rn <= target)


class Direct(Sketch):
    """Not a sketch: a sparse (or dense) LU solve, the exact-Newton reference.

    Useful where the sketches cannot reach the accuracy test in reasonable time (badly
    conditioned K, e.g. the PDE problem at N >= 16), and to separate inner from outer effects.
    Flops are estimated as 2/3 d^3 + 2 d^2 (dense) or from the LU fill (sparse).
    """

    name = "direct"

    def setup(self, K: Matrix) -> float:
        super().setup(K)
        self.lu = None
        self.error: str | None = None
        try:
            if sp.issparse(self.K):
                self.lu = spla.splu(self.K.tocsc())
                fill = float(self.lu.L.nnz + self.lu.U.nnz)
                self.solve_flops = 2.0 * fill
                return fill * fill / max(self.d, 1)
            self.lu = sla.lu_factor(self.K, check_finite=False)
            self.solve_flops = 2.0 * self.d**2
            return 2.0 / 3.0 * self.d**3
        except (RuntimeError, np.linalg.LinAlgError, ValueError) as exc:
            self.error = str(exc)
            return 0.0

    def _iterate(self, z, r, b, target, max_iter, deadline, flops) -> InnerResult:
        if self.lu is None:
            return InnerResult(z, 0, flops, float(np.linalg.norm(r)), False)
        if sp.issparse(self.K):
            dz = self.lu.solve(r)
        else:
            dz = sla.lu_solve(self.lu, r, check_finite=False)
        if not np.all(np.isfinite(dz)):
            return InnerResult(z, 1, flops, float(np.linalg.norm(r)), False)
        z = z - dz
        r, rn = self._confirm(z, b)
        flops += self.solve_flops + 4.0 * self.nnz
        # An exact solve is accepted even when rounding keeps it above a sub-epsilon target.
        return InnerResult(z, 1, flops, rn, True)


SKETCHES = _SKETCHES  # the names, from the light options module
