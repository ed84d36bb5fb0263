"""The inner solver by name: the sketches (optdsl.solvers.sketch_newton.sketches) and MINRES
(optdsl.solvers.sketch_newton.krylov), which builds on them."""

from __future__ import annotations

import numpy as np

from .krylov import Minres
from .sketches import SKETCHES, Block, Direct, GaussianVector, Kaczmarz, Sketch


def make_sketch(
    name: str, rng: np.random.Generator, block_size: int = 8, block_kind: str = "count", n: int | None = None,
    device: str = "cpu",
) -> Sketch:
    """The solver called `name` (one of SKETCHES); "minres" needs n, the size of the (1,1) block."""
    if name == "minres":
        if n is None:
            raise ValueError("the minres inner solver needs n, the number of variables")
        return Minres(rng, n, device=device)
    if name == "kaczmarz":
        return Kaczmarz(rng)
    if name == "gaussian":
        return GaussianVector(rng)
    if name == "block":
        return Block(rng, block_size=block_size, kind=block_kind)
    if name == "direct":
        return Direct(rng)
    raise ValueError(f"unknown sketch {name!r}; choose one of {', '.join(SKETCHES)}")
