"""Which routes reach a finding: the one answer the rules and the diff's escalation share.

A finding reaches the network through a route when a claim names that route, when its
proof chain starts at the route, or when a claim's location is a sink inside the route's
handler function. The rules use the handler
link to decide that a sink is request-reachable (TM111); ``threatmodel diff`` uses it to see
that a finding already on the base branch became easier to reach (its route lost a guard).
"""

from __future__ import annotations

from threatmodel.code.pyparse import python_tree
from threatmodel.code.reader import PathRefused, RepoReader
from threatmodel.collect._pyexpr import function_at
from threatmodel.collect.effects import handler_code
from threatmodel.models import AuthStatus, Facts, Finding, Flow, Route, Sink

# Most open first: the route a reader should worry about leads a flow's proof chain.
_OPENNESS = {AuthStatus.PUBLIC: 0, AuthStatus.UNKNOWN: 1, AuthStatus.AUTHENTICATED: 2}


def handler_route(sink: Sink, routes: list[Route]) -> Route | None:
    """The route whose handler function contains ``sink``, if any."""
    if not sink.handler or sink.handler.startswith("<anonymous"):
        if sink.handler_line is None:
            return None
        same = [
            r
            for r in routes
            if r.location.path == sink.location.path
            and sink.handler_line - 3 <= r.location.line <= sink.handler_line
        ]
        return same[0] if same else None
    name = sink.handler.rsplit(".", 1)[-1]
    for r in routes:
        if r.handler == sink.handler:
            return r
    for r in routes:
        if r.handler.rsplit(".", 1)[-1] == name and r.location.path == sink.location.path:
            return r
    for r in routes:
        if r.handler.rsplit(".", 1)[-1] == name and len(name) > 6:
            return r
    return None


def flow_routes(flow: Flow, routes: list[Route], reader: RepoReader) -> list[Route]:
    """The routes whose handler function holds ``flow``'s source (the request read or the
    handler parameter it starts from), most open first.

    The handler is the one the effects analysis reads for the route (``handler_code``), so
    the flow's route is the same function the route's other findings speak of; a source in
    a helper no route names as its handler links no route. Python only: a JS flow's route
    is not linked yet.
    """
    loc = flow.source_location
    if not loc.path.endswith(".py"):
        return []
    try:
        tree = python_tree("\n".join(reader.lines(loc.path)))
    except PathRefused:
        return []
    fn = function_at(tree, loc.line) if tree is not None else None
    if fn is None:
        return []
    found = []
    for r in routes:
        if _short(r.handler) != fn.name:
            continue
        code = handler_code(reader, r)
        if code is not None and (code.location.path, code.location.line) == (loc.path, fn.lineno):
            found.append(r)
    return sorted(found, key=openness)


def openness(route: Route) -> int:
    """0 for a public route, then unknown, authenticated, restricted: most open first."""
    return _OPENNESS.get(route.auth.status, 3)


def _short(handler: str) -> str:
    """``pkg.views.Orders.list`` / ``app/x.ts#GET`` -> the function's own name."""
    return handler.replace("#", ".").rsplit(".", 1)[-1]


def routes_reaching(finding: Finding, facts: Facts) -> list[Route]:
    """The routes through which ``finding`` is reached, by method and path, in facts order."""
    by_id = {(r.method.upper(), r.path): r for r in facts.routes}

    def _named(sink: Sink) -> Route | None:
        # Collectors name a handler differently ("contributionsHandler.update" at the route,
        # "this.update" at the sink): for the report, the last name decides when only one
        # handler has it (not proof enough for TM111's reachability, hence not there).
        name = _short(sink.handler or "")
        named = [r for r in facts.routes if name[:1] not in ("", "<") and _short(r.handler) == name]
        return named[0] if named and len({r.handler for r in named}) == 1 else None

    sinks = {(s.location.path, s.location.line): s for s in facts.sinks}
    found: dict[tuple[str, str], Route] = {}
    for step in finding.proof:
        # a proof chain that starts at a route names it (a flow's route, see flow_routes)
        if step.kind == "route" and step.location is not None:
            for r in facts.routes:
                if r.location == step.location and step.text.startswith(f"{r.id} "):
                    found.setdefault((r.method.upper(), r.path), r)
    for c in finding.claims:
        if c.route is not None:
            key = (c.route.method.upper(), c.route.path)
            if key in by_id:
                found.setdefault(key, by_id[key])
        if c.location is not None:
            sink = sinks.get((c.location.path, c.location.line))
            route = None if sink is None else handler_route(sink, facts.routes) or _named(sink)
            if route is None:
                continue
            # One handler can serve several routes (two decorators, ``methods=[...]``).
            for r in facts.routes:
                if r.handler == route.handler and r.location.path == route.location.path:
                    found.setdefault((r.method.upper(), r.path), r)
    return list(found.values())
