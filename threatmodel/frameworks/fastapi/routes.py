"""FastAPI / Starlette: routes, routers and their prefixes, dependencies as auth, middleware.

Extract (per file): ``FastAPI(dependencies=[...])``, ``APIRouter(prefix=, dependencies=)``,
``include_router(child, prefix=, dependencies=)``, ``mount``, route decorators
(``@app.get``, ``@router.api_route``; ``include_in_schema=False`` marks a route hidden),
``add_api_route``, ``@router.websocket`` (method ``WS``), a route decorator applied by a
call (``router.post(path)(fn)``), the handler's ``Depends``/``Security`` parameters (also
through a module's ``Annotated`` aliases: ``CurrentUser = Annotated[User,
Depends(get_user)]``), security scheme objects (``OAuth2PasswordBearer``...),
``add_middleware`` and ``@app.middleware("http")``.
Link: combines prefixes along include chains; a route is guarded by its own dependencies,
its routers' and its app's. A dependency guards only if its definition rejects (raises
401/403...); one that returns None guards nothing. A bare security scheme only checks that a
token is present, not that it is valid: ``unknown``.
"""

from __future__ import annotations

import ast
from typing import Any

from threatmodel.code.pyast import (
    bool_const,
    dotted,
    kw,
    last,
    line_text,
    str_const,
    str_list,
    tree_nodes,
)
from threatmodel.code.source import SourceFile
from threatmodel.frameworks._python.calls import annotation_refs, depends_target
from threatmodel.frameworks._python.settings import cors_options, secret_source
from threatmodel.frameworks.fastapi.link import link

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


