"""aiohttp: routes.py (router tables, sub-applications, middlewares)."""

from threatmodel.frameworks._python import GUARDS
from threatmodel.frameworks.base import Declared, RequestSources

FRAMEWORK = Declared(
    name="aiohttp",
    language="python",
    routes="threatmodel.frameworks.aiohttp.routes",
    collector="pyweb",
    guards=GUARDS,
    sources=RequestSources(types=frozenset({"Request"})),  # aiohttp.web.Request
    packages=("aiohttp",),
)
