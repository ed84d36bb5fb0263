"""The numpy executor of a nonlinear DAG: values, sparse Jacobians (forward mode), gradients
(reverse mode) and exact sparse Hessians (second-order adjoints), with no torch.

Forward mode carries, for every node, its value (n rows) and its Jacobian as a CSR matrix
(n x num_vars, `optdsl.eval.rows.Rows`): var -> a selection matrix; affine -> its closed-form
Jacobian; f(u) -> diag(f'(u)) J_u; a*b -> diag(b) J_a + diag(a) J_b; a reduction -> (n_out x n
aggregation matrix) J_u; gather -> rows of J_u. The Jacobian of the roots is therefore exact and
exactly as sparse as the model.

The Hessian of sum_roots w' root(x) is the sum over nodes of  J_argsᵀ (ybar * local Hessian) J_args,
where ybar is the node's adjoint from one reverse sweep: unary f gives J_uᵀ diag(ybar f''(u)) J_u,
a*b gives J_aᵀ diag(ybar) J_b + its transpose, prod reductions couple every pair in a group, and
affine leaves add sum_r ybar_r Q_r. Sums, gathers, max/min are piecewise linear and add nothing.

Nonsmooth ops use a subgradient: abs -> sign(u) (0 at 0); max2(a, b) / min2 -> the derivative of
`a` where a >= b (a <= b), else of `b` (ties go to the first argument); max/min reductions -> the
derivative of the first row attaining the extremum in each group; floor, ceil, round, trunc -> 0.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from optdsl.eval.dag import BINARY, UNARY, Program, const_values
from optdsl.eval.poly import PolyPart
from optdsl.eval.rows import Rows, expand, row_outer, selection
from optdsl.ir.expr import NL, apply_numpy

_LN10 = float(np.log(10.0))
Csr = sp.csr_matrix


# ---------------------------------------------------------------------------- local derivatives
def unary_d1(op: str, u: np.ndarray, y: np.ndarray) -> np.ndarray:
    """f'(u) given u and y = f(u)."""
    if op == "exp":
        return y
    if op == "log":
        return 1.0 / u
    if op == "log10":
        return 1.0 / (u * _LN10)
    if op == "sqrt":
        return 0.5 / y
    if op == "sin":
        return np.cos(u)
    if op == "cos":
        return -np.sin(u)
    if op == "tan":
        return 1.0 + y * y
    if op == "tanh":
        return 1.0 - y * y
    if op == "atan":
        return 1.0 / (1.0 + u * u)
    if op == "sinh":
        return np.cosh(u)
    if op == "cosh":
        return np.sinh(u)
    if op in ("asin", "acos"):
        d = 1.0 / np.sqrt(1.0 - u * u)
        return d if op == "asin" else -d
    if op == "asinh":
        return 1.0 / np.sqrt(1.0 + u * u)
    if op == "acosh":
        return 1.0 / np.sqrt(u * u - 1.0)
    if op == "atanh":
        return 1.0 / (1.0 - u * u)
    if op == "neg":
        return np.full_like(u, -1.0)
    if op == "abs":
        return np.sign(u)
    return np.zeros_like(u)  # floor, ceil, round, trunc: piecewise constant


