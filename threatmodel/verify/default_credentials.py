"""default_credentials: a weak default password or key at the cited location.

Confirmed by a ``default_credential`` Secret fact (``collect/default_creds.py``) at the
cited line (or, without a location, with the claimed name); the proof names the fact.
Refuted when the cited line is a comment; unverifiable otherwise (the value may be weak in
a way the collector does not recognise: a person decides).
"""

from __future__ import annotations

from threatmodel.models import Claim, Finding, ProofStep
from threatmodel.verify._common import at, claim_locations
from threatmodel.verify._line import is_comment
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class DefaultCredentials(Verifier):
    kind = "default_credentials"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        facts = [s for s in ctx.facts.secrets if s.kind == "default_credential"]
        locs = claim_locations(claim, finding)
        for loc in locs:
            if is_comment(ctx.reader, loc):
                return ClaimResult.refuted(f"line {loc.line} of {loc.path} is a comment")
        hits = [
            s
            for s in facts
            if any(
                s.location.path == loc.path and abs(s.location.line - loc.line) <= 1 for loc in locs
            )
            or (not locs and claim.name is not None and s.name == claim.name)
        ]
        if hits:
            s = hits[0]
            why = (
                f"{s.name}{at(s.location)} defaults to a guessable value "
                f"(fingerprint {s.fingerprint[:12]})"
            )
            return ClaimResult.confirmed(
                why, (ProofStep(kind="secret", text=why, location=s.location),)
            )
        return ClaimResult.unverifiable("no weak default credential was recognised there")
