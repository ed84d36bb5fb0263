"""JSON data files: one object keyed by component name.

    {
      "I": ["Seattle", "San-Diego"],                   set: a list (lists for tuples)
      "LINKS": [["Seattle", "NY"], ["San-Diego", "NY"]],
      "S": {"a": [1, 2], "b": [3]},                    indexed set: an object keyed by index
      "f": 90,                                         scalar param (a string if symbolic)
      "a": {"Seattle": 350, "San-Diego": 600},         keyed by index; "Seattle,NY" for tuples,
      "d": {"Seattle": {"NY": 2.5}},                     or nested one level per index
      "c": [[2.5, 1.7], [2.5, 1.8]],                   nested array in the declared sets' order (dense)
      "e": {"keys": [["Seattle", "San-Diego"], ["NY", "NY"]], "values": [2.5, 2.5]}   columns
    }

A label that looks like a number is a number ("3" and 3 are the same label), so that object keys,
which JSON makes strings, match numeric set members. `null` marks a missing entry (left to the
param's default). Nested arrays go through `np.asarray` in one step; keyed objects are read in one
pass over their keys.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from optdsl.errors import DataError, Span

from .labels import label_column, lookup, number_label, parse_label, parse_labels, plural
from .store import DataStore, Declared, ParamData, SetData


def load_json(
    path_or_text: str | os.PathLike[str],
    schema: Mapping[str, Declared],
    file: str | None = None,
    origin: Span | None = None,
) -> DataStore:
    """Read a JSON data file (a path) or JSON text (a string starting with '{' or '[').

    `file` names the source in errors (default: the path, or "<json>" for text).
    """
    if isinstance(path_or_text, str) and path_or_text.lstrip()[:1] in ("{", "["):
        text = path_or_text
        file = file or "<json>"
    else:
        file = file or os.fspath(path_or_text)
        from optdsl.files import read_text

        text = read_text(path_or_text, origin, "data file")
    doc = _parse(text, file)
    if not isinstance(doc, dict):
        raise DataError(
            'a .json data file holds one object keyed by component names, as in {"I": [...]}',
            Span(file, 1, 1, text=text),
        )
    return _Loader(text, file, schema).load(doc)


class _NonFinite(ValueError):
    pass


def _number(token: str) -> float | int:
    """JSON numbers: NaN, Infinity and values beyond float64 are refused (they are not data)."""
    if token.lstrip("-").isdigit():
        if len(token) < 19:
            return int(token)
        value = int(token)
        if abs(value) < 2**63:
            return value
    f = float(token)
    if not np.isfinite(f):
        raise _NonFinite(token)
    return f


def _constant(token: str) -> float:
    raise _NonFinite(token)


def _parse(text: str, file: str) -> Any:
    try:
        return json.loads(text, parse_float=_number, parse_int=_number, parse_constant=_constant)
    except json.JSONDecodeError as e:
        raise DataError(f"invalid JSON: {e.msg}", Span(file, e.lineno, e.colno, text=text)) from None
    except _NonFinite as e:
        token = str(e)
        pos = _find_token(text, token)
        line, col = text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)
        end = col + len(token)
        what = "NaN" if token == "NaN" else "infinite" if "Infinity" in token else "too large for a float"
        raise DataError(f"the number {token[:30]} is {what}: JSON data must be finite numbers",
                        Span(file, line, col, line, end, text=text),
                        hint="write null for a missing entry (the param's default applies)") from None
    except RecursionError:
        pos = _too_deep(text)
        line, col = text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)
        raise DataError("JSON nested too deeply to be data", Span(file, line, col, text=text)) from None


def _find_token(text: str, token: str) -> int:
    m = re.search(r"(?<![\w.\"])" + re.escape(token) + r"(?![\w.\"])", text)
    return m.start() if m else 0


def _too_deep(text: str, limit: int = 500) -> int:
    """The offset where brackets first nest deeper than `limit` (strings ignored: errors only)."""
    b = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    depth = np.cumsum((b == 91) | (b == 123), dtype=np.int64) - np.cumsum((b == 93) | (b == 125), dtype=np.int64)
    deep = np.flatnonzero(depth > limit)
    return int(deep[0]) if deep.size else 0


class _Loader:
    def __init__(self, text: str, file: str, schema: Mapping[str, Declared]) -> None:
        self.text = text
        self.file = file
        self.schema = schema

    def span(self, key: str, after: int = 0) -> Span | None:
        """Where `"key":` first appears (after offset `after`): JSON parsing keeps no positions."""
        m = None
        for quoted in (json.dumps(key, ensure_ascii=False), json.dumps(key)):  # as written, or \u-escaped
            m = re.compile(re.escape(quoted) + r"\s*:").search(self.text, after)
            if m is not None:
                break
        if m is None:
            return Span(self.file, 1, 1, text=self.text)  # at least the file: the key is in it somewhere
        line = self.text.count("\n", 0, m.start()) + 1
        col = m.start() - (self.text.rfind("\n", 0, m.start()) + 1) + 1
        return Span(self.file, line, col, line, col + len(m.group(0).rstrip(": \t\n")), self.text)

    def fail(self, message: str, name: str, inner: str | None = None) -> None:
        span = self.span(name)
        if inner is not None and span is not None:
            off = self.text.find(json.dumps(name))
            span = self.span(inner, off) or span
        raise DataError(message, span)

    def load(self, doc: dict) -> DataStore:
        store = DataStore()
        for name, value in doc.items():
            decl = lookup(self.schema, name, None, self.span(name))
            if decl.kind == "set":
                store.add_set(self.set_data(name, decl, value))
            else:
                store.add_param(self.param_data(name, decl, value))
        return store

    # -- sets ------------------------------------------------------------------------------------
    def set_data(self, name: str, decl: Declared, value: Any) -> SetData:
        if decl.index_sets:
            if not isinstance(value, dict):
                self.fail(
                    f"set '{name}' is indexed over {', '.join(decl.index_sets)}: give an object "
                    f'keyed by index, as in {{"a": [1, 2]}}',
                    name,
                )
            indexed = {}
            for key, members in value.items():
                idx = tuple(parse_label(part) for part in key.split(","))
                indexed[idx] = self.members(f"set '{name}'[{key}]", name, decl.dimen, members)
            return SetData(name, [], self.span(name), indexed)
        return SetData(name, self.members(f"set '{name}'", name, decl.dimen, value), self.span(name))

    def members(self, what: str, name: str, k: int, value: Any) -> list:
        if not isinstance(value, list):
            self.fail(f"{what} needs a list of members, found {_kind(value)}", name)
        if max(k, 1) == 1:
            return [self.label(what, name, v) for v in value]
        out = []
        for pos, v in enumerate(value):
            if not isinstance(v, list) or len(v) != k:
                self.fail(f"{what} has members of {plural(k, 'label')}; member {pos + 1} is {json.dumps(v)}", name)
            out.append(tuple(self.label(what, name, x) for x in v))
        return out

    def label(self, what: str, name: str, v: Any) -> Any:
        if isinstance(v, str):
            return parse_label(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return number_label(repr(v)) if isinstance(v, float) else v
        self.fail(f"{what}: a label is a string or a number, found {json.dumps(v)}", name)

    # -- params ----------------------------------------------------------------------------------
    def param_data(self, name: str, decl: Declared, value: Any) -> ParamData:
        origin = self.span(name)
        what = f"param '{name}'"
        k = decl.dimen
        if k == 0:
            return ParamData(name, value=self.scalar(what, name, decl, value), origin=origin)
        if isinstance(value, list):
            return ParamData(name, dense=self.dense(what, name, decl, value), origin=origin)
        if not isinstance(value, dict):
            self.fail(
                f"{what} has {plural(k, 'index')}: give an object keyed by index or a nested "
                f"array, found {_kind(value)}",
                name,
            )
        key_texts = None
        if set(value) == {"keys", "values"} and isinstance(value["values"], list):
            keys, values = self.columns(what, name, k, value)
        else:
            keys, values, key_texts = self.keyed(what, name, k, value)
        vals = self.values(what, name, decl, values, key_texts)
        present = _present(vals, decl.symbolic)
        if not present.all():
            keys, vals = [c[present] for c in keys], vals[present]
        return ParamData(name, keys=keys, values=vals, origin=origin)

    def scalar(self, what: str, name: str, decl: Declared, value: Any) -> Any:
        if decl.symbolic and isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value if decl.symbolic else float(value)
        self.fail(f"{what} needs {'a value' if decl.symbolic else 'a number'}, found {_kind(value)}", name)

    def dense(self, what: str, name: str, decl: Declared, value: list) -> np.ndarray:
        k = decl.dimen
        if decl.symbolic:
            arr = np.array(value, dtype=object)
        else:
            try:
                arr = np.asarray(value, dtype=np.float64)  # null -> NaN: missing
            except (ValueError, TypeError):
                arr = np.array(value, dtype=object) if _regular(value, k) else None
                if arr is not None:
                    bad = next(idx for idx, v in np.ndenumerate(arr) if not _is_number(v))
                    where = "".join(f"[{i}]" for i in bad)
                    self.fail(
                        f"{what} needs numbers; entry {where} of the nested array is {json.dumps(arr[bad])}",
                        name,
                    )
                self._ragged(what, name, value, k)
        if arr.ndim != k:
            if arr.ndim < k and not _regular(value, k):
                self._ragged(what, name, value, k)
            self.fail(f"{what} has {plural(k, 'index')}; the nested array has {plural(arr.ndim, 'level')}", name)
        return arr

    def _ragged(self, what: str, name: str, value: Any, k: int) -> None:
        """Name the first list whose length differs from its siblings'."""

        def walk(v: list, path: str, depth: int) -> None:
            if depth == 1 or not v:
                return
            lens = [len(x) if isinstance(x, list) else None for x in v]
            for i, n in enumerate(lens):
                if n != lens[0]:
                    first = "not a list" if lens[0] is None else plural(lens[0], "entry")
                    this = "not a list" if n is None else plural(n, "entry")
                    self.fail(
                        f"{what}: the nested array is ragged: {path}[{i}] has {this}, {path}[0] has {first}",
                        name,
                    )
            for i, x in enumerate(v):
                walk(x, f"{path}[{i}]", depth - 1)

        walk(value, "", k)
        self.fail(f"{what}: the nested array does not have the shape of {plural(k, 'index')}", name)

    def keyed(self, what: str, name: str, k: int, value: dict) -> tuple[list[np.ndarray], list, list | None]:
        """{"a,b": v} or {"a": {"b": v}}: one pass over the keys, labels converted a column at a time."""
        keys = list(value)
        values = list(value.values())
        if k > 1 and values and isinstance(values[0], dict):
            return (*self.nested(what, name, k, value), None)
        if k == 1:
            return [label_column(parse_labels(keys))], values, keys
        bad = _key_width_fault(keys, k)
        if bad is not None:
            key = keys[bad]
            self.fail(
                f'{what} has {plural(k, "index")}; the key "{key}" has {key.count(",") + 1} '
                f"(labels are separated by commas)",
                name,
                key,
            )
        flat = ",".join(keys).split(",")
        cols = [label_column(parse_labels(flat[j::k])) for j in range(k)]
        return cols, values, keys

    def nested(self, what: str, name: str, k: int, value: dict) -> tuple[list[np.ndarray], list]:
        rows: list[tuple] = []
        values: list = []

        def walk(obj: Any, prefix: tuple) -> None:
            if len(prefix) == k:
                rows.append(prefix)
                values.append(obj)
                return
            if not isinstance(obj, dict):
                self.fail(
                    f"{what} has {plural(k, 'index')}; the entry at {list(prefix)} stops after "
                    f"{plural(len(prefix), 'level')}",
                    name,
                )
            for key, v in obj.items():
                walk(v, (*prefix, key))

        walk(value, ())
        cols = [label_column(parse_labels(list(c))) for c in zip(*rows, strict=True)]
        return cols, values

    def columns(self, what: str, name: str, k: int, value: dict) -> tuple[list[np.ndarray], list]:
        """{"keys": [col1, col2], "values": [...]}: the fastest keyed form (no per-key string work)."""
        cols = value["keys"]
        if k == 1 and isinstance(cols, list) and cols and not isinstance(cols[0], list):
            cols = [cols]
        n = len(value["values"])
        if not isinstance(cols, list) or len(cols) != k or any(not isinstance(c, list) for c in cols):
            self.fail(f'{what} has {plural(k, "index")}: "keys" must be a list of {k} columns', name)
        for j, c in enumerate(cols):
            if len(c) != n:
                self.fail(f'{what}: key column {j + 1} has {plural(len(c), "entry")}, "values" has {n}', name)
        return [self.label_array(what, name, c) for c in cols], value["values"]

    def label_array(self, what: str, name: str, col: list) -> np.ndarray:
        kinds = set(map(type, col))
        if kinds <= {int, float}:
            arr = np.asarray(col, dtype=np.float64) if float in kinds else np.asarray(col)
            if arr.dtype.kind == "f" and np.isfinite(arr).all() and (arr == np.round(arr)).all():
                arr = arr.astype(np.int64)
            return arr
        if kinds <= {str}:
            return label_column(parse_labels(col))
        return label_column([self.label(what, name, v) for v in col])

    def values(self, what: str, name: str, decl: Declared, values: list, key_texts: list[str] | None) -> np.ndarray:
        if decl.symbolic:
            out = np.empty(len(values), dtype=object)
            out[:] = values
            return out
        try:
            return np.asarray(values, dtype=np.float64)
        except (ValueError, TypeError):
            j = next(j for j, v in enumerate(values) if not _is_number(v))
            at = f' for "{key_texts[j]}"' if key_texts else ""
            inner = key_texts[j] if at and not isinstance(values[j], dict) else None
            self.fail(f"{what} needs numbers, found {json.dumps(values[j])}{at}", name, inner)
            raise AssertionError from None


