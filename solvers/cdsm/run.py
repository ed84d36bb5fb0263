"""cDSM alone on a surrogate form (the `cdsm` backend's algorithm)."""

from __future__ import annotations

from typing import Any

from optdsl.backends import SolveOptions
from optdsl.results import Result

from .common import make_result, poll_batch, setup
from .evaluator import OutOfBudget
from .steps import CDSM


def run_cdsm(form: Any, options: SolveOptions, opts: dict[str, Any]) -> Result:
    ev, rng, device = setup(form, options, opts)
    n = form.n
    u0 = ev.clip(form.x0 / ev.scale)
    batch = poll_batch(opts, device, 2 * n if opts["poll"] == "2n" else n + 1)
    reason = "radius"
    dsm = None
    try:
        f0 = float(ev(u0[None, :])[0])
        dsm = CDSM(ev, rng, u0, f0, r0=opts["r0"], r_min=opts["r_min"], r_max=opts["r_max"], poll=opts["poll"],
                   poll_batch=batch, cover=opts["cover"], search=opts["search"])
        while not dsm.converged:
            dsm.iteration()
            if ev.exhausted:
                raise OutOfBudget
    except OutOfBudget:
        reason = "time" if ev.out_of_time() else "budget"
    extra = {} if dsm is None else {"radius": dsm.r, "successes": dict(dsm.successes)}
    return make_result(ev, "cdsm", reason, 0 if dsm is None else dsm.iterations, extra)
