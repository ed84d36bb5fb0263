"""The reader of AMPL/GMPL data commands: token helpers the set and param statements share, and
the set statements (param statements are in optdsl.data.dat_params; the entry point is
optdsl.data.dat.parse_dat)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from optdsl.errors import DataError, format_index

from .dat_tokens import DOT, END, PM, STR, WORD, Tokens, is_label, kind_of, labels_of, token_label
from .labels import lookup, plural
from .store import DataStore, Declared, SetData

STAR = None  # a '*' position in a slice template
_KEYWORDS = ("set", "param")  # `end` and `data` may well be labels: `set STATES := start end;`
# Tokens that end a run of labels/values: the next record starts or something is wrong there.
RUN_STOPS = frozenset({";", ",", "(", "[", ":", "(tr)", ":=", ")", "]", "*"})


class Reader:
    """Statement dispatch and the helpers the set and param statements share."""

    def __init__(self, tokens: Tokens, schema: Mapping[str, Declared]) -> None:
        self.t = tokens
        self.schema = schema
        self.store = DataStore()
        # Value-token indices of each keyed param, in store order, to locate duplicate entries.
        self.entry_tokens: dict[str, list[np.ndarray]] = {}
        self.may_repeat: set[str] = set()  # params whose entries may repeat (a table alone cannot)

    # -- shared helpers -----------------------------------------------------------------------
    def name(self, kind: str) -> tuple[str, Declared, int]:
        """Read a component name; it must be declared as a `kind`."""
        t = self.t
        i = t.i
        if t.kind() != WORD:
            t.fail(f"expected the name of a {kind} after '{kind}', found {t.describe(i)}")
        name = t.texts[i]
        decl = lookup(self.schema, name, kind, t.span(i))
        t.i += 1
        return name, decl, i

    def starts_statement(self, i: int) -> bool:
        """Whether token i looks like the start of the next statement (its ';' forgotten before)."""
        texts = self.t.texts
        if i >= len(texts) - 1 or texts[i] not in _KEYWORDS:
            return False
        nxt = texts[i + 1]
        return nxt in self.schema or nxt == ":" or (texts[i] == "param" and nxt == "default")

    def check_runaway(self, a: int, b: int, what: str) -> None:
        """A missing ';' lets a statement run into the next one: report it where the ';' belongs.

        A run of labels stops at the next punctuation, and the header of the next statement
        (`param d :=`, `set S[`, `param p default 0 :`) has some within four tokens of its
        keyword, so only the last four tokens of the run can start a statement.
        """
        for j in range(max(a, b - 4), b):
            if self.starts_statement(j):
                self.missing_semicolon(j - 1, what)

    def missing_semicolon(self, last: int, what: str) -> None:
        raise DataError(f"expected ';' at the end of the data for {what}", self.t.span_after(last))

    def end(self, what: str) -> None:
        """Consume the ';' that ends a statement."""
        t = self.t
        if t.accept(";"):
            return
        if t.kind() == END or self.starts_statement(t.i):
            self.missing_semicolon(t.i - 1, what)
        t.fail(f"expected ';' at the end of the data for {what}, found {t.describe(t.i)}")

    def bracket(self, what: str) -> tuple[list, int]:
        """Read `(a, *, 3)` or `[a, *, 3]`: a tuple or a slice (STAR marks a '*')."""
        t = self.t
        start = t.i
        close = ")" if t.texts[start] == "(" else "]"
        t.i += 1
        items: list = []
        while True:
            s = t.text()
            if s == "*":
                items.append(STAR)
            elif t.kind() in (STR, WORD) or (t.kind() != END and is_label(s)):
                items.append(token_label(s))
            else:
                t.fail(f"expected a label or '*' in the {what}, found {t.describe(t.i)}")
            t.i += 1
            if t.accept(","):
                continue
            if t.accept(close):
                return items, start
            t.fail(f"expected ',' or '{close}' in the {what}, found {t.describe(t.i)}")

    def check_run_labels(self, a: int, run: list[str], width: int, label_slots: int, what: str) -> None:
        """Tokens of a run in label positions (position % width < label_slots) must be labels."""
        for bad in (".", "+", "-"):
            if bad not in run:
                continue
            j = run.index(bad)
            while True:
                if j % width < label_slots:
                    self.t.fail(f"expected a label in the data of {what}, found '{bad}'", a + j)
                try:
                    j = run.index(bad, j + 1)
                except ValueError:
                    break

    # -- set statements ------------------------------------------------------------------------
    def set_statement(self) -> None:
        t = self.t
        t.i += 1
        name, decl, name_i = self.name("set")
        what = f"set '{name}'"
        key = None
        if t.at("["):
            if not (decl.index_sets or decl.subscripts):
                t.fail(f"set '{name}' is not indexed; give its members as: set {name} := ...;")
            items, start = self.bracket(f"subscript of set '{name}'")
            if STAR in items:
                t.fail(f"a subscript of set '{name}' cannot hold '*'", start)
            width = _index_width(self.schema, decl)
            if width is not None and len(items) != width:
                t.fail(
                    f"set '{name}' takes {plural(width, 'subscript')}; [{', '.join(map(str, items))}] has {len(items)}",
                    start,
                )
            key = tuple(items)
            what = f"set '{name}'{format_index(key)}"
        elif decl.index_sets:
            t.fail(
                f"set '{name}' is indexed over {', '.join(decl.index_sets)}: give the members of one "
                f"index at a time, as in: set {name}[...] := ...;"
            )
        # GMPL takes ':=' as an optional record: `set PLANTS 'Demand', 'Atom1';` lists members too
        if not (t.at(":=") or t.at(":") or t.at("(tr)") or t.at(";") or t.at("(") or t.at(",")
                or is_label(t.text())):
            t.fail(f"expected ':=' after the set name, found {t.describe(t.i)}")
        t.accept(":=")
        members, toks = self.set_records(name, max(decl.dimen, 1), what)
        self.end(what)
        check_unique_members(self, members, toks, what)
        data = SetData(name, members if key is None else [], t.span(name_i))
        if key is not None:
            data.indexed = {key: members}
        self.store.add_set(data)

    def set_records(self, name: str, k: int, what: str) -> tuple[list, list[int]]:
        """The records of a set statement up to its ';': members and the token where each starts."""
        t = self.t
        template: list = [STAR] * k
        members: list = []
        toks: list[int] = []
        while True:
            s = t.text()
            if t.kind() == END or s == ";":
                return members, toks
            if s == ",":
                t.i += 1
            elif s in ("(", "["):
                items, start = self.bracket(f"data of {what}")
                if len(items) != k:
                    shown = "(" + ", ".join("*" if x is STAR else str(x) for x in items) + ")"
                    t.fail(f"{what} has members of {plural(k, 'label')}; {shown} has {len(items)}", start)
                if STAR in items:
                    template = items
                    t.accept(":=")  # `(PREMIUM,*) := BUTANE SR_GAS` (AMPL allows ':=' after a slice)
                else:
                    members.append(tuple(items) if k > 1 else items[0])
                    toks.append(start)
            elif s == "(tr)":
                t.i += 1
                if not t.at(":"):
                    t.fail(f"expected ':' and the column labels after (tr), found {t.describe(t.i)}")
                self.set_table(name, what, template, True, members, toks)
            elif s == ":":
                self.set_table(name, what, template, False, members, toks)
            elif is_label(s):
                self.set_run(what, template, members, toks)
            else:
                t.fail(f"unexpected {t.describe(t.i)} in the data of {what}")

    def set_run(self, what: str, template: list, members: list, toks: list[int]) -> None:
        """A run of bare labels: each group of (number of '*') labels completes one member."""
        t = self.t
        a = t.i
        b = t.find_end(a, RUN_STOPS)
        self.check_runaway(a, b, what)
        run = t.texts[a:b]
        stars = [j for j, x in enumerate(template) if x is STAR]
        w = len(stars)
        self.check_run_labels(a, run, 1, 1, what)
        if len(run) % w:
            last = a + len(run) - len(run) % w
            given = f"{plural(len(run) % w, 'label')} given"
            if w < len(template):
                given += f" after the slice's {plural(len(template) - w, 'label')}"
            have = plural(len(template), "label")
            t.fail(f"incomplete member of {what}: members have {have}, {given}", last)
        labels = labels_of(run)
        if len(template) == 1:
            members.extend(labels)
            toks.extend(range(a, b))
        else:
            cols = [labels[stars.index(j) :: w] if x is STAR else [x] * (len(run) // w) for j, x in enumerate(template)]
            members.extend(zip(*cols, strict=True))
            toks.extend(range(a, b, w))
        t.i = b

    def set_table(self, name: str, what: str, template: list, tr: bool, members: list, toks: list) -> None:
        """`: c1 c2 := r1 + - r2 - +` — a '+' makes (row, column) a member ((column, row) with (tr))."""
        t = self.t
        stars = [j for j, x in enumerate(template) if x is STAR]
        if len(stars) != 2:
            t.fail(
                f"a table gives members over 2 positions; {what} has members of "
                f"{plural(len(template), 'label')}" + (" (put a slice such as (a,*,*) first)" if len(stars) > 2 else "")
            )
        t.i += 1
        cols, _ = table_header(self, what)
        n = len(cols)
        a = t.i
        b = t.find_end(a, RUN_STOPS)
        self.check_runaway(a, b, what)
        body = t.texts[a:b]
        cells = body[:]
        del cells[:: n + 1]
        rows_txt = body[:: n + 1]
        if len(body) % (n + 1) or any(c != "+" and c != "-" for c in cells) or not all(map(is_label, rows_txt)):
            _diagnose_set_table(self, what, a, b, n)
        rows = labels_of(rows_txt)
        no_repeats(self, rows, a, n + 1, "row", what)
        for r, row in enumerate(rows):
            for c in range(n):
                if cells[r * n + c] == "+":
                    first, second = (cols[c], row) if tr else (row, cols[c])
                    m = list(template)
                    m[stars[0]], m[stars[1]] = first, second
                    members.append(tuple(m))
                    toks.append(a + r * (n + 1) + 1 + c)
        t.i = b


def table_header(r: Reader, what: str) -> tuple[list, int]:
    """The column labels of a table, up to and including its ':='."""
    t = r.t
    start = t.i
    while t.kind() != END and t.text() not in (":=", ";") and is_label(t.text()):
        t.i += 1
    if t.i == start:
        t.fail(f"expected the column labels of the table for {what}, found {t.describe(t.i)}")
    if not t.at(":="):
        if r.starts_statement(t.i) or t.kind() == END or t.at(";"):
            t.fail(f"expected ':=' after the column labels of the table for {what}, found {t.describe(t.i)}")
        t.fail(f"expected a column label or ':=' in the table for {what}, found {t.describe(t.i)}")
    cols = labels_of(t.texts[start : t.i])
    no_repeats(r, cols, start, 1, "column", what)
    t.i += 1
    return cols, start


def no_repeats(r: Reader, labels: list, a: int, step: int, kind: str, what: str) -> None:
    if len(set(labels)) == len(labels):
        return
    seen: set = set()
    for j, lab in enumerate(labels):
        if lab in seen:
            r.t.fail(f"{kind} '{lab}' appears twice in the table for {what}", a + j * step)
        seen.add(lab)


def _diagnose_set_table(r: Reader, what: str, a: int, b: int, n: int) -> None:
    t = r.t
    texts = t.texts
    i = a
    while i < b:
        if not is_label(texts[i]):
            t.fail(f"expected a row label in the table for {what}, found '{texts[i]}'", i)
        j = i + 1
        while j < b and kind_of(texts[j]) == PM:
            j += 1
        if j < b and j - i - 1 < n and kind_of(texts[j]) == DOT:
            t.fail(f"expected '+' or '-' in the table for {what}, found '.'", j)
        if j - i - 1 != n:
            t.fail(
                f"row '{token_label(texts[i])}' of the table for {what} has "
                f"{plural(j - i - 1, 'entry')}; the table has {plural(n, 'column')}",
                i,
            )
        i = j
    raise AssertionError("set table rejected but no fault found")


def _index_width(schema: Mapping[str, Declared], decl: Declared) -> int | None:
    """How many subscripts an indexed set takes, when all its index sets are known sets."""
    if not decl.index_sets:  # indexed by an expression (`set C {1..m}`): its arity, if known
        return decl.subscripts or None
    width = 0
    for s in decl.index_sets:
        d = schema.get(s)
        if d is None or d.kind != "set":
            return None
        width += max(d.dimen, 1)
    return width


def check_unique_members(r: Reader, members: list, toks: list[int], what: str) -> None:
    if len(set(members)) == len(members):
        return
    seen: dict = {}
    for m, i in zip(members, toks, strict=True):
        if m in seen:
            shown = "(" + ",".join(map(str, m)) + ")" if isinstance(m, tuple) else f"'{m}'"
            r.t.fail(f"{what} has {shown} twice (first on line {r.t.line(seen[m])})", i)
        seen[m] = i
