"""The Framework protocol: what every folder of ``frameworks/`` declares about its framework.

A framework says where its routes are found (``routes``: the module, run by the collector
``collector``), where its guards are recognised (``guards``: the modules that judge whether
a decorator, dependency, middleware or handler check rejects a caller), and which of its
objects carry the request (``request_sources()``: rows the dataflow engine starts from).
The rows are data, like the sinks of ``claims/``: adding a framework's request object is a
row in the framework's ``__init__``, not a branch in ``dataflow/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class RequestSources:
    """Where a framework's request data enters a handler (the dataflow engine's sources).

    ``objects``: qualified names that are the request itself (``flask.request``).
    ``types``: class names whose annotation makes a parameter the request (``HttpRequest``).
    ``route_decorators``: the last name of a decorator that makes a function a route, so its
    parameters are request input (``get`` of ``@app.get``).
    ``html_decorators``: route decorators whose returned ``str`` is the HTML body.
    ``injected``: words of a parameter default that make the framework inject the value
    rather than take it from the request (``Depends``).
    ``stored``: attributes of an object bound to request data that hold rows the framework
    read from the database, not the request (a model formset's ``deleted_objects``).
    """

    objects: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    route_decorators: frozenset[str] = frozenset()
    html_decorators: frozenset[str] = frozenset()
    injected: frozenset[str] = frozenset()
    stored: frozenset[str] = frozenset()

    def union(self, other: RequestSources) -> RequestSources:
        return RequestSources(
            objects=self.objects | other.objects,
            types=self.types | other.types,
            route_decorators=self.route_decorators | other.route_decorators,
            html_decorators=self.html_decorators | other.html_decorators,
            injected=self.injected | other.injected,
            stored=self.stored | other.stored,
        )

    def types_pattern(self) -> re.Pattern[str]:
        """A pattern that finds any of ``types`` as a whole word in an annotation."""
        names = sorted(self.types, key=lambda t: (-len(t), t)) or ["(?!)"]
        return re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")

    def injects(self, default: str) -> bool:
        """Does a parameter default (its source text) make the framework inject the value?"""
        return any(word in default for word in self.injected)


class Framework(Protocol):
    """One web framework: its routes, its guards, its request sources."""

    @property
    def name(self) -> str:
        """Its folder under ``frameworks/``, and the ``Route.framework`` of its routes."""

    @property
    def language(self) -> str:
        """What its routes are read from: ``python``, ``javascript`` (JS and TS), ``openapi``."""

    @property
    def routes(self) -> str:
        """The module that finds its routes (``threatmodel.frameworks.flask.routes``)."""

    @property
    def collector(self) -> str:
        """The id of the registered collector that runs ``routes`` (``pyweb`` for Python)."""

    @property
    def guards(self) -> tuple[str, ...]:
        """The modules that recognise its guards (decide who may call a route)."""

    def request_sources(self) -> RequestSources:
        """Its request objects, types and route decorators, for the dataflow engine."""

    @property
    def packages(self) -> tuple[str, ...]:
        """The packages that are the framework, as a manifest names them."""


@dataclass(frozen=True)
class Declared:
    """A Framework declared as data (every folder's ``FRAMEWORK``)."""

    name: str
    language: str
    routes: str
    collector: str
    guards: tuple[str, ...]
    sources: RequestSources = field(default_factory=RequestSources)
    # The packages that are the framework, as manifests name them (PyPI names canonical,
    # npm names as published): the configuration chunk shows their declared versions.
    packages: tuple[str, ...] = ()

    def request_sources(self) -> RequestSources:
        return self.sources
