"""hardcoded_secret: a credential is written into the source at the cited location.

Confirmed when a Secret fact (from the secrets collectors) sits at the cited location
(within 2 lines) or, without a location, carries the claimed name. Refuted when the cited
line is a comment, reads the value from the environment (``os.environ``, ``getenv``,
``process.env``), or assigns no literal at all (the reason quotes the expression).
Unverifiable when the line does hold a string literal the secrets collectors did not flag
(a placeholder or a secret they missed: a person decides), or for files that are not code.
"""

from __future__ import annotations

from threatmodel.models import Claim, Finding, Location, Secret
from threatmodel.verify._common import at, claim_locations
from threatmodel.verify._line import assigned_at, is_comment
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


def _confirm(s: Secret) -> ClaimResult:
    return ClaimResult.confirmed(
        f"{s.kind} `{s.name}`{at(s.location)} (fingerprint {s.fingerprint[:12]})"
    )


def _at(s: Secret, loc: Location, name: str | None) -> bool:
    """The secret sits on the cited line (a named one may be cited a line or two off; a
    private key block anywhere inside it)."""
    if s.location.path != loc.path:
        return False
    if s.location.line == loc.line:
        return True
    if "private_key" in s.kind and s.location.line <= loc.line <= s.location.line + 40:
        return True
    return name is not None and name == s.name and abs(s.location.line - loc.line) <= 2


@register
class HardcodedSecret(Verifier):
    kind = "hardcoded_secret"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        locs = claim_locations(claim, finding)
        for loc in locs:
            for s in ctx.facts.secrets:
                if _at(s, loc, claim.name):
                    return _confirm(s)
        if not locs:
            named = [s for s in ctx.facts.secrets if claim.name and s.name == claim.name]
            if named:
                return _confirm(named[0])
            env_vars = [v for v in ctx.facts.env_vars if claim.name and v.name == claim.name]
            if env_vars:
                first = env_vars[0].locations[0] if env_vars[0].locations else None
                return ClaimResult.refuted(f"{claim.name} is an environment variable{at(first)}")
            return ClaimResult.unverifiable("the claim cites no location to check")
        unsure = "no secret fact at the cited location"
        for loc in locs:
            if is_comment(ctx.reader, loc):
                return ClaimResult.refuted(f"line {loc.line} of {loc.path} is a comment")
            values = assigned_at(ctx.reader, loc)
            if values is None:
                continue
            literal = [v for v in values if v.kind == "literal" and v.length > 0]
            if literal:
                unsure = (
                    f"{literal[0].target} at {loc.path}:{loc.line} holds a literal the secret "
                    "scanners did not flag"
                )
                continue
            env = [v for v in values if v.kind == "env"]
            if env:
                return ClaimResult.refuted(
                    f"{env[0].target} at {loc.path}:{loc.line} is read from the environment "
                    f"(`{env[0].text}`)"
                )
            other = [v for v in values if v.kind in ("other", "bool")]
            if other:
                return ClaimResult.refuted(
                    f"{other[0].target} at {loc.path}:{loc.line} is assigned `{other[0].text}`, "
                    "not a literal"
                )
            if not values:
                line = ctx.reader.snippet(loc.path, loc.line).strip()[:60]
                return ClaimResult.refuted(
                    f"line {loc.line} of {loc.path} assigns nothing (`{line}`) and holds no secret"
                )
        return ClaimResult.unverifiable(unsure)
