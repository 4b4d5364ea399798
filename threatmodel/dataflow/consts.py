"""The constant evaluator: what a Python expression computes when every operand is known.

One table per expression form Python has (binary and unary operators, comparisons, pure
builtins, the non-mutating methods of ``str`` / ``bytes`` / ``int`` / ``tuple``), so a
condition folds whatever its spelling (``2 ** 7 > n``, ``len("abc") == 3``,
``"ABC".lower()[1] == "b"``, ``~n & 1``) and a dead branch is known. Evaluation is bounded:
an operation that would build a huge value or fail gives ``UNKNOWN``, never an exception,
because repository code is untrusted input.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import Any

from threatmodel.dataflow.values import UNKNOWN

MAX_LEN = 10_000  # longest string / bytes / tuple a fold may produce
MAX_INT_BITS = 4_096

BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
    ast.BitAnd: operator.and_,
}
UNARY: dict[type, Callable[[Any], Any]] = {
    ast.Not: operator.not_,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Invert: operator.invert,
}
CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
# Builtins without side effects whose result depends only on their arguments.
_PURE: tuple[Callable[..., Any], ...] = (len, str, int, float, bool, abs, min, max, sum, ord)
_PURE += (chr, round, hex, oct, bin, repr, sorted, tuple, any, all, divmod, pow, bytes)
BUILTINS: dict[str, Callable[..., Any]] = {f.__name__: f for f in _PURE}
# Methods of immutable values that compute a new value and change nothing.
PURE_METHODS = frozenset(
    {"capitalize", "casefold", "center", "count", "decode", "encode", "endswith", "expandtabs"}
    | {"find", "format", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit"}
    | {"isidentifier", "islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper"}
    | {"join", "ljust", "lower", "lstrip", "partition", "removeprefix", "removesuffix"}
    | {"replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split"}
    | {"splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill", "hex"}
    | {"bit_length", "bit_count", "is_integer", "conjugate"}
)
# A width in a format spec builds a string that long: "%999999999d", "{:>999999999}".
_WIDE = re.compile(r"[%:][^%{}]*?\d{5,}")
_SMALL = (int, float, str, bool, bytes, type(None), tuple, complex)


def _sized(args: tuple[Any, ...]) -> bool:
    """Inputs small enough that no pure operation on them builds a huge value."""
    total = 0
    for a in args:
        if isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_LEN:
            return False
        if isinstance(a, str | bytes | tuple):
            total += len(a)
    return total <= MAX_LEN


def _ok(out: Any) -> Any:
    if isinstance(out, str | bytes | tuple) and len(out) > MAX_LEN:
        return UNKNOWN
    if isinstance(out, int) and out.bit_length() > MAX_INT_BITS:
        return UNKNOWN
    if isinstance(out, list) and len(out) <= MAX_LEN and all(isinstance(x, _SMALL) for x in out):
        return out
    if isinstance(out, tuple) and not all(isinstance(x, _SMALL) for x in out):
        return UNKNOWN
    return out if isinstance(out, _SMALL) else UNKNOWN


def fold(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` on known constants, or UNKNOWN when it fails or grows too large."""
    try:
        return _ok(fn(*args))
    except Exception:
        return UNKNOWN


def binop(op: ast.operator, a: Any, b: Any) -> Any:
    fn = BINOPS.get(type(op))
    if fn is None:
        return UNKNOWN
    numbers = isinstance(op, ast.Mult) and all(isinstance(x, int | float) for x in (a, b))
    if isinstance(op, ast.Pow | ast.LShift | ast.Mult) and not numbers and not _sized((a, b)):
        return UNKNOWN  # 10 ** 10 ** 9, "x" * 10 ** 9, 1 << 10 ** 9: never built
    if isinstance(op, ast.Pow) and isinstance(b, int) and abs(b) > 1_024:
        return UNKNOWN
    if isinstance(op, ast.Mod) and isinstance(a, str) and _WIDE.search(a):
        return UNKNOWN
    return fold(fn, a, b)


def unary(op: ast.unaryop, v: Any) -> Any:
    fn = UNARY.get(type(op))
    return UNKNOWN if fn is None else fold(fn, v)


def compare(op: ast.cmpop, a: Any, b: Any) -> Any:
    fn = CMPOPS.get(type(op))
    return UNKNOWN if fn is None else fold(fn, a, b)


def builtin(name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    fn = BUILTINS.get(name)
    if fn is None or not _sized((*args, *kwargs.values())):
        return UNKNOWN
    return fold(lambda: fn(*args, **kwargs))


def method(receiver: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    if name not in PURE_METHODS or not isinstance(receiver, _SMALL):
        return UNKNOWN
    if not _sized((receiver, *args, *kwargs.values())):
        return UNKNOWN
    new = args[1] if name == "replace" and len(args) >= 2 else ""
    grow = len(new) if isinstance(new, str | bytes) else 1
    if isinstance(receiver, str | bytes) and len(receiver) * max(grow, 1) > MAX_LEN * 100:
        return UNKNOWN
    if name == "format" and isinstance(receiver, str) and _WIDE.search(receiver):
        return UNKNOWN
    fn = getattr(receiver, name, None)
    if fn is None:
        return UNKNOWN
    return fold(lambda: fn(*args, **kwargs))
