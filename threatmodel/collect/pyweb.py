"""The Python web collector: Flask, FastAPI/Starlette, Django/DRF, aiohttp and OpenAPI specs.

One registered collector rather than one per framework because the frameworks share what
is expensive and what spans files: every handler, decorator, dependency and hook is judged
by the same guard analysis (frameworks/_python/guards.py), following names across files
(frameworks/_python/link.py), and an app often mixes them (connexion serves an OpenAPI spec
from a Flask app). Each framework lives in its own folder of ``frameworks/`` (listed by
``frameworks/registry.py``), whose routes module has a ``relevant(text)``, an
``extract(tree, src)`` and a ``link(...)``; this module decides cheaply which of them a file
needs, parses it once, and shares the per-file basics (imports, function summaries,
classes). A function summary is a stub until link reads it (``pyweb_lazy``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from threatmodel.code.collector import Collector, Extract, FactsBuilder, LinkContext, register
from threatmodel.code.pyast import (
    dotted,
    imports_of,
    line_text,
    star_imports_of,
    str_const,
    subscript_head,
    walk,
)
from threatmodel.code.source import SourceFile
from threatmodel.collect.pyweb_lazy import lazy, sources
from threatmodel.frameworks._python.built import encode_call
from threatmodel.frameworks._python.calls import built_deps
from threatmodel.frameworks._python.guards import guard_anywhere, is_decorator_shaped, maybe_guards
from threatmodel.frameworks._python.link import GuardTable, Resolver
from threatmodel.frameworks._python.owner import CALLER_WORDS
from threatmodel.frameworks._python.rows import maybe_dispatch, registrations, row_facts
from threatmodel.frameworks._python.settings import instance_defaults, module_consts
from threatmodel.frameworks._python.stored_flag import model_bools
from threatmodel.frameworks._python.stubs import stub
from threatmodel.frameworks._python.walked import Walked
from threatmodel.frameworks.django.url_text import str_consts
from threatmodel.frameworks.openapi import routes as openapi
from threatmodel.frameworks.registry import routes_modules
from threatmodel.models import AuthStatus, Route, RouteAuth

# name -> routes module (relevant, extract, link) of each Python framework, in registry order
FRAMEWORKS = routes_modules("pyweb", "python")


def decorator_info(dec: ast.expr, lines: list[str]) -> list[Any]:
    """[callee, line, text, names among the arguments, strings among the arguments]."""
    names: list[str] = []
    strings: list[str] = []
    if isinstance(dec, ast.Call):
        for a in [*dec.args, *(k.value for k in dec.keywords)]:
            elts = a.elts if isinstance(a, ast.List | ast.Tuple | ast.Set) else [a]
            for e in elts:
                if (s := str_const(e)) is not None:
                    strings.append(s)
                elif dotted(e):
                    names.append(dotted(e))
    return [dotted(dec), dec.lineno, line_text(lines, dec.lineno), names, strings]


def _class_info(node: ast.ClassDef, lines: list[str]) -> dict[str, Any]:
    attrs: dict[str, list[str]] = {}
    attr_lines: dict[str, list[Any]] = {"__class__": [node.lineno, line_text(lines, node.lineno)]}
    for stmt in node.body:
        # ``permission_classes = (IsAuthenticated,)`` and, typed,
        # ``permission_classes: Sequence[type[BasePermission]] = (IsAuthenticated,)``
        target: ast.expr | None = None
        v: ast.expr | None = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, v = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            target, v = stmt.target, stmt.value
        if isinstance(target, ast.Name) and v is not None:
            elts = v.elts if isinstance(v, ast.List | ast.Tuple | ast.Set) else [v]
            attrs[target.id] = [str_const(e) or dotted(e) for e in elts]
            attr_lines[target.id] = [stmt.lineno, line_text(lines, stmt.lineno)]
    return {
        "line": node.lineno,
        # its lines, decorators included: link parses the class alone (made.py)
        "span": [min([node.lineno, *(d.lineno for d in node.decorator_list)]), node.end_lineno],
        "bases": [dotted(subscript_head(b)) for b in node.bases],
        "methods": sorted(
            n.name for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ),
        "attrs": attrs,
        "attr_lines": attr_lines,
        "decorators": [decorator_info(d, lines) for d in node.decorator_list],
        # Each method's own decorators: Flask-RESTful / RESTX resources route by method.
        "method_decs": {
            n.name: [decorator_info(d, lines) for d in n.decorator_list]
            for n in node.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.decorator_list
        },
    }


def basics(tree: ast.Module, lines: list[str], full: bool) -> dict[str, Any]:
    """Imports, module-level names, classes and function summaries of one file.

    ``full``: keep every function (a framework file: handlers need their inline checks);
    otherwise only what can be a guard (cheaper, smaller). Each is kept as a stub that link
    summarises if it reads it (``pyweb_lazy``).
    """
    functions: dict[str, Any] = {}
    classes: dict[str, Any] = {}
    symbols: list[str] = []
    instances: dict[str, list[Any]] = {}

    defs: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            defs.append((node, node.name))
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = _class_info(node, lines)
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    defs.append((item, f"{node.name}.{item.name}"))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            symbols.extend(names)
            if isinstance(node.value, ast.Call) and dotted(node.value.func):
                # ``admin_only = RoleChecker(["admin"])``: ``Depends(admin_only)`` runs the
                # class's ``__call__`` built with these arguments (link: made.py)
                instances.update(dict.fromkeys(names, encode_call(node.value)))
    for fn, qual in defs:
        # a framework file keeps every function without asking anything of it: no walk
        if not full and not is_decorator_shaped(fn):
            walked = Walked(fn, walk(fn))
            guard = guard_anywhere(fn, walked)
            named = walked.mentions(CALLER_WORDS)
            rows = row_facts(walked.stmts, walked.branches, walked.assigns, named)
            if not guard[0] and not any(rows.values()):
                continue  # neither a guard nor a scoped query / registry dispatch (rows.py)
        # summarised when link reads it (pyweb_lazy): it reads about one in twenty
        functions[qual] = stub(fn, lines)
    return {
        "consts": module_consts(tree) if "SECRET" in "".join(symbols) else {},
        "defaults": instance_defaults(tree) if classes else {},
        # boolean model fields' declared defaults (stored_flag.py): a check made only while
        # a stored switch is off is on in a fresh deployment
        "bools": model_bools(tree, lines) if classes else {},
        "registrations": registrations(tree),  # register("key", fn): rows.py
        "imports": imports_of(tree),
        "stars": star_imports_of(tree),
        "functions": functions,
        "classes": classes,
        "symbols": sorted(set(symbols)),
        "instances": instances,
        # ``Depends(require(...))``: the calls that build dependencies in place (calls.py)
        "built": built_deps(tree)
        if any("Depends(" in x or "Security(" in x for x in lines)
        else {},
    }


_TOKEN_PARAM = re.compile(r"\{((?:\w*_)?(?:token|secret)|signed_\w+|\w*signature|uidb64)\}")


def url_token(route: Route) -> Route:
    """A public route whose path carries a secret (a reset, confirm or unsubscribe link, a
    webhook URL with its shared secret: ``/webhook/{secret}``).

    The caller is admitted by holding the link, not by a login: named as such so no finding
    calls the route unauthenticated. Other statuses are left as they are.
    """
    names = _TOKEN_PARAM.findall(route.path)
    if route.auth.status != AuthStatus.PUBLIC or not names:
        return route
    name = next((n for n in names if "token" in n), names[0])
    auth = RouteAuth(
        status=AuthStatus.AUTHENTICATED,
        mechanism=f"url_token: {{{name}}} in the path (a secret link)",
        evidence=route.auth.evidence,
    )
    return route.model_copy(update={"auth": auth})


def _reexports(src: SourceFile) -> dict[str, Any] | None:
    """A package's ``__init__``, a module of ``from .x import *`` or of subclasses: only its
    imports, its classes (bases, attributes, methods) and a package's string constants
    (``path = "users"``, a URL prefix its modules import).

    Nothing to judge in it, but a name imported through it (``from app.deps import
    get_user`` where ``app/deps/__init__.py`` re-exports) resolves only if it is known, and
    a view or resource class routed from another file (``add_resource(FavResource, ...)``)
    inherits its guards and methods from bases only its own module names.
    """
    init = src.path.endswith("__init__.py")
    subclasses = "class " in src.text and "import" in src.text
    if not (init or subclasses or "import *" in src.text):
        return None
    if "import" not in src.text and not (init and "=" in src.text):
        return None
    tree = src.python_ast
    if tree is None:
        return None
    imports, stars = imports_of(tree), star_imports_of(tree)
    strs = str_consts(tree) if init else {}
    classes = {
        c.name: _class_info(c, src.lines)
        for c in tree.body
        if isinstance(c, ast.ClassDef) and c.bases
    }
    if not (init or stars or classes):
        return None
    if not imports and not stars and not strs:
        return None
    return {
        "imports": imports,
        "stars": stars,
        "functions": {},
        "classes": classes,
        "symbols": sorted(strs),
        "strs": strs,
    }


@register
class PythonWebCollector(Collector):
    id = "pyweb"
    # 13: classes of every module that imports its bases (_reexports); instances and
    # in-place Depends(factory(...)) keep their call's arguments; GraphQL views: middleware,
    # error formatter (graphql/endpoint.py); arguments; 14: FastAPI's docs pages name
    # their app (served under its mount); 15: a route decorator applied by a call; 16: an
    # aiohttp decorator only on a RouteTableDef; 17: the GraphQL module test has no leading
    # word boundary (it may say yes more often); 18: FastAPI ``dependencies=NAME`` of a
    # module's list; FastAPI websocket routes (WS); 19: a class's span of lines; 20: a test
    # of configuration constants only is no identity check (cond.config_only); 21: auth and
    # role words on identifier words (``vocab.py``: "oauth" is no "auth"), a bearer JWT's
    # guard no webhook signature; a reset or invite key decoded then decrypted is a token
    # 22: imports inside a top-level function (an application factory's blueprints); a
    # Flask route module that imports nothing from Flask (``@bp.route`` only); 23: Flask
    # routes registered through a repository helper around add_url_rule (registrars.py)
    version = 23

    def wants(self, path: str, language: str) -> bool:
        return language in ("python", "yaml", "json")

    def extract(self, src: SourceFile) -> Extract:
        if src.language != "python":
            return openapi.extract(src)
        text = src.text
        wanted = [name for name, mod in FRAMEWORKS.items() if mod.relevant(text)]
        if (
            not wanted
            and not maybe_guards(text)
            and not maybe_dispatch(text)
            and "SECRET" not in text
            and "Settings" not in text
        ):
            return _reexports(src)
        tree = src.python_ast
        if tree is None:
            return None
        data = basics(tree, src.lines, bool(wanted))
        for name in wanted:
            part = FRAMEWORKS[name].extract(tree, src)
            if part:
                data["functions"].update(part.pop("extra_functions", {}))
                data[name] = part
        if not wanted and not any(
            data[k] for k in ("functions", "consts", "defaults", "bools", "registrations")
        ):
            return _reexports(src)
        return data

    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        py = {p: d for p, d in extracts.items() if p.endswith((".py", ".pyi"))}
        specs = {p: d for p, d in extracts.items() if p not in py}
        lazy(py, ctx.root)  # guard summaries are computed as link reads them
        resolver = Resolver(py)
        guards = GuardTable(resolver, sources(ctx.root))
        first = len(out.routes)
        for name, mod in FRAMEWORKS.items():
            mod.link({p: d for p, d in py.items() if name in d}, resolver, guards, out)
        openapi.link(specs, resolver, guards, out)
        out.routes[first:] = [url_token(r) for r in out.routes[first:]]
