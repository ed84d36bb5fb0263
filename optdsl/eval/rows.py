"""A minimal CSR matrix for the numpy executor's per-node Jacobians.

scipy.sparse spends ~0.1-0.3 ms validating every matrix it builds, which dominates a DAG of many
small nodes (a 5,000-deep chain makes ~10^4 of them). `Rows` holds the three CSR arrays and does the
few operations forward mode needs with plain numpy; large operands still go through scipy's
compiled kernels (O(nnz) merges), where its fixed overhead no longer matters. Entries are never
pruned, so explicit zeros may be stored; duplicates are merged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

SCIPY_ABOVE = 4096  # stored entries from which a merge goes through scipy's compiled add/matmul


@dataclass(frozen=True)
class Rows:
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]

    @property
    def nnz(self) -> int:
        return len(self.data)

    @classmethod
    def of(cls, M: sp.spmatrix) -> Rows:
        M = sp.csr_matrix(M)
        return cls(M.indptr, M.indices, M.data, M.shape)  # int32 or int64 indices, no copy

    @classmethod
    def empty(cls, n: int, num_cols: int) -> Rows:
        z = np.zeros(0, dtype=np.int64)
        return cls(np.zeros(n + 1, dtype=np.int64), z, np.zeros(0), (n, num_cols))

    def scipy(self) -> sp.csr_matrix:
        """A scipy copy: the arrays here may be shared between Rows (and cached), callers may mutate."""
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape, copy=True)

    def row_of_entry(self) -> np.ndarray:
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def scale(self, d: np.ndarray) -> Rows:
        """diag(d) self, on the same pattern."""
        return Rows(self.indptr, self.indices, self.data * np.repeat(d, np.diff(self.indptr)), self.shape)

    def ones(self) -> Rows:
        return Rows(self.indptr, self.indices, np.ones(self.nnz), self.shape)

    def take(self, idx: np.ndarray) -> Rows:
        """Rows idx[0], idx[1], ... (a gather)."""
        counts = np.diff(self.indptr)[idx]
        item, offs = expand(counts)
        pos = self.indptr[idx][item] + offs
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return Rows(indptr, self.indices[pos], self.data[pos], (len(idx), self.shape[1]))

    def add(self, other: Rows) -> Rows:
        if self.indptr is other.indptr and self.indices is other.indices:
            return Rows(self.indptr, self.indices, self.data + other.data, self.shape)
        if self.nnz + other.nnz > SCIPY_ABOVE:
            return Rows.of(self.scipy() + other.scipy())
        return from_coo(np.concatenate([self.row_of_entry(), other.row_of_entry()]),
                        np.concatenate([self.indices, other.indices]),
                        np.concatenate([self.data, other.data]), self.shape)

    def aggregate(self, parent: np.ndarray, n_out: int, w: np.ndarray | None = None) -> Rows:
        """P self with P[parent[r], r] = w[r] (1 when w is None): the Jacobian of a reduction."""
        rows = self.row_of_entry()
        data = self.data if w is None else self.data * w[rows]
        if self.nnz > SCIPY_ABOVE:
            P = sp.csr_matrix((np.ones(len(parent)) if w is None else w, (parent, np.arange(len(parent)))),
                              shape=(n_out, self.shape[0]))
            return Rows.of(P @ self.scipy())
        return from_coo(parent[rows], self.indices, data, (n_out, self.shape[1]))


def from_coo(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]) -> Rows:
    """Rows from COO triplets, duplicates summed (argsort of row-major keys)."""
    if len(rows) == 0:
        return Rows.empty(shape[0], shape[1])
    key = rows.astype(np.int64) * max(shape[1], 1) + cols
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.empty(len(key), dtype=bool)
    first[0] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    uk = key[starts]
    u_rows = uk // max(shape[1], 1)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(u_rows, minlength=shape[0]))]).astype(np.int64)
    return Rows(indptr, uk % max(shape[1], 1), np.add.reduceat(vals[order], starts), shape)


def selection(cols: np.ndarray, num_cols: int) -> Rows:
    """One entry 1 per row r, at column cols[r]: the Jacobian of x[cols]."""
    n = len(cols)
    return Rows(np.arange(n + 1, dtype=np.int64), np.asarray(cols, dtype=np.int64), np.ones(n), (n, num_cols))


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For items with counts[k] slots: the item of each slot and the slot's offset within it."""
    item = np.repeat(np.arange(len(counts)), counts)
    offs = np.arange(len(item)) - np.repeat(np.cumsum(counts) - counts, counts)
    return item, offs


def row_outer(A: Rows, ra: np.ndarray, B: Rows, rb: np.ndarray, w: np.ndarray) -> tuple:
    """COO triplets of  sum_k w[k] A[ra[k], :]ᵀ B[rb[k], :]  (Aᵀ diag(w) B when ra = rb = all rows),
    by pairing the stored entries of each row pair: the work of a sparse matmul in a few numpy calls."""
    k1, off1 = expand(np.diff(A.indptr)[ra])
    pa = A.indptr[ra][k1] + off1
    e, off2 = expand(np.diff(B.indptr)[rb][k1])
    pb = B.indptr[rb][k1[e]] + off2
    pa = pa[e]
    return A.indices[pa], B.indices[pb], w[k1[e]] * A.data[pa] * B.data[pb]
