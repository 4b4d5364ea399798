"""Small helpers the rules share (a finding's common fields, quoting a fact's location)."""

from __future__ import annotations

from collections.abc import Collection

from threatmodel.models import Evidence, Location
from threatmodel.rules.interface import RuleContext


def evidence(
    ctx: RuleContext, location: Location | None, secrets: Collection[str] = ()
) -> list[Evidence]:
    """Evidence quoting ``location``, or none when the line cannot be read; ``secrets``:
    fingerprints of the secrets there, to keep a long line's cut window on the first."""
    if location is None:
        return []
    ev = ctx.evidence_at(location, secrets=secrets)
    return [ev] if ev.snippet.strip() else []


TRUTHY = frozenset({"true", "1", "yes", "on"})
