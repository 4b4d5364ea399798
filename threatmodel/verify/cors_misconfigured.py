"""cors_misconfigured: any web origin may make credentialed requests to the API.

From the ``cors.allow_origins`` / ``cors.allow_credentials`` settings and CORS middleware
options: confirmed when origins are a wildcard (or reflect the caller) and credentials are
allowed; refuted when the allowed origins are an explicit list (the reason names them and
where); unverifiable for a wildcard without credentials (fine for a public API, not for
one using cookies) and when no CORS configuration was collected.
"""

from __future__ import annotations

from threatmodel.models import Claim, Finding, Location
from threatmodel.verify._common import TRUTHY, at, settings
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register

WILD = ("*", "reflect", "true", "regex:.*", ".*")


@register
class CorsMisconfigured(Verifier):
    kind = "cors_misconfigured"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        origins: list[tuple[str, Location | None]] = [
            (s.value, s.location) for s in settings(ctx.facts, "cors.allow_origins")
        ]
        creds = [s.value for s in settings(ctx.facts, "cors.allow_credentials")]
        for m in ctx.facts.middleware:
            if m.kind != "cors":
                continue
            for key, value in m.options.items():
                k = key.lower()
                if "origin" in k and "header" not in k:
                    origins.append((value, m.location))
                elif "credential" in k:
                    creds.append(value)
        if not origins:
            return ClaimResult.unverifiable("no CORS configuration was collected")
        credentialed = any(c.strip().lower() in TRUTHY for c in creds)
        wild = [
            (o, loc) for o, loc in origins if o.strip().strip("[]'\"").lower() in WILD or "*" in o
        ]
        if wild and credentialed:
            return ClaimResult.confirmed(
                f"CORS allows origin {wild[0][0]} with credentials{at(wild[0][1])}"
            )
        if wild:
            return ClaimResult.unverifiable(
                f"CORS allows origin {wild[0][0]}{at(wild[0][1])} without credentials"
            )
        value, loc = origins[0]
        return ClaimResult.refuted(f"CORS allows only {value}{at(loc)}")
