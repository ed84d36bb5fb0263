"""The evaluation oracle the surrogate searches share: f̃ on batches of points, with a cache,
counters, budgets, projection onto the bounds, and the best-value history.

The searches work in scaled coordinates u = x / scale (see `box_scale`), so that one set of
radii suits boxes of different widths. Only the cache's size counts as evaluations of Φ, as in
the reference: a point already evaluated costs nothing. Attack passes are counted apart.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from optdsl.lower.surrogate_penalty import PenalizedSurrogate

BOX_WIDTH = 20.0  # a finite box is scaled to this width, the width of the reference's first problem


def box_scale(lower: np.ndarray, upper: np.ndarray, mode: str = "box") -> np.ndarray:
    """Per-coordinate scale: (upper - lower) / 20 where both bounds are finite, else 1."""
    scale = np.ones(len(lower))
    if mode == "box":
        w = upper - lower
        ok = np.isfinite(w) & (w > 0)
        scale[ok] = w[ok] / BOX_WIDTH
    return scale


class OutOfBudget(Exception):
    """Raised inside a step when the evaluation budget or the time limit is spent."""


class Evaluator:
    def __init__(self, problem: PenalizedSurrogate, scale: np.ndarray, max_evals: int,
                 time_limit: float | None = None, project: bool = True, cache: bool = True,
                 feas_tol: float = 1e-6, verbose: bool = False, log_every: float = 5.0) -> None:
        self.problem, self.scale = problem, np.asarray(scale, dtype=np.float64)
        form = problem.form
        self.lower = form.col_lower / self.scale
        self.upper = form.col_upper / self.scale
        self.max_evals, self.time_limit = int(max_evals), time_limit
        self.project, self.use_cache, self.feas_tol = project, cache, feas_tol
        self.verbose, self.log_every = verbose, log_every
        self.cache: dict[bytes, float] = {}
        self.evals = 0  # evaluations of Phi (cache misses)
        self.cache_hits = 0
        self.batches = 0
        self.attack_forward = 0
        self.attack_backward = 0
        self.eval_time = 0.0
        self.t0 = time.perf_counter()
        self._last_log = self.t0
        self.best_f = -np.inf  # best f̃
        self.best_u: np.ndarray | None = None
        self.best_objective = np.nan
        self.best_violation = np.inf
        self.feasible_u: np.ndarray | None = None  # best model objective among feasible points
        self.feasible_g = -np.inf
        self.feasible_objective = np.nan
        self.info: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}  # z and Φ̃ of recent best points
        self.history: dict[str, list[float]] = {"evaluations": [], "best": [], "objective": [], "time": []}

    # ------------------------------------------------------------------------ budget
    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def out_of_time(self) -> bool:
        return self.time_limit is not None and self.elapsed >= self.time_limit

    @property
    def exhausted(self) -> bool:
        return self.evals >= self.max_evals or self.out_of_time()

    def clip(self, U: np.ndarray) -> np.ndarray:
        return np.clip(U, self.lower, self.upper) if self.project else U

    # ------------------------------------------------------------------------ evaluation
    def __call__(self, U: np.ndarray) -> np.ndarray:
        """f̃ at the rows of U (scaled coordinates, projected onto the bounds first). Raises
        OutOfBudget, after evaluating what the budget allows, when the budget runs out."""
        U = self.clip(np.atleast_2d(np.asarray(U, dtype=np.float64)))
        F = np.full(U.shape[0], -np.inf)
        keys = [u.tobytes() for u in U]
        todo, seen = [], {}
        for i, k in enumerate(keys):
            if self.use_cache and k in self.cache:
                F[i] = self.cache[k]
                self.cache_hits += 1
            elif k in seen:
                seen[k].append(i)
            else:
                seen[k] = [i]
                todo.append(i)
        room = self.max_evals - self.evals
        short = len(todo) > room
        todo = todo[:max(room, 0)]
        if todo:
            t = time.perf_counter()
            ev = self.problem.evaluate(U[todo] * self.scale)
            self.eval_time += time.perf_counter() - t
            self.evals += len(todo)
            self.batches += 1
            for j, i in enumerate(todo):
                for i2 in seen[keys[i]]:
                    F[i2] = ev.ftilde[j]
                if self.use_cache:
                    self.cache[keys[i]] = float(ev.ftilde[j])
            self._record(U[todo], ev)
        if short or self.out_of_time():
            raise OutOfBudget
        return F

    def _record(self, U: np.ndarray, ev) -> None:
        j = int(np.argmax(ev.ftilde))
        key = U[j].tobytes()
        self.info[key] = (ev.Z[j], ev.out[j])
        if len(self.info) > 64:
            self.info.pop(next(iter(self.info)))
        if ev.ftilde[j] > self.best_f:
            self.best_f, self.best_u = float(ev.ftilde[j]), U[j].copy()
            self.best_objective, self.best_violation = float(ev.objective[j]), float(ev.violation[j])
        feas = ev.violation <= self.feas_tol
        if np.any(feas):
            sign = 1.0 if self.problem.form.sense == "max" else -1.0
            g = np.where(feas, sign * ev.objective, -np.inf)
            k = int(np.argmax(g))
            if g[k] > self.feasible_g:
                self.feasible_g, self.feasible_u = float(g[k]), U[k].copy()
                self.feasible_objective = float(ev.objective[k])
        h = self.history
        h["evaluations"].append(float(self.evals))
        h["best"].append(self.best_f)
        h["objective"].append(self.best_objective)
        h["time"].append(self.elapsed)
        if self.verbose and time.perf_counter() - self._last_log >= self.log_every:
            self._last_log = time.perf_counter()
            print(f"  {self.evals:8d} evaluations  best f~ {self.best_f:.6g}  {self.elapsed:7.1f} s", file=sys.stderr)

    def point(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """z = (x, Φ(x)) and Φ̃(x) at an evaluated point (recomputed, as an attack forward pass,
        when it is no longer kept)."""
        u = self.clip(np.asarray(u, dtype=np.float64))
        key = u.tobytes()
        if key not in self.info:
            ev = self.problem.evaluate((u * self.scale)[None, :])
            self.attack_forward += 1
            self.info[key] = (ev.Z[0], ev.out[0])
        return self.info[key]
