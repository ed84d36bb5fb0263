"""NOTEARS (Zheng, Aragam, Ravikumar, Xing, NeurIPS 2018): min Q(W) + lam1 ||W||_1 s.t. h(W) = 0
with h(W) = tr(exp(W o W)) - d, by the augmented Lagrangian

    L(W; rho, alpha) = Q(W) + rho/2 h(W)^2 + alpha h(W) + lam1 ||W||_1.

W = W+ - W- with W+, W- >= 0 makes the l1 term linear, so each subproblem is a bound-constrained
smooth problem (L-BFGS-B); the diagonal is held at zero. After a subproblem, rho grows tenfold
while h has not fallen below a quarter of its previous value; then alpha += rho h. The search
stops when h <= h_tol or rho reaches rho_max, and the result is thresholded.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
from scipy.optimize import minimize

from .scores import Score
from .threads import blas_threads


@dataclass
class NotearsParams:
    lambda1: float = 0.0  # added to the score's own l1 weights
    max_iter: int = 100
    h_tol: float = 1e-8
    rho_max: float = 1e16
    threshold: float = 0.3
    time_limit: float | None = None
    verbose: bool = False
    threads: int | None = 1  # BLAS threads


@dataclass
class NotearsResult:
    W: np.ndarray
    W_raw: np.ndarray
    h: float
    status: str  # "converged" | "rho_max" | "iteration_limit" | "time_limit"
    iterations: int
    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0


def h_value_grad(W: np.ndarray) -> tuple[float, np.ndarray]:
    E = sla.expm(W * W)
    return float(np.trace(E)) - W.shape[0], E.T * W * 2.0


def notears(score: Score, params: NotearsParams, W0: np.ndarray | None = None) -> NotearsResult:
    with blas_threads(params.threads):
        return _notears(score, params, W0)


def _notears(score: Score, params: NotearsParams, W0: np.ndarray | None = None) -> NotearsResult:
    t0 = time.perf_counter()
    d = score.d
    lam = np.full((d, d), params.lambda1) + (score.l1 if score.l1 is not None else 0.0)
    off = ~np.eye(d, dtype=bool)
    bounds = [(0.0, 0.0) if i == j else (0.0, None) for _ in range(2) for i in range(d) for j in range(d)]
    w = np.zeros(2 * d * d)
    if W0 is not None:
        w[: d * d] = np.maximum(W0, 0).ravel() * off.ravel()
        w[d * d:] = np.maximum(-W0, 0).ravel() * off.ravel()
    rho, alpha, h = 1.0, 0.0, np.inf
    hist: dict[str, list[float]] = {"h": [], "rho": [], "score": [], "time": []}
    status = "iteration_limit"
    lam_flat = lam.ravel()

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        W = (x[: d * d] - x[d * d:]).reshape(d, d)
        q, gq = score.smooth_value_grad(W)
        hv, gh = h_value_grad(W)
        f = q + 0.5 * rho * hv * hv + alpha * hv + float(lam_flat @ (x[: d * d] + x[d * d:]))
        g = (gq + (rho * hv + alpha) * gh).ravel()
        return f, np.concatenate([g + lam_flat, -g + lam_flat])

    it = 0
    for it in range(1, params.max_iter + 1):
        while rho < params.rho_max:
            res = minimize(objective, w, jac=True, method="L-BFGS-B", bounds=bounds)
            w_new = res.x
            h_new = h_value_grad((w_new[: d * d] - w_new[d * d:]).reshape(d, d))[0]
            if h_new > 0.25 * h:
                rho *= 10.0
            else:
                break
            if params.time_limit is not None and time.perf_counter() - t0 > params.time_limit:
                break
        w, h = w_new, h_new
        alpha += rho * h
        W = (w[: d * d] - w[d * d:]).reshape(d, d)
        hist["h"].append(h)
        hist["rho"].append(rho)
        hist["score"].append(score.value(W))
        hist["time"].append(time.perf_counter() - t0)
        if params.verbose or time.perf_counter() - t0 > 5.0:
            print(f"notears: iter {it:3d}  h {h:.3e}  rho {rho:.1e}  score {hist['score'][-1]:.8g}  "
                  f"{hist['time'][-1]:6.1f} s", file=sys.stderr)
        if h <= params.h_tol:
            status = "converged"
            break
        if rho >= params.rho_max:
            status = "rho_max"
            break
        if params.time_limit is not None and time.perf_counter() - t0 > params.time_limit:
            status = "time_limit"
            break
    W_raw = (w[: d * d] - w[d * d:]).reshape(d, d)
    W_out = W_raw * (np.abs(W_raw) >= params.threshold)
    return NotearsResult(W=W_out, W_raw=W_raw, h=h, status=status, iterations=it, history=hist,
                         seconds=time.perf_counter() - t0)
