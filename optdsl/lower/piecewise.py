"""The `piecewise_linear` pass: an LPForm with piecewise-linear terms becomes a plain LP or MILP.

The LP lowering keeps each term instance as a free *value column* v = f(arg) and hands the
instances over in `LPForm.piecewise` (optdsl/ir/piecewise.py). This pass writes every instance
with segment columns (AMPL's own "delta" formulation), anchored at the first breakpoint b1:

    arg = b1 - d0 + d1 + ... + d[n-1] + dn        d0, dn >= 0 (the rays), 0 <= dk <= b[k+1] - b[k]
    v   = f(b1) - s1 d0 + s2 d1 + ... + s[n+1] dn

(an instance without breakpoints is linear: anchor 0, both rays of slope s1). This is exact as an
LP when the optimization pushes v the way the function bends: v convex and only ever wanted
small (a minimized objective, the left side of a `<=`, ...), or concave and only wanted large.
Which way each v is wanted is read from the form itself: the objective coefficient and sense,
and the sign of each coefficient against the finite sides of its row; a v in an equality, a
range or another term's argument is wanted both ways. Every other instance gets the incremental
MIP formulation: binaries z1..zn (z_k = 1 once arg passes b_k) with

    d0 <= M0 (1 - z1),   w_k z[k+1] <= d_k <= w_k z_k,   dn <= Mn zn,

where M0 = b1 - lb(arg) and Mn = ub(arg) - bn come from the variable bounds (HiGHS has no SOS2;
without a finite bound a nonconvex ray has no MILP model, which is the error given).

`invert` keeps the value columns (so constraint bodies evaluate) and drops the segment and
binary columns and the added rows: the user sees their own variables and rows only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from optdsl.errors import SolverError
from optdsl.ir.piecewise import ramp, value
from optdsl.lower.csr import CSRMatrix
from optdsl.lower.forms import LPForm
from optdsl.lower.passes import Pass
from optdsl.results import Result

if TYPE_CHECKING:  # pragma: no cover
    from optdsl.backends import SolveOptions


@dataclass
class PiecewiseInverse:
    n: int  # columns of the input form (the model's variables and the value columns)
    m: int  # rows of the input form
    stats: dict[str, int]
    terms: list[Any]  # the PiecewiseTerms, in the order they were made (inner terms first)


class PiecewiseLinear(Pass):
    """Piecewise-linear terms -> segment columns, with binaries only where the term is nonconvex."""

    name = "piecewise_linear"
    description = "piecewise-linear terms -> segment columns (LP where convex), binaries elsewhere"
    form_in = "lp"
    form_out = "lp"
    requires = frozenset({"piecewise"})
    removes = frozenset({"piecewise"})
    adds = frozenset({"integer"})  # a nonconvex term needs binaries; a convex model stays an LP

    def accepts(self, form: Any) -> str | None:
        if not isinstance(form, LPForm):
            return f"piecewise-linear terms are rewritten in an LP form, not {type(form).__name__}"
        if form.Q is not None and form.Q.nnz and form.piecewise:
            vcols = _value_columns(form)
            Q = form.Q.tocoo()
            if np.isin(Q.row, vcols).any():
                return "a piecewise-linear term is multiplied by a variable in the quadratic objective"
        return None

    def apply(self, form: LPForm, options: SolveOptions | None = None) -> tuple[LPForm, PiecewiseInverse]:
        return expand(form)

    def invert(self, result: Result, inverse: PiecewiseInverse) -> Result:
        n, m = inverse.n, inverse.m
        x = None if result.x is None else np.asarray(result.x, dtype=np.float64)[:n].copy()
        if x is not None:
            # a value column not pushed against its function (a slack row) may sit anywhere the
            # relaxation allows: report f(arg) itself, so bodies and displays are the model's
            for t in inverse.terms:
                arg = t.arg.const + np.bincount(t.arg.rows, weights=t.arg.vals * x[t.arg.cols], minlength=t.n)
                x[t.value_start:t.value_start + t.n] = value(t, arg)
        duals = None if result.row_duals is None else np.asarray(result.row_duals)[:m].copy()
        reduced = None if result.reduced_costs is None else np.asarray(result.reduced_costs)[:n].copy()
        stats = dict(result.stats)
        stats.update(inverse.stats)
        return dataclasses.replace(result, x=x, row_duals=duals, reduced_costs=reduced, stats=stats)


# --------------------------------------------------------------------------------- the rewrite
@dataclass
class _Instances:
    """All term instances of a form side by side (ragged breakpoint lists)."""

    v: np.ndarray  # value column per instance
    bk: np.ndarray
    ptr: np.ndarray
    slopes: np.ndarray
    zero: np.ndarray
    arg_rows: np.ndarray  # COO of the arguments: instance, column, coefficient
    arg_cols: np.ndarray
    arg_vals: np.ndarray
    arg_const: np.ndarray
    term: np.ndarray  # which term each instance belongs to (for errors)
    spans: list[Any]


def _value_columns(form: LPForm) -> np.ndarray:
    return np.concatenate([np.arange(t.value_start, t.value_start + t.n) for t in form.piecewise])


def _gather(terms: list[Any]) -> _Instances:
    offs = np.cumsum([0] + [t.n for t in terms])
    bk_offs = np.cumsum([0] + [len(t.breakpoints) for t in terms])
    return _Instances(
        v=np.concatenate([np.arange(t.value_start, t.value_start + t.n) for t in terms]),
        bk=np.concatenate([t.breakpoints for t in terms]),
        ptr=np.concatenate([[0]] + [t.ptr[1:] + bk_offs[k] for k, t in enumerate(terms)]).astype(np.int64),
        slopes=np.concatenate([t.slopes for t in terms]),
        zero=np.concatenate([t.zero for t in terms]),
        arg_rows=np.concatenate([t.arg.rows + offs[k] for k, t in enumerate(terms)]).astype(np.int64),
        arg_cols=np.concatenate([t.arg.cols for t in terms]).astype(np.int64),
        arg_vals=np.concatenate([t.arg.vals for t in terms]).astype(np.float64),
        arg_const=np.concatenate([t.arg.const for t in terms]).astype(np.float64),
        term=np.repeat(np.arange(len(terms)), [t.n for t in terms]),
        spans=[t.span for t in terms],
    )


def wanted(form: LPForm, v: np.ndarray, arg_cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(wanted small, wanted large) per value column in `v`, read from the objective and rows."""
    ncols = form.num_cols
    sign = 1.0 if form.sense == "min" else -1.0
    small = np.zeros(ncols, dtype=bool)
    large = np.zeros(ncols, dtype=bool)
    pref = form.c * sign
    small |= pref > 0
    large |= pref < 0
    A = form.csr
    rows = A.row_of_entries()
    cols = np.asarray(A.indices, dtype=np.int64)
    a = np.asarray(A.data, dtype=np.float64)
    up = np.isfinite(form.row_upper)[rows]
    lo = np.isfinite(form.row_lower)[rows]
    np.logical_or.at(small, cols, ((a > 0) & up) | ((a < 0) & lo))
    np.logical_or.at(large, cols, ((a > 0) & lo) | ((a < 0) & up))
    inside = np.zeros(ncols, dtype=bool)  # a value column inside another term's argument
    inside[arg_cols] = True
    return (small | inside)[v], (large | inside)[v]


