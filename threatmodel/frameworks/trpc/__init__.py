"""tRPC: each procedure of an app's router is a route (``POST /api/trpc/post.create``).

chain.py reads procedure builder chains and their middlewares (who a procedure refuses);
routes.py is the collector: routers followed through imports from the router an adapter
serves, each procedure with the method tRPC's HTTP link sends it with.
"""

from threatmodel.frameworks._js import GUARDS as JS_GUARDS
from threatmodel.frameworks.base import Declared

FRAMEWORK = Declared(
    name="trpc",
    language="javascript",
    routes="threatmodel.frameworks.trpc.routes",
    collector="trpc",
    guards=JS_GUARDS,
)
