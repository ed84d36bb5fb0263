"""The sketch_newton options schema (light: numpy-free, scipy-free; the backend's entry-point
module imports it). Defaults are the reference code's CUTEst settings (Param.jl)."""

from __future__ import annotations

from optdsl.backends import Option

SKETCHES = ("kaczmarz", "gaussian", "block", "direct", "minres")
NORMS = ("frobenius", "spectral")
SINGULAR_TESTS = ("absolute", "relative")
THETA_SCHEDULES = ("kkt", "geometric")

OPTIONS: dict[str, Option] = {
    "sketch": Option(str, "auto", "inner solver; auto = kaczmarz up to auto_size rows, minres above "
                     "or when a sketch stalls", choices=("auto", *SKETCHES)),
    "auto_size": Option(int, 1000, "auto: the largest n + m that starts with the kaczmarz sketch"),
    "block_size": Option(int, 8, "columns of the block sketch"),
    "block_kind": Option(str, "count", "block sketch matrix", choices=("count", "gaussian")),
    "eta1": Option(float, 1.0, "initial merit penalty on ||c||^2"),
    "eta2": Option(float, 0.1, "initial merit penalty on ||grad_x L||^2"),
    "delta": Option(float, 0.1, "initial accuracy parameter, in (0, 1]"),
    "beta": Option(float, 0.1, "Armijo constant, in (0, 0.5)"),
    "nu": Option(float, 1.5, "penalty growth factor, > 1"),
    "xi_b": Option(float, 0.1, "Hessian-modification margin"),
    "tol": Option(float, 1e-4, "KKT tolerance on ||(grad_x L, c)||"),
    "max_iter": Option(int, 10_000, "outer iterations"),
    "max_inner": Option(int, 100_000, "inner steps per solve (the reference: 1e5 CUTEst, PDE-Kaczmarz; "
                        "1e6 PDE-Gaussian, logistic)"),
    "norm": Option(str, "frobenius", "matrix norm in psi, Upsilon, ||K|| and the Hessian shift "
                   "(frobenius: the reference code's)", choices=NORMS),
    "singular_test": Option(str, "absolute", "singular stop: absolute lambda_min(GG^T) < singular_tol "
                            "(the reference's), or relative to ||G||_F^2", choices=SINGULAR_TESTS),
    "singular_tol": Option(float, 1e-2, "absolute singularity threshold"),
    "singular_rtol": Option(float, 1e-14, "relative singularity threshold"),
    "superlinear": Option(bool, False, "sharpen the accuracy condition by theta_k -> 0"),
    "theta_schedule": Option(str, "kkt", "superlinear: theta_k = min(1, ||grad L_k||^theta_power) (kkt) "
                             "or theta_rate^k (geometric)", choices=THETA_SCHEDULES),
    "theta_power": Option(float, 1.0, "kkt schedule exponent"),
    "theta_rate": Option(float, 0.5, "geometric schedule ratio, in (0, 1)"),
    "slacks": Option(bool, False, "rewrite inequalities and bounds with squared slacks"),
    "log_every": Option(int, 0, "progress line every k iterations (1 with --verbose)"),
    "progress_after": Option(float, 10.0, "seconds after which a quiet run prints progress (negative: never)"),
    "progress_every": Option(float, 5.0, "seconds between progress lines of a long run"),
    "dense_limit": Option(int, 1500, "n + m up to which linear algebra is dense"),
    "seed": Option(int, None, "overrides the global seed"),
}  # fmt: skip
