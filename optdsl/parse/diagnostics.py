"""Turn lark's syntax errors into ModelSyntaxError in a modeler's words.

Lark reports a token and the set of terminals the LALR state would accept. We name those
terminals as a modeler writes them (`';'`, `a name`, `an expression`), collapse long sets, and
recognise common mistakes from the parser's value stack (the tokens and AST pieces of the
statement being read): a missing `;` at the end of the previous line, `=` for `:=`, a
constraint without `:`, a misspelled statement word, unbalanced brackets, unterminated strings.
"""

from __future__ import annotations

import re
from copy import copy
from typing import Any

from optdsl.errors import ModelSyntaxError, Span, did_you_mean, split_lines
from optdsl.parse import ast
from optdsl.parse.builder import KEYWORDS, RESERVED, STATEMENT_WORDS, _Attr, _Braces, _Op
from optdsl.parse.lark_loader import Token, Tree, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

STATEMENT_START = frozenset(
    "SET PARAM VAR MINIMIZE MAXIMIZE SUBJECT_TO ST CHECK OPTION DATA DATA_SECTION END SOLVE "
    "DISPLAY PRINTF FOR TABLE NODE ARC".split()
)
_EXPR_START = frozenset(
    "NAME NUMBER STRING LPAR LBRACE MINUS PLUS NOT SUM PROD MIN MAX FORALL EXISTS UNION INTER "
    "SETOF IF PWL_OPEN".split()
)
_OPERATORS = frozenset(
    "PLUS MINUS STAR SLASH POW DIV MOD LESS AMP DOTDOT BY CROSS INTER UNION DIFF SYMDIFF LT LE EQ "
    "EQEQ NE GE GT IN NOT AND OR DOT".split()  # DOT: a suffix, `x.val`
)
_ATTRIBUTES = frozenset("INTEGER BINARY SYMBOLIC LOGICAL DEFAULT ASSIGN WITHIN DIMEN ORDERED "
                        "COEFF COVER OBJ FROM TO".split())
_SYMBOLS = {
    "SEMI": ";", "COLON": ":", "ASSIGN": ":=", "COMMA": ",", "DOT": ".", "DOTDOT": "..",
    "LBRACE": "{", "RBRACE": "}", "LSQB": "[", "RSQB": "]", "LPAR": "(", "RPAR": ")",
    "LARROW": "<-", "TILDE": "~", "LE": "<=", "GE": ">=", "NE": "!=", "EQEQ": "==", "LT": "<",
    "GT": ">", "EQ": "=", "PLUS": "+", "MINUS": "-", "POW": "^", "STAR": "*", "SLASH": "/",
    "AMP": "&", "SUBJECT_TO": "subject to", "ST": "s.t.", "PWL_OPEN": "<<", "PWL_CLOSE": ">>",
}
_WORDS = {"NAME": "a name", "NUMBER": "a number", "STRING": "a string", "$END": "the end of the file",
          "DATA_SECTION": "'data;'"}
_ORDER = ["SEMI", "COLON", "RPAR", "RSQB", "RBRACE", "COMMA", "LBRACE", "ASSIGN", "THEN", "ELSE",
          "IN", "NAME", "an expression", "a number", "a string", "an attribute", "an operator",
          "a statement", "$END"]
_CLOSE = {"(": ")", "[": "]", "{": "}"}
_CLOSER_TERM = {"(": "RPAR", "[": "RSQB", "{": "RBRACE"}
_DECL_KIND = {"SET": "set", "PARAM": "param", "VAR": "var"}
_AMPL_COMMANDS = {
    "let": "give values with ':=' in a declaration or in the data",
    "fix": "fix a variable with '=' in its declaration, as in 'var x = 3;'",
    "unfix": "bounds and fixed values are part of the declaration",
    "include": "read data with 'data \"FILE\";'",
    "model": "give the model file on the command line",
    "reset": "run the model again",
    "print": "use 'display' or 'printf'",
    "write": "use 'optdsl convert' to write other formats",
    "problem": "a file holds one model; use 'lower NAME { ... }' for a follower problem",
    "suffix": "user-defined suffixes are not supported; .val, .dual, .lb, .ub, .rc, .slack, .body are built in",
}

# AMPL constructs that optdsl does not read yet, named where they appear in an expression or a
# declaration: word -> (what it is, what to write instead).
_CP = ("AMPL's logic and constraint-programming operators (alldiff, numberof, count, atmost, atleast, "
       "exactly, ==>, <==>, logical variables)", "write them with binary variables and linear constraints")
_UNSUPPORTED = {
    "complements": ("complementarity constraints (complements)", "MPECs are not supported; "
                    "a bilevel model with a 'lower' block states a follower problem"),
    **{w: _CP for w in "alldiff numberof count atmost atleast exactly logical".split()},
}

