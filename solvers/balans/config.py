"""Balans configurations: the option values a search runs with, and the named presets.

Presets (`balans.preset=NAME`) reproduce the configurations shipped with the Balans 2.2.0 package:
`ijcai25_softmax` (dmiplib_sa_sm_linear.json) and `ijcai25_thompson` (miplib_sa_ts_same.json), both
with the 16 IJCAI'25 operators and simulated annealing 20 -> 1 (step 0.1, linear) on the absolute
scale, and `package_default` (default.json). `auto` (the default) is tuned for short budgets:
see docs/balans.md. Options the user gives override the preset's values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from optdsl.errors import SolverError, did_you_mean

from .operators import OperatorSpec, parse_operators

IJCAI25_OPERATORS = (
    "crossover,mutation_25,mutation_50,mutation_75,local_branching_10,local_branching_25,local_branching_50,"
    "proximity_005,proximity_015,proximity_030,rens_25,rens_50,rens_75,rins_25,rins_50,rins_75"
)
PACKAGE_DEFAULT_OPERATORS = (
    "crossover,mutation_50,rins_40,rens_40,rens_50,proximity_005,"
    "local_branching_10,local_branching_20,local_branching_30,local_branching_50"
)
POLICIES = ("softmax", "epsilon_greedy", "thompson")
ACCEPTANCE = ("hill_climbing", "simulated_annealing")


@dataclass
class Config:
    """One search configuration (internal minimization; temperatures as given by the user)."""

    operators: list[OperatorSpec]
    policy: str = "softmax"
    tau: float = 1.359686
    epsilon: float = 0.15
    scores: tuple[float, float, float, float] = (8.0, 4.0, 2.0, 1.0)
    accept: str = "hill_climbing"
    sa_start: float = 20.0
    sa_end: float = 1.0
    sa_step: float = 0.1
    sa_method: str = "linear"
    temperature: str = "relative"  # "relative" (per mille of |f(first incumbent)|) or "absolute"
    first_time: float = 10.0  # seconds for the first incumbent (capped by first_fraction of the budget)
    first_fraction: float = 0.3
    # stop the first solve once it has not improved for max(first_stall x budget, the time its last
    # improvement took); 0 keeps it running to its limit (the package's behaviour)
    first_stall: float = 0.0
    sub_fraction: float = 0.0  # if > 0, sub-MIP limits are at most max(1 s, sub_fraction x budget)
    iteration_time: float = 6.0  # seconds per sub-MIP
    lb_time: float = 15.0  # seconds for a local-branching sub-MIP
    crossover_time: float = 6.0  # seconds for crossover's random solution
    big_m: float = 1000.0
    fix_continuous: bool = True
    seed: int = 1283
    extra: dict[str, Any] = field(default_factory=dict)


def _cfg(ops: str, **kw: Any) -> dict[str, Any]:
    return {"operators": ops, **kw}


PRESETS: dict[str, dict[str, Any]] = {
    "auto": _cfg(
        "rins_25,rins_50,mutation_25,mutation_50,rens_50,local_branching_10,local_branching_25,"
        "proximity_005,crossover,dins",
        policy="softmax", tau=2.0, scores="3,2,1,0", accept="simulated_annealing", temperature="relative",
        first_time=600.0, first_fraction=0.5, first_stall=0.25, iteration_time=10.0, lb_time=10.0,
        crossover_time=5.0, sub_fraction=0.05, fix_continuous=False,
    ),
    "ijcai25_softmax": _cfg(
        IJCAI25_OPERATORS, policy="softmax", tau=2.0, scores="3,2,1,0", accept="simulated_annealing",
        sa_start=20.0, sa_end=1.0, sa_step=0.1, sa_method="linear", temperature="absolute",
        first_time=20.0, first_fraction=1.0, iteration_time=60.0, lb_time=150.0, crossover_time=20.0, seed=1283,
    ),
    "ijcai25_thompson": _cfg(
        IJCAI25_OPERATORS, policy="thompson", scores="1,1,0,0", accept="simulated_annealing",
        sa_start=20.0, sa_end=1.0, sa_step=0.1, sa_method="linear", temperature="absolute",
        first_time=20.0, first_fraction=1.0, iteration_time=60.0, lb_time=150.0, crossover_time=20.0, seed=1283,
    ),
    "package_default": _cfg(
        PACKAGE_DEFAULT_OPERATORS, policy="softmax", tau=1.359686, scores="8,4,2,1", accept="hill_climbing",
        first_time=10.0, first_fraction=1.0, iteration_time=12.0, lb_time=15.0, crossover_time=6.0, seed=1283,
    ),
}

# option key -> Config field, for the keys that are plain fields
_FIELD_KEYS = {f.name for f in fields(Config)} - {"operators", "extra", "scores"}


def parse_scores(value: Any) -> tuple[float, float, float, float]:
    items = value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",")
    try:
        vals = tuple(float(v) for v in items)
    except ValueError:
        raise SolverError(f"balans.scores must be four numbers (best, better, accept, reject); got '{value}'") from None
    if len(vals) != 4 or min(vals) < 0:
        raise SolverError(
            f"balans.scores must be four non-negative numbers (best, better, accept, reject); got '{value}'")
    return vals  # type: ignore[return-value]


def build_config(values: dict[str, Any], seed: int | None = None) -> Config:
    """The preset named by `values['preset']` with the other given values on top."""
    preset = str(values.get("preset") or "auto")
    if preset not in PRESETS:
        raise SolverError(f"unknown balans preset '{preset}'",
                          hint=did_you_mean(preset, list(PRESETS)) or f"presets: {', '.join(PRESETS)}")
    merged = dict(PRESETS[preset])
    merged.update({k: v for k, v in values.items() if v is not None and k != "preset"})
    cfg = Config(operators=parse_operators(merged.pop("operators")))
    cfg.scores = parse_scores(merged.pop("scores", "8,4,2,1"))
    for key, val in merged.items():
        if key in _FIELD_KEYS:
            setattr(cfg, key, _coerce(key, getattr(cfg, key), val))
    if seed is not None:
        cfg.seed = int(seed)
    validate(cfg)
    return cfg


def _coerce(key: str, current: Any, val: Any) -> Any:
    """`val` (a CLI string or a Python value) as the type of the field's default."""
    try:
        if isinstance(current, bool):
            if isinstance(val, str):
                return {"true": True, "1": True, "yes": True, "on": True,
                        "false": False, "0": False, "no": False, "off": False}[val.strip().lower()]
            return bool(val)
        return type(current)(val)
    except (KeyError, ValueError, TypeError):
        raise SolverError(f"balans.{key} takes {type(current).__name__}; got '{val}'") from None


