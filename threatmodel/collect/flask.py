"""Flask: routes, the auth guarding each, blueprints, hooks, extensions and settings.

Extract (per file): ``@app.route`` / ``@bp.get`` ... and ``add_url_rule`` (with class-based
views), ``Blueprint(url_prefix=)``, ``register_blueprint(child, url_prefix=)`` on an app or
on another blueprint (nested prefixes combine), ``before_request`` hooks, flask-restful
``add_resource``, the decorators above each handler, extensions (flask-cors, CSRFProtect,
flask-limiter, Talisman, Flask-Session) and settings (``app.run(debug=True)``,
``app.secret_key``, ``SESSION_COOKIE_SECURE``...).
Link: resolves owners and registrations across files, then decides each route's auth from
its hooks, decorators and the handler's own checks (pyguards / pyweb_link).
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
    normalize_angle,
    str_const,
    str_list,
)
from threatmodel.collect.pyguards import summarize_with_text
from threatmodel.collect.pysettings import (
    cors_options,
    emit_middleware,
    emit_setting,
    module_consts,
    resolve_secret,
    secret_source,
)
from threatmodel.collect.pyweb_link import Guard, GuardTable, Resolver, decide
from threatmodel.collect.source import SourceFile
from threatmodel.models import Location, Route

VERBS = ("get", "post", "put", "patch", "delete")
VIEW_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
EXTENSIONS = {
    "CORS": "cors",
    "CSRFProtect": "csrf",
    "SeaSurf": "csrf",
    "Limiter": "rate_limit",
    "Talisman": "security_headers",
    "Session": "session",
}
CONFIG_KEYS = {"DEBUG": "debug", "SESSION_COOKIE_SECURE": "session.cookie_secure"}


def relevant(text: str) -> bool:
    return "flask" in text or "Flask" in text or "connexion" in text or "debug=True" in text


def _qualnames(tree: ast.Module) -> dict[int, str]:
    """id(def node) -> qualified name, through classes and enclosing functions."""
    out: dict[int, str] = {}
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                q = f"{prefix}{child.name}"
                out[id(child)] = q
                stack.append((child, q + "."))
            elif isinstance(child, ast.stmt):
                stack.append((child, prefix))
    return out


def extract(tree: ast.Module, src: SourceFile) -> dict[str, Any] | None:
    lines = src.lines
    qual = _qualnames(tree)
    d: dict[str, Any] = {
        "apps": [], "blueprints": {}, "registrations": [], "routes": [], "hooks": [],
        "settings": [], "middleware": [], "restful": [], "extra_functions": {},
        "add_api": [],
        "consts": module_consts(tree),
    }  # fmt: skip
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            _assign(node, d, lines)
        elif isinstance(node, ast.Call):
            _call(node, d, lines)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _function(node, qual.get(id(node), node.name), d, lines)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            _config_assign(node.targets[0], node.value, node.lineno, d)
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and "Config" in n.name):
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                _config_assign(stmt.targets[0], stmt.value, stmt.lineno, d, class_level=True)
    if not any(d[k] for k in ("apps", "blueprints", "registrations", "routes", "hooks")) and not (
        d["settings"] or d["middleware"] or d["restful"] or d["add_api"]
    ):
        return None
    return d


def _assign(node: ast.Assign, d: dict[str, Any], lines: list[str]) -> None:
    call = node.value
    assert isinstance(call, ast.Call)
    ctor = last(dotted(call.func))
    names = [t.id for t in node.targets if isinstance(t, ast.Name)]
    if ctor in ("Flask", "App", "FlaskApp") and (ctor == "Flask" or "connexion" in dotted(call.func)):
        for n in names:
            d["apps"].extend([n, f"{n}.app"])
    elif ctor == "Blueprint":
        prefix = str_const(kw(call, "url_prefix"))
        for n in names:
            d["blueprints"][n] = {"prefix": prefix, "line": node.lineno}
    elif ctor == "Api" and names:  # flask-restful / flask-restx Api(app, prefix=)
        target = dotted(call.args[0]) if call.args else ""
        d["restful"].append(["api", names[0], target, str_const(kw(call, "prefix")) or ""])


def _call(call: ast.Call, d: dict[str, Any], lines: list[str]) -> None:
    fn = dotted(call.func)
    name = last(fn)
    owner = fn.rsplit(".", 1)[0] if "." in fn else ""
    if name == "register_blueprint" and call.args:
        prefix = str_const(kw(call, "url_prefix"))
        d["registrations"].append([owner, dotted(call.args[0]), prefix, call.lineno])
    elif name == "add_url_rule" and call.args and (rule := str_const(call.args[0])) is not None:
        view = call.args[2] if len(call.args) > 2 else kw(call, "view_func")
        methods = str_list(kw(call, "methods"))
        if view is None:
            return
        cls = dotted(view.func) if isinstance(view, ast.Call) else ""
        d["routes"].append({
            "methods": [m.upper() for m in methods] if methods else None, "path": rule,
            "owner": owner, "handler": cls.rsplit(".", 1)[0] if cls.endswith(".as_view")
            else dotted(view), "view_class": cls.endswith(".as_view"), "line": call.lineno,
            "decorators": [],
        })  # fmt: skip
    elif name == "before_request" or name == "before_app_request":
        if call.args:
            d["hooks"].append([owner, dotted(call.args[0]), call.lineno, name, line_text(lines, call.lineno)])
    elif name == "add_api" and call.args:  # connexion serves an OpenAPI spec
        d["add_api"].append([str_const(call.args[0]), str_const(kw(call, "base_path"))])
    elif name == "add_resource" and call.args:
        urls = [u for a in call.args[1:] if (u := str_const(a)) is not None]
        d["restful"].append(["resource", owner, dotted(call.args[0]), urls, call.lineno])
    elif name in EXTENSIONS and (call.args or kw(call, "app")):
        opts = cors_options(call) if name == "CORS" else {}
        if name == "Limiter":
            opts["default_limits"] = str(kw(call, "default_limits") is not None).lower()
        d["middleware"].append([EXTENSIONS[name], f"flask:{name}", call.lineno, "global", opts])
    elif name == "run" and owner and (debug := bool_const(kw(call, "debug"))) is not None:
        if "app" in owner.lower() or owner in d["apps"] or "socketio" in owner:
            d["settings"].append(["debug", str(debug).lower(), call.lineno])
    elif name in ("update", "from_mapping") and owner.endswith("config"):
        for k in call.keywords:
            if k.arg:
                _config_value(k.arg, k.value, call.lineno, d)


def _config_assign(
    target: ast.expr, value: ast.expr, line: int, d: dict[str, Any], class_level: bool = False
) -> None:
    """``app.debug = True``, ``app.secret_key = ...``, ``app.config["X"] = ...``, ``X = ...``."""
    if isinstance(target, ast.Attribute) and target.attr in ("debug", "secret_key"):
        _config_value(target.attr.upper(), value, line, d)
    elif isinstance(target, ast.Subscript) and dotted(target.value).endswith("config"):
        key = str_const(target.slice)
        if key:
            _config_value(key, value, line, d)
    elif isinstance(target, ast.Name) and class_level:
        _config_value(target.id, value, line, d)


def _config_value(key: str, value: ast.expr, line: int, d: dict[str, Any]) -> None:
    if key == "SECRET_KEY":
        d["settings"].append(["secret_key", secret_source(value, d["consts"]), line])
    elif key in CONFIG_KEYS and (b := bool_const(value)) is not None:
        d["settings"].append([CONFIG_KEYS[key], str(b).lower(), line])
    elif key == "WTF_CSRF_ENABLED" and (b := bool_const(value)) is not None:
        d["settings"].append(["csrf.enabled", str(b).lower(), line])


def _function(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str, d: dict[str, Any], lines: list[str]
) -> None:
    decs = [_dec(dec, lines) for dec in fn.decorator_list]
    if "." in qualname and not qualname.split(".")[0][:1].isupper():
        d["extra_functions"][qualname] = summarize_with_text(fn, lines)  # app-factory handler
    for dec, info in zip(fn.decorator_list, decs, strict=True):
        callee = dotted(dec)
        verb, owner = last(callee), callee.rsplit(".", 1)[0] if "." in callee else ""
        if verb in ("before_request", "before_app_request") and not isinstance(dec, ast.Call):
            d["hooks"].append([owner, qualname, info[1], verb, info[2]])
            continue
        if not isinstance(dec, ast.Call) or not owner or (verb != "route" and verb not in VERBS):
            continue
        path = str_const(dec.args[0]) if dec.args else str_const(kw(dec, "rule"))
        if path is None or not (path.startswith("/") or path == ""):
            continue
        if verb == "route":
            node = kw(dec, "methods")
            listed = str_list(node)
            methods = [m.upper() for m in listed] if listed else (None if node else ["GET"])
        else:
            methods = [verb.upper()]
        others = [i for i in decs if i[0] != callee]
        d["routes"].append({
            "methods": methods, "path": path, "owner": owner, "handler": qualname,
            "view_class": False, "line": fn.lineno, "decorators": others,
        })  # fmt: skip


def _dec(dec: ast.expr, lines: list[str]) -> list[Any]:
    args = [dotted(a) for a in dec.args] if isinstance(dec, ast.Call) else []
    return [dotted(dec), dec.lineno, line_text(lines, dec.lineno), args]


# --------------------------------------------------------------------------- link


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
                res.append((pp.rstrip("/") + ("/" + pre.strip("/") if pre.strip("/") else ""), [*chain, k]))
        return res

    hooks: dict[tuple[str, str] | None, list[Guard]] = {}
    for p, d in fl.items():
        for owner, fn, line, kind, text in d["hooks"]:
            g = guards.as_guard(p, fn, f"before_request hook {fn}", (p, line, text))
            if g is not None:
                scope = None if kind == "before_app_request" else key(p, owner)
                hooks.setdefault(scope if scope in bps else None, []).append(g)
    limiter = _limiter(fl)
    for p, d in fl.items():
        module = p.removesuffix(".py").replace("/", ".")
        for r in d["routes"]:
            owner_key = key(p, r["owner"]) if r["owner"] else None
            for prefix, chain in prefixes(owner_key):
                _emit(out, p, module, r, prefix, chain, hooks, guards, extracts, limiter)
        _restful(out, p, module, d, fl, guards, extracts, limiter)
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


def _emit(
    out: FactsBuilder, p: str, module: str, r: dict[str, Any], prefix: str,
    chain: list[Any], hooks: dict[Any, list[Guard]], guards: GuardTable,
    extracts: Mapping[str, Any], limiter: bool | None,
) -> None:  # fmt: skip
    gs, csrf_exempt, limited = _route_guards(p, r, guards, extracts)
    gs += hooks.get(None, [])
    for bp in chain:
        gs += hooks.get(bp, [])
    methods = r["methods"]
    if r["view_class"]:
        cls = extracts[p]["classes"].get(r["handler"]) if r["handler"] in extracts[p]["classes"] else None
        methods = methods or ([m.upper() for m in cls["methods"] if m in VIEW_METHODS] if cls else None)
        if cls:
            line, text = cls["attr_lines"].get("decorators", [cls["line"], ""])
            for dec in cls["attrs"].get("decorators", []):
                g = guards.as_guard(p, dec, f"view decorator {dec}", (p, line, text))
                if g:
                    gs.append(g)
    full = normalize_angle(prefix.rstrip("/") + "/" + r["path"].lstrip("/")) if r["path"] else (prefix or "/")
    for method in methods or ["ANY"]:
        out.routes.append(
            Route(
                id=f"{method} {full}", method=method, path=full, framework="flask",
                handler=f"{module}.{r['handler']}", location=Location(path=p, line=r["line"]),
                auth=decide(gs), csrf_exempt=csrf_exempt,
                rate_limited=True if limited else limiter,
            )
        )  # fmt: skip


def _restful(
    out: FactsBuilder, p: str, module: str, d: dict[str, Any], fl: Mapping[str, Any],
    guards: GuardTable, extracts: Mapping[str, Any], limiter: bool | None,
) -> None:  # fmt: skip
    """flask-restful ``api.add_resource(Cls, "/url")``: one route per HTTP method of Cls."""
    prefixes = {n: pre for q in fl.values() for kind, n, _t, pre in
                (x for x in q["restful"] if x[0] == "api")}  # fmt: skip
    for rec in d["restful"]:
        if rec[0] != "resource":
            continue
        _, owner, cls_name, urls, line = rec
        target, symbol, _ = guards.r.resolve(p, cls_name)
        cls = extracts.get(target or "", {}).get("classes", {}).get(symbol)
        methods = [m for m in (cls or {}).get("methods", []) if m in VIEW_METHODS]
        for url in urls:
            full = normalize_angle(prefixes.get(owner, "").rstrip("/") + "/" + url.lstrip("/"))
            for m in methods or ["ANY"]:
                gs: list[Guard] = []
                if cls and target:
                    at = cls["attr_lines"].get("method_decorators") or cls["attr_lines"].get("decorators") or [0, ""]
                    for dec in cls["attrs"].get("method_decorators", []) + cls["attrs"].get("decorators", []):
                        g = guards.as_guard(target, dec, f"method_decorators {dec}", (target, at[0], at[1]))
                        if g:
                            gs.append(g)
                    gs += guards.handler_guards(target, f"{symbol}.{m}")
                out.routes.append(Route(
                    id=f"{m.upper()} {full}", method=m.upper(), path=full, framework="flask",
                    handler=f"{module}.{cls_name}.{m}" if m != "ANY" else f"{module}.{cls_name}",
                    location=Location(path=p, line=line), auth=decide(gs), rate_limited=limiter,
                ))  # fmt: skip
