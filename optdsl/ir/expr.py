"""Array-valued expressions over N rows: an affine part (COO triplets), an optional quadratic
part (COO quadruplets), and an optional nonlinear DAG. Every operation is a handful of numpy
calls on whole arrays; nothing loops over scalars.

Row r of an expression is  const[r] + sum_k lin.vals[k] x[lin.cols[k]] (lin.rows[k] == r)
                          + sum_k quad.vals[k] x[quad.i[k]] x[quad.j[k]] (quad.rows[k] == r)
                          + nl(x)[r]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float64)

# curvature order: a node's class is the max of its parts
LINEAR, QUADRATIC, SMOOTH, NONSMOOTH = 1, 2, 3, 4
CURVATURE_NAMES = {LINEAR: "linear", QUADRATIC: "quadratic", SMOOTH: "smooth", NONSMOOTH: "nonsmooth"}

SMOOTH_UNARY = {"exp", "log", "log10", "sqrt", "sin", "cos", "tan", "tanh", "atan", "neg",
                "sinh", "cosh", "asin", "acos", "asinh", "acosh", "atanh"}
# AMPL names whose numpy function is spelled differently
_NUMPY_OP = {"atan": "arctan", "asin": "arcsin", "acos": "arccos", "asinh": "arcsinh", "acosh": "arccosh",
             "atanh": "arctanh"}
NONSMOOTH_UNARY = {"abs", "floor", "ceil", "round", "trunc"}


@dataclass
class NL:
    """A node of the nonlinear DAG; every node is a vector of `n` rows.

    op: "var" (data=cols), "const" (data=values), "affine" (data=Expr with no nl part),
        unary ops (args=[child]), "add" "sub" "mul" "div" "pow" "max2" "min2" "atan2" (args=[a, b]),
        "sum" "prod" "max" "min" reductions (args=[child], data=(parent, n_out)),
        "call" (data=(surrogate name, output index), args=inputs), "gather" (args=[child], data=idx).
    """

    op: str
    n: int
    args: list[NL] = field(default_factory=list)
    data: object = None
    curvature: int = SMOOTH

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"NL({self.op}, n={self.n})"


@dataclass
class Expr:
    n: int
    const: np.ndarray
    rows: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    cols: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    vals: np.ndarray = field(default_factory=lambda: _EMPTY_F)
    q_rows: np.ndarray | None = None
    q_i: np.ndarray | None = None
    q_j: np.ndarray | None = None
    q_vals: np.ndarray | None = None
    nl: NL | None = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def constant(cls, values: np.ndarray | float, n: int) -> Expr:
        return cls(n, np.broadcast_to(np.asarray(values, dtype=np.float64), (n,)).copy())

    @classmethod
    def variables(cls, cols: np.ndarray) -> Expr:
        n = len(cols)
        return cls(n, np.zeros(n), np.arange(n, dtype=np.int64), cols.astype(np.int64), np.ones(n))

    # ------------------------------------------------------------------ facts
    @property
    def has_quad(self) -> bool:
        return self.q_rows is not None and len(self.q_rows) > 0

    @property
    def is_affine(self) -> bool:
        return not self.has_quad and self.nl is None

    @property
    def is_constant(self) -> bool:
        return self.is_affine and len(self.vals) == 0

    @property
    def curvature(self) -> int:
        if self.nl is not None:
            return max(self.nl.curvature, QUADRATIC if self.has_quad else LINEAR)
        return QUADRATIC if self.has_quad else LINEAR

    # ------------------------------------------------------------------ algebra
    def __add__(self, other: Expr) -> Expr:
        assert self.n == other.n, "row counts differ"
        q = _cat_quad(self, other)
        nl = _nl_add(self.nl, other.nl)
        return Expr(
            self.n,
            self.const + other.const,
            np.concatenate([self.rows, other.rows]),
            np.concatenate([self.cols, other.cols]),
            np.concatenate([self.vals, other.vals]),
            *q,
            nl=nl,
        )

    def scale(self, factor: np.ndarray | float) -> Expr:
        """Multiply row r by factor[r] (or a scalar)."""
        f = np.broadcast_to(np.asarray(factor, dtype=np.float64), (self.n,))
        q = (None, None, None, None)
        if self.has_quad:
            q = (self.q_rows, self.q_i, self.q_j, self.q_vals * f[self.q_rows])
        nl = None
        if self.nl is not None:
            nl = NL("mul", self.n, [NL("const", self.n, data=f.copy(), curvature=LINEAR), self.nl],
                    curvature=self.nl.curvature)
        return Expr(self.n, self.const * f, self.rows, self.cols, self.vals * f[self.rows], *q, nl=nl)

    def __neg__(self) -> Expr:
        return self.scale(-1.0)

    def __sub__(self, other: Expr) -> Expr:
        return self + (-other)

    def times(self, other: Expr) -> Expr:
        """Product of two expressions: exact quadratic when both are affine, else a DAG node."""
        if self.is_constant:
            return other.scale(self.const)
        if other.is_constant:
            return self.scale(other.const)
        if self.is_affine and other.is_affine:
            return _affine_product(self, other)
        return Expr.from_nl(NL("mul", self.n, [self.to_nl(), other.to_nl()],
                               curvature=max(SMOOTH, self.curvature, other.curvature)))

    def reduce_sum(self, parent: np.ndarray, n_out: int) -> Expr:
        """Sum rows into `n_out` groups: row r goes to parent[r]."""
        const = np.bincount(parent, weights=self.const, minlength=n_out).astype(np.float64)
        q = (None, None, None, None)
        if self.has_quad:
            q = (parent[self.q_rows], self.q_i, self.q_j, self.q_vals)
        nl = None
        if self.nl is not None:
            nl = NL("sum", n_out, [self.nl], data=(parent, n_out), curvature=self.nl.curvature)
        return Expr(n_out, const, parent[self.rows], self.cols, self.vals, *q, nl=nl)

    def gather(self, idx: np.ndarray) -> Expr:
        """Rows idx[0], idx[1], ... of this expression (broadcast to a finer grid)."""
        n = len(idx)
        # map each old row to the new rows that copy it
        order = np.argsort(idx, kind="stable")
        counts = np.bincount(idx, minlength=self.n)
        starts = np.concatenate([[0], np.cumsum(counts)])

        def expand(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            reps = counts[rows]
            src = np.repeat(np.arange(len(rows)), reps)
            offs = np.arange(len(src)) - np.repeat(np.cumsum(reps) - reps, reps)
            return src, order[starts[rows][src] + offs]

        src, new_rows = expand(self.rows)
        q = (None, None, None, None)
        if self.has_quad:
            qs, qr = expand(self.q_rows)
            q = (qr, self.q_i[qs], self.q_j[qs], self.q_vals[qs])
        nl = None
        if self.nl is not None:
            nl = NL("gather", n, [self.nl], data=idx, curvature=self.nl.curvature)
        return Expr(n, self.const[idx], new_rows, self.cols[src], self.vals[src], *q, nl=nl)

    # ------------------------------------------------------------------ nonlinear
    @classmethod
    def from_nl(cls, node: NL) -> Expr:
        return cls(node.n, np.zeros(node.n), nl=node)

    def to_nl(self) -> NL:
        """The whole expression as one DAG node."""
        if self.is_affine and self.nl is None:
            if self.is_constant:
                return NL("const", self.n, data=self.const.copy(), curvature=LINEAR)
            return NL("affine", self.n, data=self, curvature=LINEAR)
        parts: list[NL] = []
        poly = Expr(self.n, self.const, self.rows, self.cols, self.vals, self.q_rows, self.q_i, self.q_j, self.q_vals)
        if len(poly.vals) or poly.has_quad or np.any(poly.const):
            parts.append(NL("affine", self.n, data=poly, curvature=poly.curvature))
        if self.nl is not None:
            parts.append(self.nl)
        node = parts[0]
        for p in parts[1:]:
            node = NL("add", self.n, [node, p], curvature=max(node.curvature, p.curvature))
        return node

    def apply(self, op: str, other: Expr | None = None) -> Expr:
        """A nonlinear function of this expression (and `other` for binary ops)."""
        if other is None:
            curv = NONSMOOTH if op in NONSMOOTH_UNARY else SMOOTH
            if self.is_constant:
                return Expr.constant(apply_numpy(op, self.const), self.n)
            return Expr.from_nl(NL(op, self.n, [self.to_nl()], curvature=max(curv, self.curvature)))
        if self.is_constant and other.is_constant:
            return Expr.constant(apply_numpy(op, self.const, other.const), self.n)
        curv = NONSMOOTH if op in ("max2", "min2") else SMOOTH
        return Expr.from_nl(
            NL(op, self.n, [self.to_nl(), other.to_nl()], curvature=max(curv, self.curvature, other.curvature))
        )

    def remap_rows(self, keep: np.ndarray) -> Expr:
        """Only the rows where `keep` is True, renumbered."""
        new = np.cumsum(keep) - 1
        n = int(keep.sum())
        m = keep[self.rows]
        q = (None, None, None, None)
        if self.has_quad:
            mq = keep[self.q_rows]
            q = (new[self.q_rows[mq]], self.q_i[mq], self.q_j[mq], self.q_vals[mq])
        nl = None
        if self.nl is not None:
            nl = NL("gather", n, [self.nl], data=np.flatnonzero(keep), curvature=self.nl.curvature)
        return Expr(n, self.const[keep], new[self.rows[m]], self.cols[m], self.vals[m], *q, nl=nl)


def apply_numpy(op: str, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Evaluate a unary or binary op on numbers (shared by data evaluation and the DAG)."""
    with np.errstate(all="ignore"):
        if b is not None:
            return {
                "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                "pow": np.power, "max2": np.maximum, "min2": np.minimum, "atan2": np.arctan2,
            }[op](a, b)
        if op == "neg":
            return -a
        if op == "log10":
            return np.log10(a)
        if op == "trunc":
            return np.trunc(a)
        if op == "round":
            return np.sign(a) * np.floor(np.abs(a) + 0.5)  # halves away from zero, as AMPL
        return getattr(np, _NUMPY_OP.get(op, op))(a)


