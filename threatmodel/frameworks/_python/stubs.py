"""A function kept as a stub in an extract: where its lines are and a checksum of them.

pyweb's extract keeps most functions this way and link summarises one when it reads it
(``collect/pyweb_lazy.py``); ``made.py`` parses a class or function from its own lines
where a stub or a class's span gives them.
"""

from __future__ import annotations

import ast
import zlib
from typing import Any

LAZY = "lazy"  # a stub's key: [first line (decorators included), last line, def line, crc]
FuncDef = ast.FunctionDef | ast.AsyncFunctionDef


def stub(fn: FuncDef, lines: list[str]) -> dict[str, Any]:
    first = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
    last = fn.end_lineno or fn.lineno
    return {LAZY: [first, last, fn.lineno, crc(lines, first, last)]}


def crc(lines: list[str], first: int, last: int) -> int:
    """The checksum of lines ``first``..``last`` (1-based) a stub keeps."""
    return zlib.crc32("\n".join(lines[first - 1 : last]).encode("utf-8", "surrogatepass"))
