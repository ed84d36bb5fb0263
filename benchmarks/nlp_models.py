"""Reference builders (numpy, vectorized) for the AdaSketch-Newton paper's two applications,
written directly as NLPForms so that the .opt versions of these models can be checked against
an independent implementation.

(a) Constrained logistic regression (paper's section on LIBSVM data):
        min_w (1/N) sum_i log(1 + exp(-y_i x_i^T w))   s.t.  A w = b,  ||w||^2 = 1,
    A in R^{k x n}, b in R^k i.i.d. N(0, 1) from a seeded generator (the paper: k = 10), start
    w0 = 1, lam0 = 1. m = k + 1. The problem needs n >= k + 2 and a random draw whose minimum-
    norm solution of A w = b lies inside the unit ball; otherwise it is infeasible and the
    builder says so (the three LIBSVM files in the shared corpora have 2 to 10 features, so use
    a smaller k there, e.g. k = 5 on breast-cancer_scale).
(b) PDE-constrained control on an N x N interior grid of [-1, 1]^2 (h = 2/(N+1), zero boundary):
        min ||w - w*||^2 / 2 + 0.05 ||u||^2   s.t.  Lap_h w + u = 0,
    Lap_h the 5-point Laplacian (divided by h^2), x = (w, u) with w, u flattened row-major
    over (i, j), n = 2 N^2, m = N^2, and
        w*_ij = sin(4 + 0.1/sqrt(15) (i - (N+1)/2)) + cos(3 + 0.1/sqrt(15) (j - (N+1)/2)).
    Start x0 = 1, lam0 = 1. `pde_reference` solves its KKT system directly (a convex QP).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.special import expit

from optdsl.lower.forms import Block, Layout, NLPForm


# --- data -------------------------------------------------------------------------------------
def read_libsvm(path: str | Path, n_features: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A LIBSVM-format file ("label idx:val idx:val ...", 1-based indices) as a dense (N, p)
    matrix and labels mapped to -1/+1 (the smaller of two label values becomes -1)."""
    labels: list[float] = []
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split("#", 1)[0].split()
            if not parts:
                continue
            labels.append(float(parts[0]))
            if len(parts) > 1:
                pairs = np.array([p.split(":", 1) for p in parts[1:]], dtype=float)
                cols.append(pairs[:, 0].astype(int) - 1)
                vals.append(pairs[:, 1])
                rows.append(np.full(len(pairs), len(labels) - 1))
    if not labels:
        raise ValueError(f"{path}: no data lines")
    r = np.concatenate(rows) if rows else np.zeros(0, int)
    c = np.concatenate(cols) if cols else np.zeros(0, int)
    v = np.concatenate(vals) if vals else np.zeros(0)
    if c.size and c.min() < 0:
        raise ValueError(f"{path}: feature indices must start at 1")
    p = int(c.max()) + 1 if c.size else 0
    p = max(p, n_features or 0)
    X = np.zeros((len(labels), p))
    X[r, c] = v
    y = np.asarray(labels)
    classes = np.unique(y)
    if classes.size != 2:
        raise ValueError(f"{path}: expected two classes, found {classes.size}")
    return X, np.where(y == classes[0], -1.0, 1.0)


def breast_cancer_data() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's breast cancer data (569 x 30), features standardized, labels -1/+1."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    X = np.asarray(data.data, dtype=float)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, np.where(data.target == 0, -1.0, 1.0)


