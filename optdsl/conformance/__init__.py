"""The conformance suite every backend runs (shipped in the package).

Problems are inline `.opt` text with known answers. A backend's test file is a few lines::

    import pytest
    from optdsl.conformance import CASES, Config, expected_skips_match, run_case

    CONFIG = Config(backend="highs")
    EXPECTED_SKIPS = {"nlp_hs6": "highs cannot take nonlinear (smooth nonlinear functions)"}

    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
    def test_conformance(case):
        run_case(case, CONFIG)

    def test_skips():
        assert expected_skips_match(CONFIG, EXPECTED_SKIPS)

Skips follow from declarations, never from a list kept by hand: a case runs when the chooser finds
a plan (the backend, possibly behind passes) for the features of the case's own model, and when
the backend declares the result abilities the case checks (`duals`; `certificates` for the
infeasible and unbounded cases). The expected-skip list makes every skip explicit, so nothing is
skipped silently. Heuristic backends set `heuristic=True`: a feasible solution at a time or
iteration limit then passes, as long as its objective is what the point really gives and no better
than the known optimum (a heuristic must never state a better value than it has), within `gap`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from optdsl.conformance.problems import PROBLEMS, Case
from optdsl.results import SolutionStatus, TerminationStatus

__all__ = ["CASES", "Case", "Config", "case_features", "cases_for", "expected_skips_match", "run_case", "skip_reason"]

CASES: list[Case] = PROBLEMS


@dataclass
class Config:
    backend: str
    rtol: float = 1e-6
    atol: float = 1e-6
    seed: int = 0
    time_limit: float | None = 60.0
    options: dict[str, Any] = field(default_factory=dict)
    # statuses accepted in place of the case's own (e.g. locally_optimal for local NLP methods)
    accept_solution: set[SolutionStatus] = field(
        default_factory=lambda: {SolutionStatus.OPTIMAL, SolutionStatus.LOCALLY_OPTIMAL}
    )
    heuristic: bool = False  # feasible at a limit passes, within `gap` of the optimum
    gap: float = 0.0  # relative gap a heuristic's objective may have


# Tags of a case that ask for a result ability rather than a model feature.
_ABILITY_OF_TAG = {"duals": "duals", "infeasible": "certificates", "unbounded": "certificates"}


def case_features(case: Case) -> set[str]:
    """The features of the case's model, as the chooser sees them (from its IR)."""
    if case.name not in _FEATURE_CACHE:
        from optdsl.api.model import parse_model

        _FEATURE_CACHE[case.name] = parse_model(case.text, name=f"{case.name}.opt").ir.features()
    return set(_FEATURE_CACHE[case.name])


_FEATURE_CACHE: dict[str, set[str]] = {}


def skip_reason(case: Case, config: Config) -> str | None:
    """Why `config.backend` does not run `case`, from its declarations; None when it does."""
    from optdsl import backends
    from optdsl.lower import chain

    cls = backends.get(config.backend)
    feats = case_features(case)
    if not chain.plans(feats, backend=cls.name, installed_only=False):
        return f"{cls.name} cannot take {chain.describe(chain.lacking(feats, cls) or feats)}"
    lacking = sorted({_ABILITY_OF_TAG[t] for t in case.features if t in _ABILITY_OF_TAG} - cls.abilities)
    if lacking:
        return f"{cls.name} does not declare {', '.join(lacking)}"
    return None


def cases_for(backend: str) -> list[Case]:
    """The cases a backend runs."""
    cfg = Config(backend=backend)
    return [c for c in CASES if skip_reason(c, cfg) is None]


def expected_skips_match(config: Config, expected: dict[str, str]) -> bool:
    actual = {c.name: skip_reason(c, config) for c in CASES if skip_reason(c, config)}
    if actual != expected:
        raise AssertionError(f"skips differ from the expected list:\n actual:   {actual}\n expected: {expected}")
    return True


def run_case(case: Case, config: Config, skip: Callable[[str], None] | None = None) -> None:
    """Solve `case` with the configured backend and assert its known answer."""
    reason = skip_reason(case, config)
    if reason:
        if skip is None:
            import pytest

            skip = pytest.skip
        skip(reason)
        return
    from optdsl.api.model import parse_model

    model = parse_model(case.text, name=f"{case.name}.opt", seed=config.seed)
    options = dict(config.options)
    options.update(case.options)
    time_limit = case.time_limit if case.time_limit is not None else config.time_limit
    result = model.solve(solver=config.backend, time_limit=time_limit, seed=config.seed, **options)
    expect = case.status
    if expect == TerminationStatus.INFEASIBLE:
        assert result.status in (TerminationStatus.INFEASIBLE, TerminationStatus.INFEASIBLE_OR_UNBOUNDED), (
            f"{case.name}: expected infeasible, got {result.status.value}")
        assert result.solution_status == SolutionStatus.NONE
        return
    if expect == TerminationStatus.UNBOUNDED:
        assert result.status in (TerminationStatus.UNBOUNDED, TerminationStatus.INFEASIBLE_OR_UNBOUNDED), (
            f"{case.name}: expected unbounded, got {result.status.value}")
        return
    if expect == TerminationStatus.TIME_LIMIT:
        assert result.status == TerminationStatus.TIME_LIMIT, f"{case.name}: got {result.status.value}"
        return
    tol = config.atol + config.rtol * abs(case.objective)
    if config.heuristic and result.status in (TerminationStatus.TIME_LIMIT, TerminationStatus.ITERATION_LIMIT):
        assert result.solution_status == SolutionStatus.FEASIBLE, f"{case.name}: {result.solution_status}"
        _check_heuristic(case, model, result, tol, config.gap)
        return
    assert result.status == TerminationStatus.OPTIMAL, (
        f"{case.name}: expected optimal, got {result.status.value} ({result.message})")
    assert result.solution_status in config.accept_solution, result.solution_status
    assert abs(result.objective - case.objective) <= tol, (
        f"{case.name}: objective {result.objective} != {case.objective}")
    for (name, index), value in case.values.items():
        got = result.value(name, *index)
        assert abs(got - value) <= config.atol * 10 + config.rtol * abs(value) * 10, (
            f"{case.name}: {name}{list(index)} = {got}, expected {value}")
    for (name, index), value in case.duals.items():
        duals = result.duals[name]
        got = duals[tuple(index)] if isinstance(duals, dict) else duals
        assert abs(got - value) <= 1e-6 + 1e-6 * abs(value), f"{case.name}: dual {name}{list(index)} = {got}"


def _check_heuristic(case: Case, model: Any, result: Any, tol: float, gap: float) -> None:
    """A heuristic's objective is the value of its point, and no better than the optimum."""
    from optdsl.eval.numpy_eval import expr_value

    obj = model.ir.objective
    true = float(expr_value(obj.expr, result.x)[0])
    assert abs(true - result.objective) <= tol, f"{case.name}: states {result.objective}, its point gives {true}"
    sign = 1.0 if obj.sense == "min" else -1.0
    assert sign * (result.objective - case.objective) >= -tol, f"{case.name}: better than the optimum"
    assert sign * (result.objective - case.objective) <= tol + gap * abs(case.objective), (
        f"{case.name}: objective {result.objective} is more than {gap:.0%} from {case.objective}")
