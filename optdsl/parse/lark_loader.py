"""lark, loaded without the `regex` package: import lark's names from here.

lark imports `regex` whenever it is installed (50-80 ms of a 0.3 s start-up), yet uses it only
for grammars with Unicode categories, which ours has none of; so lark is loaded while `regex`
looks absent, and anything imported later still finds `regex` as usual.
"""

import sys

if "lark" not in sys.modules and "regex" not in sys.modules:
    sys.modules["regex"] = None  # type: ignore[assignment]
    try:
        import lark
    finally:
        del sys.modules["regex"]

import lark  # noqa: E402
from lark import Token, Transformer, Tree  # noqa: E402
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken  # noqa: E402

__all__ = ["lark", "Token", "Transformer", "Tree", "UnexpectedCharacters", "UnexpectedInput", "UnexpectedToken"]