def _cat_quad(a: Expr, b: Expr) -> tuple:
    if not a.has_quad and not b.has_quad:
        return (None, None, None, None)
    parts = [e for e in (a, b) if e.has_quad]
    return tuple(np.concatenate([getattr(e, k) for e in parts]) for k in ("q_rows", "q_i", "q_j", "q_vals"))


def _nl_add(a: NL | None, b: NL | None) -> NL | None:
    if a is None:
        return b
    if b is None:
        return a
    return NL("add", a.n, [a, b], curvature=max(a.curvature, b.curvature))


def _affine_product(a: Expr, b: Expr) -> Expr:
    """(ca + La x)(cb + Lb x) per row: constant, two linear cross terms, and the quadratic part."""
    n = a.n
    lin = a.scale(b.const) + Expr(n, np.zeros(n), b.rows, b.cols, b.vals * a.const[b.rows])
    lin.const = a.const * b.const
    # pair every linear term of a with every linear term of b in the same row
    oa = np.argsort(a.rows, kind="stable")
    ob = np.argsort(b.rows, kind="stable")
    ra, rb = a.rows[oa], b.rows[ob]
    cnt_a = np.bincount(ra, minlength=n)
    cnt_b = np.bincount(rb, minlength=n)
    start_b = np.concatenate([[0], np.cumsum(cnt_b)])[:-1]
    reps = cnt_b[ra]  # each a-term pairs with every b-term of its row
    ia = np.repeat(np.arange(len(ra)), reps)
    offs = np.arange(len(ia)) - np.repeat(np.cumsum(reps) - reps, reps)
    ib = start_b[ra[ia]] + offs
    del cnt_a
    q_rows = ra[ia]
    q_i = a.cols[oa][ia]
    q_j = b.cols[ob][ib]
    q_vals = a.vals[oa][ia] * b.vals[ob][ib]
    lin.q_rows, lin.q_i, lin.q_j, lin.q_vals = q_rows, q_i, q_j, q_vals
    return lin
