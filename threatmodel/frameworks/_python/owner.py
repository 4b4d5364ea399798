"""Ownership checks: a function that refuses unless the caller owns what was asked for.

The Python side of the notion the JS side has ("ownership lookups make a route
restricted"). Two shapes, both turning away a signed-in caller who is not the object's
owner (or a member of its project), so a route that runs one is ``restricted``:

- a lookup that refuses when nothing matches (``get_object_or_404``, ``first_or_404``,
  ``Model.objects.get``), filtered both by the caller (``user=request.user``,
  ``Note.owner_id == current_user.id``) and by something the request chose
  (``project=check.project``, ``pk=pk``). Filtered by the caller alone it only fetches the
  caller's own record (``Profile.objects.get(user=request.user)``): no one else's object is
  ever at stake, so that is no ownership check;
- an ``if`` that compares the caller with an object's attribute (``obj.owner !=
  request.user``) and rejects on one arm (403, ``PermissionDenied``, or a 404 that hides
  the object: ``Http404``, ``abort(404)``).

Only the function's top-level statements count (a check nested in a branch guards that
branch). An earlier top-level ``return`` lets callers skip the check unless its test is
about the caller (``if request.user.is_superuser: return obj``: a superuser or owner
shortcut, still no stranger gets through).
"""

from __future__ import annotations

import ast

from threatmodel.code.pyast import dotted, last, walk
from threatmodel.frameworks._python.reject import stmt_reject

# Expressions that name the signed-in caller (prefixes of a dotted name).
_CALLER = (
    "request.user",
    "request.profile",
    "self.request.user",
    "current_user",
    "g.user",
    "info.context.user",
    "info.context.request.user",
    "request.auth",
    "get_current_user",  # django-crum and its kind: the request's user, from anywhere
)
# Lookups that refuse (404, or an uncaught DoesNotExist) when no row matches.
_REFUSING = {"get_object_or_404", "first_or_404", "get_or_404", "one_or_404"}
# Words (``reject.words_of``) every one of them says: a function saying none names no caller.
CALLER_WORDS = ("user", "profile", "auth")
# Rejections that hide an object from a stranger: as good as a 403 after an owner test.
_NOT_FOUND = {"Http404", "NotFound", "HTTPNotFound", "HttpResponseNotFound"}
_CMP_OPS = (ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In, ast.NotIn)


def is_caller(node: ast.AST) -> bool:
    """Does the expression name the signed-in caller (``request.user.id``, ``current_user``)?"""
    for n in walk(node):  # ast.walk's nodes and order, listed faster (hot: every summary)
        if isinstance(n, ast.Name | ast.Attribute):
            d = dotted(n)
            if any(d == c or d.startswith(c + ".") for c in _CALLER):
                return True
    return False


def _constant(node: ast.AST) -> bool:
    return all(isinstance(n, ast.Constant | ast.expr_context) for n in walk(node))


def _filters(call: ast.Call) -> list[ast.expr]:
    """The filter expressions of a lookup and of the query calls it is chained onto."""
    out: list[ast.expr] = []
    node: ast.AST = call
    while isinstance(node, ast.Call):
        args = node.args[1:] if last(dotted(node.func)) == "get_object_or_404" else node.args
        out += [*args, *(k.value for k in node.keywords if k.arg)]
        func = node.func
        node = func.value if isinstance(func, ast.Attribute) else ast.Constant(None)
    return out


def _caller_filter(f: ast.expr) -> bool:
    """``request.user`` itself, or ``Model.owner_id == current_user.id`` (SQLAlchemy)."""
    if isinstance(f, ast.Compare):
        return any(is_caller(s) for s in [f.left, *f.comparators])
    return is_caller(f)


def lookup_call(call: ast.Call) -> bool:
    """A refusing lookup filtered by the caller and by something else the request chose."""
    name = dotted(call.func)
    if last(name) not in _REFUSING and not (last(name) == "get" and ".objects" in name):
        return False
    filters = _filters(call)
    mine = [f for f in filters if _caller_filter(f)]
    other = [f for f in filters if not _caller_filter(f) and not _constant(f)]
    return bool(mine) and bool(other)


