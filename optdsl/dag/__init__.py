"""Structure learning helpers: synthetic SEMs, graph metrics, models from data, and plots.

    from optdsl.dag import simulate_dag, simulate_linear_sem, count_accuracy, model
    B = simulate_dag(20, 40, "ER", seed=0)
    X = simulate_linear_sem(weights(B, seed=0), 1000, "gauss", seed=0)
    m = model(X)                     # least squares score with acyclic(W); m.solve() runs TOPO

Submodules load lazily; nothing here imports torch unless an MLP mechanism is simulated.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "simulate_dag": "optdsl.dag.synthetic",
    "simulate_weights": "optdsl.dag.synthetic",
    "simulate_linear_sem": "optdsl.dag.synthetic",
    "simulate_mlp_sem": "optdsl.dag.synthetic",
    "simulate": "optdsl.dag.synthetic",
    "count_accuracy": "optdsl.dag.metrics",
    "is_dag": "optdsl.dag.metrics",
    "topological_order": "optdsl.dag.metrics",
    "model": "optdsl.dag.build",
    "ls_score": "optdsl.dag.build",
    "refit_ls": "optdsl.dag.build",
    "plot_graph": "optdsl.dag.plot",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'optdsl.dag' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))
