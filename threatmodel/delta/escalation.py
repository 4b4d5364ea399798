"""Findings already on the base branch that the change makes worse: escalated.

A finding keeps its fingerprint while the code it quotes stays the same, so a change made
elsewhere (the ``@login_required`` above the handler deleted, a new public route to the same
handler, a severity raised) would leave it "already there before". It is not: the change
made it reachable by more people or more severe. Such a finding is **escalated**: the diff
reports it with the new findings, ``--fail-on`` and ``--sarif`` count it, and the reason says
what got worse. Reachability is the most open auth among the routes that reach the finding
(reach.routes_reaching), ordered as the delta orders auth (public < unknown < authenticated
< restricted).
"""

from __future__ import annotations

from collections.abc import Iterable

from threatmodel.delta._util import index
from threatmodel.delta.model import Escalation
from threatmodel.delta.surface import AUTH_RANK
from threatmodel.models import Facts, Finding, Route
from threatmodel.reach import routes_reaching


def _most_open(routes: list[Route]) -> Route | None:
    return min(routes, key=lambda r: (AUTH_RANK[r.auth.status], r.method, r.path), default=None)


def _reach_reason(base: Finding, head: Finding, base_facts: Facts, head_facts: Facts) -> str:
    now = _most_open(routes_reaching(head, head_facts))
    if now is None:
        return ""
    before = _most_open(routes_reaching(base, base_facts))
    if before is None:
        return f"now reachable through {now.id} ({now.auth.status.value})"
    if AUTH_RANK[now.auth.status] >= AUTH_RANK[before.auth.status]:
        return ""
    if (now.method, now.path) == (before.method, before.path):
        return f"{now.id} is now {now.auth.status.value} (was {before.auth.status.value})"
    return (
        f"now reachable through {now.id} ({now.auth.status.value}); before only through "
        f"{before.id} ({before.auth.status.value})"
    )


def escalations(
    base: Iterable[Finding], head: Iterable[Finding], base_facts: Facts, head_facts: Facts
) -> list[Escalation]:
    """The head findings also on the base whose reach or severity grew, with the reason."""
    before = index(base, lambda f: f.fingerprint)
    out: list[Escalation] = []
    for f in head:
        old = before.get(f.fingerprint)
        if old is None:
            continue
        reasons = []
        if f.severity.rank > old.severity.rank:
            reasons.append(f"severity {old.severity.value} → {f.severity.value}")
        reach = _reach_reason(old, f, base_facts, head_facts)
        if reach:
            reasons.append(reach)
        if reasons:
            out.append(
                Escalation(
                    fingerprint=f.fingerprint,
                    id=f.id,
                    base_severity=old.severity,
                    reason="; ".join(reasons),
                )
            )
    return sorted(out, key=lambda e: e.fingerprint)
