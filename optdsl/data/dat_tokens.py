"""Tokens of the AMPL/GMPL data-command language, and a cursor over them with located errors.

Speed matters here: a 1000x1000 table is a million tokens. So the text is cut only at the few
"special" tokens (strings, comments, punctuation) by one regex split, the plain stretches between
them are cut with `str.split`, token kinds are read from the text when the reader asks, and
positions (line, column) are worked out only for errors and for `ParamData.lines`.
"""

from __future__ import annotations

import bisect
import re

import numpy as np

from optdsl.errors import DataError, Span

from .labels import NUMBER, number_label, numeric_labels

# Token kinds.
NUM, STR, TR, PUNCT, DOT, PM, WORD, END = range(1, 9)

# Anything that is not part of a plain stretch (words, numbers, '.', '+', '-', ASCII blanks):
# the start of a special token, or a character the data language does not have.
_STOP = re.compile(r"[^\w.+\-\t\n\r\f\v ]")
_PLAIN_ASCII = b"_.+-\t\n\r\f\v " + bytes(range(48, 58)) + bytes(range(65, 91)) + bytes(range(97, 123))
_STOP_BYTE = np.ones(256, dtype=bool)
_STOP_BYTE[np.frombuffer(_PLAIN_ASCII, dtype=np.uint8)] = False
_SPECIAL = re.compile(
    r"""'(?:[^'\n]|'')*'|"(?:[^"\n]|"")*"   # quoted string ('' or "" inside stands for one quote)
    |\(\s*tr\s*\)                           # the transposed-table marker
    |:=|[:;,()\[\]*]                        # punctuation
    |\#[^\n]*                               # comment
    |/\*(?:[^*]|\*(?!/))*\*/                 # block comment (GMPL, AMPL)
    """,
    re.X,
)
_WORD = re.compile(r"\S+")
_MAYBE_CONVERT = re.compile(r"\n[0-9+\-.'\"]")  # a token that may be a number or a quoted string
INFINITY = {"Infinity", "+Infinity", "-Infinity", "inf", "+inf", "-inf"}
_PUNCT = frozenset({":=", ":", ";", ",", "(", ")", "[", "]", "*"})


def kind_of(text: str) -> int:
    """The kind of a token, read from its text (the split keeps every kind distinguishable)."""
    if text in _PUNCT:
        return PUNCT
    c = text[0]
    if c == "'" or c == '"':
        return STR
    if c == "(":
        return TR
    if text == ".":
        return DOT
    if text == "+" or text == "-":
        return PM
    if NUMBER.fullmatch(text):
        return NUM
    return WORD


def is_label(text: str) -> bool:
    return kind_of(text) in (NUM, STR, WORD)


def token_label(text: str):
    """The label a NUM/STR/WORD token stands for: a number (int when integral), else a string."""
    c = text[0]
    if c == "'" or c == '"':
        return text[1:-1].replace(c + c, c)
    if NUMBER.fullmatch(text):
        return number_label(text)
    return text


def labels_of(texts: list[str]) -> list:
    """token_label over many tokens, with an all-numeric fast path through numpy."""
    fast = numeric_labels(texts)
    if fast is not None:
        return fast
    if _MAYBE_CONVERT.search("\n" + "\n".join(texts)) is None:  # bare words: labels as they are
        return list(texts)
    return [token_label(t) for t in texts]


def numbers_of(texts: list[str]) -> tuple[np.ndarray, int | None]:
    """The float values of value tokens ('.' gives NaN: entry missing) and the position of the
    first token that is not a number (None when all are). `Infinity` is allowed, `nan` is not."""
    dots = "." in texts
    src = ["nan" if t == "." else t for t in texts] if dots else texts
    try:
        arr = np.array(src, dtype=np.float64)
    except ValueError:
        arr = None
    if arr is not None and "_" not in "".join(texts):  # float() takes 1_000; a data file may not
        odd = ~np.isfinite(arr)
        if not odd.any():
            return arr, None
        bad = [j for j in np.flatnonzero(odd).tolist() if texts[j] != "." and texts[j] not in INFINITY]
        if not bad:
            return arr, None
        return arr, bad[0]
    out = np.empty(len(texts))
    for j, t in enumerate(texts):
        if t == ".":
            out[j] = np.nan
        elif t in INFINITY or NUMBER.fullmatch(t):
            out[j] = float(t)
        else:
            return out, j
    return out, None


def _stops(text: str) -> list[int]:
    """Offsets of the characters that end a plain stretch; numpy does the scan for ASCII text."""
    if text.isascii():
        codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        return np.flatnonzero(_STOP_BYTE[codes]).tolist()
    return [m.start() for m in _STOP.finditer(text)]


