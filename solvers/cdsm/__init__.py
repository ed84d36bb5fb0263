"""The `cdsm` backend: the covering direct-search method on a surrogate model (zero order).

Options (`--option cdsm.KEY=VALUE`): those of `options.COMMON` plus `poll` (2n | n+1, default 2n),
`cover` and `search` (on). See docs/surrogates.md.
"""

from __future__ import annotations

from typing import Any, ClassVar

from optdsl.backends import Backend, Option, SolveOptions
from optdsl.results import Result, TerminationStatus

from .options import COMMON, STATUS_MAP

OPTIONS: dict[str, Option] = {
    **COMMON,
    "poll": Option(str, "2n", "poll set: 2n directions ±H_i, or the n+1 of a rotated regular simplex", ("2n", "n+1")),
    "cover": Option(bool, True, "run the covering step"),
    "search": Option(bool, True, "run the search step"),
}


class CDSMBackend(Backend):
    name: ClassVar[str] = "cdsm"
    description: ClassVar[str] = "covering direct search (cDSM) through trained networks; derivative-free"
    features: ClassVar[frozenset[str]] = frozenset(
        {"surrogate", "linear", "quadratic", "nonlinear", "inequalities", "nonsmooth"})
    form: ClassVar[str] = "surrogate"
    requires: ClassVar[tuple[str, ...]] = ("torch",)
    priority: ClassVar[int] = 60
    options: ClassVar[dict[str, Option]] = OPTIONS
    status_map: ClassVar[dict[str, TerminationStatus]] = STATUS_MAP
    abilities: ClassVar[frozenset[str]] = frozenset({"history", "incumbent_trace"})

    def solve(self, form: Any, options: SolveOptions) -> Result:
        from .run import run_cdsm

        return run_cdsm(form, options, self.validate_options(options.backend_options))
