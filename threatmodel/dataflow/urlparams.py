"""What a route handler's parameter can hold, from the route's own URL pattern and types.

A parameter named in the route's path is matched by the framework's converter before the
handler runs: ``<int:id>`` / ``{id:int}`` / ``<uuid:code>`` / ``<slug:s>`` admit no text an
injection could use, and the default converter (Flask ``<name>``, Starlette and FastAPI
``{name}``, Django ``<str:name>``) matches a single path segment, never a ``/``. Such a
value can at most be ``..``, one level up, never a path of the caller's choosing: it is
safe for path traversal. ``<path:p>`` / ``{p:path}`` match any path and stay request input.
FastAPI validates annotations too: a parameter declared ``int``, ``UUID`` or ``datetime``
holds that type or the request is refused (Flask and Django do not check annotations).

A handler whose every route is a fixed path (no variable part) and that takes no URL
parameters is only reached at that path: the router matched it exactly before the
handler ran, so ``request.path`` there is the route's own path, not text of the caller's
choosing (``static_route``).

A handler a route *table* names (Django ``path("d/<str:name>/", views.detail)``, Flask
``add_url_rule``, a class view's verb methods) gets the same values at link, from the
converters its route fact records (``models.Route.params``, read by ``code.urlpattern``):
``url_value`` is the one reading of a converter for both.
"""

from __future__ import annotations

import ast

from threatmodel.code.urlpattern import pattern_converters
from threatmodel.dataflow.values import CLEAN, Label, Value

# Converters whose matches carry no characters an injection needs.
SCALAR_CONVERTERS = frozenset({"int", "float", "uuid", "slug", "scalar"})
# Converters whose matches may be any text: Flask's ``path``, and "text", a value the client
# writes whole (a GraphQL argument, ``frameworks/graphql/args.py``).
ANY_PATH = frozenset({"path", "text"})
SCALAR_TYPES = frozenset(
    {"int", "float", "bool", "UUID", "UUID1", "UUID3", "UUID4", "UUID5", "uuid.UUID"}
    | {"datetime", "date", "time", "Decimal", "datetime.datetime", "datetime.date"}
    | {"PositiveInt", "NonNegativeInt", "conint", "StrictInt", "StrictBool"}
)
SEGMENT = "one URL path segment (its converter matches no '/')"


def path_converters(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, str]:
    """Parameter -> converter ("" for the default) for the names its route decorators'
    path strings declare (the first string argument, or ``rule=`` / ``path=``)."""
    out: dict[str, str] = {}
    for d in fn.decorator_list:
        if not isinstance(d, ast.Call):
            continue
        args = [*d.args[:1], *(k.value for k in d.keywords if k.arg in ("rule", "path"))]
        for a in args:
            if isinstance(a, ast.Constant) and isinstance(a.value, str):
                for name, conv in pattern_converters(a.value).items():
                    out.setdefault(name, conv)
    return out


def static_route(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Every route decorator of ``fn`` names a constant path with no variable part, and
    ``fn`` takes no parameters (a blueprint prefix with variables would hand it some)."""
    a = fn.args
    if a.posonlyargs or a.args or a.kwonlyargs or a.vararg or a.kwarg:
        return False
    paths = 0
    for d in fn.decorator_list:
        if not isinstance(d, ast.Call):
            continue
        args = [*d.args[:1], *(k.value for k in d.keywords if k.arg in ("rule", "path"))]
        for x in args:
            if not (isinstance(x, ast.Constant) and isinstance(x.value, str)):
                return False
            if pattern_converters(x.value) or "<" in x.value or "{" in x.value:
                return False
            paths += 1
    return paths > 0


# Django middleware hooks called only once the URL resolved to a view.
AFTER_ROUTING_HOOKS = frozenset({"process_view", "process_exception", "process_template_response"})
# A class view's handlers (Django ``View``, DRF, Flask ``MethodView``): ``dispatch`` calls
# them for the request the URLconf routed to the class.
VERB_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "dispatch"})


def after_routing(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, route: bool, outer: tuple[str, ...], method: bool
) -> bool:
    """Does ``fn`` run only for a request the router matched to a view: a route handler,
    a class view's verb method, a Django middleware hook called after resolving
    (``process_view``, ``process_exception``), or a view decorator's wrapper
    (``@wraps(view)`` of the enclosing function's parameter ``outer``)? There the
    request's own path is one of the site's routes, never ``//host``
    (``pyexpr.OWN_PATH_ATTRS``); an error handler, a ``before_request`` hook or a
    middleware's ``__call__`` also run for paths that matched nothing."""
    if route or fn.name in AFTER_ROUTING_HOOKS or (method and fn.name in VERB_METHODS):
        return True
    return any(
        isinstance(d, ast.Call)
        and ast.unparse(d.func).rsplit(".", 1)[-1] == "wraps"
        and bool(d.args)
        and isinstance(d.args[0], ast.Name)
        and d.args[0].id in outer
        for d in fn.decorator_list
    )


def scalar_annotation(annotation: ast.expr | None) -> bool:
    """``int`` / ``UUID4`` / ``Annotated[int, Path()]`` / ``int | None``: a type FastAPI
    checks that no injection text survives."""
    if annotation is None:
        return False
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value).endswith(
        "Annotated"
    ):
        inner = annotation.slice
        first = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
        return scalar_annotation(first)
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        parts = [annotation.left, annotation.right]
        return all(
            scalar_annotation(p) or (isinstance(p, ast.Constant) and p.value is None) for p in parts
        )
    if isinstance(annotation, ast.Subscript) and ast.unparse(annotation.value).endswith("Optional"):
        return scalar_annotation(annotation.slice)
    return ast.unparse(annotation) in SCALAR_TYPES


def validates_annotations(lines: list[str]) -> bool:
    """Does this module build FastAPI routes (whose parameters' types are enforced)?"""
    return any(line.startswith(("from fastapi", "import fastapi")) for line in lines)


def url_value(name: str, conv: str | None, line: int, path: str = "") -> Value:
    """The value a URL parameter holds by its converter (None: not known to be one of the
    route's captures; then the caller decides): clean for a converter that admits no
    payload, one path segment (safe for path traversal) for the default and any other
    converter but ``path``, plain request input for ``path``."""
    if conv in SCALAR_CONVERTERS:
        return CLEAN
    label = Label("request", f"parameter {name}", line, path=path)
    if conv is not None and conv not in ANY_PATH:
        label = label.sanitized(frozenset({"path_traversal"}), SEGMENT)
    return Value(frozenset({label}))
