"""TOPO's MLP variant on a nonlinear SEM (the reference demo's setting: d = 10, s0 = 10, n = 1000).

    python benchmarks/bench_topo_mlp.py --device cpu
    python benchmarks/bench_topo_mlp.py --device cuda --d 10 --time-limit 120

Prints time, SHD and the MLP score per device, one line each; exit status 1 when a requested
device is not available.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from optdsl.dag import count_accuracy, model, simulate


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", nargs="+", default=["cpu"])
    ap.add_argument("--d", type=int, default=10)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hidden", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=300.0)
    a = ap.parse_args()
    X, _, B = simulate(a.d, 1, "ER", n=a.n, mechanism="mlp", seed=a.seed)
    m = model(X)
    rc = 0
    for dev in a.device:
        t = time.perf_counter()
        try:
            r = m.solve(device=dev, time_limit=a.time_limit, model="mlp", threshold=0.5, hidden=a.hidden,
                        seed=a.seed)
        except Exception as err:  # report and go on with the next device
            print(f"device {dev}: failed: {err}", file=sys.stderr)
            rc = 1
            continue
        nodes = [f"X{j + 1}" for j in range(a.d)]
        W = np.array([[r.value("W", p, q) for q in nodes] for p in nodes])
        acc = count_accuracy(B, W)
        print(f"topo-mlp d={a.d} n={a.n} device={r.stats.get('device', dev)} status={r.status.value} "
              f"time={time.perf_counter() - t:.1f}s shd={acc['shd']} tpr={acc['tpr']:.2f} edges={acc['nnz']} "
              f"(true {int(B.sum())}) score={r.objective:.5f} swaps={r.stats['swaps']}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
