"""AdaSketch-Newton (Hong, Na, Mahoney, Kolar, ICML 2023) for min f(x) s.t. c(x) = 0.

Each iteration solves the Lagrangian Newton system

    K z = b,   K = [[B, G^T], [G, 0]],   b = -(grad_x L, c),   z = (dx, dlam)

only approximately, with a randomized sketching solver (sketches.py), stopping as soon as
the adaptive accuracy condition ||K|| psi ||K z - b|| <= theta_k delta ||b|| holds. The
step is globalized by an Armijo line search on the exact augmented Lagrangian

    L_eta(x, lam) = f + lam^T c + eta1/2 ||c||^2 + eta2/2 ||grad_x L||^2,

whose penalties (eta1 up, eta2 down) and accuracy delta are tightened until the inexact
step is a sufficient descent direction, grad L_eta^T z <= -eta2/2 ||b||^2.

Choices where the math and the reference code differ (see docs/sketch_newton.md):
- grad_x L_eta uses the Hessian of the *Lagrangian*, grad L + eta1 G^T c + eta2 H grad L
  with H = hess_xx L, as the derivative of L_eta requires; the reference code uses the
  Hessian of f only, which is not the gradient of the merit it line-searches on.
- psi, Upsilon and ||K|| use spectral norms (linalg.py), not Frobenius norms.
- After a penalty update the inner solve continues from the previous z (warm start):
  K and b are unchanged and the accuracy condition only gets tighter.
- The relative accuracy target is floored at `rtol_min` (default 1e-13), since the condition
  can ask for residuals below rounding level that no iterative solver reaches.
- The Armijo test tolerates 10 eps |L_eta| of increase: close to a solution the predicted
  decrease is below the rounding error of the merit value, and pure Armijo then stalls.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from optdsl import interrupts
from optdsl.errors import SolverError

from . import linalg
from .sketches import SKETCHES, make_sketch

Matrix = np.ndarray | sp.spmatrix
_MAX_MATERIALIZE = 4000  # columns of a Hessian operator we are willing to expand


@dataclass
class Params:
    """Defaults are the reference code's (CUTEst/Parameter/Param.jl)."""

    sketch: str = "kaczmarz"
    eta1: float = 1.0
    eta2: float = 0.1
    delta: float = 0.1
    beta: float = 0.1  # Armijo constant, in (0, 1/2)
    nu: float = 1.5  # penalty growth factor, > 1
    xi_b: float = 0.1  # Hessian-modification margin
    tol: float = 1e-4  # on ||grad L|| = ||(grad_x L, c)||
    max_iter: int = 10_000
    max_inner: int = 100_000  # per inner solve
    time_limit: float | None = None
    superlinear: bool = False
    theta_power: float = 1.0  # theta_k = min(1, ||grad L_k||^theta_power) when superlinear
    block_size: int = 8
    block_kind: str = "count"
    seed: int | None = 0
    singular_tol: float = 1e-2  # lambda_min(G G^T) below this aborts ("singular")
    hess_mod_tol: float = 1e-6  # reduced-Hessian eigenvalue that triggers the modification
    delta_min: float = 1e-6
    eta1_max: float = 1e8
    eta2_min: float = 1e-8
    rtol_min: float = 1e-13
    max_backtracks: int = 60
    dense_limit: int = 1500  # n + m up to this: dense linear algebra
    log_every: int = 0


@dataclass
class IterInfo:
    """What a progress callback receives once per iteration."""

    k: int
    kkt: float
    f: float
    alpha: float
    eta1: float
    eta2: float
    delta: float
    inner_iterations: int
    flops: float
    modified: bool


@dataclass
class Output:
    # optimal | iteration_limit | time_limit | singular | penalty_limit | line_search | nan | interrupted
    status: str
    message: str
    x: np.ndarray
    lam: np.ndarray
    f: float
    kkt: float
    iterations: int
    kkt_history: list[float] = field(default_factory=list)
    flops: float = 0.0
    flops_inner: float = 0.0
    f_evals: int = 0
    grad_evals: int = 0
    hess_evals: int = 0
    inner_iterations: int = 0
    inner_cap_hits: int = 0
    hessian_modifications: int = 0
    penalty_updates: int = 0
    eta1: float = 0.0
    eta2: float = 0.0
    seed: int | None = None
    sketch: str = ""
    time: float = 0.0


