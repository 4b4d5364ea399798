"""An RPC method as a route: method ``RPC``, path ``/<method name>``, framework ``xmlrpc``."""

from __future__ import annotations

from collections.abc import Sequence

from threatmodel.models import AuthStatus, Location, Route, RouteAuth

METHOD = "RPC"
# XML-RPC carries no credentials and the servers read none: whether the function checks a
# token among its parameters is not read, so who may call it is unknown, never "public".
WHY = "XML-RPC method: the protocol carries no credentials; the function's own checks not read"


def method_route(name: str, handler: str, where: Location, params: Sequence[str] = ()) -> Route:
    """The route of method ``name``; ``params``: the handler's parameters that take the
    caller's values by name (``Route.params``), when the engine binds them that way."""
    return Route(
        id=f"{METHOD} /{name}",
        method=METHOD,
        path=f"/{name}",
        framework="xmlrpc",
        handler=handler,
        location=where,
        auth=RouteAuth(status=AuthStatus.UNKNOWN, mechanism=WHY),
        params=dict.fromkeys(params, "text"),
    )
