"""Flask: routes, the auth guarding each, blueprints, hooks, extensions and settings.

Extract (per file): ``@app.route`` / ``@bp.get`` ... and ``add_url_rule`` (with class-based
views), ``Blueprint(url_prefix=)``, ``register_blueprint(child, url_prefix=)`` on an app or
on another blueprint (nested prefixes combine), ``before_request`` hooks, flask-restful
``add_resource``, the decorators above each handler, extensions (flask-cors, CSRFProtect,
flask-limiter, Talisman, Flask-Session) and settings (``app.run(debug=True)``,
``app.secret_key``, ``SESSION_COOKIE_SECURE``...).
Link (flask_link.py): resolves owners and registrations across files, then decides each
route's auth from its hooks, decorators and the handler's own checks.
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
from threatmodel.frameworks._python.guards import summarize_with_text
from threatmodel.frameworks._python.settings import cors_options, module_consts, secret_source
from threatmodel.frameworks.flask.link import link
from threatmodel.frameworks.flask.registrars import registrar, registration_call

VERBS = ("get", "post", "put", "patch", "delete")
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
    # ``.route(``: a blueprint's module may import nothing from Flask (``from app.api import
    # bp`` then ``@bp.route``); ``.add_url_rule(``: nor may a helper that registers views
    # (registrars.py). Link keeps such a route only when its owner is a Flask app or blueprint
    return (
        "flask" in text
        or "Flask" in text
        or "connexion" in text
        or "debug=True" in text
        or ".route(" in text
        or ".add_url_rule(" in text
    )


# The fields that hold statements under a statement (or the module): only they can lead
# to a def, so expressions are never listed (iter_child_nodes lists them all).
_STMT_LISTS = ("body", "orelse", "finalbody")


def _qualnames(tree: ast.Module) -> dict[int, str]:
    """id(def node) -> qualified name, through classes and enclosing functions.

    Statement by statement, as Python nests defs: handlers of ``except`` and ``match``
    cases are not statements, so defs under them are left out (as they always were).
    """
    out: dict[int, str] = {}
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in (c for f in _STMT_LISTS for c in getattr(node, f, None) or ()):
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
        "apps": [],
        "blueprints": {},
        "registrations": [],
        "routes": [],
        "hooks": [],
        "settings": [],
        "middleware": [],
        "restful": [],
        "namespaces": {},
        "add_ns": [],
        "class_routes": [],
        "extra_functions": {},
        "add_api": [],
        "imports_flask": "flask" in src.text.lower(),
        "consts": module_consts(tree),
        "static": [],
        "api_docs": {},
        # routes registered through a function of the repository (registrars.py)
        "registrars": {
            n.name: reg
            for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and (reg := registrar(n))
        },
        "registrar_calls": [],
    }
    # Classes of this module that extend Flask construct apps too (``class MyFlask(Flask)``).
    d["app_classes"] = {"Flask"} | {
        c.name
        for c in tree.body
        if isinstance(c, ast.ClassDef) and any(last(dotted(b)) == "Flask" for b in c.bases)
    }
    d["restx"] = "flask_restx" in src.text or "flask_restplus" in src.text
    d["api_classes"], d["resource_adders"] = _api_classes(tree)
    for node in tree_nodes(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            _assign(node, d, lines)
        elif isinstance(node, ast.Call):
            _call(node, d, lines)
            if (rec := registration_call(node)) is not None:
                d["registrar_calls"].append(rec)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _function(node, qual.get(id(node), node.name), d, lines)
        elif isinstance(node, ast.ClassDef) and node.decorator_list:
            _class_route(node, qual.get(id(node), node.name), d)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            _config_assign(node.targets[0], node.value, node.lineno, d)
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and "Config" in n.name):
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                _config_assign(stmt.targets[0], stmt.value, stmt.lineno, d, class_level=True)
    del d["app_classes"], d["restx"], d["api_classes"], d["resource_adders"]
    keys = ("apps", "blueprints", "registrations", "routes", "hooks", "settings", "middleware")
    more: tuple[str, ...] = ("restful", "add_api", "namespaces", "add_ns", "class_routes")
    more += ("registrars", "registrar_calls")
    if not any(d[k] for k in (*keys, *more)):
        return None
    return d


def _assign(node: ast.Assign, d: dict[str, Any], lines: list[str]) -> None:
    call = node.value
    assert isinstance(call, ast.Call)
    ctor = last(dotted(call.func))
    names = [t.id for t in node.targets if isinstance(t, ast.Name)]
    if ctor in ("App", "FlaskApp") and "connexion" in dotted(call.func):
        for n in names:
            d["apps"].extend([n, f"{n}.app"])
    elif ctor in d["app_classes"]:
        for n in names:
            d["apps"].extend([n, f"{n}.app"])
        if names and (static := _static(call, "static")) is not None:
            d["static"].append([names[0], *static, node.lineno, line_text(lines, node.lineno)])
    elif ctor == "Blueprint":
        prefix = str_const(kw(call, "url_prefix"))
        for n in names:
            d["blueprints"][n] = {"prefix": prefix, "line": node.lineno}
        if names and (static := _static(call, None)) is not None:
            d["static"].append([names[0], *static, node.lineno, line_text(lines, node.lineno)])
    elif ctor in d["api_classes"] and names:  # flask-restful / -restx Api(app, prefix=, ...)
        target = dotted(call.args[0]) if call.args else dotted(kw(call, "app"))
        prefix = str_const(kw(call, "prefix")) or ""
        decs = _names(kw(call, "decorators"))
        text = line_text(lines, node.lineno)
        d["restful"].append(["api", names[0], target, prefix, decs, node.lineno, text])
        if d["restx"]:
            doc = kw(call, "doc")
            d["api_docs"][names[0]] = [
                "/" if doc is None else str_const(doc),  # None: no page, or set elsewhere
                bool_const(kw(call, "add_specs")) is not False,
            ]
    elif (
        ctor == "Namespace" or (ctor == "namespace" and isinstance(call.func, ast.Attribute))
    ) and names:
        # flask-restx: Namespace(name, path=, decorators=), or api.namespace(...) (added at once)
        name = str_const(call.args[0]) if call.args else str_const(kw(call, "name"))
        path = str_const(call.args[2]) if len(call.args) > 2 else str_const(kw(call, "path"))
        d["namespaces"][names[0]] = {
            "path": path if path is not None else f"/{name or names[0]}",
            "decorators": _names(kw(call, "decorators")),
            "line": node.lineno,
            "text": line_text(lines, node.lineno),
        }
        if ctor == "namespace":
            d["add_ns"].append([dotted(call.func).rsplit(".", 1)[0], names[0], None, node.lineno])


def _static(call: ast.Call, default: str | None) -> list[str] | None:
    """[URL path of the static files] when the app / blueprint serves a static folder.

    Flask serves one whenever ``static_folder`` is not None (an app's defaults to
    ``static``; a blueprint has none unless given), at ``static_url_path`` or ``/`` plus the
    folder's last name. None when there is none, or its URL cannot be told from here.
    """
    folder_node, url_node = kw(call, "static_folder"), kw(call, "static_url_path")
    if folder_node is None and default is None:
        return None
    if isinstance(folder_node, ast.Constant) and folder_node.value is None:
        return None
    url = str_const(url_node)
    if url is None:
        folder = default if folder_node is None else str_const(folder_node)
        if folder is None or url_node is not None:
            return None
        url = "/" + folder.rstrip("/").rsplit("/", 1)[-1]
    return [url]


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
        d["routes"].append(
            {
                "methods": [m.upper() for m in methods] if methods else None,
                "path": rule,
                "owner": owner,
                "handler": cls.rsplit(".", 1)[0] if cls.endswith(".as_view") else dotted(view),
                "view_class": cls.endswith(".as_view"),
                "line": call.lineno,
                "decorators": [],
            }
        )
    elif name == "before_request" or name == "before_app_request":
        if call.args:
            d["hooks"].append(
                [owner, dotted(call.args[0]), call.lineno, name, line_text(lines, call.lineno)]
            )
    elif name == "add_namespace" and call.args:  # flask-restx api.add_namespace(ns, path=)
        path = str_const(call.args[1]) if len(call.args) > 1 else str_const(kw(call, "path"))
        d["add_ns"].append([owner, dotted(call.args[0]), path, call.lineno])
    elif name == "add_api" and call.args:  # connexion serves an OpenAPI spec
        d["add_api"].append([str_const(call.args[0]), str_const(kw(call, "base_path"))])
    elif name in d["resource_adders"] and call.args:
        rules = [rule_of(a) for a in call.args[1:]]
        urls = [u for u, _helper in rules if u is not None]
        d["restful"].append(["resource", owner, dotted(call.args[0]), urls, call.lineno])
    elif name in EXTENSIONS and (
        name != "Session" or (call.args and "app" in dotted(call.args[0]))
    ):
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
        path, helper = rule_of(dec.args[0] if dec.args else kw(dec, "rule"))
        if path is None or not (path.startswith("/") or path == ""):
            continue
        if verb == "route":
            node = kw(dec, "methods")
            listed = str_list(node)
            methods = [m.upper() for m in listed] if listed else (None if node else ["GET"])
        else:
            methods = [verb.upper()]
        others = [i for i in decs if i[0] != callee]
        d["routes"].append(
            {
                "methods": methods,
                "path": path,
                "owner": owner,
                "handler": qualname,
                "view_class": False,
                "line": fn.lineno,
                "decorators": others,
                "unread": f"{helper}()" if helper else "",
            }
        )


def rule_of(node: ast.AST | None) -> tuple[str | None, str]:
    """A route's rule and the helper that computes it: ``"/login"`` -> ("/login", ""), and
    ``scoped("/login")`` (a function of the repository handed a literal rule, adding a
    prefix some configurations want) -> ("/login", "scoped"): the rule a deployment without
    the prefix serves, the prefix unread (as Django's prefixes read at run time)."""
    if (text := str_const(node)) is not None:
        return text, ""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and len(node.args) == 1
        and not node.keywords
        and (text := str_const(node.args[0])) is not None
        and text.startswith("/")
    ):
        return text, node.func.id
    return None, ""


