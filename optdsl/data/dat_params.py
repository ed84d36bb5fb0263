"""`param` statements of the data language: scalar, list, table, (tr), slices, `param:` blocks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from optdsl.errors import DataError, format_index

from .dat_reader import RUN_STOPS, STAR, Reader, check_unique_members, no_repeats, table_header
from .dat_tokens import (
    DOT,
    END,
    INFINITY,
    NUM,
    STR,
    WORD,
    is_label,
    kind_of,
    labels_of,
    numbers_of,
    token_label,
)
from .labels import label_column, lookup, plural
from .store import Declared, ParamData, SetData


@dataclass
class _Entries:
    """Entries of one param gathered over the records of a statement."""

    name: str
    decl: Declared
    keys: list[list[np.ndarray]] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    toks: list[np.ndarray] = field(default_factory=list)

    def add(self, keys: list[np.ndarray], values: np.ndarray, toks: np.ndarray) -> None:
        self.keys.append(keys)
        self.values.append(values)
        self.toks.append(toks)


def param_statement(r: Reader, kind: str = "param") -> None:
    """`param NAME ... ;`, or AMPL's `var NAME := ...;` (initial values, read the same way)."""
    t = r.t
    t.i += 1
    default_i = None
    if t.text() == "default" and t.kind() == WORD:  # `param default 0 : p q := ...`
        t.i += 1
        default_i = _value_token(r, "after 'default'")
        if not t.at(":"):
            t.fail(f"expected ':' and the param names after 'param default', found {t.describe(t.i)}")
    if t.at(":"):
        _block(r, default_i, kind)
        return
    name, decl, name_i = r.name(kind)
    what = f"{kind} '{name}'"
    if t.text() == "default" and t.kind() == WORD:
        t.i += 1
        default_i = _value_token(r, f"after 'default' for {what}")
    default = None if default_i is None else _one_value(r, decl, what, default_i, "the default")
    if decl.dimen == 0:
        if default_i is not None and (t.at(";") or t.kind() == END):  # `param limit default 625;`
            r.end(what)
            r.store.add_param(ParamData(name, default=default, origin=t.span(name_i)))
            return
        t.accept(":=")  # optional in GMPL: `param T 3;`
        vi = _value_token(r, f"after ':=' for {what}")
        if t.texts[vi] == ".":
            t.fail(f"{what} has a single value; '.' leaves nothing to read", vi)
        value = _one_value(r, decl, what, vi, "its value")
        if not t.at(";") and t.kind() != END and not r.starts_statement(t.i):
            t.fail(f"{what} takes a single value; expected ';' after it, found {t.describe(t.i)}")
        r.end(what)
        r.store.add_param(ParamData(name, value=value, default=default, origin=t.span(name_i)))
        return
    if not (t.at(":=") or t.at(":") or t.at("(tr)") or t.at("[") or t.at(";") or is_label(t.text())):
        t.fail(f"expected ':=' or ':' after the param name, found {t.describe(t.i)}")
    t.accept(":=")  # optional in GMPL, where ':=' is one of the records
    acc = _Entries(name, decl)
    _records(r, acc, what)
    r.end(what)
    _flush(r, acc, default, name_i)


def _records(r: Reader, acc: _Entries, what: str) -> None:
    t = r.t
    k = acc.decl.dimen
    template: list = [STAR] * k
    while True:
        s = t.text()
        if t.kind() == END or s == ";":
            return
        if s == ",":
            t.i += 1
        elif s == "[":
            items, start = r.bracket(f"slice of {what}")
            if len(items) != k:
                t.fail(f"{what} has {plural(k, 'index')}; the slice has {plural(len(items), 'position')}", start)
            template = items  # with no '*' (GMPL's `[HELWAN,COKE_GAS] 16.0`) one value follows
            t.accept(":=")  # `param io [*,MID_C,*] := …` (AMPL allows ':=' after a slice)
        elif s == "(tr)" or s == ":":
            tr = s == "(tr)"
            if tr:
                t.i += 1
                if not t.at(":"):
                    t.fail(f"expected ':' and the column labels after (tr), found {t.describe(t.i)}")
            _table(r, acc, what, template, tr)
        elif is_label(s) or s == ".":
            _list_run(r, acc, what, template)
        else:
            t.fail(f"unexpected {t.describe(t.i)} in the data of {what}")


