"""One piece of a string cut at a separator holds no separator.

``name = url.split('/')[-1]`` is the last path segment: whatever the input was, no ``/`` is
left in it, which is what ``os.path.basename`` gives (a path_traversal sanitizer of the
catalog). Only a cut at ``/`` marks anything (``pyexpr.subscript``), and only for path
traversal: a piece cut at ``&`` of a query string is no more safe for a shell than the query
(no intent to guard, unlike a written ``'&' not in x``). Only a piece picked at once by a
constant index: the list itself keeps every piece and, joined back (``os.path.join(base,
*parts)``), every separator.

Which pieces are free of the separator:

- ``s.split(sep)[i]`` / ``s.rsplit(sep)[i]``: any ``i``;
- ``s.split(sep, n)[i]`` for ``0 <= i < n`` (the last piece keeps the rest), and
  ``s.rsplit(sep, n)[i]`` for ``-n <= i < 0``;
- ``s.partition(sep)[0]`` and ``s.rpartition(sep)[2]`` (or ``[-1]``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from threatmodel.dataflow.values import Value

CUTS = frozenset({"split", "rsplit", "partition", "rpartition"})


def free_of(node: ast.Subscript, index: object, value: Callable[[ast.expr], Value]) -> str:
    """The separator ``node`` (a subscript by the constant ``index``) cannot hold, or "".
    ``value`` evaluates an argument (the separator may be a named constant)."""
    call = node.value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return ""
    method = call.func.attr
    if method not in CUTS or not isinstance(index, int) or isinstance(index, bool):
        return ""
    if not call.args or (call.keywords and method in ("partition", "rpartition")):
        return ""
    sep = value(call.args[0])
    if not (sep.known and isinstance(sep.const, str) and sep.const):
        return ""
    if method == "partition":
        return sep.const if index == 0 else ""
    if method == "rpartition":
        return sep.const if index in (2, -1) else ""
    limit = _maxsplit(call, value)
    if limit is None:
        return ""
    if limit < 0:
        return sep.const
    if method == "split":
        return sep.const if 0 <= index < limit else ""
    return sep.const if -limit <= index < 0 else ""


def _maxsplit(call: ast.Call, value: Callable[[ast.expr], Value]) -> int | None:
    """``maxsplit`` as written (positional or keyword), -1 (no limit) when absent; None
    when it is not a known integer."""
    given = call.args[1] if len(call.args) > 1 else None
    for k in call.keywords:
        if k.arg == "maxsplit":
            given = k.value
        elif k.arg != "sep":
            return None
    if given is None:
        return -1
    got = value(given)
    return got.const if got.known and isinstance(got.const, int) else None
