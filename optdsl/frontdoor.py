"""The one front door: a model's text (a file or a string) and its data, read, checked and gathered.

The command line (`optdsl.cli`) and the Python API (`optdsl.load`, `optdsl.parse_model`) both
call `load` / `parse_model` here, so a model read either way has the same declarations and the
same data, in the same order: inline data sections, `data "file";` statements and IN tables
(paths relative to the model file), then extra data files, then Python data.

Loaders of file kinds a model does not use are imported on first use (start-up time). This
module sits below the API and the pipeline (it imports parse and data only), so neither
door reaches back into the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optdsl.data.dat import parse_dat
from optdsl.data.files import load_data_file
from optdsl.data.store import DataStore, Declared
from optdsl.errors import DataError
from optdsl.parse import ast
from optdsl.parse.parser import parse, parse_file
from optdsl.parse.resolve import check_model


@dataclass
class LoadedModel:
    """A checked model with its data; `optdsl.api.model.Model` wraps one."""

    name: str
    tree: ast.Model
    data: DataStore
    base_dir: Path  # where relative data paths (and OUT tables) resolve
    seed: int | None = None


def load(path: str | Path, data: Any = None, seed: int | None = None) -> LoadedModel:
    """Read a `.opt`/`.mod` file with its data (see `split_data` for what `data` may be)."""
    path = Path(path)
    return _checked(parse_file(path), path.stem, path.parent, data, seed)


def parse_model(text: str, data: Any = None, name: str = "model.opt", seed: int | None = None,
                base_dir: Path | None = None) -> LoadedModel:
    """A model from `.opt` text (inline data sections included); relative data paths resolve
    against `base_dir` (default: the current directory)."""
    return _checked(parse(text, name), Path(name).stem, base_dir or Path.cwd(), data, seed)


def split_data(data: Any) -> tuple[list[str | Path], Mapping[str, Any] | None]:
    """`data` as (data files, Python data): None; a path; a list of paths; or a dict mapping set
    names to lists and param names to scalars, dicts, numpy arrays or pandas objects."""
    if data is None:
        return [], None
    if isinstance(data, (str, Path)):
        return [data], None
    if isinstance(data, (list, tuple)):
        return list(data), None
    if isinstance(data, Mapping):
        return [], data
    raise DataError(f"data must be a file path, a list of paths or a dict, not {type(data).__name__}")


def gather_data(model: ast.Model, schema: Mapping[str, Declared], base_dir: Path,
                extra: Sequence[str | Path] = ()) -> DataStore:
    """Data of inline sections, `data "file";` statements, IN tables (relative to `base_dir`)
    and extra files, in that order."""
    store = DataStore()
    for s in model.statements:
        if isinstance(s, ast.DataSection):
            line = s.span.line if s.span else 1
            col = s.span.col if s.span else 1
            store.merge(parse_dat(s.text, model.file, schema, line_offset=line - 1, col_offset=col - 1))
        elif isinstance(s, ast.DataFile):
            from optdsl.files import model_read_path  # the file rules (docs/files.md)

            path = model_read_path(s.path, base_dir, s.span, "data file")
            store.merge(load_data_file(path, schema, as_name=s.as_name, origin=s.span))
        elif isinstance(s, ast.TableStmt) and s.direction.upper() == "IN":
            store.merge(_in_table(s, base_dir, schema))
    given = DataStore()
    for f in extra:
        given.merge(load_data_file(Path(f), schema))
    replaced = sorted(n for n in (*given.sets, *given.params) if n in store.sets or n in store.params)
    if replaced:
        # as glpsol does with `-d FILE`: data given on the command line replace the model's own
        # (GLPK's sudoku.mod carries an example puzzle, sudoku.dat the one to solve)
        import sys

        print(f"warning: data files replace the model's data for {', '.join(replaced)}", file=sys.stderr)
        for n in replaced:
            store.sets.pop(n, None)
            store.params.pop(n, None)
    store.merge(given)
    return store


def _checked(tree: ast.Model, name: str, base_dir: Path, data: Any, seed: int | None) -> LoadedModel:
    info = check_model(tree)
    files, py_data = split_data(data)
    schema = info.schema()
    store = gather_data(tree, schema, base_dir, files)
    if py_data:
        from optdsl.data.pydata import data_from_python  # loaded when Python data are given

        store.merge(data_from_python(py_data, schema))
    return LoadedModel(name, tree, store, base_dir, seed)


def _under(base_dir: Path, path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else base_dir / p


def _in_table(stmt: ast.TableStmt, base_dir: Path, schema: Mapping[str, Declared]) -> DataStore:
    """An IN table statement as the plain arguments of optdsl.data.tables.read_table."""
    from optdsl.data.tables import TABLE_SUFFIXES, read_table  # the CSV reader loads with the first table

    columns = []
    for col in stmt.columns:
        if not isinstance(col.expr, ast.Ref) or col.expr.subs:
            raise DataError(f"table '{stmt.name}': an IN table column must name a param", col.span)
        columns.append((col.expr.name, col.column or col.expr.name, col.span))
    from optdsl.files import model_read_path

    if Path(stmt.path).suffix.lower() not in TABLE_SUFFIXES:
        raise DataError(f"table '{stmt.name}': a \"CSV\" table reads a .csv, .tsv or .txt file, not '{stmt.path}'",
                        stmt.span)
    path = model_read_path(stmt.path, base_dir, stmt.span, f"table '{stmt.name}'")
    return read_table(stmt.name, stmt.driver, path, stmt.keys, stmt.set_name, columns, schema, stmt.span)
