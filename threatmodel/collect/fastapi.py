"""FastAPI / Starlette: routes, routers and their prefixes, dependencies as auth, middleware.

Extract (per file): ``FastAPI(dependencies=[...])``, ``APIRouter(prefix=, dependencies=)``,
``include_router(child, prefix=, dependencies=)``, ``mount``, route decorators
(``@app.get``, ``@router.api_route``; ``include_in_schema=False`` marks a route hidden),
``add_api_route``, the handler's ``Depends``/``Security`` parameters, security scheme objects
(``OAuth2PasswordBearer``...), ``add_middleware`` and ``@app.middleware("http")``.
Link: combines prefixes along include chains; a route is guarded by its own dependencies,
its routers' and its app's. A dependency guards only if its definition rejects (raises
401/403...); one that returns None guards nothing. A bare security scheme only checks that a
token is present, not that it is valid: ``unknown``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from threatmodel.collect.interface import FactsBuilder
from threatmodel.collect.pyast import (
    bool_const,
    dotted,
    kw,
    last,
    line_text,
    normalize_brace,
    str_const,
    str_list,
    tree_nodes,
)
from threatmodel.collect.pyguards import depends_target
from threatmodel.collect.pysettings import (
    cors_options,
    emit_middleware,
    emit_setting,
    secret_source,
)
from threatmodel.collect.pyweb_link import Guard, GuardTable, Resolver, decide
from threatmodel.collect.source import SourceFile
from threatmodel.models import Location, Route

VERBS = ("get", "post", "put", "patch", "delete", "head", "options")
SCHEMES = (
    "OAuth2PasswordBearer",
    "OAuth2AuthorizationCodeBearer",
    "HTTPBearer",
    "HTTPBasic",
    "HTTPDigest",
    "APIKeyHeader",
    "APIKeyCookie",
    "APIKeyQuery",
    "OpenIdConnect",
)
MIDDLEWARE = {
    "CORSMiddleware": "cors",
    "SessionMiddleware": "session",
    "TrustedHostMiddleware": "other",
    "HTTPSRedirectMiddleware": "security_headers",
    "SlowAPIMiddleware": "rate_limit",
    "CSRFMiddleware": "csrf",
    "AuthenticationMiddleware": "auth",
}


def relevant(text: str) -> bool:
    return "fastapi" in text or "starlette" in text or "APIRouter" in text


def _deps(node: ast.AST | None, lines: list[str]) -> list[list[Any]]:
    """``dependencies=[Depends(a), Security(b, scopes=[..])]`` -> [[name, line, scoped, text]]."""
    out = []
    if isinstance(node, ast.List | ast.Tuple):
        for e in node.elts:
            dep = depends_target(e)
            if dep:
                out.append([*dep, line_text(lines, dep[1])])
    return out


def extract(tree: ast.Module, src: SourceFile) -> dict[str, Any] | None:
    lines = src.lines
    d: dict[str, Any] = {
        "apps": {},
        "routers": {},
        "includes": [],
        "routes": [],
        "schemes": [],
        "middleware": [],
        "settings": [],
        "guards_mw": [],
    }
    for node in tree_nodes(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            ctor = last(dotted(node.value.func))
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            call = node.value
            if ctor in ("FastAPI", "Starlette"):
                for n in names:
                    d["apps"][n] = _deps(kw(call, "dependencies"), lines)
                if bool_const(kw(call, "debug")):
                    d["settings"].append(["debug", "true", node.lineno])
            elif ctor == "APIRouter":
                for n in names:
                    d["routers"][n] = [
                        str_const(kw(call, "prefix")) or "",
                        _deps(kw(call, "dependencies"), lines),
                    ]
            elif ctor in SCHEMES and bool_const(kw(call, "auto_error")) is not False:
                d["schemes"].extend(names)
        elif isinstance(node, ast.Call):
            _call(node, d, lines)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _function(node, d, lines)
    if not any(d.values()):
        return None
    return d


def _call(call: ast.Call, d: dict[str, Any], lines: list[str]) -> None:
    fn = dotted(call.func)
    name, owner = last(fn), fn.rsplit(".", 1)[0] if "." in fn else ""
    if name in ("include_router", "mount") and call.args and owner:
        child = (
            call.args[0]
            if name == "include_router"
            else (call.args[1] if len(call.args) > 1 else kw(call, "app"))
        )
        prefix = (
            str_const(kw(call, "prefix")) if name == "include_router" else str_const(call.args[0])
        )
        if child is not None:
            d["includes"].append(
                [
                    owner,
                    dotted(child),
                    prefix or "",
                    _deps(kw(call, "dependencies"), lines),
                    call.lineno,
                ]
            )
    elif name == "add_api_route" and call.args and (path := str_const(call.args[0])) is not None:
        endpoint = call.args[1] if len(call.args) > 1 else kw(call, "endpoint")
        methods = str_list(kw(call, "methods")) or ["GET"]
        d["routes"].append(
            {
                "owner": owner,
                "path": path,
                "methods": [m.upper() for m in methods],
                "handler": dotted(endpoint),
                "line": call.lineno,
                "deps": _deps(kw(call, "dependencies"), lines),
                "hidden": bool_const(kw(call, "include_in_schema")) is False,
                "limited": False,
            }
        )
    elif name == "add_middleware" and call.args:
        mw = last(dotted(call.args[0]))
        opts = cors_options(call) if mw == "CORSMiddleware" else {}
        if mw == "SessionMiddleware":
            d["settings"].append(
                ["secret_key", secret_source(kw(call, "secret_key"), {}), call.lineno]
            )
            if (https := bool_const(kw(call, "https_only"))) is not None:
                d["settings"].append(["session.cookie_secure", str(https).lower(), call.lineno])
        if (
            mw == "TrustedHostMiddleware"
            and (hosts := str_list(kw(call, "allowed_hosts"))) is not None
        ):
            d["settings"].append(["allowed_hosts", ",".join(hosts), call.lineno])
        d["middleware"].append(
            [MIDDLEWARE.get(mw, "other"), dotted(call.args[0]), call.lineno, "global", opts]
        )


def _function(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, d: dict[str, Any], lines: list[str]
) -> None:
    limited = any(last(dotted(x)) == "limit" for x in fn.decorator_list)
    for dec in fn.decorator_list:
        if not isinstance(dec, ast.Call) or not isinstance(dec.func, ast.Attribute):
            continue
        verb, owner = dec.func.attr, dotted(dec.func.value)
        if verb == "middleware" and str_const(dec.args[0] if dec.args else None) == "http":
            d["guards_mw"].append([fn.name, dec.lineno, line_text(lines, dec.lineno)])
            continue
        if verb not in VERBS and verb not in ("api_route", "route"):
            continue
        path = str_const(dec.args[0]) if dec.args else str_const(kw(dec, "path"))
        if path is None:
            continue
        methods = (
            [verb.upper()]
            if verb in VERBS
            else [m.upper() for m in (str_list(kw(dec, "methods")) or ["GET"])]
        )
        deps = _deps(kw(dec, "dependencies"), lines)
        for a in [
            *fn.args.defaults,
            *(x for x in fn.args.kw_defaults if x),
            *(a.annotation for a in fn.args.args if a.annotation),
        ]:
            for n in ast.walk(a):
                dep = depends_target(n)
                if dep:
                    deps.append([*dep, line_text(lines, dep[1])])
        d["routes"].append(
            {
                "owner": owner,
                "path": path,
                "methods": methods,
                "handler": fn.name,
                "line": fn.lineno,
                "deps": deps,
                "limited": limited,
                "hidden": bool_const(kw(dec, "include_in_schema")) is False,
            }
        )


# --------------------------------------------------------------------------- link


def link(
    extracts: Mapping[str, Any], resolver: Resolver, guards: GuardTable, out: FactsBuilder
) -> None:
    fa = {p: d["fastapi"] for p, d in extracts.items()}
    owners: dict[tuple[str, str], list[list[Any]]] = {}  # (file, var) -> own deps
    for p, d in fa.items():
        for n, deps in d["apps"].items():
            owners[(p, n)] = [[p, *x] for x in deps]
        for n, (_prefix, deps) in d["routers"].items():
            owners[(p, n)] = [[p, *x] for x in deps]
    schemes = {(p, s) for p, d in fa.items() for s in d["schemes"]}

    def key(file: str, name: str) -> tuple[str, str] | None:
        if (file, name) in owners:
            return (file, name)
        target, symbol, _ = resolver.resolve(file, name)
        return (target, symbol) if target and (target, symbol) in owners else None

    parents: dict[tuple[str, str], list[tuple[tuple[str, str] | None, str, list[list[Any]]]]] = {}
    for p, d in fa.items():
        for owner, child, prefix, deps, _line in d["includes"]:
            ck = key(p, child)
            if ck:
                parents.setdefault(ck, []).append((key(p, owner), prefix, [[p, *x] for x in deps]))

    def chains(k: tuple[str, str] | None, depth: int = 0) -> list[tuple[str, list[list[Any]]]]:
        if k is None or depth > 8:
            return [("", [])]
        own_prefix = fa[k[0]]["routers"].get(k[1], [""])[0] if k[1] in fa[k[0]]["routers"] else ""
        own = owners.get(k, [])
        ups = parents.get(k) or [(None, "", [])]
        res = []
        for parent, prefix, deps in ups:
            for pp, pdeps in chains(parent, depth + 1):
                res.append((pp.rstrip("/") + prefix + own_prefix, pdeps + deps + own))
        return res

    mw_guards: list[Guard] = []
    for p, d in fa.items():
        for fn, line, text in d["guards_mw"]:
            g = guards.as_guard(p, fn, f"HTTP middleware {fn}", (p, line, text))
            if g:  # a middleware that rejects may still let some paths through: unknown
                mw_guards.append(
                    Guard("unknown", g.mechanism + " (path exemptions not analysed)", g.evidence)
                )
    for p, d in fa.items():
        module = p.removesuffix(".py").replace("/", ".")
        for r in d["routes"]:
            for prefix, inherited in chains(key(p, r["owner"])):
                gs = list(mw_guards)
                for dfile, name, line, _scoped, text in inherited + [[p, *x] for x in r["deps"]]:
                    gs += _dep_guard(dfile, name, line, text, guards, schemes)
                gs += guards.handler_guards(p, r["handler"])
                full = normalize_brace(prefix + r["path"]) or "/"
                for m in r["methods"]:
                    out.routes.append(
                        Route(
                            id=f"{m} {full}",
                            method=m,
                            path=full,
                            framework="fastapi",
                            handler=f"{module}.{r['handler']}",
                            location=Location(path=p, line=r["line"]),
                            auth=decide(gs),
                            hidden=r["hidden"],
                            rate_limited=True if r["limited"] else None,
                        )
                    )
        for rec in d["middleware"]:
            emit_middleware(out, rec, p)
            if rec[0] == "cors":
                emit_setting(
                    out, "cors.allow_origins", rec[4].get("allow_origins", ""), "fastapi", p, rec[2]
                )
                emit_setting(
                    out,
                    "cors.allow_credentials",
                    rec[4].get("allow_credentials", "false"),
                    "fastapi",
                    p,
                    rec[2],
                )
        for k, v, line in d["settings"]:
            emit_setting(out, k, v if not v.startswith("ref:") else "unknown", "fastapi", p, line)


def _dep_guard(
    file: str,
    name: str,
    line: int,
    text: str,
    guards: GuardTable,
    schemes: set[tuple[str, str]],
    depth: int = 0,
) -> list[Guard]:
    where = (file, line, text)
    g = guards.as_guard(file, name, f"Depends({name})", where)
    if g:
        return [g]
    target, symbol, _ = guards.r.resolve(file, name)
    if target and (target, symbol) in schemes:
        return [
            Guard(
                "unknown",
                f"security scheme {name} (checks a token is present, not valid)",
                (where,),
            )
        ]
    summ = guards.summary(target, symbol)
    if summ and depth < 4 and target:
        for sub, sline, _scoped in summ["deps"]:
            if _dep_guard(target, sub, sline, "", guards, schemes, depth + 1):
                return [
                    Guard(
                        "unknown",
                        f"Depends({name}) requires a token it does not validate",
                        (where,),
                    )
                ]
    return []
