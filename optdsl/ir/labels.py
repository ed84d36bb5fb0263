"""Index sets as arrays: ordered labels with vectorized label -> position lookup.

`Labels` is an ordered list of distinct scalar labels (numbers or strings). `Domain` is the set
of index tuples of a component or of a k-dimensional set: per position a `Labels`, plus the
member tuples as an (n, k) array of codes (positions in each `Labels`). A dense domain is the
full product in row-major order and stores no codes: positions are mixed-radix arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from optdsl.data.labels import as_label as _as_label

_BIG = 100_000  # above this many labels, factorize with pandas when it is installed


def label_array(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """A 1-d array of labels: float64 when all are numbers, else object."""
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.dtype.kind in "US" and not isinstance(values, np.ndarray) and \
            not all(isinstance(v, str) for v in values):
        # np.asarray turns a mix of numbers and words (AMPL's `set P := 26179 w5112;`) into strings,
        # and "26179" would not match the number 26179 in a param's data: keep the labels as given
        arr = np.empty(len(values), dtype=object)
        arr[:] = list(values)
    if arr.dtype.kind in "iuf b":
        return arr.astype(np.float64, copy=False).reshape(-1)
    out = np.empty(len(values), dtype=object)
    out[:] = [_as_label(v) for v in values] if arr.dtype == object else [str(v) for v in arr]
    numeric = all(isinstance(v, (int, float)) for v in out)
    return out.astype(np.float64) if numeric and len(out) else out


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, uniques) in first-appearance order, vectorized."""
    if values.dtype.kind == "f":
        uniq, first, inv = np.unique(values, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        return rank[inv.reshape(-1)], uniq[order]
    if len(values) > _BIG:
        try:
            import pandas as pd

            codes, uniq = pd.factorize(values)
            return codes.astype(np.int64), np.asarray(uniq, dtype=object)
        except ImportError:  # pragma: no cover - pandas is optional
            pass
    table: dict[Any, int] = {}
    codes = np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int64, count=len(values))
    uniq = np.empty(len(table), dtype=object)
    uniq[:] = list(table)
    return codes, uniq


class Labels:
    """Distinct scalar labels in order, with vectorized lookup."""

    __slots__ = ("values", "_map", "_range", "_sorted")

    def __init__(self, values: np.ndarray) -> None:
        self.values = values  # float64 (numbers) or object
        self._map: dict[Any, int] | None = None
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None
        self._range: tuple[float, float] | None = None
        if values.dtype.kind == "f" and len(values) >= 1:
            start = values[0]
            step = values[1] - values[0] if len(values) > 1 else 1.0
            if step != 0 and np.array_equal(values, start + step * np.arange(len(values))):
                self._range = (float(start), float(step))

    @classmethod
    def of(cls, values: Sequence[Any] | np.ndarray) -> Labels:
        return cls(label_array(values))

    def __len__(self) -> int:
        return len(self.values)

    @property
    def numeric(self) -> bool:
        return self.values.dtype.kind == "f"

    def label(self, pos: int) -> Any:
        return _as_label(self.values[pos])

    def lookup(self, labels: np.ndarray) -> np.ndarray:
        """Positions of `labels` (an array of label values); -1 where absent."""
        labels = np.asarray(labels)
        n = len(self.values)
        if labels.dtype.kind in "iuf":
            if not self.numeric:
                if self.values.dtype == object and n:
                    return self._dict_lookup(labels.astype(object))
                return np.full(labels.shape, -1, dtype=np.int64)
            x = labels.astype(np.float64)
            if self._range is not None:
                start, step = self._range
                pos = (x - start) / step
                ok = (pos >= 0) & (pos < n) & (pos == np.round(pos))
                return np.where(ok, np.nan_to_num(pos, nan=-1), -1).astype(np.int64)
            if self._sorted is None:
                order = np.argsort(self.values, kind="stable")
                self._sorted = (self.values[order], order)
            sv, order = self._sorted
            idx = np.searchsorted(sv, x)
            idx_c = np.minimum(idx, max(n - 1, 0))
            ok = (idx < n) & (sv[idx_c] == x) if n else np.zeros(x.shape, bool)
            return np.where(ok, order[idx_c] if n else -1, -1).astype(np.int64)
        if self.numeric:
            # string labels against a numeric set: numbers written as strings still match
            conv = np.array([_to_number(v) for v in labels.reshape(-1)], dtype=np.float64).reshape(labels.shape)
            return np.where(np.isnan(conv), -1, self.lookup(np.nan_to_num(conv, nan=-1e308)))
        return self._dict_lookup(labels)

    def _dict_lookup(self, labels: np.ndarray) -> np.ndarray:
        if self._map is None:
            self._map = {_as_label(v): i for i, v in enumerate(self.values)}
        m = self._map
        flat = labels.reshape(-1)
        out = np.fromiter((m.get(_as_label(v), -1) for v in flat), dtype=np.int64, count=len(flat))
        return out.reshape(labels.shape)

    def map_from(self, other: Labels) -> np.ndarray:
        """For each position of `other`, the position of the same label here (-1 if absent)."""
        if other is self:
            return np.arange(len(self.values))
        return self.lookup(other.values)

    def numbers(self) -> np.ndarray:
        """Numeric value of each label (NaN for strings)."""
        if self.numeric:
            return self.values
        return np.array([v if isinstance(v, (int, float)) else np.nan for v in self.values], dtype=np.float64)