def _list_run(r: Reader, acc: _Entries, what: str, template: list) -> None:
    """`Seattle 350 San-Diego 600`: each entry is the labels of the slice's '*' positions, then a value."""
    t = r.t
    a = t.i
    b = t.find_end(a, RUN_STOPS)
    r.check_runaway(a, b, what)
    run = t.texts[a:b]
    stars = [j for j, x in enumerate(template) if x is STAR]
    w = len(stars) + 1
    r.check_run_labels(a, run, w, w - 1, what)
    per = f"each entry of {what} is {plural(w - 1, 'label')} and a value"
    if len(run) % w:
        last = a + len(run) - len(run) % w
        key = tuple(token_label(x) for x in run[len(run) - len(run) % w :])
        t.fail(f"the entry for {format_index(key)} of {what} has no value", last, hint=per)
    count = len(run) // w
    values, present = _values(
        r,
        acc.decl,
        what,
        run[w - 1 :: w],
        tok_of=lambda j: a + j * w + w - 1,
        key_of=lambda j: tuple(token_label(x) for x in run[j * w : j * w + w - 1]),
        hint=per,
    )
    cols = [_label_col(run[stars.index(j) :: w]) if x is STAR else _fixed(x, count) for j, x in enumerate(template)]
    toks = np.arange(a + w - 1, b, w)
    acc.add([c[present] for c in cols], values[present], toks[present])
    r.may_repeat.add(acc.name)
    t.i = b


