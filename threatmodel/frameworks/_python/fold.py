"""Fold a route's guards into its ``RouteAuth``: the strongest status wins.

``Guard`` is one thing that may admit or refuse a caller (a decorator, a dependency, a
check in the handler), with the status it proves, how it is named and where it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from threatmodel.models import AuthStatus, Evidence, Location, Route, RouteAuth, SettingAuth

# guards.py's names, spelled out: guards imports configured.py, which imports this module
AUTHENTICATED, RESTRICTED = AuthStatus.AUTHENTICATED.value, AuthStatus.RESTRICTED.value


@dataclass(frozen=True)
class Guard:
    status: str  # authenticated | restricted | unknown | public
    mechanism: str
    evidence: tuple[tuple[str, int, str], ...] = ()
    setting: SettingAuth | None = None  # the setting that chose ``status`` (configured.py)


def guarded_route(
    method: str,
    path: str,
    framework: str,
    handler: str,
    where: tuple[str, int],
    guards: list[Guard],
    **extra: Any,
) -> Route:
    """One route of a Python framework: its id, its place and the auth its guards fold to
    (``extra``: the framework's own fields, e.g. ``csrf_exempt``, ``hidden``)."""
    return Route(
        id=f"{method} {path}",
        method=method,
        path=path,
        framework=framework,
        handler=handler,
        location=Location(path=where[0], line=where[1]),
        auth=decide(guards),
        **extra,
    )


def decide(guards: list[Guard]) -> RouteAuth:
    """Fold guards: restricted > authenticated > unknown > public.

    A guard decided by a setting still counts for the statuses its setting's other values
    give: the route's ``settings`` keep every state, whichever status wins.
    """
    settings = sorted(
        {g.setting.setting: g.setting for g in guards if g.setting}.values(),
        key=lambda s: s.setting,
    )
    for status in (RESTRICTED, AUTHENTICATED, "unknown"):
        hits = [g for g in guards if g.status == status]
        if hits:
            ev = sorted({e for g in hits for e in g.evidence})
            return RouteAuth(
                status=AuthStatus(status),
                mechanism="; ".join(sorted({g.mechanism for g in hits})),
                evidence=[
                    Evidence(path=p, start_line=n, end_line=n, snippet=t) for p, n, t in ev if t
                ],
                settings=[s for s in settings if _hit(hits, s)],
            )
    public = [g for g in guards if g.status == "public"]
    return RouteAuth(
        status=AuthStatus.PUBLIC,
        mechanism="; ".join(sorted({g.mechanism for g in public})) or None,
        evidence=[
            Evidence(path=p, start_line=n, end_line=n, snippet=t)
            for p, n, t in sorted({e for g in public for e in g.evidence})
            if t
        ],
        settings=settings,
    )


def _hit(hits: list[Guard], setting: SettingAuth) -> bool:
    return any(g.setting == setting for g in hits)
