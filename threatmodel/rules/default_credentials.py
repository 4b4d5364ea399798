"""TM122 default-credentials: a guessable default password in config, compose or settings.

``POSTGRES_PASSWORD=password`` for a compose service that publishes its port, or
``os.getenv("ADMIN_PASSWORD", "admin")`` in settings: whoever reaches the service, or an
install that never set the variable, logs in with a password anyone can guess. Medium: the
value is a default, not a leaked production secret (TM105).
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding, Severity, Stride
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register


@register
class DefaultCredentials(Rule):
    id = "TM122"
    name = "default-credentials"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        for s in facts.secrets:
            if s.kind != "default_credential":
                continue
            out.append(
                Finding(
                    title=f"Weak default credential {s.name} ({s.location.path})",
                    severity=Severity.MEDIUM,
                    stride=[Stride.SPOOFING, Stride.ELEVATION_OF_PRIVILEGE],
                    cwe=["CWE-1392"],
                    source="rule",
                    rule_id=self.id,
                    claims=[Claim(kind="default_credentials", name=s.name, location=s.location)],
                    evidence=evidence(ctx, s.location),
                    attack=(
                        f"Log in to the service with the default {s.name} (fingerprint "
                        f"{s.fingerprint[:12]}) wherever the deployment kept it."
                    ),
                    mitigation=(
                        "Require the value from the environment with no default, and refuse to "
                        "start with a known weak one."
                    ),
                )
            )
        return out
