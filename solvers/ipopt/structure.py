"""Fixed sparsity structures for an NLPForm's Jacobian and Lagrangian Hessian, and the
callbacks that fill them.

Interior-point solvers take the structure once (row and column arrays) and then only the values
in that order. The NLP lowering returns scipy sparse matrices whose stored entries may differ
from point to point (a sum of sparse matrices drops entries that cancel), so the structure is the
union of the patterns at the start point and at a seeded random point near it, where a
structural entry is zero only by accident (a dense array stands for all its entries); each later
evaluation is scattered into that structure by one vectorized key lookup. An entry that falls
outside it would be silently lost, so it raises.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from optdsl.errors import SolverError
from optdsl.lower.forms import NLPForm


def _coo(M) -> sp.coo_matrix:
    if isinstance(M, np.ndarray):
        return sp.coo_matrix(M)
    return sp.coo_matrix(M)


def probe_points(form: NLPForm, count: int = 1, seed: int = 12345) -> list[np.ndarray]:
    """x0 and `count` random points around it, inside the bounds where they are finite."""
    rng = np.random.default_rng(seed)
    x0 = np.asarray(form.x0, dtype=float)
    lo, hi = np.asarray(form.col_lower, float), np.asarray(form.col_upper, float)
    pts = [x0.copy()]
    with np.errstate(invalid="ignore"):  # inf - inf where a bound is missing; np.where discards it
        pts += _random_points(x0, lo, hi, rng, count)
    return pts


def _random_points(x0: np.ndarray, lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator,
                   count: int) -> list[np.ndarray]:
    pts = []
    for _ in range(count):
        x = x0 + rng.uniform(0.1, 1.0, x0.shape) * rng.choice([-1.0, 1.0], x0.shape) * np.maximum(1.0, np.abs(x0))
        inside = np.where(np.isfinite(lo) & np.isfinite(hi), lo + rng.uniform(0.2, 0.8, x0.shape) * (hi - lo), x)
        x = np.where(np.isfinite(lo) & np.isfinite(hi), inside, x)
        x = np.where(np.isfinite(lo) & ~np.isfinite(hi), np.maximum(x, lo + rng.uniform(0.1, 1.0, x0.shape)), x)
        x = np.where(~np.isfinite(lo) & np.isfinite(hi), np.minimum(x, hi - rng.uniform(0.1, 1.0, x0.shape)), x)
        pts.append(x)
    return pts


class Pattern:
    """A fixed (row, col) structure of an `shape` matrix and the scatter of values into it."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], what: str) -> None:
        keys = np.unique(rows.astype(np.int64) * shape[1] + cols.astype(np.int64))
        self.keys = keys
        self.rows = (keys // shape[1]).astype(np.int32)
        self.cols = (keys % shape[1]).astype(np.int32)
        self.shape = shape
        self.what = what

    @classmethod
    def union(cls, mats: list[sp.coo_matrix], shape: tuple[int, int], what: str, lower: bool = False) -> Pattern:
        rows = np.concatenate([m.row for m in mats]) if mats else np.zeros(0, np.int64)
        cols = np.concatenate([m.col for m in mats]) if mats else np.zeros(0, np.int64)
        if lower:
            keep = rows >= cols
            rows, cols = rows[keep], cols[keep]
        return cls(rows, cols, shape, what)

    @classmethod
    def dense(cls, shape: tuple[int, int], what: str, lower: bool = False) -> Pattern:
        r, c = np.tril_indices(shape[0]) if lower else np.indices(shape).reshape(2, -1)
        return cls(r, c, shape, what)

    @property
    def nnz(self) -> int:
        return int(self.keys.size)

    def values(self, M, lower: bool = False) -> np.ndarray:
        if isinstance(M, np.ndarray):  # dense: read the structure's entries directly
            return np.asarray(M, dtype=float).reshape(self.shape)[self.rows, self.cols]
        if sp.issparse(M) and M.format == "csr" and lower is False:
            cached = getattr(self, "_csr", None)
            if cached is not None and np.array_equal(cached[0], M.indptr) and np.array_equal(cached[1], M.indices):
                out = np.zeros(self.nnz)
                out[cached[2]] = M.data
                return out
        C = _coo(M)
        r, c, v = C.row, C.col, C.data
        if lower:
            keep = r >= c
            r, c, v = r[keep], c[keep], v[keep]
        out = np.zeros(self.nnz)
        if v.size == 0:
            return out
        k = r.astype(np.int64) * self.shape[1] + c.astype(np.int64)
        pos = np.searchsorted(self.keys, k)
        pos_c = np.minimum(pos, max(self.nnz - 1, 0))
        hit = (pos < self.nnz) & (self.keys[pos_c] == k) if self.nnz else np.zeros(k.shape, bool)
        if not np.all(hit | (v == 0.0)):
            bad = int(np.flatnonzero(~hit & (v != 0.0))[0])
            raise SolverError(
                f"the {self.what} has a nonzero at ({int(r[bad])}, {int(c[bad])}) outside the structure found "
                "at the probe points",
                hint="use the trust_constr backend, or --option ipopt.hessian_approximation=limited-memory",
            )
        np.add.at(out, pos_c[hit], v[hit])
        if sp.issparse(M) and M.format == "csr" and not lower and np.all(hit) and M.has_canonical_format:
            self._csr = (M.indptr.copy(), M.indices.copy(), pos_c.copy())  # the next call with this pattern
        return out


class Callbacks:
    """f, grad, c, Jacobian values and Lagrangian Hessian values in fixed structures, as
    interior-point solvers ask for them: H = sigma * hess f + sum_i lam_i hess c_i (lower triangle)."""

    def __init__(self, form: NLPForm, hessian: bool = True) -> None:
        self.form = form
        n, m = form.n, form.m
        pts = probe_points(form)
        rng = np.random.default_rng(54321)
        self.jac_pattern = self._jacobian_pattern(pts)
        self.hess_pattern: Pattern | None = None
        self.exact_hessian = False
        if hessian:
            mats: list | None = []
            for x in pts:
                H = form.hess_lag(x, rng.uniform(0.5, 1.5, m) * rng.choice([-1.0, 1.0], m))
                if isinstance(H, spla.LinearOperator):
                    mats = None
                    break
                if isinstance(H, np.ndarray):
                    self.hess_pattern = Pattern.dense((n, n), "Lagrangian Hessian", lower=True)
                    break
                mats.append(_coo(H))
            if mats is not None:
                if self.hess_pattern is None:
                    self.hess_pattern = Pattern.union(mats, (n, n), "Lagrangian Hessian", lower=True)
                self.exact_hessian = True
        self.evals = {"f": 0, "grad": 0, "c": 0, "jac": 0, "hess": 0}
        self.iterations = 0
        self.history: dict[str, list[float]] = {"f": [], "violation": [], "dual_infeasibility": [], "mu": []}

    def intermediate(self, alg_mod, iter_count, obj_value, inf_pr, inf_du, mu, *rest) -> bool:
        """IPOPT's per-iteration callback: the iteration count and the traces."""
        self.iterations = int(iter_count)
        for k, v in zip(self.history, (obj_value, inf_pr, inf_du, mu), strict=True):
            self.history[k].append(float(v))
        return True

    def _jacobian_pattern(self, pts: list[np.ndarray]) -> Pattern:
        form, shape = self.form, (self.form.m, self.form.n)
        mats = []
        for x in pts if form.m else []:
            J = form.jac(x)
            if isinstance(J, np.ndarray):
                return Pattern.dense(shape, "constraint Jacobian")
            mats.append(_coo(J))
        return Pattern.union(mats, shape, "constraint Jacobian")

    # --- the interface cyipopt's Problem reads -----------------------------------------------
    def objective(self, x: np.ndarray) -> float:
        self.evals["f"] += 1
        return float(self.form.f(x))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        self.evals["grad"] += 1
        return np.asarray(self.form.grad(x), dtype=float).ravel()

    def constraints(self, x: np.ndarray) -> np.ndarray:
        self.evals["c"] += 1
        return np.asarray(self.form.c(x), dtype=float).ravel()

    def jacobianstructure(self) -> tuple[np.ndarray, np.ndarray]:
        return self.jac_pattern.rows, self.jac_pattern.cols

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        self.evals["jac"] += 1
        return self.jac_pattern.values(self.form.jac(x))

    def hessianstructure(self) -> tuple[np.ndarray, np.ndarray]:
        if self.hess_pattern is None:  # limited-memory: IPOPT asks but does not use it
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        return self.hess_pattern.rows, self.hess_pattern.cols

    def hessian(self, x: np.ndarray, lam: np.ndarray, obj_factor: float) -> np.ndarray:
        if self.hess_pattern is None:
            return np.zeros(0)
        self.evals["hess"] += 1
        return self.hess_pattern.values(lagrangian_hessian(self.form, x, lam, obj_factor), lower=True)


def lagrangian_hessian(form: NLPForm, x: np.ndarray, lam: np.ndarray, sigma: float):
    """sigma * hess f + sum lam_i hess c_i from the form's hess_lag (which has sigma = 1)."""
    lam = np.asarray(lam, dtype=float)
    if sigma == 1.0:
        return form.hess_lag(x, lam)
    if sigma != 0.0:
        return form.hess_lag(x, lam / sigma) * sigma
    return _sub(form.hess_lag(x, lam), form.hess_lag(x, np.zeros_like(lam)))


def constraint_hessian(form: NLPForm) -> Callable[[np.ndarray, np.ndarray], object]:
    """(x, v) -> sum v_i hess c_i (scipy's NonlinearConstraint hess)."""
    return lambda x, v: lagrangian_hessian(form, x, v, 0.0)


def _sub(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.asarray(a.toarray() if sp.issparse(a) else a) - np.asarray(b.toarray() if sp.issparse(b) else b)
    return a - b


def max_violation(form: NLPForm, x: np.ndarray) -> float:
    """The largest violation of a row or column bound at x (inf when c(x) is not finite)."""
    x = np.asarray(x, dtype=float)
    viol = [np.maximum(form.col_lower - x, 0.0), np.maximum(x - form.col_upper, 0.0)]
    if form.m:
        c = np.asarray(form.c(x), dtype=float)
        if not np.all(np.isfinite(c)):
            return float("inf")
        viol += [np.maximum(form.con_lower - c, 0.0), np.maximum(c - form.con_upper, 0.0)]
    return float(max((float(np.max(v)) for v in viol if v.size), default=0.0))
