"""Parallel portfolios (ParBalans): N seeded configurations search at once from the same first
incumbent and share the best incumbent through a board.

Local runs use `concurrent.futures.ProcessPoolExecutor` with spawned processes (HiGHS keeps a
thread pool, which a fork would copy in an unknown state) and a board in shared memory; with
`ray_address` the workers are Ray tasks and the board a Ray actor. The calling process runs
worker 0 itself, so a portfolio of N starts N - 1 processes. Each worker rebuilds its HiGHS model
from the form's arrays (the layout stays behind: its labels are closures).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from optdsl.errors import SolverError
from optdsl.lower.forms import Layout, LPForm

from .config import Config
from .mip import MipModel
from .search import Progress, Search, Start, Trace

GRACE_S = 2.0  # how long after the deadline a worker may take to hand its result back


@dataclass
class WorkerResult:
    worker: int
    x: np.ndarray
    objective: float
    trace: Trace
    iterations: int
    dropped: dict[str, str]
    stop_reason: str
    started: float  # seconds after the solve began when this worker started searching


def bare_form(form: LPForm) -> LPForm:
    """The form's arrays without its layout (whose labels are closures), for other processes."""
    return replace(form, layout=Layout(), x0=None)


def run_worker(k: int, form: LPForm, cfg: Config, start: Start, deadline: float, t0: float,
               board: Any, progress: bool, verbose: bool, max_iterations: int | None = None,
               model: MipModel | None = None) -> WorkerResult:
    """One ALNS search (worker `k` of a portfolio, or the only one)."""
    board = _BOARD if board == "shared" else board
    started = time.time() - t0
    if model is None:
        model = MipModel(form, seed=cfg.seed, verbose=False)
    tag = f"[{k}]" if board is not None else ""
    prog = Progress(model, t0, enabled=progress, every_iteration=verbose, tag=tag)
    search = Search(model, cfg, start, deadline, t0, prog, board=board, max_iterations=max_iterations)
    search.run()
    return WorkerResult(worker=k, x=search.best_x, objective=search.best_obj, trace=search.trace,
                        iterations=search.iterations, dropped=search.dropped,
                        stop_reason=search.stop_reason, started=started)


# --- the local board: the best objective and point in shared memory ------------------------------

_BOARD: SharedBoard | None = None


class SharedBoard:
    """Best objective in slot 0, its point after it; one lock for both."""

    def __init__(self, n: int, ctx: Any) -> None:
        self._arr = ctx.Array("d", n + 1)
        self._arr[0] = np.inf

    def best_objective(self) -> float:
        return float(self._arr[0])

    def best(self) -> tuple[float, np.ndarray] | None:
        with self._arr.get_lock():
            a = np.frombuffer(self._arr.get_obj(), dtype=np.float64).copy()
        return None if not np.isfinite(a[0]) else (float(a[0]), a[1:])

    def offer(self, objective: float, x: np.ndarray) -> None:
        with self._arr.get_lock():
            a = np.frombuffer(self._arr.get_obj(), dtype=np.float64)
            if objective < a[0]:
                a[1:] = x[: a.size - 1]
                a[0] = objective


def _install_board(board: SharedBoard) -> None:
    global _BOARD
    _BOARD = board


def _warm() -> float:
    """Import what a worker needs while the first incumbent is being found."""
    t = time.perf_counter()
    import alns  # noqa: F401
    import highspy  # noqa: F401
    import mabwiser.mab  # noqa: F401

    return time.perf_counter() - t


class LocalPool:
    """N - 1 spawned processes, started early so that their imports overlap the first solve."""

    def __init__(self, workers: int, n: int) -> None:
        ctx = mp.get_context("spawn")
        self.board = SharedBoard(n, ctx)
        self.ex = cf.ProcessPoolExecutor(max_workers=workers - 1, mp_context=ctx, initializer=_install_board,
                                         initargs=(self.board,))
        self.warm = [self.ex.submit(_warm) for _ in range(workers - 1)]

    def submit(self, k: int, form: LPForm, cfg: Config, start: Start, deadline: float, t0: float,
               progress: bool, verbose: bool, max_iterations: int | None) -> cf.Future:
        return self.ex.submit(run_worker, k, form, cfg, start, deadline, t0, "shared", progress, verbose,
                              max_iterations)

    def gather(self, futures: list[Any], deadline: float) -> list[WorkerResult]:
        """The workers' results; one that has not answered GRACE_S after the deadline (still
        starting up on a loaded machine, say) is left out, so the time limit holds."""
        out = []
        for f in futures:
            try:
                out.append(f.result(timeout=max(deadline - time.time(), 0.0) + GRACE_S))
            except Exception as exc:  # a lost worker costs its share of the search, not the run
                out.append(exc)
        return out

    def close(self) -> None:
        procs = list(getattr(self.ex, "_processes", {}).values())
        self.ex.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # late starters would otherwise finish their imports after we return
            if p.is_alive():
                p.terminate()


# --- Ray -----------------------------------------------------------------------------------------


class RayPool:
    """Workers as Ray tasks on the cluster at `address` ("local" starts one in this process)."""

    def __init__(self, workers: int, n: int, address: str) -> None:
        try:
            import ray
        except ImportError:
            raise SolverError("balans.ray_address needs Ray, which is not installed",
                              hint='pip install "optdsl[ray]"') from None
        self.ray = ray
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": True}
            if address != "local":
                kwargs["address"] = address
            try:
                ray.init(**kwargs)
            except Exception as exc:
                raise SolverError(f"cannot connect to the Ray cluster at '{address}': {exc}",
                                  hint="start one with `ray start --head`, or use balans.ray_address=local") from None
        self.board = RayBoard(ray)
        self._remote = ray.remote(num_cpus=1)(run_worker)

    def submit(self, k: int, form: LPForm, cfg: Config, start: Start, deadline: float, t0: float,
               progress: bool, verbose: bool, max_iterations: int | None) -> Any:
        return self._remote.remote(k, form, cfg, start, deadline, t0, self.board, progress, verbose, max_iterations)

    def gather(self, futures: list[Any], deadline: float) -> list[Any]:
        out = []
        for f in futures:
            try:
                out.append(self.ray.get(f, timeout=max(deadline - time.time(), 0.0) + GRACE_S))
            except Exception as exc:
                out.append(exc)
        return out

    def close(self) -> None:
        pass


class RayBoard:
    """The shared incumbent as a Ray actor; only the actor handle travels into the tasks."""

    def __init__(self, ray: Any) -> None:
        self._actor = ray.remote(num_cpus=0)(_BoardActor).remote()

    def best_objective(self) -> float:
        import ray

        return float(ray.get(self._actor.best_objective.remote()))

    def best(self) -> tuple[float, np.ndarray] | None:
        import ray

        return ray.get(self._actor.best.remote())

    def offer(self, objective: float, x: np.ndarray) -> None:
        self._actor.offer.remote(float(objective), np.asarray(x))


class _BoardActor:
    def __init__(self) -> None:
        self.obj = np.inf
        self.x: np.ndarray | None = None

    def best_objective(self) -> float:
        return self.obj

    def best(self) -> tuple[float, np.ndarray] | None:
        return None if self.x is None else (self.obj, self.x)

    def offer(self, objective: float, x: np.ndarray) -> None:
        if objective < self.obj:
            self.obj, self.x = objective, x


def ray_address(option: str) -> str:
    """The Ray address from the option, else RAY_ADDRESS, else '' (local processes)."""
    return str(option or os.environ.get("RAY_ADDRESS", "") or "")
