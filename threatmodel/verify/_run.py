"""Verify findings: the evidence check, then every claim by its kind's verifier.

A finding is refuted when its evidence fails or any claim is refuted; confirmed when every
claim is confirmed; unverifiable otherwise (including a kind with no verifier: said so in
the reason, never silently passed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from threatmodel.models import Finding, StageHealth, Verdict, VerifierStats
from threatmodel.verify.evidence import check_evidence
from threatmodel.verify.interface import ClaimResult, Verifier, VerifyContext, all_verifiers


@dataclass
class VerifyOutcome:
    kept: list[Finding] = field(default_factory=list)  # confirmed + unverifiable
    suppressed: list[Finding] = field(default_factory=list)  # refuted
    stats: VerifierStats = field(default_factory=VerifierStats)
    health: StageHealth = field(default_factory=lambda: StageHealth(stage="verify", ok=True))


def verify_findings(findings: list[Finding], ctx: VerifyContext) -> VerifyOutcome:
    verifiers = all_verifiers()
    out = VerifyOutcome()
    errors: list[str] = []
    for finding in findings:
        try:
            verified = verify_one(finding, ctx, verifiers)
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
    out.health = StageHealth(
        stage="verify",
        ok=not errors,
        checked=len(findings),
        message="; ".join(errors[:5]) + (f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""),
    )
    return out


def verify_one(finding: Finding, ctx: VerifyContext, verifiers: dict[str, Verifier]) -> Finding:
    ev = check_evidence(list(finding.evidence), ctx.reader)
    if not ev.ok:
        return finding.model_copy(update={"verdict": Verdict.REFUTED, "reason": ev.reason})
    update = {"evidence": ev.evidence, "notes": [*finding.notes, *ev.notes]}
    if not finding.claims:
        return finding.model_copy(
            update={
                **update,
                "verdict": Verdict.UNVERIFIABLE,
                "reason": "no machine-checkable claim",
            }
        )
    results: list[ClaimResult] = []
    for claim in finding.claims:
        verifier = verifiers.get(claim.kind)
        if verifier is None:
            results.append(ClaimResult.unverifiable(f"no verifier for claim kind {claim.kind}"))
        else:
            results.append(verifier.verify(claim, finding, ctx))
    refuted = [r for r in results if r.verdict is Verdict.REFUTED]
    if refuted:
        return finding.model_copy(
            update={**update, "verdict": Verdict.REFUTED, "reason": refuted[0].reason}
        )
    if all(r.verdict is Verdict.CONFIRMED for r in results):
        return finding.model_copy(update={**update, "verdict": Verdict.CONFIRMED, "reason": None})
    why = next(r.reason for r in results if r.verdict is Verdict.UNVERIFIABLE)
    return finding.model_copy(update={**update, "verdict": Verdict.UNVERIFIABLE, "reason": why})
