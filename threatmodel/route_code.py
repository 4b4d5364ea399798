"""The code a route's chunk shows, and how much the route matters (summarize.py packs it).

``route_refs`` finds a route's own code whatever declared it: a decorated function, a
connexion operation in an OpenAPI spec, a Django ``path()`` line and its view, an Express
``obj.method`` in another module, or a route table's line and the view it names.
``model_code`` shows the ORM models of the tables that code names; ``route_risk`` orders
components so the token budget goes to public routes with dangerous calls first.
"""

from __future__ import annotations

import re
from dataclasses import replace

from threatmodel.chunk_builder import CODE_LANGUAGES, ChunkBuilder
from threatmodel.code.reader import PathRefused
from threatmodel.code.source import JS_LANGUAGES, detect_language
from threatmodel.excerpt_calls import handler_definition
from threatmodel.excerpts import CodeRef
from threatmodel.models import AuthStatus, Route

MAX_MODEL_LINES = 40
# A model line that is more than a column's name and type: a method or hook (``def``,
# ``function``, an arrow), a default, a setter / getter / validator, choices.
_BEHAVIOUR = re.compile(
    r"\b(?:def|function|lambda)\b|=>|\b(?:\w*default\w*|on_?update|hooks|validates?"
    r"|validate|set|get|choices|before\w+|after\w+)\s*[:=(]",
    re.I,
)


def route_risk(r: Route, sinks: list[str], tables: list[str]) -> int:
    """How much a route's chunk matters: reachable without auth, dangerous calls, writes.
    A call whose arguments are constant weighs little (``redirect('login')``): an unbroken
    flow (``flow_weight``) or a call with a value the engine did not follow comes first."""
    score = sum(5 if "non-constant" in s else 1 for s in sinks) + len(tables)
    if r.auth.status in (AuthStatus.PUBLIC, AuthStatus.UNKNOWN):
        score += 4
    return score + (1 if r.method not in ("GET", "HEAD", "OPTIONS") else 0)


def route_refs(b: ChunkBuilder, r: Route) -> tuple[list[CodeRef], list[CodeRef]]:
    """(code, guards) of a route: its declaration, its handler's definition, the guards."""
    start, end = b.index.unit_extent(r.location.path, r.location.line)
    handler = CodeRef(r.location.path, start, end, "handler")
    guards = b.index.guard_definitions(r.location.path, r.location.line)
    refs = [handler]
    if detect_language(r.location.path) not in CODE_LANGUAGES:
        # Declared in a spec (OpenAPI for connexion): show the declaration's head and
        # the Python function it names, with that function's decorators.
        refs = [CodeRef(r.location.path, start, min(end, start + 7), f"route {r.id}")]
        code = b.index.python_function(r.handler)
        if code is not None:
            refs.append(code)
            guards = b.index.guard_definitions(code.path, code.end)
    elif r.framework == "django" and (
        code := b.index.python_function(r.handler, near=r.location.path)
    ):
        # The route's location is its `path(...)` line in urls.py: show the view it names
        # (function, class-based view, or viewset action). The line itself is the route
        # text's `at urls.py:N`; quoting it again costs a request's worth over 100 routes.
        # A class-based view's route of one method shows that method under the class head.
        refs = b.index.view_method(code, r.method) or [code]
        guards = b.index.guard_definitions(code.path, refs[-1].start)
    elif "." in r.handler and detect_language(r.location.path) in JS_LANGUAGES:
        # `router.get("/x", auth, handlers.show)`: the body lives in another module.
        code = b.index.js_member_function(r.location.path, r.handler)
        if code is not None:
            refs.append(code)
    elif code := handler_definition(b.index, r.location.path, r.location.line, r.handler):
        # A route table (aiohttp `router.add_get("/", views.index)`): the view (its line is
        # the route text's location).
        refs = [code]
        guards = b.index.guard_definitions(code.path, code.start)
    return refs, guards + scoped_middleware(b, r)


def scoped_middleware(b: ChunkBuilder, r: Route) -> list[CodeRef]:
    """The definitions of the middleware scoped to ``r``'s path (not the app's global ones,
    which the application chunk holds), named where they are given: the GraphQL middleware
    of the view serving its operations (``frameworks/graphql/endpoint.py``)."""
    out: list[CodeRef] = []
    for m in b.facts.middleware:
        if m.scope == "global" or not m.applies_to(r):
            continue
        code = handler_definition(b.index, m.location.path, m.location.line, m.name)
        if code is not None and code not in out:
            out.append(replace(code, label=f"{m.options.get('role', 'middleware')} {m.name}"))
    return out


def _top_level_extent(b: ChunkBuilder, path: str, line: int) -> tuple[int, int]:
    """The module-level statement at ``line`` (a model class, a ``sa.Table(...)``)."""
    tree = b.index.python(path) if detect_language(path) == "python" else None
    for node in tree.body if tree is not None else ():
        if node.lineno <= line <= (node.end_lineno or node.lineno):
            return node.lineno, node.end_lineno or node.lineno
    return b.index.unit_extent(path, line)


def _says_more(b: ChunkBuilder, path: str, start: int, end: int) -> bool:
    """Whether a model's lines hold code beyond its columns' names and types: a method,
    hook, setter or validator, a default value."""
    try:
        lines = b.reader.lines(path)[start - 1 : end]
    except PathRefused:
        return False
    return any(_BEHAVIOUR.search(t) for t in lines)


def model_code(b: ChunkBuilder, tables: list[str]) -> list[CodeRef]:
    """The ORM model definitions of the tables a route's code names: their hooks, setters
    and defaults (a password hashed in a setter, a role column with a default) are code.
    A model that only declares columns is not quoted: the table's fact line lists them."""
    out = []
    for name in tables:
        t = b.tables[name]
        if t.source != "sql" and detect_language(t.location.path) in CODE_LANGUAGES:
            start, end = _top_level_extent(b, t.location.path, t.location.line)
            end = min(end, start + MAX_MODEL_LINES - 1)  # the columns and their hooks
            if t.columns and not _says_more(b, t.location.path, start, end):
                continue
            out.append(CodeRef(t.location.path, start, end, f"model of {name}"))
    return out
