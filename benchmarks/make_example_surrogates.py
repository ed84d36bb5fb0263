"""Write the example surrogates as exported torch programs (seeded; run from the project root):

    python benchmarks/make_example_surrogates.py

examples/surrogate.pt2  4 inputs -> (gain, risk), an MLP fitted to
                        gain(x) = Σ_i w_i sin(2 x_i), w = (1, 0.8, 0.6, 0.4);  risk(x) = ‖x‖² / 4
examples/reactor.pt2    2 inputs -> outlet (A, B) of the simulated reactor (surrogate_problems.py)

Both are float32 with a dynamic batch dimension, written by torch.export.save (no pickled code).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import surrogate_problems as sp  # noqa: E402

EXAMPLES = HERE.parent / "examples"
W = np.array([1.0, 0.8, 0.6, 0.4])


def gain_risk(X: np.ndarray) -> np.ndarray:
    return np.stack([np.sin(2 * X) @ W, np.sum(X * X, axis=1) / 4], axis=1)


def export(net: torch.nn.Module, n_in: int, path: Path) -> None:
    net = net.float().eval()
    batch = torch.export.Dim("batch")
    ep = torch.export.export(net, (torch.zeros(2, n_in),), dynamic_shapes=({0: batch},))
    torch.export.save(ep, str(path))
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def main() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (2000, 4))
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
                              torch.nn.Linear(16, 2)).double()
    mse = sp._train(net, torch.as_tensor(X), torch.as_tensor(gain_risk(X)), 3000, lr=1e-2)
    print(f"gain/risk fit: mse {mse:.2e}")
    export(net, 4, EXAMPLES / "surrogate.pt2")
    reactor, mse = sp.reactor_net(0, samples=3000, epochs=2000)
    print(f"reactor fit: mse {mse:.2e}")
    export(reactor, 2, EXAMPLES / "reactor.pt2")


if __name__ == "__main__":
    main()
