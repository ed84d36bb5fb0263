"""The `balans` backend: bandit-based adaptive large neighbourhood search for MILP over HiGHS
(Balans, Cai, Kadioglu & Dilkina, IJCAI 2025; ParBalans portfolios).

This module stays light (optdsl core and numpy only): highspy, alns, MABWiser and Ray are imported
by `solve()`. The search lives in `runner.py`, `search.py`, `operators.py`, `mip.py`,
`portfolio.py`; the presets in `config.py`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from optdsl.backends import Backend, Option, SolveOptions
from optdsl.errors import SolverError, did_you_mean
from optdsl.results import Result, TerminationStatus

_T = TerminationStatus

OPTIONS: dict[str, Option] = {
    "preset": Option(str, "auto", "named configuration: auto (short budgets), ijcai25_softmax, ijcai25_thompson, "
                     "package_default", choices=("auto", "ijcai25_softmax", "ijcai25_thompson", "package_default")),
    "operators": Option(str, None, "comma-separated destroy operators, e.g. rins_25,mutation_50,local_branching_10,"
                        "proximity_005,rens_50,dins,crossover (default: the preset's)"),
    "policy": Option(str, None, "bandit policy (default: the preset's)",
                     choices=("softmax", "epsilon_greedy", "thompson")),
    "tau": Option(float, None, "softmax temperature"),
    "epsilon": Option(float, None, "epsilon of epsilon-greedy"),
    "scores": Option(str, None, "rewards for best,better,accept,reject (e.g. 3,2,1,0; Thompson: 1,1,0,0)"),
    "accept": Option(str, None, "acceptance criterion", choices=("hill_climbing", "simulated_annealing")),
    "sa_start": Option(float, None, "simulated annealing start temperature"),
    "sa_end": Option(float, None, "simulated annealing end temperature"),
    "sa_step": Option(float, None, "simulated annealing step (subtracted per iteration if linear, factor if "
                      "exponential)"),
    "sa_method": Option(str, None, "cooling", choices=("linear", "exponential")),
    "temperature": Option(str, None, "relative: temperatures in per mille of |first incumbent objective|; "
                          "absolute: as given (the package's behaviour)", choices=("relative", "absolute")),
    "time_limit": Option(float, None, "overall seconds (default: --time-limit, else 60)"),
    "first_time": Option(float, None, "seconds for the first incumbent (capped by first_fraction of the budget)"),
    "first_fraction": Option(float, None, "largest share of the budget the first solve may take"),
    "first_stall": Option(float, None, "end the first solve once it has not improved for this share of the "
                          "budget and for as long as its last improvement took (0: never)"),
    "sub_fraction": Option(float, None, "if > 0, every sub-MIP limit is at most max(1 s, this share of the budget)"),
    "iteration_time": Option(float, None, "seconds per sub-MIP (shrinks to the time left)"),
    "lb_time": Option(float, None, "seconds per local-branching sub-MIP"),
    "crossover_time": Option(float, None, "seconds for crossover's random solution"),
    "big_m": Option(float, None, "proximity's penalty on the objective-cutoff slack"),
    "fix_continuous": Option(bool, None, "operators fix continuous variables too (the package's behaviour)"),
    "seed": Option(int, None, "seed (default: --seed, else the preset's)"),
    "max_iterations": Option(int, None, "stop after this many ALNS iterations (per worker)"),
    "workers": Option(int, 1, "portfolio size: seeded configurations searching in parallel, sharing the best "
                      "incumbent"),
    "ray_address": Option(str, "", "run the portfolio on this Ray cluster ('auto', 'ray://host:port', or 'local'); "
                          "default: RAY_ADDRESS if set, else local processes"),
    "reference": Option(float, None, "known optimal or best objective: primal gap and primal integral"),
    "progress": Option(str, "auto", "progress lines on stderr: auto (verbose, or budgets of 30 s and more), "
                       "on, off", choices=("auto", "on", "off", "true", "false")),
}

_BOOL = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


def option_values(given: dict[str, Any]) -> dict[str, Any]:
    """`given` checked against OPTIONS, converted to the declared types, defaults filled in."""
    out = {k: o.default for k, o in OPTIONS.items()}
    for key, val in (given or {}).items():
        key = str(key).removeprefix("balans.")
        if key not in OPTIONS:
            raise SolverError(f"unknown balans option '{key}'",
                              hint=did_you_mean(key, list(OPTIONS)) or f"options: {', '.join(OPTIONS)}")
        opt = OPTIONS[key]
        try:
            if opt.type is bool and isinstance(val, str):
                val = _BOOL[val.strip().lower()]
            elif val is not None:
                val = opt.type(val)
        except (KeyError, ValueError, TypeError):
            raise SolverError(f"balans.{key} takes {opt.type.__name__}; got '{val}'") from None
        if opt.choices and val is not None and val not in opt.choices:
            raise SolverError(f"balans.{key} must be one of {', '.join(map(str, opt.choices))}; got '{val}'",
                              hint=did_you_mean(str(val), [str(c) for c in opt.choices]))
        out[key] = val
    return out


class BalansBackend(Backend):
    """Bandit-based ALNS over HiGHS for MILP (heuristic: reports `optimal` only when HiGHS's bound
    proves it)."""

    name: ClassVar[str] = "balans"
    description: ClassVar[str] = "Balans: bandit-based adaptive large neighbourhood search for MILP over HiGHS"
    features: ClassVar[frozenset[str]] = frozenset({"linear", "integer", "inequalities"})
    form: ClassVar[str] = "lp"
    requires: ClassVar[tuple[str, ...]] = ("highspy", "alns", "mabwiser")
    priority: ClassVar[int] = 50
    options: ClassVar[dict[str, Option]] = OPTIONS
    status_map: ClassVar[dict[str, TerminationStatus]] = {
        "kOptimal": _T.OPTIMAL, "kInfeasible": _T.INFEASIBLE, "kUnbounded": _T.UNBOUNDED,
        "kUnboundedOrInfeasible": _T.INFEASIBLE_OR_UNBOUNDED, "kTimeLimit": _T.TIME_LIMIT,
        "kInterrupt": _T.INTERRUPTED, "kSolutionLimit": _T.ITERATION_LIMIT,
    }  # fmt: skip
    abilities: ClassVar[frozenset[str]] = frozenset({"bound", "incumbent_trace", "history"})

    def solve(self, form: Any, options: SolveOptions) -> Result:
        from .runner import solve

        return solve(form, options, option_values(options.backend_options), self.name)
