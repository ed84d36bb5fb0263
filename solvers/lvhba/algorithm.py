"""LV-HBA (Yao, Yu, Zeng, Zhang, ICLR 2024): a single-loop, Hessian-free method for

    min_{(x,y) in C} F(x, y)   s.t.   y in argmin_{theta in Y} { f(x, theta) : g(x, theta) <= 0 }

through the proximal Lagrangian value function
    v_gamma(x, y, z) = min_{theta in Y} max_{lambda in Z} f(x,theta) + lambda'g(x,theta)
                       + ||theta - y||^2/(2 gamma1) - ||lambda - z||^2/(2 gamma2).

Iteration k, with c_k = c_lower (k+1)^p (implemented from Algorithm 1 of the paper):
    theta+  = Proj_Y(theta - eta [grad_y f(x,theta) + grad_y g(x,theta)'lambda + (theta - y)/gamma1])
    lambda+ = Proj_Z(lambda + eta [g(x,theta) - (lambda - z)/gamma2])
    d_x = grad_x F(x,y)/c_k + grad_x f(x,y) - grad_x f(x,theta+) - grad_x g(x,theta+)'lambda+
    d_y = grad_y F(x,y)/c_k + grad_y f(x,y) - (y - theta+)/gamma1
    d_z = -(lambda+ - z)/gamma2
    (x,y)+ = Proj_C((x,y) - alpha d_(x,y));   z+ = Proj_Z(z - beta d_z)

Differences from the authors' scripts, on purpose (see docs/lvhba.md): z is updated (the toy
script never updates it), the gamma's divide as in the paper (the scripts multiply), the
hyperparameter step is applied in place (the SVM scripts' step is a no-op), and equality rows of
the follower get a free multiplier in [-r, r] (the toy's g is an active equality with lambda* = -1).

All arrays are torch tensors with the batch along dimension 1: `starts` independent runs advance
together, and the two gradient points of the outer step, (x, theta+) and (x, y), share one
autograd pass.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from optdsl.errors import SolverError

from .projection import Projector
from .torch_model import BilevelTorch

SMALL_PROBLEM = 200_000  # variables x starts below which one CPU thread beats several (op overhead)


@contextlib.contextmanager
def cpu_threads(threads: int | None, size: int):
    """torch's CPU threads for this solve: `threads` when given, else 1 for a small problem."""
    want = threads if threads else (1 if size < SMALL_PROBLEM else None)
    before = torch.get_num_threads()
    if want:
        torch.set_num_threads(int(want))
    blas = contextlib.nullcontext()
    if want:
        try:  # the projections' small dense factorizations: threaded BLAS only adds contention
            from threadpoolctl import threadpool_limits

            blas = threadpool_limits(limits=int(want), user_api="blas")
        except ImportError:  # pragma: no cover - optional
            pass
    try:
        with blas:
            yield
    finally:
        torch.set_num_threads(before)


@dataclass
class Output:
    status: str  # "converged" | "iteration_limit" | "time_limit" | "nan"
    w: np.ndarray  # the returned start's (x, y) over all variables
    theta: np.ndarray
    lam: np.ndarray
    z: np.ndarray
    iterations: int
    F: float
    f: float
    gap: float
    violation: float
    best_start: int
    history: dict[str, list[float]] = field(default_factory=dict)
    starts_F: list[float] = field(default_factory=list)
    projection: str = "box"
    projection_stats: dict[str, int] = field(default_factory=dict)


