"""A module imported on first attribute access, so that a pass or backend module can name scipy
at its top and still be light to import (the chooser imports every registered one)."""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)
