"""Grids of bound dummy indices: the rows over which an indexed expression is evaluated.

A grid has n rows; each dummy is a column of positions into a `Labels`. Expanding a grid by an
indexing expression `{i in I, (j, k) in LINKS: cond}` produces the child grid and, for every
child row, the parent row it came from (so `sum` is a reduction by that map). A dummy already
bound in the parent matches its value (AMPL's rule), which is a join, done by sorting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optdsl.ir.labels import Domain, Labels


@dataclass
class Dummy:
    labels: Labels
    pos: np.ndarray  # int64, one per grid row

    def values(self) -> np.ndarray:
        return self.labels.values[self.pos]

    def numbers(self) -> np.ndarray:
        return self.labels.numbers()[self.pos]


@dataclass
class Grid:
    n: int
    dummies: dict[str, Dummy] = field(default_factory=dict)
    # True while the rows are the full row-major product of the dummies' label lists
    product: bool = True

    @classmethod
    def root(cls) -> Grid:
        return cls(1, {})

    def take(self, rows: np.ndarray) -> Grid:
        return Grid(len(rows), {k: Dummy(d.labels, d.pos[rows]) for k, d in self.dummies.items()}, product=False)


def ragged_range(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts [2, 0, 3]: owners [0, 0, 2, 2, 2] and offsets [0, 1, 0, 1, 2]."""
    owners = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    offsets = np.arange(len(owners)) - np.repeat(starts, counts)
    return owners, offsets


def cross(grid: Grid, names: tuple[str, ...], dom: Domain) -> tuple[Grid, np.ndarray]:
    """Every parent row paired with every member of `dom` (row-major: parent outer)."""
    m = dom.n
    parent = np.repeat(np.arange(grid.n), m)
    child = grid.take(parent)
    child.product = grid.product and dom.dense
    cols = dom.code_columns()
    for name, lab, col in zip(names, dom.dims, cols):
        child.dummies[name] = Dummy(lab, np.tile(col, grid.n))
    return child, parent


def join(grid: Grid, names: tuple[str, ...], dom: Domain) -> tuple[Grid, np.ndarray]:
    """Pair each parent row with the members of `dom` that agree with its already-bound dummies."""
    bound = [k for k, nm in enumerate(names) if nm in grid.dummies]
    cols = dom.code_columns()
    radix = np.ones(len(bound), dtype=np.int64)
    for t in range(len(bound) - 2, -1, -1):
        radix[t] = radix[t + 1] * (len(dom.dims[bound[t + 1]]) + 1)
    # key of each member over the bound positions, and of each parent row
    mkey = np.zeros(dom.n, dtype=np.int64)
    pkey = np.zeros(grid.n, dtype=np.int64)
    pbad = np.zeros(grid.n, dtype=bool)
    for t, k in enumerate(bound):
        d = grid.dummies[names[k]]
        codes = dom.dims[k].map_from(d.labels)[d.pos]
        pbad |= codes < 0
        pkey += np.where(codes < 0, 0, codes) * radix[t]
        mkey += cols[k] * radix[t]
    order = np.argsort(mkey, kind="stable")
    sk = mkey[order]
    lo = np.searchsorted(sk, pkey, side="left")
    hi = np.searchsorted(sk, pkey, side="right")
    counts = np.where(pbad, 0, hi - lo)
    owners, offsets = ragged_range(counts)
    members = order[lo[owners] + offsets]
    child = grid.take(owners)
    for k, name in enumerate(names):
        if k not in bound:
            child.dummies[name] = Dummy(dom.dims[k], cols[k][members])
    return child, owners


def domain_of(grid: Grid, names: list[str]) -> Domain:
    """The index tuples of a declaration's grid, in row order (dense when it is the full
    row-major product of its label lists, which needs no stored codes)."""
    dims = [grid.dummies[n].labels for n in names]
    if grid.product and len(names) == len(grid.dummies):
        return Domain(dims)
    codes = np.stack([grid.dummies[n].pos for n in names], axis=1) if names else np.zeros((grid.n, 0), np.int64)
    dense = Domain(dims)
    if grid.n == dense.n:
        key = codes @ dense._radix() if names else np.zeros(grid.n, np.int64)
        if np.array_equal(key, np.arange(grid.n)):
            return dense
    return Domain(dims, codes)
