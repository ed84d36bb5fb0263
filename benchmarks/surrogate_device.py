"""CPU against CUDA for the surrogate backends: the same model and seed on both devices, with the
poll evaluated as one batch (poll_batch = the poll set) and one point at a time.

    python benchmarks/surrogate_device.py      # needs a GPU; prints one line per run
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import surrogate_problems as sp  # noqa: E402


def main() -> None:
    if not torch.cuda.is_available():
        print("no GPU: nothing to compare")
        return
    P = sp.digits(K=100, seed=0)
    rows = []
    for device in ("cpu", "cuda"):
        for batch in (1, 101):
            t = time.perf_counter()
            r = P.model.solve("attack_dfo", seed=0, max_evals=2000, device=device, poll_batch=batch)
            wall = time.perf_counter() - t
            rows.append((device, batch, r.history["best"][-1], r.stats["phi_evaluations"], wall))
            print(f"{device:5s} poll_batch {batch:3d}: best f~ {rows[-1][2]:.3e}, {rows[-1][3]} evaluations, "
                  f"{wall:.2f} s ({1e3 * wall / max(rows[-1][3], 1):.2f} ms per evaluation)")
    cpu, gpu = rows[0][2], rows[2][2]
    print(f"same seed, cpu vs cuda best f~: {cpu:.6e} vs {gpu:.6e}")


if __name__ == "__main__":
    main()
