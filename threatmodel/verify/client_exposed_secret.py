"""client_exposed_secret: the named env var is shipped to the browser and looks like a secret.

Confirmed when an env var fact with that name exists, is ``client_exposed`` (its prefix makes
the bundler inline it) and its name is secret-looking (rules/client_exposed_secret.looks_secret).
Refuted, naming the fact, when no such variable is read, when it is not client exposed, or
when its name is public by design (an anon or publishable key).
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding
from threatmodel.rules.client_exposed_secret import is_env_file, looks_secret
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class ClientExposedSecretVerifier(Verifier):
    kind = "client_exposed_secret"

    @classmethod
    def can_confirm(cls, facts: Facts) -> bool:
        return any(v.client_exposed for v in facts.env_vars)

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        if not claim.name:
            return ClaimResult.unverifiable("claim names no environment variable")
        var = next((v for v in ctx.facts.env_vars if v.name == claim.name), None)
        if var is None:
            return ClaimResult.refuted(f"no environment variable {claim.name} is read in the code")
        reads = sorted(var.locations, key=lambda loc: (is_env_file(loc.path), loc.path))
        where = f"{reads[0].path}:{reads[0].line}" if reads else "the code"
        if not var.client_exposed:
            return ClaimResult.refuted(
                f"{var.name} (read at {where}) has no public prefix, so it is not shipped to "
                "the browser"
            )
        if not looks_secret(var.name):
            return ClaimResult.refuted(
                f"{var.name} (read at {where}) is client exposed but its name marks a public "
                "value, not a secret"
            )
        return ClaimResult.confirmed(f"{var.name} is read at {where} and bundled for the browser")