# Skips comments, strings and inline data (the grammar's DATA_SECTION) while looking for brackets.
_BRACKET_SCAN = (r"""#[^\n]*|/\*(?:[^*]|\*(?!/))*\*/|"(?:[^"\n]|"")*"|'(?:[^'\n]|'')*'"""
                 r"""|\b(?:{data})|([][(){}])""")


def syntax_error(exc: UnexpectedInput, text: str, file: str, data_regex: str) -> ModelSyntaxError:
    """The ModelSyntaxError for a lark error raised while parsing `text`; `data_regex` is the
    grammar's DATA_SECTION pattern (inline data are skipped when looking for brackets)."""
    lines = split_lines(text) or [""]
    at = _Where(file, text, lines, data_regex)
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(exc, at)
    if isinstance(exc, UnexpectedToken):
        return _bad_token(exc, at)
    return ModelSyntaxError("unexpected end of the model", at.span(len(lines), len(lines[-1]) + 1))


class _Where:
    def __init__(self, file: str, text: str, lines: list[str], data_regex: str) -> None:
        self.file, self.text, self.lines, self.data_regex = file, text, lines, data_regex

    def span(self, line: int, col: int, width: int = 1) -> Span:
        return Span(self.file, line, col, line, col + width, self.text)

    def offset_to(self, pos: int) -> tuple[int, int]:
        line = self.text.count("\n", 0, pos) + 1
        return line, pos - (self.text.rfind("\n", 0, pos) + 1) + 1


def _bad_character(exc: UnexpectedCharacters, at: _Where) -> ModelSyntaxError:
    line, col, ch = exc.line, exc.column, exc.char
    if ch in "\"'":
        width = len(at.lines[line - 1]) - col + 1
        return ModelSyntaxError("unterminated string", at.span(line, col, max(width, 1)),
                                f"close the string with {ch} on the same line")
    return ModelSyntaxError(f"unexpected character '{ch}'", at.span(line, col))


def _bad_token(exc: UnexpectedToken, at: _Where) -> ModelSyntaxError:
    tok: Token = exc.token
    if tok.type == "NAME" and tok.value in RESERVED:  # lexed as a name where the keyword cannot go
        tok = Token(tok.value.upper(), tok.value, tok.start_pos, tok.line, tok.column,
                    tok.end_line, tok.end_column, tok.end_pos)
    ip = exc.interactive_parser
    stack: list = list(ip.parser_state.value_stack) if ip is not None else []
    accepts = set(_accepts(ip) if ip is not None else exc.expected)
    stmt = _statement(stack)
    prev = _end(stack[-1]) if stack else None
    is_end = tok.type == "$END"
    pos = len(at.text) if is_end else tok.start_pos
    tok_span = (at.span(*prev) if prev else at.span(1, 1)) if is_end else \
        at.span(tok.line, tok.column, max(1, len(tok.value.split("\n")[0])))

    found = _describe(tok)
    bracket = _bracket_error(tok, pos, at, is_end)
    if bracket is not None:
        return bracket

    # `param a {I}` NEWLINE `param b;`: the `;` is missing at the end of the previous line.
    if "SEMI" in accepts and prev is not None and (
        is_end or tok.line > prev[0] or tok.type in STATEMENT_START
    ) and _feeds(ip, [_fake("SEMI", tok), tok]):
        return ModelSyntaxError("missing ';' at the end of the statement", at.span(*prev),
                                "every statement ends with ';'")

    head = stmt[0] if stmt and isinstance(stmt[0], Token) else None
    name = stmt[1].value if len(stmt) > 1 and isinstance(stmt[1], Token) else "?"
    kind = _DECL_KIND.get(head.type) if head is not None else None
    op = tok.value
    if tok.type == "EQ" and stack and _is_tok(stack[-1], "EQ") and stack[-1].end_pos == tok.start_pos:
        op, tok_span = "==", at.span(tok.line, tok.column - 1, 2)  # the lexer split `==` in two
    if kind and tok.type in ("EQ", "EQEQ") and (kind == "param" or op == "=="):
        hint = {"param": f"write ':=' to give a param its value: 'param {name} := ...;'",
                "set": f"write ':=' to give the set its members: 'set {name} := ...;'",
                "var": "write ':=' for an initial value, or '=' to fix the variable"}[kind]
        return ModelSyntaxError(f"unexpected '{op}' in the declaration of {kind} '{name}'",
                                tok_span, hint)

    unsupported = _unsupported(tok, stack, at.text)
    if unsupported is not None:
        return unsupported(tok_span)
    if head is not None and head.type in ("SUBJECT_TO", "ST", "MINIMIZE", "MAXIMIZE") \
            and "COLON" in accepts and 1 < len(stmt) <= 3 and not any(_is_tok(x, "COLON") for x in stmt):
        what = "constraint" if head.type in ("SUBJECT_TO", "ST") else "objective"
        form = "CONSTRAINT" if what == "constraint" else "EXPRESSION"
        ix = next((f" {_source(x.span)}" for x in stmt if isinstance(x, _Braces)), "")
        return ModelSyntaxError(f"missing ':' after the name of {what} '{name}'", tok_span,
                                f"write '{head.value} {name}{ix}: {form};'")

    # A statement that starts with a name is a constraint without `subject to` (or `lower`,
    # `surrogate`); stuck within its first tokens, it is more likely a misspelled keyword.
    if head is not None and head.type == "NAME" and head.value not in ("lower", "surrogate") and \
            len(stmt) <= 3 and all(isinstance(x, Token) for x in stmt):
        word, width = head.value, len(head.value)
        if word == "s" and tok.type == "DOT":
            word, width, hint = "s.t", 3, "write 's.t.' with a dot after the 't'"
        elif word in _AMPL_COMMANDS:
            hint = f"AMPL's '{word}' is not supported: {_AMPL_COMMANDS[word]}"
        else:
            hint = did_you_mean(word, STATEMENT_WORDS) or \
                "a statement starts with a keyword such as 'param' or 'subject to'"
        return ModelSyntaxError(f"unknown statement '{word}'", at.span(head.line, head.column, width), hint)

    hint = None
    if tok.type == "NAME":
        words = [w for w in KEYWORDS if w.upper() in accepts]
        hint = did_you_mean(tok.value, words)
    if hint is None and head is not None and head.type in ("SUBJECT_TO", "ST") and len(stmt) == 1:
        hint = f"a constraint needs a name: '{head.value} NAME: CONSTRAINT;'"
    if hint is None:
        open_ = _open_brackets(at, pos)
        if open_ and _CLOSER_TERM[open_[-1][0]] in accepts:
            line, col = at.offset_to(open_[-1][1])
            hint = f"the '{open_[-1][0]}' at line {line}, column {col} is not closed"
    return ModelSyntaxError(f"expected {_expected(accepts)}, found {found}", tok_span, hint)


