"""The `cdsm` backend: the covering direct-search method on a surrogate model (zero order).

Options (`--option cdsm.KEY=VALUE`): those of `common.COMMON` plus `poll` (2n | n+1, default 2n),
`cover` and `search` (on). See docs/surrogates.md.
"""

from __future__ import annotations

from typing import Any, ClassVar

from optdsl.backends import Backend, SolveOptions
from optdsl.results import Result

from .options import COMMON, Spec, parse

OPTIONS: dict[str, Spec] = {
    **COMMON,
    "poll": Spec(str, "2n", "poll set: 2n directions ±H_i, or the n+1 of a rotated regular simplex", ("2n", "n+1")),
    "cover": Spec(bool, True, "run the covering step"),
    "search": Spec(bool, True, "run the search step"),
}


class CDSMBackend(Backend):
    name: ClassVar[str] = "cdsm"
    description: ClassVar[str] = "covering direct search (cDSM) through trained networks; derivative-free"
    features: ClassVar[frozenset[str]] = frozenset(
        {"surrogate", "linear", "quadratic", "nonlinear", "inequalities", "nonsmooth"})
    form: ClassVar[str] = "surrogate"
    requires: ClassVar[tuple[str, ...]] = ("torch",)
    priority: ClassVar[int] = 60
    options: ClassVar[dict[str, Spec]] = OPTIONS

    def solve(self, form: Any, options: SolveOptions) -> Result:
        from .run import run_cdsm

        return run_cdsm(form, options, parse(OPTIONS, options.backend_options, self.name))
