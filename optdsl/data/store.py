"""Loaded data, before it meets the model: sets as member lists, params as key columns + values.

Every loader (.dat, .json, .csv, Python objects) produces these; instantiation checks them
against the declarations (membership, bounds, missing entries) and builds arrays.

Labels: a number is stored as a Python/numpy number (ints stay ints where integral), any other
word as `str`. A tuple member of a set of dimension k is a k-tuple of labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optdsl.errors import DataError, Span


@dataclass
class SetData:
    name: str
    members: list[Any]  # labels, or tuples of labels for dimen > 1
    origin: Span | None = None
    # For a set indexed by other sets (`set S {I}`): {index tuple: members}
    indexed: dict[tuple, list[Any]] | None = None


@dataclass
class ParamData:
    """Values of one param.

    Exactly one of these shapes is used:
    - scalar: `value` holds the number (or string for symbolic params); `keys is None`.
    - sparse: `keys` is a list of k columns (one numpy array per index position, object or numeric
      dtype) and `values` a 1-d numpy array (float, or object for symbolic); `lines` optionally
      gives the data-file line of each entry, for error messages.
    - dense: `dense` is a k-dimensional numpy array laid out in the declared index sets' order
      (JSON nested arrays, CSV plain matrices).
    `default` is a default given in the data (`param p default 0 := ...`).
    """

    name: str
    value: Any = None
    keys: list[np.ndarray] | None = None
    values: np.ndarray | None = None
    dense: np.ndarray | None = None
    default: Any = None
    origin: Span | None = None
    lines: np.ndarray | None = None
    lines_file: str | None = None  # the file `lines` count in, when not origin's (a CSV file)

    @property
    def is_scalar(self) -> bool:
        return self.keys is None and self.dense is None


@dataclass
class DataStore:
    sets: dict[str, SetData] = field(default_factory=dict)
    params: dict[str, ParamData] = field(default_factory=dict)

    def add_set(self, data: SetData) -> None:
        if data.name in self.sets and data.indexed is None:
            prev = self.sets[data.name]
            raise DataError(
                f"set '{data.name}' is given data twice"
                + (f" (first at {prev.origin.file}:{prev.origin.line})" if prev.origin else ""),
                data.origin,
            )
        if data.name in self.sets and data.indexed is not None:
            self.sets[data.name].indexed.update(data.indexed)  # type: ignore[union-attr]
            return
        self.sets[data.name] = data

    def add_param(self, data: ParamData) -> None:
        prev = self.params.get(data.name)
        if prev is None:
            self.params[data.name] = data
            return
        # Several statements may each give some entries of one param (AMPL allows it).
        if prev.keys is not None and data.keys is not None and len(prev.keys) == len(data.keys):
            prev.keys = [np.concatenate([a, b]) for a, b in zip(prev.keys, data.keys)]
            prev.values = np.concatenate([prev.values, data.values])  # type: ignore[list-item]
            if prev.lines is not None and data.lines is not None:
                prev.lines = np.concatenate([prev.lines, data.lines])
            else:
                prev.lines = None
            if data.default is not None:
                prev.default = data.default
            return
        raise DataError(
            f"param '{data.name}' is given data twice"
            + (f" (first at {prev.origin.file}:{prev.origin.line})" if prev.origin else ""),
            data.origin,
        )

    def merge(self, other: DataStore) -> None:
        for s in other.sets.values():
            self.add_set(s)
        for p in other.params.values():
            self.add_param(p)


@dataclass(frozen=True)
class Declared:
    """What a loader needs to know of a model component to read its data."""

    kind: str  # "set" or "param"
    dimen: int  # set: tuple width of members; param: number of subscripts (0 = scalar)
    index_sets: Sequence[str] = ()  # param / indexed set: the declared index set names, in order
    symbolic: bool = False
    subscripts: int = 0  # indexed set: how many subscripts it takes (0 = not indexed)
