"""Verify findings: the evidence check, then every claim by its kind's verifier.

A finding is refuted when its evidence fails, a claim cites an impossible location, or any
claim is refuted; confirmed when every claim is confirmed; unverifiable otherwise
(including a kind with no verifier: said so in the reason, never silently passed). The
stage's health records how many findings were checked and turns red when a verifier
module failed to load, a verifier crashed, or a claim needed a verifier that is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from threatmodel.collect.scope import Classifier
from threatmodel.models import (
    CLAIM_KINDS,
    Claim,
    Finding,
    ProofKind,
    ProofStep,
    StageHealth,
    Verdict,
    VerifierStats,
)
from threatmodel.verify._scope import scoped
from threatmodel.verify.evidence import check_claim_locations, check_evidence
from threatmodel.verify.interface import (
    ClaimResult,
    Verifier,
    VerifyContext,
    all_verifiers,
    load_errors,
)


@dataclass
class VerifyOutcome:
    kept: list[Finding] = field(default_factory=list)  # confirmed + unverifiable
    suppressed: list[Finding] = field(default_factory=list)  # refuted
    stats: VerifierStats = field(default_factory=VerifierStats)
    health: StageHealth = field(default_factory=lambda: StageHealth(stage="verify", ok=True))


def verify_findings(findings: list[Finding], ctx: VerifyContext) -> VerifyOutcome:
    verifiers = all_verifiers()
    out = VerifyOutcome()
    errors = [f"verifier module {m} failed to load: {why}" for m, why in load_errors().items()]
    missing = sorted({c.kind for f in findings for c in f.claims if c.kind not in verifiers})
    if missing:
        errors.append(f"no verifier registered for claim kinds: {', '.join(missing)}")
    classifier = Classifier(ctx.reader, ctx.scope)
    for finding in findings:
        try:
            verified = scoped(verify_one(finding, ctx, verifiers), ctx, classifier)
        except Exception as exc:  # a verifier bug: record loudly, never pass the finding silently
            errors.append(f"{finding.id or finding.title}: {type(exc).__name__}: {exc}")
            verified = finding.model_copy(
                update={
                    "verdict": Verdict.UNVERIFIABLE,
                    "reason": f"verifier crashed: {type(exc).__name__}",
                }
            )
        (out.suppressed if verified.verdict is Verdict.REFUTED else out.kept).append(verified)
    counts = {v: sum(1 for f in out.kept + out.suppressed if f.verdict is v) for v in Verdict}
    out.stats = VerifierStats(
        checked=len(findings),
        confirmed=counts[Verdict.CONFIRMED],
        refuted=counts[Verdict.REFUTED],
        unverifiable=counts[Verdict.UNVERIFIABLE],
    )
    summary = (
        f"{counts[Verdict.CONFIRMED]} confirmed, {counts[Verdict.REFUTED]} refuted, "
        f"{counts[Verdict.UNVERIFIABLE]} unverifiable; "
        f"{len(verifiers)}/{len(CLAIM_KINDS)} claim kinds have a verifier"
    )
    shown = "; ".join(errors[:5]) + (f" (+{len(errors) - 5} more)" if len(errors) > 5 else "")
    out.health = StageHealth(
        stage="verify",
        ok=not errors,
        checked=len(findings),
        message=f"{shown} ({summary})" if errors else summary,
    )
    return out


def verify_one(finding: Finding, ctx: VerifyContext, verifiers: dict[str, Verifier]) -> Finding:
    ev = check_evidence(list(finding.evidence), ctx.reader)
    if not ev.ok:
        return finding.model_copy(update={"verdict": Verdict.REFUTED, "reason": ev.reason})
    claims = [_follow(c, ev.moved) for c in finding.claims]
    bad_location = check_claim_locations(claims, ctx.reader)
    if bad_location:
        return finding.model_copy(update={"verdict": Verdict.REFUTED, "reason": bad_location})
    update = {"evidence": ev.evidence, "claims": claims, "notes": [*finding.notes, *ev.notes]}
    if not claims:
        return finding.model_copy(
            update={
                **update,
                "verdict": Verdict.UNVERIFIABLE,
                "reason": "no machine-checkable claim",
            }
        )
    current = finding.model_copy(update=update)
    results: list[ClaimResult] = []
    for claim in claims:
        verifier = verifiers.get(claim.kind)
        if verifier is None:
            results.append(ClaimResult.unverifiable(f"no verifier for claim kind {claim.kind}"))
        else:
            results.append(verifier.verify(claim, current, ctx))
    refuted = [r for r in results if r.verdict is Verdict.REFUTED]
    if refuted:
        return current.model_copy(update={"verdict": Verdict.REFUTED, "reason": refuted[0].reason})
    if all(r.verdict is Verdict.CONFIRMED for r in results):
        receipts = [f"confirmed: {r.reason}" for r in results if r.reason]
        return current.model_copy(
            update={
                "verdict": Verdict.CONFIRMED,
                "reason": None,
                "notes": [*current.notes, *receipts],
                "proof": proof_chain(claims, results),
            }
        )
    why = next(r.reason for r in results if r.verdict is Verdict.UNVERIFIABLE)
    return current.model_copy(update={"verdict": Verdict.UNVERIFIABLE, "reason": why})


# The link a verifier's one-fact confirmation stands for, by claim kind (absent: "fact").
STEP_KIND: dict[str, ProofKind] = {
    **dict.fromkeys(("hardcoded_secret", "client_exposed_secret", "default_credentials"), "secret"),
    **dict.fromkeys(("rls_permissive", "rls_disabled", "public_bucket"), "policy"),
    **dict.fromkeys(("sql_injection", "command_injection", "ssrf", "xss", "open_redirect"), "sink"),
    **dict.fromkeys(("debug_enabled", "cors_misconfigured", "weak_jwt", "csrf_missing"), "setting"),
}


def proof_chain(claims: list[Claim], results: list[ClaimResult]) -> list[ProofStep]:
    """Every confirmed claim's chain, in claim order; a verifier that gave no chain of its
    own is represented by the fact its reason names, at the claim's location."""
    steps: list[ProofStep] = []
    for claim, result in zip(claims, results, strict=True):
        if result.proof:
            chain = list(result.proof)
        else:
            kind = STEP_KIND.get(claim.kind, "fact")
            text = result.reason or claim.kind
            chain = [ProofStep(kind=kind, text=text, location=claim.location)]
        steps.extend(s for s in chain if s not in steps)
    return steps


def _follow(claim: Claim, moved: dict[tuple[str, int], int]) -> Claim:
    """A claim citing the line its evidence was moved from cites the corrected line."""
    loc = claim.location
    if loc is None or (loc.path, loc.line) not in moved:
        return claim
    return claim.model_copy(
        update={"location": loc.model_copy(update={"line": moved[(loc.path, loc.line)]})}
    )
