"""A handler's URL parameters as request input wherever its route is declared.

The engine makes a parameter request input only for a function that carries a route
decorator itself (``@app.route("/x/<name>")``). A handler a route *table* names gets its
captures the same way at run time (Django ``path("d/<str:name>/", views.detail)``, Flask
``add_url_rule("/x/<name>", view_func=show)``, a class view's ``get(self, request, slug)``),
so here every route fact whose pattern records its captures (``models.Route.params``) binds
them to its handler's parameters (a handler taking ``**kw`` gathers every capture, as a
GraphQL resolver takes its arguments), each valued by its converter (``urlparams.url_value``),
and the sinks they reach through the handler and its callees are found as a caller's
arguments are (``Linker.param_sinks``). A parameter no route captures stays a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable

from threatmodel.dataflow.link import HitRow, Linker
from threatmodel.dataflow.signature import signature
from threatmodel.dataflow.urlparams import url_value
from threatmodel.models import Route

# A class view's methods that answer an HTTP method (Django View, Flask MethodView).
VERBS = ("get", "post", "put", "patch", "delete", "head", "options")


def route_hits(linker: Linker, routes: Iterable[Route]) -> list[HitRow]:
    """The sinks each route's captured parameters reach in its handler (once per handler
    and binding, however many methods or paths name it)."""
    out: list[HitRow] = []
    done: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for route in routes:
        if not route.params:
            continue
        for qual in _handlers(linker, route):
            found = linker.find(qual)
            if found is None:
                continue
            path, summ = found
            names = [n for n in summ.get("params", ()) if n in route.params]
            if signature(summ.get("params", ())).kw:  # ``mutate(root, info, **kw)``
                names += [n for n in sorted(route.params) if n not in names]
            key = (qual, tuple((n, route.params[n]) for n in names))
            if not names or key in done:
                continue
            done.add(key)
            line = int(summ.get("line", 0))
            args = tuple((n, url_value(n, route.params[n], line, path).labels) for n in names)
            if any(v for _, v in args):  # a scalar converter binds nothing to follow
                out += linker.param_sinks(qual, args, None, 0, set())
    return out


def _handlers(linker: Linker, route: Route) -> list[str]:
    """The functions that answer ``route``: its handler, or a class view's methods for
    the route's HTTP method (every verb method for ``ANY``)."""
    if linker.find(route.handler) is not None:
        return [route.handler]
    verbs = VERBS if route.method == "ANY" else (route.method.lower(),)
    return [f"{route.handler}.{v}" for v in verbs if linker.find(f"{route.handler}.{v}")]
