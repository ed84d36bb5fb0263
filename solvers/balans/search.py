"""The Balans search: a first incumbent and the LP relaxation from HiGHS, then adaptive large
neighbourhood search with the `alns` package (loop, acceptance) and a MABWiser bandit through
`alns.select.MABSelector` choosing the destroy operator; the single repair solves the sub-MIP.

Everything here minimizes (see mip.py); times are wall-clock seconds (`time.time()`) so that the
workers of a portfolio, in other processes, share one deadline and one time origin.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from . import operators as ops
from .config import Config
from .mip import MipModel

MIN_SOLVE_S = 0.05  # below this much time left, no sub-MIP is started


class Board(Protocol):
    """Where the workers of a portfolio share their best incumbent."""

    def best_objective(self) -> float: ...
    def best(self) -> tuple[float, np.ndarray] | None: ...
    def offer(self, objective: float, x: np.ndarray) -> None: ...


@dataclass
class Start:
    """What the ALNS loop starts from: the first incumbent, the LP point and HiGHS's bound."""

    x: np.ndarray | None
    objective: float | None
    x_lp: np.ndarray | None
    dual_bound: float | None
    proven_optimal: bool
    status: str  # HiGHS's model status of the first solve
    first_s: float
    lp_s: float
    trace: list[tuple[float, float]] = field(default_factory=list)  # (seconds since t0, objective) in it


@dataclass
class Trace:
    """The incumbent trace and the per-iteration log (internal objective values)."""

    inc_time: list[float] = field(default_factory=list)
    inc_objective: list[float] = field(default_factory=list)
    inc_operator: list[str] = field(default_factory=list)
    it_time: list[float] = field(default_factory=list)
    it_operator: list[str] = field(default_factory=list)
    it_outcome: list[str] = field(default_factory=list)
    it_reward: list[float] = field(default_factory=list)
    it_objective: list[float] = field(default_factory=list)
    it_seconds: list[float] = field(default_factory=list)

    def add_incumbent(self, t: float, objective: float, operator: str) -> None:
        self.inc_time.append(t)
        self.inc_objective.append(objective)
        self.inc_operator.append(operator)


class Progress:
    """Lines on stderr: every iteration when verbose, else improvements and a line every 5 s."""

    def __init__(self, model: MipModel, t0: float, enabled: bool, every_iteration: bool, tag: str = "") -> None:
        self.model, self.t0, self.enabled, self.every = model, t0, enabled, every_iteration
        self.tag = tag
        self._last = 0.0

    def line(self, text: str, important: bool = False) -> None:
        now = time.time()
        if not self.enabled or not (important or self.every or now - self._last >= 5.0):
            return
        self._last = now
        print(f"balans{self.tag} {now - self.t0:7.1f}s  {text}", file=sys.stderr, flush=True)

    def fmt(self, internal: float | None) -> str:
        return "-" if internal is None else f"{self.model.user_objective(internal):.10g}"


# --- the first incumbent and the LP relaxation -------------------------------------------------


def first_incumbent(model: MipModel, cfg: Config, deadline: float, need_lp: bool, progress: Progress,
                    x0: np.ndarray | None = None, ready: Any = None, t0: float | None = None) -> Start:
    """HiGHS on the whole MIP for the first incumbent, then the LP relaxation if an operator needs it.

    The first solve gets min(first_time, first_fraction x budget) seconds; if it has no solution
    by then, it goes on until its first solution or the deadline (as the package does). A solve
    that proves optimality ends the search there. With `first_stall`, a solve that has stopped
    improving ends early. Either way it ends only once `ready()` says the search can start."""
    t_start = time.time()
    budget = max(deadline - t_start, 0.0)
    cap = min(cfg.first_time, cfg.first_fraction * budget)
    start = None
    if x0 is not None and model.is_feasible(x0):
        start = x0
    stall = cfg.first_stall * budget
    seen = {"best": np.inf, "t": 0.0}
    offset = t_start - (t0 if t0 is not None else t_start)
    trace: list[tuple[float, float]] = []

    def enough(data: Any) -> bool:
        """Records HiGHS's improvements; True once HiGHS has an incumbent and has either used its
        share of the budget or stopped improving (for max(stall, the time its last improvement
        took)), and the search's packages are imported (until then HiGHS may as well go on)."""
        pb, t = float(data.mip_primal_bound), float(data.running_time)
        if pb < seen["best"] - 1e-9 * max(1.0, abs(pb)):
            seen["best"], seen["t"] = pb, t
            if pb < 1e20:
                trace.append((offset + t, pb))
            return False
        if seen["best"] >= 1e20:
            return False  # no incumbent yet: go on, up to the deadline
        done = t >= cap or (stall > 0 and t - seen["t"] >= max(stall, seen["t"]))
        return done and (ready is None or ready())

    # one solve for the whole budget, stopped by `enough`: a solve without an incumbent at its share
    # goes on to its first one (the package restarts with a solution limit; this keeps the tree)
    sub = model.solve(budget, start=start, stop=enough)
    first_s = time.time() - t_start
    x = obj = None
    if sub.x is not None:
        x = model.clean(sub.x)
        if model.is_feasible(x):
            obj = model.objective(x)
        else:
            x = None
    proven = sub.status == "kOptimal" and x is not None
    progress.line(f"first incumbent {progress.fmt(obj)} ({sub.status}, {first_s:.1f}s), "
                  f"bound {progress.fmt(sub.dual_bound)}", important=True)
    x_lp = None
    lp_s = 0.0
    if x is not None and not proven and need_lp and deadline - time.time() > MIN_SOLVE_S:
        t1 = time.time()
        lp = model.solve(min(max(cfg.first_time, 1.0), 0.1 * (deadline - t1)), relaxation=True)
        lp_s = time.time() - t1
        if lp.status == "kOptimal" and lp.x is not None:
            x_lp = lp.x
    if obj is not None:  # the returned point, recomputed, ends the first phase's trace
        tol = 1e-6 * max(1.0, abs(obj))
        found = [t for t, o in trace if abs(o - obj) <= tol]
        trace = [(t, o) for t, o in trace if o > obj + tol]
        trace.append((found[0] if found else offset + first_s, obj))
    return Start(x=x, objective=obj, x_lp=x_lp, dual_bound=sub.dual_bound, proven_optimal=proven,
                 status=sub.status, first_s=first_s, lp_s=lp_s, trace=trace)


