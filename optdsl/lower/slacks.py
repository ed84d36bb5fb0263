"""Squared slacks: an NLPForm with inequality rows and variable bounds becomes equality-only.

Every finite side of an inequality gets its own equality and slack variable s, squared so the
slack needs no bound of its own:

    cl <= c_i(x)  ->  c_i(x) - s^2 = cl        c_i(x) <= cu  ->  c_i(x) + s^2 = cu
    l  <= x_j     ->  x_j    - s^2 = l         x_j    <= u   ->  x_j    + s^2 = u

Equality rows (cl == cu) are kept, free rows (both sides infinite) dropped, and fixed
variables (l == u) become x_j = l. So a two-sided row costs two equalities and two slacks.
The new variables are (x, s); rows are the constraint-derived ones in original order, then the
bound rows. Starting slacks are s0 = sqrt(max(gap, min_slack^2)): an exactly zero slack is a
trap for Newton's method (its column of the Jacobian, 2 s, vanishes), so x0 slightly violates
an active or violated inequality instead.

Caveat of squared slacks: any point with s = 0 makes the slack's gradient condition hold for
either sign of the multiplier, so a local method can stop where the inequality's multiplier
has the wrong sign. Check the returned duals' signs when it matters.

`invert` drops the slacks and sums the new rows' duals back onto their original row (row
duals) or variable (reduced costs), with optdsl's convention: derivative of the optimal
objective with respect to that bound.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from optdsl.lower.forms import Block, Layout, NLPForm
from optdsl.lower.passes import Pass
from optdsl.results import Result

if TYPE_CHECKING:  # the pass is loaded whenever a backend is chosen: scipy only once it applies
    import scipy.sparse as sp


@dataclass
class SlackInverse:
    n: int
    m: int
    row_src: np.ndarray  # original row of each constraint-derived new row
    bound_var: np.ndarray  # variable of each bound row
    layout: Layout
    n_slacks: int


def _sides(lo: np.ndarray, hi: np.ndarray) -> list[tuple[int, float, float]]:
    """(index, sigma, target) for each equality or finite side of lo <= . <= hi."""
    out: list[tuple[int, float, float]] = []
    for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
        if a == b:
            out.append((i, 0.0, float(a)))
            continue
        if np.isfinite(a):
            out.append((i, -1.0, float(a)))
        if np.isfinite(b):
            out.append((i, 1.0, float(b)))
    return out


class SquaredSlacks(Pass):
    """Inequalities and bounds of an NLP form become equalities with squared slacks."""

    name = "squared_slacks"
    description = "inequality rows and variable bounds -> equalities with squared slacks"
    form_in = "nlp"
    form_out = "nlp"
    requires = frozenset({"inequalities"})
    removes = frozenset({"inequalities"})

    def __init__(self, min_slack: float = 0.1) -> None:
        self.min_slack = float(min_slack)

    def accepts(self, form) -> str | None:
        if not isinstance(form, NLPForm):
            return f"squared slacks rewrite an NLP form, not {type(form).__name__}"
        return None

    def apply(self, form: NLPForm, options=None) -> tuple[NLPForm, SlackInverse]:
        import scipy.sparse as sp

        n, m = form.n, form.m
        cl, cu = np.asarray(form.con_lower, float), np.asarray(form.con_upper, float)
        xl, xu = np.asarray(form.col_lower, float), np.asarray(form.col_upper, float)
        # New rows as (source, sigma, target); sigma = 0 marks an equality (no slack).
        rows = _sides(cl, cu)
        bounds = _sides(xl, xu)
        src = [r[0] for r in rows]
        bvar = [r[0] for r in bounds]
        sig = [r[1] for r in rows] + [r[1] for r in bounds]
        tgt = [r[2] for r in rows] + [r[2] for r in bounds]
        row_src = np.asarray(src, dtype=int)
        bound_var = np.asarray(bvar, dtype=int)
        sigma = np.asarray(sig, dtype=float)  # per new row
        target = np.asarray(tgt, dtype=float)
        mc, mb = row_src.size, bound_var.size
        m2 = mc + mb
        has_slack = sigma != 0.0
        slack_row = np.flatnonzero(has_slack)  # new row of each slack
        p = slack_row.size
        slack_of_row = np.full(m2, -1)
        slack_of_row[slack_row] = np.arange(p)
        sig_s = sigma[slack_row]
        E = sp.csr_matrix((np.ones(mb), (np.arange(mb), bound_var)), shape=(mb, n))

        def split(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return z[:n], z[n:]

        def base(x: np.ndarray) -> np.ndarray:
            cx = np.asarray(form.c(x), dtype=float).ravel() if m else np.zeros(0)
            return np.concatenate([cx[row_src], x[bound_var]])

        def c(z: np.ndarray) -> np.ndarray:
            x, s = split(z)
            out = base(x)
            out[slack_row] += sig_s * s * s
            return out

        def jac(z: np.ndarray) -> sp.csr_matrix:
            x, s = split(z)
            J = sp.csr_matrix(form.jac(x)) if m else sp.csr_matrix((0, n))
            top = J[row_src] if mc else sp.csr_matrix((0, n))
            left = sp.vstack([top, E], format="csr")
            right = sp.csr_matrix((2.0 * sig_s * s, (slack_row, np.arange(p))), shape=(m2, p))
            return sp.hstack([left, right], format="csr")

        def hess_lag(z: np.ndarray, lam: np.ndarray) -> sp.csr_matrix:
            x, _ = split(z)
            lam_orig = np.bincount(row_src, weights=lam[:mc], minlength=m) if m else np.zeros(0)
            H = sp.csr_matrix(form.hess_lag(x, lam_orig))
            Hs = sp.diags(2.0 * sig_s * lam[slack_row])
            return sp.block_diag([H, Hs], format="csr")

        x0 = np.asarray(form.x0, dtype=float).ravel()
        gap = (target - base(x0))[slack_row] * sig_s  # = s^2 when the row holds at x0
        s0 = np.sqrt(np.maximum(gap, self.min_slack**2))
        lam0 = np.zeros(m2)
        if form.lam0 is not None and m:
            lam0[:mc] = np.asarray(form.lam0, dtype=float)[row_src]
        slack_block = Block("_slack", n, p, keys=lambda: [(k,) for k in range(p)])
        layout = Layout(
            variables=list(form.layout.variables) + [slack_block],
            constraints=[Block("_rows", 0, m2, keys=lambda: [(k,) for k in range(m2)])],
            objective_name=form.layout.objective_name,
        )
        new = NLPForm(
            n=n + p,
            m=m2,
            x0=np.concatenate([x0, s0]),
            f=lambda z: form.f(z[:n]),
            grad=lambda z: np.concatenate([np.asarray(form.grad(z[:n]), dtype=float).ravel(), np.zeros(p)]),
            c=c,
            jac=jac,
            hess_lag=hess_lag,
            con_lower=target.copy(),
            con_upper=target.copy(),
            lam0=lam0,
            sense=form.sense,
            layout=layout,
            name=form.name,
        )
        return new, SlackInverse(n, m, row_src, bound_var, form.layout, p)

    def invert(self, result: Result, inverse: SlackInverse) -> Result:
        n, m, mc = inverse.n, inverse.m, inverse.row_src.size
        x = None if result.x is None else np.asarray(result.x)[:n].copy()
        row_duals = reduced = None
        if result.row_duals is not None:
            d = np.asarray(result.row_duals, dtype=float)
            row_duals = np.bincount(inverse.row_src, weights=d[:mc], minlength=m).astype(float)
            reduced = np.bincount(inverse.bound_var, weights=d[mc:], minlength=n).astype(float)
        stats = dict(result.stats)
        stats["slacks"] = inverse.n_slacks
        return dataclasses.replace(
            result, x=x, row_duals=row_duals, reduced_costs=reduced, layout=inverse.layout, stats=stats
        )
