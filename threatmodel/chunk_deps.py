"""The dependencies the configuration chunk shows: those the facts rest on, with versions.

A framework release or a parser years out of date is a threat no handler's code shows: the
model can say so only if it reads the declared version. Every dependency would spend the
budget on UI kits and test runners, so one line is shown per dependency that is a web
framework the tool reads (``Framework.packages``) or that a fact names: the ORM a table comes
from, a middleware or a setting's package, the package a flow's source or sink is a call of
(``needle.get``: ``needle``). The version is the deps collector's (a lockfile's, else the
manifest's pin or range); no vulnerability database is consulted. A Python sink is named
by its module (``yaml.load``), which is not always its distribution's name (``pyyaml``):
such a dependency is not shown unless another fact names it.
"""

from __future__ import annotations

from threatmodel.chunk_builder import ChunkBuilder
from threatmodel.frameworks.registry import framework_packages
from threatmodel.models import Dependency, Facts


def _named(facts: Facts) -> tuple[set[str], list[str]]:
    """(package names the facts give, dotted callees whose head may be a package)."""
    names = {t.source for t in facts.tables} | {m.name for m in facts.middleware}
    names |= {s.framework for s in facts.settings if s.framework}
    calls = [f.sink for f in facts.flows] + [f.source for f in facts.flows]
    return names, calls


def _is_named(dep: Dependency, names: set[str], calls: list[str]) -> bool:
    name = dep.name
    return name in names or any(c == name or c.startswith((name + ".", name + "/")) for c in calls)


def shown(facts: Facts) -> list[Dependency]:
    """The dependencies to show, each name and version once, in the facts' order."""
    frameworks = framework_packages()
    names, calls = _named(facts)
    out: list[Dependency] = []
    seen: set[tuple[str, str | None]] = set()
    for dep in facts.dependencies:
        key = (dep.name, dep.version)
        if key in seen or not (dep.name in frameworks or _is_named(dep, names, calls)):
            continue
        seen.add(key)
        out.append(dep)
    return out


def _line(b: ChunkBuilder, dep: Dependency) -> str:
    """The manifest line, and the version a lockfile resolved when the line does not say it."""
    at = b.at(dep.location)
    version = dep.version or ""
    return at if not version or version in at.partition(" | ")[2] else f"{at} -> {version}"


def dependency_text(b: ChunkBuilder, deps: list[Dependency]) -> str:
    """One line per dependency: its manifest line (``path:line | code``), with the version a
    lockfile resolved when the line gives a range."""
    lines = [_line(b, d) for d in deps]
    head = "dependencies the facts rest on (their manifest line; a lockfile's version after):"
    return "\n".join([head, *lines])
