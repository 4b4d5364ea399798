"""FastAPI / Starlette: routes.py (routes, routers, dependencies), link.py (include chains)."""

from threatmodel.frameworks._python import GUARDS
from threatmodel.frameworks.base import Declared, RequestSources

FRAMEWORK = Declared(
    name="fastapi",
    language="python",
    routes="threatmodel.frameworks.fastapi.routes",
    collector="pyweb",
    guards=GUARDS,
    sources=RequestSources(
        types=frozenset({"Request"}),  # starlette.requests.Request
        route_decorators=frozenset({"get", "post", "put", "patch", "delete", "api_route"}),
        injected=frozenset({"Depends"}),  # a Depends(...) default is injected, not input
    ),
    packages=("fastapi", "starlette"),
)
