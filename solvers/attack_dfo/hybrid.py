"""The hybrid of Bouchet and Vidal (2025): an attack step, and a cDSM iteration when the attack
did not give a sufficient increase.

    δ <- Attack(x, ∇f̃(Φ̃(x)), r_atk)                            1 evaluation of f̃ at x + δ
    if (f̃(x+δ) - f̃(x)) / (|f̃(x)| + 1e-10) >= increase:       x <- x+δ, r_atk <- min(1.3 r_atk, r_atk_max),
                                                              r_dsm <- 2 r_dsm if r_dsm <= r_min; skip cDSM
    else: if f̃(x+δ) > f̃(x): x <- x+δ, r_atk <- min(1.1 r_atk, r_atk_max)
          else:             r_atk <- max(r_atk / 1.3, r_atk_min)
          one cDSM iteration (COVER, SEARCH unless r_dsm <= r_min, POLL with the n+1 poll set)
    stop: r_dsm <= r_min and r_atk <= r_atk_min, or the budget or the time limit is spent.
"""

from __future__ import annotations

from typing import Any

import torch

from optdsl.backends import SolveOptions
from optdsl.errors import SolverError
from optdsl.results import Result

from ..cdsm.common import make_result, poll_batch, setup
from ..cdsm.evaluator import OutOfBudget
from ..cdsm.steps import CDSM
from .attack import AttackCount, attack, numpy_phi


def run_hybrid(form: Any, options: SolveOptions, opts: dict[str, Any]) -> Result:
    ev, rng, device = setup(form, options, opts)
    if not 0 < opts["r_atk_min"] <= opts["r0"] <= opts["r_atk_max"]:
        raise SolverError("attack radii must satisfy 0 < r_atk_min <= r0 <= r_atk_max")
    pen = ev.problem
    n = form.n
    phi_x = None if opts["attack_gradient"] == "fd" else pen.torch_map(device)
    if phi_x is None and opts["attack_gradient"] == "autograd":
        raise SolverError("attack_gradient=autograd needs torch networks; this model's surrogate gives values only",
                          hint="use attack_gradient=fd (forward differences) or the cdsm backend")
    dev = torch.device(device)
    scale_t = torch.as_tensor(ev.scale, dtype=torch.float64, device=dev)
    fd = None
    if phi_x is None:
        phi_u = numpy_phi(lambda U: pen.evaluate(U * ev.scale).out, dev)
        fd = opts["fd_step"]
    else:
        def phi_u(ut: torch.Tensor) -> torch.Tensor:
            return phi_x(ut * scale_t)

    count = AttackCount()
    stats = {"attack_steps": 0, "attack_sufficient": 0, "attack_improved": 0}
    reason = "radius"
    dsm = None
    u0 = ev.clip(form.x0 / ev.scale)
    r_atk = opts["r0"]
    try:
        f0 = float(ev(u0[None, :])[0])
        dsm = CDSM(ev, rng, u0, f0, r0=opts["r0"], r_min=opts["r_min"], r_max=opts["r_max"], poll=opts["poll"],
                   poll_batch=poll_batch(opts, device, 2 * n if opts["poll"] == "2n" else n + 1))
        while not (dsm.r <= dsm.r_min and r_atk <= opts["r_atk_min"]):
            u, fu = dsm.u, dsm.fu
            z, out = ev.point(u)
            t = torch.as_tensor(pen.target(z, out), dtype=torch.float64, device=dev)
            base = torch.as_tensor(out, dtype=torch.float64, device=dev)
            delta = attack(phi_u, torch.as_tensor(u, dtype=torch.float64, device=dev), t, r_atk, base=base,
                           method=opts["attack"], loss=opts["attack_loss"], eps=opts["eps"],
                           steps=opts["pgd_steps"], alpha=opts["pgd_alpha"], count=count, fd_step=fd)
            ev.attack_forward, ev.attack_backward = count.forward, count.backward
            stats["attack_steps"] += 1
            ua = ev.clip(u + delta.cpu().numpy())
            fa = float(ev(ua[None, :])[0])
            if (fa - fu) / (abs(fu) + 1e-10) >= opts["increase"]:
                dsm.u, dsm.fu = ua, fa
                r_atk = min(1.3 * r_atk, opts["r_atk_max"])
                if dsm.r <= dsm.r_min:
                    dsm.r = 2.0 * dsm.r
                stats["attack_sufficient"] += 1
                continue
            if fa > fu:
                dsm.u, dsm.fu = ua, fa
                r_atk = min(1.1 * r_atk, opts["r_atk_max"])
                stats["attack_improved"] += 1
            else:
                r_atk = max(r_atk / 1.3, opts["r_atk_min"])
            dsm.iteration()
            if ev.exhausted:
                raise OutOfBudget
    except OutOfBudget:
        reason = "time" if ev.out_of_time() else "budget"
    ev.attack_forward, ev.attack_backward = count.forward, count.backward
    extra: dict[str, Any] = dict(stats)
    extra["attack_gradient"] = "differences" if fd is not None else "autograd"
    if dsm is not None:
        extra.update({"radius": dsm.r, "attack_radius": r_atk, "successes": dict(dsm.successes),
                      "dsm_iterations": dsm.iterations})
    iterations = stats["attack_steps"]
    return make_result(ev, "attack_dfo", reason, iterations, extra)


