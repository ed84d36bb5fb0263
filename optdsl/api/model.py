"""The user's model object: what `od.load(...)` returns and what the Python API builds.

A Model holds its AST (the declarations) and its data; the IR is instantiated on demand and
rebuilt after any change. Both doors, text and Python, therefore reach one IR.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optdsl import frontdoor
from optdsl.api.builder import ModelBuilder
from optdsl.data.store import DataStore
from optdsl.ir.model import ModelIR
from optdsl.parse import ast
from optdsl.results import Result


class Model(ModelBuilder):
    def __init__(self, name: str = "model", *, _ast: ast.Model | None = None, _data: DataStore | None = None,
                 _base_dir: Path | None = None) -> None:
        self.name = name
        self._ast = _ast if _ast is not None else ast.Model((), file=name)
        self._data = _data if _data is not None else DataStore()
        self._base_dir = _base_dir or Path.cwd()
        self._ir: ModelIR | None = None
        self.seed: int | None = None

    @classmethod
    def from_loaded(cls, loaded: frontdoor.LoadedModel) -> Model:
        """The Model of a checked model with its data, as the front door reads it."""
        m = cls(loaded.name, _ast=loaded.tree, _data=loaded.data, _base_dir=loaded.base_dir)
        m.seed = loaded.seed
        return m

    # ------------------------------------------------------------------ IR
    @property
    def statements(self) -> tuple[ast.Stmt, ...]:
        return self._ast.statements

    def _changed(self) -> None:
        self._ir = None

    @property
    def ir(self) -> ModelIR:
        if self._ir is None:
            from optdsl.ir.instantiate import instantiate

            self._ir = instantiate(self._ast, self._data, seed=self.seed)
            extra = getattr(self, "_surrogate_extra", {})
            for s in self._ir.structures:  # Python surrogates; file paths are relative to the model folder
                if s.kind == "surrogate":
                    s.data.setdefault("_base_dir", self._base_dir)
                    s.data.update({"_" + k: v for k, v in extra.get(s.name, {}).items() if v is not None})
        return self._ir

    def check(self) -> None:
        """Static checks of the declarations (names, arity, scoping) and data checks."""
        from optdsl.parse.resolve import check_model

        check_model(self._ast)
        _ = self.ir

    # ------------------------------------------------------------------ inspection
    @property
    def problem_class(self) -> str:
        return self.ir.problem_class()

    def print_ir(self) -> str:
        from optdsl.ir.printer import print_ir

        return print_ir(self.ir)

    def summary(self) -> str:
        from optdsl.api.show import summary

        return summary(self)

    def to_latex(self) -> str:
        from optdsl.api.latex import model_latex

        return model_latex(self._ast)

    def _repr_latex_(self) -> str:
        return "$$" + self.to_latex() + "$$"

    def to_opt(self) -> str:
        """The model as `.opt` text (declarations and a data section) that parses to the same IR."""
        from optdsl.api.to_opt import model_to_opt

        return model_to_opt(self._ast, self._data)

    # ------------------------------------------------------------------ solving
    def solve(self, solver: str | None = None, time_limit: float | None = None, seed: int | None = None,
              verbose: bool = False, device: str | None = None, **options: Any) -> Result:
        """Solve and return a Result; backend options go in **options (`presolve="off"` or
        `highs.presolve="off"`)."""
        from optdsl.pipeline import solve_ir

        return solve_ir(self.ir, solver, time_limit=time_limit, seed=seed, verbose=verbose, device=device,
                        options=options)

    def to_highs(self, **options: Any) -> Any:
        """The `highspy.Highs` object with this model handed over and not yet solved."""
        from optdsl.pipeline import lp_form_for_export, solve_options
        from optdsl.solvers.highs.adapter import to_highs

        form = lp_form_for_export(self.ir, "Model.to_highs()")
        return to_highs(form, solve_options(self.ir, backend="highs", options=options))

    def __repr__(self) -> str:
        return f"<optdsl.Model {self.name!r}: {len(self.statements)} statements>"


def load(path: str | Path, data: Any = None, seed: int | None = None) -> Model:
    """Read a `.opt`/`.mod` model with its data.

    `data` may be a file path, a list of paths, or Python data: a dict mapping set names to lists
    and param names to scalars, dicts, numpy arrays or pandas objects.
    """
    return Model.from_loaded(frontdoor.load(path, data, seed))


def parse_model(text: str, data: Any = None, name: str = "model.opt", seed: int | None = None) -> Model:
    """A model from `.opt` text (inline data sections included)."""
    return Model.from_loaded(frontdoor.parse_model(text, data, name, seed))
