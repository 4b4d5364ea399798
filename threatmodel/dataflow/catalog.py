"""The registry's catalog rows of one language, indexed for the engine's per-call lookups.

``CATALOG`` holds the Python rows, ``JS_CATALOG`` the JavaScript/TypeScript ones (rows with
``language="javascript"``). Sanitizer names are shared: each language's callees are spelled as
its imports resolve them, so a name of one never matches a call of the other. A JS row may
name an object key (``keys``) or an assigned property (``assigns``) instead of a call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from threatmodel.claims import REGISTRY
from threatmodel.claims.spec import SinkRow


@dataclass
class Catalog:
    sinks: dict[str, list[tuple[str, SinkRow]]] = field(default_factory=lambda: defaultdict(list))
    keys: dict[str, list[tuple[str, SinkRow]]] = field(default_factory=lambda: defaultdict(list))
    assigns: dict[str, list[tuple[str, SinkRow]]] = field(default_factory=lambda: defaultdict(list))
    sanitizers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    needles: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    all_needles: frozenset[str] = frozenset()  # kinds safe only with every needle absent
    prefix_kinds: frozenset[str] = frozenset()
    host_kinds: frozenset[str] = frozenset()  # a sink row asks for the URL's host fixed
    taint_kinds: frozenset[str] = frozenset()

    def sinks_for(
        self, qual: str, method: str | None, imported: bool = False
    ) -> list[tuple[str, SinkRow]]:
        """Rows naming the call ``qual`` (resolved) / ``.method``. ``imported``: the
        receiver is a package's import (``z`` of ``import { z } from "zod"``), which a
        ``.method`` row restricted to ``modules`` does not match unless it is one of them."""
        out = list(self.sinks.get(qual, ()))
        if method:
            out += [
                (k, r)
                for k, r in self.sinks.get("." + method, [])
                if not (imported and r.modules)
                or any(qual.startswith((m + ".", m + "/")) for m in r.modules)
            ]
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

    def guarded_by(self, needle: str, absent: frozenset[str] = frozenset()) -> frozenset[str]:
        """Kinds a value is safe for once it is known not to contain ``needle``: a guard
        needle the absent text is part of is absent too (no ``.`` at all: no ``..``), and,
        as the catalog has always read it, the absence of a text holding a guard needle.
        A kind that needs all its needles gone (``all_needles``) is safe only when each is
        part of ``needle`` or of a text in ``absent``, the value's other absent texts."""
        if not needle:
            return frozenset()
        gone = (needle, *absent)
        return frozenset(
            k
            for k, ns in self.needles.items()
            if (
                all(any(g in n for g in gone) for n in ns)
                if k in self.all_needles
                else any(n in needle or needle in n for n in ns)
            )
        )


def build(language: str = "python") -> Catalog:
    cat = Catalog()
    for kind, spec in REGISTRY.items():
        for row in spec.sinks:
            if row.language == language:
                table = cat.keys if row.at == "key" else cat.assigns if row.at == "assign" else None
                (cat.sinks if table is None else table)[row.callee].append((kind, row))
        for name in spec.sanitizers:
            cat.sanitizers[name].add(kind)
        for needle in spec.guard_needles:
            cat.needles[kind].add(needle)
    cat.prefix_kinds = frozenset(k for k, s in REGISTRY.items() if s.prefix_guard)
    cat.all_needles = frozenset(k for k, s in REGISTRY.items() if s.guard_needs_all)
    cat.host_kinds = frozenset(
        k for k, s in REGISTRY.items() if any(r.when == "url_host" for r in s.sinks)
    )
    cat.taint_kinds = frozenset(k for k, s in REGISTRY.items() if s.taint)
    return cat


def package_qual(spec: str, name: str) -> str:
    """The name a JS import of a package gives (``spec`` not relative): ``axios`` for its
    default or namespace, ``child_process.exec`` for a named one; ``node:`` dropped."""
    spec = spec.removeprefix("node:")
    return spec if name in ("*", "default") else f"{spec}.{name}"


def js_callee(name: str, imports: Mapping[str, tuple[str, str]]) -> tuple[str, bool]:
    """A dotted JS callee as the file's imports (``code.jsast.imports``) resolve its head, and
    whether that head is a package's import. A relative or root-alias import is the
    repository's own code, never a catalog callee: its name is left as written."""
    head, _, rest = name.partition(".")
    got = imports.get(head)
    if got is None or got[0].startswith((".", "@/", "~/")):
        return name, False
    base = package_qual(*got)
    return (f"{base}.{rest}" if rest else base), True


def stored_sink(claim: str, sink: str, language: str) -> bool:
    """Is ``sink`` (a flow's callee as resolved) of a ``claim`` row of ``language`` that a
    stored value is worth a review at (``SinkRow.stored``)?"""
    spec = REGISTRY.get(claim)
    return spec is not None and any(
        row.stored
        and row.language == language
        and (
            sink in (row.callee, row.shown) or (row.callee[:1] == "." and sink.endswith(row.callee))
        )
        for row in spec.sinks
    )


CATALOG = build()
JS_CATALOG = build("javascript")