class _Oracles:
    """The form's functions with c shifted by its right-hand side, and evaluation counts."""

    def __init__(self, form, dense: bool) -> None:
        self.form = form
        self.rhs = np.asarray(form.con_lower, dtype=float)
        self.dense = dense
        self.f_evals = self.grad_evals = self.hess_evals = 0

    def _mat(self, A) -> Matrix:
        if isinstance(A, spla.LinearOperator):
            # Kaczmarz needs rows of K, so an operator is materialized column by column.
            if A.shape[1] > _MAX_MATERIALIZE:
                raise SolverError(
                    f"sketch_newton needs an explicit Hessian, but the form gives a {A.shape[0]}x"
                    f"{A.shape[1]} operator (too large to materialize)",
                    hint="lower the model with the numpy executor, which builds sparse Hessians",
                )
            A = A @ np.eye(A.shape[1])
        if sp.issparse(A):
            return A.toarray() if self.dense else A.tocsr()
        A = np.atleast_2d(np.asarray(A, dtype=float))
        return A if self.dense else sp.csr_matrix(A)

    def point(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, Matrix]:
        form = self.form
        self.f_evals += 1
        self.grad_evals += 1
        f = float(form.f(x))
        g = np.asarray(form.grad(x), dtype=float).ravel()
        c = np.asarray(form.c(x), dtype=float).ravel() - self.rhs
        G = self._mat(form.jac(x)).reshape(form.m, form.n) if form.m else self._mat(np.zeros((0, form.n)))
        return f, g, c, G

    def hess(self, x: np.ndarray, lam: np.ndarray) -> Matrix:
        self.hess_evals += 1
        return self._mat(self.form.hess_lag(x, lam))


def _same(A: Matrix | None, B: Matrix) -> bool:
    """A and B hold the same numbers (lets a QP reuse norms, eigenvalues and setups)."""
    if A is None or A.shape != B.shape or sp.issparse(A) != sp.issparse(B):
        return False
    if sp.issparse(A):
        return (
            A.nnz == B.nnz
            and np.array_equal(A.indptr, B.indptr)
            and np.array_equal(A.indices, B.indices)
            and np.array_equal(A.data, B.data)
        )
    return np.array_equal(A, B)


def _nnz(A: Matrix) -> int:
    return int(A.nnz) if sp.issparse(A) else int(A.size)


class _Geometry:
    """Per-iteration matrix quantities, recomputed only when H or G change."""

    def __init__(self, p: Params, dense: bool) -> None:
        self.p, self.dense = p, dense
        self.H = self.G = None
        self.flops = 0.0

    def update(self, H: Matrix, G: Matrix) -> bool:
        """Refresh for (H, G); returns True when they changed."""
        p, dense = self.p, self.dense
        same_g, same_h = _same(self.G, G), _same(self.H, H)
        if same_g and same_h:
            return False
        m, n = G.shape
        if not same_g:
            self.xi_g, f1 = linalg.lambda_min_ggt(G, dense)
            self.norm_g, f2 = linalg.rect_norm(G, dense)
            self.flops += f1 + f2
        self.norm_h, f3 = linalg.sym_norm(H, dense)
        self.modified = False
        if m < n:
            lam_z, f4 = linalg.reduced_hessian_min(H, G, dense)
            self.flops += f4
            self.modified = lam_z < p.hess_mod_tol
        shift = p.xi_b + self.norm_h
        if self.modified:
            eye = np.eye(n) if dense else sp.identity(n, format="csr")
            self.B = H + shift * eye
            self.norm_b = self.norm_h + shift  # all eigenvalues of B lie in [xi_B, 2||H|| + xi_B]
        else:
            self.B, self.norm_b = H, self.norm_h
        self.K = (
            np.block([[self.B, G.T], [G, np.zeros((m, m))]])
            if dense
            else sp.bmat([[self.B, G.T], [G, None]], format="csr")
        )
        self.norm_k, f5 = linalg.sym_norm(self.K, dense)
        self.flops += f3 + f5 + _nnz(self.K)
        self.H, self.G = H.copy(), G.copy()  # copies: an oracle may reuse its output buffers
        # psi and Upsilon of the paper, with spectral norms.
        self.psi = 20.0 * max(self.norm_b**2, 1.0) / (min(self.xi_g, 1.0) * min(p.xi_b, 1.0))
        self.ups = max(self.norm_g, self.norm_h, 1.0)
        return True

    def delta_trial(self, eta1: float, eta2: float) -> float:
        return (0.5 - self.p.beta) * eta2 / ((1.0 + eta1 + eta2) * self.ups**2 * self.psi**2)


