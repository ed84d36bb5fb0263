"""A data file by its extension: .dat (AMPL/GMPL data commands), .json or .csv, as a DataStore."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from optdsl.errors import DataError, Span

from .store import DataStore, Declared

EXTENSIONS = (".dat", ".json", ".csv")


def load_data_file(
    path: str | os.PathLike[str],
    schema: Mapping[str, Declared],
    as_name: str | None = None,
    origin: Span | None = None,
) -> DataStore:
    """Load a data file by its extension; `as_name` names the param a .csv file gives.

    Errors name the path as given; `origin` locates the statement that asked for the file.
    """
    file = os.fspath(path)
    ext = Path(file).suffix.lower()
    if ext not in EXTENSIONS:
        raise DataError(f"cannot read data from '{file}': the file name must end in .dat, .json or .csv", origin)
    if ext == ".csv":
        from .csv_data import load_csv  # each loader is imported when a file of its kind is read

        if as_name is None:
            raise DataError(f'a .csv data file gives one param: write data "{file}" as NAME;', origin)
        return load_csv(file, as_name, schema, origin)
    if as_name is not None:
        raise DataError(f"'as {as_name}' names the param of a .csv file; '{file}' is not one", origin)
    if ext == ".json":
        from .json_data import load_json

        return load_json(Path(file), schema, file, origin)
    from optdsl.files import read_text

    from .dat import parse_dat

    return parse_dat(read_text(file, origin, "data file"), file, schema)
