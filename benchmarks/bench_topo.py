"""DAG structure learning benchmark: TOPO vs NOTEARS vs DAGMA on the same data.

    python benchmarks/bench_topo.py                      # everything below (about 20 min on 2 cores)
    python benchmarks/bench_topo.py --part scaling --d 20 30
    python benchmarks/bench_topo.py --part check         # d = 20 ER2/ER4/SF4, 5 seeds
    python benchmarks/bench_topo.py --part sachs

Parts:
- check: linear Gaussian SEMs, n = 1000, d = 20, ER2/ER4/SF4, seeds 0-4: TOPO's SHD and its
  least-squares score against the true graph's refitted score (and DAGMA's on the same data).
- scaling: time, least-squares score and SHD versus d (ER4, n = 1000) for topo, notears (to
  --notears-max-d), DAGMA (dagma 1.1, lambda1 = 0.02, threshold 0.3) and topo started from DAGMA's
  graph (TOPO as post-processing).
- sachs: the 853 observational rows of Sachs et al. (../shared/corpora/sachs), SHD against the
  17-edge consensus network and the 20-edge graph.

Scores are 1/(2n)||X - XW||^2 of each method's returned W (centered data); "refit" is the same
score after refitting the weights on the method's graph. Every method runs on one BLAS thread.
Writes markdown to stdout and benchmarks/results/topo.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from optdsl.solvers.topo.notears import NotearsParams, notears  # noqa: E402
from optdsl.solvers.topo.run import order_from_graph  # noqa: E402
from optdsl.solvers.topo.scores import ls_gram  # noqa: E402
from optdsl.solvers.topo.search import TopoParams, topo  # noqa: E402
from optdsl.solvers.topo.threads import blas_threads  # noqa: E402

from optdsl.dag import count_accuracy, simulate  # noqa: E402
from optdsl.dag.build import ls_score, refit_ls  # noqa: E402


def run_topo(X: np.ndarray, seed: int, order0: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    sc = ls_gram(X)
    order = np.random.default_rng(seed).permutation(X.shape[1]) if order0 is None else order0
    res = topo(sc, order, TopoParams(seed=seed))
    return res.W, time.perf_counter() - t


def run_notears(X: np.ndarray, limit: float) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    res = notears(ls_gram(X), NotearsParams(lambda1=0.1, time_limit=limit))
    return res.W, time.perf_counter() - t


def run_dagma(X: np.ndarray) -> tuple[np.ndarray | None, float]:
    try:
        from dagma.linear import DagmaLinear
    except ImportError:
        return None, float("nan")
    t = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()), blas_threads(1):
        W = DagmaLinear(loss_type="l2").fit(X, lambda1=0.02, w_threshold=0.3)
    return W, time.perf_counter() - t


def _row(name: str, B: np.ndarray, X: np.ndarray, W: np.ndarray | None, secs: float, true_refit: float) -> dict:
    if W is None:
        return {"method": name, "shd": None}
    acc = count_accuracy(B, W)
    return {"method": name, "shd": acc["shd"], "tpr": acc["tpr"], "fdr": acc["fdr"], "nnz": acc["nnz"],
            "time": secs, "score": ls_score(X, W), "refit": ls_score(X, refit_ls(X, W != 0)), "true": true_refit}


def instance(d: int, k: int, graph: str, seed: int, n: int = 1000) -> tuple[np.ndarray, np.ndarray, float]:
    X, _, B = simulate(d, k, graph, n=n, seed=seed)
    X = X - X.mean(axis=0)
    return X, B, ls_score(X, refit_ls(X, B))


def part_check(seeds: int, with_dagma: bool) -> list[str]:
    out = [f"## d = 20, n = 1000, linear Gaussian, seeds 0-{seeds - 1}", "",
           "| graph | method | SHD per seed | mean TPR | mean FDR | mean (score - true refit) "
           "| time s (min/median/max) |",
           "|---|---|---|---|---|---|---|"]
    for graph, k in (("ER", 2), ("ER", 4), ("SF", 4)):
        rows: dict[str, list[dict]] = {"topo": [], "dagma": []}
        for seed in range(seeds):
            X, B, tr = instance(20, k, graph, seed)
            W, s = run_topo(X, seed)
            rows["topo"].append(_row("topo", B, X, W, s, tr))
            if with_dagma:
                Wd, sd = run_dagma(X)
                rows["dagma"].append(_row("dagma", B, X, Wd, sd, tr))
        for name, rs in rows.items():
            if not rs or rs[0]["shd"] is None:
                continue
            times = sorted(r["time"] for r in rs)
            gap = np.mean([r["score"] - r["true"] for r in rs])
            out.append(f"| {graph}{k} | {name} | {[r['shd'] for r in rs]} | {np.mean([r['tpr'] for r in rs]):.3f} | "
                       f"{np.mean([r['fdr'] for r in rs]):.3f} | {gap:+.4f} | "
                       f"{times[0]:.2f}/{times[len(times) // 2]:.2f}/{times[-1]:.2f} |")
            print(out[-1], file=sys.stderr)
    return out


def part_scaling(ds: list[int], seeds: int, notears_max_d: int, notears_limit: float) -> list[str]:
    out = ["## ER4, n = 1000, linear Gaussian: time, score and SHD versus d", "",
           "| d | seed | method | SHD | edges (true) | score | refit score | true refit | time s |",
           "|---|---|---|---|---|---|---|---|---|"]
    for d in ds:
        for seed in range(seeds):
            X, B, tr = instance(d, 4, "ER", seed)
            res = []
            W, s = run_topo(X, seed)
            res.append(_row("topo", B, X, W, s, tr))
            if d <= notears_max_d:
                Wn, sn = run_notears(X, notears_limit)
                res.append(_row("notears", B, X, Wn, sn, tr))
            Wd, sd = run_dagma(X)
            if Wd is not None:
                res.append(_row("dagma", B, X, Wd, sd, tr))
                W2, s2 = run_topo(X, seed, order_from_graph(Wd))
                res.append(_row("topo from dagma", B, X, W2, s2 + sd, tr))
            for r in res:
                out.append(f"| {d} | {seed} | {r['method']} | {r['shd']} | {r['nnz']} ({int(B.sum())}) | "
                           f"{r['score']:.4f} | {r['refit']:.4f} | {r['true']:.4f} | {r['time']:.1f} |")
                print(out[-1], file=sys.stderr)
    return out


def part_sachs() -> list[str]:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_dag_learning import _corpora, sachs

    if _corpora() is None:
        return ["## Sachs: skipped (../shared/corpora/sachs not found)"]
    df, names, B17, B20 = sachs()
    X = df.to_numpy(float)
    X = X - X.mean(axis=0)
    out = ["## Sachs (853 observational rows, 11 nodes, raw centered data)", "",
           "| method | SHD vs 17-edge | SHD vs 20-edge | edges | score | time s |", "|---|---|---|---|---|---|"]
    runs = [("topo", *run_topo(X, 0)), ("notears", *run_notears(X, 600.0)), ("dagma", *run_dagma(X))]
    for name, W, s in runs:
        if W is None:
            continue
        out.append(f"| {name} | {count_accuracy(B17, W)['shd']} | {count_accuracy(B20, W)['shd']} | "
                   f"{int((W != 0).sum())} | {ls_score(X, W):.2f} | {s:.1f} |")
        print(out[-1], file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=["all", "check", "scaling", "sachs"], default="all")
    ap.add_argument("--d", type=int, nargs="+", default=[20, 30, 50, 100])
    ap.add_argument("--seeds", type=int, default=None, help="seeds per setting (check: 5, scaling: 1)")
    ap.add_argument("--notears-max-d", type=int, default=30)
    ap.add_argument("--notears-limit", type=float, default=600.0, help="seconds per NOTEARS run")
    ap.add_argument("--no-dagma", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "topo.md"))
    a = ap.parse_args()
    lines = ["# TOPO benchmark", "",
             f"Measured on a shared 2-core machine ({platform.processor() or platform.machine()}, Python "
             f"{platform.python_version()}), one BLAS thread per method; `python benchmarks/bench_topo.py`.", ""]
    if a.part in ("all", "check"):
        lines += part_check(a.seeds or 5, not a.no_dagma) + [""]
    if a.part in ("all", "scaling"):
        lines += part_scaling(a.d, a.seeds or 1, a.notears_max_d, a.notears_limit) + [""]
    if a.part in ("all", "sachs"):
        lines += part_sachs() + [""]
    text = "\n".join(lines)
    print(text)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
