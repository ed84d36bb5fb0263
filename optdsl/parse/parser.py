"""Parse `.opt` model text into the AST (`optdsl.parse.ast`).

    model = parse(text, file="model.opt")      # ModelSyntaxError on bad input
    model = parse_file("examples/transport.opt")

The LALR tables take about a second to compute, so the first parse in a process loads them
from a JSON cache in the user's cache directory (`$OPTDSL_CACHE_DIR`, else
`$XDG_CACHE_HOME/optdsl`, else `~/.cache/optdsl`; an empty OPTDSL_CACHE_DIR turns the cache
off). The cache holds plain JSON data keyed by a hash of the grammar and the lark version, is
written atomically into a directory only its owner can write, and is never unpickled: a stale
or damaged file is ignored and rebuilt. Importing this module is cheap: lark is imported on
the first parse.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from optdsl.parse import ast
from optdsl.user_cache import cache_file, write_atomically

_FORMAT = "optdsl-lark-tables-1"
_lock = threading.Lock()  # one parse at a time: the builder holds the current source
_state: dict[str, Any] = {}


def parse(text: str, file: str = "<model>") -> ast.Model:
    """Parse model text; spans name `file` and carry `text`, so errors can show the line."""
    from optdsl.parse.builder import Source
    from optdsl.parse.lark_loader import UnexpectedInput

    text = _before_trailer(text.removeprefix("\ufeff"))
    with _lock:
        parser, builder = _parser()
        builder.source = Source(file, text)
        try:
            return parser.parse(text, on_error=_statement_word_as_name)
        except UnexpectedInput as exc:
            from optdsl.parse.diagnostics import syntax_error  # only a model with an error needs it

            err = syntax_error(exc, text, file, builder.data_regex)
        finally:
            builder.source = Source()
    raise err


_END = None


def _before_trailer(text: str) -> str:
    """The text up to a model-level `end;`: GMPL and AMPL read nothing after it (an inline data
    section's own `end;` belongs to the section)."""
    import re

    global _END
    if re.search(r"\bend\s*;", text) is None:
        return text
    if _END is None:
        _END = re.compile(
            r"""(?P<skip>"[^"\n]*"|'[^'\n]*'|\#[^\n]*|/\*(?:[^*]|\*(?!/))*\*/|\s+)"""
            rf"|(?P<data>{data_section_regex()})|(?P<end>\bend\s*;)|(?P<other>[^\"'#/;{{}}\s]+|\S)")
    prev = ";"
    for m in _END.finditer(text):
        kind = m.lastgroup
        if kind == "skip":
            continue
        if kind == "end" and prev in (";", "}"):
            return text[: m.end()]
        prev = ";" if kind == "data" else m.group()[-1]
    return text


def _statement_word_as_name(exc: Any) -> bool:
    """A word that only starts statements (`solve`, `data`, ...) met where only a name fits is
    that name, as in GMPL: LALR's merged lookaheads can make the lexer take it for the keyword
    right after a `}` or an expression. The network words (`node`, `from`, `obj`, ...) are names
    the same way outside their declarations."""
    from optdsl.parse.builder import NETWORK_WORDS, STATEMENT_ONLY
    from optdsl.parse.lark_loader import Token, UnexpectedToken

    tok = getattr(exc, "token", None)
    if not isinstance(exc, UnexpectedToken) or tok is None or (
            tok.value not in STATEMENT_ONLY and tok.value not in NETWORK_WORDS):
        return False
    if "NAME" not in exc.interactive_parser.accepts():
        return False
    exc.interactive_parser.feed_token(Token.new_borrow_pos("NAME", tok.value, tok))
    return True


def parse_file(path: str | os.PathLike[str]) -> ast.Model:
    """Parse a model file (`.opt` or `.mod`); spans name the path as given. Only a regular UTF-8
    file within the size cap is read (see optdsl.files)."""
    from optdsl.files import read_text

    return parse(read_text(path, what="model file"), str(path))


def grammar_text() -> str:
    from importlib.resources import files

    return (files("optdsl.grammar") / "optdsl.lark").read_text(encoding="utf-8")


def data_section_regex() -> str:
    """The regex of an inline `data; ... end;` section (the grammar's DATA_SECTION terminal)."""
    return _parser()[1].data_regex


def _parser() -> tuple[Any, Any]:
    """The process-wide (Lark, AstBuilder) pair, built on first use."""
    if "parser" not in _state:
        from optdsl.parse.builder import AstBuilder

        builder = AstBuilder()
        parser = _build(builder)
        builder.data_regex = parser.get_terminal("DATA_SECTION").pattern.to_regexp()
        _state["parser"] = (parser, builder)
    return _state["parser"]


def _build(builder: Any) -> Any:
    import hashlib
    import json

    from optdsl.parse.lark_loader import lark

    grammar = grammar_text()
    options = dict(transformer=builder)
    key = hashlib.sha256(f"{_FORMAT}\0{lark.__version__}\0{grammar}".encode()).hexdigest()[:24]
    path = _cache_file(key)
    if path is not None and path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"), object_hook=_decode)
            # The entry point lark's standalone parsers use to load serialized tables.
            return lark.Lark._load_from_dict(data["data"], data["memo"], **options)
        except Exception:  # a stale or damaged cache is rebuilt below
            pass
    parser = lark.Lark(grammar, parser="lalr", lexer="contextual", maybe_placeholders=True, **options)
    if path is not None:
        _save(parser, path)
    return parser


def _cache_file(key: str) -> Path | None:
    return cache_file(f"parser-{key}.json")


def _save(parser: Any, path: Path) -> None:
    import json

    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    data, memo = parser.memo_serialize([TerminalDef, Rule])
    # Callbacks are code, not data: they are passed again when loading.
    data["options"] = {k: v for k, v in data["options"].items()
                       if k not in ("transformer", "lexer_callbacks", "postlex", "edit_terminals")}
    try:
        text = json.dumps(_encode({"data": data, "memo": memo}), separators=(",", ":"))
    except (TypeError, ValueError):
        return
    write_atomically(path, text)


# lark's serialized tables use int dict keys and tuples, which JSON lacks: tag them.
_INT_KEYS, _TUPLE = "\x00int-keys", "\x00tuple"


def _encode(x: Any) -> Any:
    if isinstance(x, dict):
        if all(isinstance(k, str) for k in x):
            return {k: _encode(v) for k, v in x.items()}
        return {_INT_KEYS: [[k, _encode(v)] for k, v in x.items()]}
    if isinstance(x, tuple):
        return {_TUPLE: [_encode(v) for v in x]}
    if isinstance(x, list):
        return [_encode(v) for v in x]
    return x


def _decode(obj: dict) -> Any:
    if _INT_KEYS in obj:
        return {k: v for k, v in obj[_INT_KEYS]}
    if _TUPLE in obj:
        return tuple(obj[_TUPLE])
    return obj
