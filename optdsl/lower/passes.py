"""Passes: rewrites of a standard form that remember how to map a result back.

Each pass declares `accepts(form)`, `apply(form) -> (form, inverse)` and
`invert(result, inverse) -> result`. A chain applies passes in order and inverts in reverse.
"""

from __future__ import annotations

from typing import Any, Protocol

from optdsl.results import Result


class Pass(Protocol):
    name: str

    def accepts(self, form: Any) -> bool: ...

    def apply(self, form: Any) -> tuple[Any, Any]: ...

    def invert(self, result: Result, inverse: Any) -> Result: ...


class Chain:
    """Apply each pass that accepts the form; invert them in reverse order."""

    def __init__(self, passes: list[Pass]) -> None:
        self.passes = passes
        self._applied: list[tuple[Pass, Any]] = []

    def apply(self, form: Any) -> Any:
        self._applied = []
        for p in self.passes:
            if p.accepts(form):
                form, inverse = p.apply(form)
                self._applied.append((p, inverse))
        return form

    def invert(self, result: Result) -> Result:
        for p, inverse in reversed(self._applied):
            result = p.invert(result, inverse)
        return result

    @property
    def names(self) -> list[str]:
        return [p.name for p, _ in self._applied]
