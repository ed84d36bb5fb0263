"""Data loaders: .dat (AMPL/GMPL data commands), .json and .csv files, all producing a DataStore.

The loaders are imported on first use, so that a model with inline data does not pay for the
CSV and JSON readers at start-up.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "DataStore": "store",
    "Declared": "store",
    "ParamData": "store",
    "SetData": "store",
    "load_csv": "csv_data",
    "load_csv_table": "csv_data",
    "load_data_file": "files",
    "EXTENSIONS": "files",
    "load_json": "json_data",
    "parse_dat": "dat",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"optdsl.data.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'optdsl.data' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))