def _unsupported(tok: Token, stack: list, text: str):
    """A maker of the error for an AMPL construct optdsl does not read yet, or None."""
    word = tok.value if tok.type in ("NAME", "LOGICAL") else None
    start = getattr(tok, "start_pos", None)
    if start is not None and word is None and any(  # `y == -3 ==> x == -39`: the lexer split `==>`
            text.startswith(op, start - k) for op in ("==>", "<==>", "<==") for k in range(4) if start >= k):
        word = "alldiff"
    if word not in _UNSUPPORTED and start is not None:  # `alldiff {j in J} x[j]`: stuck after the word
        before = re.search(r"([A-Za-z_]\w*)\s*$", text[:start])
        if before is not None and _UNSUPPORTED.get(before.group(1)) is _CP:
            word = before.group(1)
    if word in _UNSUPPORTED:
        what, hint = _UNSUPPORTED[word]
        return lambda span: ModelSyntaxError(f"{what} are not supported yet", span, hint)
    return None


def _bracket_error(tok: Token, pos: int, at: _Where, is_end: bool) -> ModelSyntaxError | None:
    """Unmatched closers, and openers left open at a `;` or at the end of the file."""
    if tok.type in ("RPAR", "RSQB", "RBRACE") or is_end or tok.type == "SEMI":
        open_ = _open_brackets(at, pos)
    else:
        return None
    if tok.type in ("RPAR", "RSQB", "RBRACE"):
        span = at.span(tok.line, tok.column)
        if not open_:
            return ModelSyntaxError(f"unmatched '{tok.value}'", span,
                                    f"no bracket is open before this '{tok.value}'")
        char, where = open_[-1]
        if _CLOSE[char] != tok.value:
            line, col = at.offset_to(where)
            return ModelSyntaxError(f"'{tok.value}' does not match the '{char}' at line {line}, column {col}",
                                    span, f"close the '{char}' with '{_CLOSE[char]}' first")
        return None
    if not open_:
        return None
    char, where = open_[-1]
    if char == "{" and not is_end and re.search(r"(?:\blower\s+\w+|\})\s*$", at.text[:where]):
        return None  # a block's `{` legitimately stays open across statements
    line, col = at.offset_to(where)
    before = "the end of the file" if is_end else f"the ';' at line {tok.line}"
    return ModelSyntaxError(f"'{char}' is never closed", at.span(line, col),
                            f"add '{_CLOSE[char]}' before {before}")


