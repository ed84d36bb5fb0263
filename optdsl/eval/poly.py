"""Closed-form derivatives of the polynomial (constant + linear + quadratic) parts of expressions.

Row r is  const[r] + sum_k vals[k] x[cols[k]] + sum_k q_vals[k] x[q_i[k]] x[q_j[k]]  over the
terms of row r, so its gradient has entries q_vals x[q_j] at q_i and q_vals x[q_i] at q_j, and
its Hessian Q_r has q_vals at (q_i, q_j) and at (q_j, q_i) (2 q_vals on the diagonal for x_i^2).
The Lagrangian Hessian sum_r w_r Q_r is one sparse assembly of q_vals * w[q_rows].
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from optdsl.eval.rows import Rows
from optdsl.ir.expr import Expr

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0)


class Assembler:
    """Builds CSR matrices with a fixed pattern from COO values in O(nnz): the sort and the
    duplicate merge are done once here, so each call is one bincount."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> None:
        self.shape = shape
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        key = rows * max(shape[1], 1) + cols
        uniq, self._inverse = np.unique(key, return_inverse=True)
        self._nnz = len(uniq)
        u_rows = uniq // max(shape[1], 1)
        self._indices = (uniq % max(shape[1], 1)).astype(np.int64)
        counts = np.bincount(u_rows, minlength=shape[0])
        self._indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def build(self, vals: np.ndarray) -> sp.csr_matrix:
        return self.build_rows(vals).scipy()

    def build_rows(self, vals: np.ndarray) -> Rows:
        data = np.bincount(self._inverse, weights=vals, minlength=self._nnz)
        return Rows(self._indptr, self._indices, data, self.shape)


class PolyPart:
    """The polynomial parts of several expressions stacked row-wise (objective: one row;
    constraints: every block at its row offset)."""

    def __init__(self, exprs: list[Expr], num_vars: int) -> None:
        self.num_vars = num_vars
        sizes = [e.n for e in exprs]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.m = int(offsets[-1])
        self.const = np.concatenate([e.const for e in exprs]).astype(np.float64) if exprs else _EMPTY_F
        self.rows = _cat([e.rows + off for e, off in zip(exprs, offsets[:-1], strict=True)])
        self.cols = _cat([e.cols for e in exprs])
        self.vals = np.concatenate([e.vals for e in exprs]).astype(np.float64) if exprs else _EMPTY_F
        quad = [(e, off) for e, off in zip(exprs, offsets[:-1], strict=True) if e.has_quad]
        self.has_quad = bool(quad)
        self.q_rows = _cat([e.q_rows + off for e, off in quad])
        self.q_i = _cat([e.q_i for e, _ in quad])
        self.q_j = _cat([e.q_j for e, _ in quad])
        self.q_vals = np.concatenate([e.q_vals for e, _ in quad]).astype(np.float64) if quad else _EMPTY_F
        # term k on row k (Expr.variables, elementwise products): values need no bincount
        self._lin_diag = np.array_equal(self.rows, np.arange(self.m))
        self._quad_diag = np.array_equal(self.q_rows, np.arange(self.m))
        self._jac_asm: Assembler | None = None  # built on first use: value() never needs them
        self._hess_asm: Assembler | None = None
        self._const_jac: Rows | None = None  # the Jacobian when there is no quadratic part

    @classmethod
    def of(cls, e: Expr, num_vars: int) -> PolyPart:
        """The polynomial part of one expression (its nl part, if any, is ignored)."""
        return cls([e], num_vars)

    def value(self, x: np.ndarray) -> np.ndarray:
        out = self.const.copy()
        if self._lin_diag:
            out += self.vals * x[self.cols]
        elif len(self.rows):
            out += np.bincount(self.rows, weights=self.vals * x[self.cols], minlength=self.m)
        if self.has_quad:
            q = self.q_vals * x[self.q_i] * x[self.q_j]
            out += q if self._quad_diag else np.bincount(self.q_rows, weights=q, minlength=self.m)
        return out

    def jac(self, x: np.ndarray) -> sp.csr_matrix:
        """The (m x n) Jacobian; its pattern is fixed (quadratic entries may be explicit zeros)."""
        return self.jac_rows(x).scipy()

    def jac_rows(self, x: np.ndarray) -> Rows:
        if self._const_jac is not None:
            return self._const_jac
        if self._jac_asm is None:
            # one pattern for linear + both quadratic gradient entries: jac() is a single bincount
            self._jac_asm = Assembler(np.concatenate([self.rows, self.q_rows, self.q_rows]),
                                      np.concatenate([self.cols, self.q_i, self.q_j]), (self.m, self.num_vars))
        qv = self.q_vals
        J = self._jac_asm.build_rows(np.concatenate([self.vals, qv * x[self.q_j], qv * x[self.q_i]]))
        if not self.has_quad:
            self._const_jac = J
        return J

    def grad(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Gradient of w' p(x), without forming the Jacobian."""
        nv = self.num_vars
        g = np.bincount(self.cols, weights=self.vals * w[self.rows], minlength=nv).astype(np.float64)
        if self.has_quad:
            wq = self.q_vals * w[self.q_rows]
            g += np.bincount(self.q_i, weights=wq * x[self.q_j], minlength=nv)
            g += np.bincount(self.q_j, weights=wq * x[self.q_i], minlength=nv)
        return g

    def hess(self, w: np.ndarray) -> sp.csr_matrix:
        """sum_r w_r Q_r (symmetric, both triangles stored); independent of x."""
        if not self.has_quad:
            return sp.csr_matrix((self.num_vars, self.num_vars))
        if self._hess_asm is None:
            self._hess_asm = Assembler(np.concatenate([self.q_i, self.q_j]),
                                       np.concatenate([self.q_j, self.q_i]), (self.num_vars,) * 2)
        wq = self.q_vals * w[self.q_rows]
        return self._hess_asm.build(np.concatenate([wq, wq]))

    def hvp(self, w: np.ndarray, v: np.ndarray) -> np.ndarray:
        nv = self.num_vars
        if not self.has_quad:
            return np.zeros(nv)
        wq = self.q_vals * w[self.q_rows]
        return (np.bincount(self.q_i, weights=wq * v[self.q_j], minlength=nv)
                + np.bincount(self.q_j, weights=wq * v[self.q_i], minlength=nv))


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.int64) if parts else _EMPTY_I
