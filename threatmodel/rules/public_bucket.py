"""TM104 public-bucket: a storage bucket whose files anyone can download by URL.

A public bucket serves every object without checking who asks; it is right for avatars
and site assets, wrong for uploads, invoices or exports. Reported as medium so a person
confirms what the bucket holds.
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding, Severity, Stride
from threatmodel.rules._helpers import evidence
from threatmodel.rules.interface import Rule, RuleContext, register


@register
class PublicBucket(Rule):
    id = "TM104"
    name = "public-bucket"

    def check(self, facts: Facts, ctx: RuleContext) -> list[Finding]:
        return [
            Finding(
                title=f"Storage bucket {b.name} is public",
                severity=Severity.MEDIUM,
                stride=[Stride.INFORMATION_DISCLOSURE],
                cwe=["CWE-552"],
                source="rule",
                rule_id=self.id,
                claims=[Claim(kind="public_bucket", name=b.name, location=b.location)],
                evidence=evidence(ctx, b.location),
                attack=(
                    f"Guess or harvest object paths in {b.name} and download them without "
                    "a session."
                ),
                mitigation=(
                    "Make the bucket private and hand out signed URLs, or keep only public "
                    "assets in it."
                ),
            )
            for b in facts.buckets
            if b.public
        ]
