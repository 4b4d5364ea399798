"""RPC servers: entry points that are no HTTP route of a web framework.

An XML-RPC server answers a POST to its URL and dispatches on the ``methodName`` the body
names: each method a function is registered for is one entry point, in the representation
GraphQL operations use (``route.py``: method ``RPC``, path ``/<method name>``, framework
``xmlrpc``). ``js.py`` reads the npm ``xmlrpc`` package's servers, ``python.py`` the standard
library's (its routes made by ``collect/pyrpc.py``); the dataflow engine takes what the
caller sends as request input in the function registered, so the flows it reaches are
found and the function reaches a chunk.
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
