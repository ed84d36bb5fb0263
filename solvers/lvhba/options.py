"""The options of the `lvhba` backend: name -> (type, default, help). Parsing converts
strings from the command line or `option lvhba.KEY VALUE;` to the declared type."""

from __future__ import annotations

import math
from typing import Any

from optdsl.errors import SolverError, did_you_mean

# (type, default, help). Defaults: the step sizes, proximal weights and penalty schedule of the
# authors' convergent toy setting (alpha 0.005, beta 0.002, eta 0.03, gamma 10, c_k = (k+1)^0.3);
# they also solve the SVM and hyper-cleaning checks untuned (docs/lvhba.md).
SCHEMA: dict[str, tuple[type, Any, str]] = {
    "max_iter": (int, 5000, "iterations K"),
    "alpha": (float, 0.005, "step of the outer (x, y) update"),
    "beta": (float, 0.002, "step of the z update (proximal centre of the multipliers)"),
    "eta": (float, 0.03, "step of the inner (theta, lambda) update"),
    "gamma1": (float, 10.0, "proximal weight on theta - y (divides: ||theta - y||^2 / (2 gamma1))"),
    "gamma2": (float, 10.0, "proximal weight on lambda - z (divides)"),
    "c_lower": (float, 1.0, "penalty schedule c_k = c_lower (k+1)^p (the leader objective is scaled by 1/c_k)"),
    "p": (float, 0.3, "penalty exponent p in [0, 1/2)"),
    "r": (float, 1000.0, "multiplier box: lambda, z in [0, r] for <= rows and [-r, r] for = rows"),
    "lambda0": (float, 0.0, "starting multipliers lambda and z (clipped into their box)"),
    "inner": (str, "gauss_seidel", "the multiplier step uses g at theta+ (gauss_seidel) or at theta (jacobi)"),
    "project_follower": (bool, True, "put the follower's linear rows into the projected set C"),
    "tol_step": (float, 1e-6, "stop when ||w_{k+1} - w_k|| <= tol_step (1 + ||w_k||) ..."),
    "tol_gap": (float, 1e-4, "... and the estimated lower-level gap |f - v_gamma| <= tol_gap (1 + |f|) ..."),
    "tol_feas": (float, 1e-6, "... and the constraint violation <= tol_feas"),
    "starts": (int, 1, "independent starts run as one batch; the best (lowest F among the feasible) is returned"),
    "start_noise": (float, 0.0, "standard deviation of the random perturbation of each start (seeded)"),
    "check_every": (int, 10, "iterations between stopping tests (each one synchronizes the device)"),
    "log_every": (int, 0, "progress line every k iterations on stderr (0: every ~2 s when verbose or long)"),
    "seed": (int, 0, "seed of the start perturbations (overrides the global seed)"),
}


def _bad(key: str, value: Any, want: str) -> SolverError:
    return SolverError(f"lvhba option '{key}' must be {want}, got {value!r}")


def convert(key: str, value: Any) -> Any:
    if key not in SCHEMA:
        known = sorted(SCHEMA)
        raise SolverError(f"unknown lvhba option '{key}'; known options: {', '.join(known)}",
                          hint=did_you_mean(key, known))
    typ = SCHEMA[key][0]
    if key == "inner":
        text = str(value).strip().lower()
        if text not in ("gauss_seidel", "jacobi"):
            raise _bad(key, value, "gauss_seidel or jacobi")
        return text
    if typ is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on", "1.0"):
            return True
        if text in ("false", "0", "no", "off", "0.0"):
            return False
        raise _bad(key, value, "true or false")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise _bad(key, value, "a number") from None
    if math.isnan(v):
        raise _bad(key, value, "a number")
    if typ is int:
        if not math.isfinite(v) or v != int(v):
            raise _bad(key, value, "an integer")
        return int(v)
    return v


def parse(raw: dict[str, Any]) -> dict[str, Any]:
    """Defaults overridden by `raw` (already-typed values pass through)."""
    out = {k: spec[1] for k, spec in SCHEMA.items()}
    for k, v in (raw or {}).items():
        out[k] = convert(k, v)
    check(out)
    return out


def check(o: dict[str, Any]) -> None:
    positive = ("alpha", "beta", "eta", "gamma1", "gamma2", "c_lower", "r")
    for k in positive:
        if not o[k] > 0:
            raise _bad(k, o[k], "positive")
    if not 0 <= o["p"] < 1:
        raise _bad("p", o["p"], "in [0, 1) (the theory asks for (0, 1/2))")
    for k in ("max_iter", "starts", "check_every"):
        if o[k] < 1:
            raise _bad(k, o[k], "at least 1")
    for k in ("tol_step", "tol_gap", "tol_feas", "start_noise"):
        if o[k] < 0:
            raise _bad(k, o[k], "non-negative")


def help_text() -> str:
    lines = []
    for k, (typ, default, text) in SCHEMA.items():
        lines.append(f"  {k:<17} {typ.__name__:<6} {default!s:<8} {text}")
    return "\n".join(lines)
