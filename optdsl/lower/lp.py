"""Lowering of a linear or quadratic IR to LPForm: sparse blocks concatenated with numpy (the
constraint matrix is an optdsl.lower.csr.CSRMatrix, so an LP does not import scipy)."""

from __future__ import annotations

from typing import Any

import numpy as np

from optdsl.errors import SolverError
from optdsl.ir.model import ModelIR
from optdsl.layout import Block, Layout
from optdsl.lower.csr import CSRMatrix
from optdsl.lower.forms import LPForm


def layout_of(ir: ModelIR) -> Layout:
    lay = Layout()
    for v in ir.variables:
        lay.variables.append(_block(v.name, v.start, v.size, v.domain, v.scalar))
    row = 0
    for c in ir.constraints:
        n = c.expr.n
        lay.constraints.append(_block(c.name, row, n, c.domain, c.scalar))
        row += n
    if ir.objective is not None:
        lay.objective_name = ir.objective.name
    return lay


def _block(name: str, start: int, size: int, domain: Any, scalar: bool) -> Block:
    """A layout block whose labels come from the component's Domain (tuples and label columns)."""
    if domain is None:
        return Block(name, start, size, None, scalar)
    return Block(name, start, size, domain.tuples, scalar, columns=domain.label_columns,
                 index_names=tuple(domain.names))


def to_lpform(ir: ModelIR) -> LPForm:
    """The LP/MILP/QP standard form of a model with linear constraints and a linear or
    quadratic objective."""
    from optdsl.lower.chain import check_expressible

    check_expressible(ir.features(), "lp")
    nv = ir.num_vars + ir.num_piecewise  # value columns of piecewise-linear terms follow the variables
    npw = ir.num_piecewise
    obj = ir.objective
    if obj is not None and obj.expr.nl is not None:
        raise SolverError(f"objective '{obj.name}' is nonlinear; an LP/QP backend cannot take it")
    for c in ir.constraints:
        if not c.expr.is_affine:
            raise SolverError(f"constraint '{c.name}' is not linear; an LP/QP backend cannot take it")
    if obj is not None:
        e = obj.expr
        cvec = np.bincount(e.cols, weights=e.vals, minlength=nv).astype(np.float64)
        c0 = float(e.const[0])
        Q = None
        if e.has_quad:
            import scipy.sparse as sp  # quadratic objectives only: an LP never imports scipy

            M = sp.coo_matrix((e.q_vals, (e.q_i, e.q_j)), shape=(nv, nv)).tocsc()
            Q = (M + M.T).tocsc()
            Q.eliminate_zeros()
        sense = obj.sense
    else:
        cvec, c0, Q, sense = np.zeros(nv), 0.0, None, "min"
    rows, cols, vals, lo, hi = [], [], [], [], []
    offset = 0
    for c in ir.constraints:
        e = c.expr
        rows.append(e.rows + offset)
        cols.append(e.cols)
        vals.append(e.vals)
        lo.append(c.lower)
        hi.append(c.upper)
        offset += e.n
    if rows:
        A = CSRMatrix.from_coo(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), (offset, nv))
        row_lower, row_upper = np.concatenate(lo), np.concatenate(hi)
    else:
        A = CSRMatrix.empty((0, nv))
        row_lower = row_upper = np.zeros(0)
    if ir.variables:
        col_lower = np.concatenate([v.lower for v in ir.variables] + [np.full(npw, -np.inf)])
        col_upper = np.concatenate([v.upper for v in ir.variables] + [np.full(npw, np.inf)])
        integrality = np.concatenate([v.integer for v in ir.variables] + [np.zeros(npw, dtype=bool)])
        if any(v.init is not None for v in ir.variables):
            x0 = np.concatenate([v.init if v.init is not None else np.zeros(v.size) for v in ir.variables]
                                + [np.zeros(npw)])
        else:
            x0 = None  # no starting values given: nothing to hand the solver
    else:
        col_lower = col_upper = np.zeros(0)
        x0 = None
        integrality = np.zeros(0, dtype=bool)
    return LPForm(
        c=cvec, A=A, row_lower=row_lower, row_upper=row_upper, col_lower=col_lower, col_upper=col_upper,
        sense=sense, c0=c0, Q=Q, integrality=integrality if integrality.any() else None,
        layout=layout_of(ir), x0=x0, piecewise=list(ir.piecewise),
    )


def lower_lp(ir: ModelIR, options: object = None) -> LPForm:
    """The chain's entry for the `lp` form."""
    return to_lpform(ir)
