"""The collector interface and registry.

A collector works in two phases so that parsing is parallel and cacheable:

1. ``extract(src)`` runs once per file it ``wants``, in any process, and returns
   JSON-serialisable data (or None). It must be pure: the same file gives the same result,
   so results are cached by the file's content hash and the collector's ``version``.
   It must never return a secret value.
2. ``link(extracts, out, ctx)`` runs once in the main process with every file's extract,
   resolves what spans files (blueprint prefixes, routers mounted from other modules,
   migrations applied in order) and adds facts to ``out``.

Collectors register themselves with ``@register``; ``collect.registry.all_collectors()``
imports every module of ``collect/`` and every framework of ``frameworks/``, so adding a
collector is adding a file. This contract lives in ``code/`` because both ``frameworks/``
and ``collect/`` implement it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Protocol

from threatmodel.code.source import SourceFile
from threatmodel.models import (
    Bucket,
    DbFunction,
    Dependency,
    EnvVar,
    Facts,
    Flow,
    Location,
    Middleware,
    Route,
    Secret,
    Setting,
    Sink,
    Table,
    View,
)

Extract = Any  # JSON-serialisable: dict / list / str / int / float / bool / None


class TextGate(Protocol):
    """What Collector.gate needs: ``re.Pattern.search``'s shape (a match, or None)."""

    def search(self, text: str) -> object | None: ...


@dataclass(frozen=True)
class LinkContext:
    """What link() may know beyond the extracts: the root, the full file list, and which of
    those files are test code (``collect/scope.code_of_tests``)."""

    root: Path
    files: tuple[str, ...]
    tests: frozenset[str] = frozenset()


class Collector(ABC):
    id: ClassVar[str]
    # Bump when extract() output changes, so cached extracts of older versions are ignored.
    version: ClassVar[int] = 1
    # A necessary condition on a file's text for extract() to find anything (say, the names of
    # the framework's imports): a file it does not match is never handed to extract(), and a
    # file no collector's gate lets through is never parsed. Scanning text for a few words runs
    # in C and costs a fraction of walking a parse tree, and most files of an application hold
    # no route, sink or secret (issue 11). None lets every file through. A gate must never
    # change a fact: tests/test_collect_gates.py links fixtures with and without gates.
    # A compiled pattern, or any TextGate (the Python collectors' also admit NFKC look-alikes).
    gate: ClassVar[TextGate | None] = None
    # Does extract() see test code (files whose path, or the repository's scope override,
    # says test or fixture: collect/scope.code_of_tests)? Tests and their fixtures never serve an
    # attacker: their routes are invented and their flows would be folded anyway, and they
    # are most of a large repository's code (saleor: 67% of its Python bytes). So the engine
    # hands them only to collectors that find something meaningful there without parsing
    # (a leaked key's token format is a leaked key anywhere), and a test file is never parsed.
    reads_test_code: ClassVar[bool] = False
    # Collectors whose link() must run before this one's (it reads the facts they add:
    # ``flows_python`` reads the Python routes). Links otherwise run in id order.
    link_after: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def wants(self, path: str, language: str) -> bool:
        """Cheap test on the name alone: should extract() see this file?"""

    @abstractmethod
    def extract(self, src: SourceFile) -> Extract:
        """Per-file facts as JSON-able data. Raise nothing: return None when not applicable."""

    def admits(self, text: str) -> bool:
        """Does the file's text pass ``gate``? (See there.)"""
        return self.gate is None or self.gate.search(text) is not None

    @abstractmethod
    def link(self, extracts: Mapping[str, Extract], out: FactsBuilder, ctx: LinkContext) -> None:
        """Combine per-file extracts (keyed by path, non-None only) into facts.

        ``out`` is this collector's own builder: it appends to it, and it may read
        ``out.routes``, which start with the routes of the collectors linked before it (in id
        order; the collectors that read test code link last: collect/_link.py).
        """


_REGISTRY: dict[str, type[Collector]] = {}


def register(cls: type[Collector]) -> type[Collector]:
    if cls.id in _REGISTRY and _REGISTRY[cls.id] is not cls:
        raise ValueError(f"collector id {cls.id!r} registered twice")
    _REGISTRY[cls.id] = cls
    return cls


def registered() -> list[Collector]:
    """One instance of every collector registered so far, in id order (deterministic).

    Which modules are imported (and so registered) is collect/registry.py's business.
    """
    return [_REGISTRY[k]() for k in sorted(_REGISTRY)]