# --- the ALNS loop -----------------------------------------------------------------------------


class MipState:
    """An ALNS state: a point and its (internal) objective."""

    def __init__(self, x: np.ndarray, obj: float, operator: str = "", adopted: float | None = None) -> None:
        self.x, self.obj, self.operator, self.adopted = x, obj, operator, adopted

    def objective(self) -> float:
        return self.obj


@dataclass
class _Pending:
    """What a destroy operator hands the repair: the state to work from and the operator."""

    state: MipState
    spec: ops.OperatorSpec


def _policy(cfg: Config) -> Any:
    from mabwiser.mab import LearningPolicy

    if cfg.policy == "softmax":
        return LearningPolicy.Softmax(tau=cfg.tau)
    if cfg.policy == "epsilon_greedy":
        return LearningPolicy.EpsilonGreedy(epsilon=cfg.epsilon)
    return LearningPolicy.ThompsonSampling()


def _acceptance(cfg: Config, scale_objective: float) -> Any:
    from alns.accept import HillClimbing, SimulatedAnnealing

    if cfg.accept == "hill_climbing":
        return HillClimbing()
    scale = 1.0
    if cfg.temperature == "relative":  # per mille of the first incumbent's magnitude
        scale = max(abs(scale_objective), 1e-6) / 1000.0
    step = cfg.sa_step * scale if cfg.sa_method == "linear" else cfg.sa_step
    return SimulatedAnnealing(cfg.sa_start * scale, cfg.sa_end * scale, step, method=cfg.sa_method)