def _merit(f: float, lam: np.ndarray, c: np.ndarray, gl: np.ndarray, eta1: float, eta2: float) -> float:
    return f + float(lam @ c) + 0.5 * eta1 * float(c @ c) + 0.5 * eta2 * float(gl @ gl)


def check_params(p: Params) -> None:
    """Raise ValueError naming the first parameter outside its range."""
    rules = [
        ("sketch", p.sketch in SKETCHES, f"one of {', '.join(SKETCHES)}"),
        ("eta1", p.eta1 > 0, "> 0"),
        ("eta2", p.eta2 > 0, "> 0"),
        ("delta", 0 < p.delta <= 1, "in (0, 1]"),
        ("beta", 0 < p.beta < 0.5, "in (0, 0.5)"),
        ("nu", p.nu > 1, "> 1"),
        ("xi_b", p.xi_b > 0, "> 0"),
        ("tol", p.tol > 0, "> 0"),
        ("max_iter", p.max_iter >= 0, ">= 0"),
        ("max_inner", p.max_inner >= 1, ">= 1"),
        ("theta_power", p.theta_power > 0, "> 0"),
        ("block_size", p.block_size >= 1, ">= 1"),
        ("block_kind", p.block_kind in ("count", "gaussian"), "'count' or 'gaussian'"),
        ("time_limit", p.time_limit is None or p.time_limit > 0, "> 0"),
        ("log_every", p.log_every >= 0, ">= 0"),
    ]
    for name, ok, want in rules:
        if not ok:
            raise ValueError(f"{name} must be {want}, got {getattr(p, name)!r}")


