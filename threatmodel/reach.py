"""Which routes reach a finding: the one answer the rules and the diff's escalation share.

A finding reaches the network through a route when a claim names that route, or when a
claim's location is a sink inside the route's handler function. The rules use the handler
link to decide that a sink is request-reachable (TM111); ``threatmodel diff`` uses it to see
that a finding already on the base branch became easier to reach (its route lost a guard).
"""

from __future__ import annotations

from threatmodel.models import Facts, Finding, Route, Sink


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


def routes_reaching(finding: Finding, facts: Facts) -> list[Route]:
    """The routes through which ``finding`` is reached, by method and path, in facts order."""
    by_id = {(r.method.upper(), r.path): r for r in facts.routes}
    sinks = {(s.location.path, s.location.line): s for s in facts.sinks}
    found: dict[tuple[str, str], Route] = {}
    for c in finding.claims:
        if c.route is not None:
            key = (c.route.method.upper(), c.route.path)
            if key in by_id:
                found.setdefault(key, by_id[key])
        if c.location is not None:
            sink = sinks.get((c.location.path, c.location.line))
            route = handler_route(sink, facts.routes) if sink is not None else None
            if route is None:
                continue
            # One handler can serve several routes (two decorators, ``methods=[...]``).
            for r in facts.routes:
                if r.handler == route.handler and r.location.path == route.location.path:
                    found.setdefault((r.method.upper(), r.path), r)
    return list(found.values())
