"""weak_jwt: JWTs are accepted without a real signature check.

Facts: ``jwt.verify`` = "false" (``jwt.decode(..., verify=False)`` or
``options={"verify_signature": False}``), ``jwt.algorithms`` containing ``none``, and
``jwt.secret`` = ``literal-short`` (a key literal shorter than 32 characters). Confirmed by
such a fact near the cited location (anywhere, when the claim has none), or when the cited
line assigns a short literal to a JWT / secret key setting. Refuted when the cited line is a
comment, when the JWT calls near it verify signatures with a non-literal key (the reason
names the call), or when no JWT call or key is near the cited line at all.

An unverified decode is a threat only when its payload decides identity or access, or
reaches a response (``verify/_jwt_use.py``): confirmed with the chain decode → the use that
decides. Refuted when the payload is only read for a routing claim (``iss``, ``owner``,
``kid``) and the file also decodes with verification (e.g. reading the issuer to pick the
verifier), or when the function handed the token to its issuer's userinfo or introspection
endpoint first. Unverifiable when what the payload decides cannot be traced, or when only
a lifetime claim (``exp``) is read.
"""

from __future__ import annotations

from threatmodel.models import Claim, Finding, Location, ProofStep, Setting
from threatmodel.verify._common import at, claim_locations
from threatmodel.verify._jwt_use import payload_use
from threatmodel.verify._line import assigned_at, is_comment
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register

SHORT_KEY = 32


def _weak(s: Setting) -> str | None:
    value = s.value.strip().lower()
    if s.key == "jwt.verify" and value in ("false", "0", "no"):
        return f"JWT signatures are not verified{at(s.location)}"
    if s.key == "jwt.algorithms" and "none" in [a.strip() for a in value.split(",")]:
        return f"the `none` algorithm is accepted{at(s.location)}"
    if s.key == "jwt.secret" and value == "literal-short":
        return f"the JWT key is a short literal{at(s.location)}"
    return None


def _near(s: Setting, loc: Location, lines: int = 3) -> bool:
    return s.location.path == loc.path and abs(s.location.line - loc.line) <= lines


@register
class WeakJwt(Verifier):
    kind = "weak_jwt"

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        jwt = [s for s in ctx.facts.settings if s.key.startswith("jwt.")]
        locs = claim_locations(claim, finding)
        if not locs:
            weak = [(s, w) for s in jwt if (w := _weak(s))]
            if weak:
                return _decides(weak[0][0], weak[0][1], ctx)
            if jwt:
                return ClaimResult.refuted(
                    f"every JWT check verifies its signature (e.g.{at(jwt[0].location)})"
                )
            return ClaimResult.unverifiable("the claim cites no location to check")
        reasons: list[str] = []
        for loc in locs:
            if is_comment(ctx.reader, loc):
                reasons.append(f"line {loc.line} of {loc.path} is a comment")
                continue
            near = [s for s in jwt if _near(s, loc)]
            weak = [(s, w) for s in near if (w := _weak(s))]
            if weak:
                return _decides(weak[0][0], weak[0][1], ctx)
            for v in assigned_at(ctx.reader, loc) or []:
                keyish = any(w in v.target.lower() for w in ("jwt", "secret", "key"))
                if keyish and v.kind == "literal" and 0 < v.length < SHORT_KEY:
                    why = f"{v.target} at {loc.path}:{loc.line} is a {v.length}-character literal"
                    return ClaimResult.confirmed(
                        why, (ProofStep(kind="setting", text=why, location=loc),)
                    )
            verified = [s for s in near if s.key == "jwt.verify"]
            if verified:
                reasons.append(
                    f"the JWT check at {verified[0].location.path}:"
                    f"{verified[0].location.line} verifies the signature"
                )
            else:
                reasons.append(f"no JWT decode, verify or key near {loc.path}:{loc.line}")
        return ClaimResult.refuted(reasons[0])


def _decides(s: Setting, why: str, ctx: VerifyContext) -> ClaimResult:
    """A weak setting, and for an unverified decode what its payload decides."""
    setting = ProofStep(kind="setting", text=why, location=s.location)
    if s.key != "jwt.verify":
        return ClaimResult.confirmed(why, (setting,))
    use = payload_use(ctx.reader, s.location) if s.location.path.endswith(".py") else None
    if use is None:
        return ClaimResult.unverifiable(
            f"{why}, but what the unverified payload decides could not be traced: the "
            "identity / access link is missing"
        )
    if use.decides is not None:
        flow = ProofStep(
            kind="flow",
            text=f"the unverified payload decides identity, access or a response: {use.what}",
            location=use.decides,
        )
        return ClaimResult.confirmed(f"{why}; {use.what}{at(use.decides)}", (setting, flow))
    if use.issuer is not None:
        return ClaimResult.refuted(
            f"the token decoded unverified{at(s.location)} was {use.what}{at(use.issuer)}, "
            "which refuses a token it did not sign: its claims are the issuer's"
        )
    if use.verifying is not None and use.routing_only:
        return ClaimResult.refuted(
            f"the unverified payload{at(s.location)} is only {use.what} (a routing claim) "
            f"before the verifying decode{at(use.verifying)}; it decides no identity or access"
        )
    return ClaimResult.unverifiable(
        f"{why}, but the payload is only {use.what}: the identity / access link is missing"
    )
