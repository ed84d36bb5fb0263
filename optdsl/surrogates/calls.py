"""Surrogates as plain functions for the numpy evaluator (display, printf, reporting)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def numpy_surrogates(ir: Any) -> dict[str, Callable[[list[np.ndarray]], np.ndarray]]:
    """name -> f(inputs) for each declared surrogate, loaded on first use; {} (and no torch
    import) for a model without surrogates."""
    decls = {s.name: s.data for s in ir.structures if s.kind == "surrogate"}
    loaded: dict[str, Any] = {}

    def make(name: str) -> Callable[[list[np.ndarray]], np.ndarray]:
        def call(args: list[np.ndarray]) -> np.ndarray:
            if name not in loaded:
                from optdsl.surrogates.load import load_declared

                loaded[name] = load_declared(name, decls[name], ir)
            u = np.concatenate([np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in args])
            return loaded[name].numpy(u[None, :])[0]

        return call

    return {name: make(name) for name in decls}
