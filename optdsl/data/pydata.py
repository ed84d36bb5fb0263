"""Python objects as model data: the DataStore entries a `.dat` file would give.

| Python object                     | set                          | param over k sets                        |
|-----------------------------------|------------------------------|------------------------------------------|
| list / tuple / range              | members, in order (tuples    | k == 1: values in the set's order (dense)|
|                                   | for dimen > 1)               | nested lists: dense, sets' order         |
| numpy array                       | 1-d: members; 2-d: rows      | dense, in the declared sets' order       |
| dict                              | {index: members} (indexed)   | label -> value (tuple keys when k > 1;   |
|                                   |                              | nested dicts {i: {j: v}} also)           |
| pandas Series                     | its values                   | index (MultiIndex levels) -> keys        |
| pandas DataFrame                  | rows as tuples               | row levels + column levels == k: a table |
|                                   |                              | (index -> first keys, columns -> last);  |
|                                   |                              | one column: as that Series               |
| pandas Index / MultiIndex         | members                      |                                          |
| Python set                        | members, sorted              |                                          |
| number / string                   |                              | k == 0: the value; k > 0: every entry    |

NaN (or None) in param data means "no value" (the declared default applies, else it is an
error where used). Arrays and pandas objects convert without a Python loop per entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from optdsl.data.labels import as_label as _label
from optdsl.data.labels import label_column, lookup, normalize_column
from optdsl.data.store import DataStore, Declared, ParamData, SetData
from optdsl.errors import DataError


def data_from_python(data: Mapping[str, Any], schema: Mapping[str, Declared]) -> DataStore:
    """A DataStore from `{name: python object}` for the components declared in `schema`."""
    store = DataStore()
    for name, value in data.items():
        if value is None:
            continue
        decl = lookup(schema, name, None, None)
        if decl.kind == "set":
            store.add_set(set_data(name, value, decl.dimen, indexed=bool(decl.index_sets)))
        else:
            store.add_param(param_data(name, value, decl))
    return store


# ------------------------------------------------------------------------------------ sets
def set_data(name: str, value: Any, dimen: int | None = None, indexed: bool = False) -> SetData:
    """SetData from Python members (or, for an indexed set, a dict {index: members})."""
    if indexed:
        if not isinstance(value, Mapping):
            raise DataError(f"set '{name}' is indexed: give a dict {{index: members}}")
        out: dict[tuple, list[Any]] = {}
        for key, members in value.items():
            k = tuple(_label(x) for x in key) if isinstance(key, tuple) else (_label(key),)
            out[k] = members_of(name, members, dimen)
        return SetData(name, [], indexed=out)
    return SetData(name, members_of(name, value, dimen))


def members_of(name: str, value: Any, dimen: int | None = None) -> list[Any]:
    """Set members as labels (ints for integral numbers) or tuples of labels."""
    if isinstance(value, (set, frozenset)):
        try:
            value = sorted(value)
        except TypeError:
            raise DataError(f"set '{name}': a Python set of mixed types has no order; pass a list") from None
    mod = type(value).__module__
    if mod.startswith("pandas"):
        if hasattr(value, "itertuples") and hasattr(value, "columns"):  # DataFrame: rows
            value = np.asarray(value.to_numpy())
        elif hasattr(value, "nlevels"):  # Index / MultiIndex
            if value.nlevels > 1:
                return [tuple(_label(x) for x in t) for t in value.tolist()]
            value = np.asarray(value)
        else:  # Series: its values
            value = np.asarray(value.to_numpy())
    if isinstance(value, np.ndarray):
        if value.ndim == 1:
            return _column_labels(value)
        if value.ndim == 2:
            cols = [_column_labels(value[:, c]) for c in range(value.shape[1])]
            return list(zip(*cols))
        raise DataError(f"set '{name}': a {value.ndim}-d array cannot give members (1-d or 2-d rows)")
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise DataError(f"set '{name}': expected a list of members, got {type(value).__name__}")
    out = []
    for m in value:
        if isinstance(m, (tuple, list)):
            out.append(tuple(_label(x) for x in m))
        else:
            out.append(_label(m))
    if dimen and dimen > 1 and any(not isinstance(m, tuple) or len(m) != dimen for m in out):
        raise DataError(f"set '{name}' has dimen {dimen}: give its members as {dimen}-tuples")
    return out


def _column_labels(col: np.ndarray) -> list[Any]:
    c = normalize_column(np.asarray(col))
    if c.dtype == object:
        return [_label(x) for x in c.tolist()]
    return c.tolist()


# ---------------------------------------------------------------------------------- params
def param_data(name: str, value: Any, decl: Declared) -> ParamData:
    """ParamData for a param of `decl.dimen` subscripts from a Python object."""
    k = decl.dimen
    symbolic = decl.symbolic
    if k == 0:
        v = _scalar(value)
        if v is _NOT_SCALAR:
            raise DataError(f"param '{name}' is not indexed: give one value, got {type(value).__name__}")
        if not symbolic and not isinstance(v, (int, float)):
            raise DataError(f"param '{name}': value {v!r} is not a number")
        return ParamData(name, value=v)
    v = _scalar(value)
    if v is not _NOT_SCALAR:  # one value for every entry: a data default over no explicit entries
        empty = [np.empty(0, dtype=object) for _ in range(k)]
        return ParamData(name, keys=empty, values=np.empty(0), default=v)
    mod = type(value).__module__
    if mod.startswith("pandas"):
        return _from_pandas(name, value, k, symbolic)
    if isinstance(value, Mapping):
        return _from_dict(name, value, k, symbolic)
    if isinstance(value, (list, tuple, range, np.ndarray)):
        arr = np.asarray(value, dtype=object if symbolic else None)
        if arr.ndim != k:
            raise DataError(f"param '{name}' has {k} subscript(s) but the array has {arr.ndim} dimension(s) "
                            f"(shape {arr.shape})")
        return ParamData(name, dense=_values(name, arr, symbolic))
    raise DataError(f"param '{name}': cannot use a {type(value).__name__} as data")


_NOT_SCALAR = object()


def _scalar(v: Any) -> Any:
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    if isinstance(v, (str, np.str_)):
        return str(v)
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return _scalar(v.item())
    return _NOT_SCALAR


def _values(name: str, arr: Any, symbolic: bool) -> np.ndarray:
    """Values as float64 (None -> NaN: missing), or object for symbolic params."""
    a = np.asarray(arr)
    if symbolic:
        return a.astype(object)
    if a.dtype.kind in "iufb":
        return a.astype(np.float64)
    flat = a.reshape(-1)
    try:
        return np.array([np.nan if x is None else x for x in flat.tolist()], dtype=np.float64).reshape(a.shape)
    except (TypeError, ValueError):
        bad = next(x for x in flat.tolist() if not _is_number(x))
        raise DataError(f"param '{name}': value {bad!r} is not a number") from None


def _is_number(x: Any) -> bool:
    try:
        float(x)
        return x is not None
    except (TypeError, ValueError):
        return False


def _from_dict(name: str, d: Mapping[Any, Any], k: int, symbolic: bool) -> ParamData:
    keys = list(d.keys())
    vals = list(d.values())
    if k > 1 and vals and all(isinstance(v, Mapping) for v in vals):  # {i: {j: v}}: flatten one level
        flat: dict[Any, Any] = {}
        for a, inner in d.items():
            for b, v in inner.items():
                head = a if isinstance(a, tuple) else (a,)
                tail = b if isinstance(b, tuple) else (b,)
                flat[head + tail] = v
        return _from_dict(name, flat, k, symbolic)
    if k == 1:
        cols = [label_column([_label(x[0] if isinstance(x, tuple) and len(x) == 1 else x) for x in keys])]
    else:
        bad = next((x for x in keys if not isinstance(x, tuple) or len(x) != k), None)
        if bad is not None:
            raise DataError(f"param '{name}' has {k} subscripts: dict keys must be {k}-tuples, got {bad!r}")
        cols = [label_column([_label(x) for x in col]) for col in zip(*keys)] if keys else \
            [np.empty(0, dtype=object) for _ in range(k)]
    raw = np.empty(len(vals), dtype=object)
    raw[:] = vals
    if not symbolic and raw.size and all(isinstance(v, (int, float)) for v in vals):
        raw = raw.astype(np.float64)
    return ParamData(name, keys=cols, values=_values(name, raw, symbolic))


def _from_pandas(name: str, obj: Any, k: int, symbolic: bool) -> ParamData:
    if hasattr(obj, "columns"):  # DataFrame
        rows, cols = obj.index.nlevels, obj.columns.nlevels
        if rows + cols == k:
            n_r, n_c = obj.shape
            rk = _index_columns(obj.index)
            ck = _index_columns(obj.columns)
            keys = [np.repeat(c, n_c) for c in rk] + [np.tile(c, n_r) for c in ck]
            values = _values(name, obj.to_numpy(dtype=object if symbolic else None), symbolic).reshape(-1)
            return ParamData(name, keys=keys, values=values)
        if obj.shape[1] == 1 and rows == k:
            return _from_pandas(name, obj.iloc[:, 0], k, symbolic)
        raise DataError(f"param '{name}' has {k} subscript(s): a DataFrame gives them as row index levels plus "
                        f"column levels ({rows} + {cols} here), or as the index of its single column")
    if not hasattr(obj, "index"):
        raise DataError(f"param '{name}': cannot use a pandas {type(obj).__name__} as data")
    idx = obj.index
    if idx.nlevels != k:
        raise DataError(f"param '{name}' has {k} subscript(s) but the Series index has {idx.nlevels} level(s)")
    values = _values(name, obj.to_numpy(dtype=object if symbolic else None), symbolic)
    return ParamData(name, keys=_index_columns(idx), values=values)


def _index_columns(idx: Any) -> list[np.ndarray]:
    """One key column per level of a pandas Index, vectorized."""
    if idx.nlevels == 1:
        return [normalize_column(np.asarray(idx))]
    return [normalize_column(np.asarray(idx.get_level_values(lv))) for lv in range(idx.nlevels)]