# --- (a) constrained logistic regression ------------------------------------------------------
def logistic_problem(
    X: np.ndarray, y: np.ndarray, n_eq: int = 10, seed: int = 0, name: str = "logreg"
) -> NLPForm:
    """The constrained logistic regression NLPForm for data (X, y)."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    N, n = X.shape
    if n < n_eq + 2:
        raise ValueError(
            f"{name}: {n} features cannot satisfy {n_eq} random linear equalities plus ||w|| = 1 "
            f"with linearly independent gradients; use n_eq <= {n - 2}"
        )
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n_eq, n))
    b = rng.standard_normal(n_eq)
    w_min = np.linalg.lstsq(A, b, rcond=None)[0]
    if float(w_min @ w_min) >= 1.0:
        raise ValueError(
            f"{name}: with seed {seed} the minimum-norm solution of A w = b has norm "
            f"{np.linalg.norm(w_min):.3f} >= 1, so ||w|| = 1 is infeasible; try another seed"
        )

    def f(w: np.ndarray) -> float:
        return float(np.mean(np.logaddexp(0.0, -y * (X @ w))))

    def grad(w: np.ndarray) -> np.ndarray:
        s = expit(-y * (X @ w))
        return -(X.T @ (y * s)) / N

    def c(w: np.ndarray) -> np.ndarray:
        return np.concatenate([A @ w - b, [w @ w - 1.0]])

    def jac(w: np.ndarray) -> np.ndarray:
        return np.vstack([A, 2.0 * w])

    def hess_lag(w: np.ndarray, lam: np.ndarray) -> np.ndarray:
        s = expit(y * (X @ w))
        D = s * (1.0 - s) / N
        H = (X.T * D) @ X
        H[np.diag_indices(n)] += 2.0 * lam[-1]
        return H

    return NLPForm(
        n=n,
        m=n_eq + 1,
        x0=np.ones(n),
        f=f,
        grad=grad,
        c=c,
        jac=jac,
        hess_lag=hess_lag,
        lam0=np.ones(n_eq + 1),
        name=name,
        layout=Layout(
            variables=[Block("w", 0, n, keys=lambda: [(j,) for j in range(1, n + 1)])],
            constraints=[
                Block("lin", 0, n_eq, keys=lambda: [(i,) for i in range(1, n_eq + 1)]),
                Block("sphere", n_eq, 1, scalar=True),
            ],
        ),
    )


def libsvm_problem(path: str | Path, n_eq: int = 10, seed: int = 0) -> NLPForm:
    X, y = read_libsvm(path)
    return logistic_problem(X, y, n_eq=n_eq, seed=seed, name=Path(path).stem)


def breast_cancer_problem(n_eq: int = 10, seed: int = 0) -> NLPForm:
    X, y = breast_cancer_data()
    return logistic_problem(X, y, n_eq=n_eq, seed=seed, name="breast_cancer")


# --- (b) PDE-constrained control --------------------------------------------------------------
def laplacian(N: int) -> sp.csr_matrix:
    """5-point Laplacian on the N x N interior grid of [-1, 1]^2, zero boundary, row-major."""
    h = 2.0 / (N + 1)
    T = sp.diags([np.ones(N - 1), -2.0 * np.ones(N), np.ones(N - 1)], [-1, 0, 1])
    eye = sp.identity(N)
    return ((sp.kron(T, eye) + sp.kron(eye, T)) / h**2).tocsr()


def target_state(N: int) -> np.ndarray:
    """w*_ij for i, j = 1..N, flattened row-major (i is the slow index)."""
    k = np.arange(1, N + 1) - (N + 1) / 2.0
    a = 0.1 / np.sqrt(15.0)
    return (np.sin(4.0 + a * k)[:, None] + np.cos(3.0 + a * k)[None, :]).ravel()


def pde_problem(N: int) -> NLPForm:
    """The PDE-constrained control problem on an N x N grid (n = 2 N^2, m = N^2)."""
    M = N * N
    L = laplacian(N)
    G = sp.hstack([L, sp.identity(M)], format="csr")
    wstar = target_state(N)
    Hdiag = np.concatenate([np.ones(M), 0.1 * np.ones(M)])
    H = sp.diags(Hdiag, format="csr")

    def f(x: np.ndarray) -> float:
        d = x[:M] - wstar
        return 0.5 * float(d @ d) + 0.05 * float(x[M:] @ x[M:])

    def grad(x: np.ndarray) -> np.ndarray:
        return np.concatenate([x[:M] - wstar, 0.1 * x[M:]])

    grid = lambda: [(i, j) for i in range(1, N + 1) for j in range(1, N + 1)]  # noqa: E731
    return NLPForm(
        n=2 * M,
        m=M,
        x0=np.ones(2 * M),
        f=f,
        grad=grad,
        c=lambda x: L @ x[:M] + x[M:],
        jac=lambda x: G,
        hess_lag=lambda x, lam: H,
        hvp=lambda x, lam, v: Hdiag * v,
        lam0=np.ones(M),
        name=f"pde{N}",
        layout=Layout(
            variables=[Block("w", 0, M, keys=grid), Block("u", M, M, keys=grid)],
            constraints=[Block("state", 0, M, keys=grid)],
        ),
    )


def pde_reference(N: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(x*, lam*, f*) of the PDE problem from its KKT system [[H, G^T], [G, 0]] (x, lam) =
    (-q, 0), solved with a sparse LU (scipy.sparse.linalg.spsolve)."""
    M = N * N
    L = laplacian(N)
    G = sp.hstack([L, sp.identity(M)], format="csr")
    H = sp.diags(np.concatenate([np.ones(M), 0.1 * np.ones(M)]))
    q = np.concatenate([-target_state(N), np.zeros(M)])
    K = sp.bmat([[H, G.T], [G, None]], format="csc")
    sol = spla.spsolve(K, np.concatenate([-q, np.zeros(M)]))
    x, lam = sol[: 2 * M], sol[2 * M :]
    d = x[:M] - target_state(N)
    return x, lam, 0.5 * float(d @ d) + 0.05 * float(x[M:] @ x[M:])
