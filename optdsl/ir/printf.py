"""printf-style formatting shared by `sprintf()` in expressions and the `printf`/`display` script
statements (optdsl/script.py)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from optdsl.errors import ModelError

_SPEC = re.compile(r"%[-+ #0]*\d*(?:\.\d+)?([diouxXeEfFgGsc%])")


def format_g(v: float) -> str:
    """A number as GMPL displays it (6 significant digits)."""
    return f"{float(v):.6g}"


def format_scalar(v: Any) -> str:
    """A label or value as display/printf show it: integral floats without a decimal point."""
    if isinstance(v, (float, np.floating)):
        return format_g(v) if not float(v).is_integer() else str(int(v))
    return str(v)


def format_printf(fmt: str, args: list[Any], span: Any) -> str:
    """GMPL printf/sprintf: Python %-formatting of numbers and strings only. An integer conversion
    of a value that has no integer (NaN, infinite, huge: e.g. no solution) prints it as text."""
    fmt = fmt.encode("utf-8").decode("unicode_escape") if "\\" in fmt else fmt
    matches = [m for m in _SPEC.finditer(fmt) if m.group(1) != "%"]
    if len(matches) > len(args):
        raise ModelError(f"printf format has {len(matches)} conversion(s) but {len(args)} argument(s)", span)
    args = args[:len(matches)]  # arguments beyond the format's conversions are ignored, as in GMPL and C
    pieces: list[str] = []
    conv: list[Any] = []
    last = 0
    for m, a in zip(matches, args):
        spec, text = m.group(1), m.group(0)
        if spec in "diouxXc" and not isinstance(a, str):
            v = float(a)
            if not np.isfinite(v) or abs(v) >= 2**63:
                text, a = re.sub(r"\.\d+", "", text[:-1]) + "s", format_g(v) if np.isfinite(v) else str(v)
            else:
                a = int(round(v))
        elif spec == "s":
            a = format_scalar(a)
        elif not isinstance(a, str):
            a = float(a)
        pieces.append(fmt[last:m.start()] + text)
        last = m.end()
        conv.append(a)
    pieces.append(fmt[last:])
    try:
        return "".join(pieces) % tuple(conv)
    except (TypeError, ValueError, OverflowError) as err:
        raise ModelError(f"printf: {err}", span) from None
