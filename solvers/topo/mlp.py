"""TOPO's nonlinear variant: one MLP per node (NOTEARS-MLP style), on CPU or CUDA through torch.

Node j predicts x_j from its allowed parents: x_j ~ sigmoid(X (A_j o M_j) + b_j) v_j + c_j with
A_j (d x hidden) and the 0/1 parent mask M_j. The score is sum_j [1/(2n)||x_j - x_j_hat||^2 +
lambda1 ||A_j||_1 + lambda2/2 (||A_j||^2 + ||v_j||^2)], and the graph's weights are
W_ij = ||A_j[i, :]||_2. All d networks are one batched tensor; a fit trains only the nodes asked
for (the others stay fixed), so a swap retrains the nodes between the two positions only. As in
the reference, candidates use grad h only, sizes are small = d, large = min(3d, d(d-1)/2), and the
first improving swap is taken.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from optdsl.backends import SolveOptions
from optdsl.errors import SolverError
from optdsl.lower.forms import DAGForm
from optdsl.results import Result

from .declarations import STATUS_MAP
from .search import candidates

REL_TOL = 1e-3


class MLPScore:
    def __init__(self, X: np.ndarray, hidden: int = 10, lambda1: float = 0.01, lambda2: float = 0.01,
                 iters: int = 300, device: str = "cpu", seed: int = 0) -> None:
        import torch

        from optdsl.eval.torch_eval import resolve_device

        self.torch = torch
        self.dev = resolve_device(device) if device != "cpu" else torch.device("cpu")
        g = torch.Generator().manual_seed(seed)
        self.X = torch.as_tensor(X - X.mean(axis=0), dtype=torch.float64, device=self.dev)
        self.n, self.d = X.shape
        self.h, self.l1, self.l2, self.iters = hidden, lambda1, lambda2, iters
        d, h = self.d, hidden
        scale = 1.0 / np.sqrt(d)
        self.A = (torch.rand(d, d, h, generator=g, dtype=torch.float64) * 2 - 1).mul_(scale).to(self.dev)
        self.b = torch.zeros(d, h, dtype=torch.float64, device=self.dev)
        self.v = (torch.rand(d, h, generator=g, dtype=torch.float64) * 2 - 1).mul_(1 / np.sqrt(h)).to(self.dev)
        self.c = torch.zeros(d, dtype=torch.float64, device=self.dev)

    def _loss(self, A, b, v, c, cols, mask) -> Any:
        """Per-node losses of the nodes `cols` (A etc. hold only their parameters)."""
        t = self.torch
        Am = A * mask[:, :, None]  # (m, d, h)
        H = t.sigmoid(t.einsum("ni,jih->njh", self.X, Am) + b[None])
        pred = t.einsum("njh,jh->nj", H, v) + c[None]
        fit = 0.5 / self.n * ((self.X[:, cols] - pred) ** 2).sum(dim=0)
        pen = self.l1 * Am.abs().sum(dim=(1, 2)) + 0.5 * self.l2 * ((Am ** 2).sum(dim=(1, 2)) + (v ** 2).sum(dim=1))
        return fit + pen

    def fit(self, cols: np.ndarray, mask: np.ndarray, commit: bool) -> tuple[np.ndarray, tuple]:
        """Train the networks of `cols` with parents mask[:, cols]; their losses (and parameters,
        stored when `commit`)."""
        t = self.torch
        ci = t.as_tensor(cols, device=self.dev)
        m = t.as_tensor(mask[:, cols].T, dtype=t.float64, device=self.dev)  # (m, d): inputs per node
        params = [p[ci].clone().requires_grad_(True) for p in (self.A, self.b, self.v, self.c)]
        opt = t.optim.LBFGS(params, lr=1.0, max_iter=self.iters, tolerance_grad=1e-7, tolerance_change=1e-10,
                            history_size=20, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = self._loss(*params, cols, m).sum()
            loss.backward()
            return loss

        opt.step(closure)
        with t.no_grad():
            losses = self._loss(*params, cols, m)
        if commit:
            self.commit(cols, tuple(p.detach() for p in params))
        return losses.cpu().numpy(), tuple(p.detach() for p in params)

    def commit(self, cols: np.ndarray, params: tuple) -> None:
        ci = self.torch.as_tensor(cols, device=self.dev)
        for store, p in zip((self.A, self.b, self.v, self.c), params):
            store[ci] = p

    def adjacency(self, mask: np.ndarray) -> np.ndarray:
        W = (self.A ** 2).sum(dim=2).sqrt().T.cpu().numpy()  # W[i, j] = ||A_j[i, :]||
        return W * mask


def solve_mlp(form: DAGForm, options: SolveOptions, opts: dict[str, Any], seed: int) -> Result:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(options.threads or 1)  # small batched kernels: one thread is fastest here
    try:
        return _solve_mlp(form, options, opts, seed)
    finally:
        torch.set_num_threads(threads)


def _solve_mlp(form: DAGForm, options: SolveOptions, opts: dict[str, Any], seed: int) -> Result:
    from .run import dag_result, start_order
    from .scores import prefix_mask

    X = getattr(form.decomposition, "data", None)
    if X is None:
        raise SolverError("topo's MLP variant needs the samples: a least-squares score over an (n x d) data param",
                          hint="write the score as 1/(2n) sum (X[k,j] - sum X[k,i] W[i,j])^2, "
                               "or use optdsl.dag.model(X)")
    t0 = time.perf_counter()
    deadline = None if options.time_limit is None else t0 + options.time_limit
    d = form.d
    allowed = ~form.forbidden if form.forbidden is not None else ~np.eye(d, dtype=bool)
    sc = MLPScore(np.asarray(X, dtype=float), opts["hidden"], opts["mlp_lambda1"], opts["mlp_lambda2"],
                  opts["mlp_iter"], options.device or "cpu", seed)
    rng = np.random.default_rng(seed)
    order, start = start_order(form, {**opts, "init": "random" if opts["init"] == "notears" else opts["init"]},
                               options, None, seed)
    mask = prefix_mask(order) & allowed
    losses, _ = sc.fit(np.arange(d), mask, commit=True)
    total = float(losses.sum())
    small = opts["size_small"] or d
    large = opts["size_large"] or min(3 * d, d * (d - 1) // 2)
    used_large, it, swaps, status = 0, 0, 0, "local_optimum"
    hist: dict[str, list[float]] = {"score": [total], "time": [0.0]}
    while it < opts["max_iter"]:
        it += 1
        W = sc.adjacency(mask)
        ci, cj = candidates(W, order, large, rng)
        pos = np.empty(d, dtype=np.int64)
        pos[order] = np.arange(d)
        found = False
        for k in range(len(ci)):
            if k >= small and used_large >= opts["large_searches"]:
                break
            if deadline is not None and time.perf_counter() > deadline:
                status = "time_limit"
                break
            a, b = pos[cj[k]], pos[ci[k]]
            new = order.copy()
            new[a], new[b] = order[b], order[a]
            new_mask = prefix_mask(new) & allowed
            cols = new[a:b + 1]
            new_losses, params = sc.fit(cols, new_mask, commit=False)
            delta = float(new_losses.sum() - losses[cols].sum())
            # the first improving swap is taken; a warm-started refit of any order gains a little,
            # so a swap must gain more than rel_tol of the interval's loss
            if delta < -REL_TOL * abs(float(losses[cols].sum())):
                sc.commit(cols, params)
                losses[cols] = new_losses
                order, mask, total = new, new_mask, total + delta
                used_large += k >= small
                swaps += 1
                found = True
                break
        hist["score"].append(total)
        hist["time"].append(time.perf_counter() - t0)
        if options.verbose or time.perf_counter() - t0 > 5.0:
            print(f"topo-mlp: iter {it:4d}  score {total:.8g}  {hist['time'][-1]:6.1f} s", file=sys.stderr)
        if not found or status == "time_limit":
            break
    else:
        status = "iteration_limit"
    W = sc.adjacency(mask)
    W = W * (W >= opts["threshold"])
    stats = {"order": [form.nodes[i] for i in order], "score_mlp": total, "swaps": swaps, "start": start,
             "score_kind": "MLP per node", "device": str(sc.dev)}
    r = dag_result(form, W, STATUS_MAP[status], "topo", stats, hist, it, time.perf_counter() - t0,
                   "MLP variant: W[i, j] is the norm of node j's first-layer weights from i; "
                   "the objective is the MLP score")
    r.objective = total
    return r