class Tokens:
    """The tokens of one data text (`texts`) and a cursor `i` over them."""

    def __init__(self, text: str, file: str, line_offset: int = 0, col_offset: int = 0) -> None:
        self.file = file
        self.raw = text
        self.line_offset = line_offset
        self.col_offset = col_offset
        # Padded so that Span.source_line() finds the line of the enclosing file (inline data).
        self.src = text if not (line_offset or col_offset) else "\n" * line_offset + " " * col_offset + text
        texts: list[str] = []
        # One row per stretch holding tokens: first token index, text offset, line (0-based), plain text.
        self._p_tok: list[int] = []
        self._p_off: list[int] = []
        self._p_line: list[int] = []
        self._p_plain: list[str | None] = []
        pos = line = 0
        for stop in _stops(text) + [len(text)]:
            if stop < pos:  # inside a string or comment already read
                continue
            plain = text[pos:stop]
            if plain and not plain.isspace():
                self._record(len(texts), pos, line, plain)
                texts.extend(plain.split())
            line += plain.count("\n")
            if stop == len(text):
                break
            m = _SPECIAL.match(text, stop)
            if m is None:
                ch = text[stop]
                if ch in "'\"":
                    msg = f"unterminated string: no closing {ch} on this line"
                    raise DataError(msg, self._span_at(stop, 1))
                if text.startswith("/*", stop):
                    raise DataError("unterminated comment: no closing */", self._span_at(stop, 2))
                raise DataError(f"unexpected character {ch!r} in the data", self._span_at(stop, 1))
            piece = m.group()
            if piece[0] != "#" and not piece.startswith("/*"):
                self._record(len(texts), stop, line, None)
                texts.append("(tr)" if piece[0] == "(" and len(piece) > 1 else piece)
            line += piece.count("\n")
            pos = m.end()
        self._end = len(text.rstrip())
        self._record(len(texts), self._end, text.count("\n", 0, self._end), None)
        texts.append("")
        self.texts = texts
        self.i = 0
        self._lines: np.ndarray | None = None
        self._specials = [t for t, plain in zip(self._p_tok, self._p_plain, strict=True) if plain is None]

    def _record(self, tok: int, off: int, line: int, plain: str | None) -> None:
        self._p_tok.append(tok)
        self._p_off.append(off)
        self._p_line.append(line)
        self._p_plain.append(plain)

    # -- positions ---------------------------------------------------------------------------
    def _offset(self, i: int) -> tuple[int, int]:
        """(text offset of token i, index of its stretch)."""
        p = bisect.bisect_right(self._p_tok, i) - 1
        plain = self._p_plain[p]
        if plain is None:
            return self._p_off[p], p
        k = i - self._p_tok[p]
        for j, m in enumerate(_WORD.finditer(plain)):
            if j == k:
                return self._p_off[p] + m.start(), p
        raise AssertionError("token index out of its stretch")

    def _span_at(self, offset: int, width: int) -> Span:
        line = self.raw.count("\n", 0, offset)
        col = offset - (self.raw.rfind("\n", 0, offset) + 1) + 1 + (self.col_offset if line == 0 else 0)
        line += 1 + self.line_offset
        return Span(self.file, line, col, line, col + max(1, width), self.src)

    def _line_col(self, i: int) -> tuple[int, int]:
        off, p = self._offset(i)
        start = self._p_off[p]
        line = self._p_line[p] + self.raw.count("\n", start, off)
        col = off - (self.raw.rfind("\n", 0, off) + 1) + 1 + (self.col_offset if line == 0 else 0)
        return line + 1 + self.line_offset, col

    def span(self, i: int) -> Span:
        line, col = self._line_col(i)
        return Span(self.file, line, col, line, col + max(1, len(self.texts[i])), self.src)

    def span_after(self, i: int) -> Span:
        """The spot just after token i (where a missing ';' belongs)."""
        line, col = self._line_col(i)
        col += len(self.texts[i])
        return Span(self.file, line, col, line, col + 1, self.src)

    def line(self, i: int) -> int:
        return self._line_col(i)[0]

    def token_lines(self) -> np.ndarray:
        """The line of every token, computed once with numpy (for ParamData.lines)."""
        if self._lines is None:
            parts = []
            bounds = self._p_tok[1:] + [len(self.texts)]
            for p, plain in enumerate(self._p_plain):
                n = bounds[p] - self._p_tok[p]
                if plain is None or "\n" not in plain:
                    parts.append(np.full(n, self._p_line[p], dtype=np.int64))
                    continue
                # Plain stretches hold only ASCII blanks (bytes <= 32) between word bytes.
                b = np.frombuffer(plain.encode("utf-8"), dtype=np.uint8)
                space = b <= 32
                starts = np.flatnonzero(~space[1:] & space[:-1]) + 1
                if not space[0]:
                    starts = np.concatenate([[0], starts])
                nl = np.flatnonzero(b == 10)
                parts.append(np.searchsorted(nl, starts) + self._p_line[p])
            self._lines = np.concatenate(parts) + 1 + self.line_offset
        return self._lines

    # -- cursor ------------------------------------------------------------------------------
    def kind(self, j: int = 0) -> int:
        i = self.i + j
        if i >= len(self.texts) - 1:
            return END
        return kind_of(self.texts[i])

    def text(self, j: int = 0) -> str:
        return self.texts[min(self.i + j, len(self.texts) - 1)]

    def at(self, punct: str) -> bool:
        return self.texts[self.i] == punct and self.i < len(self.texts) - 1

    def accept(self, punct: str) -> bool:
        if self.at(punct):
            self.i += 1
            return True
        return False

    def expect(self, punct: str, what: str) -> int:
        """Consume `punct` or fail with "expected ':=' after the set name, found 'a'"."""
        if not self.at(punct):
            self.fail(f"expected '{punct}' {what}, found {self.describe(self.i)}")
        self.i += 1
        return self.i - 1

    def describe(self, i: int) -> str:
        if i >= len(self.texts) - 1:
            return "the end of the data"
        return repr(self.texts[i]) if kind_of(self.texts[i]) == STR else f"'{self.texts[i]}'"

    def fail(self, message: str, i: int | None = None, hint: str | None = None):
        raise DataError(message, self.span(self.i if i is None else i), hint)

    def find_end(self, start: int, stops: frozenset[str]) -> int:
        """Index of the first token at or after `start` that is in `stops` (or the end marker).

        Stops are punctuation, so only the special tokens (recorded apart from the plain
        stretches) need looking at: a table body of a million numbers is skipped in one step.
        """
        texts = self.texts
        specials = self._specials
        for j in range(bisect.bisect_left(specials, start), len(specials)):
            if texts[specials[j]] in stops:
                return specials[j]
        return len(texts) - 1
