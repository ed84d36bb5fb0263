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
from .inner_solvers import make_sketch
from .options import NORMS, SINGULAR_TESTS, SKETCHES, THETA_SCHEDULES

Matrix = np.ndarray | sp.spmatrix
_MAX_MATERIALIZE = 4000  # columns of a Hessian operator we are willing to expand
# auto: a sketch that ends a capped inner solve with more than this share of the residual left
# is making no headway (measured: <= 0.52 on every capped CUTEst solve, >= 0.77 on the PDE).
_STALL = 0.7


@dataclass
class Params:
    """Defaults are the reference code's (CUTEst/Parameter/Param.jl)."""

    sketch: str = "auto"  # auto | one of SKETCHES; auto: see resolve_sketch
    auto_size: int = 1000  # auto: kaczmarz (the reference's RK) up to this n + m, minres above
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
    theta_schedule: str = "kkt"  # with superlinear: kkt or geometric (see theta_k)
    theta_power: float = 1.0  # kkt: theta_k = min(1, ||grad L_k||^theta_power)
    theta_rate: float = 0.5  # geometric: theta_k = theta_rate^k
    block_size: int = 8
    block_kind: str = "count"
    seed: int | None = 0
    norm: str = "frobenius"  # norms in psi, Upsilon, ||K|| and the Hessian shift: frobenius | spectral
    singular_test: str = "absolute"  # absolute: lambda_min(G G^T) < singular_tol; relative: see below
    singular_tol: float = 1e-2  # lambda_min(G G^T) below this aborts ("singular")
    singular_rtol: float = 1e-14  # relative test: lambda_min(G G^T) < singular_rtol ||G||_F^2 aborts
    hess_mod_tol: float = 1e-6  # reduced-Hessian eigenvalue that triggers the modification
    delta_min: float = 1e-6
    eta1_max: float = 1e8
    eta2_min: float = 1e-8
    rtol_min: float = 1e-13
    max_backtracks: int = 60
    dense_limit: int = 1500  # n + m up to this: dense linear algebra
    log_every: int = 0
    device: str = "cpu"  # torch device for the minres inner solver ("cuda", "cuda:K")
    progress_after: float = 10.0  # seconds; a run still going after this logs a line every progress_every s
    progress_every: float = 5.0


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
    inner_history: list[int] = field(default_factory=list)  # inner steps per outer iteration
    alpha_history: list[float] = field(default_factory=list)
    flops: float = 0.0
    flops_inner: float = 0.0
    f_evals: int = 0
    grad_evals: int = 0
    hess_evals: int = 0
    c_evals: int = 0
    jac_evals: int = 0
    inner_iterations: int = 0
    inner_cap_hits: int = 0
    hessian_modifications: int = 0
    penalty_updates: int = 0
    penalty_limit_hits: int = 0  # directions line-searched without passing the descent test
    solver_switches: int = 0  # auto: sketch -> minres switches
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
        self.f_evals = self.grad_evals = self.hess_evals = self.c_evals = self.jac_evals = 0

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
        self.c_evals += 1
        self.jac_evals += int(form.m > 0)
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
            self.norm_g_fro = linalg.fro_norm(G)[0]
            self.flops += f1 + 2.0 * _nnz(G)
        spectral = p.norm == "spectral"
        if not same_g:
            if spectral:
                self.norm_g, f2 = linalg.rect_norm(G, dense)
            else:
                self.norm_g, f2 = linalg.fro_norm(G)
            self.flops += f2
        self.norm_h, f3 = linalg.sym_norm(H, dense) if spectral else linalg.fro_norm(H)
        self.modified = False
        if m < n:
            lam_z, f4 = linalg.reduced_hessian_min(H, G, dense)
            self.flops += f4
            self.modified = lam_z < p.hess_mod_tol
        shift = p.xi_b + self.norm_h
        if self.modified:
            eye = np.eye(n) if dense else sp.identity(n, format="csr")
            self.B = H + shift * eye
            if spectral:
                self.norm_b = self.norm_h + shift  # all eigenvalues of B lie in [xi_B, 2||H|| + xi_B]
            else:
                self.norm_b = linalg.fro_norm_shifted(H, shift, self.norm_h)
        else:
            self.B, self.norm_b = H, self.norm_h
        self.K = (
            np.block([[self.B, G.T], [G, np.zeros((m, m))]])
            if dense
            else sp.bmat([[self.B, G.T], [G, None]], format="csr")
        )
        if spectral:
            self.norm_k, f5 = linalg.sym_norm(self.K, dense)
        else:  # ||K||_F^2 = ||B||_F^2 + 2 ||G||_F^2
            self.norm_k, f5 = float(np.sqrt(self.norm_b**2 + 2.0 * self.norm_g**2)), 4.0
        self.flops += f3 + f5 + _nnz(self.K)
        self.H, self.G = H.copy(), G.copy()  # copies: an oracle may reuse its output buffers
        # psi and Upsilon of the paper, in the chosen norm.
        self.psi = 20.0 * max(self.norm_b**2, 1.0) / (min(self.xi_g, 1.0) * min(p.xi_b, 1.0))
        self.ups = max(self.norm_g, self.norm_h, 1.0)
        return True

    def singular_threshold(self) -> float:
        """lambda_min(G G^T) below this is 'singular'. The absolute test is the reference
        code's; the relative one compares with ||G||_F^2 >= lambda_max(G G^T), so rescaling
        the constraints does not change its verdict."""
        if self.p.singular_test == "relative":
            return self.p.singular_rtol * self.norm_g_fro**2
        return self.p.singular_tol

    def singular(self) -> bool:
        return not self.xi_g >= self.singular_threshold() or self.xi_g <= 0.0

    def delta_trial(self, eta1: float, eta2: float) -> float:
        return (0.5 - self.p.beta) * eta2 / ((1.0 + eta1 + eta2) * self.ups**2 * self.psi**2)


