"""cDSM, the covering direct-search method (maximization of f̃), as in Bouchet and Vidal (2025):

    COVER   one point x + ρ·w, w uniform on the ∞-sphere, ρ = r0·U^(1/n)   (U uniform on [0, 1])
    SEARCH  one point x + w·min(r0·sqrt(s+1), r_max), s counting searches
    POLL    a positive spanning set from a random Householder matrix H = I - 2vvᵀ, each
            direction scaled to ∞-norm r: "2n" = {±H_i}; "n+1" = H applied to the n+1 unit vectors
            of a regular simplex (pairwise angle arccos(-1/n)), a minimal positive basis
    success of the poll: r <- min(2r, r_max); failure: r <- max(r/2, r_min); stop once r <= r_min.

Each step is opportunistic: the first improving point is taken and ends the iteration. Poll
points are evaluated in batches of `poll_batch` (1 = fully opportunistic); in a batch the best
improving point is taken. The reference draws ρ as (U·r0)^(1/n); r0·U^(1/n) (uniform in the
ball) is used here; the two agree for the reference's r0 = 1. The reference's "n+1" poll rotates
each H_i at random; the rotated regular simplex used here is the same kind of minimal positive
basis with the best cosine measure (1/n).
"""

from __future__ import annotations

import numpy as np

from .evaluator import Evaluator


def inf_sphere(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    """k directions of ∞-norm 1: Gaussian (uniform on the 2-sphere) rescaled to the ∞-norm."""
    g = rng.standard_normal((k, n))
    return g / np.max(np.abs(g), axis=1, keepdims=True)


def householder(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal(n)
    v /= np.linalg.norm(v)
    return np.eye(n) - 2.0 * np.outer(v, v)


_SIMPLEX: dict[int, np.ndarray] = {}


def regular_simplex(n: int) -> np.ndarray:
    """(n+1) x n unit vectors with pairwise inner products -1/n."""
    if n not in _SIMPLEX:
        if n == 1:
            _SIMPLEX[n] = np.array([[1.0], [-1.0]])
        else:
            V = np.eye(n + 1) - 1.0 / (n + 1)
            Q, _ = np.linalg.qr(V[:, :n])
            S = V @ Q
            _SIMPLEX[n] = S / np.linalg.norm(S, axis=1, keepdims=True)
    return _SIMPLEX[n]


def poll_directions(rng: np.random.Generator, n: int, kind: str) -> np.ndarray:
    """The rows are the poll directions, ∞-norm 1."""
    H = householder(rng, n)
    D = np.vstack([H, -H]) if kind == "2n" else regular_simplex(n) @ H
    return D / np.max(np.abs(D), axis=1, keepdims=True)


class CDSM:
    """The state of cDSM at an incumbent u with value fu; `iteration()` runs one iteration."""

    def __init__(self, ev: Evaluator, rng: np.random.Generator, u0: np.ndarray, f0: float, r0: float = 1.0,
                 r_min: float = 1e-5, r_max: float = 10.0, poll: str = "2n", poll_batch: int = 1,
                 cover: bool = True, search: bool = True) -> None:
        self.ev, self.rng = ev, rng
        self.u, self.fu = ev.clip(np.asarray(u0, dtype=np.float64)), float(f0)
        self.n = len(self.u)
        self.r0, self.r_min, self.r_max, self.r = r0, r_min, r_max, r0
        self.poll_kind, self.poll_batch = poll, max(1, int(poll_batch))
        self.cover_on, self.search_on = cover, search
        self.s = 0
        self.successes = {"cover": 0, "search": 0, "poll": 0}
        self.iterations = 0

    @property
    def converged(self) -> bool:
        return self.r <= self.r_min

    def _try(self, U: np.ndarray) -> bool:
        F = self.ev(U)
        j = int(np.argmax(F))
        if F[j] > self.fu:
            self.u, self.fu = self.ev.clip(U[j]), float(F[j])
            return True
        return False

    def cover(self) -> bool:
        rho = self.r0 * self.rng.uniform() ** (1.0 / self.n)
        ok = self._try(self.u + rho * inf_sphere(self.rng, 1, self.n))
        self.successes["cover"] += ok
        return ok

    def search(self) -> bool:
        step = min(self.r0 * np.sqrt(self.s + 1), self.r_max)
        self.s += 1
        ok = self._try(self.u + step * inf_sphere(self.rng, 1, self.n))
        self.successes["search"] += ok
        return ok

    def poll(self) -> bool:
        D = self.r * poll_directions(self.rng, self.n, self.poll_kind)
        for k in range(0, len(D), self.poll_batch):
            if self._try(self.u + D[k:k + self.poll_batch]):
                self.r = min(2.0 * self.r, self.r_max)
                self.successes["poll"] += 1
                return True
        self.r = max(self.r / 2.0, self.r_min)
        return False

    def iteration(self) -> bool:
        """COVER -> SEARCH (skipped once r <= r_min) -> POLL; True on success."""
        self.iterations += 1
        if self.cover_on and self.cover():
            return True
        if self.search_on and self.r > self.r_min and self.search():
            return True
        return self.poll()
