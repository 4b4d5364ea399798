"""XML-RPC servers (npm ``xmlrpc``): each method a handler is registered for is an entry
point (method ``RPC``, path ``/<method name>``), and the handler's parameters that carry the
caller's values are request input (fixtures/js/xmlrpc-app)."""

from __future__ import annotations

from pathlib import Path

from js_support import by_route, collect, js_flows

from threatmodel.frameworks.rpc.js import RpcJsCollector

APP = Path(__file__).parent / "fixtures" / "js" / "xmlrpc-app"


def _files() -> dict[str, str]:
    return {p.name: p.read_text() for p in APP.iterdir()}


def test_registered_methods_are_routes() -> None:
    routes = by_route(collect(APP, RpcJsCollector()))
    assert set(routes) == {
        ("RPC", "/status.version"),
        ("RPC", "/status.probe"),
        ("RPC", "/files.read"),  # registered on the chain of the creating call
    }  # NotFound and error are the server's own events; events.on is no server
    probe = routes[("RPC", "/status.probe")]
    assert (probe.framework, probe.location.path, probe.location.line) == (
        "xmlrpc",
        "server.js",
        15,
    )
    # the protocol carries no credentials: whether the handler checks one is not read
    assert probe.auth.status.value == "unknown"


def test_method_parameters_are_request_input() -> None:
    got = {
        (f.claim, f.sink_location.path, f.sink_location.line, f.source) for f in js_flows(_files())
    }
    # through the module's own ``exports.probe`` called in the handler
    assert ("ssrf", "server.js", 17, "XML-RPC parameter params") in got
    # a destructured parameter of a handler registered on the chain
    assert any(c == "path_traversal" and p == "chained.js" for c, p, _, _ in got)
    # another emitter's handler parameters are not the caller's
    assert not any(p == "server.js" and line == 25 for _, p, line, _ in got)