def _merit(f: float, lam: np.ndarray, c: np.ndarray, gl: np.ndarray, eta1: float, eta2: float) -> float:
    return f + float(lam @ c) + 0.5 * eta1 * float(c @ c) + 0.5 * eta2 * float(gl @ gl)


def check_params(p: Params) -> None:
    """Raise ValueError naming the first parameter outside its range."""
    rules = [
        ("sketch", p.sketch in SKETCHES or p.sketch == "auto", f"auto or one of {', '.join(SKETCHES)}"),
        ("auto_size", p.auto_size >= 0, ">= 0"),
        ("norm", p.norm in NORMS, "'frobenius' or 'spectral'"),
        ("singular_test", p.singular_test in SINGULAR_TESTS, "'absolute' or 'relative'"),
        ("singular_tol", p.singular_tol >= 0, ">= 0"),
        ("singular_rtol", 0 <= p.singular_rtol < 1, "in [0, 1)"),
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
        ("theta_schedule", p.theta_schedule in THETA_SCHEDULES, "'kkt' or 'geometric'"),
        ("theta_rate", 0 < p.theta_rate < 1, "in (0, 1)"),
        ("block_size", p.block_size >= 1, ">= 1"),
        ("block_kind", p.block_kind in ("count", "gaussian"), "'count' or 'gaussian'"),
        ("time_limit", p.time_limit is None or p.time_limit > 0, "> 0"),
        ("log_every", p.log_every >= 0, ">= 0"),
        ("progress_every", p.progress_every > 0, "> 0"),
    ]
    for name, ok, want in rules:
        if not ok:
            raise ValueError(f"{name} must be {want}, got {getattr(p, name)!r}")


def theta_k(p: Params, k: int, kkt: float) -> float:
    """The factor that sharpens the accuracy condition ||K|| psi ||r|| <= theta_k delta ||b||.

    theta_k = 1 is the paper's linearly convergent method (and all the reference code runs).
    Its superlinear variant needs theta_k -> 0; the classical inexact-Newton forcing terms do
    that: "kkt" ties theta_k to the KKT residual (min(1, ||grad L_k||^p): order 1 + p locally),
    "geometric" decays it with the iteration count (theta_rate^k)."""
    if not p.superlinear:
        return 1.0
    if p.theta_schedule == "geometric":
        return p.theta_rate**k
    return min(1.0, kkt**p.theta_power)


