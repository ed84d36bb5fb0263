"""Scores Q(W) over a d x d weighted adjacency matrix, with the per-node fits TOPO needs.

A score splits into per-column pieces where it can: Q(W) = c + sum_j Q_j(W[:, j]), where column j
holds the weights of the edges into node j. Given a topological order, node j may only use its
predecessors, so the inner problem is one small regression per node. Kinds:

- QuadraticScore: Q_j(w) = -r_j'w + 1/2 w'G_j w + sum_i lam_ij |w_i| (least squares, ridge, lasso,
  weighted least squares). With a Hessian shared by all columns and r_j = A[:, j] (plain or ridge
  least squares) the subclass GramScore scores an order through one Cholesky factor.
- LogisticScore: Q_j(w) = sum_r omega_r softplus(z_r'w + z0_r) + b_j'w + 1/2 w'G_j w + l1 (binary data).
- SmoothScore: any smooth f(W) with its gradient, plus an l1 weight; not separable, so every fit
  is a joint fit of all free weights.

All fits honour a mask of allowed edges (mask[i, j] True: i -> j may be nonzero).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.linalg as sla

from optdsl.errors import SolverError


def prefix_mask(order: np.ndarray) -> np.ndarray:
    """mask[i, j] True when i precedes j in `order` (the edges a topological order allows)."""
    d = len(order)
    pos = np.empty(d, dtype=np.int64)
    pos[order] = np.arange(d)
    return pos[:, None] < pos[None, :]


class Score:
    """The interface TOPO and NOTEARS use. `separable` scores refit only the columns they must."""

    d: int
    const: float = 0.0
    separable: bool = True
    l1: np.ndarray | None = None
    allowed: np.ndarray | None = None  # bool (d, d): edges the model permits (None: all off the diagonal)

    def restrict(self, mask: np.ndarray) -> np.ndarray:
        return mask if self.allowed is None else mask & self.allowed

    def losses(self, W: np.ndarray) -> np.ndarray:  # per column (separable) or [total]
        raise NotImplementedError

    def value(self, W: np.ndarray) -> float:
        return float(self.const + self.losses(W).sum())

    def smooth_value_grad(self, W: np.ndarray) -> tuple[float, np.ndarray]:
        """The smooth part (all but the l1 term) and its gradient."""
        raise NotImplementedError

    def fit_columns(self, mask: np.ndarray, cols: np.ndarray, W0: np.ndarray) -> np.ndarray:
        """W0 with the columns `cols` refit on the parents allowed by `mask` (others kept)."""
        raise NotImplementedError

    def fit(self, mask: np.ndarray, W0: np.ndarray | None = None) -> np.ndarray:
        mask = self.restrict(mask)
        W0 = np.zeros((self.d, self.d)) if W0 is None else W0
        return self.fit_columns(mask, np.arange(self.d), W0 * mask)

    def l1_value(self, W: np.ndarray) -> np.ndarray:
        if self.l1 is None:
            return np.zeros(self.d)
        return (self.l1 * np.abs(W)).sum(axis=0)


# ---------------------------------------------------------------------------------- quadratic
class QuadraticScore(Score):
    """Column-separable quadratic plus l1: G is (d, d) shared or (d, d, d) with G[j] for column j;
    R[:, j] = r_j. The diagonal W[j, j] is never used (a DAG has no self-loops)."""

    def __init__(self, G: np.ndarray, R: np.ndarray, const: float = 0.0, l1: np.ndarray | None = None) -> None:
        self.d = R.shape[0]
        self.G, self.R, self.const = G, R, float(const)
        self.shared = G.ndim == 2
        self.l1 = None if l1 is None or not np.any(l1) else np.asarray(l1, dtype=float)

    def _G(self, j: int) -> np.ndarray:
        return self.G if self.shared else self.G[j]

    def losses(self, W: np.ndarray) -> np.ndarray:
        GW = self.G @ W if self.shared else np.einsum("jik,kj->ij", self.G, W)
        q = -(self.R * W).sum(axis=0) + 0.5 * (W * GW).sum(axis=0)
        return q + self.l1_value(W)

    def smooth_value_grad(self, W: np.ndarray) -> tuple[float, np.ndarray]:
        GW = self.G @ W if self.shared else np.einsum("jik,kj->ij", self.G, W)
        val = self.const - float((self.R * W).sum()) + 0.5 * float((W * GW).sum())
        return val, GW - self.R

    def fit_columns(self, mask: np.ndarray, cols: np.ndarray, W0: np.ndarray) -> np.ndarray:
        mask = self.restrict(mask)
        W = W0.copy()
        W[:, cols] = 0.0
        if self.l1 is not None:
            W[:, cols] = lasso_columns(self.G if self.shared else self.G[cols], self.R[:, cols], self.l1[:, cols],
                                       mask[:, cols], W0[:, cols] * mask[:, cols])
            return W
        for j in cols:
            S = np.flatnonzero(mask[:, j])
            if len(S):
                G = self._G(j)
                try:
                    W[S, j] = sla.solve(G[np.ix_(S, S)], self.R[S, j], assume_a="pos")
                except (np.linalg.LinAlgError, sla.LinAlgError) as err:
                    raise SolverError("the score's Hessian is singular on a parent set",
                                      hint="add an l2 penalty, or use more samples than nodes") from err
        return W


def lasso_columns(G: np.ndarray, R: np.ndarray, lam: np.ndarray, mask: np.ndarray, W0: np.ndarray,
                  tol: float = 1e-9, max_sweeps: int = 1000) -> np.ndarray:
    """min over each column w_j (support in mask[:, j]) of -r_j'w + 1/2 w'G_j w + sum lam_ij |w_i|,
    by cyclic coordinate descent, one coordinate of every column at a time (vectorized over columns).
    G is (d, d) shared or (m, d, d), one per column."""
    W = W0.copy()
    shared = G.ndim == 2
    diag = np.diag(G) if shared else np.einsum("jii->ji", G).T  # (d,) or (d, m)
    rows = np.flatnonzero(mask.any(axis=1))
    if len(rows) == 0:
        return W
    for _ in range(max_sweeps):
        biggest = 0.0
        for i in rows:
            c = mask[i]
            if shared:
                g = R[i, c] - G[i] @ W[:, c] + diag[i] * W[i, c]
                dii = diag[i]
            else:
                g = R[i, c] - np.einsum("jk,kj->j", G[c, i, :], W[:, c]) + diag[i, c] * W[i, c]
                dii = diag[i, c]
            new = np.sign(g) * np.maximum(np.abs(g) - lam[i, c], 0.0) / dii
            change = np.abs(new - W[i, c])
            if change.size:
                biggest = max(biggest, float(change.max()))
            W[i, c] = new
        if biggest <= tol * max(float(np.abs(W).max()), 1e-3):  # a change relative to the weights' size
            break
    return W


class GramScore(QuadraticScore):
    """Least squares (optionally ridge) with one shared matrix A: Q_j(w) = -A[S, j]'w + 1/2 w'A w,
    the diagonal of A being the predecessors' one. For an order pi with L = chol(A[pi][:, pi]),
    the fitted score is const - tr(A)/2 + 1/2 sum_p L_pp^2: an order is scored by one Cholesky
    factor, and a swap of the nodes at positions a < b changes only the block L[a:b+1, a:b+1]."""

    def __init__(self, A: np.ndarray, const: float = 0.0) -> None:
        R = A.copy()
        np.fill_diagonal(R, 0.0)
        super().__init__(A, R, const)
        self.A = A
        self.offset = self.const - 0.5 * float(np.trace(A))

    def factor(self, order: np.ndarray) -> np.ndarray:
        try:
            return np.linalg.cholesky(self.A[np.ix_(order, order)])
        except np.linalg.LinAlgError as err:
            raise SolverError("the least-squares Gram matrix is not positive definite",
                              hint="use more samples than nodes, drop constant columns, or add an l2 penalty") from err

    def order_fit(self, order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(W, per-position losses, L) of the best W for `order`: one factor, one triangular solve."""
        L = self.factor(order)
        M = np.tril(L, -1)
        Wp = sla.solve_triangular(L.T, M.T, lower=False)  # column p: the weights of node order[p]
        W = np.zeros((self.d, self.d))
        W[np.ix_(order, order)] = np.triu(Wp, 1)
        return W, 0.5 * np.diag(L) ** 2, L

    def swap_deltas(self, L: np.ndarray, lo: np.ndarray, hi: np.ndarray, chunk: int = 4_000_000) -> np.ndarray:
        """Score change of exchanging the nodes at positions lo[k] < hi[k], for all k at once:
        the Schur complement of the interval is L_blk L_blk' (no data pass), and its Cholesky in
        the swapped order gives the new diagonal. Candidates of one interval length share a
        batched factorization."""
        out = np.empty(len(lo))
        m_all = hi - lo + 1
        old_d2 = np.concatenate([[0.0], np.cumsum(np.diag(L) ** 2)])
        for m in np.unique(m_all):
            ks = np.flatnonzero(m_all == m)
            ar = np.arange(m)
            perm = ar.copy()
            perm[0], perm[-1] = m - 1, 0
            step = max(1, chunk // (m * m))
            for s in range(0, len(ks), step):
                k = ks[s:s + step]
                a = lo[k]
                rows = a[:, None, None] + ar[None, :, None]
                cols = a[:, None, None] + ar[None, None, :]
                blk = L[rows, cols]
                S = blk @ np.swapaxes(blk, 1, 2)
                S = S[:, perm][:, :, perm]
                Ln = np.linalg.cholesky(S)
                new = (np.diagonal(Ln, axis1=1, axis2=2) ** 2).sum(axis=1)
                out[k] = 0.5 * (new - (old_d2[a + m] - old_d2[a]))
        return out


# ---------------------------------------------------------------------------------- logistic
def _softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


class LogisticScore(Score):
    """Q_j(w) = sum_r omega_r softplus(Z_j[r] w + z0_j[r]) + b_j'w + 1/2 w'G_j w + lam_j'|w|, with a
    design Z_j (n_j x d) per column (the same matrix for every column in the usual model)."""

    def __init__(self, Z: list[np.ndarray], z0: list[np.ndarray], omega: list[np.ndarray], B: np.ndarray,
                 G: np.ndarray | None, const: float = 0.0, l1: np.ndarray | None = None) -> None:
        self.d = B.shape[0]
        self.Z, self.z0, self.omega, self.B, self.G = Z, z0, omega, B, G
        self.const = float(const)
        self.l1 = None if l1 is None or not np.any(l1) else np.asarray(l1, dtype=float)

    def _col(self, j: int, w: np.ndarray) -> tuple[float, np.ndarray]:
        z = self.Z[j] @ w + self.z0[j]
        val = float(self.omega[j] @ _softplus(z)) + float(self.B[:, j] @ w)
        g = self.Z[j].T @ (self.omega[j] * _sigmoid(z)) + self.B[:, j]
        if self.G is not None:
            Gj = self.G if self.G.ndim == 2 else self.G[j]
            Gw = Gj @ w
            val += 0.5 * float(w @ Gw)
            g = g + Gw
        return val, g

    def losses(self, W: np.ndarray) -> np.ndarray:
        return np.array([self._col(j, W[:, j])[0] for j in range(self.d)]) + self.l1_value(W)

    def smooth_value_grad(self, W: np.ndarray) -> tuple[float, np.ndarray]:
        G = np.zeros_like(W)
        val = self.const
        for j in range(self.d):
            v, G[:, j] = self._col(j, W[:, j])
            val += v
        return val, G

    def fit_columns(self, mask: np.ndarray, cols: np.ndarray, W0: np.ndarray) -> np.ndarray:
        mask = self.restrict(mask)
        W = W0.copy()
        for j in cols:
            S = np.flatnonzero(mask[:, j])
            W[:, j] = 0.0
            if len(S) == 0:
                continue
            lam = self.l1[S, j] if self.l1 is not None else np.zeros(len(S))

            def fg(w_s: np.ndarray, j: int = j, S: np.ndarray = S) -> tuple[float, np.ndarray]:
                w = np.zeros(self.d)
                w[S] = w_s
                v, g = self._col(j, w)
                return v, g[S]

            W[S, j] = _l1_lbfgs(fg, W0[S, j], lam)
        return W


def _l1_lbfgs(fg: Callable[[np.ndarray], tuple[float, np.ndarray]], w0: np.ndarray, lam: np.ndarray,
              tol: float = 1e-10, maxiter: int = 2000) -> np.ndarray:
    """min f(w) + lam'|w| through w = u - v with u, v >= 0 (L-BFGS-B); lam = 0 is plain smooth."""
    from scipy.optimize import minimize

    k = len(w0)
    if not np.any(lam):
        res = minimize(fg, w0, jac=True, method="L-BFGS-B", options={"ftol": tol, "gtol": 1e-9, "maxiter": maxiter})
        return res.x

    def split(uv: np.ndarray) -> tuple[float, np.ndarray]:
        w = uv[:k] - uv[k:]
        v, g = fg(w)
        return v + float(lam @ (uv[:k] + uv[k:])), np.concatenate([g + lam, -g + lam])

    uv0 = np.concatenate([np.maximum(w0, 0), np.maximum(-w0, 0)])
    res = minimize(split, uv0, jac=True, method="L-BFGS-B", bounds=[(0, None)] * (2 * k),
                   options={"ftol": tol, "gtol": 1e-9, "maxiter": maxiter})
    return res.x[:k] - res.x[k:]


# ---------------------------------------------------------------------------------- generic smooth
class SmoothScore(Score):
    """f(W) smooth (with gradient), plus l1: fits are joint L-BFGS-B fits over all allowed weights."""

    separable = False

    def __init__(self, d: int, fg: Callable[[np.ndarray], tuple[float, np.ndarray]], l1: np.ndarray | None = None,
                 const: float = 0.0) -> None:
        self.d, self.fg, self.const = d, fg, float(const)
        self.l1 = None if l1 is None or not np.any(l1) else np.asarray(l1, dtype=float)

    def losses(self, W: np.ndarray) -> np.ndarray:
        return np.array([self.fg(W)[0] + float(self.l1_value(W).sum())])

    def smooth_value_grad(self, W: np.ndarray) -> tuple[float, np.ndarray]:
        v, g = self.fg(W)
        return self.const + v, g

    def fit_columns(self, mask: np.ndarray, cols: np.ndarray, W0: np.ndarray) -> np.ndarray:
        mask = self.restrict(mask)
        free = np.flatnonzero(mask.ravel())
        base = W0 * mask
        lam = self.l1.ravel()[free] if self.l1 is not None else np.zeros(len(free))

        def fg(w: np.ndarray) -> tuple[float, np.ndarray]:
            W = base.ravel().copy()
            W[free] = w
            v, g = self.fg(W.reshape(self.d, self.d))
            return v, g.ravel()[free]

        out = np.zeros(self.d * self.d)
        out[free] = _l1_lbfgs(fg, base.ravel()[free], lam)
        return out.reshape(self.d, self.d)


def ls_gram(X: np.ndarray, lambda2: float = 0.0) -> GramScore:
    """The least-squares score 1/(2n)||X - XW||_F^2 (+ lambda2 ||W||_F^2) of data X as a GramScore."""
    n = X.shape[0]
    C = X.T @ X / n
    A = C + 2.0 * lambda2 * np.eye(X.shape[1])
    return GramScore(A, const=0.5 * float(np.trace(C)))
