"""`topo` backend: options, start order, the search (linear or MLP) and the Result."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from optdsl.backends import SolveOptions, validate_options
from optdsl.dag.metrics import topological_order
from optdsl.errors import SolverError
from optdsl.lower.forms import DAGForm
from optdsl.results import Result, SolutionStatus, TerminationStatus

from .build import score_of
from .declarations import STATUS_MAP, TOPO_OPTIONS
from .search import TopoParams, topo
from .threads import blas_threads


def order_from_graph(W: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """A topological order of |W| > t, raising t until the graph is acyclic (as DAGMA does)."""
    A = np.abs(W)
    np.fill_diagonal(A, 0.0)
    levels = np.unique(np.concatenate([[threshold], A[A > threshold]]))
    for t in levels:
        order = topological_order(A > t)
        if order is not None:
            return order
    return np.arange(W.shape[0])  # pragma: no cover - the empty graph is always acyclic


def parse_order(text: str, nodes: list) -> np.ndarray:
    labels = [s.strip() for s in text.split(",") if s.strip()]
    names = [str(n) for n in nodes]
    missing = [x for x in labels if x not in names]
    if missing or len(labels) != len(nodes) or len(set(labels)) != len(labels):
        raise SolverError("topo option 'order' must list every node once, separated by commas",
                          hint=f"nodes: {', '.join(names)}" + (f"; unknown: {', '.join(missing)}" if missing else ""))
    return np.array([names.index(x) for x in labels], dtype=np.int64)


def start_order(form: DAGForm, opts: dict[str, Any], options: SolveOptions, score, seed: int) -> tuple[np.ndarray, str]:
    if opts["order"]:
        return parse_order(opts["order"], form.nodes), "given order"
    if opts["init"] == "start":
        W0 = np.asarray(form.x0)[form.w_index]
        return order_from_graph(W0), "the graph of the start values"
    if opts["init"] == "notears":
        from optdsl.solvers.topo.notears import NotearsParams, notears

        limit = None if options.time_limit is None else 0.5 * options.time_limit
        res = notears(score, NotearsParams(time_limit=limit, verbose=options.verbose))
        return order_from_graph(res.W_raw, 0.3), "NOTEARS's graph"
    return np.random.default_rng(seed).permutation(form.d), "a random order"


def solve_topo(form: DAGForm, options: SolveOptions) -> Result:
    if not isinstance(form, DAGForm):
        raise SolverError(f"topo takes a DAG form, got {type(form).__name__}")
    t0 = time.perf_counter()
    opts = validate_options("topo", TOPO_OPTIONS, dict(options.backend_options or {}))
    seed = opts["seed"] if opts["seed"] >= 0 else (options.seed or 0)
    with blas_threads(options.threads):
        score = score_of(form, generic=opts["score"] == "generic")
        order0, start = start_order(form, opts, options, score, seed)
        left = None if options.time_limit is None else max(0.0, options.time_limit - (time.perf_counter() - t0))
        params = TopoParams(size_small=opts["size_small"] or None, size_large=opts["size_large"] or None,
                            large_searches=opts["large_searches"], xi=opts["xi"], threshold=opts["threshold"],
                            refit=opts["refit"], max_iter=opts["max_iter"], time_limit=left, seed=seed,
                            verbose=options.verbose)
        res = topo(score, order0, params)
    status = STATUS_MAP[res.status]
    stats = {"order": [form.nodes[i] for i in res.order], "score_dense": res.score_dense,
             "swaps": res.swaps, "candidate_evaluations": res.evaluations, "start": start,
             "score_kind": getattr(form.decomposition, "label", "generic smooth") if opts["score"] == "auto"
             else "generic smooth"}
    message = {"local_optimum": "local optimum: no candidate swap lowers the score",
               "time_limit": "time limit: the best graph so far",
               "iteration_limit": "iteration limit: the best graph so far"}[res.status]
    return dag_result(form, res.W, status, "topo", stats, res.history, res.iterations,
                      time.perf_counter() - t0, message)


def dag_result(form: DAGForm, W: np.ndarray, status: TerminationStatus, backend: str, stats: dict[str, Any],
               history: dict[str, list[float]], iterations: int, seconds: float, message: str) -> Result:
    """The Result: W at its flat positions, the model's objective there, edges and order in stats."""
    x = np.asarray(form.x0, dtype=float).copy()
    x[form.w_index] = W
    nlp = form.score
    obj = float(nlp.f(x))
    if nlp.sense == "max":
        obj = -obj
    ii, jj = np.nonzero(W)
    edges = [(form.nodes[i], form.nodes[j], float(W[i, j])) for i, j in zip(ii, jj)]
    if "order" not in stats:
        order = topological_order(W != 0)
        stats["order"] = [form.nodes[i] for i in order] if order is not None else []
    stats = {"edges": edges, "num_edges": len(edges), **stats}
    acyclic = topological_order(W != 0) is not None
    if not acyclic:
        sol = SolutionStatus.NONE
        status = TerminationStatus.ERROR
        message = (message + "; " if message else "") + "the thresholded graph still has a cycle"
    else:
        sol = SolutionStatus.LOCALLY_OPTIMAL if status == TerminationStatus.OPTIMAL else SolutionStatus.FEASIBLE
    return Result(status=status, solution_status=sol, backend=backend, objective=obj, x=x, iterations=iterations,
                  times={"solve_s": seconds}, stats=stats, message=message, layout=form.layout,
                  history={k: list(v) for k, v in history.items()})