def _one_sided(blocks: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows lower <= e <= upper as one-sided constraints s * e - b (<= 0, or = 0 for equalities):
    (row index, sign s, offset b, is_equality)."""
    if not blocks:
        z = np.zeros(0)
        return z.astype(np.int64), z, z, z.astype(bool)
    lo = np.concatenate([np.broadcast_to(np.asarray(c.lower, dtype=np.float64), (c.expr.n,)) for c in blocks])
    hi = np.concatenate([np.broadcast_to(np.asarray(c.upper, dtype=np.float64), (c.expr.n,)) for c in blocks])
    rows = np.arange(len(lo))
    eq = (lo == hi) & np.isfinite(lo)
    up = ~eq & np.isfinite(hi)
    dn = ~eq & np.isfinite(lo)
    idx = np.concatenate([rows[eq], rows[up], rows[dn]])
    sign = np.concatenate([np.ones(eq.sum()), np.ones(up.sum()), -np.ones(dn.sum())])
    off = np.concatenate([lo[eq], hi[up], -lo[dn]])
    is_eq = np.concatenate([np.ones(eq.sum(), bool), np.zeros(up.sum() + dn.sum(), bool)])
    return idx.astype(np.int64), sign, off, is_eq


def _linear_rows(blocks: list[Any], n: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The affine blocks as (A, lower - const, upper - const)."""
    As, lo, hi = [], [], []
    for c in blocks:
        e = c.expr
        As.append(sp.csr_matrix((e.vals, (e.rows, e.cols)), shape=(e.n, n)))
        lo.append(np.broadcast_to(np.asarray(c.lower, dtype=np.float64), (e.n,)) - e.const)
        hi.append(np.broadcast_to(np.asarray(c.upper, dtype=np.float64), (e.n,)) - e.const)
    if not As:
        return sp.csr_matrix((0, n)), np.zeros(0), np.zeros(0)
    A = sp.vstack(As, format="csr")
    A.sum_duplicates()
    return A, np.concatenate(lo), np.concatenate(hi)


class LVHBA:
    """The state and updates of LV-HBA on a BilevelForm (see the module docstring)."""

    def __init__(self, form: Any, o: dict[str, Any], device: str = "cpu") -> None:
        self.o = o
        self.model = BilevelTorch(form, device)
        self.dev = dev = self.model.device
        n = self.model.n
        self.fi = torch.as_tensor(form.follower_idx, device=dev)
        for c in form.upper.blocks:
            if not c.expr.is_affine:
                raise SolverError(
                    f"leader constraint '{c.name}' is not linear; lvhba projects onto the leader's set, "
                    "which must be given by bounds and linear constraints",
                    hint="move it into the lower block if it is the follower's, or write it linearly")
        # C: the variable bounds, the leader's rows and (by default) the follower's linear rows
        in_c = list(form.upper.blocks)
        if o["project_follower"]:
            in_c += [c for c in form.lower.blocks if c.expr.is_affine]
        A, rl, ru = _linear_rows(in_c, n)
        self.proj_C = Projector(A, rl, ru, form.col_lower, form.col_upper, dev)
        fi = form.follower_idx
        self.y_lo = self.model.tensor(form.col_lower[fi])[:, None]
        self.y_hi = self.model.tensor(form.col_upper[fi])[:, None]
        idx, sign, off, is_eq = _one_sided(form.lower.blocks)
        self.g_idx = torch.as_tensor(idx, device=dev)
        self.g_sign = self.model.tensor(sign)[:, None]
        self.g_off = self.model.tensor(off)[:, None]
        self.p = len(idx)
        r = o["r"]
        self.lam_lo = self.model.tensor(np.where(is_eq, -r, 0.0))[:, None]
        self.lam_hi = self.model.tensor(np.full(self.p, r))[:, None]
        self.is_eq = self.model.tensor(is_eq.astype(np.float64))[:, None]
        gi, gs, go, geq = _one_sided(form.upper.blocks)
        self.G_idx, self.G_sign = torch.as_tensor(gi, device=dev), self.model.tensor(gs)[:, None]
        self.G_off, self.G_eq = self.model.tensor(go)[:, None], self.model.tensor(geq.astype(np.float64))[:, None]
        self.form = form

    # ------------------------------------------------------------------ pieces
    def g(self, Z: torch.Tensor) -> torch.Tensor:
        """The follower's one-sided rows (p x B): <= 0 for inequalities, = 0 for equalities."""
        if self.p == 0:
            return torch.zeros(0, Z.shape[1], dtype=Z.dtype, device=self.dev)
        return self.g_sign * self.model.g_all(Z)[self.g_idx] - self.g_off

    def violation(self, Z: torch.Tensor) -> torch.Tensor:
        """max over the rows of both levels of the amount each is violated (B,)."""
        parts = [torch.zeros(1, Z.shape[1], dtype=Z.dtype, device=self.dev)]
        if self.p:
            gv = self.g(Z)
            parts.append(torch.where(self.is_eq > 0, gv.abs(), gv.clamp(min=0)))
        if len(self.G_idx):
            Gv = self.G_sign * self.model.G_all(Z)[self.G_idx] - self.G_off
            parts.append(torch.where(self.G_eq > 0, Gv.abs(), Gv.clamp(min=0)))
        parts.append((self.proj_C.lo - Z).clamp(min=0))
        parts.append((Z - self.proj_C.hi).clamp(min=0))
        return torch.cat(parts, dim=0).amax(dim=0)

    def clip_lam(self, L: torch.Tensor) -> torch.Tensor:
        return torch.minimum(torch.maximum(L, self.lam_lo), self.lam_hi)

    def start(self, B: int, seed: int) -> tuple[torch.Tensor, ...]:
        o = self.o
        w0 = self.model.tensor(self.form.x0)[:, None].repeat(1, B)
        if o["start_noise"] > 0:
            gen = torch.Generator(device="cpu").manual_seed(int(seed))
            noise = torch.randn(w0.shape, generator=gen, dtype=torch.float64).to(self.dev)
            w0 = w0 + o["start_noise"] * noise
        W = self.proj_C(w0)
        theta = W[self.fi].clone()
        lam = self.clip_lam(torch.full((self.p, B), float(o["lambda0"]), dtype=torch.float64, device=self.dev))
        return W, theta, lam, lam.clone()

    # ------------------------------------------------------------------ one iteration
    def step(self, k: int, W: torch.Tensor, theta: torch.Tensor, lam: torch.Tensor, z: torch.Tensor
             ) -> tuple[torch.Tensor, ...]:
        o, m, fi = self.o, self.model, self.fi
        B = W.shape[1]
        ck = o["c_lower"] * (k + 1) ** o["p"]
        y = W[fi]
        # inner step at (x, theta, lambda)
        Z1 = W.detach().clone()
        Z1[fi] = theta
        Z1.requires_grad_(True)
        g1 = self.g(Z1)
        L1 = m.sf * m.f(Z1).sum() + (lam * g1).sum()
        (G1,) = torch.autograd.grad(L1, Z1, allow_unused=True)
        G1 = torch.zeros_like(Z1) if G1 is None else G1
        theta_n = theta - o["eta"] * (G1[fi] + (theta - y) / o["gamma1"])
        theta_n = torch.minimum(torch.maximum(theta_n, self.y_lo), self.y_hi)
        if o["inner"] == "gauss_seidel":  # the multiplier step sees theta+ (one more row evaluation)
            with torch.no_grad():
                Zt = W.detach().clone()
                Zt[fi] = theta_n
                g1 = self.g(Zt)
        lam_n = self.clip_lam(lam + o["eta"] * (g1.detach() - (lam - z) / o["gamma2"]))
        # outer step: (x, theta+) and (x, y) in one batch of 2B points
        Z2 = W.detach().clone()
        Z2[fi] = theta_n
        Zc = torch.cat([Z2, W.detach()], dim=1).requires_grad_(True)
        fv = m.sf * m.f(Zc)
        gv = self.g(Zc)
        Fv = m.sF * m.F(Zc[:, B:])
        L = fv.sum() + (lam_n * gv[:, :B]).sum() + Fv.sum() / ck
        (Gc,) = torch.autograd.grad(L, Zc, allow_unused=True)
        Gc = torch.zeros_like(Zc) if Gc is None else Gc
        d = Gc[:, B:] - Gc[:, :B]
        d[fi] = Gc[:, B:][fi] - (y - theta_n) / o["gamma1"]
        W_n = self.proj_C(W - o["alpha"] * d)
        z_n = self.clip_lam(z + o["beta"] * (lam_n - z) / o["gamma2"])
        with torch.no_grad():
            f_xy = fv[0, B:]
            v = (fv[0, :B] + (lam_n * gv[:, :B]).sum(0) + ((theta_n - y) ** 2).sum(0) / (2 * o["gamma1"])
                 - ((lam_n - z) ** 2).sum(0) / (2 * o["gamma2"]))
            trace = torch.stack([m.sF * Fv[0], f_xy * m.sf, f_xy - v])
        return W_n.detach(), theta_n.detach(), lam_n.detach(), z_n.detach(), trace.detach()


def solve(form: Any, o: dict[str, Any], device: str = "cpu", time_limit: float | None = None,
          verbose: bool = False) -> Output:
    t0 = time.perf_counter()
    alg = LVHBA(form, o, device)
    B = int(o["starts"])
    W, theta, lam, z = alg.start(B, o["seed"])
    traces: list[torch.Tensor] = []
    viols: list[torch.Tensor] = []
    times: list[float] = []
    status = "iteration_limit"
    k = 0
    last_log = t0
    log_every = int(o["log_every"])
    with torch.no_grad():
        viols.append(alg.violation(W))
    for k in range(int(o["max_iter"])):
        W_prev = W
        W, theta, lam, z, tr = alg.step(k, W, theta, lam, z)
        with torch.no_grad():
            viols.append(alg.violation(W))
        traces.append(tr)
        now = time.perf_counter()
        times.append(now - t0)
        if (k + 1) % int(o["check_every"]) == 0 or k + 1 == int(o["max_iter"]):
            step = float(((W - W_prev).norm(dim=0) / (1 + W_prev.norm(dim=0))).max())
            gap = tr[2].abs() / (1 + tr[1].abs())
            if not math.isfinite(step) or not bool(torch.isfinite(tr).all()):
                status = "nan"
                break
            if (step <= o["tol_step"] and float(gap.max()) <= o["tol_gap"]
                    and float(viols[-1].max()) <= o["tol_feas"]):
                status = "converged"
                break
        if time_limit is not None and now - t0 >= time_limit:
            status = "time_limit"
            break
        show = (log_every > 0 and (k + 1) % log_every == 0) or (
            log_every == 0 and (verbose or now - t0 > 5.0) and now - last_log >= 2.0)
        if show:
            last_log = now
            print(f"lvhba {k + 1:7d}  F {float(tr[0, 0]):.6g}  gap {float(tr[2, 0]):.3e}  "
                  f"viol {float(viols[-1][0]):.2e}  {now - t0:.1f}s", file=sys.stderr, flush=True)
    iters = len(traces)
    T = torch.stack(traces).cpu().numpy() if traces else np.zeros((0, 3, B))  # K x 3 x B
    V = torch.stack(viols).cpu().numpy()  # (K+1) x B
    with torch.no_grad():
        m = alg.model
        F_end = (m.sF * m.F(W))[0].cpu().numpy() * m.sF  # in the model's own sense
        viol_end = V[-1]
    # the returned start: lowest leader objective among the feasible ones (all, if none is)
    ok = viol_end <= max(o["tol_feas"], 1e-6) * 100
    pick = np.where(ok, F_end * m.sF, np.inf)
    best = int(np.argmin(pick)) if ok.any() else int(np.argmin(viol_end))
    hist = {
        "F": T[:, 0, best].tolist(),
        "f": T[:, 1, best].tolist(),
        "gap": T[:, 2, best].tolist(),
        "violation": V[1:, best].tolist(),
        "time": times,
    }
    gap_end = float(T[-1, 2, best]) if iters else float("nan")
    f_end = float(T[-1, 1, best]) if iters else float("nan")
    return Output(
        status=status, w=W[:, best].cpu().numpy(), theta=theta[:, best].cpu().numpy(),
        lam=lam[:, best].cpu().numpy(), z=z[:, best].cpu().numpy(), iterations=iters,
        F=float(F_end[best]), f=f_end, gap=gap_end, violation=float(viol_end[best]), best_start=best,
        history=hist, starts_F=[float(v) for v in F_end], projection=alg.proj_C.kind,
        projection_stats=dict(getattr(alg.proj_C, "stats", {})),
    )