def resolve_sketch(p: Params, n: int, m: int) -> str:
    """The inner solver a run starts with. "auto" is the reference's randomized Kaczmarz up to
    n + m = auto_size, where it meets the accuracy test in affordable steps on the paper's
    problems, and preconditioned MINRES above (measured: docs/sketch_newton.md). During an
    auto run, a sketch that ends an inner solve at its cap having removed less than half of
    the residual is replaced by MINRES for the rest of the run."""
    if p.sketch != "auto":
        return p.sketch
    if p.device != "cpu":  # only minres runs on a torch device
        return "minres"
    return "kaczmarz" if n + m <= p.auto_size else "minres"


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
    auto = p.sketch == "auto"
    sketch = resolve_sketch(p, n, m)
    solver = make_sketch(sketch, rng, block_size=p.block_size, block_kind=p.block_kind, n=n, device=p.device)
    x = np.array(form.x0, dtype=float).ravel()
    lam = np.zeros(m) if form.lam0 is None else np.array(form.lam0, dtype=float).ravel()
    eta1, eta2, delta = p.eta1, p.eta2, p.delta
    out = Output("iteration_limit", "", x, lam, math.nan, math.inf, 0, seed=p.seed, sketch=sketch)
    counts = {"inner": 0, "caps": 0, "mods": 0, "pen": 0, "pen_limit": 0, "switches": 0}
    flops_inner = flops_outer = 0.0
    setup_for = None  # the K the sketch solver was set up with
    last_line = [t0, False]  # time of the last progress line; whether the "still running" note was shown

    f, g, c, G = orc.point(x)

    def finish(status: str, message: str, k: int) -> Output:
        out.status, out.message, out.iterations = status, message, k
        out.x, out.lam, out.f = x, lam, f
        out.kkt = out.kkt_history[-1] if out.kkt_history else math.inf
        out.flops_inner, out.flops = flops_inner, flops_inner + flops_outer + geo.flops
        out.f_evals, out.grad_evals, out.hess_evals = orc.f_evals, orc.grad_evals, orc.hess_evals
        out.c_evals, out.jac_evals = orc.c_evals, orc.jac_evals
        out.inner_iterations, out.inner_cap_hits = counts["inner"], counts["caps"]
        out.hessian_modifications, out.penalty_updates = counts["mods"], counts["pen"]
        out.penalty_limit_hits = counts["pen_limit"]
        out.sketch, out.solver_switches = sketch, counts["switches"]
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
        if m and geo.singular():
            return finish(
                "singular",
                f"lambda_min(G G^T) = {geo.xi_g:.3e} < {geo.singular_threshold():.3e} "
                f"({p.singular_test} test): the constraint Jacobian is (nearly) rank deficient",
                k,
            )
        counts["mods"] += int(geo.modified)
        delta = max(min(delta, geo.delta_trial(eta1, eta2)), p.delta_min)
        if setup_for is not geo.K:
            flops_inner += solver.setup(geo.K)
            setup_for = geo.K
        theta = theta_k(p, k, nb)

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
            capped = not res.converged and not res.timed_out
            counts["caps"] += int(capped)
            if capped and auto and sketch != "minres" and res.residual > _STALL * nb:
                # The sketch made no headway on this K: switch to the Krylov solver for good.
                sketch = "minres"
                solver = make_sketch(sketch, rng, n=n, device=p.device)
                flops_inner += solver.setup(geo.K)
                setup_for = geo.K
                counts["switches"] += 1
                if log is not None:
                    log(f"sketch_newton it {k}: the sketch stalled at its cap; switching to minres")
                continue
            if res.timed_out:
                return finish("time_limit", f"time limit {p.time_limit:g}s reached in the inner solve", k)
            dx, dl = z[:n], z[n:]
            slope = float((gl + eta1 * gtc + eta2 * hg) @ dx + (c + eta2 * gg) @ dl)
            flops_outer += 4.0 * (n + m)
            if slope <= -0.5 * eta2 * nb * nb:
                break
            if eta1 * p.nu**2 > p.eta1_max or eta2 / p.nu < p.eta2_min:
                # The reference code stops tightening here and line-searches the direction it has.
                counts["pen_limit"] += 1
                break
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
        out.inner_history.append(inner_k)
        out.alpha_history.append(alpha)

        if log is not None:
            now = time.perf_counter()
            every = p.log_every and k % p.log_every == 0
            late = 0 <= p.progress_after < now - t0 and now - last_line[0] >= p.progress_every
            if every or late:
                if late and not every and not last_line[1]:
                    log(f"sketch_newton: still running after {now - t0:.0f} s (n = {n}, m = {m}, inner solver "
                        f"{sketch}); a line every {p.progress_every:g} s")  # fmt: skip
                    last_line[1] = True
                last_line[0] = now
                log(
                    f"sketch_newton it {k:5d}  kkt {nb:.3e}  f {f:.6e}  alpha {alpha:.2e}  "
                    f"eta1 {eta1:.2e}  eta2 {eta2:.2e}  inner {inner_k} ({sketch})  mod {int(geo.modified)}  "
                    f"{now - t0:.1f} s"
                )
        if callback is not None:
            total = flops_inner + flops_outer + geo.flops
            info = IterInfo(k, nb, f, alpha, eta1, eta2, delta, inner_k, total, geo.modified)
            if callback(info):
                out.kkt_history.append(float(np.linalg.norm(np.concatenate([g + G.T @ lam, c]))))
                return finish("interrupted", "stopped by the progress callback", k + 1)
    raise AssertionError("unreachable")  # pragma: no cover
