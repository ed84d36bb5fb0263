"""Lowering of a model with `acyclic(W)` to DAGForm, recognizing the score's per-node structure.

The score is read from the instantiated objective as written (not from a name):

- The quadratic and linear COO parts give, when every product W[i, j] W[k, l] has j == l, one
  Hessian block G_j per column and the linear term r_j: Q(W) = c + sum_j (-r_j'w_j + 1/2 w_j'G_j w_j).
  When G_j is one matrix A (off row/column j) and r_j = A[:, j], the score is least squares
  (ridge when A's diagonal is larger than the responses'): `QuadraticDecomposition(gram=True)`.
- The nonlinear DAG is read as a weighted sum of leaves: abs(a W[i, j]) gives the l1 weight
  lam_ij += weight * |a|; log(1 + exp(z)) with z affine in one column of W gives a logistic term.
- Anything else smooth is a generic score (`SmoothDecomposition`), evaluated through the model's
  own exact derivatives (the NLPForm; numpy on CPU, torch on CUDA).

Other constraints, bounds (except W[i, j] fixed at 0: a forbidden edge), integer W or other
variables in the objective are refused: the DAG backends would drop them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optdsl.errors import SolverError
from optdsl.ir.expr import NL, NONSMOOTH, Expr
from optdsl.ir.model import ModelIR
from optdsl.lower.forms import DAGForm
from optdsl.lower.lp import layout_of


@dataclass
class QuadraticDecomposition:
    """Q(W) = const + sum_j (-R[:, j]'w_j + 1/2 w_j'G_j w_j + sum_i l1[i, j] |w_ij|)."""

    G: np.ndarray  # (d, d) when shared by all columns (gram), else (d, d, d)
    R: np.ndarray
    const: float
    l1: np.ndarray | None = None
    gram: bool = False  # G shared and R = G off the diagonal: (ridge) least squares
    data: np.ndarray | None = None  # an (n x d) data param whose Gram matrix the score is, if any
    kind: str = "quadratic"

    @property
    def label(self) -> str:
        pen = " + l1" if self.l1 is not None else ""
        return ("least squares" if self.gram else "per-node quadratic") + pen


@dataclass
class LogisticDecomposition:
    """Q(W) = const + sum_j [sum_r omega_j[r] softplus(Z_j[r] w_j + z0_j[r]) + B[:, j]'w_j
    + 1/2 w_j'G_j w_j + l1 terms]."""

    Z: list[np.ndarray]
    z0: list[np.ndarray]
    omega: list[np.ndarray]
    B: np.ndarray
    G: np.ndarray | None
    const: float
    l1: np.ndarray | None = None
    data: np.ndarray | None = None
    kind: str = "logistic"
    label: str = "logistic"


@dataclass
class SmoothDecomposition:
    """A smooth score f(W) (the objective minus the recognized l1 terms) plus l1 weights."""

    l1: np.ndarray | None = None
    data: np.ndarray | None = None
    kind: str = "smooth"
    reason: str = ""
    label: str = "generic smooth"
    sign: float = 1.0


@dataclass
class _Leaves:
    l1: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (flat cols, weights)
    softplus: list[tuple[Expr, np.ndarray]] = field(default_factory=list)  # (affine rows, weights)
    other: list[str] = field(default_factory=list)


def to_dag_form(ir: ModelIR, opts: object | None = None) -> DAGForm:
    """The DAGForm of a model whose only constraint is one `acyclic(W)`."""
    acyc = [s for s in ir.structures if s.kind == "acyclic"]
    if len(acyc) != 1:
        raise SolverError(f"the DAG backends take exactly one acyclic(W) constraint, found {len(acyc)}")
    others = [s for s in ir.structures if s.kind != "acyclic"]
    if others:
        raise SolverError(f"structure '{others[0].name}' ({others[0].kind}) cannot be combined with acyclic(W) "
                          "by the DAG backends")
    if ir.lower_blocks:
        raise SolverError("a bilevel model with acyclic(W) is not supported by the DAG backends")
    if ir.constraints:
        raise SolverError(f"constraint '{ir.constraints[0].name}' would be dropped: the DAG backends take a score "
                          "and acyclic(W) only", hint="fix edges to zero with bounds instead, e.g. W[i,j] = 0")
    obj = ir.objective
    if obj is None:
        raise SolverError("a model with acyclic(W) needs an objective (the score to minimize)")
    block = ir.var(acyc[0].data["var"])
    dom = block.domain
    d = int(acyc[0].data["d"])
    if np.any(block.integer):
        raise SolverError(f"acyclic({block.name}) needs continuous weights; '{block.name}' is integer")
    rows_l, cols_l = dom.dims[0].values, dom.dims[1].values
    same = len(rows_l) == len(cols_l) and np.array_equal(np.asarray(rows_l, dtype=object),
                                                          np.asarray(cols_l, dtype=object))
    if not same:
        raise SolverError(f"acyclic({block.name}) needs both indices of '{block.name}' over the same set")
    nodes = [dom.dims[0].label(i) for i in range(d)]
    w_index = block.start + np.arange(d * d, dtype=np.int64).reshape(d, d)
    lo = np.broadcast_to(np.asarray(block.lower, float), (block.size,)).reshape(d, d)
    hi = np.broadcast_to(np.asarray(block.upper, float), (block.size,)).reshape(d, d)
    fixed0 = (lo == 0) & (hi == 0)
    bounded = (np.isfinite(lo) | np.isfinite(hi)) & ~fixed0
    if np.any(bounded):
        i, j = np.argwhere(bounded)[0]
        raise SolverError(f"{block.name}[{nodes[i]},{nodes[j]}] has bounds, which the DAG backends would drop",
                          hint="only W[i,j] = 0 (a forbidden edge) is supported")
    e = obj.expr
    used = np.concatenate([e.cols, e.q_i if e.has_quad else np.zeros(0, np.int64),
                           e.q_j if e.has_quad else np.zeros(0, np.int64), _nl_cols(e.nl)])
    outside = used[(used < block.start) | (used >= block.start + block.size)]
    if len(outside):
        raise SolverError(f"the score uses variables other than {block.name}; the DAG backends optimize "
                          f"{block.name} only")
    from dataclasses import replace

    from optdsl.lower.nlp import to_nlpform

    device = (getattr(opts, "device", None) if opts is not None else None) or "cpu"
    score = to_nlpform(replace(ir, structures=[]), device=device)  # the score alone: acyclic(W) is the form's
    sign = -1.0 if obj.sense == "max" else 1.0
    decomposition = recognize(e, block.start, d, sign)
    decomposition.data = find_data(ir, decomposition, d, nodes)
    np.fill_diagonal(fixed0, True)
    x0 = score.x0.copy()
    return DAGForm(d=d, nodes=nodes, w_index=w_index, score=score, decomposition=decomposition,
                   layout=layout_of(ir), var=block.name, forbidden=fixed0, x0=x0, name=ir.name)


def _nl_cols(node: NL | None) -> np.ndarray:
    """Every flat variable position the DAG reads."""
    if node is None:
        return np.zeros(0, np.int64)
    out, stack, seen = [], [node], set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if n.op == "var":
            out.append(np.asarray(n.data, dtype=np.int64))
        elif n.op == "affine":
            ex: Expr = n.data
            out.append(ex.cols)
            if ex.has_quad:
                out += [ex.q_i, ex.q_j]
        stack.extend(n.args)
    return np.concatenate(out) if out else np.zeros(0, np.int64)


# ------------------------------------------------------------------------------------ recognizer
Decomposition = QuadraticDecomposition | LogisticDecomposition | SmoothDecomposition


def recognize(e: Expr, start: int, d: int, sign: float = 1.0) -> Decomposition:
    """The per-node decomposition of the objective `e` (one row) over W at flat positions start + i*d + j."""
    leaves = _Leaves()
    if e.nl is not None:
        _walk(e.nl, np.array([sign]), leaves)
    l1 = None
    if leaves.l1:
        l1 = np.zeros(d * d)
        for cols, w in leaves.l1:
            np.add.at(l1, cols - start, w)
        if np.any(l1 < 0):
            return SmoothDecomposition(reason="an abs() term has a negative weight (a non-convex penalty)", sign=sign)
        l1 = l1.reshape(d, d)
        np.fill_diagonal(l1, 0.0)
        if not np.any(l1):
            l1 = None
    if leaves.other:
        return SmoothDecomposition(l1=l1, reason=leaves.other[0], sign=sign)
    const = sign * float(e.const[0])
    lin = np.bincount(e.cols - start, weights=sign * e.vals, minlength=d * d).reshape(d, d)
    G, why = _column_hessians(e, start, d, sign)
    if G is None:
        return SmoothDecomposition(l1=l1, reason=why, sign=sign)
    np.fill_diagonal(lin, 0.0)  # W[j, j] is zero in a DAG
    if leaves.softplus:
        return _logistic(leaves.softplus, start, d, lin, G, const, l1, sign)
    if G is False:  # no quadratic part at all: a linear score has no minimum
        return SmoothDecomposition(l1=l1, reason="the score has no quadratic or nonlinear part", sign=sign)
    R = -lin
    shared = _shared(G, R)
    if shared is not None:
        return QuadraticDecomposition(G=shared, R=R, const=const, l1=l1, gram=True)
    return QuadraticDecomposition(G=G, R=R, const=const, l1=l1, gram=False)


def _walk(node: NL, w: np.ndarray, out: _Leaves) -> None:
    """Propagate row weights down a linear combination; classify the leaves."""
    op = node.op
    if op in ("add", "sub"):
        _walk(node.args[0], w, out)
        _walk(node.args[1], -w if op == "sub" else w, out)
    elif op == "neg":
        _walk(node.args[0], -w, out)
    elif op == "sum":
        parent, _ = node.data
        _walk(node.args[0], w[parent], out)
    elif op == "gather":
        child = node.args[0]
        _walk(child, np.bincount(node.data, weights=w, minlength=child.n), out)
    elif op in ("mul", "div") and _const(node.args[1]) is not None:
        c = _const(node.args[1])
        _walk(node.args[0], w * c if op == "mul" else w / c, out)
    elif op == "mul" and _const(node.args[0]) is not None:
        _walk(node.args[1], w * _const(node.args[0]), out)
    elif op == "affine":
        ex: Expr = node.data
        if ex.has_quad or len(ex.vals):
            out.other.append("a polynomial term inside a nonlinear expression")
        # a constant adds nothing to the argmin
    elif op == "const":
        pass
    elif op == "abs":
        cols, coef = _single_entries(node.args[0])
        if cols is None:
            out.other.append("abs() of something other than one entry of W")
            return
        out.l1.append((cols, w * np.abs(coef)))
    elif op == "log" and _softplus_arg(node.args[0]) is not None:
        out.softplus.append((_softplus_arg(node.args[0]), w))
    else:
        if node.curvature >= NONSMOOTH:
            raise SolverError(f"the score has a nonsmooth term ({op}) that the DAG backends cannot optimize",
                              hint="abs() of single entries of W (an l1 penalty) is supported")
        out.other.append(f"a '{op}' term")


def _const(node: NL) -> np.ndarray | None:
    if node.op == "const":
        return np.broadcast_to(np.asarray(node.data, dtype=float), (node.n,))
    if node.op == "affine" and node.data.is_constant:
        return node.data.const
    return None


def _single_entries(node: NL) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(cols, coefficients) when every row of `node` is a * x[col] exactly."""
    if node.op != "affine":
        return None, None
    ex: Expr = node.data
    if ex.has_quad or np.any(ex.const) or len(ex.rows) != ex.n or len(np.unique(ex.rows)) != ex.n:
        return None, None
    order = np.argsort(ex.rows)
    return ex.cols[order], ex.vals[order]


def _softplus_arg(node: NL) -> Expr | None:
    """z when node is 1 + exp(z) with z affine."""
    if node.op != "add":
        return None
    a, b = node.args
    for one, ex in ((a, b), (b, a)):
        c = _const(one)
        if c is not None and np.all(c == 1.0) and ex.op == "exp" and ex.args[0].op == "affine":
            z: Expr = ex.args[0].data
            return None if z.has_quad else z
    return None


def _column_hessians(e: Expr, start: int, d: int, sign: float) -> tuple[np.ndarray | bool | None, str]:
    """G[j] (d x d) per column when every quadratic product stays within one column of W; False
    when there is no quadratic part; None (with the reason) when a product couples two columns."""
    if not e.has_quad:
        return False, ""
    a, b = e.q_i - start, e.q_j - start
    ia, ja, ib, jb = a // d, a % d, b // d, b % d
    if np.any(ja != jb):
        return None, "a product of weights from two different columns of W"
    keep = (ia != ja) & (ib != ja)  # drop W[j, j]
    G = np.zeros((d, d, d))
    v = sign * e.q_vals[keep]
    np.add.at(G, (ja[keep], ia[keep], ib[keep]), v)
    np.add.at(G, (ja[keep], ib[keep], ia[keep]), v)
    return G, ""


def _shared(G: np.ndarray, R: np.ndarray, rtol: float = 1e-9) -> np.ndarray | None:
    """A when G[j] equals A off row/column j for every j and r_j = A[:, j] (least squares)."""
    d = R.shape[0]
    A = R.copy()
    if not np.allclose(A, A.T, rtol=rtol, atol=0):
        return None
    diag = np.einsum("jii->ji", G)  # diag[j, i] = G[j, i, i]
    off = ~np.eye(d, dtype=bool)
    col_diag = np.where(off, diag, np.nan)
    dA = np.nanmean(col_diag, axis=0) if d > 1 else diag[0]
    if d > 1 and not np.allclose(col_diag[off], np.broadcast_to(dA, (d, d))[off], rtol=rtol, atol=0):
        return None
    A[np.diag_indices(d)] = dA
    scale = max(float(np.abs(A).max()), 1e-300)
    diff = G - A[None, :, :]
    idx = np.arange(d)
    diff[idx, idx, :] = 0.0
    diff[idx, :, idx] = 0.0
    if float(np.abs(diff).max()) > rtol * scale * 10:
        return None
    return A


def _logistic(terms: list[tuple[Expr, np.ndarray]], start: int, d: int, lin: np.ndarray, G: np.ndarray | bool,
              const: float, l1: np.ndarray | None, sign: float) -> LogisticDecomposition | SmoothDecomposition:
    """Per-column designs of the softplus terms (each z row must read one column of W)."""
    Z, z0, om = [[] for _ in range(d)], [[] for _ in range(d)], [[] for _ in range(d)]
    for ex, w in terms:
        if np.any(w[np.bincount(ex.rows, minlength=ex.n) > 0] < 0):
            return SmoothDecomposition(l1=l1, reason="a logistic term with a negative weight", sign=sign)
        c = ex.cols - start
        i, j = c // d, c % d
        col_of_row = np.full(ex.n, -1)
        col_of_row[ex.rows] = j
        if np.any(col_of_row[ex.rows] != j):
            return SmoothDecomposition(l1=l1, reason="a logistic term reading two columns of W", sign=sign)
        mat = np.zeros((ex.n, d))
        np.add.at(mat, (ex.rows, i), ex.vals)
        mat[np.arange(ex.n)[col_of_row >= 0], col_of_row[col_of_row >= 0]] = 0.0  # W[j, j] is zero
        for jj in np.unique(col_of_row[col_of_row >= 0]):
            r = np.flatnonzero(col_of_row == jj)
            Z[jj].append(mat[r])
            z0[jj].append(ex.const[r])
            om[jj].append(w[r])
        # rows that read no variable are constants: fold them in
        r0 = np.flatnonzero(col_of_row < 0)
        const += float(w[r0] @ np.logaddexp(0.0, ex.const[r0]))
    cat = [np.concatenate(z) if z else np.zeros((0, d)) for z in Z]
    Gm = None if G is False else G
    return LogisticDecomposition(Z=cat, z0=[np.concatenate(z) if z else np.zeros(0) for z in z0],
                                 omega=[np.concatenate(o) if o else np.zeros(0) for o in om],
                                 B=lin, G=Gm, const=const, l1=l1)


def find_data(ir: ModelIR, dec: object, d: int, nodes: list) -> np.ndarray | None:
    """An (n x d) param whose Gram matrix is the recognized least-squares matrix up to a scale:
    the samples, which the nonlinear (MLP) variant needs."""
    if not isinstance(dec, QuadraticDecomposition) or not dec.gram:
        return None
    A = dec.G
    off = ~np.eye(d, dtype=bool)
    for p in ir.params.values():
        dom = p.domain
        if dom is None or dom.dimen != 2 or not dom.dense or len(dom.dims[1]) != d or p.symbolic:
            continue
        X = np.asarray(p.values, dtype=float).reshape(len(dom.dims[0]), d)
        C = X.T @ X
        denom = float((C[off] ** 2).sum())
        if denom == 0:
            continue
        c = float((A[off] * C[off]).sum()) / denom
        tol = 1e-7 * float(np.abs(A).max())
        ridge = np.diag(A) - c * np.diag(C)  # a uniform l2 weight may sit on the diagonal
        if (c > 0 and np.allclose(A[off], c * C[off], rtol=1e-7, atol=tol) and np.ptp(ridge) <= tol
                and ridge[0] >= -tol and np.isclose(dec.const, 0.5 * c * np.trace(C), rtol=1e-7)):
            return X
    return None
