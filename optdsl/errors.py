"""Errors users see: every one carries what went wrong, where, and (when known) how to fix it.

`OptdslError.render()` produces the text the CLI prints, e.g.::

    model.opt:4:12: error: undefined name 'demnd'
        s.t. c {j in J}: sum {i in I} x[i,j] >= demnd[j];
                                                ^
    hint: did you mean 'demand'?
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path


def split_lines(text: str) -> list[str]:
    """Lines as the parser and the data readers count them: split at "\n" only (a trailing "\r"
    dropped). str.splitlines() also splits at form feeds, U+2028 and others, so under a message
    it would show the wrong line."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


@dataclass(frozen=True)
class Span:
    """A source region: 1-based line and column of its start (end is inclusive-exclusive)."""

    file: str
    line: int
    col: int
    end_line: int | None = None
    end_col: int | None = None
    text: str | None = None  # the whole source text, when the file is not on disk (inline models)

    def source_line(self) -> str | None:
        text = self.text
        if text is None:
            try:
                text = Path(self.file).read_text(encoding="utf-8", errors="replace")
            except OSError:
                return None
        lines = split_lines(text)
        if 1 <= self.line <= len(lines):
            return lines[self.line - 1]
        return None


class OptdslError(Exception):
    """Base of every error optdsl reports to users (CLI exit status 2)."""

    kind = "error"

    def __init__(self, message: str, span: Span | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint

    def render(self) -> str:
        if self.span is None:
            head = f"{self.kind}: {self.message}"
            return head + (f"\nhint: {self.hint}" if self.hint else "")
        s = self.span
        out = [f"{s.file}:{s.line}:{s.col}: {self.kind}: {self.message}"]
        src = s.source_line()
        if src is not None:
            expanded = src.expandtabs(1)
            out.append("    " + expanded)
            width = 1
            if s.end_line == s.line and s.end_col is not None and s.end_col > s.col:
                width = s.end_col - s.col
            out.append("    " + " " * (s.col - 1) + "^" * max(1, width))
        if self.hint:
            out.append(f"hint: {self.hint}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()


class ModelSyntaxError(OptdslError):
    """The model text does not follow the grammar."""


class ModelError(OptdslError):
    """The model is well formed but wrong: undefined names, bad indexing, type errors."""


class DataError(OptdslError):
    """Data are missing, malformed, or violate a declaration (names the component and index)."""


class SolverError(OptdslError):
    """A backend cannot take the model, is missing, or failed."""


def did_you_mean(name: str, candidates) -> str | None:
    """A hint naming the closest known name, or None."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def format_index(index) -> str:
    """Render an index tuple the way a modeler writes it: [Seattle,'New York'] -> [Seattle,New York]."""
    if not isinstance(index, tuple):
        index = (index,)
    return "[" + ",".join(_label(v) for v in index) + "]"


def _label(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
