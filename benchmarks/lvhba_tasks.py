"""The bilevel tasks of the LV-HBA checks, shared by benchmarks/bench_lvhba.py and the tests:

- SVM hyperparameter selection (examples/svm_hyper.opt) on a LIBSVM file: 500 train / 150
  validation / the rest test, per seed; the baseline is a grid search over one shared weight c
  (exp(c) = the SVM's C) with the follower solved exactly (HiGHS QP), picked by the same validation
  loss the leader minimizes.
- Data hyper-cleaning (examples/svm_hyper.opt again, with 40% of the training labels flipped): the
  leader's per-sample weights exp(c_i) learn to discount the flipped samples; the baseline is the
  same SVM trained on the noisy labels with equal weights.

Everything goes through the .opt model and optdsl's Python API; the data come from numpy arrays.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SVM_MODEL = ROOT / "examples" / "svm_hyper.opt"
CORPORA = Path(os.environ.get("OPTDSL_CORPORA", ROOT.parent / "shared" / "corpora"))


def libsvm(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_svmlight_file

    X, y = load_svmlight_file(str(CORPORA / "libsvm" / name))
    y = np.where(y > 0, 1.0, -1.0)
    return np.asarray(X.todense(), dtype=np.float64), y


def split(X: np.ndarray, y: np.ndarray, seed: int, n_train: int = 500, n_val: int = 150):
    perm = np.random.default_rng(seed).permutation(len(y))
    tr, va, te = perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]
    return (X[tr], y[tr]), (X[va], y[va]), (X[te], y[te])


def svm_data(train, val, c0: np.ndarray, warm: bool = False) -> dict:
    """The model's data; `warm` starts the follower at its exact answer to c0."""
    (Xt, yt), (Xv, yv) = train, val
    feat = [f"f{j + 1}" for j in range(Xt.shape[1])]
    d = {"FEAT": feat, "TRAIN": list(range(1, len(yt) + 1)), "VAL": list(range(1, len(yv) + 1)),
         "xtr": Xt, "ytr": yt, "xva": Xv, "yva": yv, "c0": c0}
    if warm:
        w, b = exact_svm(Xt, yt, c0)
        d.update(w0=w, b0=b, xi0=np.maximum(0.0, 1.0 - yt * (Xt @ w + b)))
    return d


def svm_model(data: dict):
    """examples/svm_hyper.opt with `data` in place of its example data file."""
    from optdsl.api.model import parse_model

    text = "\n".join(line for line in SVM_MODEL.read_text().splitlines() if not line.startswith("data "))
    return parse_model(text, data=data, name=str(SVM_MODEL))


def exact_svm(X: np.ndarray, y: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, float]:
    """The follower solved exactly: min 1/2||w||^2 + 1/2 sum exp(c_i) xi_i^2, y_i(w'x_i + b) + xi_i >= 1."""
    import scipy.sparse as sp
    from optdsl.solvers.highs.backend import HighsBackend

    from optdsl.backends import SolveOptions
    from optdsl.lower.forms import LPForm

    N, d = X.shape
    n = d + 1 + N
    A = sp.hstack([sp.csr_matrix(y[:, None] * X), sp.csr_matrix(y[:, None]), sp.identity(N)], format="csr")
    Q = sp.diags(np.concatenate([np.ones(d), [0.0], np.exp(c)])).tocsc()
    form = LPForm(c=np.zeros(n), A=A, row_lower=np.ones(N), row_upper=np.full(N, np.inf),
                  col_lower=np.full(n, -np.inf), col_upper=np.full(n, np.inf), Q=Q)
    r = HighsBackend().solve(form, SolveOptions())
    return r.x[:d], float(r.x[d])


def val_loss(w: np.ndarray, b: float, X: np.ndarray, y: np.ndarray, slope: float = 0.01) -> float:
    t = 2.0 / (1.0 + np.exp(5.0 * y * (X @ w + b) / np.linalg.norm(w))) - 1.0
    return float(np.sum(np.maximum(t, slope * t)))


def accuracy(w: np.ndarray, b: float, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.sign(X @ w + b) == y))


GRID = np.arange(-6.0, 6.01, 1.0)