def _key_width_fault(keys: list[str], k: int) -> int | None:
    """The position of the first key without exactly k-1 commas, counted with numpy over the bytes."""
    if not keys:
        return None
    joined = "\n".join(keys)
    b = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    newline = b == 10
    if int(newline.sum()) != len(keys) - 1:  # a key holds a newline: count key by key
        return next((j for j, key in enumerate(keys) if key.count(",") != k - 1), None)
    key_of_comma = np.searchsorted(np.flatnonzero(newline), np.flatnonzero(b == 44))
    commas = np.bincount(key_of_comma, minlength=len(keys))
    bad = np.flatnonzero(commas != k - 1)
    return int(bad[0]) if bad.size else None


def _present(vals: np.ndarray, symbolic: bool) -> np.ndarray:
    if symbolic:
        return np.fromiter((v is not None for v in vals), dtype=bool, count=len(vals))
    return ~np.isnan(vals)


def _is_number(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def _regular(value: Any, k: int) -> bool:
    """Whether nested lists have one length per level down to depth k."""
    level = [value]
    for _ in range(k):
        if not all(isinstance(v, list) for v in level):
            return False
        if len({len(v) for v in level}) > 1:
            return False
        level = [x for v in level for x in v]
    return True


def _kind(v: Any) -> str:
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, str):
        return f"the string {json.dumps(v)}"
    return json.dumps(v)