def _open_brackets(at: _Where, upto: int) -> list[tuple[str, int]]:
    text = at.text
    scan = re.compile(_BRACKET_SCAN.replace("{data}", at.data_regex))
    stack: list[tuple[str, int]] = []
    for m in scan.finditer(text, 0, upto):
        ch = m.group(1)
        if ch is None:
            continue
        if ch in _CLOSE:
            stack.append((ch, m.start()))
        elif stack and _CLOSE[stack[-1][0]] == ch:
            stack.pop()
    return stack


def _accepts(ip: Any) -> set[str]:
    try:
        return set(ip.accepts())
    except Exception:  # accepts() simulates the parser; fall back to the raw state
        return {t for t in ip.choices() if t.isupper()}


def _feeds(ip: Any, tokens: list[Token]) -> bool:
    """Would the parser take these tokens from where it stopped? (run without AST callbacks)"""
    if ip is None:
        return False
    state = ip.parser_state.copy(deepcopy_values=False)
    conf = copy(state.parse_conf)
    conf.callbacks = {}
    state.parse_conf = conf
    try:
        for t in tokens:
            state.feed_token(t, is_end=t.type == "$END")
    except UnexpectedToken:
        return False
    return True


def _fake(type_: str, like: Token) -> Token:
    return Token(type_, _SYMBOLS.get(type_, ""), like.start_pos, like.line, like.column,
                 like.end_line, like.end_column, like.end_pos)


def _statement(stack: list) -> list:
    """The values of the statement being read: after the last complete one, from its keyword."""
    items: list = []
    for x in reversed(stack):
        if isinstance(x, (ast.Stmt, Tree)):
            break
        items.append(x)
    items.reverse()
    for i in range(len(items) - 1, -1, -1):
        x = items[i]
        if isinstance(x, Token) and x.type in STATEMENT_START:
            return items[i:]
    for i in range(len(items) - 1, 1, -1):  # `lower NAME {`: the block's statements follow
        if _is_tok(items[i], "LBRACE") and _is_tok(items[i - 1], "NAME") and _is_tok(items[i - 2], "NAME"):
            return items[i + 1 :]
    return items


def _source(span: Span) -> str:
    line = span.source_line() or ""
    return line[span.col - 1 : span.end_col - 1] if span.end_line == span.line and span.end_col else "{...}"


def _is_tok(x: Any, type_: str) -> bool:
    return isinstance(x, Token) and x.type == type_


def _end(x: Any) -> tuple[int, int] | None:
    """Line and column just after a value-stack item."""
    if isinstance(x, Token):
        return x.end_line, x.end_column
    if isinstance(x, _Op):
        return x.token.end_line, x.token.end_column
    if isinstance(x, (ast.Node, _Braces, _Attr)) and x.span is not None:
        return x.span.end_line or x.span.line, x.span.end_col or x.span.col
    if isinstance(x, dict) and "span" in x:
        return _end(_Attr("", None, "", x["span"]))
    if isinstance(x, Tree):
        return _end(x.children[-1]) if x.children else None
    if isinstance(x, list):
        return _end(x[-1]) if x else None
    return None


def _describe(tok: Token) -> str:
    if tok.type in _WORDS and tok.type != "NAME":
        return _WORDS[tok.type] if tok.type != "NUMBER" else f"the number {tok.value}"
    if tok.type == "STRING":
        return f"the string {tok.value}"
    return f"'{tok.value}'"


def _phrase(term: str) -> str:
    if term in _WORDS:
        return _WORDS[term]
    if term in _SYMBOLS:
        return f"'{_SYMBOLS[term]}'"
    return f"'{term.lower()}'"


def _expected(accepts: set[str]) -> str:
    """A short list of what could come next, in modeler's words."""
    terms = set(accepts)
    phrases: list[tuple[int, str]] = []

    def group(members: frozenset[str], phrase: str, at_least: int) -> None:
        nonlocal terms
        if len(terms & members) >= at_least:
            phrases.append((_rank(phrase), phrase))
            terms -= members

    group(STATEMENT_START | {"$END", "NAME"}, "a statement", 4)
    if terms & {"NAME", "NUMBER"}:  # an operand may start here: `-`, `not`, `union` begin it
        group(_EXPR_START, "an expression", 3)
    if len(terms & _OPERATORS) >= 4:  # then `(` and `[` after a name are just more operators
        terms -= {"LPAR", "LSQB"}
    group(_OPERATORS, "an operator", 4)
    group(_ATTRIBUTES, "an attribute", 2)
    phrases += [(_rank(t), _phrase(t)) for t in terms]
    words = [p for _, p in sorted(phrases)][:5]
    if not words:
        return "something else"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _rank(term: str) -> int:
    return _ORDER.index(term) if term in _ORDER else len(_ORDER) - 2