def solve(
    form,
    params: Params | None = None,
    callback: Callable[[IterInfo], bool | None] | None = None,
    log: Callable[[str], None] | None = print,
    rng: np.random.Generator | None = None,
) -> Output:
    """Run AdaSketch-Newton on an equality-only NLPForm (c(x) = con_lower; bounds ignored).

    `callback(info)` is called after every iteration; returning True stops the run
    ("interrupted"). With `params.log_every = k > 0`, a progress line goes to `log` every k
    iterations.
    """
    p = params or Params()
    check_params(p)
    t0 = time.perf_counter()
    deadline = None if p.time_limit is None else t0 + p.time_limit
    rng = rng if rng is not None else np.random.default_rng(p.seed)
    n, m = int(form.n), int(form.m)
    dense = n + m <= p.dense_limit
    orc = _Oracles(form, dense)
    geo = _Geometry(p, dense)
    solver = make_sketch(p.sketch, rng, block_size=p.block_size, block_kind=p.block_kind)
    x = np.array(form.x0, dtype=float).ravel()
    lam = np.zeros(m) if form.lam0 is None else np.array(form.lam0, dtype=float).ravel()
    eta1, eta2, delta = p.eta1, p.eta2, p.delta
    out = Output("iteration_limit", "", x, lam, math.nan, math.inf, 0, seed=p.seed, sketch=p.sketch)
    counts = {"inner": 0, "caps": 0, "mods": 0, "pen": 0}
    flops_inner = flops_outer = 0.0
    setup_for = None  # the K the sketch solver was set up with

    f, g, c, G = orc.point(x)

    def finish(status: str, message: str, k: int) -> Output:
        out.status, out.message, out.iterations = status, message, k
        out.x, out.lam, out.f = x, lam, f
        out.kkt = out.kkt_history[-1] if out.kkt_history else math.inf
        out.flops_inner, out.flops = flops_inner, flops_inner + flops_outer + geo.flops
        out.f_evals, out.grad_evals, out.hess_evals = orc.f_evals, orc.grad_evals, orc.hess_evals
        out.inner_iterations, out.inner_cap_hits = counts["inner"], counts["caps"]
        out.hessian_modifications, out.penalty_updates = counts["mods"], counts["pen"]
        out.eta1, out.eta2, out.time = eta1, eta2, time.perf_counter() - t0
        return out

    for k in range(p.max_iter + 1):
        gl = g + G.T @ lam
        b = -np.concatenate([gl, c])
        nb = float(np.linalg.norm(b))
        out.kkt_history.append(nb)
        flops_outer += 2.0 * _nnz(G) + 2.0 * (n + m)
        if not math.isfinite(nb) or not math.isfinite(f):
            return finish("nan", "the functions returned NaN or Inf at the current point", k)
        if nb <= p.tol:
            return finish("optimal", f"KKT residual {nb:.3e} <= tol {p.tol:g}", k)
        if k == p.max_iter:
            return finish("iteration_limit", f"reached {p.max_iter} iterations (KKT {nb:.3e})", k)
        if deadline is not None and time.perf_counter() > deadline:
            return finish("time_limit", f"time limit {p.time_limit:g}s reached (KKT {nb:.3e})", k)
        if interrupts.requested():  # Ctrl-C: keep the current point (optdsl.interrupts)
            return finish("interrupted", f"interrupted (KKT {nb:.3e})", k)

        H = orc.hess(x, lam)
        geo.update(H, G)
        if m and geo.xi_g < p.singular_tol:
            return finish(
                "singular",
                f"lambda_min(G G^T) = {geo.xi_g:.3e} < {p.singular_tol:g}: the constraint Jacobian "
                "is (nearly) rank deficient",
                k,
            )
        counts["mods"] += int(geo.modified)
        delta = max(min(delta, geo.delta_trial(eta1, eta2)), p.delta_min)
        if setup_for is not geo.K:
            flops_inner += solver.setup(geo.K)
            setup_for = geo.K
        theta = min(1.0, nb**p.theta_power) if p.superlinear else 1.0

        # Pieces of grad L_eta that do not depend on eta.
        hg = H @ gl
        gg = G @ gl
        gtc = G.T @ c
        flops_outer += 2.0 * _nnz(H) + 4.0 * _nnz(G)
        z = None
        inner_k = 0
        while True:
            rtol = max(theta * delta / (geo.norm_k * geo.psi), p.rtol_min)
            res = solver.solve(b, rtol * nb, z0=z, max_iter=p.max_inner, deadline=deadline)
            z = res.z
            inner_k += res.iterations
            counts["inner"] += res.iterations
            flops_inner += res.flops
            counts["caps"] += int(not res.converged and not res.timed_out)
            if res.timed_out:
                return finish("time_limit", f"time limit {p.time_limit:g}s reached in the inner solve", k)
            dx, dl = z[:n], z[n:]
            slope = float((gl + eta1 * gtc + eta2 * hg) @ dx + (c + eta2 * gg) @ dl)
            flops_outer += 4.0 * (n + m)
            if slope <= -0.5 * eta2 * nb * nb:
                break
            if eta1 * p.nu**2 > p.eta1_max or eta2 / p.nu < p.eta2_min:
                return finish(
                    "penalty_limit",
                    f"no sufficient descent direction of the merit with eta1 <= {p.eta1_max:g} "
                    f"and eta2 >= {p.eta2_min:g} (KKT {nb:.3e})",
                    k,
                )
            eta1, eta2 = eta1 * p.nu**2, eta2 / p.nu
            delta = max(min(delta / p.nu**4, geo.delta_trial(eta1, eta2)), p.delta_min)
            counts["pen"] += 1

        # Armijo backtracking on the exact augmented Lagrangian.
        m0 = _merit(f, lam, c, gl, eta1, eta2)
        # Near a solution the predicted decrease falls below the rounding error of L_eta
        # itself; allow that much slack so full steps are not rejected by noise.
        noise = 10.0 * np.finfo(float).eps * max(1.0, abs(m0))
        alpha = 1.0
        for _ in range(p.max_backtracks):
            xt, lt = x + alpha * dx, lam + alpha * dl
            ft, gt, ct, Gt = orc.point(xt)
            mt = _merit(ft, lt, ct, gt + Gt.T @ lt, eta1, eta2)
            flops_outer += 2.0 * _nnz(Gt) + 8.0 * (n + m)
            if mt <= m0 + alpha * p.beta * slope + noise:  # False for NaN: backtrack
                break
            alpha *= 0.5
        else:
            return finish("line_search", f"Armijo line search failed after {p.max_backtracks} halvings", k)
        x, lam, f, g, c, G = xt, lt, ft, gt, ct, Gt

        if p.log_every and log is not None and (k % p.log_every == 0):
            log(
                f"sketch_newton it {k:5d}  kkt {nb:.3e}  f {f:.6e}  alpha {alpha:.2e}  "
                f"eta1 {eta1:.2e}  eta2 {eta2:.2e}  inner {inner_k}  mod {int(geo.modified)}"
            )
        if callback is not None:
            total = flops_inner + flops_outer + geo.flops
            info = IterInfo(k, nb, f, alpha, eta1, eta2, delta, inner_k, total, geo.modified)
            if callback(info):
                out.kkt_history.append(float(np.linalg.norm(np.concatenate([g + G.T @ lam, c]))))
                return finish("interrupted", "stopped by the progress callback", k + 1)
    raise AssertionError("unreachable")  # pragma: no cover
