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
    """GMPL printf/sprintf: Python %-formatting of numbers and strings only."""
    fmt = fmt.encode("utf-8").decode("unicode_escape") if "\\" in fmt else fmt
    conv: list[Any] = []
    specs = [m.group(1) for m in _SPEC.finditer(fmt) if m.group(1) != "%"]
    if len(specs) != len(args):
        raise ModelError(f"printf format has {len(specs)} conversion(s) but {len(args)} argument(s)", span)
    for spec, a in zip(specs, args):
        if spec in "diouxXc":
            conv.append(int(round(float(a))) if not isinstance(a, str) else a)
        elif spec == "s":
            conv.append(format_scalar(a))
        else:
            conv.append(float(a))
    try:
        return fmt % tuple(conv)
    except (TypeError, ValueError) as err:
        raise ModelError(f"printf: {err}", span) from None
