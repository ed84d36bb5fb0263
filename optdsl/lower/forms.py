"""Standard forms: what backends take. A form is plain arrays plus a layout that maps flat
positions back to component names and index tuples.

LPForm   minimize/maximize  c'x + 1/2 x'Qx + c0   s.t.  row_lower <= A x <= row_upper,
                                                      col_lower <= x <= col_upper, x_j integer where integrality[j]
NLPForm  minimize f(x)  s.t.  con_lower <= c(x) <= con_upper,  col_lower <= x <= col_upper
         (equality-only when con_lower == con_upper and the bounds are infinite).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from optdsl.layout import Block, Layout  # re-exported: the result-mapping types live beside the results
from optdsl.lower.csr import CSRMatrix, as_csr

if TYPE_CHECKING:  # annotations only: importing the forms must not import scipy
    import scipy.sparse as sp

__all__ = ["BilevelForm", "Block", "DAGForm", "Layout", "LPForm", "NLPForm"]


@dataclass
class LPForm:
    c: np.ndarray
    A: Any  # the constraint matrix (a CSRMatrix or any scipy sparse matrix): see LPForm.A below
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    sense: str = "min"  # "min" or "max"
    c0: float = 0.0
    Q: sp.csc_matrix | None = None  # symmetric; objective adds 1/2 x'Qx
    integrality: np.ndarray | None = None  # bool per column
    layout: Layout = field(default_factory=Layout)
    x0: np.ndarray | None = None
    # piecewise-linear terms (optdsl.ir.piecewise.PiecewiseTerm) whose value columns are among the
    # columns; the piecewise_linear pass replaces them, so a backend never sees any
    piecewise: list[Any] = field(default_factory=list)

    @property
    def num_cols(self) -> int:
        return int(self.c.shape[0])

    @property
    def num_rows(self) -> int:
        return int(self.csr.shape[0])

    @property
    def csr(self) -> CSRMatrix:
        """A as a canonical CSRMatrix, read without importing scipy (what the HiGHS hand-over
        takes); after `A` was handed out or set as a scipy matrix, the same arrays."""
        if self._A_scipy is not None:
            return as_csr(self._A_scipy)
        return self._A_csr

    @property
    def is_mip(self) -> bool:
        return self.integrality is not None and bool(np.any(self.integrality))

    @property
    def is_qp(self) -> bool:
        return self.Q is not None and self.Q.nnz > 0


def _get_A(form: LPForm) -> Any:
    if form._A_scipy is None:  # first use from outside the LP path: scipy is imported now
        form._A_scipy = form._A_csr.tocsr()
    return form._A_scipy


def _set_A(form: LPForm, value: Any) -> None:
    if isinstance(value, CSRMatrix):
        form._A_csr, form._A_scipy = value, None
    else:
        form._A_csr, form._A_scipy = None, value


# The LP lowering stores A as a numpy-only CSRMatrix, so solving an LP never imports scipy; code
# that reads `form.A` gets a scipy.sparse.csr_matrix sharing those arrays, as it always did.
LPForm.A = property(_get_A, _set_A, doc="The constraint matrix as a scipy.sparse matrix (see LPForm.csr).")


@dataclass
class NLPForm:
    """Oracles of a smooth NLP over x in R^n with m constraint functions.

    Matrices may be numpy arrays or scipy sparse matrices. `hess_lag(x, lam)` is the Hessian of
    f(x) + lam'c(x) with respect to x. `hvp` (optional) is its product with a vector.
    """

    n: int
    m: int
    x0: np.ndarray
    f: Callable[[np.ndarray], float]
    grad: Callable[[np.ndarray], np.ndarray]
    c: Callable[[np.ndarray], np.ndarray]
    jac: Callable[[np.ndarray], np.ndarray | sp.spmatrix]
    hess_lag: Callable[[np.ndarray, np.ndarray], np.ndarray | sp.spmatrix]
    con_lower: np.ndarray | None = None
    con_upper: np.ndarray | None = None
    col_lower: np.ndarray | None = None
    col_upper: np.ndarray | None = None
    lam0: np.ndarray | None = None
    hvp: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None
    sense: str = "min"  # a "max" form's f is already negated by the lowering; sense restores the sign
    layout: Layout = field(default_factory=Layout)
    name: str = "nlp"

    def __post_init__(self) -> None:
        inf = np.inf
        if self.con_lower is None:
            self.con_lower = np.zeros(self.m)
        if self.con_upper is None:
            self.con_upper = np.zeros(self.m)
        if self.col_lower is None:
            self.col_lower = np.full(self.n, -inf)
        if self.col_upper is None:
            self.col_upper = np.full(self.n, inf)

    @property
    def equality_only(self) -> bool:
        return (
            bool(np.all(self.con_lower == self.con_upper))
            and bool(np.all(np.isneginf(self.col_lower)))
            and bool(np.all(np.isposinf(self.col_upper)))
        )


@dataclass
class BilevelForm:
    """min_x,y F(x, y) s.t. the leader's constraints, y solving min_y f(x, y) s.t. g(x, y) <= 0.

    `upper` holds F and the leader's constraints, `lower` the follower's objective f and
    constraints g; both are NLP forms over all variables z (leader and follower positions as in
    the IR's flat order), so one point z evaluates either level. `leader_idx` and `follower_idx`
    say which positions of z are x and which are y.
    """

    upper: NLPForm
    lower: NLPForm
    leader_idx: np.ndarray
    follower_idx: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    x0: np.ndarray
    layout: Layout = field(default_factory=Layout)
    follower: str = "lower"


@dataclass
class DAGForm:
    """minimize score(W, ...) subject to W being the weighted adjacency matrix of a DAG.

    `w_index[i, j]` is the flat position of W[i, j]; `score` holds the objective (and any other
    constraints) over all variables. `decomposition` is what the DAG lowering recognized of the
    score's per-node structure (None when it is only a smooth function): here a per-node quadratic,
    a per-node logistic loss, or a smooth score plus l1 weights (see optdsl/lower/dag.py).
    `forbidden` marks edges the model fixes at zero (and the diagonal); `x0` is the start point.
    """

    d: int
    nodes: list
    w_index: np.ndarray
    score: NLPForm
    decomposition: Any = None
    layout: Layout = field(default_factory=Layout)
    var: str = "W"
    forbidden: np.ndarray | None = None  # bool (d, d): edges fixed at zero by the model
    x0: np.ndarray | None = None
    name: str = "dag"


@dataclass
class SurrogateCall:
    """One distinct call site phi(inputs): its outputs are y[offset : offset + n_out]."""

    name: str
    inputs: list  # NL nodes over x, concatenated into the network's input vector
    n_in: int
    n_out: int
    offset: int
    cols: np.ndarray | None = None  # the input columns when every input is a plain variable


@dataclass
class SurrogateForm:
    """optimize f(x, y) s.t. con_lower <= c(x, y) <= con_upper, col_lower <= x <= col_upper, y = Phi(x).

    Phi stacks the distinct surrogate calls of the model (`calls`): y in R^m. The outer problem is an
    NLPForm over z = (x, y) in R^(n+m) whose f is the minimized objective (negated for "max", as in
    NLPForm) with exact gradients; its column bounds on y are infinite. `phi(X)` evaluates a batch
    (B x n -> B x m). `torch_maps(device)` gives differentiable torch functions (phi of x, and the
    outer constraints of z) when every network is a torch program, else None: derivatives of Phi
    are optional, so a zero-order method takes any form.
    `objective_outputs[k]` is True when the objective uses y_k, `objective_inputs[j]` when it uses
    x_j directly; other components are dropped from what an attack steers (outputs used only by
    constraints still enter through the penalty).
    """

    n: int
    m: int
    x0: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    calls: list[SurrogateCall]
    surrogates: dict
    outer: NLPForm
    phi: Callable[[np.ndarray], np.ndarray]
    torch_maps: Callable[[str], tuple | None]
    objective_inputs: np.ndarray
    objective_outputs: np.ndarray
    sense: str = "min"
    differentiable: bool = True
    layout: Layout = field(default_factory=Layout)
    name: str = "surrogate"

    def objective(self, x: np.ndarray) -> float:
        """The model's objective at x, in its own sense."""
        z = np.concatenate([x, self.phi(np.asarray(x, dtype=np.float64)[None, :])[0]])
        v = float(self.outer.f(z))
        return -v if self.sense == "max" else v
