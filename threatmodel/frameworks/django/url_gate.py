"""A middleware that looks the resolved URL name up in a permission table and refuses.

Some Django apps guard their pages in one place rather than per view::

    URL_PERMISSIONS = {"edit_test": [("object", Test, "edit", "tid")], ...}

    class AuthorizationMiddleware:
        def process_view(self, request, view_func, view_args, view_kwargs):
            if request.path.startswith("/api/"):
                return
            checks = URL_PERMISSIONS.get(request.resolver_match.url_name)
            if not checks:
                return
            for check in checks:
                ...  # raise PermissionDenied unless the caller holds the permission

A route whose URL name (``path(..., name="edit_test")``) is a key of the table, and whose
path the middleware does not skip, is ``restricted`` by that entry whatever the view does
itself; other routes keep their state. The middleware counts only if it is installed
(``MIDDLEWARE``), reads the URL name of the resolved request (``resolver_match.url_name``,
``resolve(request.path).url_name``), looks it up in a module-level dict, and refuses after
the lookup (a raise or a returned 401/403 of its own, or a call the guard analysis finds
rejecting). Keys with an empty value check nothing. A key added only under an ``if`` holds
only when that ``if`` tests a boolean setting the settings modules default to true: a key
that may be absent never makes a route restricted.

Extract: ``gates`` (middleware classes of a module) and ``tables`` (string-keyed module
dicts, their keys). Link: ``UrlGate.apply`` on each named route's auth.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from threatmodel.code.pyast import dotted, last, line_text, str_const
from threatmodel.frameworks._python.guards import AUTHENTICATED, RESTRICTED
from threatmodel.frameworks._python.link import GuardTable, Resolver
from threatmodel.frameworks._python.reject import stmt_reject
from threatmodel.models import AuthStatus, Evidence, RouteAuth

HOOKS = ("process_view", "__call__", "process_request")
MAX_KEYS = 2000


def tables(tree: ast.Module, lines: list[str]) -> dict[str, Any]:
    """Module-level dicts whose keys are all strings: NAME -> {keys: {key: line}, cond: {key:
    setting}}. ``NAME.update({...})`` and ``NAME["k"] = v`` add keys, also under an ``if``
    (then ``cond`` names the setting tested, or "?" when it is not a plain setting)."""
    out: dict[str, Any] = {}

    def add(name: str, keys: list[tuple[str, int]], cond: str | None) -> None:
        t = out.setdefault(name, {"keys": {}, "cond": {}, "text": {}})
        for k, line in keys[:MAX_KEYS]:
            if cond is None:
                t["cond"].pop(k, None)
            elif k not in t["keys"] or k in t["cond"]:
                t["cond"][k] = cond
            t["keys"].setdefault(k, line)
            t["text"].setdefault(str(line), line_text(lines, line))

    def visit(body: list[ast.stmt], cond: str | None) -> None:
        for n in body:
            if isinstance(n, ast.If):
                test = dotted(n.test)
                visit(n.body, test.removeprefix("settings.") if test else "?")
                visit(n.orelse, "?")
            elif isinstance(n, ast.Assign) and len(n.targets) == 1:
                t = n.targets[0]
                if isinstance(t, ast.Name) and cond is None and (keys := _dict_keys(n.value)):
                    out.pop(t.id, None)
                    add(t.id, keys, None)
                elif (
                    isinstance(t, ast.Subscript)
                    and isinstance(t.value, ast.Name)
                    and t.value.id in out
                    and (k := str_const(t.slice)) is not None
                    and _checks(n.value)
                ):
                    add(t.value.id, [(k, n.lineno)], cond)
            elif (
                isinstance(n, ast.Expr)
                and isinstance(n.value, ast.Call)
                and isinstance(n.value.func, ast.Attribute)
                and n.value.func.attr == "update"
                and isinstance(n.value.func.value, ast.Name)
                and n.value.func.value.id in out
                and n.value.args
                and (keys := _dict_keys(n.value.args[0]))
            ):
                add(n.value.func.value.id, keys, cond)

    visit(tree.body, None)
    return out


def _checks(v: ast.expr) -> bool:
    """Does a table value ask for something? (``[]``, ``None``, ``""`` and False do not.)"""
    if isinstance(v, ast.List | ast.Tuple | ast.Set):
        return bool(v.elts)
    if isinstance(v, ast.Constant):
        return bool(v.value)
    return True


def _dict_keys(v: ast.expr) -> list[tuple[str, int]]:
    if not isinstance(v, ast.Dict) or not v.keys:
        return []
    keys = [(str_const(k), k.lineno if k else 0) for k in v.keys]
    if any(k is None for k, _ in keys):
        return []
    return [(k, line) for (k, line), val in zip(keys, v.values, strict=True) if k and _checks(val)]


def gates(tree: ast.Module, lines: list[str]) -> dict[str, Any]:
    """Middleware classes that look the request's URL name up in a module-level dict:
    class -> {table, line, text, skip (path prefixes let through first), calls (made after
    the lookup), rejects (a refusal of its own after the lookup)}."""
    out: dict[str, Any] = {}
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef):
            continue
        for fn in cls.body:
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) or fn.name not in HOOKS:
                continue
            if found := _gate(fn, lines):
                out[cls.name] = found
                break
    return out


def _gate(fn: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> dict[str, Any] | None:
    names: set[str] = set()  # variables holding the URL name
    lookup: tuple[str, int] | None = None
    for n in ast.walk(fn):
        if isinstance(n, ast.Assign) and _is_url_name(n.value):
            names |= {t.id for t in n.targets if isinstance(t, ast.Name)}
    for n in ast.walk(fn):
        table, arg = _lookup(n)
        keyed = arg is not None and (_is_url_name(arg) or dotted(arg) in names)
        line: int = getattr(n, "lineno", 0)
        if table and keyed and (lookup is None or line < lookup[1]):
            lookup = (table, line)
    if lookup is None:
        return None
    table, at = lookup
    skip: list[str] = []
    for stmt in fn.body:
        if stmt.lineno >= at:
            break
        if isinstance(stmt, ast.If) and not stmt.orelse and _lets_through(stmt.body):
            skip += _path_prefixes(stmt.test)
    after = [n for n in ast.walk(fn) if getattr(n, "lineno", 0) > at]
    calls = sorted({dotted(n.func) for n in after if isinstance(n, ast.Call) and dotted(n.func)})
    rejects = any(isinstance(n, ast.stmt) and stmt_reject(n, {}) for n in after)
    return {
        "table": table,
        "line": at,
        "text": line_text(lines, at),
        "skip": skip,
        "calls": calls,
        "rejects": rejects,
    }


def _is_url_name(node: ast.AST | None) -> bool:
    """``request.resolver_match.url_name`` / ``resolve(request.path_info).url_name``."""
    if not isinstance(node, ast.Attribute) or node.attr != "url_name":
        return False
    base = node.value
    if isinstance(base, ast.Call):
        return last(dotted(base.func)) == "resolve"
    return last(dotted(base)) in ("resolver_match", "match", "resolved")


def _lookup(n: ast.AST) -> tuple[str, ast.expr | None]:
    """(table, key expression) of ``T.get(k)``, ``T[k]`` or ``k in T`` with T a plain name."""
    if (
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "get"
        and isinstance(n.func.value, ast.Name)
        and n.args
    ):
        return n.func.value.id, n.args[0]
    if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name):
        return (n.value.id, n.slice) if isinstance(n.ctx, ast.Load) else ("", None)
    if (
        isinstance(n, ast.Compare)
        and len(n.ops) == 1
        and isinstance(n.ops[0], ast.In)
        and isinstance(n.comparators[0], ast.Name)
    ):
        return n.comparators[0].id, n.left
    return "", None


def _lets_through(body: list[ast.stmt]) -> bool:
    """``return`` / ``return None`` / ``return self.get_response(request)``: no refusal."""
    if len(body) != 1 or not isinstance(body[0], ast.Return):
        return False
    v = body[0].value
    return (
        v is None
        or (isinstance(v, ast.Constant) and v.value is None)
        or (isinstance(v, ast.Call) and last(dotted(v.func)) == "get_response")
    )


def _path_prefixes(test: ast.expr) -> list[str]:
    """``request.path.startswith("/api/")`` (or a tuple of prefixes, or ``or`` of such)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        parts = [_path_prefixes(v) for v in test.values]
        return [p for ps in parts for p in ps] if all(parts) else []
    if not (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Attribute)
        and test.func.attr == "startswith"
        and last(dotted(test.func.value)) in ("path", "path_info")
        and test.args
    ):
        return []
    arg = test.args[0]
    elts = arg.elts if isinstance(arg, ast.Tuple) else [arg]
    found = [str_const(e) for e in elts]
    return [s for s in found if s] if all(s is not None for s in found) else []


