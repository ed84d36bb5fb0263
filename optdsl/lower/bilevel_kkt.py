"""The KKT pass: a bilevel form whose follower is a convex QP becomes one single-level problem.

Follower:  min_y f(x, y) = c'z + 1/2 z'Qz  (z = (x, y))   s.t.  l <= A z + a <= u,  y in [ly, uy],
convex in y (Q_yy positive semidefinite), rows affine. y solves it exactly when the KKT conditions
hold (Slater is automatic for affine rows):

  stationarity   c_y + Q_y. z + sum_j lam_j s_j A_jy + sum_i mu_i A_iy - nu_lo + nu_up = 0
  feasibility    the follower's rows and bounds
  complementarity  lam_j (s_j(A_j z + a_j) - b_j) = 0, nu (bound slack) = 0,  lam, nu >= 0,

one-sided inequality rows s_j(A_j z + a_j) - b_j <= 0, equality rows with free mu. Each
complementarity pair becomes big-M rows with a binary u:  lam <= M u,  slack <= M (1 - u).
The result is an LPForm (MILP when the leader objective is linear; a continuous QP when the
follower has no inequality); HiGHS solves it to global optimality, which makes it the exact
reference for small problems. The optimistic solution is found: among the follower's optimal
answers the leader's best. A multiplier or slack at M means M was too small (reported).

Refused (with the reason): a nonlinear part at either level, a nonconvex follower, nonlinear leader
rows, and a quadratic leader objective together with complementarity (an MIQP; HiGHS does not
solve those).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from optdsl.errors import SolverError
from optdsl.lazy import LazyModule
from optdsl.lower.forms import BilevelForm, Block, Layout, LPForm
from optdsl.lower.passes import Pass
from optdsl.results import Result

sp = LazyModule("scipy.sparse")  # imported when the pass runs, not when the chooser lists it


@dataclass
class KKTInverse:
    n: int
    layout: Layout
    blocks: dict[str, tuple[int, int]]  # name -> (start, size) of the added columns
    big_m: float


def _quad(expr: Any, n: int) -> tuple[np.ndarray, sp.csr_matrix, float]:
    c = np.bincount(expr.cols, weights=expr.vals, minlength=n).astype(np.float64)
    if expr.has_quad:
        M = sp.coo_matrix((expr.q_vals, (expr.q_i, expr.q_j)), shape=(n, n)).tocsr()
        Q = (M + M.T).tocsr()
    else:
        Q = sp.csr_matrix((n, n))
    return c, Q, float(expr.const[0])


def _rows(blocks: list[Any], n: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    As, lo, hi = [], [], []
    for b in blocks:
        e = b.expr
        As.append(sp.csr_matrix((e.vals, (e.rows, e.cols)), shape=(e.n, n)))
        lo.append(np.broadcast_to(np.asarray(b.lower, dtype=np.float64), (e.n,)) - e.const)
        hi.append(np.broadcast_to(np.asarray(b.upper, dtype=np.float64), (e.n,)) - e.const)
    if not As:
        return sp.csr_matrix((0, n)), np.zeros(0), np.zeros(0)
    return sp.vstack(As, format="csr"), np.concatenate(lo), np.concatenate(hi)


class BilevelKKT(Pass):
    """bilevel -> lp: the follower replaced by its KKT conditions with big-M complementarity."""

    name: ClassVar[str] = "bilevel_kkt"
    description: ClassVar[str] = "a convex-QP follower replaced by its KKT conditions (big-M complementarity)"
    form_in: ClassVar[str] = "bilevel"
    form_out: ClassVar[str] = "lp"
    requires: ClassVar[frozenset[str]] = frozenset({"bilevel"})
    removes: ClassVar[frozenset[str]] = frozenset({"bilevel"})
    adds: ClassVar[frozenset[str]] = frozenset({"integer"})

    def __init__(self, big_m: float = 1e4) -> None:
        self.big_m = float(big_m)

    def accepts(self, form: Any) -> str | None:
        if not isinstance(form, BilevelForm):
            return f"takes a bilevel form, not {type(form).__name__}"
        up, lo = form.upper, form.lower
        if getattr(lo, "objective", None) is None or getattr(up, "objective", None) is None:
            return "the bilevel form does not carry its IR blocks"
        if lo.objective.expr.nl is not None:
            return f"the follower objective '{lo.objective.name}' is not quadratic"
        if up.objective.expr.nl is not None:
            return f"the leader objective '{up.objective.name}' is not linear or quadratic"
        for b in list(lo.blocks) + list(up.blocks):
            if not b.expr.is_affine:
                return f"constraint '{b.name}' is not linear"
        n = int(form.col_lower.shape[0])
        _, Q, _ = _quad(lo.objective.expr, n)
        fi = form.follower_idx
        Qyy = (Q[fi][:, fi]).toarray() * lo.objective_sign
        if Qyy.size and fi.size <= 3000:
            if float(np.linalg.eigvalsh(Qyy).min()) < -1e-9 * max(1.0, float(np.abs(Qyy).max())):
                return "the follower objective is not convex in the follower's variables"
        elif fi.size > 3000:
            return "the follower has more than 3000 variables (convexity is checked densely)"
        has_q = up.objective.expr.has_quad
        if has_q and self._complementarity_count(form) > 0:
            return ("the leader objective is quadratic and the follower has inequality rows or bounds: "
                    "the KKT reformulation would be an MIQP, which HiGHS does not solve")
        return None

    @staticmethod
    def _complementarity_count(form: BilevelForm) -> int:
        n = int(form.col_lower.shape[0])
        _, rl, ru = _rows(form.lower.blocks, n)
        eq = (rl == ru) & np.isfinite(rl)
        ineq = int(np.sum(~eq & np.isfinite(ru)) + np.sum(~eq & np.isfinite(rl)))
        fi = form.follower_idx
        return ineq + int(np.isfinite(form.col_lower[fi]).sum() + np.isfinite(form.col_upper[fi]).sum())

    def apply(self, form: BilevelForm, options: Any = None) -> tuple[LPForm, KKTInverse]:
        reason = self.accepts(form)
        if reason is not None:
            raise SolverError(f"the KKT reformulation cannot take this bilevel model: {reason}")
        M = self.big_m
        n = int(form.col_lower.shape[0])
        fi = form.follower_idx
        ny = fi.size
        sf = form.lower.objective_sign
        cf, Qf, _ = _quad(form.lower.objective.expr, n)
        cf, Qf = sf * cf, sf * Qf
        A, rl, ru = _rows(form.lower.blocks, n)
        eq = (rl == ru) & np.isfinite(rl)
        up_r = np.flatnonzero(~eq & np.isfinite(ru))
        dn_r = np.flatnonzero(~eq & np.isfinite(rl))
        eq_r = np.flatnonzero(eq)
        # one-sided inequalities s * (A z) - b <= 0 ; b = ru (s = +1) or -rl (s = -1)
        ineq_rows = np.concatenate([up_r, dn_r])
        s = np.concatenate([np.ones(up_r.size), -np.ones(dn_r.size)])
        b = np.concatenate([ru[up_r], -rl[dn_r]])
        A_in = sp.diags(s) @ A[ineq_rows] if ineq_rows.size else sp.csr_matrix((0, n))
        lo_y, hi_y = form.col_lower[fi], form.col_upper[fi]
        bl = np.flatnonzero(np.isfinite(lo_y))  # follower positions with a lower bound
        bu = np.flatnonzero(np.isfinite(hi_y))
        p_in, p_eq, p_l, p_u = ineq_rows.size, eq_r.size, bl.size, bu.size
        p_c = p_in + p_l + p_u  # complementarity pairs
        # columns: z | lam (p_in) | mu (p_eq) | nu_l (p_l) | nu_u (p_u) | u (p_c)
        o_lam = n
        o_mu = o_lam + p_in
        o_nl = o_mu + p_eq
        o_nu = o_nl + p_l
        o_u = o_nu + p_u
        N = o_u + p_c
        Sy = sp.csr_matrix((np.ones(ny), (np.arange(ny), fi)), shape=(ny, n))  # picks y out of z
        # stationarity: Q_y. z + A_in[:,y]' lam + A_eq[:,y]' mu - E_l nu_l + E_u nu_u = -c_y
        E_l = sp.csr_matrix((np.ones(p_l), (bl, np.arange(p_l))), shape=(ny, p_l))
        E_u = sp.csr_matrix((np.ones(p_u), (bu, np.arange(p_u))), shape=(ny, p_u))
        stat = sp.hstack([Sy @ Qf, (A_in @ Sy.T).T, (A[eq_r] @ Sy.T).T, -E_l, E_u, sp.csr_matrix((ny, p_c))])
        rows = [stat]
        lo_rows = [-cf[fi]]
        hi_rows = [-cf[fi]]
        # the follower's rows and the leader's rows, as they are
        Al, ll, lu = _rows(form.upper.blocks, n)
        for Ar, l_, u_ in ((A, rl, ru), (Al, ll, lu)):
            if Ar.shape[0]:
                rows.append(sp.hstack([Ar, sp.csr_matrix((Ar.shape[0], N - n))]))
                lo_rows.append(l_)
                hi_rows.append(u_)
        if p_c:
            # multipliers: lam_k - M u_k <= 0
            I_c = sp.identity(p_c, format="csr")
            cols_mult = np.concatenate([o_lam + np.arange(p_in), o_nl + np.arange(p_l), o_nu + np.arange(p_u)])
            Mrows = sp.csr_matrix((np.ones(p_c), (np.arange(p_c), cols_mult)), shape=(p_c, N)) - M * sp.hstack(
                [sp.csr_matrix((p_c, o_u)), I_c])
            rows.append(Mrows)
            lo_rows.append(np.full(p_c, -np.inf))
            hi_rows.append(np.zeros(p_c))
            # slacks: slack_k + M u_k <= M, slack = b - A_in z (rows), y - ly, uy - y (bounds)
            slack_z = sp.vstack([-A_in, Sy[bl], -Sy[bu]], format="csr")
            slack_c = np.concatenate([b, -lo_y[bl], hi_y[bu]])  # slack = slack_z z + slack_c
            Srows = sp.hstack([slack_z, sp.csr_matrix((p_c, o_u - n)), M * I_c])
            rows.append(Srows)
            lo_rows.append(np.full(p_c, -np.inf))
            hi_rows.append(M - slack_c)
        Abig = sp.vstack(rows, format="csr")
        cu, Qu, c0 = _quad(form.upper.objective.expr, n)
        c = np.concatenate([cu, np.zeros(N - n)])
        Q = None
        if form.upper.objective.expr.has_quad:
            Q = sp.block_diag([Qu, sp.csr_matrix((N - n, N - n))], format="csc")
        col_lower = np.concatenate([form.col_lower, np.zeros(p_in), np.full(p_eq, -np.inf), np.zeros(p_l + p_u),
                                    np.zeros(p_c)])
        col_upper = np.concatenate([form.col_upper, np.full(p_in + p_eq + p_l + p_u, np.inf), np.ones(p_c)])
        integrality = np.zeros(N, dtype=bool)
        integrality[o_u:] = True
        added = {"kkt_lambda": (o_lam, p_in), "kkt_mu": (o_mu, p_eq), "kkt_nu_lower": (o_nl, p_l),
                 "kkt_nu_upper": (o_nu, p_u), "kkt_active": (o_u, p_c)}
        layout = Layout(variables=list(form.layout.variables)
                        + [Block(k, s0, sz, (lambda sz=sz: [(i + 1,) for i in range(sz)]))
                           for k, (s0, sz) in added.items() if sz],
                        constraints=[], objective_name=form.layout.objective_name)
        lp = LPForm(c=c, A=Abig, row_lower=np.concatenate(lo_rows), row_upper=np.concatenate(hi_rows),
                    col_lower=col_lower, col_upper=col_upper, sense=form.upper.sense, c0=c0, Q=Q,
                    integrality=integrality if p_c else None, layout=layout)
        return lp, KKTInverse(n=n, layout=form.layout, blocks=added, big_m=M)

    def invert(self, result: Result, inverse: KKTInverse) -> Result:
        x = result.x
        stats = dict(result.stats)
        if x is not None:
            for k, (s0, sz) in inverse.blocks.items():
                if sz and k != "kkt_active":
                    stats[k] = [float(v) for v in x[s0:s0 + sz]]
            mult = [x[s0:s0 + sz] for k, (s0, sz) in inverse.blocks.items()
                    if k in ("kkt_lambda", "kkt_nu_lower", "kkt_nu_upper") and sz]
            if mult and float(np.max(np.abs(np.concatenate(mult)))) >= 0.999 * inverse.big_m:
                result.message = (result.message + "; " if result.message else "") + (
                    f"a multiplier reached big-M = {inverse.big_m:g}: the answer may be cut off, raise big_m")
            x = x[:inverse.n]
        result.x = x
        result.layout = inverse.layout
        result.row_duals = None
        result.reduced_costs = None
        result.stats = stats
        return result