def _deps(
    node: ast.AST | None, lines: list[str], lists: dict[str, list[list[Any]]] | None = None
) -> list[list[Any]]:
    """``dependencies=[Depends(a), Security(b, scopes=[..])]`` -> [[name, line, scoped, text]].

    ``lists``: the module's top-level lists of dependencies (``admin_checks = [Depends(a),
    Depends(b)]``): ``dependencies=admin_checks`` is that list, as FastAPI reads it."""
    if isinstance(node, ast.Name):
        return list((lists or {}).get(node.id, []))
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
        "router_classes": {},
        "classes": {},
        "consts": {},
        "aliases": {},
        "docs": [],
        "dep_lists": {},  # read while extracting, not kept
    }
    methods = {
        id(f): c.name
        for c in tree.body
        if isinstance(c, ast.ClassDef)
        for f in c.body
        if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    for stmt in tree.body:  # string constants a prefix may name (``prefix=user_prefix``)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            t, v = stmt.targets[0], str_const(stmt.value)
            if isinstance(t, ast.Name) and v is not None and len(v) < 200:
                d["consts"][t.id] = v
        _alias(stmt, d, lines)
        _dep_list(stmt, d, lines)
    for c in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        _class(c, d, lines)
    for node in tree_nodes(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            ctor = last(dotted(node.value.func))
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            call = node.value
            if ctor in ("FastAPI", "Starlette"):
                for n in names:
                    d["apps"][n] = _deps(kw(call, "dependencies"), lines, d["dep_lists"])
                if ctor == "FastAPI" and names:
                    d["docs"].append([_docs_urls(call, d["consts"]), node.lineno, names[0]])
                if bool_const(kw(call, "debug")):
                    d["settings"].append(["debug", "true", node.lineno])
            elif ctor.endswith("Router"):  # APIRouter, or a subclass (resolved at link time)
                for n in names:
                    d["routers"][n] = [
                        _prefix(kw(call, "prefix"), d["consts"]),
                        _deps(kw(call, "dependencies"), lines, d["dep_lists"]),
                        "" if ctor == "APIRouter" else dotted(call.func),
                    ]
            elif ctor in SCHEMES and bool_const(kw(call, "auto_error")) is not False:
                d["schemes"].extend(names)
        elif isinstance(node, ast.Call):
            _call(node, d, lines)  # (include_router prefixes: ref:NAME, resolved at link)
            _applied(node, defs, d, lines)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _function(node, d, lines, methods.get(id(node)))
    del d["dep_lists"]
    controllers = any(deps for _bases, deps in d["classes"].values())
    if not controllers and not any(d[k] for k in d if k not in ("classes", "consts", "aliases")):
        if d["aliases"]:  # a dependencies module: only its aliases matter to other files
            return {k: v if k == "aliases" else type(v)() for k, v in d.items()}
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
        prefix = _prefix(
            kw(call, "prefix") if name == "include_router" else call.args[0], d["consts"]
        )
        if child is not None:
            d["includes"].append(
                [
                    owner,
                    dotted(child),
                    prefix or "",
                    _deps(kw(call, "dependencies"), lines, d["dep_lists"]),
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
                "deps": _deps(kw(call, "dependencies"), lines, d["dep_lists"]),
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


def _alias(stmt: ast.stmt, d: dict[str, Any], lines: list[str]) -> None:
    """``CurrentUser = Annotated[User, Depends(get_user)]`` (or ``X: TypeAlias = ...``).

    A parameter annotated with the alias depends on ``get_user`` exactly as if it had
    spelled the ``Annotated[...]`` out: FastAPI reads the alias's metadata.
    """
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target, value = stmt.targets[0], stmt.value
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        target, value = stmt.target, stmt.value
    else:
        return
    if not (isinstance(target, ast.Name) and isinstance(value, ast.Subscript)):
        return
    if last(dotted(value.value)) != "Annotated":
        return
    deps = [dep for n in ast.walk(value) if (dep := depends_target(n))]
    if deps:
        d["aliases"][target.id] = [[*dep, line_text(lines, dep[1])] for dep in deps]


def _dep_list(stmt: ast.stmt, d: dict[str, Any], lines: list[str]) -> None:
    """``admin_checks = [Depends(a), Depends(b)]``: a list ``dependencies=`` may name."""
    if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.List | ast.Tuple)):
        return
    if deps := _deps(stmt.value, lines):
        d["dep_lists"].update({t.id: deps for t in stmt.targets if isinstance(t, ast.Name)})


def _alias_refs(fn: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> list[list[Any]]:
    """Names in parameter annotations that may be ``Annotated`` aliases: [[name, line, text]].

    Resolved at link time (the alias usually lives in another module, ``deps.py``).
    """
    return [[name, line, line_text(lines, line)] for name, line in annotation_refs(fn)]


# FastAPI's own pages: (keyword, default URL). The OAuth2 redirect exists with the docs page.
DOCS_PAGES = (
    ("openapi_url", "/openapi.json"),
    ("docs_url", "/docs"),
    ("redoc_url", "/redoc"),
    ("swagger_ui_oauth2_redirect_url", "/docs/oauth2-redirect"),
)


def _docs_urls(call: ast.Call, consts: dict[str, str]) -> dict[str, str | None]:
    """``FastAPI(openapi_url=, docs_url=, ...)``: each page's URL as written, None if off."""
    out: dict[str, str | None] = {}
    for key, default in DOCS_PAGES:
        node = kw(call, key)
        if node is None:
            out[key] = default
        elif isinstance(node, ast.Constant) and node.value is None:
            out[key] = None
        else:
            out[key] = _prefix(node, consts) or "ref:?"
    return out


def _prefix(node: ast.AST | None, consts: dict[str, str] | None = None) -> str:
    """A prefix as written: the string, or ``ref:NAME`` for a constant named there.

    An f-string of this module's constants (``f"{base}/tags"``) is spelled out; a part that
    names something elsewhere (``f"{settings.API_V1_STR}/x"``) stays ``{ref:NAME}``, looked up
    at link time.
    """
    if isinstance(node, ast.Name | ast.Attribute):
        return f"ref:{dotted(node)}"
    if isinstance(node, ast.JoinedStr) and consts is not None:
        parts = []
        for v in node.values:
            if isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name):
                parts.append(consts.get(v.value.id, "{ref:" + v.value.id + "}"))
            elif isinstance(v, ast.FormattedValue) and dotted(v.value):
                parts.append("{ref:" + dotted(v.value) + "}")
            else:
                parts.append(str_const(v) or "")
        return "".join(parts)
    return str_const(node) or ""


def _class(c: ast.ClassDef, d: dict[str, Any], lines: list[str]) -> None:
    """A router subclass's default prefix and dependencies; a controller's ``Depends`` attributes.

    ``class UserRouter(APIRouter): def __init__(self, prefix="", **kw):
    super().__init__(prefix=prefix, dependencies=[Depends(get_user)], **kw)``;
    ``class Ctl(Base): user = Depends(get_user)`` guards every route method of Ctl.
    """
    bases = [dotted(b) for b in c.bases if dotted(b)]
    deps: list[list[Any]] = []
    for stmt in c.body:
        value = stmt.value if isinstance(stmt, ast.Assign | ast.AnnAssign) else None
        dep = depends_target(value) if value is not None else None
        if dep:
            deps.append([*dep, line_text(lines, dep[1])])
    if bases or deps:
        d["classes"][c.name] = [bases, deps]
    if not any(last(b).endswith("Router") for b in bases):
        return
    init = next(
        (f for f in c.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None
    )
    if init is None:
        return
    prefix = ""
    args = init.args.args[len(init.args.args) - len(init.args.defaults) :]
    for a, default in zip(args, init.args.defaults, strict=True):
        if a.arg == "prefix":
            prefix = str_const(default) or ""
    rdeps: list[list[Any]] = []
    for n in ast.walk(init):
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "__init__"
        ):
            rdeps += _deps(kw(n, "dependencies"), lines, d["dep_lists"])
            if (p := str_const(kw(n, "prefix"))) is not None:
                prefix = p
    d["router_classes"][c.name] = [prefix, rdeps]


def _function(
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
    d: dict[str, Any],
    lines: list[str],
    cls: str | None = None,
) -> None:
    limited = any(last(dotted(x)) == "limit" for x in fn.decorator_list)
    for dec in fn.decorator_list:
        if not isinstance(dec, ast.Call) or not isinstance(dec.func, ast.Attribute):
            continue
        verb = dec.func.attr
        if verb == "middleware" and str_const(dec.args[0] if dec.args else None) == "http":
            d["guards_mw"].append([fn.name, dec.lineno, line_text(lines, dec.lineno)])
            continue
        _route(fn, dec, d, lines, cls, limited)


def _applied(call: ast.Call, defs: dict[str, Any], d: dict[str, Any], lines: list[str]) -> None:
    """``router.post("/register")(register_user)``: the decorator applied by a call (often
    under a setting, ``if REGISTRATION_ENABLED:``) makes the module's function a route."""
    dec = call.func
    if (
        isinstance(dec, ast.Call)
        and isinstance(dec.func, ast.Attribute)
        and len(call.args) == 1
        and isinstance(call.args[0], ast.Name)
        and call.args[0].id in defs
    ):
        fn = defs[call.args[0].id]
        _route(fn, dec, d, lines, None, any(last(dotted(x)) == "limit" for x in fn.decorator_list))


def _route(
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
    dec: ast.Call,
    d: dict[str, Any],
    lines: list[str],
    cls: str | None,
    limited: bool,
) -> None:
    """A route when ``dec`` is ``<router>.<verb>(path, ...)`` (or ``api_route``/``route``);
    ``<router>.websocket(path)`` is one too, its method ``WS`` (a connection the client
    opens and then talks over, guarded by the same dependencies)."""
    assert isinstance(dec.func, ast.Attribute)
    verb, owner = dec.func.attr, dotted(dec.func.value)
    if verb not in VERBS and verb not in ("api_route", "route", "websocket"):
        return
    path = str_const(dec.args[0]) if dec.args else str_const(kw(dec, "path"))
    if path is None:
        return
    if verb == "websocket":
        methods = ["WS"]
    elif verb in VERBS:
        methods = [verb.upper()]
    else:
        methods = [m.upper() for m in (str_list(kw(dec, "methods")) or ["GET"])]
    deps = _deps(kw(dec, "dependencies"), lines, d["dep_lists"])
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
            "handler": f"{cls}.{fn.name}" if cls else fn.name,
            "cls": cls,
            "line": fn.lineno,
            "deps": deps,
            "alias_refs": _alias_refs(fn, lines),
            "limited": limited,
            "hidden": bool_const(kw(dec, "include_in_schema")) is False,
        }
    )


__all__ = ["extract", "link", "relevant"]