def owner_compare(test: ast.expr) -> bool:
    """``obj.owner != request.user`` / ``request.user.id == obj.project.owner_id``."""
    node = test.operand if isinstance(test, ast.UnaryOp) else test
    if not isinstance(node, ast.Compare) or len(node.ops) != 1:
        return False
    if not isinstance(node.ops[0], _CMP_OPS):
        return False
    a, b = node.left, node.comparators[0]
    for mine, theirs in ((a, b), (b, a)):
        if is_caller(mine) and not is_caller(theirs) and isinstance(theirs, ast.Attribute):
            return True
    return False


def hides(stmt: ast.stmt) -> bool:
    """``raise Http404`` / ``abort(404)`` / ``return HttpResponseNotFound()``."""
    expr: ast.AST | None = None
    if isinstance(stmt, ast.Raise):
        expr = stmt.exc
    elif isinstance(stmt, ast.Return | ast.Expr):
        expr = stmt.value
    if expr is None:
        return False
    if last(dotted(expr)) in _NOT_FOUND:
        return True
    return (
        isinstance(expr, ast.Call)
        and last(dotted(expr.func)) == "abort"
        and any(isinstance(a, ast.Constant) and a.value == 404 for a in expr.args[:1])
    )


def _refuses(block: list[ast.stmt], assigns: dict[str, ast.expr]) -> bool:
    return any(stmt_reject(s, assigns) or hides(s) for s in block)


def _serves(block: list[ast.stmt], assigns: dict[str, ast.expr]) -> bool:
    """Does the block return something other than an error (a way past the check)?"""
    for s in block:
        if isinstance(s, ast.Return) and not (stmt_reject(s, assigns) or hides(s)):
            name = last(dotted(s.value)) if s.value is not None else ""
            if not any(w in name for w in ("BadRequest", "Error", "NotAllowed", "Gone")):
                return True
    return False


def _swallowed(body: list[ast.stmt]) -> set[int]:
    """Statements of ``try`` bodies whose ``except`` serves instead of refusing: a lookup
    there that finds nothing falls into the handler, so it refuses no one."""
    out: set[int] = set()
    for s in body:
        if isinstance(s, ast.Try):
            refuses = all(
                any(isinstance(x, ast.Raise) or hides(x) for x in h.body) for h in s.handlers
            )
            if not refuses:
                out |= {id(x) for x in s.body}
            out |= _swallowed(s.body)
        elif isinstance(s, ast.With | ast.AsyncWith):
            out |= _swallowed(s.body)
    return out


def ownership_line(
    top: list[ast.stmt],
    assigns: dict[str, ast.expr],
    body: list[ast.stmt],
    lookups: bool = True,
) -> int:
    """The line of the first top-level ownership check among ``top`` (0: none).

    ``top``: the function's top-level statements (looking through ``try`` / ``with``);
    ``body``: the function's body, to tell which ``try`` swallows what fails in it;
    ``lookups``: False when no call anywhere in the function is a ``lookup_call`` (the
    caller knows from its one walk), so no statement needs walking for one.
    """
    swallowed = _swallowed(body)
    for stmt in top:
        if id(stmt) in swallowed:
            continue
        if isinstance(stmt, ast.If):
            yes, no = _refuses(stmt.body, assigns), _refuses(stmt.orelse, assigns)
            if owner_compare(stmt.test) and yes != no:
                return stmt.lineno
            serves = _serves(stmt.body, assigns) or _serves(stmt.orelse, assigns)
            if serves and not is_caller(stmt.test):
                return 0  # some callers return before any check
            continue
        if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.Expr | ast.Return):
            value = stmt.value
            if isinstance(value, ast.Await):
                value = value.value
            # pyast.walk, not ast.walk: a tenth of saleor's pyweb extract was this walk.
            if (
                lookups
                and value is not None
                and any(lookup_call(n) for n in walk(value) if isinstance(n, ast.Call))
            ):
                return stmt.lineno
        if isinstance(stmt, ast.Return):
            return 0
    return 0
