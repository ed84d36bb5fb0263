"""Passes: rewrites of a form that declare what they consume and produce, and map results back.

A pass takes a form of kind `form_in` that has every feature in `requires`, and gives a form of
kind `form_out` whose features are those of the input less `removes`, plus `adds`. The chooser
(`optdsl.lower.chain`) searches chains of passes from these declarations alone, without running
anything; `accepts(form)` then checks what a declaration cannot say (e.g. "the follower is a
convex QP") and returns the reason when the pass cannot rewrite this form. `invert` maps the
result of the rewritten problem back to the input's variables and rows.

Passes are plug-ins like backends: entry-point group `optdsl.passes`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    from optdsl.backends import SolveOptions
    from optdsl.results import Result

ENTRY_POINT_GROUP = "optdsl.passes"


class Pass:
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    form_in: ClassVar[str] = ""
    form_out: ClassVar[str] = ""
    requires: ClassVar[frozenset[str]] = frozenset()
    removes: ClassVar[frozenset[str]] = frozenset()
    adds: ClassVar[frozenset[str]] = frozenset()

    def accepts(self, form: Any) -> str | None:
        """None when this pass can rewrite `form`, else why not."""
        return None

    def apply(self, form: Any, options: SolveOptions) -> tuple[Any, Any]:  # pragma: no cover - interface
        """(the rewritten form, what `invert` needs)."""
        raise NotImplementedError

    def invert(self, result: Result, inverse: Any) -> Result:  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def produces(cls, features: frozenset[str]) -> frozenset[str]:
        return (features - cls.removes) | cls.adds
