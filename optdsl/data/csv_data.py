"""CSV data: `data "X.csv" as X;` and the reading primitive of `table ... IN "CSV"` statements.

Two layouts for one param:

    i,j,cost            a header naming the index columns, then the value column;
    Seattle,NY,2.5      one row per entry (an empty value or '.' leaves it to the default)

    2.5,1.7,1.8         no header (the first row is all numbers): a plain matrix for a param
    2.5,1.8,1.4         over two sets, rows and columns in the declared sets' order (dense)

Files are read by pandas' C parser when pandas is installed, else by numpy.loadtxt; neither loops in
Python over rows. A label column is numeric when all its labels are numbers.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import warnings
from collections.abc import Iterator, Mapping

import numpy as np

from optdsl.errors import DataError, Span, format_index

from .labels import NUMBER, lookup, normalize_column, parse_label, plural
from .store import DataStore, Declared, ParamData

_MISSING = ("", ".")


def load_csv(
    path: str | os.PathLike[str],
    name: str,
    schema: Mapping[str, Declared],
    origin: Span | None = None,
) -> DataStore:
    """Load param `name` from a CSV file; `origin` locates the `data ... as NAME` statement in errors."""
    file = os.fspath(path)
    decl = lookup(schema, name, "param", origin)
    k = decl.dimen
    what = f"param '{name}'"
    if k == 0:
        raise DataError(f"{what} is a single value; a .csv data file gives an indexed param", origin)
    with _text_file(file, origin):
        return _load_csv(file, name, decl, what, origin)


def _load_csv(file: str, name: str, decl: Declared, what: str, origin: Span | None) -> DataStore:
    k = decl.dimen
    first = _first_row(file)
    store = DataStore()
    if first and all(NUMBER.fullmatch(f.strip()) for f in first):
        dense = _matrix(file, what, k, decl.symbolic)
        store.add_param(ParamData(name, dense=dense, origin=origin))
        return store
    if len(first) != k + 1:
        raise DataError(
            f"the header of '{file}' has {plural(len(first), 'column')}; {what} has "
            f"{plural(k, 'index')}, so it needs {k + 1}: {plural(k, 'index column')} and a value column",
            _line_span(file, 1),
        )
    _, cols = load_csv_table(file)
    keys = [_labels(file, first[j], j, c) for j, c in enumerate(cols[:k])]
    vals, present = _values(file, what, first[k], k, cols[k], decl.symbolic)
    lines = np.arange(2, len(vals) + 2, dtype=np.int64)
    if not present.all():
        keys, vals, lines = [c[present] for c in keys], vals[present], lines[present]
    _check_repeats(file, what, keys, lines)
    store.add_param(ParamData(name, keys=keys, values=vals, origin=origin, lines=lines, lines_file=file))
    return store


def load_csv_table(path: str | os.PathLike[str], origin: Span | None = None) -> tuple[list[str], list[np.ndarray]]:
    """The header and the columns of a CSV file with a header row.

    A column is int64 or float64 when all its non-empty cells are numbers (empty cells and '.'
    become NaN), else an object array of the cells' strings (empty cells: None).
    """
    file = os.fspath(path)
    with _text_file(file, origin):
        header = _first_row(file)
        if not header:
            raise DataError(f"'{file}' is empty: expected a header row", Span(file, 1, 1))
        return [h.strip() for h in header], _read(file, len(header), skip=1)


@contextlib.contextmanager
def _text_file(file: str, origin: Span | None) -> Iterator[None]:
    """Regular files under the size cap only; a decoding error or NUL byte is reported by
    `optdsl.files` (located, without showing the file's content)."""
    from optdsl import files

    files.check_text_file(file, origin, "data file")
    try:
        yield
    except (UnicodeDecodeError, csv.Error):
        files.check_text_file(file, origin, "data file")
        raise DataError(f"cannot read '{file}' as CSV text", origin) from None


def _first_row(file: str) -> list[str]:
    try:
        with open(file, newline="", encoding="utf-8") as f:
            return next(csv.reader(f), [])
    except OSError as e:
        raise DataError(f"cannot read data file '{file}': {e.strerror or e}") from None


def _read(file: str, ncols: int, skip: int) -> list[np.ndarray]:
    numeric = _read_numeric(file, ncols, skip)
    if numeric is not None:
        return numeric
    try:
        import pandas as pd
    except ImportError:
        return _read_numpy(file, ncols, skip)
    try:
        df = pd.read_csv(
            file,
            header=None,
            skiprows=skip,
            skipinitialspace=True,
            keep_default_na=False,
            na_values=list(_MISSING),
            engine="c",
            names=range(ncols),
            low_memory=False,
        )
    except pd.errors.ParserError as e:
        raise _field_count_error(file, str(e), ncols) from None
    except pd.errors.EmptyDataError:
        return [np.empty(0, dtype=np.float64) for _ in range(ncols)]
    cols = []
    for c in df.columns:
        a = df[c].to_numpy()
        if a.dtype.kind == "O":
            a = a.copy()
            a[df[c].isna().to_numpy()] = None
        cols.append(a)
    return cols


def _read_numeric(file: str, ncols: int, skip: int) -> list[np.ndarray] | None:
    """All-numeric files (the big case: matrices, numeric keys) parse in numpy's C reader without
    importing pandas; anything else (labels, missing cells) returns None for the general path."""
    try:
        with warnings.catch_warnings():  # "input contained no data": an empty file is handled below
            warnings.simplefilter("ignore", UserWarning)
            raw = np.loadtxt(file, dtype=np.float64, delimiter=",", skiprows=skip, ndmin=2, comments=None)
    except ValueError:
        return None
    if raw.shape[0] == 0 or raw.shape[1] != ncols or np.isnan(raw).any():
        return None
    cols = []
    for j in range(ncols):
        col = raw[:, j]
        if (col == np.round(col)).all() and np.abs(col).max(initial=0) < 2**53:
            col = col.astype(np.int64)
        cols.append(np.ascontiguousarray(col))
    return cols


def _read_numpy(file: str, ncols: int, skip: int) -> list[np.ndarray]:
    try:
        raw = np.loadtxt(
            file,
            dtype=str,
            delimiter=",",
            skiprows=skip,
            ndmin=2,
            comments=None,
            quotechar='"',
            encoding="utf-8",
        )
    except ValueError as e:
        raise _field_count_error(file, str(e), ncols, skip) from None
    if raw.shape[0] and raw.shape[1] != ncols:
        raise DataError(
            f"the rows of '{file}' have {raw.shape[1]} fields; the header has {ncols}",
            _line_span(file, skip + 1),
        )
    cols = []
    for j in range(ncols):
        col = np.char.strip(raw[:, j])
        missing = np.isin(col, _MISSING)
        try:
            num = np.where(missing, "nan", col).astype(np.float64)
        except ValueError:
            obj = col.astype(object)
            obj[missing] = None
            cols.append(obj)
            continue
        if not missing.any() and (num == np.round(num)).all() and np.abs(num).max(initial=0) < 2**53:
            num = num.astype(np.int64)
        cols.append(num)
    return cols


def _field_count_error(file: str, msg: str, ncols: int, skip: int = 0) -> DataError:
    """Turn pandas' / numpy's message about a row of the wrong length into a located error."""
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
    if m:
        line = int(m.group(2))
        return DataError(
            f"line {line} of '{file}' has {m.group(3)} fields; expected {m.group(1)}", _line_span(file, line)
        )
    m = re.search(r"changed from (\d+) to (\d+) at row (\d+)", msg)
    if m:
        line = int(m.group(3)) + skip
        return DataError(
            f"line {line} of '{file}' has {m.group(2)} fields; expected {m.group(1)}", _line_span(file, line)
        )
    return DataError(f"cannot read '{file}': {msg}")


def _matrix(file: str, what: str, k: int, symbolic: bool) -> np.ndarray:
    """A header-less numeric matrix: the dense values of a param over two sets (or a row/column for one)."""
    if symbolic:
        raise DataError(f"{what} is symbolic; a plain numeric matrix cannot give it", _line_span(file, 1))
    ncols = len(_first_row(file))
    cols = _read(file, ncols, skip=0)
    for j, c in enumerate(cols):
        if c.dtype.kind == "O":
            row = next((i for i, v in enumerate(c) if v is not None and not NUMBER.fullmatch(str(v))), None)
            if row is None:  # all numbers the reader kept as text (e.g. beyond float64): a float column
                cols[j] = _as_floats(file, c, j, 1)
                continue
            raise DataError(
                f"{what}: the matrix in '{file}' holds '{c[row]}', not a number", _cell_span(file, row + 1, j)
            )
    arr = np.column_stack(cols).astype(np.float64) if cols else np.empty((0, 0))
    if k == 2:
        return arr
    if k == 1 and 1 in arr.shape:
        return arr.ravel()
    raise DataError(
        f"a plain numeric matrix gives a param over two sets; {what} has {plural(k, 'index')}: "
        f"start the file with a header row naming the index columns and the value column",
        _line_span(file, 1),
    )


def _labels(file: str, header: str, j: int, col: np.ndarray) -> np.ndarray:
    if col.dtype.kind in "iufb":
        if col.dtype.kind == "f" and np.isnan(col).any():
            _empty_label(file, header, j, int(np.flatnonzero(np.isnan(col))[0]))
        return normalize_column(col)
    empty = np.flatnonzero(np.equal(col, None))
    if empty.size:
        _empty_label(file, header, j, int(empty[0]))
    return col  # a column of words (or of words and numbers) keeps its labels as strings


def _empty_label(file: str, header: str, j: int, row: int) -> None:
    raise DataError(f"empty label in column '{header.strip()}' of '{file}'", _cell_span(file, row + 2, j))


def _values(file: str, what: str, header: str, j: int, col: np.ndarray, symbolic: bool):
    """The value column: floats (NaN = missing) or labels for a symbolic param, and the given mask."""
    if symbolic:
        present = ~np.equal(col, None) if col.dtype.kind == "O" else ~np.isnan(col.astype(np.float64))
        vals = np.empty(len(col), dtype=object)
        vals[:] = [parse_label(v) if isinstance(v, str) else v for v in col.tolist()]
        return vals, present
    if col.dtype.kind == "O":
        row = next((i for i, v in enumerate(col) if v is not None and not NUMBER.fullmatch(str(v).strip())), None)
        if row is None:  # all numbers the reader kept as text (e.g. beyond float64)
            vals = _as_floats(file, col, j, 2)
            return vals, ~np.isnan(vals)
        raise DataError(
            f"{what} needs numbers; column '{header.strip()}' of '{file}' holds '{col[row]}'",
            _cell_span(file, row + 2, j),
        )
    vals = col.astype(np.float64)
    return vals, ~np.isnan(vals)


def _check_repeats(file: str, what: str, keys: list[np.ndarray], lines: np.ndarray) -> None:
    """Each entry may be given once: hash the key rows (pandas) or a set of tuples (fallback)."""
    try:
        import pandas as pd
    except ImportError:
        rows = list(zip(*(c.tolist() for c in keys), strict=True))
        if len(set(rows)) == len(rows):
            return
        first_at: dict = {}
        for i, row in enumerate(rows):
            if row in first_at:
                first, dup = first_at[row], i
                break
            first_at[row] = i
    else:
        frame = pd.DataFrame(dict(enumerate(keys)))
        flags = frame.duplicated().to_numpy()
        if not flags.any():
            return
        dup = int(np.flatnonzero(flags)[0])
        first = int(np.flatnonzero((frame == frame.iloc[dup]).all(axis=1).to_numpy())[0])
    idx = tuple(c[dup] for c in keys)
    raise DataError(
        f"{what} is given twice for {format_index(idx)} (first on line {lines[first]})",
        _line_span(file, int(lines[dup])),
    )


def _line_span(file: str, line: int) -> Span:
    text = _line_text(file, line)
    return Span(file, line, 1, line, 1 + max(1, len(text or "")))


def _cell_span(file: str, line: int, field: int) -> Span:
    """The span of field `field` (0-based) of `line`, by reading that line again (errors only)."""
    text = _line_text(file, line) or ""
    start = 0
    for _ in range(field):
        nxt = text.find(",", start)
        if nxt < 0:
            break
        start = nxt + 1
    while start < len(text) and text[start] == " ":
        start += 1
    end = text.find(",", start)
    end = len(text) if end < 0 else end
    return Span(file, line, start + 1, line, max(start + 2, end + 1))


def _line_text(file: str, line: int) -> str | None:
    try:
        with open(file, encoding="utf-8", errors="replace") as f:
            for n, text in enumerate(f, 1):
                if n == line:
                    return text.rstrip("\r\n")
    except OSError:
        return None
    return None


def _as_floats(file: str, col: np.ndarray, j: int, first_line: int) -> np.ndarray:
    """Number cells the reader kept as text: floats (None: NaN, missing); a value beyond float64 is
    an error at its cell."""
    vals = np.array([np.nan if v is None else float(str(v).strip()) for v in col], dtype=np.float64)
    bad = np.flatnonzero(np.isinf(vals))
    if bad.size:
        r = int(bad[0])
        raise DataError(f"'{file}' holds {str(col[r]).strip()[:30]}, which is too large for a float",
                        _cell_span(file, r + first_line, j))
    return vals
