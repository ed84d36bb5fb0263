"""Phrases and spans for the static checks' messages (shared by optdsl.parse.resolve and .checks)."""

from __future__ import annotations

import re
from dataclasses import replace

from optdsl.errors import Span
from optdsl.parse import ast
from optdsl.parse.symbols import KIND_WORDS, Symbol


def subscript_message(sym: Symbol, got: int) -> str:
    if sym.arity == 0:
        return f"'{sym.name}' is not indexed and takes no subscripts, got {got}"
    plural = "s" if sym.arity != 1 else ""
    return f"'{sym.name}' takes {sym.arity} subscript{plural}, got {got}"


def declared_over(sym: Symbol) -> str | None:
    ix = sym.indexing
    if ix is None or ix.span is None:
        return None
    return f"'{sym.name}' is indexed over {source_of(ix.span)}"


def describe(e: ast.Expr, symbols: dict[str, Symbol]) -> str:
    """A short phrase naming an expression in a message: "set 'I'", "the string \"a\"", ..."""
    if isinstance(e, ast.Ref):
        sym = symbols.get(e.name)
        if sym is not None:
            word = "symbolic param" if sym.symbolic else KIND_WORDS[sym.kind]
            return f"{word} '{e.name}'"
        return f"'{e.name}'"
    if isinstance(e, ast.Str):
        return f'the string "{e.value}"'
    if isinstance(e, ast.Num):
        return f"the number {e.value}"
    if e.span is not None and (text := source_of(e.span)) and len(text) <= 40:
        return f"'{text}'"
    return "this expression"


def source_of(span: Span) -> str:
    """The source text a single-line span covers (or '...' when it is not available)."""
    line = span.source_line()
    if line is None or span.end_line != span.line or span.end_col is None:
        return "..."
    return line[span.col - 1 : span.end_col - 1]


def name_span(node: ast.Node, name: str) -> Span | None:
    """The span of `name` where it first appears in `node` (a declaration or a reference)."""
    return word_span(node.span, name)


def word_span(span: Span | None, word: str) -> Span | None:
    if span is None:
        return None
    line = span.source_line()
    if line is not None:
        m = re.compile(rf"(?<![\w.]){re.escape(word)}(?!\w)").search(line, span.col - 1)
        if m is not None:
            return replace(span, col=m.start() + 1, end_line=span.line, end_col=m.end() + 1)
    return span
