"""TM105 hardcoded-secret: a credential written into the source code.

Anyone with read access to the repository (or its history, forks, CI logs, a leaked
image) holds the credential. Critical for keys of live third-party services and private
keys, low for a service's test-mode key (a Stripe ``sk_test_`` key moves no money and reads
only the account's test data), high otherwise. The value never appears in the finding: the
secret fact carries a fingerprint, and the renderer masks the quoted line.
"""

from __future__ import annotations

from threatmodel.collect.bundles import KIND as BUNDLED
from threatmodel.collect.default_creds import CLIENT_KIND, KIND
from threatmodel.models import Claim, Facts, Finding, Severity, Stride
from threatmodel.redact import secret_locations
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register

CRITICAL_KINDS = ("aws", "stripe", "private_key", "github", "openai", "anthropic", "service_role")
TEST_MODE_KINDS = frozenset({"stripe_test_key"})


@register
class HardcodedSecret(Rule):
    id = "TM105"
    name = "hardcoded-secret"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        out = []
        # Every secret of a line focuses its (cut) evidence on the line's first secret, so
        # the thousand secrets of a one-line fixture quote one window, and are one finding.
        on_line = secret_locations(facts)
        defaults = {
            (s.location.path, s.location.line)
            for s in facts.secrets
            if s.kind in (KIND, CLIENT_KIND)
        }
        for s in facts.secrets:
            if s.kind == BUNDLED:
                continue  # TM132 reports keys in built bundles, without quoting the bundle
            if s.kind in (KIND, CLIENT_KIND) or (s.location.path, s.location.line) in defaults:
                continue  # TM122's, or a client's guessable default: not a leaked secret
            if s.kind in TEST_MODE_KINDS:
                severity = Severity.LOW
            elif any(k in s.kind.lower() for k in CRITICAL_KINDS):
                severity = Severity.CRITICAL
            else:
                severity = Severity.HIGH
            out.append(
                Finding(
                    title=f"Hardcoded {s.kind.replace('_', ' ')} in {s.name} ({s.location.path})",
                    severity=severity,
                    stride=[Stride.SPOOFING, Stride.INFORMATION_DISCLOSURE],
                    cwe=["CWE-798"],
                    source="rule",
                    rule_id=self.id,
                    claims=[Claim(kind="hardcoded_secret", name=s.name, location=s.location)],
                    evidence=evidence(ctx, s.location, on_line[s.location.path][s.location.line]),
                    attack=(
                        f"Read {s.location.path} from the repository or its history and use the "
                        f"{s.kind.replace('_', ' ')} (fingerprint {s.fingerprint[:12]})."
                    ),
                    mitigation=(
                        "Revoke and rotate the credential, load it from the environment or a "
                        "secret manager, and purge it from the git history."
                    ),
                )
            )
        return out
