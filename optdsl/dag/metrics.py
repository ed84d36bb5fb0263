"""Accuracy of a learned graph against a reference: SHD, TPR, FDR, FPR and the edge count.

Conventions (as in the NOTEARS benchmarks): an edge of the estimate is a true positive when the
reference has it with the same direction; a reversed edge counts as a false discovery; SHD is the
number of edge additions, deletions and reversals that turn the estimate into the reference (a
reversal counts once). FPR divides the false discoveries by the number of non-edges of the
reference's skeleton, d(d-1)/2 - |E|.
"""

from __future__ import annotations

import numpy as np


def topological_order(B: np.ndarray) -> np.ndarray | None:
    """A topological order of the graph with adjacency B != 0 (Kahn's algorithm), None if cyclic."""
    A = (np.asarray(B) != 0).astype(np.int64)
    d = A.shape[0]
    indeg = A.sum(axis=0)
    done = np.zeros(d, dtype=bool)
    order = []
    for _ in range(d):  # one node per step: a source of what is left
        free = np.flatnonzero((indeg == 0) & ~done)
        if len(free) == 0:
            return None
        v = free[0]
        done[v] = True
        order.append(v)
        indeg = indeg - A[v]
    return np.array(order, dtype=np.int64)


def is_dag(B: np.ndarray) -> bool:
    return topological_order(B) is not None


def count_accuracy(B_true: np.ndarray, B_est: np.ndarray) -> dict[str, float]:
    """{"shd", "tpr", "fdr", "fpr", "nnz", "extra", "missing", "reverse"} of B_est against B_true."""
    T = np.asarray(B_true) != 0
    E = np.asarray(B_est) != 0
    np.fill_diagonal(T, False)
    np.fill_diagonal(E, False)
    d = T.shape[0]
    true_pos = E & T
    reverse = E & ~T & T.T
    false_pos = E & ~T & ~T.T
    skel_t = np.triu(T | T.T, 1)
    skel_e = np.triu(E | E.T, 1)
    extra = skel_e & ~skel_t
    missing = skel_t & ~skel_e
    n_true, n_est = int(T.sum()), int(E.sum())
    neg = 0.5 * d * (d - 1) - n_true
    wrong = int(reverse.sum() + false_pos.sum())
    return {
        "shd": int(extra.sum() + missing.sum() + reverse.sum()),
        "tpr": float(true_pos.sum() / max(n_true, 1)),
        "fdr": float(wrong / max(n_est, 1)),
        "fpr": float(wrong / max(neg, 1)),
        "nnz": n_est,
        "extra": int(extra.sum()),
        "missing": int(missing.sum()),
        "reverse": int(reverse.sum()),
    }
