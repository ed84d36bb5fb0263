"""The AMPL/GMPL data-command language (`.dat` files and inline `data; ... end;` sections).

    set I := Seattle San-Diego;                       set LINKS := (a, x) (b, y);
    set LINKS := (Seattle,*) Chicago Topeka;          set LINKS : Chicago Topeka := Seattle + - ;
    set S[a] := 1 2;                                  param f := 90;
    param a := Seattle 350  San-Diego 600;            param d : NY Chi := Sea 2.5 1.7 ;
    param d (tr) : Sea SD := NY 2.5 2.5 ;             param c := [*,*,A] : x y := ... ;
    param p default 0 := ... ;                        param: I: supply demand := A 10 5 ;

Which form a statement takes is decided by the declared dimension in `schema`. Big tables and lists
are read a whole run of tokens at a time through numpy; a slower token-by-token walk runs only to
explain an error.
"""

from __future__ import annotations

from collections.abc import Mapping

from .dat_params import check_duplicates, param_statement
from .dat_reader import Reader
from .dat_tokens import END, WORD, Tokens
from .store import DataStore, Declared

# AMPL script commands that appear after data in AMPL files (`let _con[1] := 0;`), named when met
_AMPL_COMMANDS = frozenset("let fix unfix reset include model problem solve display print printf write option".split())


def parse_dat(
    text: str,
    file: str,
    schema: Mapping[str, Declared],
    line_offset: int = 0,
    col_offset: int = 0,
) -> DataStore:
    """Read AMPL/GMPL data commands into a DataStore.

    `file` names the source in errors. For an inline data section, `line_offset` is the number of
    lines of the enclosing file before `text` starts and `col_offset` the columns before it on its
    first line, so that errors point into the enclosing file.
    """
    reader = Reader(Tokens(text, file, line_offset, col_offset), schema)
    _run(reader)
    return reader.store


def _run(r: Reader) -> None:
    """Statement dispatch over the whole text."""
    t = r.t
    while t.kind() != END:
        word = t.text() if t.kind() == WORD else None
        if word == "set":
            r.set_statement()
        elif word == "param":
            param_statement(r)
        elif word == "var" and t.i + 1 < len(t.texts) and (t.texts[t.i + 1] == ":" or getattr(
                r.schema.get(t.texts[t.i + 1]), "kind", None) == "var"):
            param_statement(r, "var")  # AMPL's initial values in the data
        elif word == "data":
            t.i += 1
            t.expect(";", "after 'data'")
        elif word == "end":
            t.i += 1
            if t.kind() != END:
                t.expect(";", "after 'end'")
            break
        elif t.accept(";"):
            pass
        else:
            hint = None
            if word is not None and word in r.schema:
                d = r.schema[word]
                hint = f"start the statement with '{d.kind}': {d.kind} {word} := ...;"
            if word in _AMPL_COMMANDS:
                t.fail(f"AMPL's command '{word}' is not supported: a data section holds set, param and var "
                       "statements", hint="give values in the data ('param p := …;', 'var x := …;')")
            t.fail(f"expected a data statement ('set' or 'param'), found {t.describe(t.i)}", hint=hint)
    check_duplicates(r)
