"""TM109 jwt-verification-off: JWTs accepted without a real signature check.

Reported for ``jwt.decode`` with verification disabled (``verify=False``,
``options={"verify_signature": False}``), for accepting the ``none`` algorithm, and for a
signing key that is a short literal in the code (brute-forced offline from one token). Any
of these lets an attacker forge a token for any user.
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding, Setting, Severity, Stride
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register


def problem(s: Setting) -> str | None:
    value = s.value.strip().lower()
    if s.key == "jwt.verify" and value in ("false", "0", "no"):
        return "JWT signature verification is disabled"
    if s.key == "jwt.algorithms" and "none" in [a.strip() for a in value.split(",")]:
        return "JWT verification accepts the none algorithm"
    if s.key == "jwt.secret" and value == "literal-short":
        return "JWT key is a short literal"
    return None


@register
class JwtVerificationOff(Rule):
    id = "TM109"
    name = "jwt-verification-off"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for s in facts.settings:
            what = problem(s)
            if what is None:
                continue
            out.append(
                Finding(
                    title=f"{what} ({s.location.path}:{s.location.line})",
                    severity=Severity.CRITICAL if s.key != "jwt.secret" else Severity.HIGH,
                    stride=[Stride.SPOOFING, Stride.ELEVATION_OF_PRIVILEGE],
                    cwe=["CWE-347"] if s.key != "jwt.secret" else ["CWE-321"],
                    source="rule",
                    rule_id=self.id,
                    claims=[Claim(kind="weak_jwt", location=s.location)],
                    evidence=evidence(ctx, s.location),
                    attack=(
                        "Forge a token with any user id (unsigned, alg none, or signed with the "
                        "guessed key)."
                    ),
                    mitigation=(
                        "Verify every token's signature with a pinned algorithm list and a long "
                        "random key read from the environment."
                    ),
                )
            )
        return out
