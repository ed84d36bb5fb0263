"""Seeded synthetic structural equation models (SEMs), following the NOTEARS benchmark setup.

Graphs: "ER" (Erdos-Renyi with exactly s0 edges) and "SF" (scale-free, Barabasi-Albert with
round(s0/d) edges per new node), oriented along a random order and relabelled by a random
permutation. Weights: uniform on [-2, -0.5] U [0.5, 2]. Linear SEM: X_j = X W[:, j] + z_j with
Gaussian, exponential or Gumbel noise of scale 1. MLP SEM: X_j = sigmoid(X_pa(j) A1) a2 + z_j with
one hidden layer of 100 units and weights uniform on [-2, -0.5] U [0.5, 2]. All arrays are numpy;
every function takes a seed (or a numpy Generator).
"""

from __future__ import annotations

import numpy as np

from optdsl.errors import OptdslError

GRAPHS = ("ER", "SF")
NOISES = ("gauss", "exp", "gumbel")
MECHANISMS = ("linear", "mlp")


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def simulate_dag(d: int, s0: int, graph_type: str = "ER", seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """A random DAG as a 0/1 (d x d) matrix, B[i, j] = 1 for the edge i -> j."""
    rng = _rng(seed)
    if d < 2:
        raise OptdslError(f"a DAG needs at least 2 nodes, got d={d}")
    kind = graph_type.upper()
    if kind == "ER":
        pairs = d * (d - 1) // 2
        if not 0 <= s0 <= pairs:
            raise OptdslError(f"an ER graph on {d} nodes has 0 to {pairs} edges, got s0={s0}")
        lo_i, lo_j = np.tril_indices(d, k=-1)
        pick = rng.choice(pairs, size=s0, replace=False)
        B = np.zeros((d, d))
        B[lo_i[pick], lo_j[pick]] = 1.0  # edges from a later to an earlier position: acyclic
    elif kind == "SF":
        m = max(1, int(round(s0 / d)))
        B = np.zeros((d, d))
        degree = np.zeros(d)
        for v in range(1, d):  # preferential attachment: node v links to min(m, v) earlier nodes
            k = min(m, v)
            w = degree[:v] + 1.0
            targets = rng.choice(v, size=k, replace=False, p=w / w.sum())
            B[v, targets] = 1.0
            degree[targets] += 1
            degree[v] += k
    else:
        raise OptdslError(f"unknown graph type '{graph_type}'", hint="use ER or SF")
    perm = rng.permutation(d)
    return B[np.ix_(perm, perm)]


def simulate_weights(B: np.ndarray, seed: int | np.random.Generator | None = 0,
                     ranges: tuple[tuple[float, float], ...] = ((-2.0, -0.5), (0.5, 2.0))) -> np.ndarray:
    """Edge weights for the 0/1 graph B, uniform on the union of `ranges`."""
    rng = _rng(seed)
    W = np.zeros(B.shape)
    which = rng.integers(len(ranges), size=B.shape)
    for k, (lo, hi) in enumerate(ranges):
        W += B * (which == k) * rng.uniform(lo, hi, size=B.shape)
    return W


def _order(B: np.ndarray) -> np.ndarray:
    from optdsl.dag.metrics import topological_order

    order = topological_order(B)
    if order is None:
        raise OptdslError("the graph has a directed cycle; a SEM needs a DAG")
    return order


def _noise(kind: str, n: int, d: int, scale: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if kind == "gauss":
        return rng.normal(scale=scale, size=(n, d))
    if kind == "exp":
        return rng.exponential(scale=scale, size=(n, d))
    if kind == "gumbel":
        return rng.gumbel(scale=scale, size=(n, d))
    raise OptdslError(f"unknown noise '{kind}'", hint="use " + ", ".join(NOISES))


def simulate_linear_sem(W: np.ndarray, n: int, noise: str = "gauss", seed: int | np.random.Generator | None = 0,
                        noise_scale: float | np.ndarray = 1.0) -> np.ndarray:
    """n samples (n x d) of X = X W + Z, generated node by node along a topological order."""
    rng = _rng(seed)
    d = W.shape[0]
    scale = np.broadcast_to(np.asarray(noise_scale, dtype=float), (d,))
    Z = _noise(noise, n, d, scale, rng)
    X = np.zeros((n, d))
    for j in _order(W != 0):  # one column per node: the parents are already generated
        X[:, j] = X @ W[:, j] + Z[:, j]
    return X


def simulate_mlp_sem(B: np.ndarray, n: int, noise: str = "gauss", seed: int | np.random.Generator | None = 0,
                     hidden: int = 100, noise_scale: float = 1.0) -> np.ndarray:
    """n samples of X_j = sigmoid(X_pa A1) a2 + z_j: a random one-hidden-layer network per node."""
    rng = _rng(seed)
    d = B.shape[0]
    Z = _noise(noise, n, d, np.full(d, noise_scale), rng)
    X = np.zeros((n, d))
    for j in _order(B):
        pa = np.flatnonzero(B[:, j])
        if len(pa) == 0:
            X[:, j] = Z[:, j]
            continue
        A1 = rng.uniform(0.5, 2.0, size=(len(pa), hidden)) * rng.choice([-1.0, 1.0], size=(len(pa), hidden))
        a2 = rng.uniform(0.5, 2.0, size=hidden) * rng.choice([-1.0, 1.0], size=hidden)
        X[:, j] = (1.0 / (1.0 + np.exp(-(X[:, pa] @ A1)))) @ a2 + Z[:, j]
    return X


def simulate(d: int, k: int = 2, graph_type: str = "ER", n: int = 1000, noise: str = "gauss",
             mechanism: str = "linear", seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, W_true, B_true) for a graph with s0 = k*d expected edges: the benchmark setup in one call."""
    rng = np.random.default_rng(seed)
    B = simulate_dag(d, k * d, graph_type, rng)
    if mechanism == "linear":
        W = simulate_weights(B, rng)
        return simulate_linear_sem(W, n, noise, rng), W, B
    if mechanism == "mlp":
        return simulate_mlp_sem(B, n, noise, rng), B.copy(), B
    raise OptdslError(f"unknown mechanism '{mechanism}'", hint="use linear or mlp")
