"""XML-RPC methods in Python: each function a standard-library server registers is a route.

``server = SimpleXMLRPCServer(addr)`` (``xmlrpc.server``, Python 2's ``SimpleXMLRPCServer``
module; also ``DocXMLRPCServer`` and the dispatchers) then ``server.register_function(f,
'name')`` or ``@server.register_function`` / ``@server.register_function(name='n')``: the
function runs for any caller who posts a ``methodCall`` of that name, with the call's
parameters as its arguments. ``collect/pyrpc.py`` makes each a route as ``js.py`` does
(method ``RPC``, path ``/<name>``, auth unknown) whose ``Route.params`` name every parameter
as text, so the dataflow engine binds them as request input (``dataflow/routeparams.py``).
A function given by a name this module does not define (an import) is not followed, nor
``register_instance`` (every public method of an object: its class may live anywhere).
"""

from __future__ import annotations

import ast
from typing import Any

from threatmodel.code.pyast import dotted, str_const

SERVERS = frozenset(
    {"SimpleXMLRPCServer", "DocXMLRPCServer", "SimpleXMLRPCDispatcher", "CGIXMLRPCRequestHandler"}
)
REGISTER = "register_function"
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _servers(tree: ast.Module) -> set[str]:
    """The names a server of ``SERVERS`` is assigned to (``server = SimpleXMLRPCServer(a)``)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
            made = dotted(node.value.func).rsplit(".", 1)[-1]
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if made in SERVERS:
                out |= {dotted(t) for t in targets if dotted(t)}
    return out


def _name(call: ast.Call, default: str) -> str:
    """The method name a ``register_function`` call gives (second argument or ``name=``)."""
    given = call.args[1] if len(call.args) > 1 else None
    given = next((k.value for k in call.keywords if k.arg == "name"), given)
    return (str_const(given) if given is not None else None) or default


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = fn.args
    return [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]


def methods(tree: ast.Module) -> list[list[Any]]:
    """``[name, line, function, parameters]`` of each function a server registers."""
    servers = _servers(tree)
    if not servers:
        return []
    defs = {n.name: n for n in tree.body if isinstance(n, _FUNCTIONS)}
    out: list[list[Any]] = []
    for node in ast.walk(tree):
        if isinstance(node, _FUNCTIONS):  # @server.register_function(name="x")
            for dec in node.decorator_list:
                call = dec if isinstance(dec, ast.Call) else None
                head = dotted(call.func if call else dec)
                if head.rpartition(".")[::2] in {(s, REGISTER) for s in servers}:
                    name = _name(call, node.name) if call else node.name
                    out.append([name, dec.lineno, node.name, _params(node)])
        elif isinstance(node, ast.Call) and node.args:
            head, _, method = dotted(node.func).rpartition(".")
            fn = defs.get(dotted(node.args[0]))
            if head in servers and method == REGISTER and fn is not None:
                out.append([_name(node, fn.name), node.lineno, fn.name, _params(fn)])
    return out
