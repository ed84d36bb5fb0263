"""Result mapping: where each named component lives in a form's flat vectors.

A lowering fills a `Layout`; a backend's `Result` carries it back so values, duals and reduced
costs can be read by component name and index. It lives beside `optdsl.results` (not in
`optdsl.lower`) because reading a result needs it and the results must not depend on lowering.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Block:
    """A named component laid out on contiguous flat positions [start, start + size).

    `keys` gives the index tuple of each position, in order (empty tuple list for a scalar);
    it is a callable so that huge models build the labels only when a result is printed.
    `columns`, when given, returns the same labels as one array per index position (numbers as
    float64, strings as object), and `index_names` names those positions (the index sets);
    labelled arrays of results are built from them without a loop over the positions.
    """

    name: str
    start: int
    size: int
    keys: Callable[[], Sequence[tuple]] | None = None
    scalar: bool = False
    columns: Callable[[], list[np.ndarray]] | None = None
    index_names: tuple[str, ...] = ()

    def index_tuples(self) -> Sequence[tuple]:
        if self.scalar or self.keys is None:
            return [()] * self.size
        return self.keys()

    def label_columns(self) -> list[np.ndarray]:
        """The index labels as one array per position (length `size` each)."""
        if self.scalar:
            return []
        if self.columns is not None:
            return self.columns()
        tuples = self.index_tuples()
        width = len(tuples[0]) if len(tuples) else 0
        cols = []
        for c in range(width):  # only for blocks built without label columns (files, generated names)
            col = np.empty(len(tuples), dtype=object)
            col[:] = [t[c] for t in tuples]
            cols.append(col)
        return cols


@dataclass
class Layout:
    """Where each variable and constraint component lives in the flat vectors of a form."""

    variables: list[Block] = field(default_factory=list)
    constraints: list[Block] = field(default_factory=list)
    objective_name: str = "objective"
