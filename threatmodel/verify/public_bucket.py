"""public_bucket: a storage bucket serves its files to anyone with the URL.

The bucket is found by the claim's name (or by its location). Confirmed when it is
public; refuted when it is private (the reason names where it is created) or when no
bucket of that name is created in the repository.
"""

from __future__ import annotations

from threatmodel.models import Claim, Facts, Finding
from threatmodel.verify._common import at
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, register


@register
class PublicBucket(Verifier):
    kind = "public_bucket"

    @classmethod
    def can_confirm(cls, facts: Facts) -> bool:
        return bool(facts.buckets)

    def verify(self, claim: Claim, finding: Finding, ctx: VerifyContext) -> ClaimResult:
        buckets = ctx.facts.buckets
        if claim.name:
            want = claim.name.strip().strip("'\"").lower()
            found = [b for b in buckets if b.name.lower() == want]
        elif claim.location is not None:
            loc = claim.location
            found = [
                b
                for b in buckets
                if b.location.path == loc.path and abs(b.location.line - loc.line) <= 3
            ]
        else:
            return ClaimResult.unverifiable("claim names no bucket")
        if not found:
            if not buckets:
                return ClaimResult.refuted("the repository creates no storage buckets")
            names = ", ".join(b.name for b in buckets)
            return ClaimResult.refuted(
                f"no bucket {claim.name or ''} is created (buckets: {names})"
            )
        bucket = found[0]
        if bucket.public:
            return ClaimResult.confirmed(f"bucket {bucket.name} is public{at(bucket.location)}")
        return ClaimResult.refuted(f"bucket {bucket.name} is private{at(bucket.location)}")
