"""Every framework the tool knows, in a fixed order, and what the other layers ask of them.

The order is the order the Python web collector runs the frameworks in. ``dataflow/`` reads
the request sources from here; ``collect/registry.py`` imports each ``routes`` module so
its collector registers; ``collect/pyweb.py`` dispatches to the Python ones.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from threatmodel.frameworks import (
    _python,
    aiohttp,
    django,
    express,
    fastapi,
    flask,
    graphql,
    nestjs,
    nextjs,
    openapi,
    rpc,
    supabase_functions,
    trpc,
)
from threatmodel.frameworks.base import Framework, RequestSources

FRAMEWORKS: tuple[Framework, ...] = (
    flask.FRAMEWORK,
    fastapi.FRAMEWORK,
    django.FRAMEWORK,
    aiohttp.FRAMEWORK,
    openapi.FRAMEWORK,
    express.FRAMEWORK,
    nestjs.FRAMEWORK,
    nextjs.FRAMEWORK,
    supabase_functions.FRAMEWORK,
    graphql.FRAMEWORK,  # last of pyweb's: operations sit under the route serving GraphQL
    graphql.JS_FRAMEWORK,
    trpc.FRAMEWORK,
    rpc.FRAMEWORK,
)

# Request objects of Python web frameworks that have no folder here (their routes are not
# collected, but their request data is still followed).
_OTHER_SOURCES = {"python": _python.OTHER_SOURCES}


def request_sources(language: str) -> RequestSources:
    """The union of the request sources of every framework of ``language``."""
    out = _OTHER_SOURCES.get(language, RequestSources())
    for fw in FRAMEWORKS:
        if fw.language == language:
            out = out.union(fw.request_sources())
    return out


def routes_modules(collector: str, language: str) -> dict[str, ModuleType]:
    """Name -> routes module of the frameworks ``collector`` runs on ``language`` files."""
    return {
        fw.name: importlib.import_module(fw.routes)
        for fw in FRAMEWORKS
        if fw.collector == collector and fw.language == language
    }


def framework_packages() -> frozenset[str]:
    """The packages (manifest names) that are a framework the tool reads."""
    return frozenset(p for fw in FRAMEWORKS for p in fw.packages)