def _to_number(v: Any) -> float:
    if isinstance(v, (int, float, np.number)):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


class Domain:
    """The index tuples of a component or a k-dimensional set.

    dims: one `Labels` per tuple position. codes: (n, k) int64 array of positions, or None when
    the domain is the dense row-major product of `dims`.
    """

    __slots__ = ("dims", "codes", "n", "_keys", "names")

    def __init__(self, dims: list[Labels], codes: np.ndarray | None = None, names: tuple[str, ...] = ()) -> None:
        self.dims = dims
        self.codes = codes
        self.n = int(np.prod([len(d) for d in dims])) if codes is None else int(codes.shape[0])
        self._keys: tuple[np.ndarray, np.ndarray] | None = None
        self.names = names  # names of the declared index sets, when plain set names

    @property
    def dimen(self) -> int:
        return len(self.dims)

    @property
    def dense(self) -> bool:
        return self.codes is None

    def __len__(self) -> int:
        return self.n

    def code_columns(self) -> list[np.ndarray]:
        """Per position, the code of each member (n arrays of length n)."""
        if self.codes is not None:
            return [self.codes[:, c] for c in range(self.dimen)]
        sizes = [len(d) for d in self.dims]
        grids = np.indices(sizes).reshape(len(sizes), -1) if sizes else np.zeros((0, 1), np.int64)
        return [grids[c].astype(np.int64) for c in range(len(sizes))]

    def _radix(self) -> np.ndarray:
        sizes = np.array([len(d) for d in self.dims], dtype=np.int64)
        return np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]]).astype(np.int64)

    def locate(self, cols: list[np.ndarray]) -> np.ndarray:
        """Member positions of tuples given as per-position code arrays (-1 for codes < 0 or absent)."""
        if not cols:
            return np.zeros(1, dtype=np.int64)
        radix = self._radix()
        any_bad = any(c.size and c.min() < 0 for c in cols)
        bad = None
        if any_bad:
            bad = np.zeros(np.broadcast(*cols).shape, dtype=bool)
            for c in cols:
                bad |= c < 0
            cols = [np.where(c < 0, 0, c) for c in cols]
        key = cols[-1].astype(np.int64, copy=True)
        for c, r in zip(cols[:-1], radix[:-1]):
            key += c * r
        if self.codes is None:
            return key if bad is None else np.where(bad, -1, key)
        if bad is None:
            bad = np.zeros(key.shape, dtype=bool)
        if self._keys is None:
            own = self.codes @ radix
            order = np.argsort(own, kind="stable")
            self._keys = (own[order], order)
        sk, order = self._keys
        idx = np.searchsorted(sk, key)
        idx_c = np.minimum(idx, max(len(sk) - 1, 0))
        ok = (~bad) & (idx < len(sk))
        if len(sk):
            ok &= sk[idx_c] == key
            return np.where(ok, order[idx_c], -1)
        return np.full(key.shape, -1, dtype=np.int64)

    def member(self, pos: int) -> tuple:
        if self.codes is not None:
            return tuple(d.label(int(c)) for d, c in zip(self.dims, self.codes[pos]))
        out = []
        for d, r in zip(self.dims, self._radix()):
            out.append(d.label(int(pos // r) % len(d)))
        return tuple(out)

    def tuples(self) -> list[tuple]:
        cols = self.code_columns()
        labels = [d.values[c] for d, c in zip(self.dims, cols)]
        conv = [[_as_label(v) for v in col] for col in labels]
        return list(zip(*conv)) if conv else [()]

    def label_columns(self) -> list[np.ndarray]:
        return [d.values[c] for d, c in zip(self.dims, self.code_columns())]

    @classmethod
    def from_tuples(cls, members: Sequence[tuple], dimen: int) -> Domain:
        """A k-dim domain from member tuples (duplicates removed, order kept)."""
        if dimen == 1:
            vals = label_array([m[0] if isinstance(m, tuple) else m for m in members])
            codes, uniq = factorize(vals)
            keep = np.unique(codes, return_index=True)[1]
            return cls([Labels(vals[np.sort(keep)])])
        cols = [label_array([m[c] for m in members]) for c in range(dimen)]
        return cls.from_columns(cols)

    @classmethod
    def from_columns(cls, cols: list[np.ndarray]) -> Domain:
        """A domain from per-position label columns (duplicate tuples removed, order kept)."""
        if len(cols) == 1:
            codes, uniq = factorize(cols[0])
            return cls([Labels(uniq)])
        dims, codes = [], []
        for col in cols:
            c, u = factorize(col)
            dims.append(Labels(u))
            codes.append(c)
        arr = np.stack(codes, axis=1) if codes else np.zeros((0, 0), np.int64)
        dom = cls(dims, arr)
        # drop duplicate tuples, keeping first appearance
        if len(arr):
            key = arr @ dom._radix()
            _, first = np.unique(key, return_index=True)
            if len(first) != len(arr):
                dom = cls(dims, arr[np.sort(first)])
        return dom

    def select(self, rows: np.ndarray) -> Domain:
        """The sub-domain of the members at `rows` (in that order)."""
        cols = self.code_columns()
        return Domain(self.dims, np.stack([c[rows] for c in cols], axis=1), self.names)
