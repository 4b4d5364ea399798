"""Helpers the verifiers share: find the route, table, setting or secret a claim names.

Every refutation reason must name a real fact, so these helpers also format facts the same
way everywhere: ``path:line``, ``METHOD /path``, a guard and where it is.
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding, Location, Route, Setting, Table


def at(loc: Location | None) -> str:
    return f" at {loc.path}:{loc.line}" if loc is not None else ""


def route_shape(path: str) -> str:
    """Path with parameters blanked and no query string or trailing slash."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    parts = [
        ("{}" if p.startswith(("{", "<", ":", "[")) or p == "*" else p)
        for p in path.strip().strip("/").split("/")
    ]
    return "/" + "/".join(parts)


# Routes by shape, for the last Facts' route list (held, so ``is`` cannot match a new list
# at a recycled address). Without it every claim re-shaped every route: quadratic, ~90 s of
# a 10k-file scan (benchmarks/, issue 11).
_BY_SHAPE: tuple[list[Route], int, dict[str, list[Route]]] | None = None


def _routes_by_shape(facts: Facts) -> dict[str, list[Route]]:
    global _BY_SHAPE
    if _BY_SHAPE is None or _BY_SHAPE[0] is not facts.routes or _BY_SHAPE[1] != len(facts.routes):
        index: dict[str, list[Route]] = {}
        for r in facts.routes:
            index.setdefault(route_shape(r.path), []).append(r)
        _BY_SHAPE = (facts.routes, len(facts.routes), index)
    return _BY_SHAPE[2]


def find_routes(facts: Facts, method: str, path: str) -> list[Route]:
    """Routes matching method (or ANY; a claim's ANY / * matches every method) and path."""
    want, method = route_shape(path), method.upper()
    return [
        r
        for r in _routes_by_shape(facts).get(want, [])
        if method in ("ANY", "*", "") or r.method in (method, "ANY")
    ]


def no_route_reason(facts: Facts, label: str, path: str) -> str:
    """Why a claimed route is refuted: it is not among the collected routes (name the nearest)."""
    want = route_shape(path)
    same = sorted(r.id for r in _routes_by_shape(facts).get(want, []))
    if same:
        return f"no route {label} exists; that path is served only by {', '.join(same[:4])}"

    def shared(r: Route) -> int:
        a, b = route_shape(r.path).split("/"), want.split("/")
        n = 0
        while n < min(len(a), len(b)) and a[n] == b[n]:
            n += 1
        return n

    nearest = sorted(facts.routes, key=lambda r: (-shared(r), r.id))[:3]
    names = ", ".join(r.id for r in nearest)
    return (
        f"no route {label} exists among the {len(facts.routes)} collected routes (nearest: {names})"
    )


def guard_text(route: Route) -> str:
    ev = route.auth.evidence[0] if route.auth.evidence else None
    where = f" at {ev.path}:{ev.start_line}" if ev is not None else ""
    return f"{route.auth.mechanism or 'an auth check'}{where}"


def find_table(facts: Facts, name: str, where: Location | None = None) -> Table | None:
    """A table by name, with or without the ``public.`` schema and quotes, case-insensitive.

    Two databases (projects, alternative schema files) may each have the name: the one
    whose project holds ``where`` (the claim's file) is meant."""
    want = _table_key(name)
    found = [t for t in facts.tables if _table_key(t.name) == want]
    if where is None or len(found) < 2:
        return found[0] if found else None
    return max(found, key=lambda t: _holds(t.project, where.path))


def _holds(project: str | None, path: str) -> int:
    """How specifically ``project`` holds ``path``: -1 not at all, else its length."""
    if not project:
        return 0
    return len(project) if path == project or path.startswith(project + "/") else -1


def _table_key(name: str) -> str:
    name = name.replace('"', "").strip().lower()
    return name.removeprefix("public.")


def settings(facts: Facts, key: str) -> list[Setting]:
    return [s for s in facts.settings if s.key == key]


def near(loc: Location, locs: list[Location], lines: int = 3) -> bool:
    return any(loc.path == o.path and abs(loc.line - o.line) <= lines for o in locs)


def claim_locations(claim: Claim, finding: Finding) -> list[Location]:
    if claim.location is not None:
        return [claim.location]
    return [Location(path=e.path, line=e.start_line) for e in finding.evidence]


TRUTHY = frozenset({"true", "1", "yes", "on"})
