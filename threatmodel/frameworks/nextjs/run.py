"""Running a compiled Next.js middleware program for one route: does it turn the caller away?

``nextjs_flow`` compiles a middleware (and the helpers it hands the request to) into small
JSON programs at extract time; link time runs them here for each route's path and, for a
page in a host folder (``app/app.example.com/...``), its host, as an anonymous visitor.
Host tests name constants and predicates that may live in other files or workspace
packages (``ADMIN_HOSTNAMES.has(domain)``, ``isAppHostname(domain)``): ``lookup`` gives
them, so a middleware that dispatches per hostname to per-host helpers is followed into the
helper the route's host reaches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from threatmodel.frameworks.nextjs.flow import Program
from threatmodel.frameworks.nextjs.middleware import matches

Resolve = Callable[[str, str, str], "tuple[Program, str] | None"]
Lookup = Callable[[str, str, str], Any]
_FALL = "fall"


def run(
    program: Program,
    path: str,
    resolve: Resolve | None = None,
    host: str | None = None,
    lookup: Lookup | None = None,
    mod: str = "",
) -> list[Any] | None:
    """The reject statement an anonymous request to ``path`` on ``host`` reaches, or None
    (see ``outcome``)."""
    kind, stmt = outcome(program, path, resolve, host, lookup, mod)
    return stmt if kind == "reject" else None


def turns_members_away(
    program: Program,
    path: str,
    resolve: Resolve | None,
    host: str,
    lookup: Lookup | None,
    mod: str,
) -> list[Any] | None:
    """For a page in host folder ``host``: the ``NextResponse.next()`` a signed-in caller
    without the role the middleware looks up (``findUnique({userId: user.id})`` empty)
    ends at, instead of the rewrite into the host folder, or None. Such a caller never
    reaches the page: it is restricted."""
    _kind, stmt = outcome(program, path, resolve, host, lookup, mod, member=True)
    quote = str(stmt[2]) if stmt is not None and len(stmt) > 2 else ""
    return stmt if "NextResponse.next(" in quote and "rewrite" not in quote else None


def outcome(
    program: Program,
    path: str,
    resolve: Resolve | None = None,
    host: str | None = None,
    lookup: Lookup | None = None,
    mod: str = "",
    member: bool = False,
) -> tuple[str, list[Any] | None]:
    """How a request to ``path`` on ``host`` ends: ("reject" | "pass" | "fall", statement).

    The caller is anonymous (every auth lookup empty), or with ``member`` signed in but
    without any role or membership the middleware looks up. ``resolve(name, module,
    spec)`` gives the program of a function the middleware hands the request to (``return
    updateSession(req)``; ``spec`` when it is re-exported from a module, ``export { auth
    as middleware } from "./auth"``) and the module defining it; one it cannot give lets
    the request through. A ``guard`` statement (NextAuth's ``authorized`` callback before
    the wrapped function) refuses or lets the rest run. ``lookup(kind, name, module)``
    gives a constant the program names: ``"hosts"`` a list of hostnames, ``"hostfn"`` a
    host predicate's program. ``host`` None is any host: a test on it is undecided."""
    depth = [0]

    def find(kind: str, name: str, where: str) -> Any:
        return lookup(kind, name, where) if lookup is not None else None

    def host_value(c: Any, where: str) -> bool | None:
        op = c[0]
        if host is None:
            return None
        if op == "host_eq":
            return host == c[1]
        if op == "host_in_list":
            return host in c[1]
        if op == "host_prefix":
            return host.startswith(c[1])
        if op == "host_suffix":
            return host.endswith(c[1])
        if op == "host_in":
            hosts = find("hosts", c[1], where)
            return None if hosts is None else host in hosts
        if op == "host_fn" and depth[0] < 4:
            found = find("hostfn", c[1], where)
            if found is None:
                return None
            depth[0] += 1
            got = predicate(found[0], found[1])
            depth[0] -= 1
            return got if isinstance(got, bool) else None
        return None

    def value(c: Any, where: str) -> bool | None:
        op = c[0]
        if op == "const":
            return bool(c[1])
        if op == "auth":
            return member  # anonymous: every session / token lookup comes back empty
        if op == "role":  # a lookup keyed by the caller: nobody here holds a role
            return None if value(c[1], where) is None else False
        if op == "not":
            v = value(c[1], where)
            return None if v is None else not v
        if op in ("and", "or"):
            a, b = value(c[1], where), value(c[2], where)
            if op == "and":
                return (
                    False
                    if a is False or b is False
                    else (None if a is None or b is None else True)
                )
            return True if a is True or b is True else (None if a is None or b is None else False)
        if op == "path_eq":
            return path == c[1]
        if op == "path_match":
            return matches(c[1], path)
        if op.startswith("host_"):
            return host_value(c, where)
        if op == "callv":  # a helper returning the session is empty for an anonymous caller
            return member if find("getter", c[1], where) is not None else None
        return None

    def predicate(stmts: Program, where: str) -> bool | str | None:
        """The value a host predicate returns, None when undecided, _FALL past its end."""
        for s in stmts:
            if s[0] == "ret":
                return value(s[1], where)
            if s[0] == "if":
                v = value(s[1], where)
                if v is not None:
                    got = predicate(s[2] if v else s[3], where)
                else:
                    a, b = predicate(s[2], where), predicate(s[3], where)
                    got = a if a == b else None
                if got != _FALL:
                    return got
        return _FALL

    def execute(stmts: Program, where: str) -> tuple[str, list[Any] | None]:
        for s in stmts:
            if s[0] == "reject":
                return "reject", s
            if s[0] == "pass":
                return "pass", s
            if s[0] in ("call", "guard"):
                spec = s[2] if len(s) > 2 else ""
                sub = resolve(s[1], where, spec) if resolve is not None and depth[0] < 4 else None
                kind, found = "pass", None
                if sub is not None:
                    depth[0] += 1
                    kind, found = execute(*sub)
                    depth[0] -= 1
                if kind == "reject":
                    return "reject", found
                if s[0] == "call":  # return helper(req): the helper's answer is final
                    return "pass", found
                continue  # a guard that lets the request through: the rest runs
            if s[0] == "if":
                v = value(s[1], where)
                branches = [s[2]] if v is True else [s[3]] if v is False else [s[2], s[3]]
                results = [execute(b, where) for b in branches]
                if all(r[0] == "reject" for r in results):
                    return results[0]
                if any(r[0] == "pass" for r in results) and v is not None:
                    return next(r for r in results if r[0] == "pass")
        return _FALL, None

    return execute(program, mod)