@dataclass
class FactsBuilder:
    """Mutable accumulator for link(); build() sorts and freezes into Facts."""

    routes: list[Route] = field(default_factory=list)
    middleware: list[Middleware] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    buckets: list[Bucket] = field(default_factory=list)
    env_vars: list[EnvVar] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    settings: list[Setting] = field(default_factory=list)
    sinks: list[Sink] = field(default_factory=list)
    functions: list[DbFunction] = field(default_factory=list)
    views: list[View] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    # Notes for the report's warnings, not facts (e.g. possible prompt injection at a line).
    warnings: list[str] = field(default_factory=list)

    def add_env_read(self, name: str, location: Location, client_exposed: bool) -> None:
        """Record that env var ``name`` is read (or declared) at ``location``; merges by name."""
        for i, var in enumerate(self.env_vars):
            if var.name == name:
                locs = var.locations if location in var.locations else [*var.locations, location]
                self.env_vars[i] = EnvVar(
                    name=name, client_exposed=var.client_exposed or client_exposed, locations=locs
                )
                return
        self.env_vars.append(EnvVar(name=name, client_exposed=client_exposed, locations=[location]))

    def merge(self, other: FactsBuilder) -> None:
        """Append what ``other`` gathered, as if its link had run on this builder after the
        links that filled this one (collectors link into their own builders, merged in
        collector order: collect/_run.py)."""
        for f in fields(self):
            if f.name != "env_vars":
                getattr(self, f.name).extend(getattr(other, f.name))
        for var in other.env_vars:  # merged by name: replayed, locations in first-seen order
            for location in var.locations:
                self.add_env_read(var.name, location, var.client_exposed)

    def build(self) -> Facts:
        routes = _unique_route_ids(
            sorted(self.routes, key=lambda r: (r.path, r.method, r.location.path, r.location.line))
        )
        return Facts(
            routes=routes,
            middleware=sorted(
                self.middleware, key=lambda m: (m.scope, m.kind, m.name, _loc(m.location))
            ),
            tables=sorted(self.tables, key=lambda t: (t.name, t.source)),
            buckets=sorted(self.buckets, key=lambda b: b.name),
            env_vars=sorted(
                (
                    v.model_copy(update={"locations": sorted(v.locations, key=_loc)})
                    for v in self.env_vars
                ),
                key=lambda v: v.name,
            ),
            secrets=sorted(self.secrets, key=lambda s: (_loc(s.location), s.name)),
            dependencies=sorted(
                self.dependencies, key=lambda d: (d.ecosystem, d.name, _loc(d.location))
            ),
            settings=sorted(self.settings, key=lambda s: (s.key, _loc(s.location))),
            sinks=sorted(self.sinks, key=lambda s: (_loc(s.location), s.kind)),
            functions=sorted(self.functions, key=lambda f: (f.name, _loc(f.location))),
            views=sorted(self.views, key=lambda v: (v.name, _loc(v.location))),
            flows=sorted(
                self.flows,
                key=lambda f: (_loc(f.sink_location), f.claim, _loc(f.source_location)),
            ),
        )


def _loc(loc: Location) -> tuple[str, int]:
    return (loc.path, loc.line)


def _unique_route_ids(routes: list[Route]) -> list[Route]:
    """Ids unique within the report: a route of another app of a monorepo names its app
    (``GET /api (apps/docs)``), a second route of the same app is numbered (``#2``)."""
    seen: dict[str, int] = {}
    first_component: dict[str, str] = {}
    out = []
    for r in routes:
        rid = r.id
        if rid in first_component and r.component != first_component[rid]:
            rid = f"{r.id} ({r.component or '.'})"
        first_component.setdefault(r.id, r.component)
        n = seen.get(rid, 0) + 1
        seen[rid] = n
        final = rid if n == 1 else f"{rid} #{n}"
        out.append(r if final == r.id else r.model_copy(update={"id": final}))
    return out


def link_order(collectors: list[Collector]) -> list[Collector]:
    """``collectors`` in id order, except that one waits until those it names in
    ``link_after`` have linked (the others keep their places: nothing links earlier)."""
    known = {c.id for c in collectors}
    out: list[Collector] = []
    placed: set[str] = set()
    waiting: list[Collector] = []
    for c in collectors:
        waiting.append(c)
        ready = True
        while ready:
            ready = False
            for w in waiting:
                if all(d in placed or d not in known for d in w.link_after):
                    out.append(w)
                    placed.add(w.id)
                    waiting.remove(w)
                    ready = True
                    break
    return out + waiting  # a cycle: left in id order