def validate(cfg: Config) -> None:
    if cfg.policy not in POLICIES:
        raise SolverError(f"unknown balans policy '{cfg.policy}'", hint=f"policies: {', '.join(POLICIES)}")
    if cfg.accept not in ACCEPTANCE:
        raise SolverError(f"unknown balans acceptance '{cfg.accept}'", hint=f"choices: {', '.join(ACCEPTANCE)}")
    if cfg.policy == "thompson" and any(s not in (0.0, 1.0) for s in cfg.scores):
        raise SolverError(
            "Thompson sampling needs binary rewards; balans.scores is " + ",".join(f"{s:g}" for s in cfg.scores),
            hint="use balans.scores=1,1,0,0 (or 1,1,1,0)",
        )
    if cfg.accept == "simulated_annealing":
        if not (cfg.sa_start > 0 and cfg.sa_end > 0 and cfg.sa_start >= cfg.sa_end and cfg.sa_step >= 0):
            raise SolverError("balans simulated annealing needs sa_start >= sa_end > 0 and sa_step >= 0")
        if cfg.sa_method not in ("linear", "exponential"):
            raise SolverError("balans.sa_method must be linear or exponential")
        if cfg.sa_method == "exponential" and cfg.sa_step > 1:
            raise SolverError("balans.sa_step must be at most 1 for exponential cooling")
    if cfg.temperature not in ("relative", "absolute"):
        raise SolverError("balans.temperature must be relative or absolute")
    if cfg.policy == "softmax" and cfg.tau <= 0:
        raise SolverError("balans.tau must be positive")
    if cfg.policy == "epsilon_greedy" and not 0 <= cfg.epsilon <= 1:
        raise SolverError("balans.epsilon must lie in [0, 1]")
    for name in ("first_time", "iteration_time", "lb_time", "crossover_time"):
        if getattr(cfg, name) <= 0:
            raise SolverError(f"balans.{name} must be positive")
    if not 0 <= cfg.sub_fraction < 1:
        raise SolverError("balans.sub_fraction must lie in [0, 1)")
    if not 0 <= cfg.first_stall < 1:
        raise SolverError("balans.first_stall must lie in [0, 1)")
    if not 0 < cfg.first_fraction <= 1:
        raise SolverError("balans.first_fraction must lie in (0, 1]")


def variant(cfg: Config, k: int) -> Config:
    """The k-th configuration of a portfolio: worker 0 runs `cfg`; the others change the seed and
    cycle through the three policies (with rewards each policy accepts)."""
    if k == 0:
        return cfg
    policy = POLICIES[(POLICIES.index(cfg.policy) + k) % len(POLICIES)]
    scores = cfg.scores
    if policy == "thompson":
        scores = (1.0, 1.0, 0.0, 0.0)
    elif cfg.policy == "thompson":
        scores = (3.0, 2.0, 1.0, 0.0)
    return replace(cfg, policy=policy, scores=scores, seed=cfg.seed + 7919 * k)