def _table(r: Reader, acc: _Entries, what: str, template: list, tr: bool) -> None:
    """`: c1 c2 := r1 v11 v12  r2 v21 v22` — rows give the first '*' of the slice, columns the second
    (the other way round after (tr))."""
    t = r.t
    stars = [j for j, x in enumerate(template) if x is STAR]
    if len(stars) != 2:
        k = acc.decl.dimen
        extra = " (put a slice such as [*,*,A] before the ':')" if k > 2 and len(stars) > 2 else ""
        t.fail(
            f"a table gives values over 2 indices; {what} has {plural(k, 'index')}"
            + (f" and the slice leaves {len(stars)} open" if k > 2 and len(stars) < 2 else "")
            + extra
        )
    t.i += 1
    cols, _ = table_header(r, what)
    n = len(cols)
    w = n + 1
    a = t.i
    b = t.find_end(a, RUN_STOPS)
    r.check_runaway(a, b, what)
    body = t.texts[a:b]
    rows_txt = body[::w]
    if len(body) % w or not all(map(is_label, rows_txt)):
        _diagnose_table(r, acc.decl, what, a, b, cols)
    cells = body[:]
    del cells[::w]
    values, present = _values(
        r,
        acc.decl,
        what,
        cells,
        tok_of=lambda j: a + (j // n) * w + 1 + j % n,
        key_of=lambda j: (token_label(rows_txt[j // n]), cols[j % n]),
        on_bad=lambda: _diagnose_table(r, acc.decl, what, a, b, cols),
    )
    rows = labels_of(rows_txt)
    no_repeats(r, rows, a, w, "row", what)
    m = len(rows)
    ri = np.repeat(np.arange(m), n)[present]
    ci = np.tile(np.arange(n), m)[present]
    row_col, col_col = label_column(rows)[ri], label_column(cols)[ci]
    first, second = (col_col, row_col) if tr else (row_col, col_col)
    count = len(ri)
    keys = [None if x is STAR else _fixed(x, count) for x in template]
    keys[stars[0]], keys[stars[1]] = first, second
    acc.add(keys, values[present], a + ri * w + 1 + ci)
    if acc.keys[:-1]:
        r.may_repeat.add(acc.name)
    t.i = b


def _values(
    r: Reader,
    decl: Declared,
    what: str,
    texts: list[str],
    tok_of: Callable[[int], int],
    key_of: Callable[[int], tuple],
    hint: str | None = None,
    on_bad: Callable[[], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Values (float, or object for symbolic params) and the mask of those given (not '.').

    A bad value is reported at its token with its index; `on_bad` may first explain it better
    (a table row of the wrong length shows up as a label where a value belongs).
    """
    if decl.symbolic:
        bad = next((j for j, s in enumerate(texts) if not (s == "." or is_label(s))), None)
        vals = np.empty(len(texts), dtype=object)
        if bad is None:
            vals[:] = [None if s == "." else token_label(s) for s in texts]
        present = np.fromiter((s != "." for s in texts), dtype=bool, count=len(texts))
    else:
        vals, bad = numbers_of(texts)
        present = ~np.isnan(vals)
    if bad is not None:
        if on_bad is not None:
            on_bad()
        i = tok_of(bad)
        needs = "a value" if decl.symbolic else "a number"
        r.t.fail(
            f"{what} needs {needs} for {format_index(key_of(bad))}, found {r.t.describe(i)}",
            i,
            hint=hint if kind_of(texts[bad]) in (WORD, STR) else None,
        )
    return vals, present


def _diagnose_table(r: Reader, decl: Declared, what: str, a: int, b: int, cols: list) -> None:
    """Walk a table that failed the fast read, row by row, and report the row (or cell) at fault."""
    t = r.t
    texts = t.texts
    n = len(cols)

    def row_error(i: int, count: int) -> None:
        t.fail(
            f"row '{token_label(texts[i])}' of the table for {what} has {plural(count, 'entry')}; "
            f"the table has {plural(n, 'column')}",
            i,
        )

    if decl.symbolic:  # values are labels too: only the count can be wrong
        i = a + ((b - a) // (n + 1)) * (n + 1)
        row_error(i, b - i - 1)

    def is_value(s: str) -> bool:
        return s == "." or s in INFINITY or kind_of(s) == NUM

    i = a
    prev = None  # the previous row's label, while every row label so far is a word
    while i < b:
        if not is_label(texts[i]):
            t.fail(f"expected a row label in the table for {what}, found '{texts[i]}'", i)
        if prev is not None and kind_of(texts[i]) == NUM:
            j = prev + 1  # a number where a word label belongs: the previous row ran long
            while j < b and is_value(texts[j]):
                j += 1
            row_error(prev, j - prev - 1)
        j = i + 1
        while j < b and j - i - 1 < n and is_value(texts[j]):
            j += 1
        if j - i - 1 < n and j < b:
            # A word inside the row: a bad value if the numbers after it complete the row.
            k = j + 1
            while k < b and k - i - 1 < n and is_value(texts[k]):
                k += 1
            if k - i - 1 == n and (k == b or not is_value(texts[k])):
                key = (token_label(texts[i]), cols[j - i - 1])
                t.fail(f"{what} needs a number for {format_index(key)}, found {t.describe(j)}", j)
        if j - i - 1 != n:
            row_error(i, j - i - 1)
        prev = i if kind_of(texts[i]) != NUM and (prev is not None or i == a) else None
        i = j
    t.fail(f"the table for {what} does not divide into rows of a label and {plural(n, 'value')}", a)


def _block(r: Reader, default_i: int | None, kind: str = "param") -> None:
    """`param: [SET:] p q := k1 p1 q1  k2 p2 q2;` — several params (and optionally their set) at once;
    AMPL's `var: x y := …;` gives initial values the same way."""
    t = r.t
    t.i += 1
    set_i = None
    if t.kind() == WORD and t.text(1) == ":":
        set_i = t.i
        t.i += 2
    params: list[tuple[str, Declared, int]] = []
    while t.kind() == WORD and not r.starts_statement(t.i):
        params.append(r.name(kind))
        t.accept(",")
    if not params:
        t.fail(f"expected the names of the {kind}s after '{kind}:', found {t.describe(t.i)}")
    first, k = params[0][0], params[0][1].dimen
    for name, decl, i in params:
        if decl.dimen == 0:
            t.fail(f"a 'param:' block gives indexed params; '{name}' has no index", i)
        if decl.dimen != k:
            t.fail(
                f"the params of one 'param:' block need the same number of indices: '{first}' has "
                f"{k}, '{name}' has {decl.dimen}",
                i,
            )
    t.expect(":=", "after the param names")
    what = "the 'param:' block of '" + "', '".join(p[0] for p in params) + "'"
    set_name = None if set_i is None else t.texts[set_i]
    if set_i is not None:
        set_decl = lookup(r.schema, t.texts[set_i], "set", t.span(set_i))
        if max(set_decl.dimen, 1) != k:
            t.fail(
                f"set '{set_name}' has members of {plural(set_decl.dimen, 'label')}, but the params "
                f"here have {plural(k, 'index')}",
                set_i,
            )
    accs = [_Entries(name, decl) for name, decl, _ in params]
    members: list = []
    member_toks: list[int] = []
    w = k + len(params)
    per = f"each entry is {plural(k, 'label')} and {plural(len(params), 'value')}"
    while not t.at(";") and t.kind() != END:
        if t.accept(","):
            continue
        a = t.i
        if not (is_label(t.text()) or t.at(".")):
            t.fail(f"unexpected {t.describe(a)} in the data of {what}")
        b = t.find_end(a, RUN_STOPS)
        r.check_runaway(a, b, what)
        run = t.texts[a:b]
        r.check_run_labels(a, run, w, k, what)
        if len(run) % w:
            t.fail(f"the last entry of {what} is incomplete: {per}", a + len(run) - len(run) % w)
        keys = [_label_col(run[j::w]) for j in range(k)]
        if set_i is not None:
            members.extend(keys[0].tolist() if k == 1 else zip(*(c.tolist() for c in keys), strict=True))
            member_toks.extend(range(a, b, w))
        for p, acc in enumerate(accs):
            vals, present = _values(
                r,
                acc.decl,
                f"param '{acc.name}'",
                run[k + p :: w],
                tok_of=lambda j, p=p, a=a: a + j * w + k + p,
                key_of=lambda j, run=run: tuple(token_label(x) for x in run[j * w : j * w + k]),
                hint=per,
            )
            acc.add([c[present] for c in keys], vals[present], np.arange(a + k + p, b, w)[present])
            r.may_repeat.add(acc.name)
        t.i = b
    r.end(what)
    for (_, decl, i), acc in zip(params, accs, strict=True):
        default = None
        if default_i is not None:
            default = _one_value(r, decl, f"param '{acc.name}'", default_i, "the default")
        _flush(r, acc, default, i)
    if set_name is not None:
        check_unique_members(r, members, member_toks, f"set '{set_name}'")
        r.store.add_set(SetData(set_name, members, t.span(set_i)))  # type: ignore[arg-type]


def _flush(r: Reader, acc: _Entries, default, name_i: int) -> None:
    k = acc.decl.dimen
    if acc.keys:
        keys = [np.concatenate([c[j] for c in acc.keys]) for j in range(k)]
        values = np.concatenate(acc.values)
        toks = np.concatenate(acc.toks)
    else:
        keys = [np.empty(0, dtype=object) for _ in range(k)]
        values = np.empty(0, dtype=object if acc.decl.symbolic else np.float64)
        toks = np.empty(0, dtype=np.int64)
    lines = r.t.token_lines()[toks] if len(toks) else np.empty(0, dtype=np.int64)
    data = ParamData(acc.name, keys=keys, values=values, default=default, origin=r.t.span(name_i), lines=lines)
    if acc.name in r.store.params:
        r.may_repeat.add(acc.name)
    r.store.add_param(data)
    r.entry_tokens.setdefault(acc.name, []).append(toks)


def check_duplicates(r: Reader) -> None:
    """Each entry of a param may be given once (tables are repeat-free by their labels)."""
    for name in r.may_repeat:
        p = r.store.params[name]
        if p.keys is None or len(p.values) == 0:  # type: ignore[arg-type]
            continue
        cols = [c.tolist() for c in p.keys]
        keys = cols[0] if len(cols) == 1 else list(zip(*cols, strict=True))
        if len(set(keys)) == len(keys):
            continue
        toks = np.concatenate(r.entry_tokens[name])
        seen: dict = {}
        for j, key in enumerate(keys):
            if key in seen:
                idx = key if isinstance(key, tuple) else (key,)
                raise DataError(
                    f"param '{name}' is given twice for {format_index(idx)} "
                    f"(first on line {r.t.line(int(toks[seen[key]]))})",
                    r.t.span(int(toks[j])),
                )
            seen[key] = j


def _value_token(r: Reader, where: str) -> int:
    t = r.t
    if t.kind() in (NUM, STR, WORD, DOT) and not r.starts_statement(t.i):
        t.i += 1
        return t.i - 1
    t.fail(f"expected a value {where}, found {t.describe(t.i)}")
    raise AssertionError


def _one_value(r: Reader, decl: Declared, what: str, i: int, role: str):
    s = r.t.texts[i]
    if decl.symbolic:
        return token_label(s)
    if kind_of(s) == NUM or s in INFINITY:
        return float(s)
    r.t.fail(f"{what} needs a number for {role}, found {r.t.describe(i)}", i)


def _label_col(texts: list[str]) -> np.ndarray:
    return label_column(labels_of(texts))


def _fixed(label, count: int) -> np.ndarray:
    return np.repeat(label_column([label]), count)
