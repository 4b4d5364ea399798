"""TM107 csrf-disabled: CSRF protection turned off for the app or exempted on a write route.

With cookie sessions, a page on any site can make the victim's browser submit a form to an
exempted route with the victim's cookies. Reported for ``csrf.enabled`` = false settings
and for POST / PUT / PATCH / DELETE routes marked ``csrf_exempt``.
"""

from __future__ import annotations

from threatmodel.models import (
    MAY_WRITE_METHODS,
    Claim,
    Facts,
    Finding,
    RouteRef,
    Severity,
    Stride,
)
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register

OFF = frozenset({"false", "0", "no", "off", "disabled"})
MITIGATION = (
    "Keep CSRF protection on; for token-authenticated APIs make sure no cookie session is "
    "accepted on the exempted route."
)


@register
class CsrfDisabled(Rule):
    id = "TM107"
    name = "csrf-disabled"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for s in facts.settings:
            if s.key == "csrf.enabled" and s.value.strip().lower() in OFF:
                out.append(
                    Finding(
                        title=f"CSRF protection is disabled ({s.location.path})",
                        severity=Severity.MEDIUM,
                        stride=[Stride.SPOOFING, Stride.TAMPERING],
                        cwe=["CWE-352"],
                        source="rule",
                        rule_id=self.id,
                        claims=[Claim(kind="csrf_missing", location=s.location)],
                        evidence=evidence(ctx, s.location),
                        attack=(
                            "Host a form that posts to the app; a signed-in victim's browser "
                            "submits it."
                        ),
                        mitigation=MITIGATION,
                    )
                )
        for r in facts.routes:
            if not r.csrf_exempt or r.method not in MAY_WRITE_METHODS:
                continue
            out.append(
                Finding(
                    title=f"{r.method} {r.path} is exempt from CSRF protection",
                    severity=Severity.MEDIUM,
                    stride=[Stride.SPOOFING, Stride.TAMPERING],
                    cwe=["CWE-352"],
                    source="rule",
                    rule_id=self.id,
                    claims=[
                        Claim(
                            kind="csrf_missing",
                            route=RouteRef(method=r.method, path=r.path),
                            location=r.location,
                        )
                    ],
                    evidence=evidence(ctx, r.location),
                    attack=(
                        f"Host a form that submits {r.method} {r.path}; the victim's cookies "
                        "go along."
                    ),
                    mitigation=MITIGATION,
                )
            )
        return out
