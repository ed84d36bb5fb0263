"""The `attack_dfo` backend: directional attacks through the network interleaved with cDSM
(Bouchet and Vidal 2025). The default for models with a surrogate.

Options (`--option attack_dfo.KEY=VALUE`): those of `optdsl.solvers.cdsm.options.COMMON` plus the
attack's (below). See docs/surrogates.md.
"""

from __future__ import annotations

from typing import Any, ClassVar

from optdsl.solvers.cdsm.options import COMMON, Spec, parse

from optdsl.backends import Backend, SolveOptions
from optdsl.results import Result

OPTIONS: dict[str, Spec] = {
    **COMMON,
    "poll": Spec(str, "n+1", "cDSM poll set inside the hybrid", ("n+1", "2n")),
    "attack": Spec(str, "fgsm", "attack: one signed-gradient step, or projected steps", ("fgsm", "pgd")),
    "attack_loss": Spec(str, "linear", "<t, Φ̃> or the soft-label cross-entropy of the reference",
                        ("linear", "cross_entropy")),
    "eps": Spec(float, 0.5, "attack budget in d-space ([0, 1]^n; 0.5 reaches the corners of the ball)"),
    "pgd_steps": Spec(int, 10, "PGD steps"),
    "pgd_alpha": Spec(float, 0.1, "PGD step in d-space"),
    "r_atk_min": Spec(float, 1e-6, "smallest attack radius"),
    "r_atk_max": Spec(float, 10.0, "largest attack radius"),
    "increase": Spec(float, 1e-3, "relative increase of f̃ that skips the cDSM iteration"),
    "attack_gradient": Spec(str, "auto", "autograd through the network, or forward differences",
                            ("auto", "autograd", "fd")),
    "fd_step": Spec(float, 1e-6, "forward-difference step in d-space (values-only networks)"),
}


class AttackDFOBackend(Backend):
    name: ClassVar[str] = "attack_dfo"
    description: ClassVar[str] = "directional attacks + covering direct search through trained networks"
    features: ClassVar[frozenset[str]] = frozenset(
        {"surrogate", "linear", "quadratic", "nonlinear", "inequalities", "nonsmooth"})
    form: ClassVar[str] = "surrogate"
    requires: ClassVar[tuple[str, ...]] = ("torch",)
    priority: ClassVar[int] = 40
    options: ClassVar[dict[str, Spec]] = OPTIONS

    def solve(self, form: Any, options: SolveOptions) -> Result:
        from .hybrid import run_hybrid

        return run_hybrid(form, options, parse(OPTIONS, options.backend_options, self.name))