class UrlGate:
    """The installed middlewares that refuse by a URL-name table, and their tables."""

    def __init__(
        self,
        settings: Mapping[str, Any],
        resolver: Resolver,
        guards: GuardTable,
        flags: Mapping[str, tuple[bool, str, int, str]],
    ) -> None:
        # (middleware, its module's file, settings line, gate, table file, table data)
        self.gates: list[tuple[str, str, int, dict[str, Any], str, dict[str, Any]]] = []
        for _p, s in sorted(settings.items()):
            for name, line in s["middleware"]:
                module, _, cls = name.rpartition(".")
                mfile = resolver.module_file(module) if module else None
                gate = (
                    resolver.extracts.get(mfile or "", {})
                    .get("django", {})
                    .get("url_gates", {})
                    .get(cls)
                )
                if not gate or not mfile:
                    continue
                tfile, tsym, _ = resolver.resolve(mfile, gate["table"])
                table = (
                    resolver.extracts.get(tfile or "", {})
                    .get("django", {})
                    .get("tables", {})
                    .get(tsym)
                )
                if not table or not tfile or not _refuses(gate, mfile, guards):
                    continue
                keys = {
                    k: line
                    for k, line in table["keys"].items()
                    if k not in table["cond"] or _on(table["cond"][k], flags)
                }
                self.gates.append((name, mfile, line, gate, tfile, {**table, "keys": keys}))

    def apply(self, path: str, url_name: str | None, auth: RouteAuth) -> RouteAuth:
        """The route's auth once a table entry for its URL name refuses callers without it."""
        if not url_name or auth.status is AuthStatus.RESTRICTED:
            return auth
        for name, mfile, _line, gate, tfile, table in self.gates:
            if url_name not in table["keys"] or any(path.startswith(s) for s in gate["skip"]):
                continue
            kline = table["keys"][url_name]
            ev = [
                Evidence(
                    path=tfile,
                    start_line=kline,
                    end_line=kline,
                    snippet=table["text"].get(str(kline), ""),
                ),
                Evidence(
                    path=mfile, start_line=gate["line"], end_line=gate["line"], snippet=gate["text"]
                ),
            ]
            return RouteAuth(
                status=AuthStatus.RESTRICTED,
                mechanism=f"middleware {last(name)}: URL name {url_name!r} in {gate['table']}",
                evidence=ev + list(auth.evidence),
            )
        return auth


def _refuses(gate: dict[str, Any], file: str, guards: GuardTable) -> bool:
    if gate["rejects"]:
        return True
    return any(guards.verdict(file, c)[0] in (AUTHENTICATED, RESTRICTED) for c in gate["calls"])


def _on(cond: str, flags: Mapping[str, tuple[bool, str, int, str]]) -> bool:
    """A key added under ``if settings.X:``: present when X defaults to true."""
    flag = flags.get(last(cond))
    return flag is not None and flag[0]
