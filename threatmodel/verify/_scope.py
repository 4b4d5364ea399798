"""Scope a verified finding: production or not, and cap what is not at severity low.

The finding's place is its first claim's location (a route claim: the route's), else its
first evidence. Outside production (``collect.scope``), the severity is capped at low and
the original severity kept in a note, so the report can fold it away and never list it
under "fix first".
"""

from __future__ import annotations

from typing import cast

from threatmodel.collect.scope import Classifier
from threatmodel.models import Finding, Location, Scope, Severity
from threatmodel.verify._common import find_routes
from threatmodel.verify.interface import VerifyContext

CAP = Severity.LOW


def place(finding: Finding, ctx: VerifyContext) -> Location | None:
    for c in finding.claims:
        if c.location is not None:
            return c.location
        if c.route is not None:
            routes = find_routes(ctx.facts, c.route.method, c.route.path)
            if routes:
                return routes[0].location
    if finding.evidence:
        return Location(path=finding.evidence[0].path, line=finding.evidence[0].start_line)
    return None


def scoped(finding: Finding, ctx: VerifyContext, classifier: Classifier) -> Finding:
    loc = place(finding, ctx)
    if loc is None:
        return finding
    scope = cast(Scope, classifier.at(loc.path, loc.line))
    if scope == "production":
        return finding.model_copy(update={"scope": scope})
    update: dict[str, object] = {"scope": scope}
    if finding.severity.rank > CAP.rank:
        update["severity"] = CAP
        update["notes"] = [
            *finding.notes,
            f"severity {finding.severity.value} lowered to {CAP.value}: {loc.path}:{loc.line} "
            f"is {scope} code, not production",
        ]
    return finding.model_copy(update=update)
