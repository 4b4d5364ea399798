"""TM132 service-role-key-in-bundle: built browser code carries a Supabase key that bypasses
row level security.

``collect/bundles.py`` reads built output (``dist/``, ``build/``, ``out/``,
``.next/static/``) and decodes each Supabase JWT's ``role`` claim: a ``service_role`` key
(or an ``sb_secret_`` key) in what browsers download gives every visitor every row of every
table. The anon key is not reported: it is meant to ship. No evidence is quoted (a
minified line is the whole bundle, and it holds the key); the fact's fingerprint is cited.
"""

from __future__ import annotations

from threatmodel.collect.bundles import KIND
from threatmodel.models import Claim, Facts, Finding, Severity, Stride
from threatmodel.rules.interface import Rule, RuleContext, register


@register
class BundledServiceKey(Rule):
    id = "TM132"
    name = "service-role-key-in-bundle"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        return [
            Finding(
                title=f"Supabase service-role key in a browser bundle ({s.location.path})",
                severity=Severity.CRITICAL,
                stride=[Stride.ELEVATION_OF_PRIVILEGE, Stride.INFORMATION_DISCLOSURE],
                cwe=["CWE-798", "CWE-200"],
                source="rule",
                rule_id=self.id,
                claims=[Claim(kind="hardcoded_secret", name=s.name, location=s.location)],
                attack=(
                    f"Open the site, read {s.location.path} (line {s.location.line}) and call "
                    "the Supabase API with the key (fingerprint "
                    f"{s.fingerprint[:12]}): service_role bypasses every RLS policy."
                ),
                mitigation=(
                    "Rotate the service-role key now; ship only the anon (publishable) key to "
                    "the browser and keep the service-role key in server code or Edge Functions."
                ),
            )
            for s in facts.secrets
            if s.kind == KIND
        ]