def unary_d2(op: str, u: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """f''(u), or None where f is piecewise linear (no curvature term)."""
    if op == "exp":
        return y
    if op == "log":
        return -1.0 / (u * u)
    if op == "log10":
        return -1.0 / (u * u * _LN10)
    if op == "sqrt":
        return -0.25 / (u * y)
    if op in ("sin", "cos"):
        return -y
    if op == "tan":
        return 2.0 * y * (1.0 + y * y)
    if op == "tanh":
        return -2.0 * y * (1.0 - y * y)
    if op == "atan":
        return -2.0 * u / (1.0 + u * u) ** 2
    if op in ("sinh", "cosh"):
        return y
    if op in ("asin", "acos"):
        d = u / (1.0 - u * u) ** 1.5
        return d if op == "asin" else -d
    if op == "asinh":
        return -u / (1.0 + u * u) ** 1.5
    if op == "acosh":
        return -u / (u * u - 1.0) ** 1.5
    if op == "atanh":
        return 2.0 * u / (1.0 - u * u) ** 2
    return None


def binary_d1(op: str, a: np.ndarray, b: np.ndarray, y: np.ndarray, dep: tuple[bool, bool]) -> list:
    """[dy/da, dy/db]; an entry is None when that argument is constant in x."""
    if op == "add":
        da, db = np.ones_like(y), np.ones_like(y)
    elif op == "sub":
        da, db = np.ones_like(y), np.full_like(y, -1.0)
    elif op == "mul":
        da, db = b, a
    elif op == "div":
        da, db = 1.0 / b, -y / b
    elif op == "pow":
        da = b * np.power(a, b - 1.0) if dep[0] else None
        db = y * np.log(a) if dep[1] else None  # log(a) only when the exponent varies
    elif op == "atan2":  # atan2(a, b): the angle of the point (b, a)
        r2 = a * a + b * b
        da, db = b / r2, -a / r2
    else:  # max2 / min2: subgradient, ties go to `a`
        pick = (a >= b) if op == "max2" else (a <= b)
        da, db = pick.astype(np.float64), (~pick).astype(np.float64)
    return [da if dep[0] else None, db if dep[1] else None]


def binary_d2(op: str, a: np.ndarray, b: np.ndarray, y: np.ndarray, dep: tuple[bool, bool]) -> list:
    """Local second derivatives as (i, j, d): the term J_iᵀ diag(ybar d) J_j (plus its transpose
    when i != j)."""
    if op == "mul":
        return [(0, 1, np.ones_like(y))]
    if op == "div":
        return [(0, 1, -1.0 / (b * b)), (1, 1, 2.0 * a / (b * b * b))]
    if op == "pow":
        out = [(0, 0, b * (b - 1.0) * np.power(a, b - 2.0))]
        if dep[1]:
            la = np.log(a)
            out += [(0, 1, np.power(a, b - 1.0) * (1.0 + b * la)), (1, 1, y * la * la)]
        return out
    if op == "atan2":
        r4 = (a * a + b * b) ** 2
        return [(0, 0, -2.0 * a * b / r4), (0, 1, (a * a - b * b) / r4), (1, 1, 2.0 * a * b / r4)]
    return []  # add, sub, max2, min2: piecewise linear


def excluded_product(u: np.ndarray, parent: np.ndarray, n_out: int, drop: list[np.ndarray]) -> np.ndarray:
    """prod over t in group(r) of u_t with the rows in `drop` left out (one or two index arrays of
    equal length), exact when some u_t are zero: count zeros instead of dividing by them."""
    nz = u != 0
    prod_nz = np.ones(n_out)
    np.multiply.at(prod_nz, parent, np.where(nz, u, 1.0))
    zeros = np.bincount(parent, weights=(~nz).astype(np.float64), minlength=n_out)
    g = parent[drop[0]]
    out = prod_nz[g].copy()
    left = zeros[g].copy()
    for r in drop:
        out /= np.where(nz[r], u[r], 1.0)
        left -= ~nz[r]
    return np.where(left > 0, 0.0, out)


def group_pairs(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs (r, s), r != s, of rows in the same group (sum of k^2 per group)."""
    n_out = int(parent.max()) + 1 if len(parent) else 0
    order = np.argsort(parent, kind="stable")
    counts = np.bincount(parent, minlength=n_out)
    starts = np.concatenate([[0], np.cumsum(counts)])[:-1]
    item, offs = expand(counts[parent[order]])
    r = order[item]
    s = order[starts[parent[r]] + offs]
    keep = r != s
    return r[keep], s[keep]


def first_extreme(u: np.ndarray, y: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """A 0/1 weight per row: 1 on the first row of each group attaining the group's extremum y."""
    hit = np.flatnonzero(u == y[parent])
    _, first = np.unique(parent[hit], return_index=True)
    w = np.zeros(len(u))
    w[hit[first]] = 1.0
    return w


# ---------------------------------------------------------------------------- sparse helpers
def _sum_all(parts: list, n: int) -> Csr:
    """Sum COO triplets and sparse matrices in one assembly."""
    rows, cols, vals = [], [], []
    for p in parts:
        if isinstance(p, tuple):
            r, c, v = p
        else:
            coo = p.tocoo()
            r, c, v = coo.row, coo.col, coo.data
        rows.append(r)
        cols.append(c)
        vals.append(v)
    if not rows:
        return Csr((n, n))
    H = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n, n)).tocsr()
    H.sum_duplicates()
    return H


