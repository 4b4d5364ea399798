"""debug_enabled: the application runs with debug mode on (stack traces, debugger, ...).

Confirmed by a ``debug`` Setting fact with a true value (near the cited location when one is
given), or by the cited line itself setting ``debug=True`` / ``DEBUG = True``. Refuted when
the cited line is a comment (e.g. ``# app.run(debug=True)``), sets debug to False, or when
every debug setting of the repository is false (the reason names where). Unverifiable when
debug comes from the environment or nothing is known.
"""

from __future__ import annotations

from threatmodel.models import Claim, Finding
from threatmodel.verify._common import TRUTHY, at, claim_locations, settings
from threatmodel.verify._line import assigned_at, is_comment
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class DebugEnabled(Verifier):
    kind = "debug_enabled"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        facts = settings(ctx.facts, "debug")
        on = [s for s in facts if s.value.strip().lower() in TRUTHY]
        locs = claim_locations(claim, finding)
        for loc in locs:
            if is_comment(ctx.reader, loc):
                return ClaimResult.refuted(f"line {loc.line} of {loc.path} is a comment")
            for s in on:
                if s.location.path == loc.path and abs(s.location.line - loc.line) <= 3:
                    return ClaimResult.confirmed(f"debug is {s.value}{at(s.location)}")
            for v in assigned_at(ctx.reader, loc) or []:
                if v.target.lower().endswith("debug") and v.kind == "bool":
                    if v.truth:
                        return ClaimResult.confirmed(f"{v.target} = True at {loc.path}:{loc.line}")
                    return ClaimResult.refuted(f"{v.target} is False at {loc.path}:{loc.line}")
                if v.target.lower().endswith("debug") and v.kind == "env":
                    return ClaimResult.unverifiable(
                        f"debug at {loc.path}:{loc.line} comes from the environment (`{v.text}`)"
                    )
        if on and not locs:
            return ClaimResult.confirmed(f"debug is {on[0].value}{at(on[0].location)}")
        if facts and not on:
            return ClaimResult.refuted(f"debug is {facts[0].value}{at(facts[0].location)}")
        return ClaimResult.unverifiable("no debug setting was found at the cited location")
