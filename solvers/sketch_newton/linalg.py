"""Matrix quantities the outer loop needs: norms, lambda_min(G G^T), and the null-space
test for the Hessian modification, exact for small systems and cheap safe estimates for
large sparse ones.

Norms are Frobenius by default, as in the reference code (Julia's `norm(Matrix)`); they are
exact and O(nnz) at every size. The spectral (operator 2-) norm, the norm the paper's
constants are stated in, is an option: exact for small systems (n + m <= dense_limit), and
for large sparse ones a guaranteed upper bound (Hoelder's sqrt(||A||_1 ||A||_inf) or
Frobenius, whichever is smaller). lambda_min(G G^T) is exact for small systems; for large
ones it comes from Lanczos on (G G^T)^{-1} (one sparse Cholesky-ordered LU of G G^T),
deflated by 0.1 %.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

Matrix = np.ndarray | sp.spmatrix

_SAFETY = 1.001  # Lanczos converges to extreme eigenvalues from inside: deflate its estimate


def _fro(A: Matrix) -> float:
    return float(spla.norm(A)) if sp.issparse(A) else float(np.linalg.norm(A))


def _holder(A: Matrix) -> float:
    """sqrt(||A||_1 ||A||_inf) >= ||A||_2, in O(nnz)."""
    absA = abs(A)
    r = float(np.max(absA.sum(axis=1))) if A.shape[0] else 0.0
    c = float(np.max(absA.sum(axis=0))) if A.shape[1] else 0.0
    return float(np.sqrt(r * c))


def fro_norm(A: Matrix) -> tuple[float, float]:
    """||A||_F and its flops (2 nnz)."""
    return _fro(A), 2.0 * (A.nnz if sp.issparse(A) else A.size)


def fro_norm_shifted(A: Matrix, shift: float, norm_a: float) -> float:
    """||A + shift I||_F of a square A from ||A||_F and trace(A), without forming the sum."""
    tr = float(A.diagonal().sum())
    return float(np.sqrt(max(norm_a**2 + 2.0 * shift * tr + shift**2 * A.shape[0], 0.0)))


def sym_norm(A: Matrix, dense: bool) -> tuple[float, float]:
    """||A||_2 of a symmetric matrix (an upper bound for large sparse A), and the flops spent.

    Large sparse: min(sqrt(||A||_1 ||A||_inf), ||A||_F), both guaranteed upper bounds and
    O(nnz); for sparse matrices with a few entries per row the first is nearly tight (it is
    exact for diagonal matrices and within a few percent for grid Laplacians), while Lanczos
    to a safe accuracy costs hundreds of mat-vecs on clustered spectra.
    """
    n = A.shape[0]
    if n == 0:
        return 0.0, 0.0
    if dense:
        Ad = A.toarray() if sp.issparse(A) else A
        return float(np.max(np.abs(sla.eigvalsh(Ad, check_finite=False)))), 4.0 / 3.0 * n**3
    return min(_holder(A), _fro(A)), 4.0 * A.nnz


def rect_norm(G: Matrix, dense: bool) -> tuple[float, float]:
    """||G||_2 of a rectangular matrix (an upper bound for large sparse G), and the flops."""
    m, n = G.shape
    if m == 0 or n == 0:
        return 0.0, 0.0
    if dense:
        Gd = G.toarray() if sp.issparse(G) else G
        return float(np.linalg.norm(Gd, 2)), 4.0 * m * n * min(m, n)
    return min(_holder(G), _fro(G)), 4.0 * G.nnz


def lambda_min_ggt(G: Matrix, dense: bool) -> tuple[float, float]:
    """lambda_min(G G^T) (0 when rank deficient), and the flops spent.

    Large sparse G: shift-invert Lanczos at sigma = 0 on G G^T (one sparse LU of G G^T); a
    failed factorization means G G^T is singular, which we report as 0.
    """
    m, n = G.shape
    if m == 0:
        return np.inf, 0.0
    if m > n:
        return 0.0, 0.0
    if dense:
        Gd = G.toarray() if sp.issparse(G) else G
        lam = sla.eigvalsh(Gd @ Gd.T, check_finite=False, subset_by_index=[0, 0])[0]
        return float(lam), 2.0 * m * m * n + 4.0 / 3.0 * m**3
    A = (G @ G.T).tocsc()
    try:
        # G G^T is symmetric positive semidefinite: a symmetric ordering halves the fill.
        lu = spla.splu(
            A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.1, options={"SymmetricMode": True}
        )
        op = spla.LinearOperator((m, m), matvec=lu.solve, dtype=float)
        # eigsh on the inverse: its largest eigenvalue is 1 / lambda_min(A).
        v = spla.eigsh(op, k=1, which="LM", tol=1e-4, return_eigenvectors=False, maxiter=10 * m)
        fill = float(lu.L.nnz + lu.U.nnz)
        lam = 1.0 / float(v[0]) if v[0] > 0 else 0.0
        return lam / _SAFETY, fill * fill / m + 40 * 2 * fill
    except RuntimeError:  # exactly singular factor
        return 0.0, float(A.nnz)
    except (spla.ArpackNoConvergence, spla.ArpackError):
        # A safe lower bound from Gershgorin is all we can give without convergence.
        d = A.diagonal()
        off = np.asarray(abs(A).sum(axis=1)).ravel() - np.abs(d)
        return max(float(np.min(d - off)), 0.0), float(A.nnz)


def gershgorin_min(H: Matrix) -> float:
    """A lower bound on lambda_min of a symmetric matrix."""
    if sp.issparse(H):
        d = H.diagonal()
        off = np.asarray(abs(H).sum(axis=1)).ravel() - np.abs(d)
    else:
        d = np.diag(H)
        off = np.abs(H).sum(axis=1) - np.abs(d)
    return float(np.min(d - off)) if d.size else np.inf


def reduced_hessian_min(H: Matrix, G: Matrix, dense: bool) -> tuple[float, float]:
    """lambda_min(Z^T H Z) with Z an orthonormal basis of null(G), and the flops spent.

    Small systems: Z from a complete QR of G^T (the last n - m columns of Q). Large sparse
    systems: an explicit null-space basis is out of reach, so we return a lower bound:
    Gershgorin's bound on lambda_min(H) if it is positive (H positive definite implies the
    reduced Hessian is), else a Lanczos estimate of lambda_min(H) itself. Using the full-space
    lambda_min is conservative: it may modify the Hessian when only the reduced one is
    positive definite, which keeps the merit descent but can cost superlinear convergence.
    """
    m, n = G.shape
    if dense:
        Hd = H.toarray() if sp.issparse(H) else H
        Gd = G.toarray() if sp.issparse(G) else G
        if m == 0:
            return float(sla.eigvalsh(Hd, check_finite=False, subset_by_index=[0, 0])[0]), 4.0 / 3.0 * n**3
        Q, _ = np.linalg.qr(Gd.T, mode="complete")
        Z = Q[:, m:]
        R = Z.T @ Hd @ Z
        k = n - m
        lam = float(sla.eigvalsh(R, check_finite=False, subset_by_index=[0, 0])[0])
        return lam, 4.0 * n * n * m + 2.0 * n * n * k + 2.0 * n * k * k + 4.0 / 3.0 * k**3
    g = gershgorin_min(H)
    if g > 0:
        return g, 2.0 * H.nnz
    try:
        v = spla.eigsh(H, k=1, which="SA", tol=1e-4, return_eigenvectors=False, maxiter=20 * n)
        return float(v[0]), 2.0 * H.nnz * 100
    except (spla.ArpackNoConvergence, spla.ArpackError, ValueError):
        return g, 2.0 * H.nnz
