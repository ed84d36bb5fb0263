"""GMPL `table` statements over CSV files.

IN:  `table T IN "CSV" "links.csv": LINKS <- [FROM, TO], cost ~ COST, cap;` fills set LINKS with
     the key-column tuples and each listed param from its column (named after `~`, else the
     param's own name), indexed by the key tuples.
OUT: `table T OUT "CSV" "flows.csv": {(i, j) in LINKS} i ~ FROM, j ~ TO, x[i, j] ~ FLOW;` writes
     one row per member after the solve (see optdsl/script.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from optdsl.data.csv_data import load_csv_table
from optdsl.data.labels import as_label
from optdsl.data.store import DataStore, Declared, ParamData, SetData
from optdsl.errors import DataError, Span, did_you_mean

TABLE_SUFFIXES = (".csv", ".tsv", ".txt")


def read_table(name: str, driver: str, path: Path, keys: Sequence[str], set_name: str | None,
               columns: Sequence[tuple[str, str, Span | None]], schema: Mapping[str, Declared],
               origin: Span | None = None) -> DataStore:
    """Read an IN table: `keys` name the key columns, `set_name` the set they fill (or None), and
    each of `columns` is (param, column name, span of its mapping). The statement itself is read
    from the model by optdsl.frontdoor."""
    if driver.upper() != "CSV":
        raise DataError(f"table '{name}': only the \"CSV\" driver is supported, not \"{driver}\"", origin)
    header, table = load_csv_table(path, origin)
    by_name = {h.strip(): c for h, c in zip(header, table)}

    def column(col: str):
        if col not in by_name:
            raise DataError(f"table '{name}': {path} has no column '{col}' (columns: {', '.join(header)})",
                            origin, hint=did_you_mean(col, by_name))
        return by_name[col]

    key_cols = [column(k) for k in keys]
    store = DataStore()
    if set_name:
        members = [tuple(as_label(v) for v in row) for row in zip(*key_cols)] if len(key_cols) > 1 else \
            [as_label(v) for v in key_cols[0]]
        store.add_set(SetData(set_name, members, origin))
    for param, col, span in columns:
        if param not in schema or schema[param].kind != "param":
            raise DataError(f"table '{name}': '{param}' is not a param of the model", span,
                            hint=did_you_mean(param, [k for k, d in schema.items() if d.kind == "param"]))
        store.add_param(ParamData(param, keys=list(key_cols), values=column(col), origin=origin))
    return store
