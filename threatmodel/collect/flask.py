"""Flask routes and the auth guarding each, from Python's ast.

Extract (per file): route decorators (``@app.route``, ``@bp.get`` ...), ``add_url_rule``,
``Blueprint(..., url_prefix=)``, ``register_blueprint(..., url_prefix=)``, and for each handler
the decorators above it. A decorator counts as auth when it is a known guard
(``login_required``, ``jwt_required`` ...) or when its definition in the repository rejects
the request (aborts, raises, or returns a response on a failed check).
Link: applies blueprint prefixes and decides each route's auth status.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from threatmodel.collect.interface import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.collect.source import SourceFile
from threatmodel.models import AuthStatus, Evidence, Location, Route, RouteAuth

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
KNOWN_AUTH = {
    "login_required": AuthStatus.AUTHENTICATED,
    "jwt_required": AuthStatus.AUTHENTICATED,
    "fresh_jwt_required": AuthStatus.AUTHENTICATED,
    "auth_required": AuthStatus.AUTHENTICATED,
    "token_required": AuthStatus.AUTHENTICATED,
    "roles_required": AuthStatus.RESTRICTED,
    "roles_accepted": AuthStatus.RESTRICTED,
    "admin_required": AuthStatus.RESTRICTED,
    "permission_required": AuthStatus.RESTRICTED,
}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""


def _str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _kw(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def normalize_flask_path(path: str) -> str:
    """``/users/<int:id>`` -> ``/users/{id}``."""
    out, i = [], 0
    while i < len(path):
        if path[i] == "<" and ">" in path[i:]:
            j = path.index(">", i)
            out.append("{" + path[i + 1 : j].split(":")[-1] + "}")
            i = j + 1
        else:
            out.append(path[i])
            i += 1
    return "".join(out)


def _decorator_guards(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """What a custom decorator enforces: 'restricted', 'authenticated' or None (does not reject)."""
    src = ast.unparse(fn)
    rejects = any(
        isinstance(n, ast.Raise)
        or (isinstance(n, ast.Call) and _dotted(n.func) in {"abort", "flask.abort", "redirect"})
        for n in ast.walk(fn)
    ) or any(
        isinstance(n, ast.Return)
        and isinstance(n.value, ast.Tuple)
        and any(isinstance(e, ast.Constant) and e.value in (401, 403) for e in n.value.elts)
        for n in ast.walk(fn)
    )
    if not rejects:
        return None
    lowered = src.lower()
    if any(w in lowered for w in ("role", "admin", "permission", "is_staff", "is_superuser")):
        return AuthStatus.RESTRICTED.value
    return AuthStatus.AUTHENTICATED.value


@register
class FlaskCollector(Collector):
    id = "flask"
    version = 1

    def wants(self, path: str, language: str) -> bool:
        return language == "python"

    def extract(self, src: SourceFile) -> Extract:
        tree = src.python_ast
        if tree is None or "flask" not in src.text.lower():
            return None
        routes: list[dict[str, Any]] = []
        blueprints: dict[str, str] = {}
        registrations: list[list[str]] = []
        decorators: dict[str, str | None] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                if _dotted(node.value.func).split(".")[-1] == "Blueprint":
                    prefix = _str(_kw(node.value, "url_prefix")) or ""
                    for t in node.targets:
                        if isinstance(t, ast.Name):
                            blueprints[t.id] = prefix
            elif isinstance(node, ast.Call) and _dotted(node.func).endswith(".register_blueprint"):
                if node.args:
                    registered = _str(_kw(node, "url_prefix")) or ""
                    registrations.append([_dotted(node.args[0]).split(".")[-1], registered])
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [
                    n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                ]
                if inner and any(
                    _dotted(d).endswith("wraps") for i in inner for d in i.decorator_list
                ):
                    decorators[node.name] = _decorator_guards(node)
                routes.extend(self._routes_of(node, src))
        if not routes and not blueprints and not registrations and not decorators:
            return None
        return {
            "routes": routes,
            "blueprints": blueprints,
            "registrations": registrations,
            "decorators": decorators,
        }

    def _routes_of(
        self, fn: ast.FunctionDef | ast.AsyncFunctionDef, src: SourceFile
    ) -> list[dict[str, Any]]:
        out = []
        others = [(_dotted(d).split(".")[-1], d.lineno) for d in fn.decorator_list]
        for dec in fn.decorator_list:
            if not isinstance(dec, ast.Call) or not isinstance(dec.func, ast.Attribute):
                continue
            verb, owner = dec.func.attr, _dotted(dec.func.value)
            path = _str(dec.args[0]) if dec.args else None
            if path is None or (verb != "route" and verb not in HTTP_METHODS):
                continue
            if verb == "route":
                methods_node = _kw(dec, "methods")
                methods = (
                    [m.upper() for e in methods_node.elts if (m := _str(e))]
                    if isinstance(methods_node, ast.List | ast.Tuple)
                    else ["GET"]
                )
            else:
                methods = [verb.upper()]
            for method in methods:
                out.append(
                    {
                        "method": method,
                        "path": path,
                        "owner": owner.split(".")[-1],
                        "handler": fn.name,
                        "line": fn.lineno,
                        "decorators": [
                            [n, line, src.line_text(line).strip()] for n, line in others
                        ],
                    }
                )
        return out

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        prefixes: dict[str, str] = {}
        custom: dict[str, str | None] = {}
        for data in extracts.values():
            prefixes.update(data["blueprints"])
            custom.update(data["decorators"])
        for data in extracts.values():
            for name, prefix in data["registrations"]:
                if prefix:  # register_blueprint(url_prefix=) overrides Blueprint(url_prefix=)
                    prefixes[name] = prefix
        for path, data in extracts.items():
            module = path.removesuffix(".py").replace("/", ".")
            for r in data["routes"]:
                full = prefixes.get(r["owner"], "").rstrip("/") + "/" + r["path"].lstrip("/")
                full = normalize_flask_path(full.rstrip("/") or "/")
                out.routes.append(
                    Route(
                        id=f"{r['method']} {full}",
                        method=r["method"],
                        path=full,
                        framework="flask",
                        handler=f"{module}.{r['handler']}",
                        location=Location(path=path, line=r["line"]),
                        auth=self._auth(r["decorators"], custom, path),
                    )
                )

    @staticmethod
    def _auth(decorators: list[list[Any]], custom: dict[str, str | None], path: str) -> RouteAuth:
        best: tuple[AuthStatus, str, int, str] | None = None
        for name, line, text in decorators:
            status: AuthStatus | None = KNOWN_AUTH.get(name)
            guard = custom.get(name)
            if status is None and guard:
                status = AuthStatus(guard)
            if status is None:
                continue
            if best is None or (
                status is AuthStatus.RESTRICTED and best[0] is not AuthStatus.RESTRICTED
            ):
                best = (status, name, line, text)
        if best is None:
            return RouteAuth(status=AuthStatus.PUBLIC, mechanism=None)
        status, name, line, text = best
        return RouteAuth(
            status=status,
            mechanism=f"decorator @{name}",
            evidence=[Evidence(path=path, start_line=line, end_line=line, snippet=text)],
        )
