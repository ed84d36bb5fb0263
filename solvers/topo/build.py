"""From a DAGForm (or plain arrays) to the Score objects the search runs on."""

from __future__ import annotations

import numpy as np

from optdsl.errors import SolverError
from optdsl.lower.dag import LogisticDecomposition, QuadraticDecomposition, SmoothDecomposition
from optdsl.lower.forms import DAGForm

from .scores import GramScore, LogisticScore, QuadraticScore, Score, SmoothScore


def score_of(form: DAGForm, generic: bool = False) -> Score:
    """The score of `form`: the recognized decomposition, or (generic=True or nothing
    recognized) the model's own objective and gradient through the NLPForm."""
    dec = form.decomposition
    d = form.d
    allowed = None
    if form.forbidden is not None:
        off = ~np.eye(d, dtype=bool)
        if np.any(form.forbidden & off):
            allowed = ~form.forbidden
    if generic or dec is None or isinstance(dec, SmoothDecomposition):
        l1 = getattr(dec, "l1", None)
        if generic and isinstance(dec, (QuadraticDecomposition, LogisticDecomposition)):
            l1 = dec.l1
        score: Score = smooth_from_form(form, l1)
    elif isinstance(dec, QuadraticDecomposition):
        if dec.gram and dec.l1 is None:
            score = GramScore(dec.G, const=dec.const)
        else:
            score = QuadraticScore(dec.G, dec.R, const=dec.const, l1=dec.l1)
    elif isinstance(dec, LogisticDecomposition):
        score = LogisticScore(dec.Z, dec.z0, dec.omega, dec.B, dec.G, const=dec.const, l1=dec.l1)
    else:  # pragma: no cover - every decomposition kind is handled above
        raise SolverError(f"unknown score decomposition {type(dec).__name__}")
    score.allowed = allowed
    return score


def smooth_from_form(form: DAGForm, l1: np.ndarray | None) -> SmoothScore:
    """f(W) = objective - l1 terms, with its exact gradient from the NLPForm (abs' = sign, 0 at 0)."""
    nlp = form.score
    x = nlp.x0.copy()
    idx = form.w_index
    lam = l1 if l1 is not None else np.zeros((form.d, form.d))

    def fg(W: np.ndarray) -> tuple[float, np.ndarray]:
        x[idx] = W
        f = float(nlp.f(x)) - float((lam * np.abs(W)).sum())
        g = np.asarray(nlp.grad(x))[idx] - lam * np.sign(W)
        return f, g

    return SmoothScore(form.d, fg, l1=l1)
