"""Exact Euclidean projection onto the simple set C of the outer iterate w = (x, y):

    C = { w : col_lower <= w <= col_upper,  row_lower <= A w <= row_upper }   (A: linear rows)

- no rows: a clip (boxes are separable);
- equality rows only, touching no bounded column: the affine projection
  w - A'(AA')^{-1}(A w - b), with AA' factored once (Cholesky) and applied on the device; the
  bounded columns it does not touch are clipped;
- anything else (inequality rows, or rows over bounded columns): the projection QP
  min 1/2 ||w - v||^2 over C. Each batch column first tries the active set of its previous
  projection: w = v - A_S' mu with (A_S A_S') mu = A_S v - b_S, accepted only when the KKT
  conditions hold (w in C, mu >= 0 on inequalities), so the answer is exact; otherwise HiGHS
  solves the QP and its active set is kept for the next call. Successive iterates of a converging
  method share their active set, so most projections are one small linear solve.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from scipy.linalg import cho_factor, cho_solve

from optdsl.errors import SolverError

MAX_DENSE_AFFINE = 4000  # equality rows factored densely; more go to the QP


class Projector:
    def __init__(self, A: sp.csr_matrix, row_lower: np.ndarray, row_upper: np.ndarray,
                 col_lower: np.ndarray, col_upper: np.ndarray, device: torch.device) -> None:
        self.device = device
        self.n = int(col_lower.shape[0])
        self.lo = torch.as_tensor(col_lower, dtype=torch.float64, device=device)[:, None]
        self.hi = torch.as_tensor(col_upper, dtype=torch.float64, device=device)[:, None]
        A = sp.csr_matrix(A)
        self.m = int(A.shape[0])
        self.kind = "box"
        if self.m == 0:
            return
        bounded = np.isfinite(col_lower) | np.isfinite(col_upper)
        touched = np.zeros(self.n, dtype=bool)
        touched[A.indices] = True
        equality = bool(np.all(row_lower == row_upper)) and bool(np.all(np.isfinite(row_lower)))
        if equality and not np.any(bounded & touched) and self.m <= MAX_DENSE_AFFINE:
            self.kind = "affine"
            Ad = A.toarray()
            K = Ad @ Ad.T
            try:
                L = np.linalg.cholesky(K)
            except np.linalg.LinAlgError:
                raise SolverError("the linear equality rows of the projected set are linearly dependent",
                                  hint="drop redundant equality constraints") from None
            self.A = torch.as_tensor(Ad, device=device)
            self.L = torch.as_tensor(L, device=device)
            self.b = torch.as_tensor(np.asarray(row_lower, dtype=np.float64), device=device)[:, None]
            return
        self.kind = "qp"
        self._setup_qp(A, row_lower, row_upper, col_lower, col_upper)

    def _setup_qp(self, A: sp.csr_matrix, rl: np.ndarray, ru: np.ndarray, cl: np.ndarray, cu: np.ndarray) -> None:
        import highspy
        from optdsl.solvers.highs.backend import new_highs

        h = new_highs()
        inf = highspy.kHighsInf
        n = self.n

        def fin(a: np.ndarray) -> np.ndarray:
            return np.where(np.isposinf(a), inf, np.where(np.isneginf(a), -inf, a)).astype(np.float64)

        h.addVars(n, fin(cl), fin(cu))
        csc = A.tocsr()
        h.addRows(self.m, fin(rl), fin(ru), csc.nnz, csc.indptr.astype(np.int32), csc.indices.astype(np.int32),
                  csc.data.astype(np.float64))
        h.passHessian(n, n, highspy.HessianFormat.kTriangular, np.arange(n + 1, dtype=np.int32),
                      np.arange(n, dtype=np.int32), np.ones(n))
        self._h = h
        self._idx = np.arange(n, dtype=np.int32)
        self._ok = highspy.HighsModelStatus.kOptimal
        # every constraint as one row of G w <= h (equalities flagged): rows, then bounds
        eq = (rl == ru) & np.isfinite(rl)
        up = ~eq & np.isfinite(ru)
        dn = ~eq & np.isfinite(rl)
        I = sp.identity(n, format="csr")
        bu, bl = np.flatnonzero(np.isfinite(cu)), np.flatnonzero(np.isfinite(cl))
        self.G = sp.vstack([A[eq], A[up], -A[dn], I[bu], -I[bl]], format="csr")
        self.hvec = np.concatenate([rl[eq], ru[up], -rl[dn], cu[bu], -cl[bl]])
        self.G_eq = np.zeros(self.G.shape[0], dtype=bool)
        self.G_eq[: int(eq.sum())] = True
        self._active: dict[int, np.ndarray] = {}
        self._fact: tuple | None = None
        self.stats = {"active_set_hits": 0, "qp_solves": 0}

    def __call__(self, V: torch.Tensor) -> torch.Tensor:
        if self.kind == "box":
            return torch.minimum(torch.maximum(V, self.lo), self.hi)
        if self.kind == "affine":
            r = self.A @ V - self.b
            s = torch.cholesky_solve(r, self.L)
            return torch.minimum(torch.maximum(V - self.A.T @ s, self.lo), self.hi)
        return self._qp(V)

    def _qp(self, V: torch.Tensor) -> torch.Tensor:
        Vn = V.detach().cpu().numpy()
        out = np.empty_like(Vn)
        for b in range(Vn.shape[1]):
            v = Vn[:, b]
            S = self._active.get(b)
            if S is None:
                S = self.G @ v > self.hvec  # start from the rows v violates
            w, S = self._active_set(v, S.copy())
            if w is None:
                w = self._highs(v)
                S = self.G @ w >= self.hvec - 1e-7 * (1 + np.abs(self.hvec))
                w2, S2 = self._active_set(v, S.copy())  # polish HiGHS's answer to an exact one
                if w2 is not None:
                    w, S = w2, S2
            else:
                self.stats["active_set_hits"] += 1
            self._active[b] = S
            out[:, b] = w
        return torch.as_tensor(out, device=self.device)

    def _active_set(self, v: np.ndarray, S: np.ndarray, rounds: int = 30) -> tuple[np.ndarray | None, np.ndarray]:
        """Primal-dual active-set iterations from the guess S (a mask of rows held at equality):
        solve the equality projection on S, drop rows with a negative multiplier, add the rows the
        point violates, until the KKT conditions hold (then the point is the exact projection)."""
        tol = 1e-9 * (1 + np.abs(self.hvec))
        S = S | self.G_eq
        for _ in range(rounds):
            idx = np.flatnonzero(S)
            if idx.size:
                GS, fact = self._factor(idx)
                if fact is None:
                    return None, S
                mu = cho_solve(fact, GS @ v - self.hvec[idx])
                if not np.all(np.isfinite(mu)):
                    return None, S
                w = v - GS.T @ mu
            else:
                mu = np.zeros(0)
                w = v.copy()
            neg = idx[(mu < -1e-12) & ~self.G_eq[idx]]
            viol = (self.G @ w > self.hvec + tol) & ~S
            if neg.size == 0 and not viol.any():
                return w, S
            S[neg] = False
            S |= viol
        return None, S

    def _factor(self, idx: np.ndarray) -> tuple[sp.csr_matrix, tuple | None]:
        """G_S and the Cholesky factor of G_S G_S' (the last one is kept: successive projections
        of a converging method reuse their active set)."""
        key = idx.tobytes()
        if self._fact is not None and self._fact[0] == key:
            return self._fact[1], self._fact[2]
        GS = self.G[idx]
        try:
            fact = cho_factor((GS @ GS.T).toarray())
        except np.linalg.LinAlgError:
            fact = None
        self._fact = (key, GS, fact)
        return GS, fact

    def _highs(self, v: np.ndarray) -> np.ndarray:
        h = self._h
        self.stats["qp_solves"] += 1
        h.changeColsCost(self.n, self._idx, -v)
        h.run()
        if h.getModelStatus() != self._ok:
            raise SolverError("the projection onto the leader's set C failed "
                              f"({h.modelStatusToString(h.getModelStatus())}); is C empty?")
        return np.asarray(h.getSolution().col_value)