class Search:
    """One ALNS run on `model` from `start` until `deadline` (or `max_iterations`)."""

    def __init__(self, model: MipModel, cfg: Config, start: Start, deadline: float, t0: float,
                 progress: Progress, board: Board | None = None, max_iterations: int | None = None) -> None:
        self.model, self.cfg, self.start = model, cfg, start
        self.deadline, self.t0, self.progress, self.board = deadline, t0, progress, board
        self.max_iterations = max_iterations
        # sub-MIP limits: the configured ones, at most a share of the budget when sub_fraction is set
        cap = max(1.0, cfg.sub_fraction * (deadline - t0)) if cfg.sub_fraction > 0 else np.inf
        self.iteration_time = min(cfg.iteration_time, cap)
        self.lb_time = min(cfg.lb_time, cap)
        self.crossover_time = min(cfg.crossover_time, cap)
        self.trace = Trace()
        self.best_obj = float(start.objective)
        self.best_x = start.x
        self.iterations = 0
        self.stop_reason = "not started"
        self.dropped: dict[str, str] = {}
        self.specs = []
        for spec in cfg.operators:
            why = ops.applicable(spec, model)
            if why is None and spec.uses_lp and start.x_lp is None:
                why = "no LP relaxation"
            if why:
                self.dropped[spec.name] = why
            else:
                self.specs.append(spec)
        d = model.discrete
        self.fractional = np.zeros(0, dtype=np.int64)
        if start.x_lp is not None and d.size:
            xl = start.x_lp[d]
            self.fractional = d[np.abs(xl - np.round(xl)) > 1e-6]

    def remaining(self) -> float:
        return self.deadline - time.time()

    # alns callables ---------------------------------------------------------------------------
    def _destroy(self, spec: ops.OperatorSpec):
        def destroy(state: MipState, rng: np.random.Generator, **_: Any) -> _Pending:
            if self.board is not None:
                shared = self._adopt()
                if shared is not None:
                    state = shared
            return _Pending(state=state, spec=spec)

        destroy.__name__ = spec.name
        return destroy

    def _adopt(self) -> MipState | None:
        """The portfolio's best incumbent, if it beats this worker's."""
        tol = 1e-9 * max(1.0, abs(self.best_obj))
        if self.board.best_objective() >= self.best_obj - tol:
            return None
        got = self.board.best()
        if got is None or not self.model.is_feasible(got[1]):
            return None
        return MipState(got[1], got[0], operator="shared", adopted=got[0])

    def _repair(self, pending: _Pending, rng: np.random.Generator, **_: Any) -> MipState:
        spec, base = pending.spec, pending.state
        mdl, cfg = self.model, self.cfg
        t_it = time.time()
        remaining = self.remaining()
        cap = self.lb_time if spec.kind == "local_branching" else self.iteration_time
        ctx = ops.Context(model=mdl, x_inc=base.x, obj_inc=base.obj, x_lp=self.start.x_lp,
                          fractional=self.fractional, big_m=cfg.big_m, fix_continuous=cfg.fix_continuous,
                          crossover_time=max(min(self.crossover_time, 0.5 * remaining), MIN_SOLVE_S))
        x_new = None
        with mdl.changes() as ch:
            start = ops.apply(spec, ctx, ch, rng)
            limit = min(cap, self.remaining())
            if limit > MIN_SOLVE_S * 0.5:
                sub = mdl.solve(limit, start=start)
                x_new = sub.x
        self.trace.it_seconds.append(time.time() - t_it)
        if x_new is not None:
            x_new = mdl.clean(x_new)
            if mdl.is_feasible(x_new):
                obj = mdl.objective(x_new)
                if abs(obj - base.obj) <= 1e-9 * max(1.0, abs(base.obj)):
                    obj = base.obj  # round-off is no improvement (alns compares strictly)
                return MipState(x_new, obj, operator=spec.name, adopted=base.adopted)
        return MipState(base.x, base.obj, operator=spec.name, adopted=base.adopted)

    def _stop(self, rng: np.random.Generator | None, best: MipState, curr: MipState | None) -> bool:
        if self.max_iterations is not None and self.iterations >= self.max_iterations:
            self.stop_reason = "iteration_limit"
        elif self.remaining() <= MIN_SOLVE_S:
            self.stop_reason = "time_limit"
        elif self.start.dual_bound is not None and best.obj - self.start.dual_bound <= 1e-6 + 1e-9 * abs(best.obj):
            self.stop_reason = "optimal"  # the incumbent meets HiGHS's bound
        else:
            return False
        return True

    def _on_update(self, cand: MipState, d_idx: int, outcome: Any, reward: float) -> None:
        now = time.time() - self.t0
        spec = self.specs[d_idx]
        self.iterations += 1
        tr = self.trace
        tr.it_time.append(now)
        tr.it_operator.append(spec.name)
        tr.it_outcome.append(outcome.name.lower())
        tr.it_reward.append(reward)
        tr.it_objective.append(cand.obj)
        tol = 1e-9 * max(1.0, abs(self.best_obj))
        if cand.obj < self.best_obj - tol:
            own = cand.adopted is None or cand.obj < cand.adopted - tol
            self.best_obj, self.best_x = cand.obj, cand.x
            tr.add_incumbent(now, cand.obj, spec.name if own else "shared")
            if self.board is not None:
                self.board.offer(cand.obj, cand.x)
            self.progress.line(f"it {self.iterations:4d}  {spec.name:<20s} new best {self.progress.fmt(cand.obj)}"
                               f"  bound {self.progress.fmt(self.start.dual_bound)}  reward {reward:g}",
                               important=True)
        else:
            self.progress.line(f"it {self.iterations:4d}  {spec.name:<20s} cand {self.progress.fmt(cand.obj)}"
                               f"  best {self.progress.fmt(self.best_obj)}  {outcome.name.lower()}"
                               f"  reward {reward:g}")

    def run(self) -> None:
        """Iterate until the deadline; the best point is in best_x / best_obj."""
        if not self.specs:
            self.stop_reason = "no operators"
            return
        if self._stop(None, MipState(self.best_x, self.best_obj), None):
            return
        from alns import ALNS
        from alns.Outcome import Outcome
        from alns.select import MABSelector

        search = self

        class _Selector(MABSelector):
            def update(self, cand: MipState, d_idx: int, r_idx: int, outcome: Outcome) -> None:  # type: ignore[override]
                credited = outcome
                if cand.adopted is not None and cand.obj >= cand.adopted - 1e-9 * max(1.0, abs(cand.obj)):
                    # the improvement came from another worker, not from this operator
                    credited = Outcome.ACCEPT if outcome in (Outcome.BEST, Outcome.BETTER) else outcome
                super().update(cand, d_idx, r_idx, credited)
                search._on_update(cand, d_idx, outcome, self.scores[credited])
                cand.adopted = None  # as the current state, it is this worker's own from now on

        rng = np.random.default_rng(self.cfg.seed)
        alns = ALNS(rng)
        for spec in self.specs:
            alns.add_destroy_operator(self._destroy(spec), name=spec.name)
        alns.add_repair_operator(self._repair, name="highs")
        selector = _Selector(list(self.cfg.scores), len(self.specs), 1, _policy(self.cfg), seed=self.cfg.seed)
        accept = _acceptance(self.cfg, self.best_obj)
        alns.iterate(MipState(self.start.x, self.best_obj, operator="first"), selector, accept, self._stop)
