"""A compressed-sparse-row matrix in plain numpy, for LPForm's constraint matrix (LPForm.csr).

Solving a small LP must not import scipy (importing scipy.sparse was about a third of the time of
`optdsl solve` on a small model), so the LP lowering builds its constraint matrix here with numpy only
(a stable sort by row, a check that columns are sorted and distinct within each row, and
bincount/cumsum for the row pointers), and the HiGHS hand-over reads the three arrays directly.

`CSRMatrix` keeps scipy's attribute names (data, indices, indptr, shape, nnz,
has_canonical_format) and offers what LP code commonly does with a matrix: `A @ x`,
`A.T @ y`, `toarray()`, `copy()`. Anything else goes to a scipy matrix that shares the arrays
(`tocsr()`, or any other scipy attribute through `__getattr__`); only then is scipy imported.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_I32 = np.iinfo(np.int32).max


def _index_dtype(bound: int) -> type:
    return np.int32 if bound <= _I32 else np.int64


class CSRMatrix:
    """An m x n matrix in canonical CSR form (sorted, distinct column indices in each row)."""

    __array_priority__ = 20  # numpy defers `y @ A` to us

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int],
                 canonical: bool = True) -> None:
        self.data = data
        self.indices = indices
        self.indptr = indptr
        self.shape = (int(shape[0]), int(shape[1]))
        self.has_canonical_format = canonical

    # --- construction ---------------------------------------------------------------------
    @classmethod
    def from_coo(cls, rows: Any, cols: Any, vals: Any, shape: tuple[int, int]) -> CSRMatrix:
        """Sum duplicate entries and drop zeros (NaN is kept), as scipy's sum_duplicates and
        eliminate_zeros would; O(nnz) when the entries come row by row with sorted columns."""
        m, n = int(shape[0]), int(shape[1])
        rows = np.asarray(rows).reshape(-1)
        cols = np.asarray(cols).reshape(-1)
        vals = np.asarray(vals, dtype=np.float64).reshape(-1)
        if rows.size and (rows.min() < 0 or rows.max() >= m or cols.min() < 0 or cols.max() >= n):
            raise ValueError(f"entry index out of range for a {m} x {n} matrix")
        if rows.size > 1 and np.any(rows[1:] < rows[:-1]):
            order = np.argsort(rows, kind="stable")
            rows, cols, vals = rows[order], cols[order], vals[order]
        if rows.size > 1:
            same_row = rows[1:] == rows[:-1]
            if np.any(same_row & (cols[1:] <= cols[:-1])):  # unsorted or repeated columns in a row
                key = rows.astype(np.int64) * n + cols.astype(np.int64)
                order = np.argsort(key, kind="stable")
                key, vals = key[order], vals[order]
                first = np.empty(key.size, dtype=bool)
                first[0] = True
                np.not_equal(key[1:], key[:-1], out=first[1:])
                if not first.all():
                    starts = np.flatnonzero(first)
                    vals = np.add.reduceat(vals, starts)
                    key = key[starts]
                rows, cols = np.divmod(key, n) if n else (key, key)
        keep = vals != 0
        if not keep.all():
            rows, cols, vals = rows[keep], cols[keep], vals[keep]
        indptr = np.zeros(m + 1, dtype=_index_dtype(vals.size))
        if m:
            np.cumsum(np.bincount(rows, minlength=m), out=indptr[1:])
        return cls(vals, cols.astype(_index_dtype(n), copy=False), indptr, (m, n))

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> CSRMatrix:
        return cls(np.zeros(0), np.zeros(0, np.int32), np.zeros(int(shape[0]) + 1, np.int32), shape)

    @classmethod
    def from_dense(cls, a: Any) -> CSRMatrix:
        a = np.atleast_2d(np.asarray(a, dtype=np.float64))
        r, c = np.nonzero(a)
        return cls.from_coo(r, c, a[r, c], a.shape)

    # --- what LP code does with a matrix --------------------------------------------------
    @property
    def nnz(self) -> int:
        return int(self.indptr[-1]) if len(self.indptr) else 0

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return 2

    def row_of_entries(self) -> np.ndarray:
        """The row of each stored entry."""
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def __matmul__(self, x: Any) -> Any:
        x = np.asarray(x)
        if x.ndim == 1:
            if x.shape[0] != self.shape[1]:
                raise ValueError(f"dimension mismatch: {self.shape} @ ({x.shape[0]},)")
            w = self.data * x[self.indices]
            return np.bincount(self.row_of_entries(), weights=w, minlength=self.shape[0])
        return self.tocsr() @ x

    def __rmatmul__(self, y: Any) -> Any:
        y = np.asarray(y)
        if y.ndim == 1:
            return self.rmatvec(y)
        return y @ self.tocsr()

    def rmatvec(self, y: Any) -> np.ndarray:
        """A' y."""
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (self.shape[0],):
            raise ValueError(f"dimension mismatch: ({y.shape[0]},) @ {self.shape}")
        w = self.data * y[self.row_of_entries()]
        return np.bincount(self.indices, weights=w, minlength=self.shape[1])

    @property
    def T(self) -> Any:
        return _Transposed(self)

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape)
        np.add.at(out, (self.row_of_entries(), self.indices), self.data)
        return out

    def copy(self) -> CSRMatrix:
        return CSRMatrix(self.data.copy(), self.indices.copy(), self.indptr.copy(), self.shape,
                         self.has_canonical_format)

    def tocsr(self) -> Any:
        """The same matrix as a scipy.sparse.csr_matrix sharing these arrays (imports scipy)."""
        import scipy.sparse as sp

        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.tocsr(), name)

    def __repr__(self) -> str:
        return f"<{self.shape[0]}x{self.shape[1]} CSRMatrix with {self.nnz} stored entries>"


class _Transposed:
    """A' for products (`A.T @ y`); anything else goes through scipy."""

    def __init__(self, a: CSRMatrix) -> None:
        self.a = a
        self.shape = (a.shape[1], a.shape[0])

    def __matmul__(self, y: Any) -> Any:
        y = np.asarray(y)
        return self.a.rmatvec(y) if y.ndim == 1 else self.a.tocsr().T @ y

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.a.tocsr().T, name)


def as_csr(A: Any) -> CSRMatrix:
    """`A` (a CSRMatrix, a scipy sparse matrix or a dense array) as a canonical CSRMatrix; scipy
    input is read without importing scipy here (its arrays are taken as they are)."""
    if isinstance(A, CSRMatrix):
        if A.has_canonical_format:
            return A
        return CSRMatrix.from_coo(A.row_of_entries(), A.indices, A.data, A.shape)
    if getattr(A, "format", None) == "csr" and getattr(A, "has_canonical_format", False):
        return CSRMatrix(A.data, A.indices, A.indptr, A.shape)
    if hasattr(A, "tocoo") and hasattr(A, "nnz"):  # scipy sparse, any format
        coo = A.tocoo()
        return CSRMatrix.from_coo(coo.row, coo.col, coo.data, A.shape)
    return CSRMatrix.from_dense(A)
