"""TM108 cors-wildcard-credentials: any origin may make credentialed cross-site requests.

Allowing every origin (``*``, or reflecting the caller's Origin) together with
``allow_credentials`` lets any website read authenticated responses in a signed-in
victim's browser. Reported when both settings are present.
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding, Severity, Stride
from threatmodel.rules._helpers import TRUTHY, evidence
from threatmodel.rules.interface import Rule, RuleContext, register


@register
class CorsWildcardCredentials(Rule):
    id = "TM108"
    name = "cors-wildcard-credentials"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        creds = [
            s
            for s in facts.settings
            if s.key == "cors.allow_credentials" and s.value.strip().lower() in TRUTHY
        ]
        if not creds:
            return []
        out = []
        for s in facts.settings:
            if s.key != "cors.allow_origins" or not (
                "*" in s.value or "reflect" in s.value.lower()
            ):
                continue
            out.append(
                Finding(
                    title=f"CORS allows any origin with credentials ({s.location.path})",
                    severity=Severity.HIGH,
                    stride=[Stride.INFORMATION_DISCLOSURE, Stride.SPOOFING],
                    cwe=["CWE-942"],
                    source="rule",
                    rule_id=self.id,
                    claims=[Claim(kind="cors_misconfigured", location=s.location)],
                    evidence=evidence(ctx, s.location),
                    attack=(
                        "From any website, fetch the API with credentials: 'include' and read the "
                        "victim's data from the response."
                    ),
                    mitigation="List the exact trusted origins, or drop allow_credentials.",
                )
            )
        return out
