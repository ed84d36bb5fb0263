"""The conformance suite every backend runs (shipped in the package).

Problems are inline `.opt` text with known answers. A backend's test file is a few lines::

    import pytest
    from optdsl.conformance import CASES, Config, expected_skips_match, run_case

    CONFIG = Config(backend="highs", exclude={"nonlinear"})
    EXPECTED_SKIPS = {"nlp_hs6": "needs nonlinear"}

    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
    def test_conformance(case):
        run_case(case, CONFIG)

    def test_skips():
        assert expected_skips_match(CONFIG, EXPECTED_SKIPS)

A case needing a feature in `Config.exclude` is skipped with that reason; the expected-skip list
makes every skip explicit, so nothing is skipped silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from optdsl.conformance.problems import PROBLEMS, Case
from optdsl.results import SolutionStatus, TerminationStatus

__all__ = ["CASES", "Case", "Config", "run_case", "skip_reason", "expected_skips_match"]

CASES: list[Case] = PROBLEMS


@dataclass
class Config:
    backend: str
    rtol: float = 1e-6
    atol: float = 1e-6
    seed: int = 0
    time_limit: float | None = 60.0
    exclude: set[str] = field(default_factory=set)  # features this backend does not handle
    options: dict[str, Any] = field(default_factory=dict)
    # statuses accepted in place of the case's own (e.g. locally_optimal for local NLP methods)
    accept_solution: set[SolutionStatus] = field(
        default_factory=lambda: {SolutionStatus.OPTIMAL, SolutionStatus.LOCALLY_OPTIMAL}
    )


def skip_reason(case: Case, config: Config) -> str | None:
    lacking = sorted(case.features & config.exclude)
    return f"needs {', '.join(lacking)}" if lacking else None


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
    assert result.status == TerminationStatus.OPTIMAL, (
        f"{case.name}: expected optimal, got {result.status.value} ({result.message})")
    assert result.solution_status in config.accept_solution, result.solution_status
    tol = config.atol + config.rtol * abs(case.objective)
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
