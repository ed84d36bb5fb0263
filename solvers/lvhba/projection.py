"""Exact Euclidean projection onto the simple set C of the outer iterate w = (x, y):

    C = { w : col_lower <= w <= col_upper,  row_lower <= A w <= row_upper }   (A: linear rows)

- no rows: a clip (boxes are separable);
- equality rows only, touching no bounded column: the affine projection
  w - A'(AA')^{-1}(A w - b), with AA' factored once (Cholesky) and applied on the device; the
  bounded columns it does not touch are clipped;
- anything else (inequality rows, or rows over bounded columns): the projection QP
  min 1/2 ||w - v||^2 over C, solved by HiGHS (exact to its tolerance) for each batch column.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

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
        h.setOptionValue("threads", 1)
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
        h = self._h
        for b in range(Vn.shape[1]):
            h.changeColsCost(self.n, self._idx, -Vn[:, b])
            h.run()
            if h.getModelStatus() != self._ok:
                raise SolverError("the projection onto the leader's set C failed "
                                  f"({h.modelStatusToString(h.getModelStatus())}); is C empty?")
            out[:, b] = np.asarray(h.getSolution().col_value)
        return torch.as_tensor(out, device=self.device)
