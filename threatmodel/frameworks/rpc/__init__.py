"""RPC servers: entry points that are no HTTP route of a web framework.

An XML-RPC server (the npm ``xmlrpc`` package) answers a POST to any URL of its port and
dispatches on the ``methodName`` the body names: each method a handler is registered for is
one entry point, in the representation GraphQL operations use: method ``RPC``, path
``/<method name>``, framework ``xmlrpc``. ``js.py`` finds them and their handlers; the
dataflow engine makes the handler's parameters that carry the caller's values request input
(``dataflow/js.py``), so the flows they reach are found and the handler reaches a chunk.
"""

from threatmodel.frameworks._js import GUARDS as JS_GUARDS
from threatmodel.frameworks.base import Declared

FRAMEWORK = Declared(
    name="xmlrpc",
    language="javascript",
    routes="threatmodel.frameworks.rpc.js",
    collector="rpc_js",
    guards=JS_GUARDS,
    packages=("xmlrpc",),
)
