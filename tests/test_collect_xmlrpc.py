"""XML-RPC servers (npm ``xmlrpc``, Python's ``xmlrpc.server``): each method a handler is
registered for is an entry point (method ``RPC``, path ``/<method name>``), and the
handler's parameters that carry the caller's values are request input
(fixtures/js/xmlrpc-app, fixtures/python/xmlrpc_app)."""

from __future__ import annotations

from pathlib import Path

from js_support import by_route, collect, js_flows

from threatmodel.config import Settings
from threatmodel.frameworks.rpc.js import RpcJsCollector
from threatmodel.scan import ScanOptions, collect_repo_facts

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


PY_APP = Path(__file__).parent / "fixtures" / "python" / "xmlrpc_app"


def test_python_registered_functions_are_routes_with_request_input(tmp_path: Path) -> None:
    options = ScanOptions(jobs=1, use_cache=False)
    settings = Settings(provider=None, cache_dir=tmp_path / "cache")
    facts = collect_repo_facts(PY_APP, settings, options).facts
    rpc = {r.path: r for r in facts.routes if r.method == "RPC"}
    # by the name given, positional or ``name=``, else the function's own
    assert set(rpc) == {"/net.ping", "/version", "/files.remove"}
    assert rpc["/net.ping"].handler.endswith("server.ping")
    assert rpc["/files.remove"].location.line == 20  # the decorator's line
    flows = {(f.claim, f.sink_location.line) for f in facts.flows if f.broken_by is None}
    assert ("command_injection", 9) in flows  # the caller's host in a shell command
    assert ("path_traversal", 22) in flows
    # a function no server registers takes no caller's value
    assert ("command_injection", 27) not in flows
