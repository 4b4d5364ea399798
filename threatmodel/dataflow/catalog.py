"""The registry's catalog rows of one language, indexed for the engine's per-call lookups.

``CATALOG`` holds the Python rows, ``JS_CATALOG`` the JavaScript/TypeScript ones (rows with
``language="javascript"``). Sanitizer names are shared: each language's callees are spelled as
its imports resolve them, so a name of one never matches a call of the other.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from threatmodel.claims import REGISTRY
from threatmodel.claims.spec import SinkRow


@dataclass
class Catalog:
    sinks: dict[str, list[tuple[str, SinkRow]]] = field(default_factory=lambda: defaultdict(list))
    sanitizers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    needles: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    prefix_kinds: frozenset[str] = frozenset()
    taint_kinds: frozenset[str] = frozenset()

    def sinks_for(self, qual: str, method: str | None) -> list[tuple[str, SinkRow]]:
        out = list(self.sinks.get(qual, ()))
        if method:
            out += self.sinks.get("." + method, [])
        return out

    def sanitizes(self, qual: str, method: str | None) -> frozenset[str]:
        kinds = set(self.sanitizers.get(qual, ()))
        if method:
            kinds |= self.sanitizers.get("." + method, set())
        for prefix in ("defusedxml",):
            if qual.startswith(prefix + "."):
                kinds |= self.sanitizers.get(prefix, set())
        last = qual.rsplit(".", 1)[-1].lower()
        if "escape" in last and "html" in last:  # a project's own escape_html / html_escape
            kinds |= self.sanitizers.get("<escape_html>", set())
        return frozenset(kinds)

    @property
    def sinks_kinds(self) -> frozenset[str]:
        return frozenset(k for rows in self.sinks.values() for k, _ in rows)

    def guarded_by(self, needle: str) -> frozenset[str]:
        """Kinds a value is safe for once it is known not to contain ``needle``: a guard
        needle the absent text is part of is absent too (no ``.`` at all: no ``..``), and,
        as the catalog has always read it, the absence of a text holding a guard needle."""
        if not needle:
            return frozenset()
        return frozenset(
            k for k, ns in self.needles.items() if any(n in needle or needle in n for n in ns)
        )


def build(language: str = "python") -> Catalog:
    cat = Catalog()
    for kind, spec in REGISTRY.items():
        for row in spec.sinks:
            if row.language == language:
                cat.sinks[row.callee].append((kind, row))
        for name in spec.sanitizers:
            cat.sanitizers[name].add(kind)
        for needle in spec.guard_needles:
            cat.needles[kind].add(needle)
    cat.prefix_kinds = frozenset(k for k, s in REGISTRY.items() if s.prefix_guard)
    cat.taint_kinds = frozenset(k for k, s in REGISTRY.items() if s.taint)
    return cat


CATALOG = build()
JS_CATALOG = build("javascript")
