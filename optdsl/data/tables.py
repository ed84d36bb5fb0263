"""GMPL `table` statements over CSV files.

IN:  `table T IN "CSV" "links.csv": LINKS <- [FROM, TO], cost ~ COST, cap;` fills set LINKS with
     the key-column tuples and each listed param from its column (named after `~`, else the
     param's own name), indexed by the key tuples.
OUT: `table T OUT "CSV" "flows.csv": {(i, j) in LINKS} i ~ FROM, j ~ TO, x[i, j] ~ FLOW;` writes
     one row per member after the solve (see optdsl/script.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from optdsl.data.csv_data import load_csv_table
from optdsl.data.store import DataStore, Declared, ParamData, SetData
from optdsl.errors import DataError, did_you_mean
from optdsl.ir.labels import _as_label
from optdsl.parse import ast

TABLE_SUFFIXES = (".csv", ".tsv", ".txt")


def read_table(stmt: ast.TableStmt, base_dir: Path, schema: Mapping[str, Declared]) -> DataStore:
    if stmt.driver.upper() != "CSV":
        raise DataError(f"table '{stmt.name}': only the \"CSV\" driver is supported, not \"{stmt.driver}\"",
                        stmt.span)
    from optdsl.files import model_read_path

    if Path(stmt.path).suffix.lower() not in TABLE_SUFFIXES:
        raise DataError(f"table '{stmt.name}': a \"CSV\" table reads a .csv, .tsv or .txt file, not '{stmt.path}'",
                        stmt.span)
    path = model_read_path(stmt.path, base_dir, stmt.span, f"table '{stmt.name}'")
    header, columns = load_csv_table(path, stmt.span)
    by_name = {h.strip(): c for h, c in zip(header, columns)}

    def column(name: str):
        if name not in by_name:
            raise DataError(f"table '{stmt.name}': {path} has no column '{name}' (columns: {', '.join(header)})",
                            stmt.span, hint=did_you_mean(name, by_name))
        return by_name[name]

    keys = [column(k) for k in stmt.keys]
    store = DataStore()
    if stmt.set_name:
        members = [tuple(_as_label(v) for v in row) for row in zip(*keys)] if len(keys) > 1 else \
            [_as_label(v) for v in keys[0]]
        store.add_set(SetData(stmt.set_name, members, stmt.span))
    for col in stmt.columns:
        if not isinstance(col.expr, ast.Ref) or col.expr.subs:
            raise DataError(f"table '{stmt.name}': an IN table column must name a param", col.span)
        name = col.expr.name
        if name not in schema or schema[name].kind != "param":
            raise DataError(f"table '{stmt.name}': '{name}' is not a param of the model", col.span,
                            hint=did_you_mean(name, [k for k, d in schema.items() if d.kind == "param"]))
        values = column(col.column or name)
        store.add_param(ParamData(name, keys=list(keys), values=values, origin=stmt.span))
    return store
