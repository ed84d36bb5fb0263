"""Helpers every data loader shares: label conversion, key columns, schema look-ups."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from optdsl.errors import DataError, Span, did_you_mean

from .store import Declared

NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")


def as_label(v: Any) -> Any:
    """Canonical scalar label: integral numbers become int, numpy scalars Python scalars."""
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return int(f) if f.is_integer() else f
    if isinstance(v, np.str_):
        return str(v)
    return v


def number_label(text: str) -> int | float:
    """A numeric label from its text: integral values become `int` so that 3, 3.0 and 3e0 agree."""
    if _INTEGER.fullmatch(text):  # exact, even past 2**53
        return int(text)
    v = float(text)
    if v.is_integer():
        return int(v)
    return v


def parse_label(text: str) -> Any:
    """A label written without quotes: a number when it looks like one, else the word itself."""
    text = text.strip()
    if NUMBER.fullmatch(text):
        return number_label(text)
    return text


def numeric_labels(texts: list[str]) -> list | None:
    """The labels of many texts when all are plain numbers (one numpy pass), else None."""
    if not texts or not NUMBER.fullmatch(texts[0]):
        return None
    try:
        arr = np.array(texts, dtype=np.float64)
    except ValueError:
        return None
    # float() also takes 'nan', 'inf' and '1_000', which are not numeric labels.
    if not np.isfinite(arr).all() or "_" in "".join(texts) or np.abs(arr).max() >= 2**53:
        return None
    if (arr == np.round(arr)).all():
        return arr.astype(np.int64).tolist()
    return [int(v) if v.is_integer() else v for v in arr.tolist()]


# A text that may need converting starts like a number (or, for data tokens, with a quote).
_MAYBE_NUMBER = re.compile(r"\n[0-9+\-.]")


def parse_labels(texts: list[str]) -> list:
    """parse_label over many texts, fast when they are all numbers or all words."""
    fast = numeric_labels(texts)
    if fast is not None:
        return fast
    joined = "\n" + "\n".join(texts)
    if " " in joined or "\t" in joined:
        texts = list(map(str.strip, texts))
        joined = "\n" + "\n".join(texts)
    if _MAYBE_NUMBER.search(joined) is None:  # words only: nothing to convert
        return list(texts)
    return [parse_label(t) for t in texts]


def label_column(labels: Sequence[Any]) -> np.ndarray:
    """One key column: int64 or float64 when every label is a number, else object (Python labels)."""
    if not labels:
        return np.empty(0, dtype=object)
    kinds = set(map(type, labels))
    if kinds <= {int}:
        try:
            return np.asarray(labels, dtype=np.int64)
        except OverflowError:
            pass
    elif kinds <= {int, float}:
        return np.asarray(labels, dtype=np.float64)
    out = np.empty(len(labels), dtype=object)
    out[:] = labels
    return out


def normalize_column(col: np.ndarray) -> np.ndarray:
    """Bring a key column read by numpy/pandas to the store's dtypes (int64, float64 or object).

    Float columns whose values are all integral become int64, as numeric labels do elsewhere.
    """
    kind = col.dtype.kind
    if kind in "iu":
        return col.astype(np.int64, copy=False)
    if kind == "f":
        if col.size and np.all(np.isfinite(col)) and np.all(col == np.round(col)):
            return col.astype(np.int64)
        return col.astype(np.float64, copy=False)
    if kind == "b":
        return col.astype(np.int64)
    if kind in "US":
        out = np.empty(col.shape[0], dtype=object)
        out[:] = col.tolist()
        return out
    return col.astype(object, copy=False)


def lookup(schema: Mapping[str, Declared], name: str, kind: str | None, span: Span | None) -> Declared:
    """The declaration of `name`; a DataError (with a did-you-mean hint) if unknown or not a `kind`."""
    decl = schema.get(name)
    if decl is None:
        pool = [n for n, d in schema.items() if kind is None or d.kind == kind] or list(schema)
        raise DataError(f"'{name}' is not declared in the model", span, did_you_mean(name, pool))
    if kind is not None and decl.kind != kind:
        raise DataError(f"'{name}' is a {decl.kind} in the model, not a {kind}", span)
    return decl


_PLURALS = {"index": "indices", "entry": "entries", "index column": "index columns"}


def plural(n: int, word: str) -> str:
    """`1 index`, `2 indices`, `3 labels`: counts in messages read as English."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {_PLURALS.get(word, word + 's')}"
