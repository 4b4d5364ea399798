"""The loop the code-level sink verifiers share: look near each cited location, judge the calls.

sql_injection, command_injection, ssrf and open_redirect all check a claim the same way:
every cited location is re-parsed (``_code.candidates``), a location that cannot be parsed
makes the claim unverifiable, a location with no matching call near it refutes it (the
reason quotes the line), and the calls found there are judged by the verifier's own rule.
The first confirmation wins; otherwise any doubt wins over a refutation, so a claim is only
refuted when every cited location refutes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from threatmodel.models import Claim, Finding, Verdict
from threatmodel.verify._code import Candidate, candidates, line_text, locations
from threatmodel.verify.interface import ClaimResult, VerifyContext

# A verifier's rule: the calls found near one location -> one result per call it judged,
# in order (a CONFIRMED result ends the check; UNVERIFIABLE ones are doubts).
Judge = Callable[[Sequence[Candidate]], list[ClaimResult]]


def check_sinks(
    claim: Claim,
    finding: Finding,
    ctx: VerifyContext,
    kinds: set[str],
    missing: str,
    judge: Judge,
) -> ClaimResult:
    """Judge the ``kinds`` calls near each cited location; ``missing`` names the call sought."""
    locs = locations(claim, finding)
    if not locs:
        return ClaimResult.unverifiable("the claim cites no location to check")
    refutations: list[str] = []
    unsure: list[str] = []
    for loc in locs:
        found = candidates(ctx.reader, loc, kinds)
        if found is None:
            unsure.append(f"{loc.path} cannot be parsed as Python or JavaScript")
            continue
        if not found:
            refutations.append(
                f"no {missing} near {loc.path}:{loc.line} "
                f"(the line reads `{line_text(ctx.reader, loc)}`)"
            )
            continue
        for result in judge(found):
            if result.verdict is Verdict.CONFIRMED:
                return result
            (refutations if result.verdict is Verdict.REFUTED else unsure).append(result.reason)
    if unsure:
        return ClaimResult.unverifiable(unsure[0])
    return ClaimResult.refuted(refutations[0])
