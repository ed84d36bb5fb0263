"""TOPO (Deng, Bello, Aragam, Ravikumar, ICML 2023): local search over topological orders.

For an order pi, the inner problem fits each node on its predecessors. Candidates are pairs
(i, j) with i after j in pi whose entry of grad h(W) = (sI - |W|)^{-T} (h = -log det(sI - |W|))
is smallest: (grad h)_ij > 0 iff there is a directed path j ~> i, so a small value means
exchanging i and j disturbs few paths. Each candidate exchanges the two positions and refits
only the nodes between them; improving pairs are applied greedily when their position
intervals do not overlap. When the small candidate set has no improving pair, a larger one is
tried (a limited number of times); then the search stops at a local optimum.

We follow the paper where the reference code departs from it: the |grad Q| >= xi filter of
Algorithm 2 is available (option `xi`), and the large search also runs for d < 10.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .scores import GramScore, Score, prefix_mask
from .threads import blas_threads


@dataclass
class TopoParams:
    size_small: int | None = None  # None: sized from d as dagrad does
    size_large: int | None = None
    large_searches: int = 5  # dagrad uses 1; 5 measured better at d = 20 (docs/topo.md)
    xi: float = 0.0  # keep only candidates with |grad Q_ij| >= xi (paper's Algorithm 2); 0 = off
    s: float = 1.0  # h(W) = -log det(sI - |W|)
    threshold: float = 0.3  # final |W_ij| below it is dropped
    refit: bool = True  # refit the weights on the thresholded graph
    max_iter: int = 100_000
    time_limit: float | None = None
    seed: int = 0
    verbose: bool = False
    log_every_s: float = 2.0
    threads: int | None = 1  # BLAS threads


@dataclass
class TopoResult:
    W: np.ndarray  # final (thresholded, refit) weights
    W_dense: np.ndarray  # the fit on the final order before thresholding
    order: np.ndarray
    score: float  # of W
    score_dense: float  # of W_dense
    status: str  # "local_optimum" | "time_limit" | "iteration_limit"
    iterations: int = 0
    swaps: int = 0
    evaluations: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0


def default_sizes(d: int) -> tuple[int, int]:
    """dagrad's sizing: small = min(1.5d, min(sqrt(d)(d-1)log10(d), d(d-1)/2)), large = max(1.5d, ...)."""
    pairs = d * (d - 1) / 2
    mid = min(math.sqrt(d) * (d - 1) * math.log10(max(d, 2)), pairs)
    small = int(min(1.5 * d, mid))
    large = int(max(1.5 * d, mid))
    return max(1, min(small, int(pairs))), max(1, min(large, int(pairs)))


def grad_h(W: np.ndarray, s: float = 1.0) -> np.ndarray:
    """(sI - |W|)^{-T}, the gradient of -log det(sI - |W|) with respect to |W|."""
    d = W.shape[0]
    return np.linalg.inv(s * np.eye(d) - np.abs(W)).T


