"""A nonlinear DAG flattened for execution: every node reachable from a list of roots, in
topological order (arguments before users), each visited once however often it is shared.

Both executors (`sparse_jac` with numpy/scipy, `torch_eval` with torch) run a `Program`; it
is built with an explicit stack so a 5,000-deep chain does not hit Python's recursion limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optdsl.errors import SolverError
from optdsl.ir.expr import NL, SMOOTH_UNARY

BINARY = frozenset({"add", "sub", "mul", "div", "pow", "max2", "min2", "atan2"})
REDUCTIONS = frozenset({"sum", "prod", "max", "min"})
PIECEWISE_UNARY = frozenset({"abs", "floor", "ceil", "round", "trunc"})
UNARY = frozenset(SMOOTH_UNARY) | PIECEWISE_UNARY
LEAVES = frozenset({"var", "const", "affine"})
KNOWN = BINARY | REDUCTIONS | UNARY | LEAVES | {"gather"}


@dataclass
class Program:
    """`nodes[k]` uses `args[k]` (indices of earlier nodes); `roots[r]` is the index of root r.
    `depends[k]` is False for nodes that are constant in x (their derivatives are skipped)."""

    nodes: list[NL]
    args: list[tuple[int, ...]]
    roots: list[int]
    depends: np.ndarray
    num_vars: int

    @property
    def root_sizes(self) -> list[int]:
        return [self.nodes[r].n for r in self.roots]

    def needed(self, which: tuple[int, ...]) -> np.ndarray:
        """The nodes that roots `which` depend on (a reverse sweep over the order)."""
        mark = np.zeros(len(self.nodes), dtype=bool)
        mark[[self.roots[i] for i in which]] = True
        for k in range(len(self.nodes) - 1, -1, -1):
            if mark[k]:
                mark[list(self.args[k])] = True
        return mark


def build_program(roots: list[NL], num_vars: int) -> Program:
    """Topologically order the nodes under `roots` (post-order, explicit stack)."""
    index: dict[int, int] = {}
    nodes: list[NL] = []
    args: list[tuple[int, ...]] = []
    for root in roots:
        stack: list[tuple[NL, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if id(node) in index:
                continue
            if not ready:
                _check(node)
                stack.append((node, True))
                stack.extend((a, False) for a in reversed(node.args) if id(a) not in index)
                continue
            index[id(node)] = len(nodes)
            nodes.append(node)
            args.append(tuple(index[id(a)] for a in node.args))
    depends = np.zeros(len(nodes), dtype=bool)
    for k, node in enumerate(nodes):
        if node.op == "var":
            depends[k] = len(node.data) > 0
        elif node.op == "affine":
            e = node.data
            depends[k] = len(e.vals) > 0 or e.has_quad
        elif node.op != "const":
            depends[k] = any(depends[a] for a in args[k])
    return Program(nodes, args, [index[id(r)] for r in roots], depends, num_vars)


def _check(node: NL) -> None:
    if node.op == "call":
        raise SolverError(
            f"surrogate model '{node.data[0]}' is called in the model; surrogate models need the "
            "surrogate backend",
            hint="choose a backend that handles the 'surrogate' feature",
        )
    if node.op not in KNOWN:
        raise SolverError(f"the nonlinear lowering has no rule for the operation '{node.op}'")
    if node.op in BINARY and len(node.args) != 2:
        raise SolverError(f"'{node.op}' node with {len(node.args)} arguments (expected 2)")


def const_values(node: NL) -> np.ndarray:
    return np.broadcast_to(np.asarray(node.data, dtype=np.float64), (node.n,))


# ---------------------------------------------------------------------------- coloring
def greedy_coloring(conflict: sp.csr_matrix) -> np.ndarray:
    """A greedy coloring of the graph whose adjacency is `conflict` (vertices in order; the diagonal
    is ignored). Used to compress Jacobians and Hessians into a few products (Curtis-Powell-Reid)."""
    n = conflict.shape[0]
    indptr = conflict.indptr.tolist()
    indices = conflict.indices.tolist()
    color = [-1] * n
    for v in range(n):
        used = {color[u] for u in indices[indptr[v]:indptr[v + 1]] if u != v}
        c = 0
        while c in used:
            c += 1
        color[v] = c
    return np.asarray(color, dtype=np.int64)


def row_coloring(pattern: sp.csr_matrix) -> np.ndarray:
    """Colors of the rows of a Jacobian pattern such that rows of one color share no column: one
    vector-Jacobian product per color then recovers every row exactly."""
    p = pattern.astype(bool).astype(np.int32).tocsr()
    return greedy_coloring((p @ p.T).tocsr())


def symmetric_coloring(pattern: sp.csr_matrix) -> np.ndarray:
    """Colors of the columns of a symmetric pattern such that no row meets two columns of one color
    (distance-2 coloring): one Hessian-vector product per color recovers every entry directly."""
    p = pattern.astype(bool).astype(np.int32).tocsc()
    return greedy_coloring((p.T @ p).tocsr())


def conflict_size(pattern: sp.csr_matrix, by_rows: bool) -> int:
    """An upper bound on the entries of the conflict graph, to refuse coloring a dense pattern."""
    p = pattern.tocsr() if by_rows else pattern.tocsc()
    counts = np.diff(p.indptr).astype(np.int64)
    return int(np.sum(counts * counts))
