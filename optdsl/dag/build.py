"""Structure-learning models from data: the `.opt` model of examples/dag*.opt, built from a numpy
array or a pandas DataFrame (whose columns name the nodes).

The least-squares score is written through the Gram matrix C = X'X of the samples,

    1/(2n) sum_{k,j} (X[k,j] - sum_i X[k,i] W[i,j])^2
      = 1/(2n) (sum_{k,j} X[k,j]^2 - 2 sum_{i,j} C[i,j] W[i,j] + sum_{j,i,l} C[i,l] W[i,j] W[l,j]),

the same function with d^3 instead of n d^3 quadratic terms; the lowering recognizes either form.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optdsl.errors import ModelError

SCORES = ("ls", "logistic")


def _as_array(X: Any, nodes: list | None) -> tuple[np.ndarray, list]:
    if hasattr(X, "columns") and hasattr(X, "to_numpy"):  # a pandas DataFrame
        names = [str(c) for c in X.columns] if nodes is None else list(nodes)
        arr = X.to_numpy(dtype=float)
    else:
        arr = np.asarray(X, dtype=float)
        names = list(nodes) if nodes is not None else [f"X{j + 1}" for j in range(arr.shape[1] if arr.ndim == 2 else 0)]
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise ModelError(f"the data must be an (n x d) table with n, d >= 2, got shape {arr.shape}")
    if len(names) != arr.shape[1] or len(set(names)) != len(names):
        raise ModelError(f"{arr.shape[1]} columns need as many distinct node names, got {names}")
    if not np.all(np.isfinite(arr)):
        raise ModelError("the data has missing or infinite values", hint="drop or impute them first")
    return arr, names


def model(X: Any, score: str = "ls", lambda1: float = 0.0, lambda2: float = 0.0, nodes: list | None = None,
          center: bool | None = None, name: str = "dag", W0: np.ndarray | None = None) -> Any:
    """An optdsl Model: minimize the score over W subject to acyclic(W).

    score "ls": 1/(2n)||X - XW||^2 + lambda1 ||W||_1 + lambda2 ||W||^2 (columns centered by
    default); "logistic" (binary data): 1/n sum [log(1 + exp(XW)) - X o XW] + lambda1 ||W||_1 +
    lambda2 ||W||^2 (not centered). W0 gives start values (`init="start"` of topo uses them).
    """
    import optdsl as od

    if score not in SCORES:
        raise ModelError(f"unknown score '{score}'", hint="use " + " or ".join(SCORES))
    arr, names = _as_array(X, nodes)
    if center is None:
        center = score == "ls"
    if center:
        arr = arr - arr.mean(axis=0)
    n, d = arr.shape
    m = od.Model(name)
    V = m.set("V", names)
    K = m.set("K", range(1, n + 1))
    Xp = m.param("X", (K, V), arr)
    lam1 = m.param("lambda1", float(lambda1), lb=0)
    lam2 = m.param("lambda2", float(lambda2), lb=0)
    init = None if W0 is None else np.asarray(W0, dtype=float)
    W = m.var("W", (V, V), init=init)
    if score == "ls":
        C = m.param("C", (V, V), lambda i, l: od.sum(Xp[k, i] * Xp[k, l] for k in K))
        fit = (1.0 / (2 * n)) * (
            od.sum(Xp[k, j] ** 2 for k in K for j in V)
            - 2 * od.sum(C[i, j] * W[i, j] for i in V for j in V)
            + od.sum(C[i, l] * W[i, j] * W[l, j] for j in V for i in V for l in V))
    else:
        if not np.all((arr == 0) | (arr == 1)):
            raise ModelError("the logistic score needs binary (0/1) data")
        fit = (1.0 / n) * od.sum(
            od.log(1 + od.exp(od.sum(Xp[k, i] * W[i, j] for i in V)))
            - Xp[k, j] * od.sum(Xp[k, i] * W[i, j] for i in V) for k in K for j in V)
    obj = fit
    if lambda1:
        obj = obj + lam1 * od.sum(od.abs(W[i, j]) for i in V for j in V)
    if lambda2:
        obj = obj + lam2 * od.sum(W[i, j] ** 2 for i in V for j in V)
    m.minimize("score", obj)
    m.constraint("dag", od.acyclic(W))
    return m


def ls_score(X: np.ndarray, W: np.ndarray) -> float:
    """1/(2n)||X - XW||_F^2 of (centered) data X."""
    X = np.asarray(X, dtype=float)
    X = X - X.mean(axis=0)
    return float(0.5 / X.shape[0] * np.sum((X - X @ W) ** 2))


def refit_ls(X: np.ndarray, B: np.ndarray) -> np.ndarray:
    """The least-squares weights of (centered) X on the graph B (B[i, j] != 0: i -> j)."""
    X = np.asarray(X, dtype=float)
    X = X - X.mean(axis=0)
    d = X.shape[1]
    W = np.zeros((d, d))
    for j in range(d):  # one regression per node on its parents
        pa = np.flatnonzero(np.asarray(B)[:, j])
        if len(pa):
            W[pa, j] = np.linalg.lstsq(X[:, pa], X[:, j], rcond=None)[0]
    return W