def _sandwich(Ji: Rows, d: np.ndarray, Jj: Rows, symmetrize: bool) -> list:
    """Jiᵀ diag(d) Jj as COO triplets, plus its transpose when asked."""
    rows = np.arange(Ji.shape[0])
    r, c, v = row_outer(Ji, rows, Jj, rows, d)
    return [(r, c, v), (c, r, v)] if symmetrize else [(r, c, v)]


def _same_weights(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        (u is None and v is None) or (u is not None and v is not None and np.array_equal(u, v))
        for u, v in zip(a, b, strict=True))


class SparseExecutor:
    """Runs a Program with numpy and scipy.sparse. The last forward pass is cached by x, so
    f/grad or c/jac at one point share it."""

    def __init__(self, prog: Program) -> None:
        self.prog = prog
        nv = prog.num_vars
        self._var_sel: dict[int, Rows] = {}
        self._poly: dict[int, PolyPart] = {}
        for k, node in enumerate(prog.nodes):
            if node.op == "var":
                self._var_sel[k] = selection(np.asarray(node.data, dtype=np.int64), nv)
            elif node.op == "affine":
                self._poly[k] = PolyPart.of(node.data, nv)
        self._cache: tuple | None = None
        self._hess_cache: tuple | None = None

    # ------------------------------------------------------------------ passes
    def _values(self, x: np.ndarray) -> tuple[list, list]:
        """Every node's value and local partials, cached by x."""
        if self._cache is not None and np.array_equal(self._cache[0], x):
            return self._cache[1]
        prog = self.prog
        vals: list = [None] * len(prog.nodes)
        parts: list = [None] * len(prog.nodes)
        with np.errstate(all="ignore"):
            for k, node in enumerate(prog.nodes):
                a = [vals[i] for i in prog.args[k]]
                vals[k], parts[k] = self._node(k, node, a, x)
        self._cache = (x.copy(), (vals, parts), None)
        return vals, parts

    def _node(self, k: int, node: NL, a: list, x: np.ndarray) -> tuple[np.ndarray, object]:
        op = node.op
        dep = self.prog.depends
        if op == "var":
            return x[node.data], None
        if op == "const":
            return const_values(node), None
        if op == "affine":
            return self._poly[k].value(x), None
        if op in UNARY:
            y = apply_numpy(op, a[0])
            return y, unary_d1(op, a[0], y)
        if op in BINARY:
            i, j = self.prog.args[k]
            y = apply_numpy(op, a[0], a[1])
            return y, binary_d1(op, a[0], a[1], y, (bool(dep[i]), bool(dep[j])))
        if op == "gather":
            return a[0][node.data], None
        parent, n_out = node.data
        parent = np.asarray(parent, dtype=np.int64)
        if op == "sum":
            return np.bincount(parent, weights=a[0], minlength=n_out), None
        init = {"prod": 1.0, "max": -np.inf, "min": np.inf}[op]
        y = np.full(n_out, init)
        {"prod": np.multiply, "max": np.maximum, "min": np.minimum}[op].at(y, parent, a[0])
        if op == "prod":
            w = excluded_product(a[0], parent, n_out, [np.arange(len(parent))])
        else:
            w = first_extreme(a[0], y, parent)
        return y, w

    def forward(self, x: np.ndarray | None, pattern: bool = False) -> tuple[list, list, list]:
        """(values, partials, Jacobians) of every node; Jacobians are None for constant nodes.
        With pattern=True (x=None) every derivative is 1: the structural pattern, no cancellation."""
        if not pattern and self._cache is not None and self._cache[2] is not None \
                and np.array_equal(self._cache[0], x):
            vals, parts = self._cache[1]
            return vals, parts, self._cache[2]
        prog = self.prog
        if pattern:
            vals, parts = [None] * len(prog.nodes), [None] * len(prog.nodes)
        else:
            vals, parts = self._values(x)
        jacs: list = [None] * len(prog.nodes)
        with np.errstate(all="ignore"):
            for k, node in enumerate(prog.nodes):
                if prog.depends[k]:
                    jacs[k] = self._jac_node(k, node, x, parts[k], jacs, pattern)
        if not pattern:
            self._cache = (self._cache[0], self._cache[1], jacs)
        return vals, parts, jacs

    def _jac_node(self, k: int, node: NL, x: np.ndarray | None, part: object, jacs: list,
                  pattern: bool) -> Rows:
        op, args = node.op, self.prog.args[k]
        if op == "var":
            return self._var_sel[k]
        if op == "affine":
            J = self._poly[k].jac_rows(np.ones(self.prog.num_vars) if pattern else x)
            return J.ones() if pattern else J  # a pattern must not cancel: every entry positive
        if op == "gather":
            return jacs[args[0]].take(np.asarray(node.data, dtype=np.int64))
        if op in UNARY:
            Ju = jacs[args[0]]
            return Ju if pattern else Ju.scale(part)
        if op in BINARY:
            out = None
            for slot, i in enumerate(args):
                if jacs[i] is None:
                    continue
                Ji = jacs[i] if pattern else jacs[i].scale(part[slot])
                out = Ji if out is None else out.add(Ji)
            return out
        parent, n_out = node.data  # reductions
        w = None if pattern or op == "sum" else part
        return jacs[args[0]].aggregate(np.asarray(parent, dtype=np.int64), int(n_out), w)

    def _adjoints(self, weights: list, parts: list, pattern: bool) -> list:
        """Reverse sweep: the adjoint of every node for sum_r weights[r]' root_r (a None weight
        leaves its root out; in pattern mode every root counts, with weight 1)."""
        prog = self.prog
        bar: list = [None] * len(prog.nodes)
        for r, w in zip(prog.roots, weights, strict=True):
            if w is None and not pattern:
                continue
            w = np.ones(prog.nodes[r].n) if pattern else np.asarray(w, dtype=np.float64)
            bar[r] = w if bar[r] is None else bar[r] + w
        for k in range(len(prog.nodes) - 1, -1, -1):
            yb = bar[k]
            node = prog.nodes[k]
            if yb is None or not prog.depends[k] or node.op in ("var", "affine"):
                continue
            args = prog.args[k]
            op = node.op
            if op in UNARY:
                contrib = [(args[0], yb if pattern else yb * parts[k])]
            elif op in BINARY:
                contrib = [(i, yb if pattern else yb * parts[k][s])
                           for s, i in enumerate(args) if parts[k] is None or parts[k][s] is not None]
            elif op == "gather":
                n_u = prog.nodes[args[0]].n
                idx = np.asarray(node.data, dtype=np.int64)
                contrib = [(args[0], np.bincount(idx, weights=yb, minlength=n_u))]
            else:
                parent = np.asarray(node.data[0], dtype=np.int64)
                yp = yb[parent]
                contrib = [(args[0], yp if pattern or op == "sum" else yp * parts[k])]
            for i, g in contrib:
                if prog.depends[i]:
                    bar[i] = g if bar[i] is None else bar[i] + g
        return bar

    # ------------------------------------------------------------------ public oracles
    def root_values(self, x: np.ndarray) -> list[np.ndarray]:
        vals, _ = self._values(x)
        return [vals[r] for r in self.prog.roots]

    def root_jacobians(self, x: np.ndarray, which: list[int] | None = None) -> list[Csr]:
        """Jacobians of the roots numbered in `which` (all by default)."""
        _, _, jacs = self.forward(x)
        which = range(len(self.prog.roots)) if which is None else which
        return [self._root_jac(self.prog.roots[i], jacs) for i in which]

    def _root_jac(self, r: int, jacs: list) -> Csr:
        J = jacs[r]
        return Csr((self.prog.nodes[r].n, self.prog.num_vars)) if J is None else J.scipy()

    def gradient(self, x: np.ndarray, weights: list) -> np.ndarray:
        """Gradient of sum_r weights[r]' root_r(x) by one reverse sweep (no Jacobians formed);
        roots with weight None are left out."""
        _, parts = self._values(x)
        bar = self._adjoints(weights, parts, pattern=False)
        nv = self.prog.num_vars
        g = np.zeros(nv)
        for k, node in enumerate(self.prog.nodes):
            if bar[k] is None or not self.prog.depends[k]:
                continue
            if node.op == "var":
                g += np.bincount(np.asarray(node.data, dtype=np.int64), weights=bar[k], minlength=nv)
            elif node.op == "affine":
                g += self._poly[k].grad(x, bar[k])
        return g

    def hessian(self, x: np.ndarray | None, weights: list | None, pattern: bool = False) -> Csr:
        """The exact Hessian of sum_r weights[r]' root_r(x), symmetric CSR (both triangles); roots
        with weight None are left out."""
        prog = self.prog
        nv = prog.num_vars
        vals, parts, jacs = self.forward(x, pattern)
        bar = self._adjoints(weights or [None] * len(prog.roots), parts, pattern)
        terms: list = []
        with np.errstate(all="ignore"):
            for k, node in enumerate(prog.nodes):
                if bar[k] is None or not prog.depends[k]:
                    continue
                terms.extend(self._hess_node(k, node, vals, jacs, bar[k], pattern))
        return _sum_all(terms, nv)

    def _hess_node(self, k: int, node: NL, vals: list, jacs: list, yb: np.ndarray, pattern: bool) -> list:
        op, args = node.op, self.prog.args[k]
        if op == "affine":
            poly = self._poly[k]
            if not poly.has_quad:
                return []
            if pattern:
                ii = np.concatenate([poly.q_i, poly.q_j])
                jj = np.concatenate([poly.q_j, poly.q_i])
                return [sp.coo_matrix((np.ones(len(ii)), (ii, jj)), shape=(poly.num_vars,) * 2)]
            return [poly.hess(yb)]
        if op in UNARY:
            d2 = unary_d2(op, np.ones(1), np.ones(1)) if pattern else unary_d2(op, vals[args[0]], vals[k])
            if d2 is None:
                return []
            Ju = jacs[args[0]]
            return _sandwich(Ju, np.ones(node.n) if pattern else yb * d2, Ju, False)
        if op in BINARY:
            dep = (jacs[args[0]] is not None, jacs[args[1]] is not None)
            if pattern:
                ones = np.ones(node.n)
                terms = binary_d2(op, ones, ones, ones, dep)
            else:
                terms = binary_d2(op, vals[args[0]], vals[args[1]], vals[k], dep)
            out = []
            for i, j, d in terms:
                Ji, Jj = jacs[args[i]], jacs[args[j]]
                if Ji is not None and Jj is not None:
                    out.extend(_sandwich(Ji, np.ones(node.n) if pattern else yb * d, Jj, i != j))
            return out
        if op == "prod":
            parent, n_out = node.data
            parent = np.asarray(parent, dtype=np.int64)
            r, s = group_pairs(parent)
            if not len(r):
                return []
            if pattern:
                coef = np.ones(len(r))
            else:
                coef = yb[parent[r]] * excluded_product(vals[args[0]], parent, int(n_out), [r, s])
            Ju = jacs[args[0]]
            return [row_outer(Ju, r, Ju, s, coef)]
        return []  # sum, max, min, gather, var: no curvature

    def hvp(self, x: np.ndarray, weights: list, v: np.ndarray) -> np.ndarray:
        """H v from the sparse Hessian, which is kept for repeated products at one (x, weights)."""
        w = [None if a is None else np.array(a, dtype=np.float64) for a in weights]
        hc = self._hess_cache
        if hc is None or not (np.array_equal(hc[0], x) and _same_weights(hc[1], w)):
            hc = self._hess_cache = (np.array(x, dtype=np.float64), w, self.hessian(x, weights))
        return hc[2] @ v

    # ------------------------------------------------------------------ structure
    def jacobian_patterns(self) -> list[Csr]:
        """Structural patterns of the root Jacobians (a superset of any point's nonzeros)."""
        _, _, jacs = self.forward(None, pattern=True)
        return [self._root_jac(r, jacs) for r in self.prog.roots]

    def hessian_pattern(self) -> Csr:
        return self.hessian(None, None, pattern=True)
