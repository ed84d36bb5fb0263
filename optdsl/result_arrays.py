"""Reading a result by label: labelled arrays of a whole component, and label look-ups.

Arrays are built from a block's label columns (one numpy array per index position, taken from
the instantiated Domain), so a million-entry component becomes a pandas Series without a Python
loop over its entries. Labels match as the data loaders canonicalize them: the numbers 2, 2.0
and the string "2" are the same label, and a component over one set takes the bare label.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from optdsl.data.labels import NUMBER, as_label, number_label
from optdsl.layout import Block


class LabelledValues(NamedTuple):
    """A component's values without pandas: `keys[c][i]` is position c of the i-th index tuple,
    `values[i]` its value; `names` are the index sets' names where the model declared them."""

    name: str
    keys: tuple[np.ndarray, ...]
    values: np.ndarray
    names: tuple[str, ...]

    def __len__(self) -> int:  # type: ignore[override]
        return len(self.values)


def labelled(block: Block, values: np.ndarray) -> Any:
    """The values of an indexed block as a pandas Series (Index for one index position, else a
    MultiIndex), or a LabelledValues when pandas is not installed."""
    cols = [_display(c) for c in block.label_columns()]
    names = tuple(block.index_names) if len(block.index_names) == len(cols) else ()
    if len(set(names)) != len(names):  # x{I, I}: level names must differ; number them
        names = tuple(f"{n}_{k + 1}" for k, n in enumerate(names))
    values = np.array(values, dtype=np.float64, copy=True)
    try:
        import pandas as pd
    except ImportError:
        return LabelledValues(block.name, tuple(cols), values, names)
    if len(cols) == 1:
        index = pd.Index(cols[0], name=names[0] if names else None)
    else:
        index = pd.MultiIndex.from_arrays(cols, names=list(names) if names else None)
    return pd.Series(values, index=index, name=block.name)


def _display(col: np.ndarray) -> np.ndarray:
    """Numeric labels as int64 when all are integral (1, 2, 3 rather than 1.0, 2.0, 3.0)."""
    if col.dtype.kind == "f" and len(col) and np.all(np.isfinite(col)) and np.all(col == np.round(col)) \
            and np.abs(col).max() < 2**53:
        return col.astype(np.int64)
    return col


def canonical(v: Any) -> Any:
    """A label as the data loaders store it: integral numbers as int, numeric strings as numbers."""
    if isinstance(v, str) and NUMBER.fullmatch(v.strip()):
        return number_label(v.strip())
    return as_label(v)


def find_position(block: Block, index: tuple) -> int:
    """The position of the index tuple `index` in `block`, or -1; vectorized over the labels."""
    cols = block.label_columns()
    if len(index) != len(cols):
        return -1
    mask = np.ones(block.size, dtype=bool)
    for col, label in zip(cols, index):
        mask &= _matches(col, label)
        if not mask.any():
            return -1
    hits = np.flatnonzero(mask)
    return int(hits[0]) if len(hits) else -1


def _matches(col: np.ndarray, label: Any) -> np.ndarray:
    want = canonical(label)
    if col.dtype.kind in "iuf":
        if isinstance(want, (int, float)):
            return col == want
        return np.zeros(len(col), dtype=bool)
    hit = col == want
    if isinstance(label, str) and want is not label:  # "2" may also be stored as the string "2"
        hit |= col == label
    elif not isinstance(want, str):  # 2 may be stored as the string "2" in a symbolic set
        hit |= col == str(want)
    return np.asarray(hit, dtype=bool)


_NONE = object()


class IndexedValues(dict):
    """{index tuple: value} of one component. A component over one set is also looked up by the
    bare label (`d["Chicago"]` as well as `d[("Chicago",)]`), and numeric labels by int, float or
    string alike (`d[2]`, `d[2.0]`, `d["2"]`)."""

    def __init__(self, items: Iterable[tuple[tuple, Any]] = ()) -> None:
        super().__init__(items)
        self._canon: dict[tuple, tuple] | None = None

    def _find(self, key: Any) -> Any:
        t = key if isinstance(key, tuple) else (key,)
        if dict.__contains__(self, t):
            return t
        if self._canon is None:  # built on the first look-up that needs it
            self._canon = {tuple(canonical(v) for v in k): k for k in self}
        try:
            return self._canon.get(tuple(canonical(v) for v in t), _NONE)
        except TypeError:  # an unhashable key
            return _NONE

    def __missing__(self, key: Any) -> Any:
        found = self._find(key)
        if found is _NONE:
            raise KeyError(key)
        return dict.__getitem__(self, found)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or self._find(key) is not _NONE

    def get(self, key: Any, default: Any = None) -> Any:
        found = self._find(key)
        return default if found is _NONE else dict.__getitem__(self, found)