def candidates(W: np.ndarray, order: np.ndarray, size: int, rng: np.random.Generator, s: float = 1.0,
               gradQ: np.ndarray | None = None, xi: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The `size` pairs (i, j), i after j in `order`, with the smallest (grad h)_ij (ties broken at
    random); with xi > 0 only pairs with |grad Q_ij| >= xi compete."""
    d = len(order)
    pos = np.empty(d, dtype=np.int64)
    pos[order] = np.arange(d)
    gh = grad_h(W, s)
    ii, jj = np.nonzero(pos[:, None] > pos[None, :])
    vals = gh[ii, jj]
    if gradQ is not None and xi > 0:
        keep = np.abs(gradQ[ii, jj]) >= xi
        ii, jj, vals = ii[keep], jj[keep], vals[keep]
    pick = np.lexsort((rng.random(len(vals)), vals))[:size]
    return ii[pick], jj[pick]


def _greedy(lo: np.ndarray, hi: np.ndarray, delta: np.ndarray, tol: float) -> np.ndarray:
    """Indices of improving swaps, best first, whose intervals [lo, hi] do not overlap."""
    taken: list[tuple[int, int]] = []
    chosen = []
    for k in np.argsort(delta, kind="stable"):
        if delta[k] >= -tol:
            break
        a, b = int(lo[k]), int(hi[k])
        if all(b < x or a > y for x, y in taken):
            taken.append((a, b))
            chosen.append(int(k))
    return np.array(chosen, dtype=np.int64)


class _Fitter:
    """The inner problem for an order: the fast Cholesky path for Gram scores, else per-node refits."""

    def __init__(self, score: Score) -> None:
        self.score = score
        self.gram = isinstance(score, GramScore) and score.l1 is None and score.allowed is None

    def fit_order(self, order: np.ndarray, W0: np.ndarray | None) -> tuple[np.ndarray, float, object]:
        if self.gram:
            W, losses, L = self.score.order_fit(order)
            return W, self.score.offset + float(losses.sum()), L
        mask = prefix_mask(order)
        W = self.score.fit(mask, W0)
        return W, self.score.value(W), None

    def deltas(self, order: np.ndarray, W: np.ndarray, cache: object, lo: np.ndarray, hi: np.ndarray,
               deadline: float | None) -> np.ndarray:
        """Score change of each exchange (inf where the time limit cut the evaluation short)."""
        if self.gram:
            return self.score.swap_deltas(cache, lo, hi)
        out = np.full(len(lo), np.inf)
        base = self.score.losses(W)
        for k in range(len(lo)):
            if deadline is not None and time.perf_counter() > deadline:
                break
            a, b = int(lo[k]), int(hi[k])
            new = order.copy()
            new[a], new[b] = order[b], order[a]
            mask = prefix_mask(new)
            if self.score.separable:
                cols = new[a:b + 1]
                Wn = self.score.fit_columns(mask, cols, W * mask)
                out[k] = float(self.score.losses(Wn)[cols].sum() - base[cols].sum())
            else:
                Wn = self.score.fit(mask, W)
                out[k] = float(self.score.losses(Wn).sum() - base.sum())
        return out


def topo(score: Score, order0: np.ndarray, params: TopoParams) -> TopoResult:
    """Run TOPO from `order0` and return the thresholded, refit graph."""
    with blas_threads(params.threads):
        return _topo(score, order0, params)


def _topo(score: Score, order0: np.ndarray, params: TopoParams) -> TopoResult:
    t0 = time.perf_counter()
    deadline = None if params.time_limit is None else t0 + params.time_limit
    d = score.d
    rng = np.random.default_rng(params.seed)
    small, large = default_sizes(d)
    small = params.size_small or small
    large = max(params.size_large or large, small)
    n_large = params.large_searches
    fitter = _Fitter(score)
    order = np.asarray(order0, dtype=np.int64).copy()
    W, total, cache = fitter.fit_order(order, None)
    hist: dict[str, list[float]] = {"score": [total], "time": [0.0], "swaps": [0.0]}
    used_large = swaps = evals = it = 0
    status = "local_optimum"
    last_log = t0
    while True:
        if it >= params.max_iter:
            status = "iteration_limit"
            break
        if deadline is not None and time.perf_counter() > deadline:
            status = "time_limit"
            break
        it += 1
        tol = 1e-12 * max(1.0, abs(total))
        gQ = score.smooth_value_grad(W)[1] if params.xi > 0 else None
        ci, cj = candidates(W, order, large, rng, params.s, gQ, params.xi)
        pos = np.empty(d, dtype=np.int64)
        pos[order] = np.arange(d)
        lo, hi = pos[cj], pos[ci]  # j is before i
        k_small = min(small, len(lo))
        delta = fitter.deltas(order, W, cache, lo[:k_small], hi[:k_small], deadline)
        evals += k_small
        chosen = _greedy(lo[:k_small], hi[:k_small], delta, tol)
        if len(chosen) == 0 and used_large < n_large and len(lo) > k_small:
            used_large += 1
            delta = fitter.deltas(order, W, cache, lo[k_small:], hi[k_small:], deadline)
            evals += len(lo) - k_small
            chosen = _greedy(lo[k_small:], hi[k_small:], delta, tol)
            lo, hi = lo[k_small:], hi[k_small:]
        else:
            lo, hi = lo[:k_small], hi[:k_small]
        if len(chosen) == 0:
            if deadline is not None and time.perf_counter() > deadline:
                status = "time_limit"
            break
        for k in chosen:
            a, b = lo[k], hi[k]
            order[a], order[b] = order[b], order[a]
        swaps += len(chosen)
        W, new_total, cache = fitter.fit_order(order, W)
        total = new_total
        now = time.perf_counter()
        hist["score"].append(total)
        hist["time"].append(now - t0)
        hist["swaps"].append(float(len(chosen)))
        if params.verbose or (now - t0 > 5.0 and now - last_log > params.log_every_s):
            print(f"topo: iter {it:4d}  score {total:.10g}  swaps {len(chosen):3d}  "
                  f"large searches {used_large}  {now - t0:6.1f} s", file=sys.stderr)
            last_log = now
    W_dense, score_dense = W, total
    W_final = threshold_refit(score, W_dense, params.threshold, params.refit)
    return TopoResult(W=W_final, W_dense=W_dense, order=order, score=score.value(W_final), score_dense=score_dense,
                      status=status, iterations=it, swaps=swaps, evaluations=evals, history=hist,
                      seconds=time.perf_counter() - t0)


def threshold_refit(score: Score, W: np.ndarray, threshold: float, refit: bool) -> np.ndarray:
    """Drop |W_ij| < threshold; with `refit`, fit the weights again on the graph that remains."""
    mask = np.abs(W) >= threshold
    np.fill_diagonal(mask, False)
    if not refit:
        return W * mask
    return score.fit(mask, W * mask)