def grid_search(train, val, test, grid: np.ndarray = GRID) -> dict:
    """One shared c over `grid`, the follower exact, picked by the validation loss."""
    t0 = time.perf_counter()
    best = None
    for cv in grid:
        w, b = exact_svm(*train, np.full(len(train[1]), cv))
        loss = val_loss(w, b, *val)
        if best is None or loss < best[0]:
            best = (loss, cv, w, b)
    loss, cv, w, b = best
    return {"c": float(cv), "val_loss": loss, "test_acc": accuracy(w, b, *test),
            "time_s": time.perf_counter() - t0}


def lvhba_svm(train, val, test, seed: int, max_iter: int = 80, device: str = "cpu", c_start: str = "paper",
              warm: bool = False, **options) -> dict:
    """c_start "paper": c ~ U(-6, -5) as in the authors' scripts; "zero": c = 0 (exp(c) = 1).
    `warm` starts the follower at its exact answer to the starting c."""
    if c_start == "paper":
        c0 = np.random.default_rng(1000 + seed).uniform(-6.0, -5.0, len(train[1]))
    else:
        c0 = np.zeros(len(train[1]))
    t0 = time.perf_counter()
    m = svm_model(svm_data(train, val, c0, warm=warm))
    r = m.solve(solver="lvhba", device=device, max_iter=max_iter, **options)
    wall = time.perf_counter() - t0
    d = train[0].shape[1]
    w = np.array([r.value("w", f"f{j + 1}") for j in range(d)])
    b = r.value("b")
    c = np.array(list(r.variables["c"].values()))
    w_ex, b_ex = exact_svm(*train, c)  # the follower's exact answer to the returned c
    return {"test_acc": accuracy(w, b, *test), "test_acc_exact_follower": accuracy(w_ex, b_ex, *test),
            "val_loss": val_loss(w, b, *val), "time_s": wall, "solve_s": r.times["solve_time"],
            "status": r.status.value, "gap": r.stats["lower_gap"], "c": c, "result": r}


def flip(y: np.ndarray, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    flipped = rng.random(len(y)) < rate
    return np.where(flipped, -y, y), flipped


def cleaning_split(seed: int, n_train: int = 300, n_val: int = 100, rate: float = 0.4):
    """scikit-learn's breast-cancer data, standardized on the training part; `rate` of the
    training labels flipped (validation and test labels stay clean)."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    y = np.where(y > 0, 1.0, -1.0)
    (Xt, yt), (Xv, yv), (Xs, ys) = split(X, y, seed, n_train, n_val)
    mu, sd = Xt.mean(0), Xt.std(0) + 1e-12
    Xt, Xv, Xs = (Xt - mu) / sd, (Xv - mu) / sd, (Xs - mu) / sd
    noisy, flipped = flip(yt, rate, 2000 + seed)
    return (Xt, noisy), (Xv, yv), (Xs, ys), flipped


def cleaning_run(seed: int, max_iter: int = 300, device: str = "cpu", warm: bool = True, **options) -> dict:
    """LV-HBA hyper-cleaning against the SVM trained on the noisy labels with equal weights."""
    train, val, test, flipped = cleaning_split(seed)
    w0, b0 = exact_svm(*train, np.zeros(len(train[1])))
    base = accuracy(w0, b0, *test)
    t0 = time.perf_counter()
    m = svm_model(svm_data(train, val, np.zeros(len(train[1])), warm=warm))
    r = m.solve(solver="lvhba", device=device, max_iter=max_iter, **options)
    wall = time.perf_counter() - t0
    c = np.array(list(r.variables["c"].values()))
    w, b = exact_svm(*train, c)  # the cleaned model: the SVM retrained with the learned weights
    d = train[0].shape[1]
    wo = np.array([r.value("w", f"f{j + 1}") for j in range(d)])
    # how well the weights separate flipped from clean samples: AUC of -c as a flip score
    from sklearn.metrics import roc_auc_score

    return {"baseline_acc": base, "cleaned_acc": accuracy(w, b, *test),
            "outer_acc": accuracy(wo, r.value("b"), *test), "flip_auc": float(roc_auc_score(flipped, -c)),
            "time_s": wall, "status": r.status.value}
