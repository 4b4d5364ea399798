"""Flask link: blueprint prefixes across files, and each route's auth, CSRF and rate limit.

A route's owner (an app or a blueprint, perhaps imported from another module) is resolved
through imports; a blueprint's prefix is the ``register_blueprint(url_prefix=)`` one, else
its own ``url_prefix``, under its parent's (nested blueprints). Guards: ``before_request``
hooks of the app and of every blueprint in the chain, the handler's decorators (followed
into their definitions), class-view ``decorators``, and the handler's own checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from threatmodel.code.collector import FactsBuilder
from threatmodel.code.pyast import last, normalize_angle
from threatmodel.code.urlpattern import pattern_converters
from threatmodel.frameworks._python.link import Guard, GuardTable, Resolver, guarded_route
from threatmodel.frameworks._python.settings import emit_middleware, emit_setting, resolve_secret
from threatmodel.frameworks.flask import generated as flask_generated
from threatmodel.frameworks.flask.registrars import registered_routes
from threatmodel.frameworks.flask.resources import VIEW_METHODS, Resources


def link(
    extracts: Mapping[str, Any], resolver: Resolver, guards: GuardTable, out: FactsBuilder
) -> None:
    fl = {p: d["flask"] for p, d in extracts.items()}
    apps = {(p, a) for p, d in fl.items() for a in d["apps"]}
    bps = {(p, n): v for p, d in fl.items() for n, v in d["blueprints"].items()}

    def key(file: str, name: str) -> tuple[str, str] | None:
        if (file, name) in bps or (file, name) in apps:
            return (file, name)
        target, symbol, _ = resolver.resolve(file, name)
        if target and ((target, symbol) in bps or (target, symbol) in apps):
            return (target, symbol)
        return None

    parents: dict[tuple[str, str], list[tuple[tuple[str, str] | None, str | None]]] = {}
    for p, d in fl.items():
        for owner, child, prefix, _line in d["registrations"]:
            ck = key(p, child)
            if ck in bps:
                parents.setdefault(ck, []).append((key(p, owner), prefix))

    def prefixes(k: tuple[str, str] | None, depth: int = 0) -> list[tuple[str, list[Any]]]:
        """[(prefix, blueprint chain)] for a route owner."""
        if k is None or k in apps or depth > 8:
            return [("", [])]
        own = bps[k]["prefix"]
        regs = parents.get(k) or [(None, None)]
        res = []
        for parent, reg_prefix in regs:
            pre = reg_prefix if reg_prefix is not None else (own or "")
            for pp, chain in prefixes(parent, depth + 1):
                res.append(
                    (pp.rstrip("/") + ("/" + pre.strip("/") if pre.strip("/") else ""), [*chain, k])
                )
        return res

    hooks: dict[tuple[str, str] | None, list[Guard]] = {}
    for p, d in fl.items():
        for owner, fn, line, kind, text in d["hooks"]:
            g = guards.as_guard(p, fn, f"before_request hook {fn}", (p, line, text))
            if g is not None:
                scope = None if kind == "before_app_request" else key(p, owner)
                hooks.setdefault(scope if scope in bps else None, []).append(g)
    limiter = _limiter(fl)

    def registrar_of(file: str, callee: str) -> dict[str, Any] | None:
        target, symbol, _ = resolver.resolve(file, callee)
        return fl[target].get("registrars", {}).get(symbol) if target in fl else None

    for p, d in fl.items():
        through = registered_routes(p, d.get("registrar_calls", []), registrar_of)
        for r in [*d["routes"], *through]:
            owner_key = key(p, r["owner"]) if r["owner"] else None
            if owner_key is None and not d["imports_flask"]:
                continue  # `@x.get("/")` on something not known to be Flask (FastAPI...)
            for prefix, chain in prefixes(owner_key):
                home, name = _home(p, r["handler"], resolver)
                where = (home, name, home.removesuffix(".py").replace("/", "."))
                _emit(out, p, where, r, prefix, chain, hooks, guards, resolver.extracts, limiter)
        for rec in d["middleware"]:
            emit_middleware(out, rec, p)
            if rec[0] == "cors":
                for opt in ("allow_origins", "allow_credentials"):
                    value = rec[4].get(opt, "*" if opt == "allow_origins" else "false")
                    emit_setting(out, f"cors.{opt}", value, "flask", p, rec[2])
            if rec[0] == "csrf":
                emit_setting(out, "csrf.enabled", "true", "flask", p, rec[2])
        for k, v, line in d["settings"]:
            if k == "secret_key":
                v = resolve_secret(v, p, resolver)
            emit_setting(out, k, v, "flask", p, line)
    # classes are looked up in every file: a Resource may live in a module with no route
    res = Resources(fl, resolver.extracts, resolver, guards, key, prefixes, hooks, limiter)
    res.emit(out)
    flask_generated.emit(fl, key, res, hooks, out)


def _limiter(fl: Mapping[str, Any]) -> bool | None:
    recs = [m for d in fl.values() for m in d["middleware"] if m[0] == "rate_limit"]
    if not recs:
        return False
    return True if any(m[4].get("default_limits") == "true" for m in recs) else None


def _route_guards(
    p: str, r: dict[str, Any], guards: GuardTable, extracts: Mapping[str, Any]
) -> tuple[list[Guard], bool, bool]:
    gs: list[Guard] = []
    csrf_exempt = limited = False
    for callee, line, text, _args in r["decorators"]:
        low = last(callee)
        if low == "exempt":
            csrf_exempt = csrf_exempt or "csrf" in callee.lower()
            continue
        if low == "limit" or low == "shared_limit":
            limited = True
            continue
        g = guards.as_guard(p, callee, f"decorator @{callee}", (p, line, text))
        if g:
            gs.append(g)
    gs.extend(guards.handler_guards(p, r["handler"]))
    return gs, csrf_exempt, limited


def _home(p: str, handler: str, resolver: Resolver) -> tuple[str, str]:
    """(file, name) of a route's handler: ``add_url_rule(view_func=UserAPI.as_view(..))``
    may name a class (or function) imported from another module."""
    target, symbol, _ = resolver.resolve(p, handler)
    return (target, symbol) if target and target != p else (p, handler)


def _emit(
    out: FactsBuilder,
    p: str,
    where: tuple[str, str, str],
    r: dict[str, Any],
    prefix: str,
    chain: list[Any],
    hooks: dict[Any, list[Guard]],
    guards: GuardTable,
    extracts: Mapping[str, Any],
    limiter: bool | None,
) -> None:
    gs, csrf_exempt, limited = _route_guards(p, r, guards, extracts)
    gs += hooks.get(None, [])
    for bp in chain:
        gs += hooks.get(bp, [])
    methods = r["methods"]
    home, name, module = where  # the handler's own file, name there and module
    if r["view_class"]:
        cls = extracts.get(home, {}).get("classes", {}).get(name)
        methods = methods or (
            [m.upper() for m in cls["methods"] if m in VIEW_METHODS] if cls else None
        )
        if cls:
            line, text = cls["attr_lines"].get("decorators", [cls["line"], ""])
            for dec in cls["attrs"].get("decorators", []):
                g = guards.as_guard(home, dec, f"view decorator {dec}", (home, line, text))
                if g:
                    gs.append(g)
    raw = prefix.rstrip("/") + "/" + r["path"].lstrip("/") if r["path"] else (prefix or "/")
    full = normalize_angle(raw) if r["path"] else raw
    for method in methods or ["ANY"]:
        out.routes.append(
            guarded_route(
                method,
                full,
                "flask",
                f"{module}.{name}",
                (p, r["line"]),
                gs,
                csrf_exempt=csrf_exempt,
                rate_limited=True if limited else limiter,
                params=pattern_converters(raw),
                unread_prefix=r.get("unread", ""),
            )
        )