def _bounds(form: LPForm, inst: _Instances) -> tuple[np.ndarray, np.ndarray]:
    """Interval bounds of each argument from the column bounds."""
    T = len(inst.v)
    a = inst.arg_vals
    lo_c, hi_c = form.col_lower[inst.arg_cols], form.col_upper[inst.arg_cols]
    with np.errstate(invalid="ignore"):
        low = np.where(a > 0, a * lo_c, a * hi_c)
        high = np.where(a > 0, a * hi_c, a * lo_c)
    low = np.where(a == 0, 0.0, low)
    high = np.where(a == 0, 0.0, high)
    lb = inst.arg_const + np.bincount(inst.arg_rows, weights=low, minlength=T)
    ub = inst.arg_const + np.bincount(inst.arg_rows, weights=high, minlength=T)
    return lb, ub


def expand(form: LPForm) -> tuple[LPForm, PiecewiseInverse]:
    inst = _gather(form.piecewise)
    T = len(inst.v)
    n0, m0 = form.num_cols, form.num_rows
    nb = np.diff(inst.ptr)
    owner = np.repeat(np.arange(T), nb)  # instance of each breakpoint
    first = inst.ptr[:-1]
    has = nb > 0
    s_first = inst.slopes[first + np.arange(T)]
    s_last = inst.slopes[inst.ptr[1:] + np.arange(T)]
    # convex: slopes never fall within an instance; concave: never rise
    ds = np.diff(inst.slopes)
    sl_owner = np.repeat(np.arange(T), nb + 1)
    inner = sl_owner[1:] == sl_owner[:-1]
    falls = np.bincount(sl_owner[1:][inner & (ds < 0)], minlength=T) > 0
    rises = np.bincount(sl_owner[1:][inner & (ds > 0)], minlength=T) > 0
    small, large = wanted(form, inst.v, inst.arg_cols)
    lp_ok = (~falls & ~large) | (~rises & ~small)
    mip = ~lp_ok  # an instance without breakpoints is linear, never here

    anchor = np.zeros(T)
    anchor[has] = inst.bk[first[has]]
    at_anchor = -ramp(inst.bk, inst.ptr, inst.slopes, inst.zero)  # f(anchor) = g(anchor) - g(zero), g(anchor) = 0

    # segment columns: per instance the lower ray, the middle segments, the upper ray
    mid_keep = np.ones(len(inst.bk), dtype=bool)
    mid_keep[(inst.ptr[1:] - 1)[has]] = False  # the last breakpoint of each instance starts the upper ray
    mid_inst = owner[mid_keep]
    mid_bk = np.flatnonzero(mid_keep)
    mid_w = inst.bk[mid_bk + 1] - inst.bk[mid_bk]
    mid_slope = inst.slopes[mid_bk + owner[mid_keep] + 1]
    n_mid = len(mid_bk)
    col_down = n0 + np.arange(T)
    col_up = n0 + T + np.arange(T)
    col_mid = n0 + 2 * T + np.arange(n_mid)
    n_seg = 2 * T + n_mid

    # rows m0 + i: arg_i(x) + d0 - mids - dn = anchor - const;  m0 + T + i: v + s1 d0 - s mids - s_last dn = f(anchor)
    r_arg, r_val = m0 + np.arange(T), m0 + T + np.arange(T)
    rows = [m0 + inst.arg_rows, r_arg, r_arg, m0 + mid_inst, r_val, r_val, r_val, m0 + T + mid_inst]
    cols = [inst.arg_cols, col_down, col_up, col_mid, inst.v, col_down, col_up, col_mid]
    vals = [inst.arg_vals, np.ones(T), -np.ones(T), -np.ones(n_mid), np.ones(T), s_first, -s_last, -mid_slope]
    rhs = [anchor - inst.arg_const, at_anchor]
    lo_new, hi_new = [np.concatenate(rhs)], [np.concatenate(rhs)]
    seg_lo = np.zeros(n_seg)
    seg_hi = np.concatenate([np.full(2 * T, np.inf), mid_w])

    # binaries for the nonconvex instances: z[j] per breakpoint j of such an instance
    mip_bk = np.flatnonzero(mip[owner]) if len(owner) else np.zeros(0, np.int64)
    n_bin = len(mip_bk)
    if n_bin:
        lb, ub = _bounds(form, inst)
        need_lo = mip & ~np.isfinite(lb)
        need_hi = mip & ~np.isfinite(ub)
        if need_lo.any() or need_hi.any():
            i = int(np.flatnonzero(need_lo | need_hi)[0])
            span = inst.spans[int(inst.term[i])]
            where = f" (line {span.line})" if span is not None else ""
            side = "lower" if need_lo[i] else "upper"
            raise SolverError(
                f"a piecewise-linear term{where} is not convex in the direction it is optimized, and "
                f"its argument has no finite {side} bound: its outer piece has no MILP model",
                hint="give the variables in its argument finite bounds")
        col_bin = n0 + n_seg + np.arange(n_bin)
        bin_of = np.full(len(inst.bk), -1, dtype=np.int64)
        bin_of[mip_bk] = col_bin
        mi = np.flatnonzero(mip)
        z_first = bin_of[first[mi]]
        z_last = bin_of[inst.ptr[1:][mi] - 1]
        M0 = np.maximum(anchor[mi] - lb[mi], 0.0)
        Mn = np.maximum(ub[mi] - inst.bk[inst.ptr[1:][mi] - 1], 0.0)
        seg_hi[mi] = M0
        seg_hi[T + mi] = Mn
        k = len(mi)
        base = m0 + 2 * T
        # d0 + M0 z1 <= M0 ;  dn - Mn zn <= 0
        r0, r1 = base + np.arange(k), base + k + np.arange(k)
        rows += [r0, r0, r1, r1]
        cols += [col_down[mi], z_first, col_up[mi], z_last]
        vals += [np.ones(k), M0, np.ones(k), -Mn]
        lo_new += [np.full(2 * k, -np.inf)]
        hi_new += [np.concatenate([M0, np.zeros(k)])]
        # middle segments of these instances: d - w z_j <= 0 and d - w z_{j+1} >= 0
        mm = np.flatnonzero(mip[mid_inst])
        q = len(mm)
        ra, rb = base + 2 * k + np.arange(q), base + 2 * k + q + np.arange(q)
        rows += [ra, ra, rb, rb]
        cols += [col_mid[mm], bin_of[mid_bk[mm]], col_mid[mm], bin_of[mid_bk[mm] + 1]]
        vals += [np.ones(q), -mid_w[mm], np.ones(q), -mid_w[mm]]
        lo_new += [np.full(q, -np.inf), np.zeros(q)]
        hi_new += [np.zeros(q), np.full(q, np.inf)]

    n1 = n0 + n_seg + n_bin
    A = form.csr
    old_rows = A.row_of_entries()
    row_lower = np.concatenate([form.row_lower, *lo_new])
    row_upper = np.concatenate([form.row_upper, *hi_new])
    A1 = CSRMatrix.from_coo(
        np.concatenate([old_rows, *rows]), np.concatenate([np.asarray(A.indices, np.int64), *cols]),
        np.concatenate([np.asarray(A.data, np.float64), *vals]), (len(row_lower), n1))
    integrality = np.zeros(n1, dtype=bool)
    if form.integrality is not None:
        integrality[:n0] = form.integrality
    integrality[n0 + n_seg:] = True
    new = dataclasses.replace(
        form,
        c=np.concatenate([form.c, np.zeros(n_seg + n_bin)]),
        A=A1, row_lower=row_lower, row_upper=row_upper,
        col_lower=np.concatenate([form.col_lower, seg_lo, np.zeros(n_bin)]),
        col_upper=np.concatenate([form.col_upper, seg_hi, np.ones(n_bin)]),
        integrality=integrality if integrality.any() else None,
        x0=None if form.x0 is None else np.concatenate([form.x0, np.zeros(n_seg + n_bin)]),
        piecewise=[],
    )
    stats = {"piecewise_instances": T, "piecewise_lp_instances": int(lp_ok.sum()),
             "piecewise_binaries": n_bin}
    return new, PiecewiseInverse(n0, m0, stats, list(form.piecewise))