def _api_classes(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names that build an Api here (``Api`` and this module's subclasses of it), and the
    methods that add a resource: ``add_resource`` and a subclass's own method that hands
    its arguments on to ``self.add_resource`` (``add_org_resource(cls, *urls)``)."""
    classes = [
        c
        for c in tree.body
        if isinstance(c, ast.ClassDef) and any(last(dotted(b)) == "Api" for b in c.bases)
    ]
    adders = {"add_resource"}
    for c in classes:
        for fn in c.body:
            if isinstance(fn, ast.FunctionDef) and any(
                isinstance(n, ast.Call) and dotted(n.func) == "self.add_resource"
                for n in ast.walk(fn)
            ):
                adders.add(fn.name)
    return {"Api"} | {c.name for c in classes}, adders


def _names(node: ast.AST | None) -> list[str]:
    """``decorators=[a, b.c]`` -> ["a", "b.c"]."""
    if not isinstance(node, ast.List | ast.Tuple):
        return []
    return [n for e in node.elts if (n := dotted(e))]


def _class_route(node: ast.ClassDef, qualname: str, d: dict[str, Any]) -> None:
    """flask-restx ``@ns.route("/a", "/b")`` (or ``@api.route``) on a Resource class."""
    for dec in node.decorator_list:
        if not isinstance(dec, ast.Call) or not isinstance(dec.func, ast.Attribute):
            continue
        if dec.func.attr != "route":
            continue
        paths = [p for a in dec.args if (p := str_const(a)) is not None]
        if paths:
            owner = dotted(dec.func.value)
            d["class_routes"].append([owner, qualname, paths, node.lineno])


def _dec(dec: ast.expr, lines: list[str]) -> list[Any]:
    args = [dotted(a) for a in dec.args] if isinstance(dec, ast.Call) else []
    return [dotted(dec), dec.lineno, line_text(lines, dec.lineno), args]


__all__ = ["extract", "link", "relevant"]
